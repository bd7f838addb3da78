"""Preprocessing layers: Keras's `Rescaling` and `Normalization` (with `adapt`)."""

from __future__ import annotations

import numbers

import numpy as np

from .. import config as config_module
from .base import Layer


def _check_real(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a number. Received: {name}={value!r}")
    return float(value)


class Rescaling(Layer):
    """`x * scale + offset` (e.g. `Rescaling(1 / 255)` for pixels, `Rescaling(1 / 127.5, offset=-1)`).

    Args:
        scale: The factor. A number.
        offset: Added after scaling. Defaults to 0.0.
        **kwargs: Base layer arguments (`name`, `input_shape`, ...).
    """

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = _check_real("scale", scale)
        self.offset = _check_real("offset", offset)

    def forward(self, x, training=False):
        self._check_input(x)
        return x * x.dtype.type(self.scale) + x.dtype.type(self.offset)

    def backward(self, dL_dy):
        return dL_dy * dL_dy.dtype.type(self.scale) if self.needs_input_grad else None

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


class Normalization(Layer):
    """Standardize features: `(x - mean) / max(sqrt(variance), epsilon)`, or the inverse
    `mean + x * max(sqrt(variance), epsilon)` with `invert=True` (Keras's definition).

    The statistics are given (`mean`, `variance`) or learned from data with `adapt(data)`
    before training; adapted ones are non-trainable weights (saved with the model).

    Args:
        axis: The axis (or tuple of axes) that keeps its own statistics, counted with the batch
            axis (-1: one mean per last-axis feature). None: one mean and variance for all
            values. Defaults to -1.
        mean: Fixed means (broadcastable to the kept axes), or None to `adapt`. Defaults to None.
        variance: Fixed variances, given together with `mean`. Defaults to None.
        invert: Apply the inverse transformation. Defaults to False.
        **kwargs: Base layer arguments.
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert: bool = False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            axes = ()
        elif isinstance(axis, numbers.Integral) and not isinstance(axis, bool):
            axes = (int(axis),)
        elif isinstance(axis, (tuple, list)) and all(isinstance(a, numbers.Integral) and not isinstance(a, bool)
                                                     for a in axis):
            axes = tuple(int(a) for a in axis)
        else:
            raise ValueError(f"`axis` must be an int, a tuple of ints or None. Received: axis={axis!r}")
        if 0 in axes:
            raise ValueError(f"`axis` must not include the batch axis 0. Received: axis={axis!r}")
        if (mean is None) != (variance is None):
            raise ValueError("Give both `mean` and `variance`, or neither (then call adapt()). "
                             f"Received: mean={mean!r}, variance={variance!r}")
        self.axis = axis if axis is None or isinstance(axis, numbers.Integral) else tuple(axes)
        self._axes = axes
        self.invert = bool(invert)
        self.input_mean = None if mean is None else np.asarray(mean, dtype=np.float64)
        self.input_variance = None if variance is None else np.asarray(variance, dtype=np.float64)
        if self.input_variance is not None and np.any(self.input_variance < 0):
            raise ValueError("`variance` must be non-negative.")
        self._pending = None  # statistics adapted before the layer was built

    def _kept_axes(self, rank: int) -> tuple:
        """The kept axes as non-negative sample axes (1 .. rank - 1) of inputs of `rank`."""
        kept = []
        for a in self._axes:
            if not -rank <= a < rank or a % rank == 0:
                raise ValueError(f"`axis`={self.axis} of layer {self.name!r} is out of range for inputs of rank {rank}.")
            kept.append(a % rank)
        return tuple(sorted(set(kept)))

    def _stats_shape(self, sample_shape) -> tuple:
        rank = len(sample_shape) + 1
        kept = self._kept_axes(rank)
        return tuple(sample_shape[a - 1] if a in kept else 1 for a in range(1, rank))

    def _build(self, input_shape, rng):
        shape = self._stats_shape(input_shape)
        if self.input_mean is not None:
            self._mean = np.broadcast_to(self.input_mean, shape).astype(self.dtype)
            self._variance = np.broadcast_to(self.input_variance, shape).astype(self.dtype)
            return
        kept = tuple(input_shape[a - 1] for a in self._kept_axes(len(input_shape) + 1))
        # Stored as Keras stores them (one value per kept position); used through broadcastable views.
        self.state["mean"] = np.zeros(kept, self.dtype)
        self.state["variance"] = np.ones(kept, self.dtype)
        self._mean, self._variance = self.state["mean"].reshape(shape), self.state["variance"].reshape(shape)
        if self._pending is not None:
            self.state["mean"][...], self.state["variance"][...] = (v.reshape(kept) for v in self._pending)
            self._pending = None

    def adapt(self, data, batch_size: int | None = None, steps: int | None = None) -> None:
        """Compute the mean and variance of `data` over every axis but the kept ones.

        Args:
            data: An array of samples `(n, *sample_shape)`, or an iterable of such batches
                (e.g. a generator); statistics are combined exactly across batches.
            batch_size, steps: Accepted for Keras compatibility; an array is read at once.
        """
        if self.input_mean is not None:
            raise ValueError(f"Layer {self.name!r} was given `mean` and `variance`; adapt() would ignore data.")
        batches = [data] if isinstance(data, (np.ndarray, list, tuple)) else data
        count, mean, m2 = 0, None, None
        for batch in batches:
            batch = np.asarray(batch, dtype=np.float64)
            if batch.ndim < 1 or batch.dtype.kind not in "biuf" or len(batch) == 0:
                raise ValueError(f"adapt() needs numeric batches of samples. Received: shape {batch.shape}")
            reduce = tuple(a for a in range(batch.ndim) if a not in self._kept_axes(batch.ndim))
            n = int(np.prod([batch.shape[a] for a in reduce]))
            b_mean = batch.mean(axis=reduce, keepdims=True)
            b_m2 = ((batch - b_mean) ** 2).sum(axis=reduce, keepdims=True)
            if mean is None:
                count, mean, m2 = n, b_mean, b_m2
            else:  # Chan et al.'s pairwise update of mean and sum of squared deviations
                delta = b_mean - mean
                total = count + n
                mean = mean + delta * (n / total)
                m2 = m2 + b_m2 + delta ** 2 * (count * n / total)
                count = total
        if mean is None:
            raise ValueError("adapt() received no data.")
        mean, variance = mean[0], (m2 / count)[0]
        if self.built:
            if mean.shape != self._mean.shape:
                raise ValueError(f"adapt() data has samples of another shape than layer {self.name!r} was built for. "
                                 f"Received: statistics shape {mean.shape}, expected {self._mean.shape}")
            self._mean[...], self._variance[...] = mean, variance
        else:
            self._pending = (mean, variance)
            sample = tuple(np.shape(batch)[1:])
            self.build(sample)

    def _std(self, dtype):
        return np.maximum(np.sqrt(self._variance), dtype.type(config_module.epsilon()))

    def forward(self, x, training=False):
        self._check_input(x)
        self._scale = self._std(x.dtype)
        if self.invert:
            return self._mean + x * self._scale
        return (x - self._mean) / self._scale

    def backward(self, dL_dy):
        if not self.needs_input_grad:
            return None
        return dL_dy * self._scale if self.invert else dL_dy / self._scale

    def get_config(self):
        config = {**super().get_config(), "axis": list(self.axis) if isinstance(self.axis, tuple) else self.axis,
                  "invert": self.invert}
        if self.input_mean is not None:
            config["mean"] = self.input_mean.tolist()
            config["variance"] = self.input_variance.tolist()
        return config
