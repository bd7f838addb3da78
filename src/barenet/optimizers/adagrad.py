"""Adagrad (Duchi, Hazan & Singer, 2011), Keras's formulation."""

from __future__ import annotations

import numpy as np

from .base import Optimizer, _check_non_negative


class Adagrad(Optimizer):
    """Adagrad: per-entry step sizes shrinking with the sum of past squared gradients.

        accumulator += grad^2                 (starts at initial_accumulator_value)
        param -= lr * grad / sqrt(accumulator + epsilon)

    Epsilon sits *inside* the square root (Keras); PyTorch adds `eps` outside and
    starts its accumulator at 0 by default: with `initial_accumulator_value` equal
    and `epsilon = eps = 0` the two are identical.

    Args:
        learning_rate: Float or schedule. Defaults to 0.001 (the paper's form is 1.0).
        initial_accumulator_value: Non-negative start of the accumulator. Defaults to 0.1.
        epsilon: Non-negative. Defaults to 1e-7.
        **kwargs: Common `Optimizer` arguments.
    """

    def __init__(self, learning_rate=0.001, initial_accumulator_value: float = 0.1, epsilon: float = 1e-7,
                 **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.initial_accumulator_value = _check_non_negative("initial_accumulator_value", initial_accumulator_value)
        self.epsilon = _check_non_negative("epsilon", epsilon)

    def init_slots(self, param):
        return {"accumulator": np.full_like(param, self.initial_accumulator_value)}

    def update(self, param, grad, slots, lr):
        accumulator = slots["accumulator"]
        accumulator += grad * grad
        param -= lr * grad / np.sqrt(accumulator + self.epsilon)

    def get_config(self):
        return {**super().get_config(), "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}
