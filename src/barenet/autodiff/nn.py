"""Activations, the softmax family and one-hot encoding, each beside its VJP.

Each activation is written in a numerically stable form (no `exp` of a large positive
number) and its derivative reuses the forward's output where that is cheaper. At the
kinks (relu at 0, relu6 at 0 and 6, ...) the derivative takes torch's value.
"""

from __future__ import annotations

import math

import numpy as np

from .elementwise import _erf, _floating
from .reductions import logsumexp
from .tensor import Tensor, as_tensor


def _sigmoid(v: np.ndarray) -> np.ndarray:
    """`1 / (1 + e^-v)` without overflow: `e^-|v|` is at most 1."""
    e = np.exp(-np.abs(v))
    return np.where(v >= 0, 1 / (1 + e), e / (1 + e))


def tanh(x) -> Tensor:
    """`tanh(x)`; gradient `g (1 - tanh(x)^2)`."""
    x = as_tensor(x)
    out = np.tanh(_floating(x))
    return Tensor(out, (x,), lambda g: (g * (1 - out * out),))


def sigmoid(x) -> Tensor:
    """`1 / (1 + e^-x)`; gradient `g s (1 - s)`, s the output."""
    x = as_tensor(x)
    out = _sigmoid(_floating(x))
    return Tensor(out, (x,), lambda g: (g * out * (1 - out),))


def relu(x) -> Tensor:
    """`max(x, 0)`; gradient `g` where `x > 0`."""
    x = as_tensor(x)
    return Tensor(np.maximum(x.value, 0), (x,), lambda g: (np.where(x.value > 0, g, 0),))


def leaky_relu(x, negative_slope=0.2) -> Tensor:
    """`x` if `x > 0` else `negative_slope * x`; gradient `g` or `negative_slope * g` on the same sides."""
    x = as_tensor(x)
    v = _floating(x)
    positive = v > 0
    return Tensor(np.where(positive, v, v * negative_slope), (x,),
                  lambda g: (np.where(positive, g, g * negative_slope),))


def elu(x, alpha=1.0) -> Tensor:
    """`x` if `x > 0` else `alpha (e^x - 1)`; gradient `g` or `g (out + alpha)` = `g alpha e^x`."""
    x = as_tensor(x)
    v = _floating(x)
    positive = v > 0
    out = np.where(positive, v, alpha * np.expm1(np.minimum(v, 0)))
    return Tensor(out, (x,), lambda g: (np.where(positive, g, g * (out + alpha)),))


def relu6(x) -> Tensor:
    """`min(max(x, 0), 6)`; gradient `g` where `0 < x < 6`."""
    x = as_tensor(x)
    v = _floating(x)
    return Tensor(np.clip(v, 0, 6), (x,), lambda g: (np.where((v > 0) & (v < 6), g, 0),))


def hard_sigmoid(x) -> Tensor:
    """`relu6(x + 3) / 6` = `clip(x / 6 + 1/2, 0, 1)` (Keras 3, torch's hardsigmoid); gradient `g / 6` where `-3 < x < 3`."""
    x = as_tensor(x)
    v = _floating(x)
    return Tensor(np.clip(v / 6 + 0.5, 0, 1), (x,), lambda g: (np.where((v > -3) & (v < 3), g / 6, 0),))


def softplus(x) -> Tensor:
    """`log(1 + e^x)`, computed as `max(x, 0) + log1p(e^-|x|)`; gradient `g sigmoid(x)`."""
    x = as_tensor(x)
    v = _floating(x)
    out = np.maximum(v, 0) + np.log1p(np.exp(-np.abs(v)))
    return Tensor(out, (x,), lambda g: (g * _sigmoid(v),))


def silu(x) -> Tensor:
    """`x sigmoid(x)` (swish); gradient `g s (1 + x (1 - s))`, s = sigmoid(x)."""
    x = as_tensor(x)
    v = _floating(x)
    s = _sigmoid(v)
    return Tensor(v * s, (x,), lambda g: (g * s * (1 + v * (1 - s)),))


swish = silu

_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)


def gelu(x, approximate=True) -> Tensor:
    """Gaussian error linear unit `x Phi(x)`, Phi the standard normal CDF.

    `approximate=True` (Keras's default): `x/2 (1 + tanh(u))`, `u = sqrt(2/pi) (x + 0.044715 x^3)`;
    gradient `g (1/2 (1 + t) + x/2 (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2))`, t = tanh(u).
    `approximate=False`: `Phi(x) = (1 + erf(x / sqrt 2)) / 2`; gradient `g (Phi(x) + x phi(x))`,
    phi the normal density `e^(-x^2/2) / sqrt(2 pi)`. The exact form calls `math.erf` per entry
    (slow on large arrays).
    """
    x = as_tensor(x)
    v = _floating(x)
    if approximate:
        t = np.tanh(_SQRT_2_OVER_PI * (v + 0.044715 * v ** 3))
        out = 0.5 * v * (1 + t)
        return Tensor(out, (x,), lambda g: (
            g * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * v * v)),))
    cdf = 0.5 * (1 + np.asarray(_erf(v * (1 / math.sqrt(2))), dtype=v.dtype))
    density = np.exp(-0.5 * v * v) * (1 / math.sqrt(2 * math.pi))
    return Tensor(v * cdf, (x,), lambda g: (g * (cdf + v * density),))


def softmax(x, axis=-1) -> Tensor:
    """`e^(x - max) / sum(e^(x - max))` along `axis`; gradient `y (g - sum(g y))`, y the output."""
    x = as_tensor(x)
    v = _floating(x)
    e = np.exp(v - np.max(v, axis=axis, keepdims=True))
    out = e / np.sum(e, axis=axis, keepdims=True)
    return Tensor(out, (x,), lambda g: (out * (g - np.sum(g * out, axis=axis, keepdims=True)),))


def log_softmax(x, axis=-1) -> Tensor:
    """`x - logsumexp(x)` along `axis`; gradient `g - softmax(x) sum(g)`."""
    x = as_tensor(x)
    v = _floating(x)
    out = v - logsumexp(Tensor(v), axis=axis, keepdims=True).value
    return Tensor(out, (x,), lambda g: (g - np.exp(out) * np.sum(g, axis=axis, keepdims=True),))


def one_hot(indices, num_classes, axis=-1, dtype="float32") -> Tensor:
    """1 at each index along a new axis of length `num_classes`, 0 elsewhere; no gradient.

    An index outside `[0, num_classes)` gives a row of zeros (as Keras and tf.one_hot).
    """
    indices = np.asarray(indices.value if isinstance(indices, Tensor) else indices)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"one_hot expects integer indices. Received: dtype {indices.dtype}")
    out = (indices[..., None] == np.arange(num_classes)).astype(dtype)
    return Tensor(np.moveaxis(out, -1, axis))
