"""Adam (Kingma & Ba, 2015) with Keras's defaults and epsilon placement."""

from __future__ import annotations

import numpy as np

from .base import Optimizer, _check_non_negative, _check_unit_interval


class Adam(Optimizer):
    """Adam.

        m = beta_1 m + (1 - beta_1) grad
        v = beta_2 v + (1 - beta_2) grad^2
        param -= lr sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon)

    Epsilon sits outside the bias correction of `v` (Keras's "epsilon hat"); PyTorch
    adds it after correcting, so `eps_torch = epsilon * sqrt(1 - beta_2^t)` per step.

    Args:
        learning_rate: Defaults to 0.001.
        beta_1: In [0, 1). Defaults to 0.9.
        beta_2: In [0, 1). Defaults to 0.999.
        epsilon: Defaults to 1e-7.
    """

    def __init__(self, learning_rate: float = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = _check_unit_interval("beta_1", beta_1)
        self.beta_2 = _check_unit_interval("beta_2", beta_2)
        self.epsilon = _check_non_negative("epsilon", epsilon)

    def init_slots(self, param):
        return {"m": np.zeros_like(param), "v": np.zeros_like(param)}

    def update(self, param, grad, slots, lr):
        m, v, t = slots["m"], slots["v"], self.iterations
        m += (1 - self.beta_1) * (grad - m)
        v += (1 - self.beta_2) * (grad * grad - v)
        step = lr * np.sqrt(1 - self.beta_2**t) / (1 - self.beta_1**t)
        param -= step * m / (np.sqrt(v) + self.epsilon)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}
