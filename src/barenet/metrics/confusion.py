"""Confusion-matrix metrics: true/false positives/negatives, precision, recall, F1.

Every prediction entry is a binary decision, `y_pred > threshold`, against the label
`y_true != 0` (all entries count, so multi-label outputs are pooled, as in Keras). The
state holds weighted confusion counts per threshold: sums over the data, so a result
over an epoch, or over shards added together, is exact.

`confusion_counts` does the counting for many thresholds at once: each entry falls in
the bucket of thresholds below it (a binary search), and a cumulative sum of the bucket
weights gives, for each threshold, the weight of entries above it.
"""

from __future__ import annotations

import numpy as np

from .base import EPSILON, Metric, as_array, broadcast_weight


def confusion_counts(y_true, y_pred, thresholds, sample_weight=None):
    """`(tp, fp, tn, fn)`, each an array with one weighted count per threshold (sorted ascending)."""
    y_pred = np.asarray(y_pred, np.float64)
    positive = (np.asarray(y_true).reshape(y_pred.shape) != 0).reshape(-1)
    weight = np.ones(y_pred.size) if sample_weight is None else \
        broadcast_weight(sample_weight, y_pred.shape).reshape(-1)
    if len(thresholds) <= 8:  # few thresholds: compare directly
        above = y_pred.reshape(1, -1) > np.asarray(thresholds)[:, None]
        pos_w, neg_w = weight * positive, weight * ~positive
        tp, fp = above @ pos_w, above @ neg_w
        return tp, fp, neg_w.sum() - fp, pos_w.sum() - tp
    # bucket j: entries above exactly thresholds[:j] (side="left": a value equal to a threshold is not above it)
    bucket = np.searchsorted(thresholds, y_pred.reshape(-1), side="left")
    n = len(thresholds)
    pos = np.bincount(bucket, weights=weight * positive, minlength=n + 1)
    neg = np.bincount(bucket, weights=weight * ~positive, minlength=n + 1)
    # weight above threshold t = weight in buckets t+1 .. n
    tp = np.cumsum(pos[::-1])[::-1][1:]
    fp = np.cumsum(neg[::-1])[::-1][1:]
    return tp, fp, neg.sum() - fp, pos.sum() - tp


def divide_no_nan(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.divide(a, b, out=np.zeros(np.broadcast(a, b).shape), where=b != 0)


def _plain(thresholds):
    """Thresholds as given, in JSON-ready Python numbers."""
    if thresholds is None:
        return None
    return float(thresholds) if np.ndim(thresholds) == 0 else [float(t) for t in np.reshape(thresholds, -1)]


def _thresholds(thresholds, default):
    values = np.atleast_1d(np.asarray(default if thresholds is None else thresholds, np.float64))
    if values.ndim != 1 or values.size == 0 or np.any(np.isnan(values)):
        raise ValueError(f"`thresholds` must be a number or a list of numbers. Received: thresholds={thresholds!r}")
    return values


class _ConfusionMetric(Metric):
    """Shared state and update of the threshold metrics: weighted counts per threshold."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None, default_threshold=0.5):
        super().__init__(name, dtype)
        if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1):
            raise ValueError(f"`top_k` must be a positive integer or None. Received: top_k={top_k!r}")
        if class_id is not None and (isinstance(class_id, bool) or not isinstance(class_id, (int, np.integer))
                                     or class_id < 0):
            raise ValueError(f"`class_id` must be a non-negative integer or None. Received: class_id={class_id!r}")
        self.init_thresholds = _plain(thresholds)
        self.top_k = None if top_k is None else int(top_k)
        self.class_id = None if class_id is None else int(class_id)
        self.single = thresholds is None or np.ndim(thresholds) == 0
        values = _thresholds(thresholds, default_threshold)
        self._order = np.argsort(values, kind="stable")
        self.thresholds = values[self._order]
        n = len(values)
        self.true_positives, self.false_positives = self.add_variable(n), self.add_variable(n)
        self.true_negatives, self.false_negatives = self.add_variable(n), self.add_variable(n)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_pred = as_array(y_pred).astype(np.float64)
        y_true = as_array(y_true)
        if y_true.size == y_pred.size:
            y_true = y_true.reshape(y_pred.shape)
        elif y_pred.ndim >= 2 and y_true.size * y_pred.shape[-1] == y_pred.size:
            # integer class labels against per-class scores: compare one-hot rows (Keras needs them one-hot)
            y_true = np.eye(y_pred.shape[-1])[y_true.reshape(y_pred.shape[:-1]).astype(np.intp)]
        weight = None if sample_weight is None else broadcast_weight(sample_weight, y_pred.shape)
        if self.top_k is not None:  # only each sample's k highest scores may count as positive
            keep = np.zeros(y_pred.shape, bool)
            np.put_along_axis(keep, np.argsort(-y_pred, axis=-1, kind="stable")[..., :self.top_k], True, -1)
            y_pred = np.where(keep, y_pred, -np.inf)
        if self.class_id is not None:
            if self.class_id >= y_pred.shape[-1]:
                raise ValueError(f"`class_id={self.class_id}` is out of range for predictions with "
                                 f"{y_pred.shape[-1]} classes.")
            y_true, y_pred = y_true[..., self.class_id], y_pred[..., self.class_id]
            weight = None if weight is None else weight[..., self.class_id]
        counts = confusion_counts(y_true, y_pred, self.thresholds, weight)
        inverse = np.argsort(self._order)  # back to the order the thresholds were given in
        for variable, count in zip(self._variables, counts):
            variable += count[inverse]

    def _out(self, values):
        return self._scalar(values[0]) if self.single else self._scalar(values)

    def get_config(self) -> dict:
        return {**super().get_config(), "thresholds": self.init_thresholds}


class _Count(_ConfusionMetric):
    _field = ""

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(thresholds, name=name, dtype=dtype)

    def result(self):
        return self._out(getattr(self, self._field))


class TruePositives(_Count):
    """Weighted count of entries with `y_pred > threshold` and a positive label.

    Args:
        thresholds: A threshold, or a list of them (the result is then one count per threshold).
            Defaults to 0.5.
    """

    _field = "true_positives"


class FalsePositives(_Count):
    """Weighted count of entries with `y_pred > threshold` and a negative label (see `TruePositives`)."""

    _field = "false_positives"


class TrueNegatives(_Count):
    """Weighted count of entries with `y_pred <= threshold` and a negative label (see `TruePositives`)."""

    _field = "true_negatives"


class FalseNegatives(_Count):
    """Weighted count of entries with `y_pred <= threshold` and a positive label (see `TruePositives`)."""

    _field = "false_negatives"


class Precision(_ConfusionMetric):
    """`tp / (tp + fp)` over everything seen (0 when nothing was predicted positive).

    Args:
        thresholds: A threshold or a list (one result each). Defaults to 0.5, or, with
            `top_k`, to counting exactly the top-k entries as positive.
        top_k: Only each sample's `top_k` highest predictions may count as positive. Defaults to None.
        class_id: Score only this class (last-axis index). Defaults to None (all entries).
        name, dtype: See `Metric`.
    """

    def __init__(self, thresholds=None, top_k=None, class_id=None, name: str | None = None, dtype=None):
        super().__init__(thresholds, top_k, class_id, name, dtype, 0.5 if top_k is None else -1e10)

    def result(self):
        return self._out(divide_no_nan(self.true_positives, self.true_positives + self.false_positives))

    def get_config(self) -> dict:
        return {**super().get_config(), "top_k": self.top_k, "class_id": self.class_id}


class Recall(Precision):
    """`tp / (tp + fn)` over everything seen (0 when there were no positives); arguments as `Precision`."""

    def result(self):
        return self._out(divide_no_nan(self.true_positives, self.true_positives + self.false_negatives))


class FBetaScore(Metric):
    """F-beta score per class of `(samples, classes)` outputs, from counts over everything seen.

    Predictions are one-hot arg-maxes (`threshold=None`; ties all count) or `y_pred > threshold`.
    Per class `F = (1 + b^2) P R / (b^2 P + R)` (with 1e-7 guards, as Keras).

    Args:
        average: None (one score per class), "micro" (counts pooled over classes),
            "macro" (mean of the class scores) or "weighted" (mean weighted by each class's
            positives). Defaults to None.
        beta: Weight of recall against precision. Defaults to 1.0.
        threshold: See above. Defaults to None.
    """

    def __init__(self, average=None, beta: float = 1.0, threshold=None, name: str = "fbeta_score", dtype=None):
        super().__init__(name, dtype)
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError("`average` must be None, 'micro', 'macro' or 'weighted'. "
                             f"Received: average={average!r}")
        if not beta > 0:
            raise ValueError(f"`beta` must be a positive number. Received: beta={beta!r}")
        if threshold is not None and not 0 < threshold <= 1:
            raise ValueError(f"`threshold` must be in (0, 1] or None. Received: threshold={threshold!r}")
        self.average, self.beta, self.threshold = average, float(beta), threshold
        self._classes = None

    def _build(self, classes: int) -> None:
        shape = () if self.average == "micro" else (classes,)
        self.true_positives, self.false_positives = self.add_variable(shape), self.add_variable(shape)
        self.false_negatives, self.intermediate_weights = self.add_variable(shape), self.add_variable(shape)
        self._classes = classes

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_pred = as_array(y_pred).astype(np.float64)
        y_true = as_array(y_true).astype(np.float64)
        if y_pred.ndim != 2 or y_true.shape != y_pred.shape:
            raise ValueError(f"{type(self).__name__} needs y_true and y_pred of the same shape (samples, classes). "
                             f"Received: {y_true.shape} and {y_pred.shape}")
        if self._classes is None:
            self._build(y_pred.shape[-1])
        elif y_pred.shape[-1] != self._classes:
            raise ValueError(f"{type(self).__name__} was built for {self._classes} classes. Received: {y_pred.shape}")
        if self.threshold is None:
            predicted = (y_pred == y_pred.max(axis=-1, keepdims=True)).astype(np.float64)
        else:
            predicted = (y_pred > self.threshold).astype(np.float64)
        if sample_weight is not None:
            weight = broadcast_weight(sample_weight, y_pred.shape)
            y_true_w, predicted_w = y_true * weight, predicted * weight
        else:
            y_true_w, predicted_w = y_true, predicted
        axis = None if self.average == "micro" else 0
        self.true_positives += np.sum(predicted * y_true_w, axis=axis)
        self.false_positives += np.sum(predicted_w * (1 - y_true), axis=axis)
        self.false_negatives += np.sum((1 - predicted) * y_true_w, axis=axis)
        self.intermediate_weights += np.sum(y_true_w, axis=axis)

    def result(self):
        if self._classes is None:
            return 0.0 if self.average else np.zeros(0, self.dtype)
        precision = self.true_positives / (self.true_positives + self.false_positives + EPSILON)
        recall = self.true_positives / (self.true_positives + self.false_negatives + EPSILON)
        b2 = self.beta ** 2
        score = (1 + b2) * precision * recall / (b2 * precision + recall + EPSILON)
        if self.average == "weighted":
            weights = self.intermediate_weights / (self.intermediate_weights.sum() + EPSILON)
            return self._scalar(np.sum(score * weights))
        if self.average is not None:
            return self._scalar(np.mean(score))
        return self._scalar(score)

    def get_config(self) -> dict:
        return {**super().get_config(), "average": self.average, "beta": self.beta, "threshold": self.threshold}


class F1Score(FBetaScore):
    """F1 score (`beta=1`): harmonic mean of precision and recall; arguments as `FBetaScore`."""

    def __init__(self, average=None, threshold=None, name: str = "f1_score", dtype=None):
        super().__init__(average, 1.0, threshold, name, dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["beta"]
        return config
