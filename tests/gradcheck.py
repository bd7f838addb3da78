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


def check_layer_gradients(layer, x: np.ndarray, rng: np.random.Generator, training: bool = False,
                          rtol: float = 1e-5, atol: float = 1e-7) -> None:
    """Finite-difference check of a built float64 layer's input and parameter gradients.

    The loss is a random projection of the output, `sum(out * R)`, so every output matters,
    plus the layer's weight penalties.
    """
    projection = rng.normal(size=layer.forward(x, training=training).shape)

    def loss():
        return float(np.sum(layer.forward(x, training=training) * projection)) + layer.regularization_loss()

    layer.forward(x, training=training)
    grad_x = layer.backward(projection)
    analytic = {key: value.copy() for key, value in layer.grads.items()}
    for key in layer.params:
        assert_close(analytic[key], numerical_grad(loss, layer.params[key]), rtol, atol)
    assert_close(grad_x, numerical_grad(loss, x), rtol, atol)
