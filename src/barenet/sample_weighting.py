"""Sample weights broadcast against per-entry values, the one rule losses and metrics share."""

from __future__ import annotations

import numpy as np


def broadcast_weight(sample_weight, shape: tuple, dtype=None) -> np.ndarray:
    """`sample_weight` (a number, `(batch,)`, `(batch, 1)`, an engine tensor, ...) broadcast to
    `shape` as Keras does: a trailing axis of size 1 is dropped, or trailing axes added, to match
    the rank. `dtype` None keeps the weights' own."""
    weight = np.asarray(getattr(sample_weight, "value", sample_weight), dtype)
    while weight.ndim > len(shape) and weight.shape[-1] == 1:
        weight = weight[..., 0]
    while 0 < weight.ndim < len(shape):
        weight = weight[..., None]
    try:
        return np.broadcast_to(weight, shape)
    except ValueError:
        raise ValueError(f"`sample_weight` of shape {np.shape(weight)} does not fit values of shape {shape}; "
                         "give one weight per sample.") from None
