"""Keras's `GlobalMaxPooling2D`: the largest value of each channel over the whole image."""

from __future__ import annotations

import numpy as np

from .. import config
from .base import Layer


class GlobalMaxPooling2D(Layer):
    """Largest value over height and width, per channel:
    `(batch, height, width, channels)` -> `(batch, channels)` (channels_last).

    The gradient goes to the first maximum of each channel (row-major order), as PyTorch's.

    Args:
        data_format: "channels_last" or "channels_first" (`(batch, channels, height, width)`).
            Defaults to `barenet.config.image_data_format()` ("channels_last").
        keepdims: Keep the spatial axes with size 1 (`(batch, 1, 1, channels)`). Defaults to False.
        **kwargs: Base layer arguments (`name`, `input_shape`, ...).
    """

    def __init__(self, data_format: str | None = None, keepdims: bool = False, **kwargs):
        super().__init__(**kwargs)
        data_format = data_format or config.image_data_format()
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError("`data_format` must be 'channels_last' or 'channels_first'. "
                             f"Received: data_format={data_format!r}")
        self.data_format = data_format
        self.keepdims = bool(keepdims)

    @property
    def _spatial(self) -> tuple:
        return (1, 2) if self.data_format == "channels_last" else (2, 3)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(f"Layer {self.name!r} (GlobalMaxPooling2D) expects images of shape (height, width, "
                             f"channels). Received: input_shape={tuple(input_shape)}")
        channels = input_shape[2] if self.data_format == "channels_last" else input_shape[0]
        if not self.keepdims:
            return (channels,)
        return (1, 1, channels) if self.data_format == "channels_last" else (channels, 1, 1)

    def forward(self, x, training=False):
        self._check_input(x)
        if self.data_format == "channels_first":
            x = x.transpose(0, 2, 3, 1)
        n, h, w, c = x.shape
        flat = x.reshape(n, h * w, c)
        self._winner = flat.argmax(axis=1)[:, None, :]
        self._flat_shape = flat.shape
        out = np.take_along_axis(flat, self._winner, axis=1)[:, 0]
        if not self.keepdims:
            return out
        out = out[:, None, None, :]
        return out if self.data_format == "channels_last" else out.transpose(0, 3, 1, 2)

    def backward(self, dL_dy):
        if not self.needs_input_grad:
            return None
        grad = dL_dy.reshape(len(dL_dy), 1, -1)
        grad_flat = np.zeros(self._flat_shape, dL_dy.dtype)
        np.put_along_axis(grad_flat, self._winner, grad, axis=1)
        n, _, c = self._flat_shape
        if self.data_format == "channels_last":
            return grad_flat.reshape(n, *self.input_shape)
        h, w = self.input_shape[1:]
        return grad_flat.reshape(n, h, w, c).transpose(0, 3, 1, 2)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}
