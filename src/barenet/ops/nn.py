"""Keras's neural-network ops (activations, softmax family, one_hot) over the engine."""

from __future__ import annotations

from ..autodiff import Tensor
from ..autodiff import ops as engine
from ..autodiff.symbolic import symbolic_op
from .core import _tensor


@symbolic_op
def relu(x) -> Tensor:
    """`max(x, 0)`."""
    return engine.relu(_tensor(x, "relu"))


@symbolic_op
def relu6(x) -> Tensor:
    """`min(max(x, 0), 6)`."""
    return engine.relu6(_tensor(x, "relu6"))


@symbolic_op
def leaky_relu(x, negative_slope=0.2) -> Tensor:
    """`x` for `x > 0`, else `negative_slope * x`."""
    return engine.leaky_relu(_tensor(x, "leaky_relu"), negative_slope)


@symbolic_op
def elu(x, alpha=1.0) -> Tensor:
    """`x` for `x > 0`, else `alpha (e^x - 1)`."""
    return engine.elu(_tensor(x, "elu"), alpha)


@symbolic_op
def gelu(x, approximate=True) -> Tensor:
    """`x Phi(x)`; the tanh approximation by default, the exact erf form with `approximate=False`."""
    return engine.gelu(_tensor(x, "gelu"), approximate)


@symbolic_op
def sigmoid(x) -> Tensor:
    """`1 / (1 + e^-x)`."""
    return engine.sigmoid(_tensor(x, "sigmoid"))


@symbolic_op
def hard_sigmoid(x) -> Tensor:
    """`clip(x / 6 + 1/2, 0, 1)` (Keras 3's definition, torch's hardsigmoid)."""
    return engine.hard_sigmoid(_tensor(x, "hard_sigmoid"))


@symbolic_op
def tanh(x) -> Tensor:
    """Hyperbolic tangent."""
    return engine.tanh(_tensor(x, "tanh"))


@symbolic_op
def softplus(x) -> Tensor:
    """`log(1 + e^x)`, computed without overflow."""
    return engine.softplus(_tensor(x, "softplus"))


@symbolic_op
def silu(x) -> Tensor:
    """`x * sigmoid(x)` (also called swish)."""
    return engine.silu(_tensor(x, "silu"))


swish = silu


@symbolic_op
def softmax(x, axis=-1) -> Tensor:
    """`e^x / sum(e^x)` along `axis`, computed without overflow."""
    return engine.softmax(_tensor(x, "softmax"), axis)


@symbolic_op
def log_softmax(x, axis=-1) -> Tensor:
    """`x - logsumexp(x)` along `axis`."""
    return engine.log_softmax(_tensor(x, "log_softmax"), axis)


@symbolic_op
def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False) -> Tensor:
    """Integer indices `x` as one-hot vectors along a new `axis` (float32 unless `dtype`); no gradient.

    An index outside `[0, num_classes)` gives all zeros.
    """
    if sparse:
        raise ValueError("barenet has no sparse tensors. Received: sparse=True")
    return engine.one_hot(_tensor(x, "one_hot"), num_classes, axis, dtype or "float32")
