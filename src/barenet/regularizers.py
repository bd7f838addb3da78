"""Weight penalties added to the loss: `l1`, `l2`, `l1_l2` (Keras's definitions).

    penalty(w)  = l1 * sum(|w|) + l2 * sum(w^2)
    gradient(w) = l1 * sign(w)  + 2 * l2 * w          (sign(0) = 0)

A layer given `kernel_regularizer=` / `bias_regularizer=` adds the penalty of its
current weights to the loss the model reports (fit, evaluate, train_on_batch)
and its gradient to the layer's `grads`, so training minimizes
`mean batch loss + sum of penalties`. The penalty is not divided by the batch size.

    bn.Dense(64, "relu", kernel_regularizer=bn.regularizers.l2(1e-4))
    bn.Dense(64, "relu", kernel_regularizer="l2")        # l2=0.01

By name (and as the functions `l1()`, `l2()`, `l1_l2()`), the factors default to
0.01, as in Keras; the class `L1L2` defaults to no penalty, as in Keras 3.
"""

from __future__ import annotations

import math
import numbers

import numpy as np


class Regularizer:
    """Base class: `regularizer(w) -> float` penalty and `gradient(w) -> array`."""

    def __call__(self, x: np.ndarray) -> float:
        raise NotImplementedError

    def gradient(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> "Regularizer":
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class L1L2(Regularizer):
    """`l1 * sum(|w|) + l2 * sum(w^2)`.

    Args:
        l1: Non-negative L1 factor. Defaults to 0.0.
        l2: Non-negative L2 factor. Defaults to 0.0.
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        self.l1 = _check_factor("l1", l1)
        self.l2 = _check_factor("l2", l2)

    def __call__(self, x):
        penalty = 0.0
        if self.l1:
            penalty += self.l1 * float(np.sum(np.abs(x)))
        if self.l2:
            penalty += self.l2 * float(np.sum(np.square(x)))
        return penalty

    def gradient(self, x):
        grad = np.zeros_like(x)
        if self.l1:
            grad += self.l1 * np.sign(x)
        if self.l2:
            grad += (2 * self.l2) * x
        return grad

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """`l1 * sum(|w|)`. Defaults to l1=0.01."""

    def __init__(self, l1: float = 0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    """`l2 * sum(w^2)`. Defaults to l2=0.01."""

    def __init__(self, l2: float = 0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


def l1(l1: float = 0.01) -> L1:
    """An L1 penalty `l1 * sum(|w|)`."""
    return L1(l1)


def l2(l2: float = 0.01) -> L2:
    """An L2 penalty `l2 * sum(w^2)`."""
    return L2(l2)


def l1_l2(l1: float = 0.01, l2: float = 0.01) -> L1L2:
    """Both penalties, each factor defaulting to 0.01 (Keras 2's `l1_l2`)."""
    return L1L2(l1=l1, l2=l2)


REGULARIZERS = {"l1": l1, "l2": l2, "l1_l2": l1_l2}
_CLASSES = {cls.__name__: cls for cls in (L1, L2, L1L2)}


def get(identifier) -> Regularizer | None:
    """A `Regularizer` for None, a name in `REGULARIZERS`, a `serialize` dict or a `Regularizer`."""
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str) and identifier.lower() in REGULARIZERS:
        return REGULARIZERS[identifier.lower()]()
    raise ValueError(f"Unknown regularizer {identifier!r}. Expected None, a Regularizer or one of: "
                     f"{', '.join(REGULARIZERS)}.")


def serialize(regularizer: Regularizer | None) -> dict | None:
    """`{"class_name": ..., "config": {...}}` (JSON-ready), or None for None."""
    if regularizer is None:
        return None
    return {"class_name": type(regularizer).__name__, "config": regularizer.get_config()}


def deserialize(config: dict, custom_objects: dict | None = None) -> Regularizer:
    classes = {**_CLASSES, **(custom_objects or {})}
    cls = classes.get(config.get("class_name")) if isinstance(config, dict) else None
    if cls is None:
        raise ValueError(f"Unknown regularizer config {config!r}. Expected {{'class_name': one of "
                         f"{', '.join(classes)}, 'config': {{...}}}}.")
    return cls.from_config(dict(config.get("config", {})))


def _check_factor(name, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value < 0:
        raise ValueError(f"`{name}` must be a non-negative number. Received: {name}={value!r}")
    return float(value)
