"""1-D convolution over sequences: Keras's `Conv1D`, channels-last `(batch, steps, channels)`.

The same im2col scheme as `Conv2D`: a strided view lists every (dilated) window, one copy
turns it into columns `(batch * out_steps, kernel_size * in_channels)`, and one matrix
product is the forward pass; the input gradient is scattered back with one strided add
per kernel tap.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..reductions import column_sums
from .base import Layer, check_positive_int
from .kernel_layer import KernelLayer
from .windows import check_padding, conv_output_size

PADDINGS_1D = ("valid", "same", "causal")


def single(value, name: str) -> int:
    """A positive int or a 1-tuple of one -> the int, or a ValueError naming `name`."""
    if not (isinstance(value, numbers.Integral) and not isinstance(value, bool)):
        try:
            items = tuple(value)
        except TypeError:
            items = ()
        value = items[0] if len(items) == 1 else None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"`{name}` must be a positive integer or a tuple of one. Received: {name}={value!r}")
    return int(value)


def steps_output_size(layer: Layer, input_shape, kernel: int, stride: int, dilation: int, padding: str,
                      kernel_arg: str) -> tuple[int, tuple[int, int]]:
    """`(out_steps, (pad_before, pad_after))` for a sequence layer; raises for bad ranks or kernels.

    The window spans `dilation * (kernel - 1) + 1` steps. "causal" pads that span minus one
    on the left only, so output step t sees inputs up to t; "valid" and "same" are as in
    `conv_output_size` (the odd pad at the end).
    """
    if len(input_shape) != 2:
        raise ValueError(
            f"Layer {layer.name!r} ({type(layer).__name__}) expects sequences of shape (steps, channels). "
            f"Received: input_shape={tuple(input_shape)}"
        )
    span = dilation * (kernel - 1) + 1
    if padding == "causal":
        pads = (span - 1, 0)
        out = conv_output_size(input_shape[0] + span - 1, span, stride, "valid")[0]
    else:
        out, before, after = conv_output_size(input_shape[0], span, stride, padding)
        pads = (before, after)
    padded = input_shape[0] + sum(pads)
    if padded < span:
        raise ValueError(
            f"`{kernel_arg}` {kernel} of layer {layer.name!r} (spanning {span} steps"
            f"{f' at dilation_rate={dilation}' if dilation > 1 else ''}) is larger than its input of {input_shape[0]} "
            f"steps. Received: {kernel_arg}={kernel}, input_shape={tuple(input_shape)}"
        )
    return out, pads


def step_windows(x: np.ndarray, kernel: int, stride: int, dilation: int, out: int) -> np.ndarray:
    """Read-only view `(batch, out, kernel, channels)` of every window of `x` (no copy)."""
    n, _, c = x.shape
    sn, ss, sc = x.strides
    return np.lib.stride_tricks.as_strided(x, shape=(n, out, kernel, c), strides=(sn, ss * stride, ss * dilation, sc),
                                           writeable=False)


class Conv1D(KernelLayer):
    """1-D convolution over channels-last sequences: `activation(conv(x, weights) + biases)`.

    Args:
        filters: Number of output channels.
        kernel_size: Window length (an int or a tuple of one).
        strides: Step between windows. Defaults to 1.
        padding: "valid" (no padding), "same" (output `ceil(steps / strides)`, an odd pad at
            the end, as Keras) or "causal" (pad on the left only, so that output t depends on
            inputs up to t: WaveNet's convolution). Defaults to "valid".
        dilation_rate: Spacing between the kernel's taps. Defaults to 1.
        activation: Name from `barenet.activations`, or None for linear.
        use_bias: Whether to learn `biases`. Defaults to True.
        kernel_initializer: Initializer name for `weights`. Defaults to "glorot_uniform".
        bias_initializer: Initializer name for `biases`. Defaults to "zeros".
        kernel_regularizer, bias_regularizer: Penalties (a regularizer or a name). Default to None.
        input_shape: `(steps, channels)`; only needed on a model's first layer.
        name: Layer name. Defaults to one the model assigns.

    Input `(batch, steps, in_channels)` -> output `(batch, out_steps, filters)`. `weights`
    has Keras's kernel layout `(kernel_size, in_channels, filters)` and `biases` shape
    `(filters,)` (the names Conv2D and Dense use in barenet).
    """

    def __init__(self, filters: int, kernel_size, strides=1, padding: str = "valid", dilation_rate=1,
                 activation=None, use_bias: bool = True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, input_shape=None,
                 name: str | None = None):
        super().__init__(activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                         bias_regularizer, input_shape, name)
        self.filters = check_positive_int("filters", filters)
        self.kernel_size = single(kernel_size, "kernel_size")
        self.strides = single(strides, "strides")
        self.dilation_rate = single(dilation_rate, "dilation_rate")
        self.padding = check_padding(padding, PADDINGS_1D)

    def _output_size(self, input_shape):
        return steps_output_size(self, input_shape, self.kernel_size, self.strides, self.dilation_rate, self.padding,
                                 "kernel_size")

    def compute_output_shape(self, input_shape):
        return (self._output_size(input_shape)[0], self.filters)

    def _build(self, input_shape, rng):
        self._out_steps, self._pads = self._output_size(input_shape)
        self.params["weights"] = self.kernel_initializer((self.kernel_size, input_shape[1], self.filters), rng,
                                                         self.dtype)
        if self.use_bias:
            self.params["biases"] = self.bias_initializer((self.filters,), rng, self.dtype)

    def forward(self, x, training=False):
        self._check_input(x)
        self._x_shape = x.shape
        padded = np.pad(x, ((0, 0), self._pads, (0, 0))) if any(self._pads) else x
        self._padded_shape = padded.shape
        self._columns = step_windows(padded, self.kernel_size, self.strides, self.dilation_rate,
                                     self._out_steps).reshape(-1, self.kernel_size * x.shape[2])
        z = self._columns @ self.params["weights"].reshape(-1, self.filters)
        if self.use_bias:
            z += self.params["biases"]
        return self.activation.forward_in_place(z.reshape(len(x), self._out_steps, self.filters))

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
        n, c = self._x_shape[0], self._x_shape[2]
        stride, last = self.strides, self.strides * (self._out_steps - 1) + 1
        grad_padded = np.zeros(self._padded_shape, grad.dtype)
        for tap in range(self.kernel_size):
            start = tap * self.dilation_rate
            grad_padded[:, start:start + last:stride] += (grad @ weights[tap].T).reshape(n, self._out_steps, c)
        before, after = self._pads
        return grad_padded[:, before:grad_padded.shape[1] - after]

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "dilation_rate": self.dilation_rate,
            **self.kernel_config(),
        }
