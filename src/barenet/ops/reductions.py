"""Keras's reductions over axes (`sum`, `mean`, `max`, `var`, `logsumexp`, `norm`, ...) over the engine.

`axis` is None (every axis), an int or a tuple; `keepdims` keeps reduced axes as length 1.
"""

from __future__ import annotations

import numpy as np

from ..autodiff import Tensor, as_tensor
from ..autodiff import ops as engine
from ..autodiff.symbolic import symbolic_op
from .core import _tensor


@symbolic_op
def sum(x, axis=None, keepdims=False) -> Tensor:  # noqa: A001 - Keras's name
    """Sum of the entries over `axis`."""
    return engine.sum(_tensor(x, "sum"), axis, keepdims)


@symbolic_op
def mean(x, axis=None, keepdims=False) -> Tensor:
    """Mean of the entries over `axis`."""
    return engine.mean(_tensor(x, "mean"), axis, keepdims)


@symbolic_op
def max(x, axis=None, keepdims=False, initial=None) -> Tensor:  # noqa: A001 - Keras's name
    """Largest entry over `axis` (at least `initial`, if given); tied maxima share the gradient evenly."""
    out = engine.max(_tensor(x, "max"), axis, keepdims)
    return out if initial is None else engine.maximum(out, initial)


@symbolic_op
def min(x, axis=None, keepdims=False, initial=None) -> Tensor:  # noqa: A001 - Keras's name
    """Smallest entry over `axis` (at most `initial`, if given); tied minima share the gradient evenly."""
    out = engine.min(_tensor(x, "min"), axis, keepdims)
    return out if initial is None else engine.minimum(out, initial)


@symbolic_op
def argmax(x, axis=None, keepdims=False) -> Tensor:
    """Index of the first largest entry along `axis` (in the flattened tensor for None)."""
    return engine.argmax(_tensor(x, "argmax"), axis, keepdims)


@symbolic_op
def argmin(x, axis=None, keepdims=False) -> Tensor:
    """Index of the first smallest entry along `axis` (in the flattened tensor for None)."""
    return engine.argmin(_tensor(x, "argmin"), axis, keepdims)


@symbolic_op
def var(x, axis=None, keepdims=False) -> Tensor:
    """Population variance (divided by n) over `axis`."""
    return engine.var(_tensor(x, "var"), axis, keepdims)


@symbolic_op
def std(x, axis=None, keepdims=False) -> Tensor:
    """Population standard deviation (divided by n) over `axis`."""
    return engine.std(_tensor(x, "std"), axis, keepdims)


@symbolic_op
def prod(x, axis=None, keepdims=False, dtype=None) -> Tensor:
    """Product of the entries over `axis` (after casting to `dtype`, if given)."""
    x = _tensor(x, "prod")
    return engine.prod(x if dtype is None else engine.cast(x, dtype), axis, keepdims)


@symbolic_op
def cumsum(x, axis=None, dtype=None) -> Tensor:
    """Running sum along `axis` (of the flattened tensor for None), after casting to `dtype` if given."""
    x = _tensor(x, "cumsum")
    return engine.cumsum(x if dtype is None else engine.cast(x, dtype), axis)


@symbolic_op
def logsumexp(x, axis=None, keepdims=False) -> Tensor:
    """`log(sum(exp(x)))` over `axis`, computed without overflow."""
    return engine.logsumexp(_tensor(x, "logsumexp"), axis, keepdims)


@symbolic_op
def einsum(subscripts, *operands, **kwargs) -> Tensor:
    """`np.einsum` for plain subscripts like "bij,jk->bik" (no "..." or letter repeated within an operand)."""
    if kwargs:
        raise ValueError(f"`ops.einsum` takes no keyword arguments. Received: {sorted(kwargs)}")
    return engine.einsum(subscripts, *[_tensor(op, "einsum", f"operands[{i}]") for i, op in enumerate(operands)])


@symbolic_op
def norm(x, ord=None, axis=None, keepdims=False) -> Tensor:  # noqa: A002 - Keras's name
    """Vector or matrix norm (`keras.ops.norm`).

    Supported: `ord=None` (the 2-norm of a vector, Frobenius for a matrix, of the flattened
    tensor for `axis=None`), `"fro"`, and for a single axis `ord` = 1, 2 or `inf`.
    The gradient of the 2-norm is `x / norm`: undefined (NaN) at x = 0.
    """
    x = as_tensor(_tensor(x, "norm"))
    single_axis = axis is not None and np.ndim(axis) == 0
    if ord in (None, "fro") or (ord == 2 and single_axis):
        return engine.sqrt(engine.sum(engine.square(x), axis, keepdims))
    if single_axis and ord == 1:
        return engine.sum(engine.abs(x), axis, keepdims)
    if single_axis and ord == np.inf:
        return engine.max(engine.abs(x), axis, keepdims)
    raise ValueError(f"`ops.norm` supports ord None, 'fro', and 1, 2, inf for one axis. Received: ord={ord!r}, "
                     f"axis={axis!r}")
