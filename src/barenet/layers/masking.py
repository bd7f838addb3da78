"""Masks for padded sequences: which steps of a batch are real (True) and which are padding.

How a mask travels (Keras's design, kept small here):
- A layer that makes a mask (`Embedding(mask_zero=True)`, `Masking`) defines
  `compute_mask(inputs, mask=None)`, written with ops so that on symbolic tensors it
  records graph nodes. When such a layer is called on symbolic tensors, the mask it
  computes is attached to its output as `output._keras_mask` (a boolean KerasTensor
  `(batch, steps)`).
- Layers that keep the time axis pass their input's mask on to their output (`PASS_THROUGH`
  below; RNNs with `return_sequences`; attention passes the query's).
- Layers that use a mask receive it as a call argument, filled in from their inputs'
  `_keras_mask` when the call is recorded (`fill_masks`): RNNs and Bidirectional (`mask=`: masked steps
  carry the previous state and output), `GlobalAveragePooling1D` (`mask=`: masked mean),
  `MultiHeadAttention` (`query_mask`/`value_mask`/`key_mask`) and `Attention` (`mask=`).
  The mask is then an ordinary input of the recorded node, so the model replays it and
  saves it with the graph.

Both functional and Sequential models get this for free (both record graphs). Real
tensors carry masks too (`Tensor._keras_mask`, set by the same rules when a layer runs on
values), so a subclassed model's `call` gets them as well; `mask=` can always be passed
explicitly. Elementwise operators between symbolic tensors keep a mask, other ops (and
any op on real tensors) drop it; losses and metrics do not read masks yet.

The mask-flow functions live in `masking_flow.py` (imported by `layers.base` and
`autodiff.symbolic`); this module holds the `Masking` layer.
"""

from __future__ import annotations

import numbers

from ..autodiff import ops as engine_ops
from .base import Layer
from .masking_flow import engine_op


class Masking(Layer):
    """Mark the steps whose features all equal `mask_value` as padding, and zero them.

    Args:
        mask_value: The padding value. Defaults to 0.
        name: Layer name. Defaults to one the model assigns.

    Input `(batch, steps, features)`; output the same with padded steps set to 0, and the mask
    `(batch, steps)` (True where any feature differs from `mask_value`) for the layers after it.
    """

    def __init__(self, mask_value=0.0, name: str | None = None, **kwargs):
        super().__init__(name=name, **kwargs)
        if isinstance(mask_value, bool) or not isinstance(mask_value, numbers.Real):
            raise TypeError(f"`mask_value` must be a number. Received: mask_value={mask_value!r}")
        self.mask_value = float(mask_value)

    def compute_mask(self, inputs, mask=None):
        differs = engine_op("cast", engine_op("not_equal", inputs, self.mask_value), "float32")
        return engine_op("greater", engine_op("sum", differs, axis=-1), 0)

    def call(self, inputs):
        keep = engine_ops.cast(engine_ops.expand_dims(self.compute_mask(inputs), -1), inputs.dtype)
        return inputs * keep

    def get_config(self):
        return {"name": self.name, **({} if self.trainable else {"trainable": False}), "mask_value": self.mask_value}
