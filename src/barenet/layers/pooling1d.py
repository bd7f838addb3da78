"""1-D pooling over channels-last sequences `(batch, steps, channels)`: Keras's
`MaxPooling1D`, `AveragePooling1D`, `GlobalAveragePooling1D`, `GlobalMaxPooling1D`.

Windowed pooling is the 2-D pooling of `layers.pooling` on a one-row image
`(batch, 1, steps, channels)` (a view): the same running max, first-maximum gradient
and padding rules.
"""

from __future__ import annotations

import copy

import numpy as np

from ..autodiff.symbolic import call_symbolic, contains_symbolic
from .base import Layer
from .windows import check_padding
from .conv1d import single, steps_output_size
from .pooling import _Pooling2D


class _Pooling1D(Layer):
    """Shared implementation: a `_Pooling2D` over a one-row image."""

    def __init__(self, pool_size=2, strides=None, padding: str = "valid", kind: str = "max", input_shape=None,
                 name: str | None = None):
        super().__init__(input_shape, name)
        self.pool_size = single(pool_size, "pool_size")
        self.strides = self.pool_size if strides is None else single(strides, "strides")
        self.padding = check_padding(padding)
        self._kind = kind

    def compute_output_shape(self, input_shape):
        out, _ = steps_output_size(self, input_shape, self.pool_size, self.strides, 1, self.padding, "pool_size")
        return (out, input_shape[1])

    def _build(self, input_shape, rng):
        self._pool = _Pooling2D((1, self.pool_size), (1, self.strides), self.padding, self._kind, name=self.name)
        self._pool.build((1, *input_shape), rng, self.dtype)

    def forward(self, x, training=False):
        self._check_input(x)
        # A fresh shallow copy per call holds this call's caches, so that they are rebound
        # on `self` (`_call`) rather than overwritten inside a shared inner layer.
        self._call = copy.copy(self._pool)
        return self._call.forward(x[:, None], training)[:, 0]

    def backward(self, grad):
        if not self.needs_input_grad:
            return None
        return self._call.backward(grad[:, None])[:, 0]

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "strides": self.strides,
                "padding": self.padding}


class MaxPooling1D(_Pooling1D):
    """Largest value in each window of steps, per channel.

    Args:
        pool_size: Window length. Defaults to 2.
        strides: Step between windows. Defaults to `pool_size`.
        padding: "valid" or "same" (output `ceil(steps / strides)`, padding never
            selected). Defaults to "valid".
        input_shape: `(steps, channels)`; only needed on a model's first layer.
        name: Layer name. Defaults to one the model assigns.

    The gradient goes to the first maximum of each window (as PyTorch).
    """

    def __init__(self, pool_size=2, strides=None, padding: str = "valid", input_shape=None, name: str | None = None):
        super().__init__(pool_size, strides, padding, "max", input_shape, name)


class AveragePooling1D(_Pooling1D):
    """Mean of each window of steps, per channel; with "same" the padding is not counted (as Keras).

    Args: as `MaxPooling1D`.
    """

    def __init__(self, pool_size=2, strides=None, padding: str = "valid", input_shape=None, name: str | None = None):
        super().__init__(pool_size, strides, padding, "average", input_shape, name)


class _GlobalPooling1D(Layer):
    """Shared arguments of the global poolings: `keepdims` keeps the steps axis with length 1."""

    def __init__(self, keepdims: bool = False, input_shape=None, name: str | None = None):
        super().__init__(input_shape, name)
        self.keepdims = bool(keepdims)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(f"Layer {self.name!r} ({type(self).__name__}) expects sequences of shape "
                             f"(steps, channels). Received: input_shape={tuple(input_shape)}")
        return (1, input_shape[1]) if self.keepdims else (input_shape[1],)

    def get_config(self):
        return {**super().get_config(), "keepdims": self.keepdims}


class GlobalAveragePooling1D(_GlobalPooling1D):
    """Mean over the steps: `(batch, steps, channels)` -> `(batch, channels)`.

    Args:
        keepdims: Return `(batch, 1, channels)` instead. Defaults to False.
        input_shape: `(steps, channels)`; only needed on a model's first layer.
        name: Layer name. Defaults to one the model assigns.

    Call with `mask=` (boolean `(batch, steps)`, or propagated from an `Embedding(mask_zero=True)`)
    to average over the unmasked steps only, as Keras does.
    """

    def __call__(self, inputs=None, mask=None, **kwargs):
        if mask is None and not contains_symbolic(inputs):
            mask = getattr(inputs, "_keras_mask", None)  # a real tensor's mask (see layers.masking)
        if mask is None:
            return super().__call__(inputs, **kwargs)
        from .masking_flow import build_for, mask_input

        build_for(self, inputs)
        if contains_symbolic(inputs) or contains_symbolic(mask):  # one node, the mask a recorded argument
            return call_symbolic(self, (inputs,), {**kwargs, "mask": mask})
        return super().__call__([inputs, mask_input(mask)], **kwargs)

    def forward(self, x, training=False):
        x, mask = (x[0], x[1]) if isinstance(x, list) else (x, None)
        self._check_input(x)
        self._x_shape = x.shape
        self._weights = None
        if mask is None:
            return x.mean(axis=1, keepdims=self.keepdims)
        if mask.shape != x.shape[:2]:
            raise ValueError(f"Layer {self.name!r} (GlobalAveragePooling1D): `mask` must have shape (batch, steps) = "
                             f"{x.shape[:2]}. Received: shape {mask.shape}")
        kept = mask.astype(x.dtype)[:, :, None]
        self._weights = kept / np.maximum(kept.sum(axis=1, keepdims=True), 1)  # a fully masked row averages to 0
        out = (x * self._weights).sum(axis=1, keepdims=True)
        return out if self.keepdims else out[:, 0]

    def backward(self, grad):
        if not self.needs_input_grad:
            return None if self._weights is None else [None, None]
        grad = grad.reshape(len(grad), 1, -1)
        if self._weights is not None:
            return [grad * self._weights, None]
        return np.ascontiguousarray(np.broadcast_to(grad / self._x_shape[1], self._x_shape))


class GlobalMaxPooling1D(_GlobalPooling1D):
    """Largest value over the steps, per channel: `(batch, steps, channels)` -> `(batch, channels)`.

    Args: as `GlobalAveragePooling1D`. The gradient goes to the first maximum (as PyTorch).
    """

    def forward(self, x, training=False):
        self._check_input(x)
        self._x_shape = x.shape
        self._winner = x.argmax(axis=1)[:, None, :]
        out = np.take_along_axis(x, self._winner, axis=1)
        return out if self.keepdims else out[:, 0]

    def backward(self, grad):
        if not self.needs_input_grad:
            return None
        grad_x = np.zeros(self._x_shape, grad.dtype)
        np.put_along_axis(grad_x, self._winner, grad.reshape(len(grad), 1, -1), axis=1)
        return grad_x
