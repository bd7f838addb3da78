"""2-D convolution: Keras's `Conv2D` and the blog's `Conv2d`, one implementation.

Images are channels-last, `(batch, height, width, channels)`. The convolution is
im2col + one matrix product: a strided view lists every receptive field, one copy
turns it into a column matrix `(batch * out_h * out_w, kh * kw * in_channels)`, and
`columns @ weights.reshape(kh * kw * in_channels, filters)` is the whole forward
pass. The backward pass is two more products; the input gradient is scattered
back (col2im) with one strided add per kernel offset, never a loop over pixels.

Also home to the window helpers the pooling layers share (`conv_output_size`,
`windows`, `pair`).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..reductions import column_sums
from .base import KernelLayer, Layer, check_positive_int

PADDINGS = ("valid", "same")


# --- shared window arithmetic -----------------------------------------------------------------
def pair(value, name: str) -> tuple[int, int]:
    """An int or a pair of positive ints -> `(rows, cols)`, or a ValueError naming `name`."""
    items = value
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        items = (value, value)
    try:
        items = tuple(items)
    except TypeError:
        items = ()
    ok = len(items) == 2 and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v > 0 for v in items)
    if not ok:
        raise ValueError(f"`{name}` must be a positive integer or a pair of positive integers. Received: {name}={value!r}")
    return int(items[0]), int(items[1])


def check_padding(padding, allowed=PADDINGS, aliases=None) -> str:
    """Lower-case `padding` and check it is one of `allowed` (after `aliases`)."""
    key = padding.lower() if isinstance(padding, str) else padding
    key = (aliases or {}).get(key, key)
    if key not in allowed:
        names = list(allowed) + [name for name in (aliases or {}) if isinstance(name, str)]
        raise ValueError(f"`padding` must be one of {', '.join(map(repr, names))}. Received: padding={padding!r}")
    return key


def conv_output_size(size: int, kernel: int, stride: int, padding: str) -> tuple[int, int, int]:
    """`(output size, padding before, padding after)` along one axis, as Keras/TensorFlow do it.

    "valid": no padding, `out = (size - kernel) // stride + 1` (0 when the kernel does not fit).
    "same": `out = ceil(size / stride)`, padded by `max((out - 1) * stride + kernel - size, 0)`
    in total, the odd one at the end (bottom/right).
    """
    if padding == "valid":
        return ((size - kernel) // stride + 1 if size >= kernel else 0), 0, 0
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return out, total // 2, total - total // 2


def windows(x: np.ndarray, kernel: tuple[int, int], strides: tuple[int, int], out: tuple[int, int]) -> np.ndarray:
    """Read-only view `(batch, out_h, out_w, kh, kw, channels)` of every window of `x` (no copy)."""
    n, _, _, c = x.shape
    sn, sh, sw, sc = x.strides
    return np.lib.stride_tricks.as_strided(
        x, shape=(n, out[0], out[1], kernel[0], kernel[1], c),
        strides=(sn, sh * strides[0], sw * strides[1], sh, sw, sc), writeable=False)


def offset_slices(i: int, j: int, strides: tuple[int, int], out: tuple[int, int]) -> tuple[slice, slice, slice, slice]:
    """Index of the input pixels that kernel offset `(i, j)` touches, one per output position."""
    return (slice(None), slice(i, i + strides[0] * (out[0] - 1) + 1, strides[0]),
            slice(j, j + strides[1] * (out[1] - 1) + 1, strides[1]), slice(None))


def spatial_output_shape(layer: Layer, input_shape, kernel, strides, padding, kernel_arg: str):
    """Output `(out_h, out_w)` and paddings for an image layer; raises for bad ranks or kernels."""
    if len(input_shape) != 3:
        raise ValueError(
            f"Layer {layer.name!r} ({type(layer).__name__}) expects images of shape (height, width, channels). "
            f"Received: input_shape={tuple(input_shape)}"
        )
    (oh, top, bottom), (ow, left, right) = (conv_output_size(size, k, s, padding)
                                            for size, k, s in zip(input_shape[:2], kernel, strides))
    if input_shape[0] + top + bottom < kernel[0] or input_shape[1] + left + right < kernel[1]:
        raise ValueError(
            f"`{kernel_arg}` {kernel} of layer {layer.name!r} is larger than its "
            f"{'padded ' if padding != 'valid' else ''}input of {input_shape[0] + top + bottom}x"
            f"{input_shape[1] + left + right} pixels. Received: {kernel_arg}={kernel}, input_shape={tuple(input_shape)}"
        )
    return (oh, ow), ((top, bottom), (left, right))


def pad_images(x: np.ndarray, pads, value=0) -> np.ndarray:
    """`x` padded on height and width by `pads = ((top, bottom), (left, right))`; `x` itself if none."""
    if not any(pads[0]) and not any(pads[1]):
        return x
    return np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)), constant_values=value)


def crop_images(x: np.ndarray, pads) -> np.ndarray:
    """Undo `pad_images` on a gradient (a view)."""
    (top, bottom), (left, right) = pads
    return x[:, top:x.shape[1] - bottom, left:x.shape[2] - right, :]


# --- the layer ----------------------------------------------------------------------------------
class Conv2D(KernelLayer):
    """2-D convolution over channels-last images: `activation(conv(x, weights) + biases)`.

    Args:
        filters: Number of output channels.
        kernel_size: Window height and width: an int or a pair.
        strides: Step between windows: an int or a pair. Defaults to 1.
        padding: "valid" (no padding, the output shrinks) or "same" (zero padding so that
            the output is `ceil(input / stride)`; an odd total pad goes bottom/right, as in
            Keras). Defaults to "valid".
        activation: Name from `barenet.activations` (e.g. "relu"), or None for linear.
        use_bias: Whether to learn `biases`. Defaults to True.
        input_shape: `(height, width, channels)`; only needed on a model's first layer.
        kernel_initializer: Initializer name for `weights`. Defaults to "glorot_uniform"
            (fans scaled by the kernel area, as in Keras).
        bias_initializer: Initializer name for `biases`. Defaults to "zeros".
        kernel_regularizer: Penalty on `weights` (a regularizer or a name). Defaults to None.
        bias_regularizer: Penalty on `biases`. Defaults to None.
        name: Layer name. Defaults to one the model assigns ("conv2d", "conv2d_1", ...).

    Input `(batch, height, width, in_channels)` -> output `(batch, out_h, out_w, filters)`.
    `weights` has shape `(kh, kw, in_channels, filters)` (Keras's layout) and `biases`
    shape `(filters,)`.
    """

    def __init__(self, filters: int, kernel_size, strides=1, padding: str = "valid", activation=None,
                 use_bias: bool = True, input_shape=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, name: str | None = None):
        super().__init__(activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                         bias_regularizer, input_shape, name)
        self.filters = check_positive_int("filters", filters)
        self.kernel_size = pair(kernel_size, "kernel_size")
        self.strides = pair(strides, "strides")
        self.padding = check_padding(padding)

    def compute_output_shape(self, input_shape):
        (oh, ow), _ = spatial_output_shape(self, input_shape, self.kernel_size, self.strides, self.padding,
                                           "kernel_size")
        return (oh, ow, self.filters)

    def _build(self, input_shape, rng):
        self._out_hw, self._pads = spatial_output_shape(self, input_shape, self.kernel_size, self.strides,
                                                        self.padding, "kernel_size")
        kh, kw = self.kernel_size
        self.params["weights"] = self.kernel_initializer((kh, kw, input_shape[2], self.filters), rng, self.dtype)
        if self.use_bias:
            self.params["biases"] = self.bias_initializer((self.filters,), rng, self.dtype)

    def forward(self, x, training=False):
        self._check_input(x)
        self._x_shape = x.shape
        padded = pad_images(x, self._pads)
        self._padded_shape = padded.shape
        kh, kw = self.kernel_size
        # The one copy of the forward pass: kept for the weight gradient.
        self._columns = windows(padded, self.kernel_size, self.strides, self._out_hw).reshape(
            -1, kh * kw * x.shape[3])
        z = self._columns @ self.params["weights"].reshape(-1, self.filters)
        if self.use_bias:
            z += self.params["biases"]
        return self.activation.forward_in_place(z.reshape(len(x), *self._out_hw, self.filters))

    def backward(self, grad):
        return self.backward_preactivation(self.activation.backward(grad))

    def backward_preactivation(self, grad):
        """Backward pass given dLoss/d(conv(x) + biases), skipping the activation."""
        grad = grad.reshape(-1, self.filters)
        weights = self.params["weights"]
        np.matmul(self._columns.T, grad, out=self.grads["weights"].reshape(-1, self.filters))
        if self.use_bias:
            column_sums(grad, out=self.grads["biases"])
        if self.regularizers:
            self._add_regularization_grads()
        if not self.needs_input_grad:
            return None
        # col2im: each kernel offset's share of the input gradient, one product and one
        # strided add per offset (a contiguous product adds faster than a strided slice of
        # one big product).
        n, c = self._x_shape[0], self._x_shape[3]
        grad_padded = np.zeros(self._padded_shape, grad.dtype)
        for i in range(self.kernel_size[0]):
            for j in range(self.kernel_size[1]):
                share = (grad @ weights[i, j].T).reshape(n, *self._out_hw, c)
                grad_padded[offset_slices(i, j, self.strides, self._out_hw)] += share
        return crop_images(grad_padded, self._pads)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            **self.kernel_config(),
        }


class Conv2d(Conv2D):
    """The blog's convolution layer: `Conv2D` under the blog's argument names.

    Args:
        input_shape: `(height, width, channels)` (first layer only). Defaults to None.
        filters: Number of output channels. Defaults to 1.
        kernel_size: Window size, an int or a pair. Defaults to (3, 3).
        isbias: Whether to learn biases. Defaults to True.
        activation: Activation name or None (linear).
        stride: Step between windows, an int or a pair. Defaults to (1, 1).
        padding: "zero" or "same" (zero padding keeping the size at stride 1), "valid" or
            None (no padding). Defaults to "zero".
        kernel: Initial weights, shape `(kh, kw, channels, filters)`, or None for Glorot uniform.
        bias: Initial biases, shape `(filters,)`, or None for zeros.

    Channels-last, like the blog; the blog's per-pixel loops are replaced by im2col.
    """

    def __init__(self, input_shape=None, filters: int = 1, kernel_size=(3, 3), isbias: bool = True, activation=None,
                 stride=(1, 1), padding="zero", kernel=None, bias=None, name: str | None = None, **kwargs):
        super().__init__(filters, kernel_size, strides=stride, padding=check_padding(
            padding, aliases={"zero": "same", None: "valid"}), activation=activation, use_bias=isbias,
            input_shape=input_shape, name=name, **kwargs)
        self._initial_kernel = None if kernel is None else np.asarray(kernel)
        self._initial_bias = None if bias is None else np.asarray(bias)

    def _build(self, input_shape, rng):
        super()._build(input_shape, rng)
        if self._initial_kernel is not None:
            self._assign("weights", self._initial_kernel, "kernel")
        if self._initial_bias is not None and self.use_bias:
            self._assign("biases", self._initial_bias, "bias")
        self._initial_kernel = self._initial_bias = None

    def get_config(self):
        config = super().get_config()
        return {
            "name": config["name"], "input_shape": config["input_shape"], "filters": self.filters,
            "kernel_size": config["kernel_size"], "isbias": self.use_bias, "activation": config["activation"],
            "stride": config["strides"], "padding": self.padding,
            **{key: config[key] for key in ("kernel_initializer", "bias_initializer", "kernel_regularizer",
                                            "bias_regularizer")},
        }
