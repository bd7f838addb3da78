"""Metrics as in Keras 3: stateful objects with `update_state`, `result`, `reset_state`.

A metric"s state (`metric.variables`) is a list of NumPy arrays of sums, so the value of
an epoch is computed over the whole epoch (exact precision, recall and AUC), and states
from several data shards add up to the state of all the data.

`get()` resolves what `compile(metrics=...)` accepts: a name (Keras"s, e.g. "accuracy",
"mae", "precision", "auc"; "accuracy"/"acc" and "crossentropy"/"ce" pick their kind from
the labels" and outputs" shapes, as Keras does), a `Metric` class or object, or a function
`f(y_true, y_pred)` returning per-sample values (averaged with sample weights).
"""

from __future__ import annotations

from ..class_configs import from_class_config, to_class_config
from .accuracy import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    ShapeAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    shape_accuracy,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from .auc import AUC
from .base import Mean, MeanMetricWrapper, Metric, Sum
from .confusion import (
    F1Score,
    FalseNegatives,
    FalsePositives,
    FBetaScore,
    Precision,
    Recall,
    TrueNegatives,
    TruePositives,
)
from .regression import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    CategoricalHinge,
    CosineSimilarity,
    Hinge,
    KLDivergence,
    LogCoshError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    Poisson,
    RootMeanSquaredError,
    ShapeCrossentropy,
    SparseCategoricalCrossentropy,
    SquaredHinge,
)

# name -> class; every instance made from a name is named by that name (as Keras logs it).
METRICS = {
    "accuracy": ShapeAccuracy,
    "acc": ShapeAccuracy,
    "crossentropy": ShapeCrossentropy,
    "ce": ShapeCrossentropy,
    "cse": ShapeCrossentropy,  # the blog"s name
    "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
    "mean_squared_error": MeanSquaredError,
    "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError,
    "mae": MeanAbsoluteError,
    "mean_absolute_percentage_error": MeanAbsolutePercentageError,
    "mape": MeanAbsolutePercentageError,
    "mean_squared_logarithmic_error": MeanSquaredLogarithmicError,
    "msle": MeanSquaredLogarithmicError,
    "root_mean_squared_error": RootMeanSquaredError,
    "rmse": RootMeanSquaredError,
    "logcosh": LogCoshError,
    "log_cosh": LogCoshError,
    "cosine_similarity": CosineSimilarity,
    "kl_divergence": KLDivergence,
    "kld": KLDivergence,
    "kullback_leibler_divergence": KLDivergence,
    "poisson": Poisson,
    "hinge": Hinge,
    "squared_hinge": SquaredHinge,
    "categorical_hinge": CategoricalHinge,
    "binary_crossentropy": BinaryCrossentropy,
    "bce": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "precision": Precision,
    "recall": Recall,
    "auc": AUC,
    "true_positives": TruePositives,
    "false_positives": FalsePositives,
    "true_negatives": TrueNegatives,
    "false_negatives": FalseNegatives,
    "f1_score": F1Score,
    "fbeta_score": FBetaScore,
}
_CLASSES = {cls.__name__: cls for cls in (*set(METRICS.values()), Accuracy, Mean, Sum)}


def get(identifier) -> Metric:
    """A new (or the given) `Metric` for a name, a `Metric` class or object, or a function.

    A name gives a metric named by that name ("acc" logs as "acc"); a class name
    ("Precision") gives the class"s own default name; a function `f(y_true, y_pred)`
    is wrapped in a `MeanMetricWrapper` named after it.
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        if identifier in _CLASSES:
            return _CLASSES[identifier]()
        cls = METRICS.get(identifier.lower())
        if cls is not None:
            return cls(name=identifier)
        raise ValueError(f"Unknown metric {identifier!r}. Expected one of: {', '.join(METRICS)} "
                         "(or a Metric object or class, or a function f(y_true, y_pred)).")
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise TypeError(f"A metric must be a name, a Metric object or class, or a function f(y_true, y_pred). "
                    f"Received: {identifier!r}")


def serialize(metric: Metric):
    """A JSON-ready form of a built-in metric: its class name when it has the default settings,
    else `{"class_name", "config"}`. Raises ValueError for metrics that cannot be rebuilt."""
    return to_class_config(metric, _CLASSES, "metric")


def deserialize(config: dict) -> Metric:
    """The metric `serialize` described as `{"class_name", "config"}`."""
    return from_class_config(config, _CLASSES, "metric")


__all__ = [
    "AUC",
    "METRICS",
    "Accuracy",
    "BinaryAccuracy",
    "BinaryCrossentropy",
    "CategoricalAccuracy",
    "CategoricalCrossentropy",
    "CategoricalHinge",
    "CosineSimilarity",
    "F1Score",
    "FBetaScore",
    "FalseNegatives",
    "FalsePositives",
    "Hinge",
    "KLDivergence",
    "LogCoshError",
    "Mean",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanMetricWrapper",
    "MeanSquaredError",
    "MeanSquaredLogarithmicError",
    "Metric",
    "Poisson",
    "Precision",
    "Recall",
    "RootMeanSquaredError",
    "ShapeAccuracy",
    "ShapeCrossentropy",
    "SparseCategoricalAccuracy",
    "SparseCategoricalCrossentropy",
    "SparseTopKCategoricalAccuracy",
    "SquaredHinge",
    "Sum",
    "TopKCategoricalAccuracy",
    "TrueNegatives",
    "TruePositives",
    "accuracy",
    "binary_accuracy",
    "categorical_accuracy",
    "deserialize",
    "get",
    "serialize",
    "shape_accuracy",
    "sparse_categorical_accuracy",
    "sparse_top_k_categorical_accuracy",
    "top_k_categorical_accuracy",
]
