"""Compiled kernels (numba) for a classifier's output: the softmax's shift and the accuracy's count.

On the benchmark MLP's batch of 128 x 10 probabilities NumPy's reductions along rows of ten
values cost far more than their arithmetic: `x.max(axis=-1)` alone takes 6-7 us, and the
accuracy's `argmax`, comparison and count about 5 us. These kernels do that part in one pass
each, once the kernels are loaded, with NumPy's results to the bit; the tests check the bits.

- `shifted_rows`: `x - x.max(axis=-1, keepdims=True)` for the softmax (`activation_base.softmax_array`),
  whose `exp`, sum and division stay NumPy's own. A row's maximum is exact in any order; NaN in a
  row makes it NaN, as NumPy's does. (Where a row's largest values are 0.0 and -0.0 the shift may
  keep the other zero than NumPy's; `exp` maps both to 1, so the softmax's bits are the same.)
- `argmax_hits`: `count_nonzero(labels == argmax(scores, axis=-1))`, for `accuracy` on integer
  labels; the first largest score wins, and a NaN wins over every number, as in `np.argmax`.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(nogil=True, cache=True, error_model="numpy")
def shifted_rows(x, out):
    """`out[r] = x[r] - max(x[r])` for each row of the 2-D `x` (rows of at least one value)."""
    for r in range(x.shape[0]):
        row, target = x[r], out[r]
        top = row[0]
        for c in range(1, row.shape[0]):
            if np.isnan(top):
                break
            value = row[c]
            if value > top or np.isnan(value):
                top = value
        for c in range(row.shape[0]):
            target[c] = row[c] - top


@njit(nogil=True, cache=True, error_model="numpy")
def argmax_hits(labels, scores):
    """How many rows of the 2-D `scores` have their `np.argmax` equal to their label in `labels`."""
    hits = 0
    for r in range(scores.shape[0]):
        row = scores[r]
        best, top = 0, row[0]
        if not np.isnan(top):
            for c in range(1, row.shape[0]):
                value = row[c]
                if np.isnan(value):
                    best = c
                    break
                if value > top:
                    best, top = c, value
        if labels[r] == best:
            hits += 1
    return hits
