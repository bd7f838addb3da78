"""The `Loss` base class: per-sample values, sample weights and the reduction, as in Keras 3.

A loss computes one value per sample with `call(y_true, y_pred)`, multiplies it by the
sample weights and reduces it:

    "sum_over_batch_size" (default)  sum(w * values) / values.size   (Keras's "weighted mean")
    "sum"                            sum(w * values)
    "mean_with_sample_weight"        sum(w * values) / sum(w)
    "none" or None                   w * values, one per sample

Built-in losses are written in NumPy and also define `call_gradient`, their exact
hand-derived gradient, which training uses directly (and cross-entropies have a fused
gradient with respect to the logits of a softmax/sigmoid output, `logits_gradient`).
A subclass that defines only `call` with `barenet.ops` (or a plain function wrapped in
`LossFunctionWrapper`) is differentiated by the autodiff engine instead.
"""

from __future__ import annotations

import numpy as np

from ..autodiff import Tensor, as_tensor, no_grad
from ..autodiff import ops as engine_ops
from ..sample_weighting import broadcast_weight

EPSILON = 1e-7
REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


def _snake_case(name: str) -> str:
    from ..layers.base import snake_case

    return snake_case(name)


def check_reduction(reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(f"`reduction` must be one of {list(REDUCTIONS)}. Received: reduction={reduction!r}")
    return reduction


class Loss:
    """Base class of losses (Keras's `keras.losses.Loss`).

    Subclasses define `call(y_true, y_pred)` returning one value per sample (written with
    `barenet.ops` to be differentiated by the engine, or in NumPy together with
    `call_gradient` for a hand-derived gradient).

    Args:
        name: Name of the loss. Defaults to the class name in snake case.
        reduction: "sum_over_batch_size", "sum", "mean_with_sample_weight" or "none"/None
            (see the module docstring). Defaults to "sum_over_batch_size".
        dtype: Accepted for Keras compatibility (computations use the prediction's dtype).
    """

    fused_activation: str | None = None  # the output activation whose logits gradient this loss has
    from_logits = False

    def __init__(self, name: str | None = None, reduction="sum_over_batch_size", dtype=None):
        self.name = name or _snake_case(type(self).__name__)
        self.reduction = check_reduction(reduction)
        self.dtype = dtype

    # --- what subclasses define ------------------------------------------------------------------
    def call(self, y_true, y_pred):
        raise NotImplementedError(f"{type(self).__name__} must define call(self, y_true, y_pred).")

    def call_gradient(self, y_true, y_pred, upstream):
        """dLoss/dy_pred given `upstream` = dLoss/d(per-sample values); built-ins override it."""
        raise NotImplementedError

    @property
    def hand_derived(self) -> bool:
        """Whether the loss has a NumPy gradient (`call_gradient`) rather than the engine's."""
        return type(self).call_gradient is not Loss.call_gradient

    # --- values ----------------------------------------------------------------------------------
    def __call__(self, y_true, y_pred, sample_weight=None):
        """The reduced loss: a float for arrays (an array for reduction "none"); an engine
        `Tensor` (with its gradient) when `y_pred` is a `Tensor`."""
        if isinstance(y_pred, Tensor) or isinstance(y_true, Tensor):
            return self._tensor_loss(y_true, y_pred, sample_weight)
        values = self.values(y_true, y_pred)
        reduced, _ = self.reduce(values, sample_weight)
        return float(reduced) if np.ndim(reduced) == 0 else reduced

    def values(self, y_true, y_pred) -> np.ndarray:
        """Per-sample values (NumPy) of `call`, run without gradients."""
        if self.hand_derived:
            return np.asarray(self.call(y_true, y_pred))
        with no_grad():
            out = self.call(as_tensor(y_true), as_tensor(y_pred))
        return np.asarray(getattr(out, "value", out))

    def reduce(self, values: np.ndarray, sample_weight=None):
        """`(reduced value, dReduced/dValues)` for per-sample `values` under this reduction."""
        values = np.asarray(values)
        if sample_weight is None and self.reduction in ("sum_over_batch_size", "mean") and values.size:
            one = values.dtype.type(1)  # as below with w = 1, the share 1 / size rounded as there
            return values.sum() / values.size, np.full(values.shape, one / values.dtype.type(values.size))
        weight = np.ones_like(values) if sample_weight is None else broadcast_weight(sample_weight, values.shape)
        weighted = values * weight
        if self.reduction in ("none", None):
            return weighted, weight
        divisor = 1.0
        if self.reduction in ("sum_over_batch_size", "mean"):
            divisor = values.size
        elif self.reduction == "mean_with_sample_weight":
            divisor = float(weight.sum()) if sample_weight is not None else values.size
        divisor = divisor or 1.0
        return weighted.sum() / divisor, (weight / divisor).astype(values.dtype, copy=False)

    def training_scale(self, values: np.ndarray, sample_weight=None):
        """`(scalar value, dValue/dValues)` for training: the reduced loss, and for reduction
        "none" the mean of the weighted values (as a non-scalar loss is reduced for training)."""
        reduced, upstream = self.reduce(values, sample_weight)
        if self.reduction in ("none", None):
            n = max(np.size(values), 1)
            return float(np.sum(reduced)) / n, upstream / n
        return float(reduced), upstream

    def gradient(self, y_true, y_pred, sample_weight=None) -> np.ndarray:
        """dLoss/dy_pred of the (training) loss, from the hand-derived `call_gradient`."""
        values = self.call(y_true, y_pred)
        _, upstream = self.training_scale(values, sample_weight)
        return self.call_gradient(y_true, y_pred, upstream).astype(np.asarray(y_pred).dtype, copy=False)

    def logits_gradient(self, y_true, y_pred, sample_weight=None, upstream=None) -> np.ndarray:
        """dLoss/dLogits of a cross-entropy after its softmax/sigmoid (`y_pred` the probabilities);
        `upstream` is `training_scale`'s second value when already computed."""
        raise NotImplementedError(f"{self.name} has no fused gradient.")

    def value_and_logits_gradient(self, y_true, y_pred, sample_weight=None):
        """`(training value, dLoss/dLogits)` of a cross-entropy after its softmax/sigmoid, as
        `training_scale(call(...))` and `logits_gradient` give them: the training step's one call
        (a loss may compute both at once)."""
        value, upstream = self.training_scale(self.call(y_true, y_pred), sample_weight)
        return value, self.logits_gradient(y_true, y_pred, sample_weight, upstream=upstream)

    def _tensor_loss(self, y_true, y_pred, sample_weight, values=None):
        y_pred = as_tensor(y_pred)
        y_true_value = np.asarray(getattr(y_true, "value", y_true))
        if self.hand_derived:
            values = np.asarray(self.call(y_true_value, y_pred.value))
            reduced, upstream = self.reduce(values, sample_weight)

            def vjp(g):
                g = np.asarray(g)
                scale = upstream * g if g.ndim else upstream * g.item()
                return (self.call_gradient(y_true_value, y_pred.value, scale).astype(y_pred.dtype, copy=False),)

            return Tensor(np.asarray(reduced, y_pred.dtype), parents=(y_pred,), vjp=vjp)
        values = as_tensor(self.call(as_tensor(y_true), y_pred) if values is None else values)
        if sample_weight is not None:
            weight = broadcast_weight(sample_weight, values.shape).astype(values.dtype)
            values = values * weight
        if self.reduction in ("none", None):
            return values
        total = engine_ops.sum(values)
        if self.reduction == "sum":
            return total
        if self.reduction == "mean_with_sample_weight" and sample_weight is not None:
            return total / float(broadcast_weight(sample_weight, values.shape).sum() or 1.0)
        return total / float(max(values.size, 1))

    # --- configuration ---------------------------------------------------------------------------
    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict) -> Loss:
        return cls(**config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class LossFunctionWrapper(Loss):
    """A loss from a function `fn(y_true, y_pred, **kwargs)` returning per-sample values
    (or an already averaged scalar), written with `barenet.ops`; the engine differentiates it.

    Args:
        fn: The function.
        name: Defaults to the function's name.
        reduction: See `Loss`. Defaults to "sum_over_batch_size".
        **kwargs: Passed to `fn`.
    """

    def __init__(self, fn, reduction="sum_over_batch_size", name: str | None = None, dtype=None, **kwargs):
        super().__init__(name or getattr(fn, "__name__", "loss"), reduction, dtype)
        self.fn, self.fn_kwargs = fn, kwargs

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self.fn_kwargs)

    def reduce(self, values, sample_weight=None):
        values = np.asarray(values)
        if values.ndim == 0 and sample_weight is not None:  # a scalar loss: scaled by the mean weight
            weight = float(np.mean(np.asarray(getattr(sample_weight, "value", sample_weight))))
            return values * weight, np.asarray(weight)
        return super().reduce(values, sample_weight)

    def _tensor_loss(self, y_true, y_pred, sample_weight, values=None):
        values = as_tensor(self.call(as_tensor(y_true), as_tensor(y_pred)))
        if values.ndim == 0:
            if sample_weight is not None:
                values = values * float(np.mean(np.asarray(getattr(sample_weight, "value", sample_weight))))
            return values
        return super()._tensor_loss(y_true, y_pred, sample_weight, values)

    def get_config(self) -> dict:
        return {**super().get_config(), "fn": getattr(self.fn, "__name__", repr(self.fn)), **self.fn_kwargs}

    def __repr__(self) -> str:
        return f"LossFunctionWrapper({getattr(self.fn, '__name__', self.fn)!r})"
