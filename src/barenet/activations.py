"""Activation functions as forward/backward pairs, and the `ACTIVATIONS` registry.

Each activation is a small object: `forward(x)` remembers what its derivative
needs, `backward(grad)` returns dLoss/dInput given dLoss/dOutput. Derivatives
are the true ones (the blog's relu, sigmoid and softmax derivatives are not):

    relu'(x)     = 1 if x > 0 else 0
    sigmoid'(x)  = s (1 - s)
    tanh'(x)     = 1 - tanh(x)^2
    softmax:     dL/dx = s * (g - sum(g * s, row))   (full Jacobian, per row)
"""

from __future__ import annotations

import math

import numpy as np

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


class Activation:
    """Base class: identity. Subclasses override `forward` and `backward`."""

    name = "linear"

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x

    def forward_in_place(self, x: np.ndarray) -> np.ndarray:
        """`forward(x)`, free to overwrite `x` and return it.

        Layers call this on their own freshly computed pre-activations, which nothing else
        holds, to save allocating a second array of the same size (ReLU does so).
        """
        return self.forward(x)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return grad

    def get_config(self) -> str:
        return self.name

    def __eq__(self, other):
        # The blog's code compares names (`layer.activation == "softmax"`); objects keep identity.
        if isinstance(other, str):
            return other == self.name
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.name)  # equal to its name, so it must hash like it

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Linear(Activation):
    """`f(x) = x`."""

    name = "linear"


class ReLU(Activation):
    """`f(x) = max(0, x)`; derivative 1 where x > 0, else 0."""

    name = "relu"

    def forward(self, x):
        self._mask = x > 0
        return np.maximum(x, 0)

    def forward_in_place(self, x):
        self._mask = x > 0
        return np.maximum(x, 0, out=x)

    def backward(self, grad):
        return grad * self._mask


class LeakyReLU(Activation):
    """`f(x) = x if x > 0 else alpha * x`. Defaults to alpha=0.2 (Keras)."""

    name = "leaky_relu"

    def __init__(self, alpha: float = 0.2):
        self.alpha = alpha

    def forward(self, x):
        self._mask = x > 0
        return np.where(self._mask, x, x * x.dtype.type(self.alpha))

    def backward(self, grad):
        return np.where(self._mask, grad, grad * grad.dtype.type(self.alpha))


class ELU(Activation):
    """`f(x) = x if x > 0 else alpha * (exp(x) - 1)`; derivative `f(x) + alpha` for x <= 0."""

    name = "elu"

    def __init__(self, alpha: float = 1.0):
        self.alpha = alpha

    def forward(self, x):
        self._mask = x > 0
        alpha = x.dtype.type(self.alpha)
        self._out = np.where(self._mask, x, alpha * np.expm1(np.minimum(x, 0)))
        return self._out

    def backward(self, grad):
        return np.where(self._mask, grad, grad * (self._out + grad.dtype.type(self.alpha)))


class Sigmoid(Activation):
    """`s(x) = 1 / (1 + exp(-x))`, computed without overflow; derivative `s (1 - s)`."""

    name = "sigmoid"

    def forward(self, x):
        self._out = sigmoid(x)
        return self._out

    def backward(self, grad):
        s = self._out
        return grad * s * (1 - s)


class Tanh(Activation):
    """`tanh(x)`; derivative `1 - tanh(x)^2`."""

    name = "tanh"

    def forward(self, x):
        self._out = np.tanh(x)
        return self._out

    def backward(self, grad):
        return grad * (1 - self._out * self._out)


class Softmax(Activation):
    """Row-wise softmax over the last axis: `exp(x_j - max(x)) / sum_i exp(x_i - max(x))`."""

    name = "softmax"

    def forward(self, x):
        self._out = softmax(x)
        return self._out

    def backward(self, grad):
        s = self._out
        return s * (grad - np.sum(grad * s, axis=-1, keepdims=True))


class Softplus(Activation):
    """`f(x) = log(1 + exp(x))`, stable for large |x|; derivative `sigmoid(x)`."""

    name = "softplus"

    def forward(self, x):
        self._x = x
        return np.logaddexp(0, x).astype(x.dtype, copy=False)

    def backward(self, grad):
        return grad * sigmoid(self._x)


class Swish(Activation):
    """`f(x) = x * sigmoid(x)` (SiLU); derivative `s + x s (1 - s)`."""

    name = "swish"

    def forward(self, x):
        self._x = x
        self._s = sigmoid(x)
        return x * self._s

    def backward(self, grad):
        s = self._s
        return grad * (s + self._x * s * (1 - s))


class GELU(Activation):
    """Gaussian error linear unit, tanh approximation (Keras `approximate=True`, PyTorch `approximate="tanh"`).

    `f(x) = 0.5 x (1 + tanh(u))`, `u = sqrt(2/pi) (x + 0.044715 x^3)`.
    """

    name = "gelu"

    def forward(self, x):
        self._x = x
        self._t = np.tanh(x.dtype.type(_SQRT_2_OVER_PI) * (x + x.dtype.type(0.044715) * x**3))
        return 0.5 * x * (1 + self._t)

    def backward(self, grad):
        x, t = self._x, self._t
        du = x.dtype.type(_SQRT_2_OVER_PI) * (1 + 3 * x.dtype.type(0.044715) * x * x)
        return grad * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Numerically stable logistic function (no overflow warning for large |x|)."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def softmax(x: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, shifted by the row maximum for stability."""
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    e /= e.sum(axis=-1, keepdims=True)
    return e


ACTIVATIONS = {
    "linear": Linear,
    "relu": ReLU,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "softmax": Softmax,
    "leaky_relu": LeakyReLU,
    "elu": ELU,
    "gelu": GELU,
    "softplus": Softplus,
    "swish": Swish,
}


def get(identifier: str | Activation | None) -> Activation:
    """Return a fresh activation object for a name, None (linear) or an `Activation`."""
    if identifier is None:
        return Linear()
    if isinstance(identifier, Activation):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in ACTIVATIONS:
        return ACTIVATIONS[identifier.lower()]()
    raise ValueError(
        f"Unknown activation {identifier!r}. Expected None or one of: {', '.join(ACTIVATIONS)}."
    )
