"""Shape and regularization layers without weights: `Flatten`, `Reshape`, `Dropout` and spatial dropout."""

from __future__ import annotations

import math
import numbers

import numpy as np

from .. import fast, parallel
from ..fast import dropout_stream
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

    The mask is drawn from the layer's own generator when `seed` is given, else from the
    model's random generator (the one passed to `build`), so a seeded model drops the same
    units on every run and the global NumPy state is untouched. Unlike the blog's code,
    nothing is rescaled at inference (the blog divided by `prob`). The mask is kept as
    one byte per value (or per `noise_shape` entry) and applied with the scale on the
    batch pieces of `barenet.parallel`. With `barenet[fast]`, a float32 mask of the input's
    shape is drawn and applied in one compiled pass over the cores instead, from the same
    stream of the same generator (`barenet.fast.dropout_stream`): the same bits.

    Args:
        rate: Fraction of values to drop, in [0, 1). Defaults to 0.5.
        noise_shape: Shape of the mask, batch axis included, broadcast over the input: an
            entry None takes the input's size, 1 shares one draw along that axis (e.g.
            `(None, 1, 1, channels)` drops whole feature maps). Defaults to None (one draw
            per value). Inputs of any rank.
        seed: Seed of the layer's own generator. Defaults to None (the model's generator).
        prob: The blog's name for `rate`; give one or the other.
        input_shape: Shape of one sample; only needed on a model's first layer.
        name: Layer name. Defaults to one the model assigns.
    """

    def __init__(self, rate: float | None = None, noise_shape=None, seed=None, prob: float | None = None,
                 input_shape=None, name: str | None = None):
        super().__init__(input_shape, name)
        if rate is not None and prob is not None:
            raise ValueError(f"Give `rate` or its alias `prob`, not both. Received: rate={rate!r}, prob={prob!r}")
        rate = prob if rate is None else rate
        rate = 0.5 if rate is None else rate
        if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0 <= rate < 1:
            raise ValueError(f"`rate` must be a number in [0, 1). Received: rate={rate!r}")
        self.rate = float(rate)
        self.noise_shape = _check_noise_shape(noise_shape)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
            raise ValueError(f"`seed` must be a non-negative integer or None. Received: seed={seed!r}")
        self.seed = None if seed is None else int(seed)
        self._seed_rng = None if seed is None else np.random.default_rng(self.seed)
        self._keep = None

    def _build(self, input_shape, rng):
        self._rng = rng

    @property
    def prob(self) -> float:
        return self.rate

    def _mask_shape(self, shape) -> tuple:
        """The shape of the mask for inputs of `shape` (the batch axis included)."""
        if self.noise_shape is None:
            return shape
        if len(self.noise_shape) != len(shape) or any(
                d is not None and d != 1 and d != size for d, size in zip(self.noise_shape, shape)):
            raise ValueError(f"`noise_shape` of layer {self.name!r} does not broadcast to its inputs: each entry "
                             f"must be None, 1 or the input's size. Received: noise_shape={self.noise_shape} "
                             f"for inputs of shape {shape}")
        return tuple(size if d is None else d for d, size in zip(self.noise_shape, shape))

    def forward(self, x, training=False):
        self._check_input(x)
        if not training or self.rate == 0:
            self._keep = None
            return x
        # The mask comes from the layer's seeded generator, or the generator of the model being
        # run (so saving its state resumes dropout exactly), or the one this layer was built with.
        rng = self._seed_rng or CONTEXT.rng or self._rng
        shape = self._mask_shape(x.shape)
        share = CONTEXT.replica_rows  # data-parallel: draw the global batch's mask, keep this process's rows
        if share is not None and shape[0] == x.shape[0] == share[0].stop - share[0].start:
            self._keep = (rng.random((share[1], *shape[1:]), dtype=self.dtype) >= self.rate)[share[0]]
        else:
            if shape == x.shape and x.dtype == self.dtype and fast.elementwise_ready(x):
                # The same draw and product in one compiled pass over the cores (NumPy's bits).
                drawn = dropout_stream.draw_and_apply(rng, x, self.rate, fast.elementwise_blocks(x))
                if drawn is not None:
                    self._keep, out = drawn
                    return out
            self._keep = rng.random(shape, dtype=self.dtype) >= self.rate
        return self._apply(x)

    def _apply(self, values):
        """`values * keep / (1 - rate)`, written once and scaled in place, piece by piece."""
        keep, scale = self._keep, self.dtype.type(1 / (1 - self.rate))
        out = np.empty(values.shape, values.dtype)
        whole = keep.shape[0] == values.shape[0]
        if keep.shape == values.shape and values.dtype == self.dtype and fast.elementwise_ready(values):
            kernels, blocks = fast.get_elementwise_kernels(), fast.elementwise_blocks(values)
            arguments = (values.reshape(-1), keep.reshape(-1), scale, out.reshape(-1))
            if blocks == 1:  # the same pass by barenet.fast's kernel (over the cores when large)
                kernels.mask_block(*arguments)
            else:
                with fast.running(hold=False):
                    kernels.apply_mask(*arguments, blocks)
            return out

        def piece(rows):
            part = np.multiply(values[rows], keep[rows] if whole else keep, out=out[rows])
            part *= scale

        parallel.run_pieces(piece, len(values), values.size)
        return out

    def backward(self, dL_dy):
        if not self.needs_input_grad:
            return None
        return dL_dy if self._keep is None else self._apply(dL_dy)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "noise_shape": None if self.noise_shape is None
                else list(self.noise_shape), "seed": self.seed}


class SpatialDropout1D(Dropout):
    """Dropout of whole channels of sequences `(batch, steps, channels)`: one draw per sample and channel.

    Args:
        rate: Fraction of channels to drop, in [0, 1).
        seed: Seed of the layer's own generator. Defaults to None (the model's generator).
        input_shape: Shape of one sample; only needed on a model's first layer.
        name: Layer name. Defaults to one the model assigns.
    """

    def __init__(self, rate: float, seed=None, input_shape=None, name: str | None = None):
        super().__init__(rate, seed=seed, input_shape=input_shape, name=name)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(f"Layer {self.name!r} (SpatialDropout1D) expects sequences of shape (steps, channels). "
                             f"Received: input_shape={tuple(input_shape)}")
        return input_shape

    def _mask_shape(self, shape):
        return (shape[0], 1, shape[2])

    def get_config(self):
        config = super().get_config()
        del config["noise_shape"]
        return config


class SpatialDropout2D(Dropout):
    """Dropout of whole feature maps of images: one draw per sample and channel (Tompson et al., 2015).

    Args:
        rate: Fraction of channels to drop, in [0, 1).
        data_format: "channels_last" (`(batch, h, w, c)`) or "channels_first" (`(batch, c, h, w)`).
            Defaults to None, meaning channels-last.
        seed: Seed of the layer's own generator. Defaults to None (the model's generator).
        input_shape: Shape of one sample; only needed on a model's first layer.
        name: Layer name. Defaults to one the model assigns.
    """

    def __init__(self, rate: float, data_format=None, seed=None, input_shape=None, name: str | None = None):
        super().__init__(rate, seed=seed, input_shape=input_shape, name=name)
        if data_format not in (None, "channels_last", "channels_first"):
            raise ValueError("`data_format` must be 'channels_last', 'channels_first' or None. "
                             f"Received: data_format={data_format!r}")
        self.data_format = data_format or "channels_last"

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(f"Layer {self.name!r} (SpatialDropout2D) expects images of shape (height, width, "
                             f"channels) or (channels, height, width). Received: input_shape={tuple(input_shape)}")
        return input_shape

    def _mask_shape(self, shape):
        return (shape[0], shape[1], 1, 1) if self.data_format == "channels_first" else (shape[0], 1, 1, shape[3])

    def get_config(self):
        config = super().get_config()
        del config["noise_shape"]
        return {**config, "data_format": self.data_format}


def _check_noise_shape(noise_shape):
    if noise_shape is None:
        return None
    try:
        dims = tuple(noise_shape)
    except TypeError:
        dims = ()
    ok = bool(dims) and all(d is None or (isinstance(d, numbers.Integral) and not isinstance(d, bool) and d > 0)
                            for d in dims)
    if not ok:
        raise ValueError("`noise_shape` must be a tuple of positive integers or None entries (batch axis "
                         f"included). Received: noise_shape={noise_shape!r}")
    return tuple(None if d is None else int(d) for d in dims)
