"""Cross-entropies, KL divergence and Poisson: per-sample functions and exact gradients.

With `from_logits=False` the cross-entropies read probabilities, clipped to
`[1e-7, 1 - 1e-7]` (`[1e-7, 1]` for the categorical ones) before the log. When such a loss
follows a softmax (sigmoid) output of a hand-derived layer, training uses the fused
gradient with respect to the logits, `logits_gradient`: `(p - y)` per sample, exact and
never divided by a probability. With `from_logits=True` they read raw logits and use
log-sum-exp (softplus) forms that never overflow.
"""

from __future__ import annotations

import functools

import numpy as np

from .. import fast
from .base import EPSILON, Loss


def _sigmoid(z):
    return np.exp(-np.logaddexp(0, -z))


def _softmax(z, axis):
    shifted = z - z.max(axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax(z, axis):
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _check_smoothing(label_smoothing):
    if not 0 <= label_smoothing <= 1:
        raise ValueError(f"`label_smoothing` must be a number in [0, 1]. Received: label_smoothing={label_smoothing!r}")
    return float(label_smoothing)


def binary_crossentropy(y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1):
    """`mean(-(y log p + (1 - y) log(1 - p)), axis)`; labels smoothed towards 0.5."""
    y_pred = np.asarray(y_pred)
    y = np.asarray(y_true, y_pred.dtype)
    if label_smoothing:
        y = y * (1 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:  # max(z, 0) - z y + log(1 + exp(-|z|))
        elementwise = np.maximum(y_pred, 0) - y_pred * y + np.logaddexp(0, -np.abs(y_pred))
    else:
        p = np.clip(y_pred, EPSILON, 1 - EPSILON)
        elementwise = -(y * np.log(p) + (1 - y) * np.log1p(-p))
    return np.mean(elementwise, axis=axis)


def categorical_crossentropy(y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1):
    """`-sum(y log p, axis)` for one-hot (or soft) labels; labels smoothed towards `1 / classes`."""
    y_pred = np.asarray(y_pred)
    y = np.asarray(y_true, y_pred.dtype)
    if label_smoothing:
        y = y * (1 - label_smoothing) + label_smoothing / y_pred.shape[axis]
    log_p = _log_softmax(y_pred, axis) if from_logits else np.log(np.clip(y_pred, EPSILON, 1.0))
    return -np.sum(y * log_p, axis=axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits: bool = False, axis: int = -1):
    """`-log p[label]` for integer labels (shape of `y_pred` without its last axis, or with it as 1)."""
    y_pred = np.asarray(y_pred)
    labels = _labels(y_true, y_pred)
    if from_logits:
        return -_pick(_log_softmax(y_pred, -1), labels)
    return _minus_log_clipped(_pick(y_pred, labels))


def kl_divergence(y_true, y_pred):
    """`sum(y log(y / p), -1)` with both clipped to `[1e-7, 1]`."""
    y_pred = np.asarray(y_pred)
    y = np.clip(np.asarray(y_true, y_pred.dtype), EPSILON, 1)
    return np.sum(y * np.log(y / np.clip(y_pred, EPSILON, 1)), axis=-1)


def poisson(y_true, y_pred):
    """`mean(p - y log(p + 1e-7), -1)`: the Poisson negative log-likelihood (up to a constant)."""
    y_pred = np.asarray(y_pred)
    return np.mean(y_pred - np.asarray(y_true, y_pred.dtype) * np.log(y_pred + EPSILON), axis=-1)


def _labels(y_true, y_pred):
    labels = np.asarray(y_true)
    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
        labels = labels[..., 0]
    return labels.reshape(y_pred.shape[:-1]).astype(np.intp, copy=False)


def _rows(values, labels):
    """`(values as rows of classes, each row's label index)`: the label's entry is
    `values[..., label]`, found by one fancy index on the rows (a view where `values` is contiguous)."""
    return values.reshape(-1, values.shape[-1]), (np.arange(labels.size), labels.reshape(-1))


def _pick(values, labels):
    """`values[..., label]` for each integer label (a new array, of the labels' shape)."""
    rows, index = _rows(values, labels)
    return rows[index].reshape(labels.shape)


def _minus_log_clipped(picked):
    """`-log(clip(picked, 1e-7, 1))`, clipping `picked` in place (by maximum and minimum: np.clip's
    values, without its Python wrappers, which cost more than the work on a batch of labels)."""
    np.minimum(np.maximum(picked, EPSILON, out=picked), 1.0, out=picked)
    return -np.log(picked, out=picked)


def _minus_one_hot(grad, index, scale):
    """`(grad - onehot(labels)) * scale` in place on a C-contiguous `grad`, `index` the labels'
    entries as `_rows` gives them."""
    grad.reshape(-1, grad.shape[-1])[index] -= 1
    grad *= scale
    return grad


def _spread(upstream, y_pred, axis):
    return np.expand_dims(np.asarray(upstream), axis)


class BinaryCrossentropy(Loss):
    """Binary cross-entropy, the mean over `axis` of each output's; fuses with a sigmoid output.

    Args:
        from_logits: Whether `y_pred` holds logits rather than probabilities. Defaults to False.
        label_smoothing: In [0, 1]; labels become `y (1 - s) + s / 2`. Defaults to 0.
        axis: The axis averaged within a sample. Defaults to -1.
        reduction, name: See `Loss`.
    """

    fused_activation = "sigmoid"

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction="sum_over_batch_size", name: str = "binary_crossentropy", dtype=None):
        super().__init__(name, reduction, dtype)
        self.from_logits, self.label_smoothing, self.axis = bool(from_logits), _check_smoothing(label_smoothing), axis

    def call(self, y_true, y_pred):
        return binary_crossentropy(y_true, y_pred, self.from_logits, self.label_smoothing, self.axis)

    def _smoothed(self, y_true, dtype):
        y = np.asarray(y_true, dtype)
        return y * (1 - self.label_smoothing) + 0.5 * self.label_smoothing if self.label_smoothing else y

    def call_gradient(self, y_true, y_pred, upstream):
        y_pred = np.asarray(y_pred)
        y = self._smoothed(y_true, y_pred.dtype)
        scale = _spread(upstream, y_pred, self.axis) / y_pred.shape[self.axis]
        if self.from_logits:
            return (_sigmoid(y_pred) - y) * scale
        p = np.clip(y_pred, EPSILON, 1 - EPSILON)
        return (p - y) / (p * (1 - p)) * scale

    def logits_gradient(self, y_true, y_pred, sample_weight=None, upstream=None):
        """dLoss/dLogits after a sigmoid: `(p - y) w / size` (exact; `y_pred` are the probabilities)."""
        if upstream is None:
            _, upstream = self.training_scale(self.call(y_true, y_pred), sample_weight)
        grad = (y_pred - self._smoothed(y_true, y_pred.dtype)) * (_spread(upstream, y_pred, -1) / y_pred.shape[-1])
        return grad.astype(y_pred.dtype, copy=False)

    def get_config(self) -> dict:
        return {**super().get_config(), "from_logits": self.from_logits, "label_smoothing": self.label_smoothing,
                "axis": self.axis}


class CategoricalCrossentropy(Loss):
    """Categorical cross-entropy for one-hot (or soft) labels; fuses with a softmax output.

    Args:
        from_logits: Whether `y_pred` holds logits rather than probabilities. Defaults to False.
        label_smoothing: In [0, 1]; labels become `y (1 - s) + s / classes`. Defaults to 0.
        axis: The class axis. Defaults to -1.
        reduction, name: See `Loss`.
    """

    fused_activation = "softmax"

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction="sum_over_batch_size", name: str = "categorical_crossentropy", dtype=None):
        super().__init__(name, reduction, dtype)
        self.from_logits, self.label_smoothing, self.axis = bool(from_logits), _check_smoothing(label_smoothing), axis

    def call(self, y_true, y_pred):
        return categorical_crossentropy(y_true, y_pred, self.from_logits, self.label_smoothing, self.axis)

    def _smoothed(self, y_true, y_pred):
        y = np.asarray(y_true, y_pred.dtype)
        if self.label_smoothing:
            y = y * (1 - self.label_smoothing) + self.label_smoothing / y_pred.shape[self.axis]
        return y

    def call_gradient(self, y_true, y_pred, upstream):
        y_pred = np.asarray(y_pred)
        y = self._smoothed(y_true, y_pred)
        scale = _spread(upstream, y_pred, self.axis)
        if self.from_logits:  # d/dz of -sum(y log softmax(z)) = softmax(z) sum(y) - y
            return (_softmax(y_pred, self.axis) * y.sum(axis=self.axis, keepdims=True) - y) * scale
        return -y / np.clip(y_pred, EPSILON, 1.0) * (y_pred >= EPSILON) * scale

    def logits_gradient(self, y_true, y_pred, sample_weight=None, upstream=None):
        """dLoss/dLogits after a softmax: `(p sum(y) - y) w / batch` (exact; `y_pred` are the probabilities)."""
        if upstream is None:
            _, upstream = self.training_scale(self.call(y_true, y_pred), sample_weight)
        y = self._smoothed(y_true, y_pred)
        grad = (y_pred * y.sum(axis=-1, keepdims=True) - y) * _spread(upstream, y_pred, -1)
        return grad.astype(y_pred.dtype, copy=False)

    def get_config(self) -> dict:
        return {**super().get_config(), "from_logits": self.from_logits, "label_smoothing": self.label_smoothing,
                "axis": self.axis}


class SparseCategoricalCrossentropy(Loss):
    """Categorical cross-entropy with integer class labels (`(batch,)` or `(batch, 1)`); fuses with softmax.

    Args:
        from_logits: Whether `y_pred` holds logits rather than probabilities. Defaults to False.
        reduction, name: See `Loss`.
    """

    fused_activation = "softmax"

    def __init__(self, from_logits: bool = False, reduction="sum_over_batch_size",
                 name: str = "sparse_categorical_crossentropy", dtype=None):
        super().__init__(name, reduction, dtype)
        self.from_logits = bool(from_logits)

    def call(self, y_true, y_pred):
        return sparse_categorical_crossentropy(y_true, y_pred, self.from_logits)

    def call_gradient(self, y_true, y_pred, upstream):
        y_pred = np.asarray(y_pred)
        scale = _spread(upstream, y_pred, -1)
        if self.from_logits:
            probabilities = _softmax(y_pred, -1)
            return _minus_one_hot(probabilities, _rows(probabilities, _labels(y_true, y_pred))[1], scale)
        labels = _labels(y_true, y_pred)[..., None]
        picked = np.take_along_axis(y_pred, labels, -1)
        grad = np.zeros_like(y_pred)
        np.put_along_axis(grad, labels, -1 / np.clip(picked, EPSILON, 1.0) * (picked >= EPSILON), -1)
        return grad * scale

    def logits_gradient(self, y_true, y_pred, sample_weight=None, upstream=None):
        """dLoss/dLogits after a softmax: `(p - onehot(y)) w / batch`."""
        if upstream is None:
            _, upstream = self.training_scale(self.call(y_true, y_pred), sample_weight)
        grad = np.array(y_pred, order="C")
        grad = _minus_one_hot(grad, _rows(grad, _labels(y_true, grad))[1], _spread(upstream, y_pred, -1))
        return grad.astype(y_pred.dtype, copy=False)

    def value_and_logits_gradient(self, y_true, y_pred, sample_weight=None):
        """As `Loss`'s, with the labels read once: for probabilities, no sample weights and a mean
        over the batch (the common case), the same numbers as `call` and `logits_gradient` give."""
        y_pred = np.asarray(y_pred)
        if (sample_weight is not None or self.from_logits or y_pred.size == 0 or y_pred.dtype.kind != "f"
                or self.reduction not in ("sum_over_batch_size", "mean")
                or not _keeps_sparse_crossentropys_math(type(self))):
            return super().value_and_logits_gradient(y_true, y_pred, sample_weight)
        labels = _labels(y_true, y_pred)
        kernel = fast.loaded_loss_kernels() if y_pred.dtype == np.float32 else None
        if kernel is not None:  # the indexing, clip and gradient in one compiled call, NumPy's bits
            rows = y_pred.reshape(-1, y_pred.shape[-1])
            picked, grad = np.empty(len(rows), np.float32), np.empty(y_pred.shape, np.float32)
            share = np.float32(1) / np.float32(len(rows))
            if kernel.picked_and_gradient(rows, labels.reshape(-1), share, picked, grad.reshape(rows.shape)):
                values = -np.log(picked, out=picked)
                return float(values.sum() / values.size), grad
        rows, index = _rows(y_pred, labels)
        values = _minus_log_clipped(rows[index])
        kind = values.dtype.type
        share = kind(1) / kind(values.size)  # each sample's share of the mean, rounded as `reduce`'s
        return float(values.sum() / values.size), _minus_one_hot(np.array(y_pred, order="C"), index, share)

    def get_config(self) -> dict:
        return {**super().get_config(), "from_logits": self.from_logits}


@functools.lru_cache(maxsize=None)
def _keeps_sparse_crossentropys_math(cls) -> bool:
    """Whether a subclass leaves the value, gradient and reduction as SparseCategoricalCrossentropy
    has them (asked once per class: the training step asks every batch)."""
    return all(getattr(cls, name) is getattr(SparseCategoricalCrossentropy, name)
               for name in ("call", "logits_gradient", "reduce", "training_scale"))


class KLDivergence(Loss):
    """Kullback-Leibler divergence `sum(y log(y / p))` over the last axis (both clipped to [1e-7, 1])."""

    def __init__(self, reduction="sum_over_batch_size", name: str = "kl_divergence", dtype=None):
        super().__init__(name, reduction, dtype)

    def call(self, y_true, y_pred):
        return kl_divergence(y_true, y_pred)

    def call_gradient(self, y_true, y_pred, upstream):
        y_pred = np.asarray(y_pred)
        y = np.clip(np.asarray(y_true, y_pred.dtype), EPSILON, 1)
        inside = (y_pred >= EPSILON) & (y_pred <= 1)
        return -y / np.clip(y_pred, EPSILON, 1) * inside * _spread(upstream, y_pred, -1)


class Poisson(Loss):
    """Poisson loss `mean(p - y log(p + 1e-7))` over the last axis."""

    def __init__(self, reduction="sum_over_batch_size", name: str = "poisson", dtype=None):
        super().__init__(name, reduction, dtype)

    def call(self, y_true, y_pred):
        return poisson(y_true, y_pred)

    def call_gradient(self, y_true, y_pred, upstream):
        y_pred = np.asarray(y_pred)
        y = np.asarray(y_true, y_pred.dtype)
        return (1 - y / (y_pred + EPSILON)) * _spread(upstream, y_pred, -1) / y_pred.shape[-1]
