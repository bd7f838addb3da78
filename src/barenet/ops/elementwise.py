"""Keras's elementwise ops (arithmetic, math, where/clip, comparisons, logic) over the engine.

Arguments and defaults follow `keras.ops`. Each op accepts tensors, arrays, nested
lists and Python numbers, returns an engine `Tensor`, and works on symbolic tensors
through `symbolic_op` (it records a graph node there).
"""

from __future__ import annotations

import numpy as np

from ..autodiff import Tensor, as_tensor
from ..autodiff import ops as engine
from ..autodiff.symbolic import symbolic_op
from .core import _tensor


# --- arithmetic ------------------------------------------------------------------------------
@symbolic_op
def add(x1, x2) -> Tensor:
    """`x1 + x2`, broadcasting."""
    return engine.add(_tensor(x1, "add", "x1"), _tensor(x2, "add", "x2"))


@symbolic_op
def subtract(x1, x2) -> Tensor:
    """`x1 - x2`, broadcasting."""
    return engine.subtract(_tensor(x1, "subtract", "x1"), _tensor(x2, "subtract", "x2"))


@symbolic_op
def multiply(x1, x2) -> Tensor:
    """`x1 * x2`, broadcasting."""
    return engine.multiply(_tensor(x1, "multiply", "x1"), _tensor(x2, "multiply", "x2"))


@symbolic_op
def divide(x1, x2) -> Tensor:
    """`x1 / x2`, broadcasting."""
    return engine.divide(_tensor(x1, "divide", "x1"), _tensor(x2, "divide", "x2"))


true_divide = divide


@symbolic_op
def negative(x) -> Tensor:
    """`-x`."""
    return engine.negative(_tensor(x, "negative"))


@symbolic_op
def power(x1, x2) -> Tensor:
    """`x1 ** x2`, broadcasting."""
    return engine.power(_tensor(x1, "power", "x1"), _tensor(x2, "power", "x2"))


@symbolic_op
def matmul(x1, x2) -> Tensor:
    """Matrix product, batched over leading axes (as `np.matmul`)."""
    return engine.matmul(_tensor(x1, "matmul", "x1"), _tensor(x2, "matmul", "x2"))


@symbolic_op
def dot(x1, x2) -> Tensor:
    """`np.dot`: a product for scalars, else the sum over the last axis of `x1` and the
    second-to-last of `x2` (the last, if `x2` is 1-D)."""
    x1, x2 = as_tensor(_tensor(x1, "dot", "x1")), as_tensor(_tensor(x2, "dot", "x2"))
    if x1.ndim == 0 or x2.ndim == 0:
        return engine.multiply(x1, x2)
    if x2.ndim == 1 or (x1.ndim <= 2 and x2.ndim == 2):
        return engine.matmul(x1, x2)
    # (..., k) . (..., k, n): move x2's k axis first, flatten both sides, one matmul, unflatten
    rows = engine.reshape(x1, (-1, x1.shape[-1]))
    order = (x2.ndim - 2,) + tuple(range(x2.ndim - 2)) + (x2.ndim - 1,)
    columns = engine.reshape(engine.transpose(x2, order), (x2.shape[-2], -1))
    return engine.reshape(engine.matmul(rows, columns), x1.shape[:-1] + x2.shape[:-2] + x2.shape[-1:])


@symbolic_op
def maximum(x1, x2) -> Tensor:
    """Elementwise max (a tie splits the gradient evenly)."""
    return engine.maximum(_tensor(x1, "maximum", "x1"), _tensor(x2, "maximum", "x2"))


@symbolic_op
def minimum(x1, x2) -> Tensor:
    """Elementwise min (a tie splits the gradient evenly)."""
    return engine.minimum(_tensor(x1, "minimum", "x1"), _tensor(x2, "minimum", "x2"))


# --- elementwise math ------------------------------------------------------------------------
@symbolic_op
def abs(x) -> Tensor:  # noqa: A001 - Keras's name
    """`|x|`."""
    return engine.abs(_tensor(x, "abs"))


absolute = abs


@symbolic_op
def sign(x) -> Tensor:
    """-1, 0 or 1 by the sign of each entry."""
    return engine.sign(_tensor(x, "sign"))


@symbolic_op
def exp(x) -> Tensor:
    """`e^x`."""
    return engine.exp(_tensor(x, "exp"))


@symbolic_op
def expm1(x) -> Tensor:
    """`e^x - 1`, accurate near 0."""
    return engine.expm1(_tensor(x, "expm1"))


@symbolic_op
def log(x) -> Tensor:
    """Natural logarithm."""
    return engine.log(_tensor(x, "log"))


@symbolic_op
def log1p(x) -> Tensor:
    """`log(1 + x)`, accurate near 0."""
    return engine.log1p(_tensor(x, "log1p"))


@symbolic_op
def sqrt(x) -> Tensor:
    """Square root."""
    return engine.sqrt(_tensor(x, "sqrt"))


@symbolic_op
def square(x) -> Tensor:
    """`x * x`."""
    return engine.square(_tensor(x, "square"))


@symbolic_op
def sin(x) -> Tensor:
    """Sine."""
    return engine.sin(_tensor(x, "sin"))


@symbolic_op
def cos(x) -> Tensor:
    """Cosine."""
    return engine.cos(_tensor(x, "cos"))


@symbolic_op
def erf(x) -> Tensor:
    """The error function (`keras.ops.erf`); exact, entry by entry."""
    return engine.erf(_tensor(x, "erf"))


@symbolic_op
def clip(x, x_min, x_max) -> Tensor:
    """`x` limited to `[x_min, x_max]`; the gradient passes where `x_min <= x <= x_max`."""
    return engine.clip(_tensor(x, "clip"), _tensor(x_min, "clip", "x_min"), _tensor(x_max, "clip", "x_max"))


@symbolic_op
def where(condition, x1=None, x2=None):
    """`x1` where `condition` holds, else `x2`; with neither, the indices of the nonzero entries."""
    condition = as_tensor(_tensor(condition, "where", "condition"))
    if x1 is None and x2 is None:
        return tuple(Tensor(index) for index in np.nonzero(condition.value))
    if x1 is None or x2 is None:
        raise ValueError("`ops.where` needs both x1 and x2, or neither.")
    return engine.where(condition, _tensor(x1, "where", "x1"), _tensor(x2, "where", "x2"))


# --- comparisons and logic -------------------------------------------------------------------
@symbolic_op
def equal(x1, x2) -> Tensor:
    """`x1 == x2` (boolean)."""
    return engine.equal(_tensor(x1, "equal", "x1"), _tensor(x2, "equal", "x2"))


@symbolic_op
def not_equal(x1, x2) -> Tensor:
    """`x1 != x2` (boolean)."""
    return engine.not_equal(_tensor(x1, "not_equal", "x1"), _tensor(x2, "not_equal", "x2"))


@symbolic_op
def greater(x1, x2) -> Tensor:
    """`x1 > x2` (boolean)."""
    return engine.greater(_tensor(x1, "greater", "x1"), _tensor(x2, "greater", "x2"))


@symbolic_op
def greater_equal(x1, x2) -> Tensor:
    """`x1 >= x2` (boolean)."""
    return engine.greater_equal(_tensor(x1, "greater_equal", "x1"), _tensor(x2, "greater_equal", "x2"))


@symbolic_op
def less(x1, x2) -> Tensor:
    """`x1 < x2` (boolean)."""
    return engine.less(_tensor(x1, "less", "x1"), _tensor(x2, "less", "x2"))


@symbolic_op
def less_equal(x1, x2) -> Tensor:
    """`x1 <= x2` (boolean)."""
    return engine.less_equal(_tensor(x1, "less_equal", "x1"), _tensor(x2, "less_equal", "x2"))


@symbolic_op
def logical_and(x1, x2) -> Tensor:
    """Elementwise `and` (boolean)."""
    return engine.logical_and(_tensor(x1, "logical_and", "x1"), _tensor(x2, "logical_and", "x2"))


@symbolic_op
def logical_or(x1, x2) -> Tensor:
    """Elementwise `or` (boolean)."""
    return engine.logical_or(_tensor(x1, "logical_or", "x1"), _tensor(x2, "logical_or", "x2"))


@symbolic_op
def logical_xor(x1, x2) -> Tensor:
    """Elementwise `xor` (boolean)."""
    return engine.logical_xor(_tensor(x1, "logical_xor", "x1"), _tensor(x2, "logical_xor", "x2"))


@symbolic_op
def logical_not(x) -> Tensor:
    """Elementwise `not` (boolean)."""
    return engine.logical_not(_tensor(x, "logical_not"))
