"""Finite-difference gradient checking (central differences, float64)."""

from __future__ import annotations

import numpy as np


def numerical_grad(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """d f() / d x by central differences, perturbing `x` in place one entry at a time."""
    grad = np.zeros_like(x, dtype=np.float64)
    flat_x, flat_g = x.reshape(-1), grad.reshape(-1)
    for i in range(flat_x.size):
        old = flat_x[i]
        flat_x[i] = old + eps
        plus = f()
        flat_x[i] = old - eps
        minus = f()
        flat_x[i] = old
        flat_g[i] = (plus - minus) / (2 * eps)
    return grad


def assert_close(analytic, numeric, rtol: float = 1e-5, atol: float = 1e-7) -> None:
    """Relative error check that tolerates entries near zero."""
    analytic, numeric = np.asarray(analytic, np.float64), np.asarray(numeric, np.float64)
    assert analytic.shape == numeric.shape, (analytic.shape, numeric.shape)
    np.testing.assert_allclose(analytic, numeric, rtol=rtol, atol=atol)
