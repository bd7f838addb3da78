"""Transposed convolutions: Keras's `Conv1DTranspose` and `Conv2DTranspose` (channels-last).

A transposed convolution is the adjoint (the input gradient) of the convolution that
would map its output back to its input with the same kernel, strides and padding, as in
TensorFlow. Forward: one product `x @ weights` gives every kernel tap's contribution for
every input position, and one strided add per tap scatters them into a buffer, which is
then cropped by the padding. Backward is that convolution itself: a strided view of the
(uncropped) gradient lists every window, one copy makes columns, and two products give
the weight and input gradients. `Conv1DTranspose` runs the same code on one-row images.

Output length per axis (`span = dilation * (kernel - 1) + 1`), as Keras with
`output_padding=None`:

    "valid": input * strides + max(span - strides, 0)
    "same":  input * strides
"""

from __future__ import annotations

import numpy as np

from ..reductions import column_sums
from .base import check_positive_int
from .conv1d import single
from .kernel_layer import KernelLayer
from .windows import check_padding, pair


def transposed_size(size: int, kernel: int, stride: int, dilation: int, padding: str) -> tuple[int, int, int]:
    """`(output size, crop before, buffer size)` along one axis.

    The buffer holds every tap's contribution, `(size - 1) * stride + span` positions (more
    when "valid" with a kernel shorter than the stride: the tail is zeros, as in Keras); the
    output starts at the padding the matching convolution would put before its input.
    """
    span = dilation * (kernel - 1) + 1
    if padding == "valid":
        out, before = size * stride + max(span - stride, 0), 0
    else:
        out, before = size * stride, max(span - stride, 0) // 2
    return out, before, max((size - 1) * stride + span, before + out)


class _ConvTranspose(KernelLayer):
    """Shared implementation on images `(batch, h, w, c)`; 1-D inputs get a height of 1."""

    rank = 2

    def __init__(self, filters: int, kernel_size, strides=1, padding: str = "valid", dilation_rate=1,
                 activation=None, use_bias: bool = True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, input_shape=None,
                 name: str | None = None):
        super().__init__(activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                         bias_regularizer, input_shape, name)
        self.filters = check_positive_int("filters", filters)
        parse = pair if self.rank == 2 else (lambda value, argument: (1, single(value, argument)))
        self._kernel = parse(kernel_size, "kernel_size")
        self._strides = parse(strides, "strides")
        self._dilation = parse(dilation_rate, "dilation_rate")
        self.padding = check_padding(padding)

    def _sizes(self, input_shape):
        if len(input_shape) != self.rank + 1:
            expected = "images of shape (height, width, channels)" if self.rank == 2 else \
                "sequences of shape (steps, channels)"
            raise ValueError(f"Layer {self.name!r} ({type(self).__name__}) expects {expected}. "
                             f"Received: input_shape={tuple(input_shape)}")
        spatial = tuple(input_shape[:-1]) if self.rank == 2 else (1, input_shape[0])
        return [transposed_size(size, k, s, d, self.padding)
                for size, k, s, d in zip(spatial, self._kernel, self._strides, self._dilation)]

    def compute_output_shape(self, input_shape):
        sizes = self._sizes(input_shape)
        return (*(out for out, _, _ in sizes[2 - self.rank:]), self.filters)

    def _build(self, input_shape, rng):
        self._axis_sizes = self._sizes(input_shape)
        shape = (*self._kernel[2 - self.rank:], self.filters, input_shape[-1])  # Keras: (..., filters, in)
        self.params["weights"] = self.kernel_initializer(shape, rng, self.dtype)
        if self.use_bias:
            self.params["biases"] = self.bias_initializer((self.filters,), rng, self.dtype)

    def _taps(self):
        return [(i, j) for i in range(self._kernel[0]) for j in range(self._kernel[1])]

    def _tap_slices(self, i, j, in_hw):
        (sh, sw), (dh, dw) = self._strides, self._dilation
        return (slice(None), slice(i * dh, i * dh + sh * (in_hw[0] - 1) + 1, sh),
                slice(j * dw, j * dw + sw * (in_hw[1] - 1) + 1, sw))

    def _crop(self):
        (oh, top, _), (ow, left, _) = self._axis_sizes
        return slice(None), slice(top, top + oh), slice(left, left + ow)

    def forward(self, x, training=False):
        self._check_input(x)
        images = x if self.rank == 2 else x[:, None]
        n, h, w, c = images.shape
        self._x_flat = images.reshape(-1, c)
        kh, kw = self._kernel
        # (in, kh * kw * filters): every tap's contribution for every input pixel in one product.
        kernel = self.params["weights"].reshape(kh, kw, self.filters, c).transpose(3, 0, 1, 2).reshape(c, -1)
        contributions = (self._x_flat @ kernel).reshape(n, h, w, kh, kw, self.filters)
        buffer = np.zeros((n, self._axis_sizes[0][2], self._axis_sizes[1][2], self.filters), self.dtype)
        for i, j in self._taps():
            buffer[self._tap_slices(i, j, (h, w))] += contributions[:, :, :, i, j]
        z = np.ascontiguousarray(buffer[self._crop()])
        if self.use_bias:
            z += self.params["biases"]
        return self.activation.forward_in_place(z if self.rank == 2 else z[:, 0])

    def backward(self, grad):
        return self.backward_preactivation(self.activation.backward(grad))

    def backward_preactivation(self, grad):
        """Backward pass given dLoss/d(output before the activation)."""
        images = grad if self.rank == 2 else grad[:, None]
        n, c = len(images), self._x_flat.shape[1]
        h, w = self.input_shape[:2] if self.rank == 2 else (1, self.input_shape[0])
        kh, kw = self._kernel
        buffer = np.zeros((n, self._axis_sizes[0][2], self._axis_sizes[1][2], self.filters), grad.dtype)
        buffer[self._crop()] = images
        (sh, sw), (dh, dw) = self._strides, self._dilation
        bn_, bh, bw, bc = buffer.strides
        columns = np.lib.stride_tricks.as_strided(
            buffer, shape=(n, h, w, kh, kw, self.filters), strides=(bn_, bh * sh, bw * sw, bh * dh, bw * dw, bc),
            writeable=False).reshape(n * h * w, -1)
        grad_kernel = self._x_flat.T @ columns  # (in, kh * kw * filters)
        self.grads["weights"][...] = grad_kernel.reshape(c, kh, kw, self.filters).transpose(1, 2, 3, 0).reshape(
            self.grads["weights"].shape)
        if self.use_bias:
            column_sums(images.reshape(-1, self.filters), out=self.grads["biases"])
        if self.regularizers:
            self._add_regularization_grads()
        if not self.needs_input_grad:
            return None
        kernel = self.params["weights"].reshape(kh, kw, self.filters, c).reshape(-1, c)
        grad_x = (columns @ kernel).reshape(n, h, w, c)
        return grad_x if self.rank == 2 else grad_x[:, 0]

    def get_config(self):
        unwrap = list if self.rank == 2 else (lambda pair_: pair_[1])
        return {**super().get_config(), "filters": self.filters, "kernel_size": unwrap(self._kernel),
                "strides": unwrap(self._strides), "padding": self.padding,
                "dilation_rate": unwrap(self._dilation), **self.kernel_config()}


class Conv2DTranspose(_ConvTranspose):
    """Transposed 2-D convolution ("deconvolution"), upsampling images by `strides`.

    Args:
        filters: Number of output channels.
        kernel_size: Window height and width, an int or a pair.
        strides: Upsampling factors, an int or a pair. Defaults to 1.
        padding: "valid" (output `input * strides + max(kernel - strides, 0)`) or "same"
            (output `input * strides`). Defaults to "valid".
        dilation_rate: Spacing between kernel taps, an int or a pair. Defaults to 1.
        activation: Name from `barenet.activations`, or None for linear.
        use_bias: Whether to learn `biases`. Defaults to True.
        kernel_initializer, bias_initializer: Initializer names. Default to "glorot_uniform", "zeros".
        kernel_regularizer, bias_regularizer: Penalties. Default to None.
        input_shape: `(height, width, channels)`; only needed on a model's first layer.
        name: Layer name. Defaults to one the model assigns.

    `weights` has Keras's layout `(kh, kw, filters, in_channels)`; `biases` `(filters,)`.
    Keras's `output_padding` is not implemented.
    """

    rank = 2

    @property
    def kernel_size(self):
        return self._kernel

    @property
    def strides(self):
        return self._strides

    @property
    def dilation_rate(self):
        return self._dilation


class Conv1DTranspose(_ConvTranspose):
    """Transposed 1-D convolution, upsampling sequences by `strides`.

    Args: as `Conv2DTranspose`, with ints for `kernel_size`, `strides` and `dilation_rate`;
    `input_shape` is `(steps, channels)`. `weights` has shape `(kernel_size, filters, in_channels)`.
    """

    rank = 1

    @property
    def kernel_size(self):
        return self._kernel[1]

    @property
    def strides(self):
        return self._strides[1]

    @property
    def dilation_rate(self):
        return self._dilation[1]
