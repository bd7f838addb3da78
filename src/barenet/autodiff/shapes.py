"""Operations that move entries around (reshape, join, split, index, gather, tile, pad), each beside its VJP.

None of them does arithmetic, so each gradient is `g` moved back to where the entries
came from; where an entry was used several times (gather, tile, repeat), the
gradients of its copies are summed.
"""

from __future__ import annotations

import numpy as np

from .elementwise import _value
from .tensor import Tensor, as_tensor


def reshape(x, shape) -> Tensor:
    """Same entries, new shape; gradient reshaped back."""
    x = as_tensor(x)
    return Tensor(x.value.reshape(shape), (x,), lambda g: (g.reshape(x.shape),))


def transpose(x, axes=None) -> Tensor:
    """Permute axes (reverse them by default); gradient permuted by the inverse."""
    x = as_tensor(x)
    axes = tuple(range(x.ndim))[::-1] if axes is None else tuple(int(a) % x.ndim for a in axes)
    inverse = tuple(np.argsort(axes))
    return Tensor(np.transpose(x.value, axes), (x,), lambda g: (np.transpose(g, inverse),))


def expand_dims(x, axis) -> Tensor:
    """Insert length-1 axes at `axis` (an int or tuple); gradient reshaped back."""
    x = as_tensor(x)
    return Tensor(np.expand_dims(x.value, axis), (x,), lambda g: (g.reshape(x.shape),))


def squeeze(x, axis=None) -> Tensor:
    """Drop length-1 axes (all of them, or those in `axis`); gradient reshaped back."""
    x = as_tensor(x)
    return Tensor(np.squeeze(x.value, axis), (x,), lambda g: (g.reshape(x.shape),))


def concatenate(tensors, axis=0) -> Tensor:
    """Join along `axis`; each input's gradient is its slice of `g`."""
    tensors = [as_tensor(t) for t in tensors]
    out = np.concatenate([t.value for t in tensors], axis=axis)
    bounds = np.cumsum([t.shape[axis] for t in tensors])[:-1]
    return Tensor(out, tensors, lambda g: tuple(np.split(g, bounds, axis=axis)))


def stack(tensors, axis=0) -> Tensor:
    """Join along a new axis; each input's gradient is its slice of `g` along that axis."""
    tensors = [as_tensor(t) for t in tensors]
    out = np.stack([t.value for t in tensors], axis=axis)
    return Tensor(out, tensors, lambda g: tuple(np.moveaxis(g, axis, 0)))


def _is_basic(index) -> bool:
    """Whether `index` is basic indexing (ints, slices, None, ...): it never repeats an entry."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(part is None or part is Ellipsis or isinstance(part, slice)
               or (isinstance(part, (int, np.integer)) and not isinstance(part, bool)) for part in parts)


def getitem(x, index) -> Tensor:
    """`x[index]` (basic and advanced indexing); gradient scattered back, repeated entries summed."""
    x = as_tensor(x)
    index = tuple(_value(i) for i in index) if isinstance(index, tuple) else _value(index)

    def vjp(g):
        grad = np.zeros(x.shape, dtype=g.dtype)
        if _is_basic(index):
            grad[index] = g  # a view of distinct entries: plain assignment
        else:
            np.add.at(grad, index, g)
        return (grad,)

    return Tensor(x.value[index], (x,), vjp)


def split(x, indices_or_sections, axis=0) -> list:
    """Pieces of `x` along `axis`, as `np.split` cuts them; each piece's gradient fills its slice.

    Args:
        indices_or_sections: A number of equal pieces, or the indices where to cut.
    """
    x = as_tensor(x)
    positions = np.split(np.arange(x.shape[axis]), indices_or_sections)
    lead = (slice(None),) * (axis % x.ndim)
    return [getitem(x, lead + (slice(int(p[0]), int(p[-1]) + 1) if len(p) else slice(0, 0),))
            for p in positions]


def take(x, indices, axis=None) -> Tensor:
    """Gather entries at `indices` along `axis` (of the flattened tensor for None).

    The gradient scatters `g` back with `np.add.at`, summing where an index repeats.
    """
    x = as_tensor(x)
    indices = np.asarray(_value(indices))
    if axis is None:
        return take(reshape(x, (-1,)), indices, 0)
    axis = axis % x.ndim
    where = (slice(None),) * axis + (indices,)

    def vjp(g):
        grad = np.zeros(x.shape, dtype=g.dtype)
        np.add.at(grad, where, g)
        return (grad,)

    return Tensor(np.take(x.value, indices, axis=axis), (x,), vjp)


def take_along_axis(x, indices, axis=None) -> Tensor:
    """`np.take_along_axis`: pick along `axis` one entry per index; gradient scattered back, repeats summed."""
    x = as_tensor(x)
    indices = np.asarray(_value(indices))
    if axis is None:
        return take_along_axis(reshape(x, (-1,)), indices.reshape(-1), 0)
    axis = axis % x.ndim
    out = np.take_along_axis(x.value, indices, axis=axis)
    # the full index of each output entry: its own position on every axis but `axis`
    where = tuple(indices if ax == axis else
                  np.arange(n).reshape((-1,) + (1,) * (x.ndim - ax - 1)) for ax, n in enumerate(x.shape))

    def vjp(g):
        grad = np.zeros(x.shape, dtype=g.dtype)
        np.add.at(grad, where, g)
        return (grad,)

    return Tensor(out, (x,), vjp)


def tile(x, repeats) -> Tensor:
    """`np.tile`: `x` repeated `repeats[i]` times along axis i; gradient the sum over the copies."""
    x = as_tensor(x)
    repeats = (int(repeats),) if np.ndim(repeats) == 0 else tuple(int(r) for r in repeats)
    rank = len(repeats) if len(repeats) > x.ndim else x.ndim
    shape = (1,) * (rank - x.ndim) + x.shape
    repeats = (1,) * (rank - len(repeats)) + repeats
    out = np.tile(x.value, repeats)

    def vjp(g):
        copies = g.reshape([n for pair in zip(repeats, shape) for n in pair])  # (r0, s0, r1, s1, ...)
        return (copies.sum(axis=tuple(range(0, 2 * rank, 2))).reshape(x.shape),)

    return Tensor(out, (x,), vjp)


def repeat(x, repeats, axis=None) -> Tensor:
    """`np.repeat`: each entry repeated along `axis` (of the flattened tensor for None).

    Written as a gather, `take(x, [0, 0, 1, 1, ...], axis)`, so its gradient sums the copies.
    """
    x = as_tensor(x)
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
    return take(x, np.repeat(np.arange(x.shape[axis]), repeats), axis)


def pad(x, pad_width, mode="constant", constant_values=0) -> Tensor:
    """Pad with a constant; gradient the slice of `g` where `x` sits.

    Args:
        pad_width: `((before, after), ...)` per axis, or one pair / one int for all axes.
        mode: Only "constant" is supported.
    """
    if mode != "constant":
        raise ValueError(f"pad supports mode='constant' only. Received: mode={mode!r}")
    x = as_tensor(x)
    widths = np.broadcast_to(np.asarray(pad_width, dtype=int), (x.ndim, 2))
    fill = 0 if constant_values is None else constant_values
    out = np.pad(x.value, widths, constant_values=np.asarray(fill, x.dtype))
    inside = tuple(slice(before, before + n) for (before, _), n in zip(widths, x.shape))
    return Tensor(out, (x,), lambda g: (g[inside],))
