"""Accuracy metrics: per-sample functions and the stateful classes that average them.

Each function returns one value per sample (1.0 for a hit, 0.0 for a miss; for
`accuracy` and `binary_accuracy` the mean over the last axis), as Keras's do, and each
class is a `MeanMetricWrapper` over one of them, so sample weights give a weighted mean.
"""

from __future__ import annotations

import numpy as np

from .. import fast
from .base import MeanMetricWrapper, as_array


def accuracy(y_true, y_pred):
    """Exact equality, element-wise: `y_true == y_pred` as 0.0/1.0."""
    return (np.asarray(y_true) == np.asarray(y_pred)).astype(np.float64)


def binary_accuracy(y_true, y_pred, threshold: float = 0.5):
    """Per sample, the fraction of outputs where `(y_pred > threshold)` equals `y_true` (for 1-D
    inputs, one output per sample)."""
    y_true, y_pred = _same_rank(np.asarray(y_true), np.asarray(y_pred))
    hits = y_true == (y_pred > threshold).astype(y_true.dtype)
    return hits.astype(np.float64) if y_pred.ndim <= 1 else np.mean(hits, axis=-1, dtype=np.float64)


def categorical_accuracy(y_true, y_pred):
    """Per sample, whether the arg-max of the one-hot `y_true` is the arg-max of `y_pred`."""
    return (np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)).astype(np.float64)


def sparse_categorical_accuracy(y_true, y_pred):
    """Per sample, whether the integer label `y_true` is the arg-max of `y_pred`."""
    labels = _sparse_labels(y_true, y_pred)
    return (labels == np.argmax(y_pred, axis=-1)).astype(np.float64)


def top_k_categorical_accuracy(y_true, y_pred, k: int = 5):
    """Per sample, whether the class of the one-hot `y_true` is among the `k` highest scores."""
    return _in_top_k(np.argmax(y_true, axis=-1), np.asarray(y_pred), k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k: int = 5):
    """Per sample, whether the integer label `y_true` is among the `k` highest scores."""
    return _in_top_k(_sparse_labels(y_true, y_pred), np.asarray(y_pred), k)


def _in_top_k(labels, y_pred, k):
    # As TensorFlow's `in_top_k`: the target is in the top k when fewer than k scores beat it
    # (classes tied with it at the boundary all count as in).
    target = np.take_along_axis(y_pred, labels[..., None].astype(np.intp), axis=-1)
    return (np.sum(y_pred > target, axis=-1) < k).astype(np.float64)


def _sparse_labels(y_true, y_pred):
    y_true = np.asarray(y_true)
    if y_true.ndim == np.ndim(y_pred) and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return y_true.astype(np.intp)


def _same_rank(y_true, y_pred):
    if y_true.ndim == y_pred.ndim - 1:
        y_true = y_true[..., None]
    elif y_pred.ndim == y_true.ndim - 1:
        y_pred = y_pred[..., None]
    return y_true, y_pred


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
    return int(value)


class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels exactly (element-wise)."""

    def __init__(self, name: str = "accuracy", dtype=None):
        super().__init__(accuracy, name, dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often `y_pred > threshold` matches the 0/1 labels.

    Args:
        threshold: Predictions above it count as 1. Defaults to 0.5.
    """

    def __init__(self, name: str = "binary_accuracy", dtype=None, threshold: float = 0.5):
        super().__init__(binary_accuracy, name, dtype, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the arg-max of the prediction matches the arg-max of the one-hot label."""

    def __init__(self, name: str = "categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name, dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the arg-max of the prediction equals the integer label."""

    def __init__(self, name: str = "sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name, dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot label's class is among the `k` highest predictions.

    Args:
        k: How many top predictions count. Defaults to 5.
    """

    def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name, dtype, k=_positive_int("k", k))


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the `k` highest predictions.

    Args:
        k: How many top predictions count. Defaults to 5.
    """

    def __init__(self, k: int = 5, name: str = "sparse_top_k_categorical_accuracy", dtype=None):
        super().__init__(sparse_top_k_categorical_accuracy, name, dtype, k=_positive_int("k", k))


def shape_accuracy(y_true, y_pred):
    """The accuracy that Keras's `"accuracy"` string means for these shapes: binary for one
    output column, sparse for integer labels (one fewer axis, or a last axis of 1), else categorical."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_pred.ndim == 0 or y_pred.ndim == 1 or y_pred.shape[-1] == 1:
        return binary_accuracy(y_true, y_pred)
    if y_true.ndim < y_pred.ndim or y_true.shape[-1] == 1:
        return sparse_categorical_accuracy(y_true, y_pred)
    return categorical_accuracy(y_true, y_pred)


class ShapeAccuracy(MeanMetricWrapper):
    """The metric behind the strings "accuracy" and "acc" in `compile`: binary, sparse or
    categorical accuracy, chosen from the labels' and outputs' shapes as Keras chooses."""

    def __init__(self, name: str = "accuracy", dtype=None):
        super().__init__(shape_accuracy, name, dtype)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred = as_array(y_true), as_array(y_pred)
        if (sample_weight is None and y_true.ndim == 1 and y_true.dtype.kind in "iu" and y_pred.ndim == 2
                and y_pred.shape[1] > 1 and len(y_true) == len(y_pred)):
            # Integer labels against class scores, unweighted (fit's usual case): the hits counted
            # at once, the same sums as adding `sparse_categorical_accuracy`'s ones and zeros.
            self._add(_hits(y_true, y_pred), len(y_true))
            return
        super().update_state(y_true, y_pred, sample_weight)


def _hits(labels: np.ndarray, scores: np.ndarray) -> int:
    """How many rows of `scores` have their argmax at their integer label: in one pass by
    `fast.output_kernels.argmax_hits` for float32 scores once the kernels are loaded."""
    kernels = fast.loaded_output_kernels() if scores.dtype == np.float32 else None
    if kernels is not None and scores.flags.c_contiguous and scores.shape[1]:
        return int(kernels.argmax_hits(labels, scores))
    return int(np.count_nonzero(labels == np.argmax(scores, axis=-1)))
