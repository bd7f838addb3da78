"""A compiled kernel (numba) for sparse categorical cross-entropy after a softmax.

`SparseCategoricalCrossentropy.value_and_logits_gradient` (`losses/probabilistic.py`) takes
a dozen NumPy calls on a batch of probabilities; on the benchmark MLP's batch of 32 x 10 they
cost more than the arithmetic by far. `picked_and_gradient` does the part of them that is
indexing, clipping and the gradient in one call, with NumPy's arithmetic (float32, the same
clip with NaN kept, the same subtraction and scaling), so its results are NumPy's to the bit;
the logarithm and the sum stay NumPy's own (see the loss). The tests check the bits.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(nogil=True, cache=True, error_model="numpy")
def picked_and_gradient(probabilities, labels, share, picked, grad):
    """For rows `probabilities` (n, classes, float32) and labels (n,): `picked[i]` = the label's
    probability clipped to [1e-7, 1] (NaN stays NaN), and `grad = (probabilities - onehot) * share`.
    Negative labels count from the end, as NumPy's indexing does. Returns False, writing nothing
    reliable, when a label is out of range (the caller then takes NumPy's path, which raises)."""
    n, classes = probabilities.shape
    low, high, one = np.float32(1e-7), np.float32(1.0), np.float32(1.0)
    for i in range(n):
        label = labels[i]
        if label < 0:
            label += classes
        if label < 0 or label >= classes:
            return False
        value = probabilities[i, label]
        if value < low:  # np.maximum then np.minimum: comparisons with NaN are false, so NaN stays
            value = low
        if value > high:
            value = high
        picked[i] = value
        for j in range(classes):
            grad[i, j] = probabilities[i, j]
        grad[i, label] = probabilities[i, label] - one
        for j in range(classes):
            grad[i, j] = grad[i, j] * share
    return True
