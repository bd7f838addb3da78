"""Stochastic gradient descent, optionally with (Nesterov) momentum."""

from __future__ import annotations

import numpy as np

from .base import Optimizer, _check_unit_interval


class SGD(Optimizer):
    """Gradient descent with momentum, as Keras defines it.

        velocity = momentum * velocity - lr * grad
        param += velocity                              (classic)
        param += momentum * velocity - lr * grad       (nesterov=True)

    With `momentum=0` this is `param -= lr * grad`.

    Args:
        learning_rate: Defaults to 0.01.
        momentum: In [0, 1). Defaults to 0.0.
        nesterov: Use Nesterov momentum. Defaults to False.
    """

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.0, nesterov: bool = False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.momentum = _check_unit_interval("momentum", momentum)
        self.nesterov = bool(nesterov)

    def init_slots(self, param):
        return {"velocity": np.zeros_like(param)} if self.momentum else {}

    def update(self, param, grad, slots, lr):
        if not self.momentum:
            param -= lr * grad
            return
        velocity = slots["velocity"]
        velocity *= self.momentum
        velocity -= lr * grad
        if self.nesterov:
            param += self.momentum * velocity - lr * grad
        else:
            param += velocity

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
