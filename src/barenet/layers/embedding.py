"""Keras's `Embedding`: integer indices -> rows of a learned table."""

from __future__ import annotations

import numpy as np

from .. import initializers, regularizers
from .base import Layer, check_positive_int


class Embedding(Layer):
    """Look up a learned vector for each integer index: `out[..., :] = embeddings[x[...]]`.

    Args:
        input_dim: Size of the vocabulary: indices lie in `[0, input_dim)`.
        output_dim: Length of each vector.
        embeddings_initializer: Initializer name for `embeddings`. Defaults to "uniform"
            (U(-0.05, 0.05), as Keras's `RandomUniform()`).
        embeddings_regularizer: Penalty on `embeddings` (a regularizer or a name). Defaults to None.
        mask_zero: Whether index 0 is padding: the output then carries the mask `indices != 0`
            to the layers after it that use masks (RNNs, attention, GlobalAveragePooling1D; see
            `layers.masking`). Index 0 still has its row. Defaults to False.
        input_shape: Shape of one sample of indices, e.g. `(timesteps,)`; only needed on a
            model's first layer.
        name: Layer name. Defaults to one the model assigns.

    Input `(batch, ...)` of integers (or of floats holding whole numbers, as a model that
    casts its inputs passes them) -> output `(batch, ..., output_dim)`. `embeddings` has
    shape `(input_dim, output_dim)`. The indices get no gradient: `backward` returns None.
    """

    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer="uniform",
                 embeddings_regularizer=None, mask_zero: bool = False, input_shape=None, name: str | None = None):
        super().__init__(input_shape, name)
        self.input_dim = check_positive_int("input_dim", input_dim)
        self.output_dim = check_positive_int("output_dim", output_dim)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self._initializer_name = embeddings_initializer if isinstance(embeddings_initializer, str) else None
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        if self.embeddings_regularizer is not None:
            self.regularizers["embeddings"] = self.embeddings_regularizer
        self.mask_zero = bool(mask_zero)

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.output_dim)

    def compute_mask(self, inputs, mask=None):
        """`inputs != 0` with `mask_zero`, else None (Keras's rule)."""
        from .masking_flow import engine_op

        return engine_op("not_equal", inputs, 0) if self.mask_zero else None

    def _build(self, input_shape, rng):
        self.params["embeddings"] = self.embeddings_initializer((self.input_dim, self.output_dim), rng, self.dtype)

    def forward(self, x, training=False):
        self._check_input(x)
        self._indices = self._check_indices(x)
        return self.params["embeddings"][self._indices]

    def backward(self, grad):
        # Rows used several times add up: sort the indices once, then one segment sum per
        # distinct index (np.add.reduceat), instead of an unbuffered scatter-add.
        flat = self._indices.reshape(-1)
        grad = grad.reshape(-1, self.output_dim)
        order = np.argsort(flat, kind="stable")
        ordered = flat[order]
        starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
        table = self.grads["embeddings"]
        table[...] = 0
        if len(flat):
            table[ordered[starts]] = np.add.reduceat(grad[order], starts, axis=0)
        if self.regularizers:
            self._add_regularization_grads()
        return None

    def _check_indices(self, x: np.ndarray) -> np.ndarray:
        """`x` as an index array, or a ValueError naming the first bad entry and the range."""
        where = f"Layer {self.name!r} (Embedding)"
        if x.dtype.kind not in "iub":
            if x.dtype.kind != "f":
                raise ValueError(f"{where} expects integer indices. Received: an array of dtype {x.dtype}")
            not_whole = ~(x == np.round(x))  # NaN is not whole either
            if not_whole.any():
                position = tuple(int(i) for i in np.argwhere(not_whole)[0])
                raise ValueError(f"{where} expects integer indices. Received: {x[position].item()!r} at position "
                                 f"{position} of an input of shape {x.shape}")
        outside = (x < 0) | (x >= self.input_dim)
        if outside.any():
            position = tuple(int(i) for i in np.argwhere(outside)[0])
            raise ValueError(f"{where} received index {x[position].item()!r} at position {position}; indices must lie "
                             f"in [0, {self.input_dim}) (input_dim={self.input_dim}). Input shape: {x.shape}")
        return x.astype(np.intp, copy=False)

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim, "output_dim": self.output_dim,
                "embeddings_initializer": self._initializer_name or "uniform",
                "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
                "mask_zero": self.mask_zero}
