"""Regression losses, each with its per-sample function (Keras's formulas) and exact gradient.

Every function returns one value per sample (the mean over the last axis, or a sum for
`cosine_similarity`); the classes add sample weights and the reduction (see `base`).
`call_gradient(y_true, y_pred, upstream)` is d(sum(upstream * values))/dy_pred.
"""

from __future__ import annotations

import numpy as np

from .base import EPSILON, Loss


def _diff(y_true, y_pred):
    y_pred = np.asarray(y_pred)
    return y_pred - np.asarray(y_true, y_pred.dtype)


def _per_output(upstream, y_pred):
    """`upstream` (one per sample) spread over the last axis of a mean: `upstream / d`."""
    return np.asarray(upstream)[..., None] / np.shape(y_pred)[-1]


def mean_squared_error(y_true, y_pred):
    """`mean((y_pred - y_true)^2, axis=-1)`."""
    return np.mean(np.square(_diff(y_true, y_pred)), axis=-1)


def mean_absolute_error(y_true, y_pred):
    """`mean(|y_pred - y_true|, axis=-1)`."""
    return np.mean(np.abs(_diff(y_true, y_pred)), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """`100 * mean(|y_true - y_pred| / max(|y_true|, eps), axis=-1)`."""
    y_true = np.asarray(y_true, np.asarray(y_pred).dtype)
    return 100 * np.mean(np.abs(_diff(y_true, y_pred)) / np.maximum(np.abs(y_true), EPSILON), axis=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    """`mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))^2, axis=-1)`."""
    y_pred = np.asarray(y_pred)
    y_true = np.asarray(y_true, y_pred.dtype)
    return np.mean(np.square(np.log1p(np.maximum(y_pred, EPSILON)) - np.log1p(np.maximum(y_true, EPSILON))), axis=-1)


def huber(y_true, y_pred, delta: float = 1.0):
    """Per output `0.5 x^2` where `|x| <= delta`, else `delta |x| - 0.5 delta^2` (x = y_pred - y_true); mean."""
    error = np.abs(_diff(y_true, y_pred))
    return np.mean(np.where(error <= delta, 0.5 * error * error, delta * error - 0.5 * delta * delta), axis=-1)


def log_cosh(y_true, y_pred):
    """`mean(log(cosh(y_pred - y_true)), axis=-1)`, computed as `x + softplus(-2x) - log 2` (no overflow)."""
    x = _diff(y_true, y_pred)
    return np.mean(x + np.logaddexp(0, -2 * x) - np.log(2.0), axis=-1)


def _l2_normalize(x, axis):
    norm = np.sqrt(np.maximum(np.sum(x * x, axis=axis, keepdims=True), 1e-12))
    return x / norm, norm


def cosine_similarity(y_true, y_pred, axis: int = -1):
    """`-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)`: -1 when they point the same way."""
    y_pred = np.asarray(y_pred)
    unit_true, _ = _l2_normalize(np.asarray(y_true, y_pred.dtype), axis)
    unit_pred, _ = _l2_normalize(y_pred, axis)
    return -np.sum(unit_true * unit_pred, axis=axis)


class MeanSquaredError(Loss):
    """Mean of squares of errors: `mean((y_pred - y_true)^2)` over the last axis, then the reduction."""

    def __init__(self, reduction="sum_over_batch_size", name: str = "mean_squared_error", dtype=None):
        super().__init__(name, reduction, dtype)

    def call(self, y_true, y_pred):
        return mean_squared_error(y_true, y_pred)

    def call_gradient(self, y_true, y_pred, upstream):
        return 2 * _diff(y_true, y_pred) * _per_output(upstream, y_pred)


class MeanAbsoluteError(Loss):
    """Mean of absolute errors; gradient `sign(y_pred - y_true)` (0 at a tie)."""

    def __init__(self, reduction="sum_over_batch_size", name: str = "mean_absolute_error", dtype=None):
        super().__init__(name, reduction, dtype)

    def call(self, y_true, y_pred):
        return mean_absolute_error(y_true, y_pred)

    def call_gradient(self, y_true, y_pred, upstream):
        return np.sign(_diff(y_true, y_pred)) * _per_output(upstream, y_pred)


class MeanAbsolutePercentageError(Loss):
    """`100 * mean(|y_true - y_pred| / max(|y_true|, 1e-7))` over the last axis."""

    def __init__(self, reduction="sum_over_batch_size", name: str = "mean_absolute_percentage_error", dtype=None):
        super().__init__(name, reduction, dtype)

    def call(self, y_true, y_pred):
        return mean_absolute_percentage_error(y_true, y_pred)

    def call_gradient(self, y_true, y_pred, upstream):
        scale = np.maximum(np.abs(np.asarray(y_true, np.asarray(y_pred).dtype)), EPSILON)
        return 100 * np.sign(_diff(y_true, y_pred)) / scale * _per_output(upstream, y_pred)


class MeanSquaredLogarithmicError(Loss):
    """`mean((log(1 + y_pred) - log(1 + y_true))^2)` over the last axis (both clipped at 1e-7 below)."""

    def __init__(self, reduction="sum_over_batch_size", name: str = "mean_squared_logarithmic_error", dtype=None):
        super().__init__(name, reduction, dtype)

    def call(self, y_true, y_pred):
        return mean_squared_logarithmic_error(y_true, y_pred)

    def call_gradient(self, y_true, y_pred, upstream):
        y_pred = np.asarray(y_pred)
        clipped = np.maximum(y_pred, EPSILON)
        gap = np.log1p(clipped) - np.log1p(np.maximum(np.asarray(y_true, y_pred.dtype), EPSILON))
        return 2 * gap / (1 + clipped) * (y_pred > EPSILON) * _per_output(upstream, y_pred)


class Huber(Loss):
    """Huber loss: quadratic for errors up to `delta`, linear beyond.

    Args:
        delta: Where the loss turns from quadratic to linear. Defaults to 1.0.
    """

    def __init__(self, delta: float = 1.0, reduction="sum_over_batch_size", name: str = "huber_loss", dtype=None):
        super().__init__(name, reduction, dtype)
        if not delta > 0:
            raise ValueError(f"`delta` must be a positive number. Received: delta={delta!r}")
        self.delta = float(delta)

    def call(self, y_true, y_pred):
        return huber(y_true, y_pred, self.delta)

    def call_gradient(self, y_true, y_pred, upstream):
        x = _diff(y_true, y_pred)
        return np.clip(x, -self.delta, self.delta) * _per_output(upstream, y_pred)

    def get_config(self) -> dict:
        return {**super().get_config(), "delta": self.delta}


class LogCosh(Loss):
    """`mean(log(cosh(y_pred - y_true)))` over the last axis; gradient `tanh(y_pred - y_true)`."""

    def __init__(self, reduction="sum_over_batch_size", name: str = "log_cosh", dtype=None):
        super().__init__(name, reduction, dtype)

    def call(self, y_true, y_pred):
        return log_cosh(y_true, y_pred)

    def call_gradient(self, y_true, y_pred, upstream):
        return np.tanh(_diff(y_true, y_pred)) * _per_output(upstream, y_pred)


class CosineSimilarity(Loss):
    """Negative cosine similarity along `axis`: -1 for parallel vectors, 0 for orthogonal ones.

    Args:
        axis: The axis holding the vectors. Defaults to -1.
    """

    def __init__(self, axis: int = -1, reduction="sum_over_batch_size", name: str = "cosine_similarity", dtype=None):
        super().__init__(name, reduction, dtype)
        self.axis = axis

    def call(self, y_true, y_pred):
        return cosine_similarity(y_true, y_pred, self.axis)

    def call_gradient(self, y_true, y_pred, upstream):
        y_pred = np.asarray(y_pred)
        unit_true, _ = _l2_normalize(np.asarray(y_true, y_pred.dtype), self.axis)
        unit_pred, norm = _l2_normalize(y_pred, self.axis)
        along = np.sum(unit_true * unit_pred, axis=self.axis, keepdims=True)
        # Below the 1e-12 floor the norm is a constant, so the projection term drops out.
        projected = np.where(norm * norm > 1e-12, unit_pred * along, 0)
        return -(unit_true - projected) / norm * np.expand_dims(upstream, self.axis)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}
