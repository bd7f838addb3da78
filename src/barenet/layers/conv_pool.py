"""A Conv2D followed by MaxPooling2D(2), run as one pass: a CNN's usual block, fused.

Run as two layers, the block writes the convolution's whole output, reads it back to pool
it, and in the backward pass writes a gradient of that size (three quarters of it zeros)
that the convolution reads back beside its output, for the ReLU's gradient: four passes
over an array four times the size of what the block passes on. Fused, each block of
samples is convolved, biased, ReLU'd and pooled while it is in the core's cache, and only
the pooled maxima and their winners are kept; the backward pass builds each chunk's ReLU
gradient from the pooled gradient where the convolution's kernel reads it
(`barenet.fast.kernels.conv_pool_forward` / `conv_pool_backward`).

The values are the two layers' own, bit for bit (tested): the same blocks, products and
sums. A chain of layers fuses a pair when `Conv2D.fuses_with` says so
(`autodiff.function.chain_node`: the pool is then the only reader of the convolution's
output, and neither layer has an activity regularizer), on the compiled kernels' path
only: float32 channels-last inputs, no groups, a ReLU or no activation, and a
`MaxPooling2D` of 2 x 2 windows, strides 2, "valid" padding.

The pair's state lives on the convolution (its input, and the winners, with 4 marking a
window whose maximum the ReLU zeroed), none on the pool: nothing the pair caches is an
array it hands on.
"""

from __future__ import annotations

import numpy as np

from .. import fast
from ..activations import Linear, is_plain_relu
from .pooling import halves_by_max


def fusable(conv, pool, x) -> bool:
    """Whether `pool.forward(conv.forward(x))` can run as one pass (`forward`)."""
    return (halves_by_max(pool) and conv.built and conv.groups == 1 and conv.data_format == "channels_last"
            and (is_plain_relu(conv.activation) or type(conv.activation) is Linear)
            and isinstance(x, np.ndarray) and x.ndim == 4 and x.dtype == conv.dtype and fast.enabled(x.dtype))


def forward(conv, pool, x):
    """The pooled output of `conv` on `x`, `(n, out_h // 2, out_w // 2, filters)`."""
    conv._check_input(x)
    conv._fast, conv._out = True, None
    (out_h, out_w), filters = conv._out_hw, conv.filters
    pooled = np.empty((len(x), out_h // 2, out_w // 2, filters), x.dtype)
    winner = conv._pool_winner = np.empty(pooled.shape, np.uint8)
    conv.forward_by_kernel(x, lambda kernels, x, weights, biases, geometry, blocks: kernels.conv_pool_forward(
        x, weights, biases, conv._fused_relu, pooled, winner, geometry, blocks))
    return pooled


def backward(conv, dL_dy):
    """`conv`'s gradients and dLoss/d(its input), given dLoss/d(the pooled output) `dL_dy`."""
    grad = np.ascontiguousarray(dL_dy, conv.dtype)
    winner = conv._pool_winner
    return conv.gradients_by_kernel(lambda kernels, weights, *parts: kernels.conv_pool_backward(
        grad, winner, conv._x, weights, *parts))
