"""2-D pooling: Keras's `MaxPooling2D`, `AveragePooling2D`, `GlobalAveragePooling2D` and the
blog's `Pool2d` (kinds "max", "average", "min"), channels-last.

Nothing loops over pixels or samples: average pooling sums a strided view of the windows;
max/min pooling keep a running max (min) over the `ph * pw` window offsets, each step one
comparison of every window at once, and remember which offset won each window. Max/min
pooling send each window's gradient to ONE element, the first maximum (minimum) in
row-major window order, as PyTorch does; ties never split the gradient. The backward
pass writes (or adds) one strided slice per window offset;
for average pooling with non-overlapping windows (strides == pool size, the default) it
is a broadcast and a reshape. Both passes run on `parallel.batch_pieces` of the batch
over the threads (every sample's result is its own, so the split changes nothing).
With numba installed, float32 `MaxPooling2D(2)` (2x2 windows, strides 2, "valid") runs the
same passes as compiled kernels over every core (`barenet.fast.kernels`).
"""

from __future__ import annotations

import numpy as np

from .. import fast, parallel
from .base import Layer
from .windows import check_padding, crop_images, offset_slices, pad_images, pair, spatial_output_shape, windows

KINDS = ("max", "average", "min")
# What "same" padding is filled with, so that padding never wins a max/min.
_FILL = {"max": -np.inf, "min": np.inf, "average": 0.0}


def halves_by_max(layer) -> bool:
    """Whether `layer` is a built `MaxPooling2D(2)` (2 x 2 windows, strides 2, "valid" padding), the
    pool that the layer before it may run in one pass with (`layers.conv_pool`, `layers.norm_pool`)."""
    return (isinstance(layer, _Pooling2D) and layer.kind == "max" and layer.pool_size == layer.strides == (2, 2)
            and layer.padding == "valid" and layer.built)


class _Pooling2D(Layer):
    """Shared implementation; see the public classes below."""

    def __init__(self, pool_size=(2, 2), strides=None, padding: str = "valid", kind: str = "max",
                 input_shape=None, name: str | None = None):
        super().__init__(input_shape, name)
        if kind not in KINDS:
            raise ValueError(f"`kind` must be one of {', '.join(map(repr, KINDS))}. Received: kind={kind!r}")
        self.kind = kind
        self.pool_size = pair(pool_size, "pool_size")
        self.strides = self.pool_size if strides is None else pair(strides, "strides")
        self.padding = check_padding(padding)

    def compute_output_shape(self, input_shape):
        (oh, ow), _ = spatial_output_shape(self, input_shape, self.pool_size, self.strides, self.padding,
                                           "pool_size")
        return (oh, ow, input_shape[2])

    def _build(self, input_shape, rng):
        self._out_hw, self._pads = spatial_output_shape(self, input_shape, self.pool_size, self.strides,
                                                        self.padding, "pool_size")
        # Windows do not overlap: the backward pass is a reshape, with no accumulation.
        self._disjoint = self.strides == self.pool_size
        if self.kind == "average":
            # Keras's "same" average excludes the padding: count the real pixels in each window.
            ones = pad_images(np.ones((1, *input_shape[:2], 1), self.dtype), self._pads)
            self._counts = windows(ones, self.pool_size, self.strides, self._out_hw).sum(axis=(3, 4))[0]

    def forward(self, x, training=False):
        self._check_input(x)
        n, c = len(x), x.shape[3]
        self._padded_shape = (n, x.shape[1] + sum(self._pads[0]), x.shape[2] + sum(self._pads[1]), c)
        out = np.empty((n, *self._out_hw, c), x.dtype)
        offsets = self._offsets()
        if self.kind != "average":
            index_type = np.uint8 if len(offsets) <= 256 else np.uint32
            self._winner = np.empty(out.shape, index_type)
        self._fast = (self.kind == "max" and self.pool_size == self.strides == (2, 2) and self.padding == "valid"
                      and fast.enabled(x.dtype))
        if self._fast:  # the same pass by barenet.fast's kernel
            with fast.running():
                fast.get_kernels().max_pool_2x2_forward(np.ascontiguousarray(x), out, self._winner)
            return out
        parallel.run_pieces(lambda rows: self._forward_piece(x[rows], out[rows], rows), n, x.size)
        return out

    def _forward_piece(self, x, best, rows):
        padded = pad_images(x, self._pads, _FILL[self.kind])
        if self.kind == "average":
            np.divide(windows(padded, self.pool_size, self.strides, self._out_hw).sum(axis=(3, 4)), self._counts,
                      out=best)
            return
        # A running max (min) over the window offsets, each step comparing every window at
        # once, and the number of the offset that holds it. Offsets come in row-major order
        # and a later one takes over only by strictly beating the best so far, so that
        # number only grows, and it ends as the FIRST offset holding the max (min): the
        # one that gets the gradient, as in PyTorch.
        reduce, beats = (np.maximum, np.greater) if self.kind == "max" else (np.minimum, np.less)
        offsets = self._offsets()
        winner = self._winner[rows]
        best[...] = padded[offset_slices(*offsets[0], self.strides, self._out_hw)]
        winner[...] = 0
        beaten = np.empty(best.shape, bool)
        for k, (i, j) in enumerate(offsets[1:], 1):
            candidate = padded[offset_slices(i, j, self.strides, self._out_hw)]
            beats(candidate, best, out=beaten)
            reduce(best, candidate, out=best)
            np.maximum(winner, beaten * winner.dtype.type(k), out=winner)

    def backward(self, dL_dy):
        if not self.needs_input_grad:
            return None
        n = len(dL_dy)
        dx = np.empty((n, *self.input_shape), dL_dy.dtype)
        if self._fast:
            with fast.running():
                fast.get_kernels().max_pool_2x2_backward(np.ascontiguousarray(dL_dy, dx.dtype), self._winner, dx)
            return dx
        parallel.run_pieces(lambda rows: self._backward_piece(dL_dy[rows], dx[rows], rows), n, dx.size)
        return dx

    def _backward_piece(self, dL_dy, dx, rows):
        n, (oh, ow), c = len(dL_dy), self._out_hw, dL_dy.shape[3]
        ph, pw = self.pool_size
        padded_shape = (n, *self._padded_shape[1:])
        covered = self._disjoint and padded_shape[1:3] == (oh * ph, ow * pw)
        # The gradient is written straight into `dx` when there is no padding; when the windows
        # tile the input exactly every entry is written below, so no zeroing is needed.
        unpadded = not any(self._pads[0]) and not any(self._pads[1])
        grad_padded = dx if unpadded else np.empty(padded_shape, dL_dy.dtype)
        if not (covered and self.kind != "average"):
            grad_padded[...] = 0
        if self.kind == "average":
            dL_dy = dL_dy / self._counts
            if self._disjoint:  # every input pixel is in at most one window: a broadcast and a reshape
                grad_windows = np.broadcast_to(dL_dy[:, :, None, :, None, :], (n, oh, ph, ow, pw, c))
                grad_padded[:, :oh * ph, :ow * pw] = grad_windows.reshape(n, oh * ph, ow * pw, c)
            else:
                for i, j in self._offsets():
                    grad_padded[offset_slices(i, j, self.strides, self._out_hw)] += dL_dy
        elif self._disjoint:  # each window's gradient goes to the offset that won it in the forward pass
            winner = self._winner[rows]
            for k, (i, j) in enumerate(self._offsets()):
                np.multiply(dL_dy, winner == k, out=grad_padded[offset_slices(i, j, self.strides, self._out_hw)])
        else:
            winner = self._winner[rows]
            for k, (i, j) in enumerate(self._offsets()):
                grad_padded[offset_slices(i, j, self.strides, self._out_hw)] += dL_dy * (winner == k)
        if not unpadded:
            dx[...] = crop_images(grad_padded, self._pads)

    def _offsets(self):
        return [(i, j) for i in range(self.pool_size[0]) for j in range(self.pool_size[1])]

    def get_config(self):
        return {**super().get_config(), "pool_size": list(self.pool_size), "strides": list(self.strides),
                "padding": self.padding}


class MaxPooling2D(_Pooling2D):
    """Largest value in each window, per channel.

    Args:
        pool_size: Window height and width, an int or a pair. Defaults to (2, 2).
        strides: Step between windows, an int or a pair. Defaults to `pool_size`.
        padding: "valid" (windows inside the image) or "same" (output `ceil(input / stride)`,
            padding never selected). Defaults to "valid".
        input_shape: `(height, width, channels)`; only needed on a model's first layer.
        name: Layer name. Defaults to one the model assigns.

    Input `(batch, h, w, c)` -> output `(batch, out_h, out_w, c)`. The gradient goes to
    the first maximum of each window.
    """

    def __init__(self, pool_size=(2, 2), strides=None, padding: str = "valid", input_shape=None,
                 name: str | None = None):
        super().__init__(pool_size, strides, padding, "max", input_shape, name)


class AveragePooling2D(_Pooling2D):
    """Mean of each window, per channel; with "same" padding the padding is not counted (as Keras).

    Args: as `MaxPooling2D`.
    """

    def __init__(self, pool_size=(2, 2), strides=None, padding: str = "valid", input_shape=None,
                 name: str | None = None):
        super().__init__(pool_size, strides, padding, "average", input_shape, name)


class Pool2d(_Pooling2D):
    """The blog's pooling layer.

    Args:
        kernel_size: Window size, an int or a pair. Defaults to (2, 2).
        stride: Step between windows. Defaults to `kernel_size`.
        kind: "max", "average" or "min". Defaults to "max".
        padding: None or "valid" (none), "zero" or "same". Defaults to None.
        input_shape: `(height, width, channels)`; only needed on a model's first layer.
    """

    def __init__(self, kernel_size=(2, 2), stride=None, kind: str = "max", padding=None, input_shape=None,
                 name: str | None = None):
        super().__init__(kernel_size, stride, check_padding(padding, aliases={"zero": "same", None: "valid"}),
                         kind, input_shape, name)

    @property
    def kernel_size(self) -> tuple[int, int]:
        """The blog's name for `pool_size`."""
        return self.pool_size

    @property
    def stride(self) -> tuple[int, int]:
        """The blog's name for `strides`."""
        return self.strides

    def get_config(self):
        config = super().get_config()
        return {"name": config["name"], "input_shape": config["input_shape"], "kernel_size": config["pool_size"],
                "stride": config["strides"], "kind": self.kind, "padding": self.padding}


class GlobalAveragePooling2D(Layer):
    """Mean over height and width: `(batch, h, w, c)` -> `(batch, c)`."""

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(f"Layer {self.name!r} (GlobalAveragePooling2D) expects images of shape "
                             f"(height, width, channels). Received: input_shape={tuple(input_shape)}")
        return (input_shape[2],)

    def forward(self, x, training=False):
        self._check_input(x)
        self._x_shape = x.shape
        return x.mean(axis=(1, 2))

    def backward(self, dL_dy):
        if not self.needs_input_grad:
            return None
        n, h, w, c = self._x_shape
        return np.ascontiguousarray(np.broadcast_to((dL_dy / (h * w))[:, None, None, :], self._x_shape))
