"""Activation layers: Keras's `Activation`, `ReLU`, `LeakyReLU`, `ELU` and `Softmax`.

Each applies one of barenet's hand-derived activation objects to its input, so its
backward is that object's derivative (`barenet.activations`): `dL/dx = f'(x) * dL/dy`
(for softmax, `s * (g - sum(g * s))` along the axis).
"""

from __future__ import annotations

import numbers

from .. import activations
from .base import Layer


def _check_number(name: str, value, minimum: float | None = 0.0, allow_none: bool = False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or (minimum is not None and value < minimum):
        expected = "a number" if minimum is None else f"a number >= {minimum}"
        raise ValueError(f"`{name}` must be {expected}{' or None' if allow_none else ''}. Received: {name}={value!r}")
    return float(value)


class _ActivationLayer(Layer):
    """A layer that is one activation object: shape-preserving, no weights."""

    def _make_activation(self):
        raise NotImplementedError

    def _build(self, input_shape, rng):
        self.activation = self._make_activation()

    def forward(self, x, training=False):
        self._check_input(x)
        return self.activation.forward(x)

    def backward(self, dL_dy):
        return self.activation.backward(dL_dy) if self.needs_input_grad else None

    def backward_preactivation(self, dL_dz):
        """Given dLoss/d(input) directly: the model's fused softmax/sigmoid + cross-entropy gradient."""
        return dL_dz if self.needs_input_grad else None


class Activation(_ActivationLayer):
    """Apply an activation function to the input.

    Args:
        activation: A name from `barenet.activations` ("relu", "softmax", ...), an activation
            object, or a function (e.g. `barenet.activations.relu`).
        **kwargs: Base layer arguments (`name`, `input_shape`, `trainable`, `dtype`).
    """

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def _make_activation(self):
        return self.activation

    def get_config(self):
        return {**super().get_config(), "activation": self.activation.get_config()}


class ReLU(_ActivationLayer):
    """Rectified linear unit with Keras's options:
    `max_value` for `x >= max_value`, `x` for `threshold <= x < max_value`,
    `negative_slope * (x - threshold)` below `threshold`.

    Args:
        max_value: Upper bound of the output (>= 0), or None. Defaults to None.
        negative_slope: Slope below the threshold (>= 0). Defaults to 0.0.
        threshold: Where the slope changes. Defaults to 0.0.
        **kwargs: Base layer arguments.
    """

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        self.max_value = _check_number("max_value", max_value, allow_none=True)
        self.negative_slope = _check_number("negative_slope", negative_slope)
        self.threshold = _check_number("threshold", threshold, minimum=None)

    def _make_activation(self):
        return activations.ReLU(self.negative_slope, self.max_value, self.threshold)

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value, "negative_slope": self.negative_slope,
                "threshold": self.threshold}


class LeakyReLU(_ActivationLayer):
    """`x` for `x > 0`, else `negative_slope * x`.

    Args:
        negative_slope: Slope for negative inputs (>= 0). Defaults to 0.3 (Keras's layer default).
        **kwargs: Base layer arguments.
    """

    def __init__(self, negative_slope=0.3, **kwargs):
        super().__init__(**kwargs)
        self.negative_slope = _check_number("negative_slope", negative_slope)

    def _make_activation(self):
        return activations.LeakyReLU(self.negative_slope)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class ELU(_ActivationLayer):
    """Exponential linear unit: `x` for `x > 0`, else `alpha * (exp(x) - 1)`.

    Args:
        alpha: Scale of the negative part. Defaults to 1.0.
        **kwargs: Base layer arguments.
    """

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = _check_number("alpha", alpha, minimum=None)

    def _make_activation(self):
        return activations.ELU(self.alpha)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class Softmax(_ActivationLayer):
    """Softmax along `axis`.

    Args:
        axis: The axis to normalize (counted with the batch axis, so -1 is the last and 1 the
            first sample axis). Defaults to -1.
        **kwargs: Base layer arguments.
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral) or axis == 0:
            raise ValueError(f"`axis` must be a non-zero integer (axis 0 is the batch). Received: axis={axis!r}")
        self.axis = int(axis)

    def compute_output_shape(self, input_shape):
        rank = len(input_shape) + 1
        if not -rank <= self.axis < rank or self.axis % rank == 0:
            raise ValueError(f"`axis`={self.axis} of layer {self.name!r} is out of range for inputs of shape "
                             f"(batch, *{tuple(input_shape)}).")
        return input_shape

    def _make_activation(self):
        activation = activations.Softmax(self.axis)
        if self.axis != -1:  # not the last-axis softmax a cross-entropy loss may fuse with
            activation.name = f"softmax_axis_{self.axis}"
        return activation

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
