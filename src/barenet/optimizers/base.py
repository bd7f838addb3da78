"""The `Optimizer` interface every barenet optimizer implements.

An optimizer updates a flat dict of parameter arrays, in place, from a dict of
gradients under the same keys (the model uses keys like `"dense_1/weights"`).
Hyperparameters live in `__init__`; per-parameter state lives in named slots
created lazily by `init_slots`; `update` is the algorithm for one array.

    optimizer.apply_gradients(params, grads)   # one step: iterations += 1
    optimizer.get_state() / set_state(state)    # exact read-out / restore
"""

from __future__ import annotations

import numbers

import numpy as np


class Optimizer:
    """Base class.

    Args:
        learning_rate: Step size, a non-negative float. Defaults to 0.01.
        name: Optional display name. Defaults to the class name in lower case.
    """

    def __init__(self, learning_rate: float = 0.01, name: str | None = None):
        self.learning_rate = _check_non_negative("learning_rate", learning_rate)
        self.name = name or type(self).__name__.lower()
        self.iterations = 0
        self.slots: dict[str, dict[str, np.ndarray]] = {}

    # --- the algorithm -------------------------------------------------------------------
    def init_slots(self, param: np.ndarray) -> dict[str, np.ndarray]:
        """Return the state one parameter array needs (empty for plain SGD)."""
        return {}

    def update(self, param: np.ndarray, grad: np.ndarray, slots: dict, lr: float) -> None:
        """Update `param` in place from `grad`. `self.iterations` is the 1-based step number."""
        raise NotImplementedError

    # --- driving it -----------------------------------------------------------------------
    def current_learning_rate(self) -> float:
        """The learning rate for the step being taken."""
        return float(self.learning_rate)

    def apply_gradients(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        """Take one step on every parameter in `params` using `grads` under the same keys."""
        self.iterations += 1
        lr = self.current_learning_rate()
        for key, param in params.items():
            slots = self.slots.get(key)
            if slots is None:
                slots = self.slots[key] = self.init_slots(param)
            self.update(param, grads[key], slots, lr)

    # --- state and config -------------------------------------------------------------------
    def get_config(self) -> dict:
        """Hyperparameters as plain Python values; `type(opt)(**config)` rebuilds it."""
        return {"learning_rate": self.learning_rate, "name": self.name}

    def get_state(self) -> dict:
        """Iteration count and copies of every slot array, for exact resume."""
        return {
            "iterations": self.iterations,
            "slots": {key: {name: arr.copy() for name, arr in s.items()} for key, s in self.slots.items()},
        }

    def set_state(self, state: dict) -> None:
        """Restore what `get_state` returned."""
        self.iterations = int(state["iterations"])
        self.slots = {key: {name: np.array(arr) for name, arr in s.items()} for key, s in state["slots"].items()}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


def _check_non_negative(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
        raise ValueError(f"`{name}` must be a non-negative number. Received: {name}={value!r}")
    return value


def _check_unit_interval(name: str, value) -> float:
    """Check 0 <= value < 1 (decay rates, momenta)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
        raise ValueError(f"`{name}` must be a number in [0, 1). Received: {name}={value!r}")
    return value
