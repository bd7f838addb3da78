"""Loss functions: a value (mean over the batch) and its exact gradient.

A loss is an object with `__call__(y_true, y_pred) -> float` and
`gradient(y_true, y_pred) -> dLoss/dy_pred`. Values are means over the batch,
and over the outputs too for MSE and MAE, as Keras and PyTorch define them, so
the gradient of MSE is `2 (y_pred - y_true) / y_pred.size`.

Cross-entropy after softmax (or sigmoid) is also available fused:
`logits_gradient(y_true, probs)` returns dLoss/dLogits `= (p - y) / batch`,
which the model uses in place of the activation's backward; it is exact and
never divides by a probability. Logs see `clip(p, eps, 1)`, never 0.
"""

from __future__ import annotations

import numpy as np

EPSILON = 1e-7


class Loss:
    """Base class. `fused_activation` names the output activation it can fuse with."""

    name = "loss"
    fused_activation: str | None = None

    def __call__(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        raise NotImplementedError

    def gradient(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def logits_gradient(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{self.name} has no fused gradient.")

    def get_config(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class MeanSquaredError(Loss):
    """`mean((y_pred - y_true)^2)` over batch and outputs."""

    name = "mean_squared_error"

    def __call__(self, y_true, y_pred):
        return float(np.mean(np.square(y_pred - y_true)))

    def gradient(self, y_true, y_pred):
        return (2 / y_pred.size) * (y_pred - y_true)


class MeanAbsoluteError(Loss):
    """`mean(|y_pred - y_true|)`; gradient `sign(y_pred - y_true) / size` (0 at a tie)."""

    name = "mean_absolute_error"

    def __call__(self, y_true, y_pred):
        return float(np.mean(np.abs(y_pred - y_true)))

    def gradient(self, y_true, y_pred):
        return np.sign(y_pred - y_true) / y_pred.size


class BinaryCrossentropy(Loss):
    """`-mean(y log p + (1 - y) log(1 - p))` over batch and outputs; fuses with sigmoid."""

    name = "binary_crossentropy"
    fused_activation = "sigmoid"

    def __call__(self, y_true, y_pred):
        p = np.clip(y_pred, EPSILON, 1 - EPSILON)
        return float(-np.mean(y_true * np.log(p) + (1 - y_true) * np.log1p(-p)))

    def gradient(self, y_true, y_pred):
        p = np.clip(y_pred, EPSILON, 1 - EPSILON)
        return (p - y_true) / (p * (1 - p)) / y_pred.size

    def logits_gradient(self, y_true, y_pred):
        return (y_pred - y_true) / y_pred.size


class CategoricalCrossentropy(Loss):
    """`-mean_over_batch(sum_classes y log p)` for one-hot (or soft) labels; fuses with softmax."""

    name = "categorical_crossentropy"
    fused_activation = "softmax"

    def __call__(self, y_true, y_pred):
        p = np.clip(y_pred, EPSILON, 1.0)
        return float(-np.sum(y_true * np.log(p)) / len(y_pred))

    def gradient(self, y_true, y_pred):
        return -y_true / np.clip(y_pred, EPSILON, 1.0) / len(y_pred)

    def logits_gradient(self, y_true, y_pred):
        # Exact when each label row sums to 1: d/dz of -sum(y log softmax(z)) is p * sum(y) - y.
        return (y_pred * y_true.sum(axis=-1, keepdims=True) - y_true) / len(y_pred)


class SparseCategoricalCrossentropy(Loss):
    """Categorical cross-entropy with integer class labels of shape `(batch,)` or `(batch, 1)`."""

    name = "sparse_categorical_crossentropy"
    fused_activation = "softmax"

    def __call__(self, y_true, y_pred):
        rows = np.arange(len(y_pred))
        picked = y_pred[rows, _class_indices(y_true)]
        return float(-np.mean(np.log(np.clip(picked, EPSILON, 1.0))))

    def gradient(self, y_true, y_pred):
        rows, cols = np.arange(len(y_pred)), _class_indices(y_true)
        grad = np.zeros_like(y_pred)
        grad[rows, cols] = -1 / np.clip(y_pred[rows, cols], EPSILON, 1.0) / len(y_pred)
        return grad

    def logits_gradient(self, y_true, y_pred):
        grad = y_pred.copy()
        grad[np.arange(len(y_pred)), _class_indices(y_true)] -= 1
        grad /= len(y_pred)
        return grad


def _class_indices(y_true: np.ndarray) -> np.ndarray:
    return np.asarray(y_true).reshape(-1).astype(np.intp, copy=False)


LOSSES = {
    "mean_squared_error": MeanSquaredError,
    "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError,
    "mae": MeanAbsoluteError,
    "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "cse": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
}


def get(identifier: str | Loss) -> Loss:
    """Return a loss object for a name (blog `mse`/`cse` or a Keras name) or a `Loss`."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in LOSSES:
        return LOSSES[identifier.lower()]()
    raise ValueError(f"Unknown loss {identifier!r}. Expected one of: {', '.join(LOSSES)}.")
