"""`KernelLayer`: what Dense and the convolutions share (activation, bias, initializers,
regularizers, the blog's `weights`/`biases` attributes)."""

from __future__ import annotations

import numpy as np

from .. import activations, initializers, regularizers
from .base import Layer


class KernelLayer(Layer):
    """A layer computing `activation(x * weights + biases)` for some product `*` (Dense, Conv2D).

    Holds what such layers share: the activation, whether there is a bias, the
    initializers and the weight penalties, their config entries, and the blog's
    `weights` / `biases` attributes (the `params` arrays, assigned with a shape check).
    """

    def __init__(self, activation=None, use_bias: bool = True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, input_shape=None,
                 name: str | None = None, **kwargs):
        super().__init__(input_shape, name, **kwargs)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self._kernel_initializer_name = _initializer_config(kernel_initializer)
        self._bias_initializer_name = _initializer_config(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        if self.kernel_regularizer is not None:
            self.regularizers["weights"] = self.kernel_regularizer
        if self.bias_regularizer is not None and self.use_bias:
            self.regularizers["biases"] = self.bias_regularizer

    # The blog's attribute names, the same arrays as `params`.
    @property
    def isbias(self) -> bool:
        return self.use_bias

    @property
    def weights(self) -> np.ndarray | None:
        return self.params.get("weights")

    @weights.setter
    def weights(self, value):
        self._assign("weights", value)

    @property
    def biases(self) -> np.ndarray | None:
        return self.params.get("biases")

    @biases.setter
    def biases(self, value):
        self._assign("biases", value)

    def _assign(self, key: str, value, argument: str | None = None) -> None:
        """Copy `value` into `params[key]` after checking its shape; errors name `argument` (default `key`)."""
        if key not in self.params:
            raise ValueError(f"Layer {self.name!r} has no {key!r} yet: build it (add it to a model with a known input) first.")
        value = np.asarray(value)
        if value.shape != self.params[key].shape:
            raise ValueError(f"`{argument or key}` of layer {self.name!r} must have shape {self.params[key].shape}. "
                             f"Received: shape {value.shape}")
        self.params[key][...] = value

    def kernel_config(self) -> dict:
        """The config entries of the arguments above (`use_bias` included)."""
        return {
            "activation": self.activation.get_config(),
            "use_bias": self.use_bias,
            "kernel_initializer": self._kernel_initializer_name or "glorot_uniform",
            "bias_initializer": self._bias_initializer_name or "zeros",
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
        }


def _initializer_config(initializer):
    """What a config stores for an initializer argument: its name, an `Initializer`'s config dict, or None."""
    if isinstance(initializer, (str, dict)):
        return initializer
    if isinstance(initializer, initializers.Initializer):
        return initializers.serialize(initializer)
    return None
