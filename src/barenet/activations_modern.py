"""More hand-derived activation objects (Keras 3's list beyond the classic ones), and
`FunctionActivation`, any function written with `barenet.ops` used as an activation.

    selu'(x)         = scale for x > 0, else f(x) + scale * alpha
    softsign'(x)     = 1 / (1 + |x|)^2
    relu6'(x)        = 1 for 0 < x < 6
    hard_sigmoid'(x) = 1/6 for -3 < x < 3
    hard_silu'(x)    = hard_sigmoid(x) + x / 6 for -3 < x < 3
    exponential'(x)  = exp(x)
    log_softmax:     dL/dx = g - softmax(x) * sum(g)
    mish'(x)         = t + x sigmoid(x) (1 - t^2), t = tanh(softplus(x))
"""

from __future__ import annotations

import numpy as np

from .activation_base import Activation, sigmoid_array


class SELU(Activation):
    """`scale * elu(x, alpha)` with Klambauer et al.'s constants; derivative `scale` for x > 0,
    else `f(x) + scale * alpha`."""

    name = "selu"
    alpha, scale = 1.6732632423543772, 1.0507009873554805

    def forward(self, x):
        self._mask = x > 0
        self._out = x.dtype.type(self.scale) * np.where(self._mask, x, self.alpha * np.expm1(np.minimum(x, 0)))
        return self._out.astype(x.dtype, copy=False)

    def backward(self, grad):
        return np.where(self._mask, grad * grad.dtype.type(self.scale),
                        grad * (self._out + grad.dtype.type(self.scale * self.alpha)))


class Softsign(Activation):
    """`x / (1 + |x|)`; derivative `1 / (1 + |x|)^2`."""

    name = "softsign"

    def forward(self, x):
        self._d = 1 + np.abs(x)
        return x / self._d

    def backward(self, grad):
        return grad / (self._d * self._d)


class ReLU6(Activation):
    """`min(max(x, 0), 6)`; derivative 1 for 0 < x < 6."""

    name = "relu6"

    def forward(self, x):
        self._mask = (x > 0) & (x < 6)
        return np.clip(x, 0, 6)

    def backward(self, grad):
        return grad * self._mask


class HardSigmoid(Activation):
    """`clip(x / 6 + 1/2, 0, 1)` (Keras 3); derivative 1/6 for -3 < x < 3."""

    name = "hard_sigmoid"

    def forward(self, x):
        self._mask = (x > -3) & (x < 3)
        return np.clip(x / x.dtype.type(6) + x.dtype.type(0.5), 0, 1)

    def backward(self, grad):
        return grad * self._mask / grad.dtype.type(6)


class HardSilu(Activation):
    """`x * hard_sigmoid(x)` (hard swish); derivative `hard_sigmoid(x) + x / 6` for -3 < x < 3."""

    name = "hard_silu"

    def forward(self, x):
        self._x = x
        self._mask = (x > -3) & (x < 3)
        self._h = np.clip(x / x.dtype.type(6) + x.dtype.type(0.5), 0, 1)
        return x * self._h

    def backward(self, grad):
        return grad * (self._h + self._mask * self._x / grad.dtype.type(6))


class Exponential(Activation):
    """`exp(x)`; derivative `exp(x)`."""

    name = "exponential"

    def forward(self, x):
        self._out = np.exp(x)
        return self._out

    def backward(self, grad):
        return grad * self._out


class LogSoftmax(Activation):
    """`x - logsumexp(x)` along `axis`; dL/dx = `g - softmax(x) * sum(g)`."""

    name = "log_softmax"

    def __init__(self, axis: int = -1):
        self.axis = axis

    def forward(self, x):
        shifted = x - x.max(axis=self.axis, keepdims=True)
        self._out = shifted - np.log(np.exp(shifted).sum(axis=self.axis, keepdims=True))
        return self._out

    def backward(self, grad):
        return grad - np.exp(self._out) * grad.sum(axis=self.axis, keepdims=True)


class Mish(Activation):
    """`x * tanh(softplus(x))`; derivative `t + x * sigmoid(x) * (1 - t^2)`, `t = tanh(softplus(x))`."""

    name = "mish"

    def forward(self, x):
        self._x = x
        self._t = np.tanh(np.logaddexp(0, x)).astype(x.dtype, copy=False)
        return x * self._t

    def backward(self, grad):
        x, t = self._x, self._t
        return grad * (t + x * sigmoid_array(x) * (1 - t * t))


class FunctionActivation(Activation):
    """Any function of a tensor written with `barenet.ops` (e.g. `activation=lambda x: ops.relu(x) ** 2`),
    differentiated by the engine: `forward` records the function's graph, `backward` runs it."""

    def __init__(self, function):
        self.function = function
        self.name = getattr(function, "__name__", "function")

    def get_config(self) -> str:
        return self.name  # a function is stored by its name

    def forward(self, x):
        from .autodiff import Tensor, grad_enabled

        self._in = Tensor(x, requires_grad=grad_enabled())
        self._out = self.function(self._in)
        if not isinstance(self._out, Tensor):
            self._out = Tensor(np.asarray(self._out))
        return self._out.value.astype(x.dtype, copy=False)

    def backward(self, grad):
        from .autodiff import tensor as engine

        self._in.grad = None
        passes = engine._backward_passes  # a pass inside a layer's backward is not a new model pass
        try:
            engine.backward([self._out], [grad])
        finally:
            engine._backward_passes = passes
        return np.zeros_like(grad) if self._in.grad is None else self._in.grad.astype(grad.dtype, copy=False)
