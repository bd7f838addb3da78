"""Metrics: functions of `(y_true, y_pred)` returning a float, and the `METRICS` registry.

`accuracy` picks its kind from the shapes, as Keras's `"accuracy"` string does:
integer labels of shape `(batch,)` or `(batch, 1)` against a multi-column output
are sparse; a single output column is binary (threshold 0.5); otherwise
categorical (argmax against argmax).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from . import losses


def categorical_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(y_true.argmax(axis=-1) == y_pred.argmax(axis=-1)))


def sparse_categorical_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(np.asarray(y_true).reshape(-1) == y_pred.argmax(axis=-1)))


def binary_accuracy(y_true: np.ndarray, y_pred: np.ndarray, threshold: float = 0.5) -> float:
    return float(np.mean((y_pred > threshold) == (y_true > threshold)))


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Accuracy of the kind that fits the labels and output (see module docstring)."""
    if y_pred.ndim >= 2 and y_pred.shape[-1] > 1:
        if y_true.ndim == 1 or y_true.shape[-1] == 1:
            return sparse_categorical_accuracy(y_true, y_pred)
        return categorical_accuracy(y_true, y_pred)
    return binary_accuracy(y_true, y_pred)


def mean_squared_error(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return losses.MeanSquaredError()(y_true, y_pred)


def mean_absolute_error(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return losses.MeanAbsoluteError()(y_true, y_pred)


def crossentropy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """The blog's `cse`: categorical, or binary for a single output column."""
    if y_pred.ndim >= 2 and y_pred.shape[-1] > 1:
        if y_true.ndim == 1 or y_true.shape[-1] == 1:
            return losses.SparseCategoricalCrossentropy()(y_true, y_pred)
        return losses.CategoricalCrossentropy()(y_true, y_pred)
    return losses.BinaryCrossentropy()(y_true, y_pred)


METRICS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "accuracy": accuracy,
    "acc": accuracy,
    "categorical_accuracy": categorical_accuracy,
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
    "binary_accuracy": binary_accuracy,
    "mse": mean_squared_error,
    "mean_squared_error": mean_squared_error,
    "mae": mean_absolute_error,
    "mean_absolute_error": mean_absolute_error,
    "cse": crossentropy,
}


def get(identifier: str) -> Callable[[np.ndarray, np.ndarray], float]:
    """Return the metric function for a name."""
    if isinstance(identifier, str) and identifier.lower() in METRICS:
        return METRICS[identifier.lower()]
    raise ValueError(f"Unknown metric {identifier!r}. Expected one of: {', '.join(METRICS)}.")
