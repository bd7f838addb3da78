"""Layer wrappers: Keras's `TimeDistributed`."""

from __future__ import annotations

import copy

from .. import layers as layers_module
from .base import Layer


class TimeDistributed(Layer):
    """Apply one layer (one set of weights) to every step of a sequence:
    `(batch, steps, *dims)` -> `(batch, steps, *layer_output_dims)`.

    The steps are folded into the batch, so the wrapped layer runs once on
    `(batch * steps, *dims)`; e.g. `TimeDistributed(Dense(10))` is a per-step dense layer.

    Args:
        layer: The layer to apply, not yet built.
        input_shape: `(steps, *dims)`; only needed on a model's first layer.
        name: Layer name. Defaults to one the model assigns.

    `params`, `grads`, `state` and `regularizers` ARE the wrapped layer's dicts, so its
    weights are this layer's, saved and updated under this layer's name.
    """

    def __init__(self, layer: Layer, input_shape=None, name: str | None = None):
        super().__init__(input_shape, name)
        if not isinstance(layer, Layer):
            raise TypeError(f"`layer` must be a barenet Layer. Received: layer={layer!r}")
        if layer.built:
            raise ValueError(f"`layer` must not be built yet (TimeDistributed builds it for one step). "
                             f"Received: layer={layer!r}")
        self.layer = layer
        self.regularizers = layer.regularizers

    def compute_output_shape(self, input_shape):
        if len(input_shape) < 2:
            raise ValueError(f"Layer {self.name!r} (TimeDistributed) expects sequences of shape (steps, ...) "
                             f"with at least one axis per step. Received: input_shape={tuple(input_shape)}")
        return (input_shape[0], *self.layer.compute_output_shape(tuple(input_shape[1:])))

    def _build(self, input_shape, rng):
        if self.layer.name is None:
            self.layer.name = f"{self.name}/{type(self.layer).__name__}"
        self.layer.build(input_shape[1:], rng, self.dtype)
        self.params, self.state = self.layer.params, self.layer.state
        self.layer.grads = self.grads  # one dict: the wrapped layer's backward fills what the model reads

    def forward(self, x, training=False):
        self._check_input(x)
        n, steps = x.shape[:2]
        # A shallow copy per call (sharing params and grads) holds this call's caches, so
        # that they are rebound on `self` (`_call`), not overwritten in the shared layer.
        self._call = copy.copy(self.layer)
        if getattr(self._call, "activation", None) is not None:  # activations cache on themselves too
            self._call.activation = copy.copy(self._call.activation)
        out = self._call.forward(x.reshape(n * steps, *x.shape[2:]), training=training)
        return out.reshape(n, steps, *out.shape[1:])

    def backward(self, grad):
        n, steps = grad.shape[:2]
        self._call.needs_input_grad = self.needs_input_grad
        grad_x = self._call.backward(grad.reshape(n * steps, *grad.shape[2:]))
        return None if grad_x is None else grad_x.reshape(n, steps, *grad_x.shape[1:])

    def get_config(self):
        return {**super().get_config(),
                "layer": {"class_name": type(self.layer).__name__, "config": self.layer.get_config()}}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        spec = config.pop("layer")
        inner = layers_module.LAYERS.get(spec.get("class_name")) if isinstance(spec, dict) else None
        if inner is None:
            raise ValueError(f"TimeDistributed's `layer` must be {{'class_name': ..., 'config': ...}} naming one of: "
                             f"{', '.join(layers_module.LAYERS)}. Received: {spec!r:.80}")
        return cls(inner.from_config(dict(spec["config"])), **config)
