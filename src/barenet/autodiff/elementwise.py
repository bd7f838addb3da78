"""Elementwise operations, each beside its vector-Jacobian product.

Every op takes tensors or array-likes (constants), computes its value with NumPy,
and returns a `Tensor` whose `vjp(g)` maps dLoss/dOutput `g` to one gradient per
tensor input. Broadcasting is undone with `unbroadcast`: an input that was
stretched receives the sum of the gradients of its copies.

Dtypes: a float tensor keeps its dtype (a Python number or 0-d constant takes the
tensor's dtype, so float32 stays float32); a float-valued op on an integer or
boolean tensor returns float32, as Keras does. Integer and boolean results carry
no gradient.
"""

from __future__ import annotations

import math

import numpy as np

from .tensor import Tensor, as_tensor, unbroadcast


# --- helpers shared by the engine's op modules ----------------------------------------------
def _with_scalar(tensor: Tensor, scalar):
    """`tensor` and a number as two tensors of one dtype (NumPy's "weak" Python scalars).

    A float tensor gives the number its dtype (float32 stays float32); an integer or
    boolean tensor meeting a float number becomes float32, as in Keras.
    """
    scalar = np.asarray(scalar)
    if tensor.dtype.kind in "fc":
        return tensor, Tensor(scalar.astype(tensor.dtype))
    if scalar.dtype.kind in "fc":
        return Tensor(tensor.value.astype(np.float32)), Tensor(scalar.astype(np.float32))
    return tensor, Tensor(scalar.astype(np.result_type(tensor.dtype, scalar.item())))


def _pair(a, b):
    """Both operands as tensors; a number (0-d constant) takes the other operand's dtype."""
    if not isinstance(a, Tensor) and isinstance(b, Tensor) and np.ndim(a) == 0:
        b, a = _with_scalar(b, a)
    elif not isinstance(b, Tensor) and isinstance(a, Tensor) and np.ndim(b) == 0:
        a, b = _with_scalar(a, b)
    return as_tensor(a), as_tensor(b)


def _floating(x: Tensor) -> np.ndarray:
    """`x`'s value as a float array: itself if float, else float32 (Keras's floatx)."""
    return x.value if x.dtype.kind in "fc" else x.value.astype(np.float32)


def _value(x):
    """The NumPy array behind a tensor, or the argument itself."""
    return x.value if isinstance(x, Tensor) else x


def swap_last(x: np.ndarray) -> np.ndarray:
    """Transpose of the last two axes (a no-op for 1-D)."""
    return x if x.ndim < 2 else np.swapaxes(x, -1, -2)


# --- arithmetic ------------------------------------------------------------------------------
def add(a, b) -> Tensor:
    """`a + b`; both gradients are `g`, summed back over broadcast axes."""
    a, b = _pair(a, b)
    return Tensor(a.value + b.value, (a, b), lambda g: (unbroadcast(g, a.shape), unbroadcast(g, b.shape)))


def subtract(a, b) -> Tensor:
    """`a - b`; gradients `g` and `-g`."""
    a, b = _pair(a, b)
    return Tensor(a.value - b.value, (a, b), lambda g: (unbroadcast(g, a.shape), unbroadcast(-g, b.shape)))


def multiply(a, b) -> Tensor:
    """`a * b`; gradients `g * b` and `g * a`."""
    a, b = _pair(a, b)
    return Tensor(a.value * b.value, (a, b),
                  lambda g: (unbroadcast(g * b.value, a.shape) if a.requires_grad else None,
                             unbroadcast(g * a.value, b.shape) if b.requires_grad else None))


def divide(a, b) -> Tensor:
    """`a / b`; gradients `g / b` and `-g a / b^2`."""
    a, b = _pair(a, b)
    out = a.value / b.value
    return Tensor(out, (a, b),
                  lambda g: (unbroadcast(g / b.value, a.shape) if a.requires_grad else None,
                             unbroadcast(-g * out / b.value, b.shape) if b.requires_grad else None))


def negative(a) -> Tensor:
    """`-a`; gradient `-g`."""
    a = as_tensor(a)
    return Tensor(-a.value, (a,), lambda g: (-g,))


def power(a, b) -> Tensor:
    """`a ** b`; gradients `g b a^(b-1)` and `g a^b log(a)`.

    Where `b == 0` the gradient for `a` is 0 (also at `a == 0`, where `b a^(b-1)` is
    `0 * inf`), as in torch. The gradient for `b` is taken as 0 where `a <= 0`, where
    `log(a)` is not real (torch gives 0 at `a == 0` and NaN for `a < 0`).
    """
    a, b = _pair(a, b)
    out = a.value ** b.value

    def vjp(g):
        grad_a = grad_b = None
        if a.requires_grad:
            exponent = np.where(b.value == 0, 1, b.value - 1)
            grad_a = unbroadcast(np.where(b.value == 0, 0, g * b.value * a.value ** exponent), a.shape)
        if b.requires_grad:
            safe_log = np.log(np.where(a.value > 0, a.value, 1))
            grad_b = unbroadcast(g * out * safe_log, b.shape)
        return grad_a, grad_b

    return Tensor(out, (a, b), vjp)


def matmul(a, b) -> Tensor:
    """`a @ b` (batched over leading axes); gradients `g @ b^T` and `a^T @ g`.

    A 1-D operand is treated as a row (`a`) or column (`b`) whose extra axis the result
    drops, as in NumPy; `g` gets that axis back before the products.
    """
    a, b = _pair(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul needs arrays of rank >= 1. Received: shapes {a.shape} and {b.shape}")
    out = a.value @ b.value

    def vjp(g):
        av = a.value[None, :] if a.ndim == 1 else a.value
        bv = b.value[:, None] if b.ndim == 1 else b.value
        if b.ndim == 1:
            g = g[..., None]
        if a.ndim == 1:
            g = g[..., None, :]
        grad_a = unbroadcast(g @ swap_last(bv), av.shape).reshape(a.shape) if a.requires_grad else None
        grad_b = unbroadcast(swap_last(av) @ g, bv.shape).reshape(b.shape) if b.requires_grad else None
        return grad_a, grad_b

    return Tensor(out, (a, b), vjp)


def _tie_shares(a: np.ndarray, b: np.ndarray, wins, dtype):
    """Fractions of the gradient for `a` and `b`: 1 to the winner, half each on a tie."""
    share_a = wins(a, b).astype(dtype) + (a == b).astype(dtype) * 0.5
    return share_a, 1 - share_a


def maximum(a, b) -> Tensor:
    """Elementwise max; gradient `g` to the larger input, `g / 2` to each on a tie (as torch)."""
    a, b = _pair(a, b)

    def vjp(g):
        share_a, share_b = _tie_shares(a.value, b.value, np.greater, g.dtype)
        return unbroadcast(g * share_a, a.shape), unbroadcast(g * share_b, b.shape)

    return Tensor(np.maximum(a.value, b.value), (a, b), vjp)


def minimum(a, b) -> Tensor:
    """Elementwise min; gradient `g` to the smaller input, `g / 2` to each on a tie (as torch)."""
    a, b = _pair(a, b)

    def vjp(g):
        share_a, share_b = _tie_shares(a.value, b.value, np.less, g.dtype)
        return unbroadcast(g * share_a, a.shape), unbroadcast(g * share_b, b.shape)

    return Tensor(np.minimum(a.value, b.value), (a, b), vjp)


# --- elementwise math ------------------------------------------------------------------------
def exp(x) -> Tensor:
    """`e^x`; gradient `g e^x`."""
    x = as_tensor(x)
    out = np.exp(_floating(x))
    return Tensor(out, (x,), lambda g: (g * out,))


def log(x) -> Tensor:
    """Natural log; gradient `g / x`."""
    x = as_tensor(x)
    return Tensor(np.log(_floating(x)), (x,), lambda g: (g / x.value,))


def log1p(x) -> Tensor:
    """`log(1 + x)`, accurate near 0; gradient `g / (1 + x)`."""
    x = as_tensor(x)
    return Tensor(np.log1p(_floating(x)), (x,), lambda g: (g / (1 + x.value),))


def expm1(x) -> Tensor:
    """`e^x - 1`, accurate near 0; gradient `g e^x`."""
    x = as_tensor(x)
    out = np.expm1(_floating(x))
    return Tensor(out, (x,), lambda g: (g * (out + 1),))


def sqrt(x) -> Tensor:
    """`sqrt(x)`; gradient `g / (2 sqrt(x))`."""
    x = as_tensor(x)
    out = np.sqrt(_floating(x))
    return Tensor(out, (x,), lambda g: (g / (2 * out),))


def square(x) -> Tensor:
    """`x^2`; gradient `2 g x`."""
    x = as_tensor(x)
    return Tensor(np.square(x.value), (x,), lambda g: (2 * g * x.value,))


def abs(x) -> Tensor:  # noqa: A001 - Keras's name
    """`|x|`; gradient `g sign(x)` (0 at x = 0, as torch)."""
    x = as_tensor(x)
    return Tensor(np.abs(x.value), (x,), lambda g: (g * np.sign(x.value),))


def sign(x) -> Tensor:
    """-1, 0 or 1; gradient 0 everywhere."""
    x = as_tensor(x)
    return Tensor(np.sign(x.value), (x,), lambda g: (np.zeros_like(g),))


def sin(x) -> Tensor:
    """`sin(x)`; gradient `g cos(x)`."""
    x = as_tensor(x)
    return Tensor(np.sin(_floating(x)), (x,), lambda g: (g * np.cos(x.value),))


def cos(x) -> Tensor:
    """`cos(x)`; gradient `-g sin(x)`."""
    x = as_tensor(x)
    return Tensor(np.cos(_floating(x)), (x,), lambda g: (-g * np.sin(x.value),))


_erf = np.frompyfunc(math.erf, 1, 1)  # exact to double precision; one Python call per entry


def erf(x) -> Tensor:
    """Error function `2/sqrt(pi) int_0^x e^(-t^2) dt`; gradient `g 2/sqrt(pi) e^(-x^2)`.

    Computed entry by entry with `math.erf` (NumPy has no erf): exact, but slow on
    large arrays.
    """
    x = as_tensor(x)
    v = _floating(x)
    out = np.asarray(_erf(v), dtype=v.dtype)
    return Tensor(out, (x,), lambda g: (g * (2 / math.sqrt(math.pi)) * np.exp(-x.value * x.value),))


# --- selection and dtype ---------------------------------------------------------------------
def where(condition, a, b) -> Tensor:
    """`a` where `condition` holds, else `b`; gradients `g` masked to each side."""
    cond = np.asarray(_value(condition), dtype=bool)
    a, b = _pair(a, b)
    return Tensor(np.where(cond, a.value, b.value), (a, b),
                  lambda g: (unbroadcast(np.where(cond, g, 0), a.shape) if a.requires_grad else None,
                             unbroadcast(np.where(cond, 0, g), b.shape) if b.requires_grad else None))


def clip(x, lo, hi) -> Tensor:
    """`min(max(x, lo), hi)`; gradient `g` where `lo <= x <= hi` (ends included, as torch.clamp).

    The bounds are constants: they receive no gradient.
    """
    x = as_tensor(x)
    lo, hi = _value(lo), _value(hi)
    out = np.clip(x.value, lo, hi)
    if out.dtype != x.dtype and x.dtype.kind == "f":
        out = out.astype(x.dtype)
    return Tensor(out, (x,), lambda g: (unbroadcast(np.where((x.value >= lo) & (x.value <= hi), g, 0), x.shape),))


def cast(x, dtype) -> Tensor:
    """`x` converted to `dtype`; the gradient is cast back to `x`'s dtype."""
    x = as_tensor(x)
    return Tensor(x.value.astype(dtype), (x,), lambda g: (g.astype(x.dtype),))


def stop_gradient(x) -> Tensor:
    """`x` as a constant: no gradient flows back through it."""
    return Tensor(as_tensor(x).value)


# --- comparisons and logic (boolean results: no gradient) ------------------------------------
def _boolean(fn):
    def op(a, b):
        a, b = _pair(a, b)
        return Tensor(fn(a.value, b.value))
    op.__name__ = fn.__name__
    op.__doc__ = f"Elementwise `np.{fn.__name__}`; a boolean result, so no gradient."
    return op


equal = _boolean(np.equal)
not_equal = _boolean(np.not_equal)
less = _boolean(np.less)
less_equal = _boolean(np.less_equal)
greater = _boolean(np.greater)
greater_equal = _boolean(np.greater_equal)
logical_and = _boolean(np.logical_and)
logical_or = _boolean(np.logical_or)
logical_xor = _boolean(np.logical_xor)


def logical_not(x) -> Tensor:
    """Elementwise `not`; a boolean result, so no gradient."""
    return Tensor(np.logical_not(as_tensor(x).value))
