"""How masks travel between layers (see `layers.masking` for the design); no layer classes are
imported at module level, so `layers.base` can use it."""

from __future__ import annotations

import numpy as np

from ..autodiff import ops as engine_ops
from ..autodiff.symbolic import KerasTensor, contains_symbolic, record_op
from ..seeding import context_generator
from .context import CONTEXT


def engine_op(name: str, *args, **kwargs):
    """`barenet.autodiff.ops.<name>(...)`, recorded as a graph node on symbolic tensors (so a saved
    model file can name it)."""
    fn = getattr(engine_ops, name)
    return record_op(fn, args, kwargs) if contains_symbolic(args) else fn(*args, **kwargs)


def _pass_through_types():
    from .core import Dropout
    from .dense import Dense
    from .layer_normalization import LayerNormalization
    from .masking import Masking
    from .wrappers import TimeDistributed

    return (Dense, Dropout, LayerNormalization, TimeDistributed, Masking)


def mask_of(tensor):
    """The mask a (symbolic or real) tensor carries, or None."""
    return getattr(tensor, "_keras_mask", None)


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
    from ..autodiff import Tensor

    first = outputs[0] if isinstance(outputs, (list, tuple)) else outputs
    if not isinstance(first, (KerasTensor, Tensor)):
        return
    inputs = args[0]
    if hasattr(layer, "compute_mask"):
        mask = layer.compute_mask(inputs, mask_of(inputs))
    elif isinstance(layer, _PASS_THROUGH()):
        mask = mask_of(inputs)
    elif isinstance(layer, (_RNN, Bidirectional)):
        sequences = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
        given = kwargs.get("mask", mask_of(sequences))
        if given is None and isinstance(inputs, (list, tuple)):  # a real call packs its mask with the inputs
            given = next((t for t in inputs[1:] if getattr(t, "dtype", None) == np.bool_), None)
        mask = given if layer.return_sequences else None
    elif isinstance(layer, MultiHeadAttention):
        mask = kwargs.get("query_mask", mask_of(inputs))
    elif isinstance(layer, Attention) and isinstance(inputs, (list, tuple)):
        mask = (kwargs.get("mask") or [mask_of(inputs[0])])[0]
    else:
        mask = None
    if isinstance(mask, KerasTensor) or (isinstance(first, Tensor) and isinstance(mask, Tensor)):
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
