"""Compiled kernels (numba) for one-pass elementwise work: Adam's update and Dropout's mask.

Each is the NumPy code it stands in for (`optimizers/adam.py`, `layers/core.py`), fused into
one pass and spread over a fixed split of the array (`blocks.block_bounds`). The arithmetic
is float32 throughout, in NumPy's order (the constants rounded to float32 as NumPy rounds
a Python float against a float32 array, and no fused multiply-add), so the results are
NumPy's to the bit; the tests check that.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .blocks import block_bounds


@njit(parallel=True, nogil=True, cache=True)
def adam_update(param, grad, m, v, beta_1, one_minus_beta_1, beta_2, one_minus_beta_2, epsilon, step, blocks):
    """In place, on flat float32 arrays: `m = b1 m + (1 - b1) g`, `v = b2 v + (1 - b2) g^2`,
    `param -= m / (sqrt(v) + epsilon) * step`."""
    size = param.shape[0]
    for b in prange(blocks):
        start, stop = block_bounds(size, blocks, b)
        for i in range(start, stop):
            g = grad[i]
            first = m[i] * beta_1 + g * one_minus_beta_1
            second = v[i] * beta_2 + (g * g) * one_minus_beta_2
            m[i] = first
            v[i] = second
            param[i] -= first / (np.sqrt(second) + epsilon) * step


@njit(parallel=True, nogil=True, cache=True)
def apply_mask(values, keep, scale, out, blocks):
    """`out = values * keep * scale` on flat float32 arrays of one length (keep: booleans)."""
    size = values.shape[0]
    for b in prange(blocks):
        start, stop = block_bounds(size, blocks, b)
        for i in range(start, stop):
            out[i] = values[i] * np.float32(keep[i]) * scale  # NumPy's order: a NaN stays NaN, -x * 0 is -0
