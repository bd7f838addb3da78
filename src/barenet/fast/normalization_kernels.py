"""Compiled kernels (numba) for BatchNormalization's passes, over the cores.

The layer (`layers/normalization.py`) sees its input as rows `(batch * ..., features)` and
makes, in training, two passes for the statistics (the sums, then the squared deviations),
one for the output, one for both parameter sums and one for the input gradient. Each
kernel here is one of those passes over all rows, in parallel over a fixed split of the
rows into `blocks` (`blocks.block_bounds`); sums come out per block, and the layer adds
them in block order, so no result depends on the thread count. The deviations `x - mean`
are computed where they are used, in each pass, rather than stored: the same float32
subtraction, so the same values, without writing and reading back an array of the input's
size (the NumPy code keeps them: `centered`).

Followed by a `MaxPooling2D(2)` in a chain of layers in training, the output pass and the
pool's run as one (`normalize_pool`, `layers.norm_pool`): only the pooled output is written.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .blocks import block_bounds
from .kernels import pool_image


@njit(parallel=True, nogil=True, cache=True, error_model="numpy")
def column_sums(x, parts):
    """`parts[b]` = the sum of block `b`'s rows of `x` `(rows, features)`."""
    blocks, rows = parts.shape[0], x.shape[0]
    for b in prange(blocks):
        start, stop = block_bounds(rows, blocks, b)
        total = parts[b]
        total[:] = 0
        for r in range(start, stop):
            row = x[r]
            for k in range(x.shape[1]):
                total[k] += row[k]


@njit(parallel=True, nogil=True, cache=True, error_model="numpy")
def deviation_sums(x, mean, parts):
    """`parts[b]` = the sum of block `b`'s squared deviations `(x - mean)^2`."""
    blocks, rows = parts.shape[0], x.shape[0]
    for b in prange(blocks):
        start, stop = block_bounds(rows, blocks, b)
        total = parts[b]
        total[:] = 0
        for r in range(start, stop):
            source = x[r]
            for k in range(x.shape[1]):
                d = source[k] - mean[k]
                total[k] += d * d


@njit(parallel=True, nogil=True, cache=True, error_model="numpy")
def normalize(x, mean, scale, shift, out, blocks):
    """`out = (x - mean) * scale + shift` (row by row)."""
    rows = x.shape[0]
    for b in prange(blocks):
        start, stop = block_bounds(rows, blocks, b)
        for r in range(start, stop):
            source, target = x[r], out[r]
            for k in range(x.shape[1]):
                target[k] = (source[k] - mean[k]) * scale[k] + shift[k]


@njit(parallel=True, nogil=True, cache=True, error_model="numpy")
def gradient_sums(grad, x, mean, grad_parts, product_parts):
    """Per block: the sum of `grad` rows and of `grad * (x - mean)` rows (dL/dbeta, dL/dgamma / inv_std)."""
    blocks, rows = grad_parts.shape[0], grad.shape[0]
    for b in prange(blocks):
        start, stop = block_bounds(rows, blocks, b)
        g_total, p_total = grad_parts[b], product_parts[b]
        g_total[:] = 0
        p_total[:] = 0
        for r in range(start, stop):
            g, source = grad[r], x[r]
            for k in range(grad.shape[1]):
                g_total[k] += g[k]
                p_total[k] += g[k] * (source[k] - mean[k])


@njit(parallel=True, nogil=True, cache=True, error_model="numpy")
def input_gradient(grad, x, mean, scale, offset, slope, out, blocks):
    """`out = grad * scale - offset - (x - mean) * slope` (the batch-norm input gradient)."""
    rows = grad.shape[0]
    for b in prange(blocks):
        start, stop = block_bounds(rows, blocks, b)
        for r in range(start, stop):
            g, source, target = grad[r], x[r], out[r]
            for k in range(grad.shape[1]):
                target[k] = g[k] * scale[k] - offset[k] - (source[k] - mean[k]) * slope[k]


@njit(parallel=True, nogil=True, cache=True, error_model="numpy")
def normalize_pool(x, mean, scale, shift, pooled, winner):
    """`normalize` of the images x `(n, h, w, c)`, then `kernels.max_pool_2x2_forward` of the result,
    a sample at a time: its normalized image is a scratch array that stays in the core's cache, so
    only the pooled maxima and their winners are written."""
    n, h, w, c = x.shape
    for s in prange(n):
        image = np.empty((h, w, c), x.dtype)
        for i in range(h):
            for j in range(w):
                source, target = x[s, i, j], image[i, j]
                for k in range(c):
                    target[k] = (source[k] - mean[k]) * scale[k] + shift[k]
        pool_image(image, pooled[s], winner[s], False)


@njit(parallel=True, nogil=True, cache=True, error_model="numpy")
def affine_pool(x, scale, shift, pooled):
    """Inference's `x * scale + shift` (a product, then a sum: NumPy's two roundings) of the images
    x `(n, h, w, c)`, then `kernels.max_pool_2x2_forward` of the result, a sample at a time in cache;
    the winners are not kept (no backward pass follows an inference without gradients)."""
    n, h, w, c = x.shape
    for s in prange(n):
        image = np.empty((h, w, c), x.dtype)
        winner = np.empty(pooled.shape[1:], np.uint8)
        for i in range(h):
            for j in range(w):
                source, target = x[s, i, j], image[i, j]
                for k in range(c):
                    target[k] = source[k] * scale[k] + shift[k]
        pool_image(image, pooled[s], winner, False)
