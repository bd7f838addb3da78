"""Activation functions as forward/backward pairs, and the `ACTIVATIONS` registry.

Each activation is a small object: `forward(x)` remembers what its derivative
needs, `backward(grad)` returns dLoss/dInput given dLoss/dOutput. Derivatives
are the true ones (the blog's relu, sigmoid and softmax derivatives are not):

    relu'(x)     = 1 if x > 0 else 0
    sigmoid'(x)  = s (1 - s)
    tanh'(x)     = 1 - tanh(x)^2
    softmax:     dL/dx = s * (g - sum(g * s, row))   (full Jacobian, per row)

More objects (selu, softsign, relu6, hard_sigmoid, hard_silu, exponential, log_softmax, mish)
live in `activations_modern`. Keras's functions, `activations.relu(x, negative_slope, max_value,
threshold)`, `softmax(x, axis)`, ..., come from `activation_functions` and work on arrays and
tensors. `get()` returns a fresh object for a name and a copy of an object, so no two layers
share the forward values an object caches.
"""

from __future__ import annotations

import copy
import inspect
import math

import numpy as np

from . import activation_functions
from .activation_base import Activation, sigmoid_array, softmax_array
from .activation_functions import (  # noqa: F401
    elu,
    exponential,
    gelu,
    hard_sigmoid,
    hard_silu,
    hard_swish,
    leaky_relu,
    linear,
    log_softmax,
    mish,
    relu,
    relu6,
    selu,
    sigmoid,
    silu,
    softmax,
    softplus,
    softsign,
    swish,
    tanh,
)
from .activations_modern import (
    SELU,
    Exponential,
    FunctionActivation,
    HardSigmoid,
    HardSilu,
    LogSoftmax,
    Mish,
    ReLU6,
    Softsign,
)

_erf = np.frompyfunc(math.erf, 1, 1)  # NumPy has no erf: exact, one Python call per entry
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


class Linear(Activation):
    """`f(x) = x`."""

    name = "linear"


class ReLU(Activation):
    """`f(x) = max(0, x)`; derivative 1 where x > 0, else 0.

    With Keras's arguments: `max_value` for `x >= max_value`, `x` for `threshold <= x < max_value`,
    `negative_slope * (x - threshold)` below `threshold`; the derivative is 0, 1 and `negative_slope`
    on those pieces.
    """

    name = "relu"

    def __init__(self, negative_slope: float = 0.0, max_value: float | None = None, threshold: float = 0.0):
        self.negative_slope, self.max_value, self.threshold = negative_slope, max_value, threshold
        self._plain = negative_slope == 0 and max_value is None and threshold == 0

    def forward(self, x):
        if self.__dict__.get("_plain", True):
            self._mask = x > 0
            return np.maximum(x, 0)
        return self._general(x)

    def forward_in_place(self, x):
        if self.__dict__.get("_plain", True):
            self._mask = x > 0
            return np.maximum(x, 0, out=x)
        return self._general(x)

    def _general(self, x):
        t = x.dtype.type(self.threshold)
        self._below = x < t
        self._mask = ~self._below if self.max_value is None else (~self._below & (x < self.max_value))
        out = np.where(self._below, x.dtype.type(self.negative_slope) * (x - t), x)
        return out if self.max_value is None else np.minimum(out, x.dtype.type(self.max_value))

    def backward(self, grad):
        if self.__dict__.get("_plain", True):
            return grad * self._mask
        return grad * self._mask + grad * (self._below * grad.dtype.type(self.negative_slope))


def is_plain_relu(activation) -> bool:
    """Whether `activation` is `max(x, 0)` itself: a `ReLU` without Keras's slope, ceiling or
    threshold. Layers whose kernels apply the ReLU inside their own pass (Conv2D, Dense split
    over the cores) ask this; any other activation runs on its own."""
    return type(activation) is ReLU and activation.__dict__.get("_plain", True)


class LeakyReLU(Activation):
    """`f(x) = x if x > 0 else alpha * x`. Defaults to alpha=0.2 (Keras's `leaky_relu` function;
    the `LeakyReLU` layer defaults to 0.3). `negative_slope` is Keras 3's name for `alpha`."""

    name = "leaky_relu"

    def __init__(self, alpha: float = 0.2, negative_slope: float | None = None):
        self.alpha = alpha if negative_slope is None else negative_slope

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
        self._out = sigmoid_array(x)
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
    """Softmax along `axis` (the last by default): `exp(x_j - max(x)) / sum_i exp(x_i - max(x))`."""

    name = "softmax"

    def __init__(self, axis: int = -1):
        self.axis = axis

    def forward(self, x):
        self._out = softmax_array(x, self.axis)
        return self._out

    def backward(self, grad):
        s = self._out
        return s * (grad - np.sum(grad * s, axis=self.axis, keepdims=True))


class Softplus(Activation):
    """`f(x) = log(1 + exp(x))`, stable for large |x|; derivative `sigmoid(x)`."""

    name = "softplus"

    def forward(self, x):
        self._x = x
        return np.logaddexp(0, x).astype(x.dtype, copy=False)

    def backward(self, grad):
        return grad * sigmoid_array(self._x)


class Swish(Activation):
    """`f(x) = x * sigmoid(x)` (SiLU); derivative `s + x s (1 - s)`."""

    name = "swish"

    def forward(self, x):
        self._x = x
        self._s = sigmoid_array(x)
        return x * self._s

    def backward(self, grad):
        s = self._s
        return grad * (s + self._x * s * (1 - s))


class GELU(Activation):
    """Gaussian error linear unit, tanh approximation (Keras `approximate=True`, PyTorch `approximate="tanh"`).

    `f(x) = 0.5 x (1 + tanh(u))`, `u = sqrt(2/pi) (x + 0.044715 x^3)`. With `approximate=False`
    the exact `x Phi(x)`, derivative `Phi(x) + x phi(x)`.
    """

    name = "gelu"

    def __init__(self, approximate: bool = True):
        self.approximate = bool(approximate)

    def forward(self, x):
        if not self.__dict__.get("approximate", True):
            self._x = x
            self._cdf = 0.5 * (1 + np.asarray(_erf(x / np.sqrt(2)), dtype=x.dtype))
            return x * self._cdf
        self._x = x
        self._t = np.tanh(x.dtype.type(_SQRT_2_OVER_PI) * (x + x.dtype.type(0.044715) * x**3))
        return 0.5 * x * (1 + self._t)

    def backward(self, grad):
        if not self.__dict__.get("approximate", True):
            x = self._x
            pdf = np.exp(-0.5 * x * x) / x.dtype.type(math.sqrt(2 * math.pi))
            return grad * (self._cdf + x * pdf)
        x, t = self._x, self._t
        du = x.dtype.type(_SQRT_2_OVER_PI) * (1 + 3 * x.dtype.type(0.044715) * x * x)
        return grad * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du)


ACTIVATIONS = {
    "linear": Linear,
    "relu": ReLU,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "softmax": Softmax,
    "leaky_relu": LeakyReLU,
    "elu": ELU,
    "selu": SELU,
    "gelu": GELU,
    "softplus": Softplus,
    "softsign": Softsign,
    "swish": Swish,
    "silu": Swish,
    "relu6": ReLU6,
    "hard_sigmoid": HardSigmoid,
    "hard_silu": HardSilu,
    "hard_swish": HardSilu,
    "exponential": Exponential,
    "log_softmax": LogSoftmax,
    "mish": Mish,
}


def get(identifier) -> Activation:
    """Return a fresh activation object for a name, None (linear), an `Activation`, a function, or
    `{"class_name": ..., "config": {...}}` (`Activation.get_config`'s form for an object with arguments).

    An `Activation` object is copied, so two layers given the same object each cache their own
    forward values. A function of `barenet.activations` (`activation=activations.relu`) gives
    its hand-derived object; any other callable is differentiated by the engine.
    """
    if identifier is None:
        return Linear()
    if isinstance(identifier, Activation):
        return copy.copy(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Activation):
        return identifier()
    if isinstance(identifier, str) and identifier.lower() in ACTIVATIONS:
        return ACTIVATIONS[identifier.lower()]()
    if isinstance(identifier, dict):
        return _from_config(identifier)
    if callable(identifier) and not isinstance(identifier, str):
        name = getattr(identifier, "__name__", None)
        if name in ACTIVATIONS and getattr(activation_functions, name, None) is identifier:
            return ACTIVATIONS[name]()
        return FunctionActivation(identifier)
    raise ValueError(
        f"Unknown activation {identifier!r}. Expected None, a function or one of: {', '.join(ACTIVATIONS)}."
    )


def _from_config(config: dict) -> Activation:
    """The activation object of `Activation.get_config`'s dict form, checked before anything is
    made (it may come from a model file): a class of `ACTIVATIONS` and arguments of its constructor
    that are numbers, booleans or None."""
    classes = {cls.__name__: cls for cls in ACTIVATIONS.values()}
    cls, arguments = classes.get(config.get("class_name")), config.get("config")
    if set(config) != {"class_name", "config"} or cls is None or not isinstance(arguments, dict):
        raise ValueError("An activation given as a dict must be {'class_name': one of "
                         f"{sorted(classes)}, 'config': {{argument: value}}}}. Received: {config!r:.200}")
    allowed = [name for name in inspect.signature(cls.__init__).parameters if name != "self"]
    for key, value in arguments.items():
        if key not in allowed or not (value is None or isinstance(value, (bool, int, float))):
            raise ValueError(f"{cls.__name__}'s arguments are {allowed}, each a number, a boolean or None. "
                             f"Received: {key!r:.80}={value!r:.80}")
    return cls(**arguments)


def serialize(activation):
    """What a config stores for an activation object (Keras's `activations.serialize`): its name, or
    its class and arguments where these are not the defaults (`Activation.get_config`)."""
    return get(activation).get_config()


def deserialize(name) -> Activation:
    """The activation object for a stored name (Keras's `activations.deserialize`)."""
    return get(name)

