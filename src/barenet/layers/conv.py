"""2-D convolution: Keras's `Conv2D` and the blog's `Conv2d`, one implementation.

Images are channels-last, `(batch, height, width, channels)`, inside the layer
(`data_format="channels_first"` inputs are read through a transposed view). The
convolution is im2col + one matrix product: a strided view lists every receptive
field, one copy turns it into a column matrix `(batch * out_h * out_w, kh * kw *
in_channels)`, and `columns @ weights.reshape(kh * kw * in_channels, filters)` is the
whole forward pass. The backward pass is two more products; the input gradient is
scattered back (col2im) with one strided add per kernel offset, never a loop over pixels.
Dilation is a wider stride between a window's taps; groups split the channels into
`groups` independent convolutions (one product per group).

Every pass runs on `parallel.batch_pieces` of the batch, spread over the threads;
the weight and bias gradients are per-piece partial products added in piece order, so
the result does not depend on the thread count. A ReLU is applied (and differentiated)
inside the pieces too. With numba installed, float32 convolutions without groups run the
same passes as compiled kernels over every core instead (`barenet.fast.kernels`,
`_forward_fast` / `_backward_fast`); this NumPy code is their tested reference. In a chain
of layers, such a convolution and the `MaxPooling2D(2)` after it run as one pass
(`fuses_with`, `layers.conv_pool`).

The window arithmetic it shares with pooling lives in `layers.windows`.
"""

from __future__ import annotations

import numpy as np

from .. import fast, parallel
from ..activations import is_plain_relu
from ..reductions import column_sums
from . import conv_pool
from .base import check_positive_int
from .kernel_layer import KernelLayer
from .windows import check_padding, crop_images, dilated, offset_slices, pad_images, pair, spatial_output_shape, windows

DATA_FORMATS = ("channels_last", "channels_first")


def check_data_format(data_format) -> str:
    """None (channels-last, Keras's default) or one of `DATA_FORMATS`, else a ValueError."""
    if data_format is None:
        return "channels_last"
    if data_format not in DATA_FORMATS:
        raise ValueError(f"`data_format` must be one of {', '.join(map(repr, DATA_FORMATS))} or None. "
                         f"Received: data_format={data_format!r}")
    return data_format


# --- the layer ----------------------------------------------------------------------------------
class Conv2D(KernelLayer):
    """2-D convolution over images: `activation(conv(x, weights) + biases)`.

    Args:
        filters: Number of output channels.
        kernel_size: Window height and width: an int or a pair.
        strides: Step between windows: an int or a pair. Defaults to 1.
        padding: "valid" (no padding, the output shrinks) or "same" (zero padding so that
            the output is `ceil(input / stride)`; an odd total pad goes bottom/right, as in
            Keras). Defaults to "valid".
        data_format: "channels_last" (`(batch, h, w, c)`) or "channels_first"
            (`(batch, c, h, w)`). Defaults to None, meaning channels-last.
        dilation_rate: Spacing between a window's taps (an int or a pair): a 3x3 kernel with
            rate 2 covers 5x5 pixels. Defaults to 1.
        groups: Split the input channels into this many groups, each convolved with its own
            `filters // groups` filters (both must divide evenly). Defaults to 1.
        activation: Name from `barenet.activations` (e.g. "relu"), or None for linear.
        use_bias: Whether to learn `biases`. Defaults to True.
        input_shape: One sample's shape; only needed on a model's first layer.
        kernel_initializer: Initializer name for `weights`. Defaults to "glorot_uniform"
            (fans scaled by the kernel area, as in Keras).
        bias_initializer: Initializer name for `biases`. Defaults to "zeros".
        kernel_regularizer: Penalty on `weights` (a regularizer or a name). Defaults to None.
        bias_regularizer: Penalty on `biases`. Defaults to None.
        name: Layer name. Defaults to one the model assigns ("conv2d", "conv2d_1", ...).

    Input `(batch, height, width, in_channels)` -> output `(batch, out_h, out_w, filters)`
    (channels first: `(batch, in_channels, h, w)` -> `(batch, filters, out_h, out_w)`).
    `weights` has shape `(kh, kw, in_channels // groups, filters)` (Keras's layout) and
    `biases` shape `(filters,)`.
    """

    def __init__(self, filters: int, kernel_size, strides=1, padding: str = "valid", data_format=None,
                 dilation_rate=1, groups: int = 1, activation=None, use_bias: bool = True, input_shape=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, name: str | None = None):
        super().__init__(activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                         bias_regularizer, input_shape, name)
        self.filters = check_positive_int("filters", filters)
        self.kernel_size = pair(kernel_size, "kernel_size")
        self.strides = pair(strides, "strides")
        self.padding = check_padding(padding)
        self.data_format = check_data_format(data_format)
        self.dilation_rate = pair(dilation_rate, "dilation_rate")
        self.groups = check_positive_int("groups", groups)
        if self.filters % self.groups:
            raise ValueError(f"`filters` must be a multiple of `groups`. Received: filters={filters}, groups={groups}")

    def _image_shape(self, input_shape):
        """`(h, w, c)` of one sample, whatever the data format."""
        if self.data_format == "channels_first" and len(input_shape) == 3:
            return (input_shape[1], input_shape[2], input_shape[0])
        return tuple(input_shape)

    def _spatial(self, input_shape):
        return spatial_output_shape(self, self._image_shape(input_shape), dilated(self.kernel_size, self.dilation_rate),
                                    self.strides, self.padding, "kernel_size")

    def compute_output_shape(self, input_shape):
        (oh, ow), _ = self._spatial(input_shape)
        return (self.filters, oh, ow) if self.data_format == "channels_first" else (oh, ow, self.filters)

    def _build(self, input_shape, rng):
        self._out_hw, self._pads = self._spatial(input_shape)
        channels = self._image_shape(input_shape)[2]
        if channels % self.groups:
            raise ValueError(f"The input channels of layer {self.name!r} must be a multiple of `groups`. "
                             f"Received: {channels} channels, groups={self.groups}")
        kh, kw = self.kernel_size
        self.params["weights"] = self.kernel_initializer((kh, kw, channels // self.groups, self.filters), rng,
                                                         self.dtype)
        if self.use_bias:
            self.params["biases"] = self.bias_initializer((self.filters,), rng, self.dtype)

    @property
    def _fused_relu(self) -> bool:
        return is_plain_relu(self.activation)

    def _group_matrices(self, matrix, width):
        """Column blocks of `matrix` `(rows, groups * width)`, one per group (views)."""
        return [matrix[:, g * width:(g + 1) * width] for g in range(self.groups)]

    def forward(self, x, training=False):
        self._check_input(x)
        if self.data_format == "channels_first":
            x = x.transpose(0, 2, 3, 1)  # a view: the window copy below reads it in place
        self._fast = self.groups == 1 and x.dtype == self.dtype and fast.enabled(x.dtype)
        if self._fast:
            return self._finish_forward(self._forward_fast(x))
        n, c = len(x), x.shape[3]
        (oh, ow), (kh, kw), groups = self._out_hw, self.kernel_size, self.groups
        per_sample, c_group = oh * ow, c // groups
        self._x_shape, self._x = x.shape, None
        # The one copy of the forward pass, kept for the weight gradient; with groups the
        # columns are grouped `(rows, groups, kh, kw, c / groups)` so each group's block is contiguous.
        self._columns = np.empty((n * per_sample, kh * kw * c), x.dtype)
        out = np.empty((n, oh, ow, self.filters), x.dtype)
        weights = self.params["weights"].reshape(-1, self.filters)
        biases = self.params["biases"] if self.use_bias else None
        relu = self._fused_relu

        def piece(rows):
            columns = self._columns[rows.start * per_sample:rows.stop * per_sample]
            view = windows(pad_images(x[rows], self._pads), self.kernel_size, self.strides, self._out_hw,
                           self.dilation_rate)
            if groups == 1:
                columns.reshape(view.shape)[...] = view
            else:
                columns.reshape(-1, oh, ow, groups, kh, kw, c_group)[...] = view.reshape(
                    -1, oh, ow, kh, kw, groups, c_group).transpose(0, 1, 2, 5, 3, 4, 6)
            z = out[rows].reshape(-1, self.filters)
            if groups == 1:
                np.matmul(columns, weights, out=z)
            else:
                f_group = self.filters // groups
                for cols, w, zg in zip(self._group_matrices(columns, kh * kw * c_group),
                                       self._group_matrices(weights, f_group), self._group_matrices(z, f_group)):
                    zg[...] = cols @ w
            if biases is not None:
                z += biases
            if relu:
                np.maximum(z, 0, out=z)

        parallel.run_pieces(piece, n, self._columns.size)
        return self._finish_forward(out)

    def _finish_forward(self, out):
        """The activation (unless the ReLU was fused in) and the output layout."""
        if self._fused_relu:
            self._out = out
        else:
            self._out = None
            out = self.activation.forward_in_place(out)
        return out.transpose(0, 3, 1, 2) if self.data_format == "channels_first" else out

    def _geometry(self):
        """`(kh, kw, sh, sw, dh, dw, top, left, out_h, out_w)` for the compiled kernels."""
        (top, _), (left, _) = self._pads
        return (*self.kernel_size, *self.strides, *self.dilation_rate, top, left, *self._out_hw)

    def _forward_fast(self, x):
        """The forward pass by `barenet.fast.kernels.conv_forward` (columns, product, bias, ReLU)."""
        out = np.empty((len(x), *self._out_hw, self.filters), x.dtype)
        self.forward_by_kernel(x, lambda kernels, x, weights, biases, geometry, blocks: kernels.conv_forward(
            x, weights, biases, self._fused_relu, out.reshape(-1, self.filters), geometry, blocks))
        return out

    def forward_by_kernel(self, x, kernel):
        """A fast forward pass (`_forward_fast`, or `layers.conv_pool.forward`): x kept for the backward
        kernel, which builds the columns again from it, and `kernel(kernels, x, weights, biases,
        geometry, blocks)` called on blocks of whole samples (`fast.conv_forward_blocks`)."""
        x = np.ascontiguousarray(x)
        self._x_shape, self._x, self._columns = x.shape, x, None
        filters = self.filters
        biases = self.params["biases"] if self.use_bias else np.zeros(filters, x.dtype)
        weights = self.params["weights"].reshape(-1, filters)
        blocks = fast.conv_forward_blocks(len(x), self._out_hw[0] * self._out_hw[1], len(weights))
        with fast.running():
            kernel(fast.get_kernels(), x, weights, biases, self._geometry(), blocks)

    def _backward_fast(self, grad, relu_out):
        """`_backward` by `barenet.fast.kernels.conv_backward`; weight sums over fixed blocks, in order."""
        grad = np.ascontiguousarray(grad, self.dtype).reshape(-1, self.filters)
        relu = relu_out is not None
        relu_out = relu_out.reshape(-1, self.filters) if relu else grad
        return self.gradients_by_kernel(lambda kernels, weights, *parts: kernels.conv_backward(
            grad, relu_out, relu, self._x, weights, *parts))

    def gradients_by_kernel(self, kernel):
        """The weight, bias and input gradients of a fast forward pass (`_forward_fast`, or
        `layers.conv_pool.forward`): `kernel(kernels, weights, dx, weight_parts, bias_parts, geometry,
        with_input, chunk)` calls the backward kernel, whose per-block weight and bias sums are
        added here, in block order."""
        filters, n = self.filters, self._x_shape[0]
        weights = self.params["weights"].reshape(-1, filters)
        blocks = parallel.piece_count(n)
        weight_parts = np.empty((blocks, len(weights), filters), self.dtype)
        bias_parts = np.empty((blocks, filters), self.dtype)
        dx = np.empty(self._x_shape if self.needs_input_grad else (1, 1, 1, 1), self.dtype)
        out_h, out_w = self._out_hw
        chunk = fast.conv_samples_in_cache(out_h * out_w, len(weights))
        with fast.running():
            kernel(fast.get_kernels(), weights, dx, weight_parts, bias_parts, self._geometry(), self.needs_input_grad,
                   chunk)
        parallel.add_in_order(list(weight_parts), out=self.grads["weights"].reshape(-1, filters))
        if self.use_bias:
            parallel.add_in_order(list(bias_parts), out=self.grads["biases"])
        if self.regularizers:
            self._add_regularization_grads()
        if not self.needs_input_grad:
            return None
        return dx.transpose(0, 3, 1, 2) if self.data_format == "channels_first" else dx

    # --- with the MaxPooling2D that follows it, as one pass (layers.conv_pool) ----------------------
    def fuses_with(self, following, x, training=False) -> bool:
        """Whether `following(self(x))` runs as one pass, `fused_forward` (a chain of layers asks)."""
        return conv_pool.fusable(self, following, x)

    def fused_forward(self, following, x, training=False):
        """`following.forward(self.forward(x))` in one pass, where `fuses_with` says so."""
        return conv_pool.forward(self, following, x)

    def fused_backward(self, following, dL_dy):
        """The backward pass of `fused_forward`: this layer's gradients, and dLoss/dx (None where this
        layer needs no input gradient), given dLoss/d(the pooled output)."""
        return conv_pool.backward(self, dL_dy)

    def backward(self, dL_dy):
        if self.data_format == "channels_first":
            dL_dy = dL_dy.transpose(0, 2, 3, 1)
        if self._out is not None:  # the ReLU's gradient, inside the pieces
            return self._backward(dL_dy, self._out)
        return self._backward(self.activation.backward(dL_dy), None)

    def backward_preactivation(self, dL_dz):
        """Backward pass given dLoss/d(conv(x) + biases), skipping the activation."""
        if self.data_format == "channels_first":
            dL_dz = dL_dz.transpose(0, 2, 3, 1)
        return self._backward(dL_dz, None)

    def _backward(self, grad, relu_out):
        """Gradients from `grad` (dL/dz, or dL/dy when `relu_out` holds the ReLU's output)."""
        if self._fast:
            return self._backward_fast(grad, relu_out)
        n, h, w, c = self._x_shape
        (oh, ow), (kh, kw), groups = self._out_hw, self.kernel_size, self.groups
        per_sample, filters = oh * ow, self.filters
        c_group, f_group = c // groups, filters // groups
        weights = self.params["weights"]
        needs_input = self.needs_input_grad
        dx = np.empty(self._x_shape, grad.dtype) if needs_input else None
        padded = any(self._pads[0]) or any(self._pads[1])

        def piece(rows):
            count = rows.stop - rows.start
            dz = np.asarray(grad[rows], order="C").reshape(-1, filters)
            if relu_out is not None:
                dz = dz * (relu_out[rows].reshape(-1, filters) > 0)
            columns = self._columns[rows.start * per_sample:rows.stop * per_sample]
            weight_part = np.empty((kh * kw * c_group, filters), dz.dtype)
            for cols, dzg, part in zip(self._group_matrices(columns, kh * kw * c_group),
                                       self._group_matrices(dz, f_group), self._group_matrices(weight_part, f_group)):
                np.matmul(cols.T, dzg, out=part)
            bias_part = column_sums(dz) if self.use_bias else None
            if needs_input:
                # col2im: each kernel offset's share of the input gradient, one product and one
                # strided add per offset (a contiguous product adds faster than a strided slice
                # of one big product).
                target = (np.zeros((count, h + sum(self._pads[0]), w + sum(self._pads[1]), c), dz.dtype)
                          if padded else dx[rows])
                if not padded:
                    target[...] = 0
                for i in range(kh):
                    for j in range(kw):
                        where = target[offset_slices(i * self.dilation_rate[0], j * self.dilation_rate[1],
                                                     self.strides, self._out_hw)]
                        for g, dzg in enumerate(self._group_matrices(dz, f_group)):
                            share = dzg @ weights[i, j, :, g * f_group:(g + 1) * f_group].T
                            where[..., g * c_group:(g + 1) * c_group] += share.reshape(count, oh, ow, c_group)
                if padded:
                    dx[rows] = crop_images(target, self._pads)
            return weight_part, bias_part

        parts = parallel.run_pieces(piece, n, self._columns.size)
        parallel.add_in_order([p[0] for p in parts], out=self.grads["weights"].reshape(-1, filters))
        if self.use_bias:
            parallel.add_in_order([p[1] for p in parts], out=self.grads["biases"])
        if self.regularizers:
            self._add_regularization_grads()
        if not needs_input:
            return None
        return dx.transpose(0, 3, 1, 2) if self.data_format == "channels_first" else dx

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": list(self.dilation_rate),
            "groups": self.groups,
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
