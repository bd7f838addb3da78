"""Resizing sequences and images without weights: Keras's `UpSampling1D/2D`,
`ZeroPadding1D/2D` and `Cropping1D/2D` (channels-last)."""

from __future__ import annotations

import numbers

import numpy as np

from .base import Layer
from .windows import pair
from .conv1d import single


def _is_count(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 0


def _two_sides(value, name: str) -> tuple[int, int]:
    """A non-negative int (both sides) or a pair `(before, after)`, or a ValueError naming `name`."""
    items = (value, value) if _is_count(value) else value
    try:
        items = tuple(items)
    except TypeError:
        items = ()
    if len(items) != 2 or not all(_is_count(v) for v in items):
        raise ValueError(f"`{name}` must be a non-negative integer or a pair of them. Received: {name}={value!r}")
    return int(items[0]), int(items[1])


def _four_sides(value, name: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """An int, a pair `(rows, cols)` (each on both sides) or `((top, bottom), (left, right))`."""
    if _is_count(value):
        return (int(value), int(value)), (int(value), int(value))
    try:
        items = tuple(value)
    except TypeError:
        items = ()
    if len(items) == 2 and all(_is_count(v) for v in items):
        return (int(items[0]),) * 2, (int(items[1]),) * 2
    if len(items) == 2:
        try:
            return _two_sides(items[0], name), _two_sides(items[1], name)
        except ValueError:
            pass
    raise ValueError(f"`{name}` must be a non-negative integer, a pair of them, or a pair of pairs "
                     f"((top, bottom), (left, right)). Received: {name}={value!r}")


def _check_rank(layer: Layer, input_shape, rank: int) -> None:
    if len(input_shape) != rank:
        expected = "sequences of shape (steps, channels)" if rank == 2 else "images of shape (height, width, channels)"
        raise ValueError(f"Layer {layer.name!r} ({type(layer).__name__}) expects {expected}. "
                         f"Received: input_shape={tuple(input_shape)}")


class UpSampling1D(Layer):
    """Repeat each step `size` times: `(batch, steps, c)` -> `(batch, steps * size, c)`.

    Args:
        size: Repetitions. Defaults to 2.
        input_shape: `(steps, channels)`; only needed on a model's first layer.
        name: Layer name. Defaults to one the model assigns.
    """

    def __init__(self, size=2, input_shape=None, name: str | None = None):
        super().__init__(input_shape, name)
        self.size = single(size, "size")

    def compute_output_shape(self, input_shape):
        _check_rank(self, input_shape, 2)
        return (input_shape[0] * self.size, input_shape[1])

    def forward(self, x, training=False):
        self._check_input(x)
        return np.repeat(x, self.size, axis=1)

    def backward(self, grad):
        if not self.needs_input_grad:
            return None
        n, steps, c = len(grad), *self.input_shape
        return grad.reshape(n, steps, self.size, c).sum(axis=2)

    def get_config(self):
        return {**super().get_config(), "size": self.size}


class UpSampling2D(Layer):
    """Repeat each pixel: `(batch, h, w, c)` -> `(batch, h * size[0], w * size[1], c)`.

    Args:
        size: Row and column factors, an int or a pair. Defaults to (2, 2).
        interpolation: Only "nearest" (pixel repetition) is implemented. Defaults to "nearest".
        input_shape: `(height, width, channels)`; only needed on a model's first layer.
        name: Layer name. Defaults to one the model assigns.
    """

    def __init__(self, size=(2, 2), interpolation: str = "nearest", input_shape=None, name: str | None = None):
        super().__init__(input_shape, name)
        self.size = pair(size, "size")
        if interpolation != "nearest":
            raise ValueError(f"`interpolation` must be 'nearest' (the only one implemented). "
                             f"Received: interpolation={interpolation!r}")
        self.interpolation = interpolation

    def compute_output_shape(self, input_shape):
        _check_rank(self, input_shape, 3)
        return (input_shape[0] * self.size[0], input_shape[1] * self.size[1], input_shape[2])

    def forward(self, x, training=False):
        self._check_input(x)
        n, h, w, c = x.shape
        (sh, sw) = self.size
        return np.broadcast_to(x[:, :, None, :, None, :], (n, h, sh, w, sw, c)).reshape(n, h * sh, w * sw, c)

    def backward(self, grad):
        if not self.needs_input_grad:
            return None
        (h, w, c), (sh, sw) = self.input_shape, self.size
        return grad.reshape(len(grad), h, sh, w, sw, c).sum(axis=(2, 4))

    def get_config(self):
        return {**super().get_config(), "size": list(self.size), "interpolation": self.interpolation}


class Upsample(UpSampling2D):
    """The blog's upsampling layer (the CNN post's bonus): `UpSampling2D` under the post's names.

    Args:
        kernel_size: Row and column repetition factors, an int or a pair (the post's
            "expansion rate"). Defaults to (2, 2).
        input_shape: `(height, width, channels)`; only needed on a model's first layer.
        name: Layer name. Defaults to one the model assigns.

    Each pixel becomes a `kernel_size` block of copies; `stride` is `kernel_size`, as in the post.
    """

    def __init__(self, kernel_size=(2, 2), input_shape=None, name: str | None = None):
        super().__init__(size=kernel_size, input_shape=input_shape, name=name)

    @property
    def kernel_size(self) -> tuple[int, int]:
        return self.size

    @property
    def stride(self) -> tuple[int, int]:
        return self.size

    def get_config(self):
        config = super().get_config()
        return {"name": config["name"], "input_shape": config["input_shape"], "kernel_size": config["size"]}


class ZeroPadding1D(Layer):
    """Add zero steps at the start and end: `(batch, steps, c)` -> `(batch, before + steps + after, c)`.

    Args:
        padding: An int (both ends) or a pair `(before, after)`. Defaults to 1.
        input_shape: `(steps, channels)`; only needed on a model's first layer.
        name: Layer name. Defaults to one the model assigns.
    """

    def __init__(self, padding=1, input_shape=None, name: str | None = None):
        super().__init__(input_shape, name)
        self.padding = _two_sides(padding, "padding")

    def compute_output_shape(self, input_shape):
        _check_rank(self, input_shape, 2)
        return (input_shape[0] + sum(self.padding), input_shape[1])

    def forward(self, x, training=False):
        self._check_input(x)
        return np.pad(x, ((0, 0), self.padding, (0, 0)))

    def backward(self, grad):
        if not self.needs_input_grad:
            return None
        before, after = self.padding
        return grad[:, before:grad.shape[1] - after]

    def get_config(self):
        return {**super().get_config(), "padding": list(self.padding)}


class ZeroPadding2D(Layer):
    """Add rows and columns of zeros around images.

    Args:
        padding: An int (every side), a pair `(rows, cols)` (each on both sides), or
            `((top, bottom), (left, right))`. Defaults to (1, 1).
        input_shape: `(height, width, channels)`; only needed on a model's first layer.
        name: Layer name. Defaults to one the model assigns.
    """

    def __init__(self, padding=(1, 1), input_shape=None, name: str | None = None):
        super().__init__(input_shape, name)
        self.padding = _four_sides(padding, "padding")

    def compute_output_shape(self, input_shape):
        _check_rank(self, input_shape, 3)
        (top, bottom), (left, right) = self.padding
        return (input_shape[0] + top + bottom, input_shape[1] + left + right, input_shape[2])

    def forward(self, x, training=False):
        self._check_input(x)
        return np.pad(x, ((0, 0), *self.padding, (0, 0)))

    def backward(self, grad):
        if not self.needs_input_grad:
            return None
        (top, bottom), (left, right) = self.padding
        return grad[:, top:grad.shape[1] - bottom, left:grad.shape[2] - right]

    def get_config(self):
        return {**super().get_config(), "padding": [list(side) for side in self.padding]}


class Cropping1D(Layer):
    """Remove steps at the start and end: `(batch, steps, c)` -> `(batch, steps - before - after, c)`.

    Args:
        cropping: An int (both ends) or a pair `(before, after)`. Defaults to (1, 1).
        input_shape: `(steps, channels)`; only needed on a model's first layer.
        name: Layer name. Defaults to one the model assigns.
    """

    def __init__(self, cropping=(1, 1), input_shape=None, name: str | None = None):
        super().__init__(input_shape, name)
        self.cropping = _two_sides(cropping, "cropping")

    def compute_output_shape(self, input_shape):
        _check_rank(self, input_shape, 2)
        if sum(self.cropping) >= input_shape[0]:
            raise ValueError(f"`cropping` {self.cropping} of layer {self.name!r} removes all {input_shape[0]} steps. "
                             f"Received: cropping={self.cropping}, input_shape={tuple(input_shape)}")
        return (input_shape[0] - sum(self.cropping), input_shape[1])

    def forward(self, x, training=False):
        self._check_input(x)
        before, after = self.cropping
        return x[:, before:x.shape[1] - after]

    def backward(self, grad):
        if not self.needs_input_grad:
            return None
        return np.pad(grad, ((0, 0), self.cropping, (0, 0)))

    def get_config(self):
        return {**super().get_config(), "cropping": list(self.cropping)}


class Cropping2D(Layer):
    """Remove rows and columns at the borders of images.

    Args:
        cropping: An int (every side), a pair `(rows, cols)` (each on both sides), or
            `((top, bottom), (left, right))`. Defaults to ((0, 0), (0, 0)).
        input_shape: `(height, width, channels)`; only needed on a model's first layer.
        name: Layer name. Defaults to one the model assigns.
    """

    def __init__(self, cropping=((0, 0), (0, 0)), input_shape=None, name: str | None = None):
        super().__init__(input_shape, name)
        self.cropping = _four_sides(cropping, "cropping")

    def compute_output_shape(self, input_shape):
        _check_rank(self, input_shape, 3)
        (top, bottom), (left, right) = self.cropping
        if top + bottom >= input_shape[0] or left + right >= input_shape[1]:
            raise ValueError(f"`cropping` {self.cropping} of layer {self.name!r} removes a whole "
                             f"{input_shape[0]}x{input_shape[1]} image. Received: cropping={self.cropping}, "
                             f"input_shape={tuple(input_shape)}")
        return (input_shape[0] - top - bottom, input_shape[1] - left - right, input_shape[2])

    def forward(self, x, training=False):
        self._check_input(x)
        (top, bottom), (left, right) = self.cropping
        return x[:, top:x.shape[1] - bottom, left:x.shape[2] - right]

    def backward(self, grad):
        if not self.needs_input_grad:
            return None
        return np.pad(grad, ((0, 0), *self.cropping, (0, 0)))

    def get_config(self):
        return {**super().get_config(), "cropping": [list(side) for side in self.cropping]}
