"""Keras's ops that shape, join, split, index and create tensors, over the engine."""

from __future__ import annotations

import numpy as np

from ..autodiff import Tensor, as_tensor
from ..autodiff import ops as engine
from ..autodiff.symbolic import symbolic_op
from .core import _tensor, _tensors


@symbolic_op
def reshape(x, newshape) -> Tensor:
    """Same entries, new shape (one axis may be -1)."""
    return engine.reshape(_tensor(x, "reshape"), newshape)


@symbolic_op
def transpose(x, axes=None) -> Tensor:
    """Permute the axes (reverse them by default)."""
    return engine.transpose(_tensor(x, "transpose"), axes)


@symbolic_op
def expand_dims(x, axis) -> Tensor:
    """Insert a length-1 axis at `axis`."""
    return engine.expand_dims(_tensor(x, "expand_dims"), axis)


@symbolic_op
def squeeze(x, axis=None) -> Tensor:
    """Remove length-1 axes (all, or those in `axis`)."""
    return engine.squeeze(_tensor(x, "squeeze"), axis)


@symbolic_op
def concatenate(xs, axis=0) -> Tensor:
    """Join tensors along an existing axis."""
    return engine.concatenate(_tensors(xs, "concatenate"), axis)


@symbolic_op
def stack(x, axis=0) -> Tensor:
    """Join tensors along a new axis."""
    return engine.stack(_tensors(x, "stack", "x"), axis)


@symbolic_op
def split(x, indices_or_sections, axis=0) -> list:
    """A list of pieces along `axis`: `indices_or_sections` equal pieces, or cut at those indices."""
    return engine.split(_tensor(x, "split"), indices_or_sections, axis)


@symbolic_op
def take(x, indices, axis=None) -> Tensor:
    """Entries at integer `indices` along `axis` (of the flattened tensor for None)."""
    return engine.take(_tensor(x, "take"), _tensor(indices, "take", "indices"), axis)


@symbolic_op
def take_along_axis(x, indices, axis=None) -> Tensor:
    """One entry per index along `axis` (as `np.take_along_axis`)."""
    return engine.take_along_axis(_tensor(x, "take_along_axis"), _tensor(indices, "take_along_axis", "indices"),
                                  axis)


@symbolic_op
def tile(x, repeats) -> Tensor:
    """`x` repeated `repeats[i]` times along axis i (as `np.tile`)."""
    return engine.tile(_tensor(x, "tile"), repeats)


@symbolic_op
def repeat(x, repeats, axis=None) -> Tensor:
    """Each entry repeated `repeats` times along `axis` (of the flattened tensor for None)."""
    return engine.repeat(_tensor(x, "repeat"), repeats, axis)


@symbolic_op
def pad(x, pad_width, mode="constant", constant_values=None) -> Tensor:
    """Pad with `constant_values` (0 by default); `pad_width` is `((before, after), ...)` per axis."""
    return engine.pad(_tensor(x, "pad"), pad_width, mode, constant_values)


# --- creation (constants: no gradient) -------------------------------------------------------
def zeros(shape, dtype=None) -> Tensor:
    """A tensor of zeros (float32 unless `dtype`)."""
    return Tensor(np.zeros(shape, dtype or "float32"))


def ones(shape, dtype=None) -> Tensor:
    """A tensor of ones (float32 unless `dtype`)."""
    return Tensor(np.ones(shape, dtype or "float32"))


def full(shape, fill_value, dtype=None) -> Tensor:
    """A tensor filled with `fill_value` (float32 unless `dtype`)."""
    return Tensor(np.full(shape, fill_value, dtype or "float32"))


@symbolic_op
def zeros_like(x, dtype=None) -> Tensor:
    """Zeros with `x`'s shape and dtype (or `dtype`)."""
    return Tensor(np.zeros_like(as_tensor(_tensor(x, "zeros_like")).value, dtype))


@symbolic_op
def ones_like(x, dtype=None) -> Tensor:
    """Ones with `x`'s shape and dtype (or `dtype`)."""
    return Tensor(np.ones_like(as_tensor(_tensor(x, "ones_like")).value, dtype))


@symbolic_op
def full_like(x, fill_value, dtype=None) -> Tensor:
    """`fill_value` with `x`'s shape and dtype (or `dtype`)."""
    return Tensor(np.full_like(as_tensor(_tensor(x, "full_like")).value, fill_value, dtype))


def arange(start, stop=None, step=1, dtype=None) -> Tensor:
    """Evenly spaced values in `[start, stop)`; int32 for integer arguments, else float32 (as Keras)."""
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, stop, step) if v is not None)
        dtype = "int32" if ints else "float32"
    return Tensor(np.arange(start, stop, step, dtype=dtype) if stop is not None else np.arange(start, step=step,
                                                                                              dtype=dtype))


def eye(N, M=None, k=0, dtype=None) -> Tensor:  # noqa: N803 - Keras's names
    """A 2-D tensor with ones on the `k`-th diagonal (float32 unless `dtype`)."""
    return Tensor(np.eye(N, M, k, dtype=dtype or "float32"))
