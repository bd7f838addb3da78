"""Reductions over axes (sum, mean, max, var, prod, cumsum, logsumexp, ...) and einsum, each beside its VJP.

`axis` is None (all axes), an int or a tuple of ints; `keepdims` keeps the reduced
axes with length 1. Every VJP first puts the reduced axes back into `g` so that it
broadcasts against the input.
"""

from __future__ import annotations

import numpy as np

from .elementwise import _floating, sqrt
from .tensor import Tensor, as_tensor


def _normalize_axis(axis, ndim: int) -> tuple:
    """`axis` as a sorted tuple of non-negative ints (all axes for None)."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    bound = ndim if ndim else 1  # (this module's `max` is the op, not the builtin)
    for ax in axes:
        if not -bound <= int(ax) < bound:
            raise ValueError(f"axis {ax} is out of bounds for a tensor of rank {ndim}")
    return tuple(sorted(int(ax) % ndim for ax in axes)) if ndim else ()


def _expand_reduced(g: np.ndarray, axes: tuple, keepdims: bool) -> np.ndarray:
    """Re-insert reduced axes into `g` so it broadcasts against the input."""
    return g if keepdims else np.expand_dims(g, axes)


def _count(shape: tuple, axes: tuple) -> int:
    return int(np.prod([shape[ax] for ax in axes])) if axes else 1


def sum(x, axis=None, keepdims=False) -> Tensor:  # noqa: A001 - Keras's name
    """Sum over `axis`; gradient `g` broadcast back over the summed axes."""
    x = as_tensor(x)
    axes = _normalize_axis(axis, x.ndim)
    out = np.sum(x.value, axis=axes, keepdims=keepdims)
    return Tensor(out, (x,), lambda g: (np.broadcast_to(_expand_reduced(g, axes, keepdims), x.shape),))


def mean(x, axis=None, keepdims=False) -> Tensor:
    """Mean over `axis`; gradient `g / n` broadcast back, n the number of averaged entries."""
    x = as_tensor(x)
    axes = _normalize_axis(axis, x.ndim)
    count = _count(x.shape, axes)
    out = np.mean(_floating(x), axis=axes, keepdims=keepdims)
    return Tensor(out, (x,), lambda g: (np.broadcast_to(_expand_reduced(g, axes, keepdims) / count, x.shape),))


def _extreme(x, axis, keepdims, reduce) -> Tensor:
    x = as_tensor(x)
    axes = _normalize_axis(axis, x.ndim)
    out = reduce(x.value, axis=axes, keepdims=keepdims)

    def vjp(g):
        hits = (x.value == _expand_reduced(out, axes, keepdims)).astype(g.dtype)
        hits /= hits.sum(axis=axes, keepdims=True)
        return (_expand_reduced(g, axes, keepdims) * hits,)

    return Tensor(out, (x,), vjp)


def max(x, axis=None, keepdims=False) -> Tensor:  # noqa: A001 - Keras's name
    """Largest entry over `axis`; gradient `g` shared evenly among tied maxima (as torch.amax)."""
    return _extreme(x, axis, keepdims, np.max)


def min(x, axis=None, keepdims=False) -> Tensor:  # noqa: A001 - Keras's name
    """Smallest entry over `axis`; gradient `g` shared evenly among tied minima (as torch.amin)."""
    return _extreme(x, axis, keepdims, np.min)


def argmax(x, axis=None, keepdims=False) -> Tensor:
    """Index of the (first) largest entry along `axis` (of the flattened tensor for None); no gradient."""
    return Tensor(np.argmax(as_tensor(x).value, axis=axis, keepdims=keepdims))


def argmin(x, axis=None, keepdims=False) -> Tensor:
    """Index of the (first) smallest entry along `axis` (of the flattened tensor for None); no gradient."""
    return Tensor(np.argmin(as_tensor(x).value, axis=axis, keepdims=keepdims))


def var(x, axis=None, keepdims=False) -> Tensor:
    """Population variance `mean((x - mean(x))^2)` over `axis`; gradient `2 g (x - mean(x)) / n`."""
    x = as_tensor(x)
    axes = _normalize_axis(axis, x.ndim)
    count = _count(x.shape, axes)
    v = _floating(x)
    centered = v - np.mean(v, axis=axes, keepdims=True)
    out = np.mean(centered * centered, axis=axes, keepdims=keepdims)
    return Tensor(out, (x,), lambda g: (_expand_reduced(g, axes, keepdims) * centered * (2 / count),))


def std(x, axis=None, keepdims=False) -> Tensor:
    """Population standard deviation `sqrt(var(x))`; gradient `g (x - mean(x)) / (n std)` (by the chain rule)."""
    return sqrt(var(x, axis, keepdims))


def prod(x, axis=None, keepdims=False) -> Tensor:
    """Product over `axis`; gradient `g` times the product of the *other* entries.

    The product of the others is computed from exclusive cumulative products from both
    ends, not as `prod / x`, so it is right when entries are zero.
    """
    x = as_tensor(x)
    axes = _normalize_axis(axis, x.ndim)
    out = np.prod(x.value, axis=axes, keepdims=keepdims)

    def vjp(g):
        kept = [ax for ax in range(x.ndim) if ax not in axes]
        moved = np.transpose(x.value, kept + list(axes))  # reduced axes last, then flattened
        flat = moved.reshape(moved.shape[:len(kept)] + (-1,))
        ones = np.ones_like(flat[..., :1])
        before = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
        after = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
        others = np.transpose((before * after).reshape(moved.shape), np.argsort(kept + list(axes)))
        return (_expand_reduced(g, axes, keepdims) * others,)

    return Tensor(out, (x,), vjp)


def cumsum(x, axis=None) -> Tensor:
    """Running sum along `axis` (of the flattened tensor for None); gradient the reversed running sum of `g`."""
    x = as_tensor(x)
    if axis is None:
        return Tensor(np.cumsum(x.value), (x,), lambda g: (np.cumsum(g[::-1])[::-1].reshape(x.shape),))
    return Tensor(np.cumsum(x.value, axis=axis), (x,),
                  lambda g: (np.flip(np.cumsum(np.flip(g, axis), axis=axis), axis),))


def logsumexp(x, axis=None, keepdims=False) -> Tensor:
    """`log(sum(exp(x)))` over `axis`, computed as `m + log(sum(exp(x - m)))`, m the max;
    gradient `g softmax(x)` over those axes."""
    x = as_tensor(x)
    axes = _normalize_axis(axis, x.ndim)
    v = _floating(x)
    shift = np.max(v, axis=axes, keepdims=True)
    shift = np.where(np.isfinite(shift), shift, 0)  # all -inf: log(0) = -inf, not NaN
    with np.errstate(divide="ignore"):
        out_kept = np.log(np.sum(np.exp(v - shift), axis=axes, keepdims=True)) + shift
    out = out_kept if keepdims else np.squeeze(out_kept, axis=axes)
    return Tensor(out, (x,), lambda g: (_expand_reduced(g, axes, keepdims) * np.exp(v - out_kept),))


def einsum(subscripts: str, *operands) -> Tensor:
    """`np.einsum` for plain subscripts ("ij,jk->ik"; no "...", no letter twice in one operand).

    The gradient for operand i is itself an einsum: `g` contracted with the other operands
    onto operand i's letters, `einsum("<out>,<others>-><letters of i>", g, *others)`; a
    letter that only operand i has (summed away inside it) is broadcast back.
    """
    operands = [as_tensor(op) for op in operands]
    inputs, _, output = subscripts.replace(" ", "").partition("->")
    inputs = inputs.split(",")
    if "." in subscripts or any(len(set(s)) != len(s) for s in inputs) or len(inputs) != len(operands):
        raise ValueError(f"einsum supports one plain subscript per operand, no '...' or repeated letters. "
                         f"Received: {subscripts!r} for {len(operands)} operands")
    if "->" not in subscripts:  # NumPy's implicit output: the letters used once, in alphabetical order
        letters = "".join(inputs)
        output = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    out = np.einsum(f"{','.join(inputs)}->{output}", *[op.value for op in operands])

    def vjp(g):
        grads = []
        for i, (letters, operand) in enumerate(zip(inputs, operands)):
            if not operand.requires_grad:
                grads.append(None)
                continue
            others = [j for j in range(len(operands)) if j != i]
            known = set(output).union(*(inputs[j] for j in others))
            kept = "".join(c for c in letters if c in known)
            spec = ",".join([output] + [inputs[j] for j in others]) + "->" + kept
            grad = np.einsum(spec, g, *[operands[j].value for j in others])
            missing = tuple(k for k, c in enumerate(letters) if c not in known)
            grads.append(np.broadcast_to(np.expand_dims(grad, missing), operand.shape) if missing else grad)
        return tuple(grads)

    return Tensor(out, operands, vjp)
