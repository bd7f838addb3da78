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

Both functional and Sequential models get this for free (both record graphs). In a
subclassed model's `call`, pass masks explicitly: `mask = embedding.compute_mask(x)`,
then `lstm(h, mask=mask)`. Ops on symbolic tensors (`x + y`) drop masks; losses and
metrics do not read masks yet.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..autodiff import ops as engine_ops
from ..autodiff.symbolic import KerasTensor, contains_symbolic, record_op
from ..seeding import context_generator
from .base import Layer
from .context import CONTEXT


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


def engine_op(name: str, *args, **kwargs):
    """`barenet.autodiff.ops.<name>(...)`, recorded as a graph node on symbolic tensors (so a saved
    model file can name it)."""
    fn = getattr(engine_ops, name)
    return record_op(fn, args, kwargs) if contains_symbolic(args) else fn(*args, **kwargs)


def _pass_through_types():
    from .core import Dropout
    from .dense import Dense
    from .layer_normalization import LayerNormalization
    from .wrappers import TimeDistributed

    return (Dense, Dropout, LayerNormalization, TimeDistributed, Masking)


def mask_of(tensor):
    return tensor._keras_mask if isinstance(tensor, KerasTensor) else None


def fill_masks(layer, args, kwargs):
    """Add the masks `layer` uses, from its symbolic inputs' `_keras_mask`, to its call arguments."""
    from .attention import Attention
    from .multi_head_attention import MultiHeadAttention
    from .pooling1d import GlobalAveragePooling1D
    from .rnn_base import _RNN
    from .wrappers import Bidirectional

    if not args:
        return kwargs
    if isinstance(layer, (_RNN, GlobalAveragePooling1D, Bidirectional)):
        sequences = args[0][0] if isinstance(args[0], (list, tuple)) else args[0]
        if kwargs.get("mask") is None and mask_of(sequences) is not None:
            kwargs = {**kwargs, "mask": mask_of(sequences)}
    elif isinstance(layer, MultiHeadAttention):
        query, value = args[0], args[1] if len(args) > 1 else kwargs.get("value")
        key = args[2] if len(args) > 2 and args[2] is not None else value
        for name, tensor in (("query_mask", query), ("value_mask", value), ("key_mask", key)):
            if kwargs.get(name) is None and mask_of(tensor) is not None:
                kwargs = {**kwargs, name: mask_of(tensor)}
    elif isinstance(layer, Attention) and isinstance(args[0], (list, tuple)) and kwargs.get("mask") is None:
        masks = [mask_of(args[0][0]), mask_of(args[0][1])]
        if any(m is not None for m in masks):
            kwargs = {**kwargs, "mask": masks}
    return kwargs


def attach_output_masks(layer, args, kwargs, outputs) -> None:
    """Set `_keras_mask` on the recorded outputs of `layer(*args, **kwargs)`."""
    from .attention import Attention
    from .multi_head_attention import MultiHeadAttention
    from .rnn_base import _RNN
    from .wrappers import Bidirectional

    if not args:
        return
    first = outputs[0] if isinstance(outputs, (list, tuple)) else outputs
    if not isinstance(first, KerasTensor):
        return
    inputs = args[0]
    if hasattr(layer, "compute_mask"):
        mask = layer.compute_mask(inputs, mask_of(inputs))
    elif isinstance(layer, _PASS_THROUGH()):
        mask = mask_of(inputs)
    elif isinstance(layer, (_RNN, Bidirectional)):
        sequences = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
        mask = kwargs.get("mask", mask_of(sequences)) if layer.return_sequences else None
    elif isinstance(layer, MultiHeadAttention):
        mask = kwargs.get("query_mask", mask_of(inputs))
    elif isinstance(layer, Attention) and isinstance(inputs, (list, tuple)):
        mask = (kwargs.get("mask") or [mask_of(inputs[0])])[0]
    else:
        mask = None
    if isinstance(mask, KerasTensor):
        first._keras_mask = mask


_TYPES = []


def _PASS_THROUGH():  # resolved once, lazily (the layer modules import this one)
    if not _TYPES:
        _TYPES.extend(_pass_through_types())
    return tuple(_TYPES)


def build_for(layer, sequences) -> None:
    """Build a hand-derived layer for `sequences` alone (before a mask joins its inputs)."""
    if layer.built:
        return
    if isinstance(sequences, KerasTensor):
        shape, dtype = sequences.shape, sequences.dtype
    else:
        shape, dtype = (None, *np.shape(getattr(sequences, "value", sequences))[1:]), None
    dtype = dtype if dtype is not None and np.dtype(dtype).kind == "f" else None
    layer._maybe_build(tuple(shape), CONTEXT.rng or context_generator(), dtype)


def mask_input(mask):
    """A mask argument as a boolean array (a symbolic mask stays symbolic)."""
    if isinstance(mask, KerasTensor):
        return mask
    array = np.asarray(getattr(mask, "value", mask))
    if array.dtype != bool and array.dtype.kind not in "iuf":
        raise ValueError(f"`mask` must be a boolean array. Received: dtype {array.dtype}")
    return array.astype(bool)
