"""barenet's own random generator for work done outside any model, and `set_random_seed`.

A model draws from its own `numpy.random.Generator` (`seed=`). Layers that are built
before any model owns them (a functional graph: weights are drawn when a layer is first
called on an `Input`) draw from this module's generator instead; seed it with
`set_random_seed(n)`, as Keras programs do with `keras.utils.set_random_seed`. NumPy's
global generator is never used.
"""

from __future__ import annotations

import numbers

import numpy as np

_generator = np.random.default_rng()


def set_random_seed(seed: int) -> None:
    """Seed the generator that builds layers outside a model (and `Model`s made without `seed=`)."""
    global _generator
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"`seed` must be a non-negative integer. Received: seed={seed!r}")
    _generator = np.random.default_rng(int(seed))


def context_generator() -> np.random.Generator:
    """The generator for layers built outside a model."""
    return _generator


def new_model_generator(seed) -> np.random.Generator:
    """A model's own generator: from `seed`, or drawn from this module's when seed is None."""
    if seed is None:
        return np.random.default_rng(_generator.integers(2**63))
    return np.random.default_rng(seed)
