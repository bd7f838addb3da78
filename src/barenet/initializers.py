"""Weight initializers by name: each is `f(shape, rng, dtype) -> array`.

Fans follow Keras: for a dense kernel `(inputs, units)` fan_in = inputs and
fan_out = units; for a conv kernel `(kh, kw, in_ch, out_ch)` both are scaled by
the receptive field `kh * kw`.

    glorot_uniform: U(-l, l), l = sqrt(6 / (fan_in + fan_out))
    glorot_normal:  N(0, 2 / (fan_in + fan_out)) truncated at 2 std
    he_uniform:     U(-l, l), l = sqrt(6 / fan_in)
    he_normal:      N(0, 2 / fan_in) truncated at 2 std
    lecun_uniform / lecun_normal: as He with 1 / fan_in in place of 2 / fan_in
    random_uniform ("uniform"): U(-0.05, 0.05), Keras's `RandomUniform()` default
    orthogonal:     a (semi-)orthogonal matrix from the QR decomposition of a normal draw,
                    shape flattened to `(prod(shape[:-1]), shape[-1])` (Keras's `Orthogonal()`)
"""

from __future__ import annotations

from typing import Callable

import numpy as np


def compute_fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """Return `(fan_in, fan_out)` for a kernel shape."""
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive_field = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    return shape[-2] * receptive_field, shape[-1] * receptive_field


def _uniform(limit, shape, rng, dtype):
    return rng.uniform(-limit, limit, size=shape).astype(dtype)


def _truncated_normal(std, shape, rng, dtype):
    # Keras's truncated normal: redraw beyond 2 std; its std is corrected by 0.8796... for the cut.
    std = std / 0.87962566103423978
    values = rng.standard_normal(size=shape)
    outside = np.abs(values) > 2
    while outside.any():
        values[outside] = rng.standard_normal(size=int(outside.sum()))
        outside = np.abs(values) > 2
    return (values * std).astype(dtype)


def glorot_uniform(shape, rng, dtype="float32"):
    fan_in, fan_out = compute_fans(shape)
    return _uniform(np.sqrt(6 / (fan_in + fan_out)), shape, rng, dtype)


def glorot_normal(shape, rng, dtype="float32"):
    fan_in, fan_out = compute_fans(shape)
    return _truncated_normal(np.sqrt(2 / (fan_in + fan_out)), shape, rng, dtype)


def he_uniform(shape, rng, dtype="float32"):
    return _uniform(np.sqrt(6 / compute_fans(shape)[0]), shape, rng, dtype)


def he_normal(shape, rng, dtype="float32"):
    return _truncated_normal(np.sqrt(2 / compute_fans(shape)[0]), shape, rng, dtype)


def lecun_uniform(shape, rng, dtype="float32"):
    return _uniform(np.sqrt(3 / compute_fans(shape)[0]), shape, rng, dtype)


def lecun_normal(shape, rng, dtype="float32"):
    return _truncated_normal(np.sqrt(1 / compute_fans(shape)[0]), shape, rng, dtype)


def random_normal(shape, rng, dtype="float32"):
    """N(0, 0.05^2), Keras's `RandomNormal()` default."""
    return (0.05 * rng.standard_normal(size=shape)).astype(dtype)


def random_uniform(shape, rng, dtype="float32"):
    """U(-0.05, 0.05), Keras's `RandomUniform()` default (the "uniform" initializer)."""
    return _uniform(0.05, shape, rng, dtype)


def orthogonal(shape, rng, dtype="float32"):
    """A matrix with orthonormal rows or columns (whichever are fewer), as Keras's `Orthogonal()`.

    The sign correction `q * sign(diag(r))` makes the draw uniform over orthogonal matrices.
    """
    if len(shape) < 2:
        raise ValueError(f"The orthogonal initializer needs a shape of rank 2 or more. Received: shape={tuple(shape)}")
    rows, cols = int(np.prod(shape[:-1])), shape[-1]
    q, r = np.linalg.qr(rng.standard_normal(size=(max(rows, cols), min(rows, cols))))
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return np.ascontiguousarray(q.reshape(shape), dtype=dtype)


def zeros(shape, rng=None, dtype="float32"):
    return np.zeros(shape, dtype)


def ones(shape, rng=None, dtype="float32"):
    return np.ones(shape, dtype)


INITIALIZERS: dict[str, Callable] = {
    "glorot_uniform": glorot_uniform,
    "glorot_normal": glorot_normal,
    "xavier_uniform": glorot_uniform,
    "xavier_normal": glorot_normal,
    "he_uniform": he_uniform,
    "he_normal": he_normal,
    "lecun_uniform": lecun_uniform,
    "lecun_normal": lecun_normal,
    "random_normal": random_normal,
    "random_uniform": random_uniform,
    "uniform": random_uniform,
    "orthogonal": orthogonal,
    "zeros": zeros,
    "ones": ones,
}


def get(identifier: str | Callable) -> Callable:
    """Return the initializer for a name, or a callable `(shape, rng, dtype)` unchanged."""
    if callable(identifier):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in INITIALIZERS:
        return INITIALIZERS[identifier.lower()]
    raise ValueError(
        f"Unknown initializer {identifier!r}. Expected one of: {', '.join(INITIALIZERS)}."
    )
