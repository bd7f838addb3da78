"""The stateful `Metric` base class, `Mean`, `Sum` and `MeanMetricWrapper`.

A metric accumulates over many batches (`update_state`) and reports one value over all
of them (`result`). Its whole state is `metric.variables`: a list of float64 NumPy
arrays that are sums (weighted totals, counts, confusion counts, histograms). Sums are
additive, so the state of several data shards added element-wise is the state of the
whole data: `merge_state` does that here, and a distributed run can allreduce
`variables` in place and read an exact global `result()`.
"""

from __future__ import annotations

import copy
import numbers

import numpy as np

from ..sample_weighting import broadcast_weight as broadcast

EPSILON = 1e-7


def _snake_case(name: str) -> str:
    from ..layers.base import snake_case

    return snake_case(name)


class Metric:
    """Base class of stateful metrics.

    Subclasses create their state with `add_variable` in `__init__` and define
    `update_state(y_true, y_pred, sample_weight=None)` and `result()`.

    Args:
        name: Name of the metric in logs. Defaults to the class name in snake case.
        dtype: Dtype of the result. Defaults to None: float64, the precision of the state
            (Keras computes in float32).
    """

    def __init__(self, name: str | None = None, dtype=None):
        self.name = name or _snake_case(type(self).__name__)
        self.dtype = np.dtype(dtype or "float64")
        self._variables: list[np.ndarray] = []

    def add_variable(self, shape=(), name: str | None = None) -> np.ndarray:
        """A new zero-filled float64 state array (a sum: additive across data shards)."""
        variable = np.zeros(shape, np.float64)
        self._variables.append(variable)
        return variable

    @property
    def variables(self) -> list[np.ndarray]:
        """The state arrays (updated in place; adding two metrics' arrays merges their data)."""
        return list(self._variables)

    def reset_state(self) -> None:
        """Forget everything seen so far."""
        for variable in self._variables:
            variable[...] = 0

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def merge_state(self, metrics) -> None:
        """Add the states of other metrics of the same kind into this one."""
        for other in metrics:
            if type(other) is not type(self) or len(other.variables) != len(self._variables):
                raise ValueError(f"`metrics` must be {type(self).__name__} objects. Received: {type(other).__name__}")
            for mine, theirs in zip(self._variables, other.variables):
                mine += theirs

    def __call__(self, y_true, y_pred, sample_weight=None):
        """Update the state with one batch and return the result so far."""
        self.update_state(y_true, y_pred, sample_weight=sample_weight)
        return self.result()

    def clone(self) -> Metric:
        """A metric configured like this one, with an empty state."""
        twin = copy.deepcopy(self)
        twin.reset_state()
        return twin

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": str(self.dtype)}

    @classmethod
    def from_config(cls, config: dict) -> Metric:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"

    def _scalar(self, value):
        """A Python float for a scalar result; an array of `dtype` otherwise."""
        value = np.asarray(value)
        return float(value.astype(self.dtype)) if value.ndim == 0 else value.astype(self.dtype)


def broadcast_weight(sample_weight, shape: tuple) -> np.ndarray:
    """`sample_weight` broadcast to `shape` in float64 (see `barenet.sample_weighting`)."""
    return broadcast(sample_weight, shape, np.float64)


def as_array(value) -> np.ndarray:
    """An array from an array, a list or an engine tensor."""
    return np.asarray(getattr(value, "value", value))


class Mean(Metric):
    """The (weighted) mean of the values given: `sum(w * v) / sum(w)`.

    `update_state(values, sample_weight=None)`: weights broadcast to the values' shape.
    """

    def __init__(self, name: str = "mean", dtype=None):
        super().__init__(name, dtype)
        self.total = self.add_variable(name="total")
        self.count = self.add_variable(name="count")

    def update_state(self, values, sample_weight=None) -> None:
        if isinstance(values, numbers.Real) and isinstance(sample_weight, numbers.Real):
            self._add(float(values) * sample_weight, sample_weight)  # one number (a batch's loss): no arrays
            return
        values = as_array(values).astype(np.float64, copy=False)
        if sample_weight is None:
            self._add(values.sum(), values.size)
        else:
            weight = broadcast_weight(sample_weight, values.shape)
            self._add((values * weight).sum(), weight.sum())

    def _add(self, weighted_sum, weight) -> None:
        """`total += weighted_sum`, `count += weight`, written `x[()] = x[()] + y`: the same float64
        additions without NumPy's in-place machinery (a microsecond a call on a 0-d array; metrics
        are updated every step)."""
        total, count = self.total, self.count
        total[()] = total[()] + weighted_sum
        count[()] = count[()] + weight

    def result(self) -> float:
        return self._scalar(self.total / self.count if self.count else 0.0)


class Sum(Metric):
    """The (weighted) sum of the values given."""

    def __init__(self, name: str = "sum", dtype=None):
        super().__init__(name, dtype)
        self.total = self.add_variable(name="total")

    def update_state(self, values, sample_weight=None) -> None:
        values = as_array(values).astype(np.float64, copy=False)
        if sample_weight is not None:
            values = values * broadcast_weight(sample_weight, values.shape)
        self.total += values.sum()

    def result(self) -> float:
        return self._scalar(self.total)


class MeanMetricWrapper(Mean):
    """The weighted mean over samples of `fn(y_true, y_pred, **kwargs)` (one value per sample).

    Args:
        fn: A function of `(y_true, y_pred)` returning per-sample values (NumPy arrays).
        name: Name in logs. Defaults to the function's name.
        dtype: Dtype of the result. Defaults to float64.
        **kwargs: Passed to `fn`.
    """

    def __init__(self, fn, name: str | None = None, dtype=None, **kwargs):
        super().__init__(name or getattr(fn, "__name__", "metric"), dtype)
        self._fn, self._fn_kwargs = fn, kwargs

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        values = as_array(self._fn(as_array(y_true), as_array(y_pred), **self._fn_kwargs))
        if values.ndim == 0:  # a function that already averaged its batch counts as one value per sample
            values = np.full(len(as_array(y_pred)), float(values))
        super().update_state(values, sample_weight)

    def get_config(self) -> dict:
        return {**super().get_config(), **self._fn_kwargs}

    @classmethod
    def from_config(cls, config: dict) -> Metric:
        return cls(**config)  # subclasses fix `fn` themselves
