"""Adadelta (Zeiler, 2012), Keras's formulation."""

from __future__ import annotations

import numpy as np

from .base import Optimizer, _check_positive, _check_unit_interval


class Adadelta(Optimizer):
    """Adadelta: steps scaled by the ratio of running RMS of updates to that of gradients.

        grad_avg  = rho * grad_avg + (1 - rho) * grad^2
        delta     = sqrt(delta_avg + epsilon) / sqrt(grad_avg + epsilon) * grad
        delta_avg = rho * delta_avg + (1 - rho) * delta^2
        param    -= lr * delta

    Both averages hold squares, so they never go negative (the blog's version
    accumulated `delta` itself and could take the root of a negative number).
    Epsilon sits inside both roots, as in Keras and PyTorch, so the two agree exactly
    for equal `epsilon`/`eps`. The paper's method is `learning_rate=1.0` (PyTorch's
    default); Keras's default 0.001 makes it very slow.

    Args:
        learning_rate: Float or schedule. Defaults to 0.001.
        rho: Decay of the running averages, in [0, 1). Defaults to 0.95.
        epsilon: Positive (at 0 the first step, and every later one, would be 0). Defaults to 1e-7.
        **kwargs: Common `Optimizer` arguments.
    """

    def __init__(self, learning_rate=0.001, rho: float = 0.95, epsilon: float = 1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho = _check_unit_interval("rho", rho)
        self.epsilon = _check_positive("epsilon", epsilon)

    def init_slots(self, param):
        return {"grad_avg": np.zeros_like(param), "delta_avg": np.zeros_like(param)}

    def update(self, param, grad, slots, lr):
        grad_avg, delta_avg = slots["grad_avg"], slots["delta_avg"]
        grad_avg += (1 - self.rho) * (grad * grad - grad_avg)
        delta = np.sqrt(delta_avg + self.epsilon) / np.sqrt(grad_avg + self.epsilon) * grad
        delta_avg += (1 - self.rho) * (delta * delta - delta_avg)
        param -= lr * delta

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}
