"""Losses as in Keras 3: classes with `reduction`, `from_logits`, `label_smoothing`, `axis`, and
their per-sample functions; `get()` resolves names (Keras's and the blog's `mse`/`cse`).

A loss is called as `loss(y_true, y_pred, sample_weight=None)`. Built-ins have exact
hand-derived gradients (`gradient`, and `logits_gradient` fused with a softmax/sigmoid
output); a `Loss` subclass that defines only `call` with `barenet.ops`, or a plain
function `f(y_true, y_pred)`, is differentiated by the autodiff engine.
"""

from __future__ import annotations

from ..class_configs import from_class_config, to_class_config
from .base import EPSILON, REDUCTIONS, Loss, LossFunctionWrapper
from .hinge import (
    CategoricalHinge,
    Hinge,
    SquaredHinge,
    categorical_hinge,
    hinge,
    squared_hinge,
)
from .probabilistic import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    KLDivergence,
    Poisson,
    SparseCategoricalCrossentropy,
    binary_crossentropy,
    categorical_crossentropy,
    kl_divergence,
    poisson,
    sparse_categorical_crossentropy,
)
from .regression import (
    CosineSimilarity,
    Huber,
    LogCosh,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    cosine_similarity,
    huber,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
)

# Short names as in Keras (`keras.losses.mse`, ...).
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kl_divergence

LOSSES = {
    "mean_squared_error": MeanSquaredError,
    "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError,
    "mae": MeanAbsoluteError,
    "mean_absolute_percentage_error": MeanAbsolutePercentageError,
    "mape": MeanAbsolutePercentageError,
    "mean_squared_logarithmic_error": MeanSquaredLogarithmicError,
    "msle": MeanSquaredLogarithmicError,
    "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "cse": CategoricalCrossentropy,  # the blog's name
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "huber": Huber,
    "huber_loss": Huber,
    "log_cosh": LogCosh,
    "logcosh": LogCosh,
    "kl_divergence": KLDivergence,
    "kld": KLDivergence,
    "kullback_leibler_divergence": KLDivergence,
    "poisson": Poisson,
    "cosine_similarity": CosineSimilarity,
    "hinge": Hinge,
    "squared_hinge": SquaredHinge,
    "categorical_hinge": CategoricalHinge,
}
_CLASSES = {cls.__name__: cls for cls in set(LOSSES.values())}


def get(identifier) -> Loss:
    """A `Loss` object for a name, a `Loss` class or instance, or a function `f(y_true, y_pred)`.

    Names are Keras's (snake case or class name, e.g. "binary_crossentropy",
    "BinaryCrossentropy", "mse") and the blog's ("cse").
    """
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = LOSSES.get(identifier.lower()) or _CLASSES.get(identifier)
        if cls is not None:
            return cls()
        raise ValueError(f"Unknown loss {identifier!r}. Expected one of: {', '.join(LOSSES)} "
                         "(or a Loss object, or a function f(y_true, y_pred)).")
    if callable(identifier):
        return LossFunctionWrapper(identifier)
    raise TypeError(f"`loss` must be a loss name, a Loss object or a function f(y_true, y_pred). "
                    f"Received: {identifier!r}")


def serialize(loss: Loss):
    """A JSON-ready form of a built-in loss: its name when it has the default settings, else
    `{"class_name", "config"}`. Raises ValueError for losses that cannot be rebuilt by name."""
    return to_class_config(loss, _CLASSES, "loss",
                           lambda config, cls: config["name"] if config["name"] in LOSSES else cls.__name__)


def deserialize(config: dict) -> Loss:
    """The loss `serialize` described as `{"class_name", "config"}`."""
    return from_class_config(config, _CLASSES, "loss")


__all__ = [
    "EPSILON",
    "LOSSES",
    "REDUCTIONS",
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "CategoricalHinge",
    "CosineSimilarity",
    "Hinge",
    "Huber",
    "KLDivergence",
    "LogCosh",
    "Loss",
    "LossFunctionWrapper",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredError",
    "MeanSquaredLogarithmicError",
    "Poisson",
    "SparseCategoricalCrossentropy",
    "SquaredHinge",
    "binary_crossentropy",
    "categorical_crossentropy",
    "categorical_hinge",
    "cosine_similarity",
    "deserialize",
    "get",
    "hinge",
    "huber",
    "kl_divergence",
    "kld",
    "log_cosh",
    "mae",
    "mape",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_error",
    "mean_squared_logarithmic_error",
    "mse",
    "msle",
    "poisson",
    "serialize",
    "sparse_categorical_crossentropy",
    "squared_hinge",
]
