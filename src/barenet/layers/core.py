"""Shape and regularization layers without weights: `Flatten`, `Reshape`, `Dropout`."""

from __future__ import annotations

import math
import numbers

from .base import CONTEXT, Layer


class Flatten(Layer):
    """Flatten each sample: `(batch, *dims)` -> `(batch, prod(dims))` (channels-last order, as Keras).

    Args:
        input_shape: Shape of one sample; only needed on a model's first layer.
        name: Layer name. Defaults to one the model assigns.
    """

    def compute_output_shape(self, input_shape):
        return (math.prod(input_shape),)

    def forward(self, x, training=False):
        self._check_input(x)
        return x.reshape(len(x), -1)

    def backward(self, dL_dy):
        return dL_dy.reshape(len(dL_dy), *self.input_shape) if self.needs_input_grad else None


class Reshape(Layer):
    """Reshape each sample to `target_shape` (no batch axis); one entry may be -1 (inferred).

    Args:
        target_shape: The new sample shape, e.g. `(28, 28, 1)` or `(-1, 4)`.
        input_shape: Shape of one sample; only needed on a model's first layer.
        name: Layer name. Defaults to one the model assigns.
    """

    def __init__(self, target_shape, input_shape=None, name: str | None = None):
        super().__init__(input_shape, name)
        if isinstance(target_shape, numbers.Integral) and not isinstance(target_shape, bool):
            target_shape = (target_shape,)
        try:
            dims = tuple(target_shape)
        except TypeError:
            dims = ()
        valid = bool(dims) and all(isinstance(d, numbers.Integral) and not isinstance(d, bool) and (d > 0 or d == -1)
                                   for d in dims) and sum(d == -1 for d in dims) <= 1
        if not valid:
            raise ValueError("`target_shape` must be a tuple of positive integers with at most one -1. "
                             f"Received: target_shape={target_shape!r}")
        self.target_shape = tuple(int(d) for d in dims)

    def compute_output_shape(self, input_shape):
        size, known = math.prod(input_shape), math.prod(d for d in self.target_shape if d != -1)
        if (-1 in self.target_shape and size % known) or (-1 not in self.target_shape and size != known):
            raise ValueError(f"`target_shape` {self.target_shape} of layer {self.name!r} does not fit samples of "
                             f"{size} values. Received: target_shape={self.target_shape}, "
                             f"input_shape={tuple(input_shape)}")
        return tuple(size // known if d == -1 else d for d in self.target_shape)

    def forward(self, x, training=False):
        self._check_input(x)
        return x.reshape(len(x), *self.output_shape)

    def backward(self, dL_dy):
        return dL_dy.reshape(len(dL_dy), *self.input_shape) if self.needs_input_grad else None

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class Dropout(Layer):
    """Inverted dropout: in training, zero each value with probability `rate` and scale the
    rest by `1 / (1 - rate)`; at inference, the identity.

    The mask is drawn from the model's random generator (the one passed to `build`), so a
    seeded model drops the same units on every run and the global NumPy state is untouched.
    Unlike the blog's code, nothing is rescaled at inference (the blog divided by `prob`).

    Args:
        rate: Fraction of values to drop, in [0, 1). Defaults to 0.5.
        prob: The blog's name for `rate`; give one or the other.
        input_shape: Shape of one sample; only needed on a model's first layer.
        name: Layer name. Defaults to one the model assigns.
    """

    def __init__(self, rate: float | None = None, prob: float | None = None, input_shape=None,
                 name: str | None = None):
        super().__init__(input_shape, name)
        if rate is not None and prob is not None:
            raise ValueError(f"Give `rate` or its alias `prob`, not both. Received: rate={rate!r}, prob={prob!r}")
        rate = prob if rate is None else rate
        rate = 0.5 if rate is None else rate
        if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0 <= rate < 1:
            raise ValueError(f"`rate` must be a number in [0, 1). Received: rate={rate!r}")
        self.rate = float(rate)
        self._mask = None

    def _build(self, input_shape, rng):
        self._rng = rng

    @property
    def prob(self) -> float:
        return self.rate

    def forward(self, x, training=False):
        self._check_input(x)
        if not training or self.rate == 0:
            self._mask = None
            return x
        # The mask comes from the generator of the model being run (so saving its state resumes
        # dropout exactly), or the one this layer was built with when it runs on its own.
        rng = CONTEXT.rng or self._rng
        keep = rng.random(x.shape, dtype=self.dtype) >= self.rate
        self._mask = keep * self.dtype.type(1 / (1 - self.rate))
        return x * self._mask

    def backward(self, dL_dy):
        if not self.needs_input_grad:
            return None
        return dL_dy if self._mask is None else dL_dy * self._mask

    def get_config(self):
        return {**super().get_config(), "rate": self.rate}
