"""Keras's activation functions: `barenet.activations.relu(x)`, `softmax(x, axis)`, ...

Names, arguments and defaults follow `keras.activations`. Each works on a NumPy array
(returning an array, as Keras's NumPy backend does), on an engine `Tensor` (the engine
differentiates it, so it can be used inside a custom layer, model or loss) and on a
symbolic tensor of a functional model (it records graph nodes). They are written with
`barenet.ops`; the activation objects layers use (`barenet.activations.ReLU`, ...) keep
their hand-derived derivatives.
"""

from __future__ import annotations

from . import ops
from .autodiff import Tensor, no_grad
from .autodiff.symbolic import KerasTensor

SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805


def _apply(x, function):
    """`function(x)` with ops; arrays in, an array out (no graph recorded)."""
    if isinstance(x, (Tensor, KerasTensor)):
        return function(x)
    with no_grad():
        return ops.convert_to_numpy(function(x))


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Rectified linear unit with Keras's options.

    `max_value` where `x >= max_value`, `x` where `threshold <= x < max_value`, and
    `negative_slope * (x - threshold)` below `threshold`.

    Args:
        x: Input array or tensor.
        negative_slope: Slope below the threshold. Defaults to 0.0.
        max_value: Upper saturation value, or None. Defaults to None.
        threshold: Where the slope changes. Defaults to 0.0.
    """
    if negative_slope == 0 and max_value is None and threshold == 0:
        return _apply(x, ops.relu)

    def general(v):
        out = ops.where(ops.greater_equal(v, threshold), v, ops.multiply(ops.subtract(v, threshold), negative_slope))
        return out if max_value is None else ops.minimum(out, max_value)
    return _apply(x, general)


def leaky_relu(x, negative_slope=0.2):
    """`x` for `x > 0`, else `negative_slope * x`. Defaults to negative_slope=0.2."""
    return _apply(x, lambda v: ops.leaky_relu(v, negative_slope))


def relu6(x):
    """`min(max(x, 0), 6)`."""
    return _apply(x, ops.relu6)


def elu(x, alpha=1.0):
    """`x` for `x > 0`, else `alpha * (exp(x) - 1)`. Defaults to alpha=1.0."""
    return _apply(x, lambda v: ops.elu(v, alpha))


def selu(x):
    """`scale * elu(x, alpha)` with `alpha = 1.67326...`, `scale = 1.05070...` (Klambauer et al., 2017)."""
    return _apply(x, lambda v: ops.multiply(ops.elu(v, SELU_ALPHA), SELU_SCALE))


def softplus(x):
    """`log(1 + exp(x))`, without overflow."""
    return _apply(x, ops.softplus)


def softsign(x):
    """`x / (1 + |x|)`."""
    return _apply(x, lambda v: ops.divide(v, ops.add(ops.abs(v), 1.0)))


def silu(x):
    """`x * sigmoid(x)` (swish)."""
    return _apply(x, ops.silu)


swish = silu


def gelu(x, approximate=False):
    """Gaussian error linear unit `x * Phi(x)`; the tanh approximation when `approximate=True`.

    Defaults to approximate=False, as `keras.activations.gelu` (note that `keras.ops.gelu`
    and the layer activation name "gelu" in barenet default to the approximation).
    """
    return _apply(x, lambda v: ops.gelu(v, approximate))


def tanh(x):
    """Hyperbolic tangent."""
    return _apply(x, ops.tanh)


def sigmoid(x):
    """`1 / (1 + exp(-x))`, without overflow."""
    return _apply(x, ops.sigmoid)


def exponential(x):
    """`exp(x)`."""
    return _apply(x, ops.exp)


def hard_sigmoid(x):
    """`clip(x / 6 + 1/2, 0, 1)` (Keras 3's definition)."""
    return _apply(x, ops.hard_sigmoid)


def hard_silu(x):
    """`x * hard_sigmoid(x)` (hard swish)."""
    return _apply(x, lambda v: ops.multiply(v, ops.hard_sigmoid(v)))


hard_swish = hard_silu


def linear(x):
    """The identity (an array in, the same values out)."""
    return x


def softmax(x, axis=-1):
    """`exp(x) / sum(exp(x))` along `axis`. Defaults to the last axis."""
    return _apply(x, lambda v: ops.softmax(v, axis))


def log_softmax(x, axis=-1):
    """`x - logsumexp(x)` along `axis`. Defaults to the last axis."""
    return _apply(x, lambda v: ops.log_softmax(v, axis))


def mish(x):
    """`x * tanh(softplus(x))` (Misra, 2019)."""
    return _apply(x, lambda v: ops.multiply(v, ops.tanh(ops.softplus(v))))
