"""Primitive operations on `Tensor`s, each beside its vector-Jacobian product.

Every op takes tensors or array-likes (constants), computes its value with NumPy,
and returns a `Tensor` whose `vjp(g)` maps dLoss/dOutput `g` to one gradient per
tensor input. Broadcasting is undone with `unbroadcast`: an input that was
stretched receives the sum of the gradients of its copies.

The operator overloads of `Tensor` (`+ - * / ** @`, unary minus, indexing,
comparisons) are installed at the bottom of this module.
"""

from __future__ import annotations

import numpy as np

from .tensor import Tensor, as_tensor, unbroadcast


def _pair(a, b):
    """Both operands as tensors; a Python number takes the other operand's dtype."""
    if not isinstance(a, Tensor) and isinstance(b, Tensor) and np.ndim(a) == 0:
        a = Tensor(np.asarray(a, dtype=b.dtype if b.dtype.kind == "f" else None))
    if not isinstance(b, Tensor) and isinstance(a, Tensor) and np.ndim(b) == 0:
        b = Tensor(np.asarray(b, dtype=a.dtype if a.dtype.kind == "f" else None))
    return as_tensor(a), as_tensor(b)


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
    """`a ** b`; gradients `g b a^(b-1)` and `g a^b log(a)` (the latter only where a > 0)."""
    a, b = _pair(a, b)
    out = a.value ** b.value

    def vjp(g):
        grad_a = unbroadcast(g * b.value * a.value ** (b.value - 1), a.shape) if a.requires_grad else None
        grad_b = None
        if b.requires_grad:
            safe_log = np.log(np.where(a.value > 0, a.value, 1))
            grad_b = unbroadcast(g * out * safe_log, b.shape)
        return grad_a, grad_b

    return Tensor(out, (a, b), vjp)


def matmul(a, b) -> Tensor:
    """`a @ b` (batched over leading axes); gradients `g @ b^T` and `a^T @ g`."""
    a, b = _pair(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul needs arrays of rank >= 1. Received: shapes {a.shape} and {b.shape}")
    out = a.value @ b.value

    def vjp(g):
        av = a.value[None, :] if a.ndim == 1 else a.value
        bv = b.value[:, None] if b.ndim == 1 else b.value
        g2 = g
        if a.ndim == 1:
            g2 = np.expand_dims(g2, -2)
        if b.ndim == 1:
            g2 = np.expand_dims(g2, -1)
        grad_a = unbroadcast(g2 @ swap_last(bv), av.shape).reshape(a.shape) if a.requires_grad else None
        grad_b = unbroadcast(swap_last(av) @ g2, bv.shape).reshape(b.shape) if b.requires_grad else None
        return grad_a, grad_b

    return Tensor(out, (a, b), vjp)


# --- reductions ------------------------------------------------------------------------------
def _normalize_axis(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    return tuple(sorted(int(ax) % ndim for ax in axes)) if ndim else ()


def _expand_reduced(g, shape, axes, keepdims):
    """Re-insert reduced axes into `g` so it broadcasts against the input."""
    if not keepdims:
        for ax in axes:
            g = np.expand_dims(g, ax)
    return g


def sum(x, axis=None, keepdims=False) -> Tensor:  # noqa: A001 - Keras's name
    """Sum over `axis`; gradient `g` broadcast back over the summed axes."""
    x = as_tensor(x)
    axes = _normalize_axis(axis, x.ndim)
    out = np.sum(x.value, axis=axes, keepdims=keepdims)
    return Tensor(out, (x,), lambda g: (np.broadcast_to(_expand_reduced(g, x.shape, axes, keepdims), x.shape),))


def mean(x, axis=None, keepdims=False) -> Tensor:
    """Mean over `axis`; gradient `g / n` broadcast back, n the number of averaged entries."""
    x = as_tensor(x)
    axes = _normalize_axis(axis, x.ndim)
    count = int(np.prod([x.shape[ax] for ax in axes])) if axes else 1
    out = np.mean(x.value, axis=axes, keepdims=keepdims)
    if out.dtype != x.dtype and x.dtype.kind == "f":
        out = out.astype(x.dtype)
    return Tensor(out, (x,),
                  lambda g: (np.broadcast_to(_expand_reduced(g, x.shape, axes, keepdims) / count, x.shape),))


# --- shapes ----------------------------------------------------------------------------------
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


def concatenate(tensors, axis=0) -> Tensor:
    """Join along `axis`; each input's gradient is its slice of `g`."""
    tensors = [as_tensor(t) for t in tensors]
    out = np.concatenate([t.value for t in tensors], axis=axis)
    bounds = np.cumsum([t.shape[axis] for t in tensors])[:-1]
    return Tensor(out, tensors, lambda g: tuple(np.split(g, bounds, axis=axis)))


def getitem(x, index) -> Tensor:
    """`x[index]` (basic and advanced indexing); gradient scattered back, repeats summed."""
    x = as_tensor(x)
    if isinstance(index, Tensor):
        index = index.value
    elif isinstance(index, tuple):
        index = tuple(i.value if isinstance(i, Tensor) else i for i in index)

    def vjp(g):
        grad = np.zeros(x.shape, dtype=g.dtype)
        np.add.at(grad, index, g)
        return (grad,)

    return Tensor(x.value[index], (x,), vjp)


# --- elementwise -----------------------------------------------------------------------------
def exp(x) -> Tensor:
    """`e^x`; gradient `g e^x`."""
    x = as_tensor(x)
    out = np.exp(x.value)
    return Tensor(out, (x,), lambda g: (g * out,))


def log(x) -> Tensor:
    """Natural log; gradient `g / x`."""
    x = as_tensor(x)
    return Tensor(np.log(x.value), (x,), lambda g: (g / x.value,))


def sqrt(x) -> Tensor:
    """`sqrt(x)`; gradient `g / (2 sqrt(x))`."""
    x = as_tensor(x)
    out = np.sqrt(x.value)
    return Tensor(out, (x,), lambda g: (g / (2 * out),))


def square(x) -> Tensor:
    """`x^2`; gradient `2 g x`."""
    x = as_tensor(x)
    return Tensor(np.square(x.value), (x,), lambda g: (2 * g * x.value,))


def maximum(a, b) -> Tensor:
    """Elementwise max; the gradient goes to `a` where `a >= b`, else to `b`."""
    a, b = _pair(a, b)
    pick_a = a.value >= b.value
    return Tensor(np.maximum(a.value, b.value), (a, b),
                  lambda g: (unbroadcast(np.where(pick_a, g, 0), a.shape), unbroadcast(np.where(pick_a, 0, g), b.shape)))


def minimum(a, b) -> Tensor:
    """Elementwise min; the gradient goes to `a` where `a <= b`, else to `b`."""
    a, b = _pair(a, b)
    pick_a = a.value <= b.value
    return Tensor(np.minimum(a.value, b.value), (a, b),
                  lambda g: (unbroadcast(np.where(pick_a, g, 0), a.shape), unbroadcast(np.where(pick_a, 0, g), b.shape)))


def _compare(fn):
    def op(a, b):
        a, b = _pair(a, b)
        return Tensor(fn(a.value, b.value))  # boolean: no gradient
    return op


# --- operator overloads ----------------------------------------------------------------------
Tensor.__add__ = lambda a, b: add(a, b)
Tensor.__radd__ = lambda a, b: add(b, a)
Tensor.__sub__ = lambda a, b: subtract(a, b)
Tensor.__rsub__ = lambda a, b: subtract(b, a)
Tensor.__mul__ = lambda a, b: multiply(a, b)
Tensor.__rmul__ = lambda a, b: multiply(b, a)
Tensor.__truediv__ = lambda a, b: divide(a, b)
Tensor.__rtruediv__ = lambda a, b: divide(b, a)
Tensor.__pow__ = lambda a, b: power(a, b)
Tensor.__rpow__ = lambda a, b: power(b, a)
Tensor.__matmul__ = lambda a, b: matmul(a, b)
Tensor.__rmatmul__ = lambda a, b: matmul(b, a)
Tensor.__neg__ = lambda a: negative(a)
Tensor.__pos__ = lambda a: a
Tensor.__getitem__ = lambda a, index: getitem(a, index)
Tensor.__lt__ = _compare(np.less)
Tensor.__le__ = _compare(np.less_equal)
Tensor.__gt__ = _compare(np.greater)
Tensor.__ge__ = _compare(np.greater_equal)
Tensor.T = property(lambda a: transpose(a))
Tensor.reshape = lambda a, *shape: reshape(a, shape[0] if len(shape) == 1 else shape)
Tensor.sum = lambda a, axis=None, keepdims=False: sum(a, axis, keepdims)
Tensor.mean = lambda a, axis=None, keepdims=False: mean(a, axis, keepdims)
