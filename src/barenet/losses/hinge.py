"""Hinge losses for labels in {-1, 1} (labels in {0, 1} are mapped to {-1, 1} first, as Keras does)."""

from __future__ import annotations

import numpy as np

from .base import Loss


def _signed_labels(y_true, dtype):
    y = np.asarray(y_true, dtype)
    return 2 * y - 1 if np.all((y == 0) | (y == 1)) else y


def _margin_gap(y_true, y_pred):
    y_pred = np.asarray(y_pred)
    y = _signed_labels(y_true, y_pred.dtype)
    return y, np.maximum(1 - y * y_pred, 0)


def hinge(y_true, y_pred):
    """`mean(max(1 - y p, 0), -1)`."""
    return np.mean(_margin_gap(y_true, y_pred)[1], axis=-1)


def squared_hinge(y_true, y_pred):
    """`mean(max(1 - y p, 0)^2, -1)`."""
    return np.mean(np.square(_margin_gap(y_true, y_pred)[1]), axis=-1)


def categorical_hinge(y_true, y_pred):
    """`max(0, 1 + max((1 - y) p) - sum(y p))` for one-hot `y`."""
    y_pred = np.asarray(y_pred)
    y = np.asarray(y_true, y_pred.dtype)
    return np.maximum(1 + np.max((1 - y) * y_pred, axis=-1) - np.sum(y * y_pred, axis=-1), 0)


class Hinge(Loss):
    """Hinge loss `mean(max(1 - y_true * y_pred, 0))` over the last axis."""

    def __init__(self, reduction="sum_over_batch_size", name: str = "hinge", dtype=None):
        super().__init__(name, reduction, dtype)

    def call(self, y_true, y_pred):
        return hinge(y_true, y_pred)

    def call_gradient(self, y_true, y_pred, upstream):
        y, gap = _margin_gap(y_true, y_pred)
        return -y * (gap > 0) * np.asarray(upstream)[..., None] / np.shape(y_pred)[-1]


class SquaredHinge(Loss):
    """Squared hinge loss `mean(max(1 - y_true * y_pred, 0)^2)` over the last axis."""

    def __init__(self, reduction="sum_over_batch_size", name: str = "squared_hinge", dtype=None):
        super().__init__(name, reduction, dtype)

    def call(self, y_true, y_pred):
        return squared_hinge(y_true, y_pred)

    def call_gradient(self, y_true, y_pred, upstream):
        y, gap = _margin_gap(y_true, y_pred)
        return -2 * y * gap * np.asarray(upstream)[..., None] / np.shape(y_pred)[-1]


class CategoricalHinge(Loss):
    """Categorical hinge `max(0, 1 + max_wrong(p) - p_true)` for one-hot labels."""

    def __init__(self, reduction="sum_over_batch_size", name: str = "categorical_hinge", dtype=None):
        super().__init__(name, reduction, dtype)

    def call(self, y_true, y_pred):
        return categorical_hinge(y_true, y_pred)

    def call_gradient(self, y_true, y_pred, upstream):
        y_pred = np.asarray(y_pred)
        y = np.asarray(y_true, y_pred.dtype)
        wrong = (1 - y) * y_pred
        top = np.zeros_like(y_pred)
        np.put_along_axis(top, np.argmax(wrong, axis=-1)[..., None], 1, -1)
        active = (categorical_hinge(y, y_pred) > 0)[..., None]
        return (top * (1 - y) - y) * active * np.asarray(upstream)[..., None]
