"""Regression and probabilistic metrics: weighted means over samples of the losses' per-sample values."""

from __future__ import annotations

import numpy as np

from .. import losses
from .base import Mean, MeanMetricWrapper, as_array


class MeanSquaredError(MeanMetricWrapper):
    """Mean over samples of `mean((y_pred - y_true)^2, axis=-1)`."""

    def __init__(self, name: str = "mean_squared_error", dtype=None):
        super().__init__(losses.mean_squared_error, name, dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """Mean over samples of `mean(|y_pred - y_true|, axis=-1)`."""

    def __init__(self, name: str = "mean_absolute_error", dtype=None):
        super().__init__(losses.mean_absolute_error, name, dtype)


class MeanAbsolutePercentageError(MeanMetricWrapper):
    """Mean over samples of `100 * mean(|y_true - y_pred| / |y_true|, axis=-1)`."""

    def __init__(self, name: str = "mean_absolute_percentage_error", dtype=None):
        super().__init__(losses.mean_absolute_percentage_error, name, dtype)


class RootMeanSquaredError(Mean):
    """`sqrt` of the (weighted) mean squared error over everything seen."""

    def __init__(self, name: str = "root_mean_squared_error", dtype=None):
        super().__init__(name, dtype)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_pred = as_array(y_pred).astype(np.float64)
        y_true = as_array(y_true).astype(np.float64)
        if y_true.size == y_pred.size:
            y_true = y_true.reshape(y_pred.shape)
        super().update_state(np.square(y_pred - y_true), sample_weight)

    def result(self) -> float:
        return self._scalar(np.sqrt(self.total / self.count) if self.count else 0.0)


class BinaryCrossentropy(MeanMetricWrapper):
    """Mean binary cross-entropy (see `barenet.losses.BinaryCrossentropy`)."""

    def __init__(self, name: str = "binary_crossentropy", dtype=None, from_logits: bool = False,
                 label_smoothing: float = 0.0):
        super().__init__(losses.binary_crossentropy, name, dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing)


class CategoricalCrossentropy(MeanMetricWrapper):
    """Mean categorical cross-entropy (see `barenet.losses.CategoricalCrossentropy`)."""

    def __init__(self, name: str = "categorical_crossentropy", dtype=None, from_logits: bool = False,
                 label_smoothing: float = 0.0):
        super().__init__(losses.categorical_crossentropy, name, dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing)


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """Mean sparse categorical cross-entropy (see `barenet.losses.SparseCategoricalCrossentropy`)."""

    def __init__(self, name: str = "sparse_categorical_crossentropy", dtype=None, from_logits: bool = False):
        super().__init__(losses.sparse_categorical_crossentropy, name, dtype, from_logits=from_logits)


def shape_crossentropy(y_true, y_pred):
    """Per-sample cross-entropy of the kind the shapes call for (the blog's `cse`): binary for one
    output column, sparse for integer labels, categorical otherwise."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_pred.ndim < 2 or y_pred.shape[-1] == 1:
        return losses.binary_crossentropy(y_true.reshape(y_pred.shape), y_pred)
    if y_true.ndim < y_pred.ndim or y_true.shape[-1] == 1:
        return losses.sparse_categorical_crossentropy(y_true, y_pred)
    return losses.categorical_crossentropy(y_true, y_pred)


class ShapeCrossentropy(MeanMetricWrapper):
    """The metric behind "crossentropy"/"ce" and the blog's "cse": cross-entropy chosen from the shapes."""

    def __init__(self, name: str = "crossentropy", dtype=None):
        super().__init__(shape_crossentropy, name, dtype)


class MeanSquaredLogarithmicError(MeanMetricWrapper):
    """Mean over samples of `mean((log(1 + y_pred) - log(1 + y_true))^2, axis=-1)`."""

    def __init__(self, name: str = "mean_squared_logarithmic_error", dtype=None):
        super().__init__(losses.mean_squared_logarithmic_error, name, dtype)


class LogCoshError(MeanMetricWrapper):
    """Mean over samples of `mean(log(cosh(y_pred - y_true)), axis=-1)`."""

    def __init__(self, name: str = "logcosh", dtype=None):
        super().__init__(losses.log_cosh, name, dtype)


def cosine_similarity(y_true, y_pred, axis: int = -1):
    """Per sample, the cosine of the angle between `y_true` and `y_pred` along `axis`."""
    return -losses.cosine_similarity(y_true, y_pred, axis)


class CosineSimilarity(MeanMetricWrapper):
    """Mean cosine similarity between labels and predictions (1 when they point the same way).

    Args:
        axis: The axis holding the vectors. Defaults to -1.
    """

    def __init__(self, name: str = "cosine_similarity", dtype=None, axis: int = -1):
        super().__init__(cosine_similarity, name, dtype, axis=axis)


class KLDivergence(MeanMetricWrapper):
    """Mean Kullback-Leibler divergence (see `barenet.losses.KLDivergence`)."""

    def __init__(self, name: str = "kl_divergence", dtype=None):
        super().__init__(losses.kl_divergence, name, dtype)


class Poisson(MeanMetricWrapper):
    """Mean Poisson loss (see `barenet.losses.Poisson`)."""

    def __init__(self, name: str = "poisson", dtype=None):
        super().__init__(losses.poisson, name, dtype)


class Hinge(MeanMetricWrapper):
    """Mean hinge loss (see `barenet.losses.Hinge`)."""

    def __init__(self, name: str = "hinge", dtype=None):
        super().__init__(losses.hinge, name, dtype)


class SquaredHinge(MeanMetricWrapper):
    """Mean squared hinge loss (see `barenet.losses.SquaredHinge`)."""

    def __init__(self, name: str = "squared_hinge", dtype=None):
        super().__init__(losses.squared_hinge, name, dtype)


class CategoricalHinge(MeanMetricWrapper):
    """Mean categorical hinge loss (see `barenet.losses.CategoricalHinge`)."""

    def __init__(self, name: str = "categorical_hinge", dtype=None):
        super().__init__(losses.categorical_hinge, name, dtype)
