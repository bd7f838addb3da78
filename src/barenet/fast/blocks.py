"""The fixed split of a batch (or of rows) into blocks, shared by the compiled kernels."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(nogil=True, cache=True, error_model="numpy")
def block_bounds(n, blocks, b):
    """Samples `[start, stop)` of block `b` of `blocks`: sizes differ by at most one."""
    b = np.int64(b)  # a parallel loop's index may be unsigned; mixed with signed it would become a float
    base, extra = n // blocks, n % blocks
    start = b * base + min(b, extra)
    return start, start + base + (1 if b < extra else 0)
