"""Regularization layers: Keras's `GaussianNoise` and `ActivityRegularization`."""

from __future__ import annotations

import numbers

import numpy as np

from .. import regularizers
from .base import CONTEXT, Layer


class GaussianNoise(Layer):
    """Add zero-mean Gaussian noise of standard deviation `stddev` in training; the identity
    at inference. The gradient passes through unchanged (the noise does not depend on x).

    Args:
        stddev: Standard deviation of the noise (>= 0).
        seed: Seed of the layer's own generator. Defaults to None: the noise comes from the
            generator of the model being run (so a seeded model repeats it).
        **kwargs: Base layer arguments (`name`, `input_shape`, ...).
    """

    def __init__(self, stddev, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(stddev, bool) or not isinstance(stddev, numbers.Real) or stddev < 0:
            raise ValueError(f"`stddev` must be a number >= 0. Received: stddev={stddev!r}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
            raise ValueError(f"`seed` must be a non-negative integer or None. Received: seed={seed!r}")
        self.stddev = float(stddev)
        self.seed = None if seed is None else int(seed)
        self._own_rng = None if seed is None else np.random.default_rng(self.seed)

    def _build(self, input_shape, rng):
        self._rng = rng

    def forward(self, x, training=False):
        self._check_input(x)
        if not training or self.stddev == 0:
            return x
        rng = self._own_rng or CONTEXT.rng or self._rng
        return x + rng.standard_normal(x.shape, dtype=x.dtype) * x.dtype.type(self.stddev)

    def backward(self, dL_dy):
        return dL_dy if self.needs_input_grad else None

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


class ActivityRegularization(Layer):
    """The identity, adding `l1 * sum(|x|) + l2 * sum(x^2)` of its input to the training loss
    (summed over the batch, as Keras 3 does); its gradient `l1 sign(x) + 2 l2 x` reaches the
    layers below.

    Args:
        l1: L1 factor (>= 0). Defaults to 0.0.
        l2: L2 factor (>= 0). Defaults to 0.0.
        **kwargs: Base layer arguments.
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0, **kwargs):
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.l1, self.l2 = self.activity_regularizer.l1, self.activity_regularizer.l2

    def forward(self, x, training=False):
        self._check_input(x)
        return x

    def backward(self, dL_dy):
        return dL_dy if self.needs_input_grad else None

    def get_config(self):
        config = {**super().get_config(), "l1": self.l1, "l2": self.l2}
        config.pop("activity_regularizer", None)
        return config
