"""RMSprop (Hinton, 2012), Keras's formulation."""

from __future__ import annotations

import numpy as np

from .base import Optimizer, _check_bool, _check_non_negative, _check_unit_interval


class RMSprop(Optimizer):
    """RMSprop: divide the gradient by a running root-mean-square of recent gradients.

        velocity = rho * velocity + (1 - rho) * grad^2
        average  = rho * average + (1 - rho) * grad                    (centered only)
        denom    = velocity + epsilon   or   velocity - average^2 + epsilon (centered)
        step     = lr * grad / sqrt(denom)
        param   -= step                  or, with momentum:
        buffer   = momentum * buffer + step;  param -= buffer

    Epsilon sits *inside* the square root (Keras); PyTorch adds its `eps` *outside*
    (`sqrt(velocity) + eps`), so the two agree exactly only at `epsilon = eps = 0`.
    PyTorch's `alpha` is `rho`. With momentum, PyTorch's buffer holds `step / lr`:
    identical for a constant learning rate.

    Args:
        learning_rate: Float or schedule. Defaults to 0.001.
        rho: Decay of the running averages, in [0, 1). Defaults to 0.9.
        momentum: In [0, 1). Defaults to 0.0.
        epsilon: Non-negative. Defaults to 1e-7.
        centered: Normalize by the running variance instead of the raw second moment.
            Defaults to False.
        **kwargs: Common `Optimizer` arguments.
    """

    def __init__(self, learning_rate=0.001, rho: float = 0.9, momentum: float = 0.0, epsilon: float = 1e-7,
                 centered: bool = False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho = _check_unit_interval("rho", rho)
        self.momentum = _check_unit_interval("momentum", momentum)
        self.epsilon = _check_non_negative("epsilon", epsilon)
        self.centered = _check_bool("centered", centered)

    def init_slots(self, param):
        slots = {"velocity": np.zeros_like(param)}
        if self.centered:
            slots["average_gradient"] = np.zeros_like(param)
        if self.momentum:
            slots["momentum"] = np.zeros_like(param)
        return slots

    def update(self, param, grad, slots, lr):
        velocity = slots["velocity"]
        velocity += (1 - self.rho) * (grad * grad - velocity)
        if self.centered:
            average = slots["average_gradient"]
            average += (1 - self.rho) * (grad - average)
            denom = velocity - average * average + self.epsilon
        else:
            denom = velocity + self.epsilon
        step = lr * grad / np.sqrt(denom)
        if self.momentum:
            buffer = slots["momentum"]
            buffer *= self.momentum
            buffer += step
            param -= buffer
        else:
            param -= step

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}
