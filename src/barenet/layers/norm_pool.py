"""A BatchNormalization followed by MaxPooling2D(2), in training and at inference, run as one pass.

A CNN block `Conv2D -> BatchNormalization -> MaxPooling2D(2)`, run layer by layer, writes the
normalized images and reads them back to pool them. Fused, the statistics are taken as before
(two passes over the input), then each sample is normalized into a scratch image that stays
in the core's cache and pooled from there, so only the pooled maxima and their winners are
written (`barenet.fast.normalization_kernels.normalize_pool`). The backward pass is the two
layers' own: the pool's gradient made from the winners, then BatchNormalization's. (Made a
sample at a time in cache as its two passes read it, that gradient cost more than it saved:
making it twice took longer than reading it back, measured.)

The values are the two layers' own, bit for bit (tested): the same formulas, rows and
blocks. A chain of layers fuses the pair when `BatchNormalization.fuses_with`
says so (`autodiff.function.chain_node`: the pool is the only reader of the normalized
images): in training, on the compiled kernels' path (float32, not `synchronized`), on
images `(batch, h, w, channels)`, and a `MaxPooling2D` of 2 x 2 windows, strides 2, "valid"
padding. At inference without gradients (`predict`, `evaluate`) the pair is fused too: the
moving statistics' multiply-add (the layer's own numbers) and the pooling in one pass
(`normalization_kernels.affine_pool`), the same bits as the two layers.

The pair's state (the input's rows, the statistics and the winners) lives on the
BatchNormalization, none on the pool.
"""

from __future__ import annotations

import numpy as np

from .. import fast
from ..autodiff import grad_enabled
from .pooling import halves_by_max


def fusable(norm, pool, x, training) -> bool:
    """Whether `pool.forward(norm.forward(x, training))` can run as one pass (`forward`, `infer`):
    in training (not `synchronized`), or at inference where no gradient is taken (`no_grad`:
    `predict`, `evaluate`)."""
    wanted = (not norm.synchronized) if training else not grad_enabled()
    return (wanted and halves_by_max(pool) and norm.built and isinstance(x, np.ndarray) and x.ndim == 4
            and x.dtype == norm.dtype and fast.enabled(x.dtype))


def forward(norm, x):
    """The pooled output of `norm` on `x` in training, `(n, h // 2, w // 2, channels)`."""
    norm._check_input(x)
    features = x.shape[-1]
    gamma, beta = norm.affine_params(x.dtype)
    rows, mean, scale, shift = norm.statistics_fast(x, gamma, beta)
    n, height, width = x.shape[:3]
    pooled = np.empty((n, height // 2, width // 2, features), x.dtype)
    norm._pool_winner = np.empty(pooled.shape, np.uint8)
    norm._pool_input_hw = (height, width)
    with fast.running():
        fast.get_normalization_kernels().normalize_pool(rows.reshape(x.shape), mean, scale, shift, pooled,
                                                        norm._pool_winner)
    return pooled


def infer(norm, x):
    """The pooled output of `norm` on `x` at inference, `(n, h // 2, w // 2, channels)`: the moving
    statistics' `x * scale + shift` (`BatchNormalization.inference_affine`, the layer's own numbers)
    pooled in cache. No state is kept: no backward pass follows."""
    norm._check_input(x)
    features = x.shape[-1]
    gamma, beta = norm.affine_params(x.dtype)
    _, scale, shift = norm.inference_affine(gamma, beta, x.dtype)
    n, height, width = x.shape[:3]
    pooled = np.empty((n, height // 2, width // 2, features), x.dtype)
    with fast.running():
        fast.get_normalization_kernels().affine_pool(np.ascontiguousarray(x), scale, shift, pooled)
    return pooled


def backward(norm, dL_dy):
    """`norm`'s gradients and dLoss/d(its input), given dLoss/d(the pooled output) `dL_dy`: the pool's
    gradient made from the winners (`kernels.max_pool_2x2_backward`), then the layer's own backward."""
    grad = np.empty((len(dL_dy), *norm._pool_input_hw, dL_dy.shape[-1]), norm.dtype)
    with fast.running():
        fast.get_kernels().max_pool_2x2_backward(np.ascontiguousarray(dL_dy, norm.dtype), norm._pool_winner, grad)
    return norm._backward_fast(grad)
