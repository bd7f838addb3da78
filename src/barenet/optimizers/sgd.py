"""Stochastic gradient descent, optionally with (Nesterov) momentum."""

from __future__ import annotations

import numpy as np

from .base import Optimizer, _check_bool, _check_unit_interval


class SGD(Optimizer):
    """Gradient descent with momentum, as Keras defines it.

        velocity = momentum * velocity - lr * grad
        param += velocity                              (classic)
        param += momentum * velocity - lr * grad       (nesterov=True)

    With `momentum=0` this is `param -= lr * grad`. For a constant learning rate this
    is PyTorch's `SGD(lr, momentum, nesterov)` (dampening 0) exactly: its buffer is
    `velocity / -lr`.

    Args:
        learning_rate: Float or schedule. Defaults to 0.01.
        momentum: In [0, 1). Defaults to 0.0.
        nesterov: Use Nesterov momentum. Defaults to False.
        **kwargs: `name`, `weight_decay`, `clipnorm`, `clipvalue`, `global_clipnorm`
            (see `Optimizer`).
    """

    def __init__(self, learning_rate=0.01, momentum: float = 0.0, nesterov: bool = False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.momentum = _check_unit_interval("momentum", momentum)
        self.nesterov = _check_bool("nesterov", nesterov)

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
