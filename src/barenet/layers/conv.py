"""2-D convolution: Keras's `Conv2D` and the blog's `Conv2d`, one implementation.

Images are channels-last, `(batch, height, width, channels)`. The convolution is
im2col + one matrix product: a strided view lists every receptive field, one copy
turns it into a column matrix `(batch * out_h * out_w, kh * kw * in_channels)`, and
`columns @ weights.reshape(kh * kw * in_channels, filters)` is the whole forward
pass. The backward pass is two more products; the input gradient is scattered
back (col2im) with one strided add per kernel offset, never a loop over pixels.

The window arithmetic it shares with pooling lives in `layers.windows`.
"""

from __future__ import annotations


import numpy as np

from ..reductions import column_sums
from .base import check_positive_int
from .kernel_layer import KernelLayer
from .windows import (check_padding, crop_images, offset_slices, pad_images, pair, spatial_output_shape,
                      windows)

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

    def backward(self, dL_dy):
        return self.backward_preactivation(self.activation.backward(dL_dy))

    def backward_preactivation(self, dL_dz):
        """Backward pass given dLoss/d(conv(x) + biases), skipping the activation."""
        dL_dz = dL_dz.reshape(-1, self.filters)
        weights = self.params["weights"]
        np.matmul(self._columns.T, dL_dz, out=self.grads["weights"].reshape(-1, self.filters))
        if self.use_bias:
            column_sums(dL_dz, out=self.grads["biases"])
        if self.regularizers:
            self._add_regularization_grads()
        if not self.needs_input_grad:
            return None
        # col2im: each kernel offset's share of the input gradient, one product and one
        # strided add per offset (a contiguous product adds faster than a strided slice of
        # one big product).
        n, c = self._x_shape[0], self._x_shape[3]
        grad_padded = np.zeros(self._padded_shape, dL_dz.dtype)
        for i in range(self.kernel_size[0]):
            for j in range(self.kernel_size[1]):
                share = (dL_dz @ weights[i, j].T).reshape(n, *self._out_hw, c)
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

    @property
    def stride(self) -> tuple[int, int]:
        """The blog's name for `strides`."""
        return self.strides

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
