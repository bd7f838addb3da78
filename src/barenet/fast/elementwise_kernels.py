"""Compiled kernels (numba) for one-pass elementwise work: Adam's update (and its proof that a step
stays finite) and Dropout's mask.

Each is the NumPy code it stands in for (`optimizers/adam.py`, `layers/core.py`), fused into
one pass and spread over a fixed split of the array (`blocks.block_bounds`). The arithmetic
is float32 throughout, in NumPy's order (the constants rounded to float32 as NumPy rounds
a Python float against a float32 array, and no fused multiply-add), so the results are
NumPy's to the bit; the tests check that. Each loop runs from 0 over a slice, and division
follows NumPy's rules (`error_model="numpy"`: no zero test), so the compiler vectorizes it:
with Python's rules and a loop from a computed start it did not, and Adam's kernel ran at
a third of NumPy's speed (620 us against 230 us on 101,770 values, one thread; 47 us now).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .blocks import block_bounds


@njit(nogil=True, cache=True, error_model="numpy")
def adam_block(param, grad, m, v, beta_1, one_minus_beta_1, beta_2, one_minus_beta_2, epsilon, step):
    """`adam_update` on one thread (no launch: for small arrays, or beside BLAS's threads)."""
    for i in range(param.shape[0]):  # from 0: the compiler sees no negative index, and vectorizes
        g = grad[i]
        first = m[i] * beta_1 + g * one_minus_beta_1
        second = v[i] * beta_2 + (g * g) * one_minus_beta_2
        m[i] = first
        v[i] = second
        param[i] -= first / (np.sqrt(second) + epsilon) * step


@njit(parallel=True, nogil=True, cache=True, error_model="numpy")
def adam_update(param, grad, m, v, beta_1, one_minus_beta_1, beta_2, one_minus_beta_2, epsilon, step, blocks):
    """In place, on flat float32 arrays: `m = b1 m + (1 - b1) g`, `v = b2 v + (1 - b2) g^2`,
    `param -= m / (sqrt(v) + epsilon) * step`."""
    size = param.shape[0]
    for b in prange(blocks):
        lo, hi = block_bounds(size, blocks, b)
        adam_block(param[lo:hi], grad[lo:hi], m[lo:hi], v[lo:hi], beta_1, one_minus_beta_1, beta_2,
                   one_minus_beta_2, epsilon, step)


@njit(nogil=True, cache=True, error_model="numpy")
def mask_block(values, keep, scale, out):
    """`apply_mask` on one thread."""
    for i in range(values.shape[0]):
        out[i] = values[i] * np.float32(keep[i]) * scale  # NumPy's order: a NaN stays NaN, -x * 0 is -0


@njit(parallel=True, nogil=True, cache=True, error_model="numpy")
def apply_mask(values, keep, scale, out, blocks):
    """`out = values * keep * scale` on flat float32 arrays of one length (keep: booleans)."""
    size = values.shape[0]
    for b in prange(blocks):
        lo, hi = block_bounds(size, blocks, b)
        mask_block(values[lo:hi], keep[lo:hi], scale, out[lo:hi])


@njit(nogil=True, cache=True, error_model="numpy", fastmath={"reassoc"})
def squares_and_finite(grad, param):
    """`(sum of grad^2 in float64, whether every value of param is finite)`, one pass over each
    (flat arrays): Adam's proof that a step stays finite. The sums may be reassociated, so they
    vectorize; that only changes their rounding, and a NaN or inf still makes them NaN or inf."""
    squares = 0.0
    for i in range(grad.shape[0]):
        g = np.float64(grad[i])
        squares += g * g
    check = 0.0
    for i in range(param.shape[0]):
        check += np.float64(param[i]) * 0.0  # 0, or NaN when a value is NaN or infinite
    return squares, check == 0.0


@njit(parallel=True, nogil=True, cache=True, error_model="numpy")
def squares_and_finite_blocks(grad, param, blocks):
    """`squares_and_finite` taken in `blocks` fixed blocks of the flat arrays over the cores, the
    blocks' sums then added in block order. Each core reads the block it wrote (the gradient's rows
    from Dense's split product) and will update (Adam's blocks are the same)."""
    size = grad.shape[0]
    parts = np.empty((blocks, 2))
    for b in prange(blocks):
        lo, hi = block_bounds(size, blocks, b)
        squares, finite = squares_and_finite(grad[lo:hi], param[lo:hi])
        parts[b, 0] = squares
        parts[b, 1] = 1.0 if finite else 0.0
    squares, finite = 0.0, True
    for b in range(blocks):
        squares += parts[b, 0]
        finite = finite and parts[b, 1] == 1.0
    return squares, finite
