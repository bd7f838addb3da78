"""Weight initializers, as Keras 3's classes; by name or instance: `Dense(64, kernel_initializer="he_normal")`,
`Dense(64, kernel_initializer=HeNormal(seed=1))`.

An initializer is called `init(shape, rng=None, dtype=None)`: layers pass their model's generator
`rng`, so a seeded model draws the same weights every run. An initializer made with its own
`seed=` uses a generator from that seed instead, fresh at each call, so it gives the same values
every call (as Keras 3 documents); called with no generator and no seed, it draws from barenet's
generator (`barenet.utils.set_random_seed`). Keras's call `init(shape, dtype)` works too.

Fans follow Keras: for a dense kernel `(inputs, units)` fan_in = inputs and fan_out = units; for
a conv kernel `(kh, kw, in_ch, out_ch)` both are scaled by the receptive field `kh * kw`.

    VarianceScaling(scale, mode, distribution): n = fan_in, fan_out or their mean (mode),
        s = scale / max(1, n);  "truncated_normal": N(0, s) cut at 2 std (std divided by .8796...
        so the cut keeps variance s);  "untruncated_normal": N(0, s);  "uniform": U(-sqrt(3 s), sqrt(3 s))
    GlorotUniform / GlorotNormal: scale 1, fan_avg     HeUniform / HeNormal: scale 2, fan_in
    LecunUniform / LecunNormal:   scale 1, fan_in      Orthogonal: QR of a normal draw, times gain
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .seeding import context_generator

_TRUNCATION_STD = 0.87962566103423978  # std of a unit normal cut at +-2


def compute_fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """Return `(fan_in, fan_out)` for a kernel shape."""
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive_field = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    return shape[-2] * receptive_field, shape[-1] * receptive_field


def _normal_cut_at_two(rng, shape) -> np.ndarray:
    """Standard normal values, those beyond 2 redrawn."""
    values = rng.standard_normal(size=shape)
    outside = np.abs(values) > 2
    while outside.any():
        values[outside] = rng.standard_normal(size=int(outside.sum()))
        outside = np.abs(values) > 2
    return values


class Initializer:
    """Base class: subclasses implement `sample(shape, rng)` (float64 values) and `get_config()`."""

    seed = None

    def __call__(self, shape, rng=None, dtype=None):
        if rng is not None and not isinstance(rng, np.random.Generator):  # Keras's call: init(shape, dtype)
            rng, dtype = None, rng
        shape = tuple(int(d) for d in (shape if isinstance(shape, (tuple, list)) else (shape,)))
        if self.seed is not None:
            rng = np.random.default_rng(self.seed)
        elif rng is None:
            rng = context_generator()
        from . import config

        return np.asarray(self.sample(shape, rng), dtype=np.dtype(dtype or config.floatx()))

    def sample(self, shape, rng) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Initializer:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _check_seed(seed):
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
        raise ValueError(f"`seed` must be a non-negative integer or None. Received: seed={seed!r}")
    return None if seed is None else int(seed)


def _check_real(name, value, positive=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or (positive and not value > 0):
        raise ValueError(f"`{name}` must be a {'positive ' if positive else ''}number. Received: {name}={value!r}")
    return float(value)


class Zeros(Initializer):
    """All zeros."""

    def sample(self, shape, rng):
        return np.zeros(shape)


class Ones(Initializer):
    """All ones."""

    def sample(self, shape, rng):
        return np.ones(shape)


class Constant(Initializer):
    """Every value `value`.

    Args:
        value: The constant. Defaults to 0.0.
    """

    def __init__(self, value=0.0):
        self.value = _check_real("value", value)

    def sample(self, shape, rng):
        return np.full(shape, self.value)

    def get_config(self):
        return {"value": self.value}


class RandomNormal(Initializer):
    """`N(mean, stddev^2)`. Defaults: mean 0.0, stddev 0.05; `seed` gives the initializer its own generator."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev = _check_real("mean", mean), _check_real("stddev", stddev, positive=True)
        self.seed = _check_seed(seed)

    def sample(self, shape, rng):
        return self.mean + self.stddev * rng.standard_normal(size=shape)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class TruncatedNormal(RandomNormal):
    """`N(mean, stddev^2)` with values beyond two `stddev` redrawn (so the spread is about 0.88 stddev)."""

    def sample(self, shape, rng):
        return self.mean + self.stddev * _normal_cut_at_two(rng, shape)


class RandomUniform(Initializer):
    """`U(minval, maxval)`. Defaults: -0.05 and 0.05."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval = _check_real("minval", minval), _check_real("maxval", maxval)
        if self.maxval < self.minval:
            raise ValueError(f"`maxval` must be >= `minval`. Received: minval={minval!r}, maxval={maxval!r}")
        self.seed = _check_seed(seed)

    def sample(self, shape, rng):
        return rng.uniform(self.minval, self.maxval, size=shape)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class VarianceScaling(Initializer):
    """Random values whose variance is `scale / n` (see the module docstring).

    Args:
        scale: Positive scaling factor. Defaults to 1.0.
        mode: "fan_in", "fan_out" or "fan_avg". Defaults to "fan_in".
        distribution: "truncated_normal", "untruncated_normal" or "uniform". Defaults to "truncated_normal".
        seed: Seed of the initializer's own generator. Defaults to None.
    """

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        self.scale = _check_real("scale", scale, positive=True)
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"`mode` must be 'fan_in', 'fan_out' or 'fan_avg'. Received: mode={mode!r}")
        distribution = "truncated_normal" if distribution == "normal" else distribution
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform"):
            raise ValueError("`distribution` must be 'truncated_normal', 'untruncated_normal' or 'uniform'. "
                             f"Received: distribution={distribution!r}")
        self.mode, self.distribution, self.seed = mode, distribution, _check_seed(seed)

    def variance(self, shape) -> float:
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        return self.scale / max(1.0, n)

    def sample(self, shape, rng):
        variance = self.variance(shape)
        if self.distribution == "uniform":
            limit = math.sqrt(3 * variance)
            return rng.uniform(-limit, limit, size=shape)
        if self.distribution == "untruncated_normal":
            return math.sqrt(variance) * rng.standard_normal(size=shape)
        return math.sqrt(variance) / _TRUNCATION_STD * _normal_cut_at_two(rng, shape)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution, "seed": self.seed}


def _preset(name, scale, mode, distribution, doc):
    def __init__(self, seed=None):
        VarianceScaling.__init__(self, scale, mode, distribution, seed)

    def get_config(self):
        return {"seed": self.seed}

    return type(name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config, "__doc__": doc})


GlorotUniform = _preset("GlorotUniform", 1.0, "fan_avg", "uniform", "`U(-l, l)`, `l = sqrt(6 / (fan_in + fan_out))`.")
GlorotNormal = _preset("GlorotNormal", 1.0, "fan_avg", "truncated_normal",
                       "Truncated normal of variance `2 / (fan_in + fan_out)`.")
HeUniform = _preset("HeUniform", 2.0, "fan_in", "uniform", "`U(-l, l)`, `l = sqrt(6 / fan_in)`.")
HeNormal = _preset("HeNormal", 2.0, "fan_in", "truncated_normal", "Truncated normal of variance `2 / fan_in`.")
LecunUniform = _preset("LecunUniform", 1.0, "fan_in", "uniform", "`U(-l, l)`, `l = sqrt(3 / fan_in)`.")
LecunNormal = _preset("LecunNormal", 1.0, "fan_in", "truncated_normal", "Truncated normal of variance `1 / fan_in`.")


class Orthogonal(Initializer):
    """A (semi-)orthogonal matrix times `gain`: QR of a normal draw, signs fixed by `diag(r)` so the
    draw is uniform over orthogonal matrices; shape flattened to `(prod(shape[:-1]), shape[-1])`."""

    def __init__(self, gain=1.0, seed=None):
        self.gain, self.seed = _check_real("gain", gain), _check_seed(seed)

    def sample(self, shape, rng):
        if len(shape) < 2:
            raise ValueError(f"The orthogonal initializer needs a shape of rank 2 or more. Received: shape={shape}")
        rows, cols = int(np.prod(shape[:-1])), shape[-1]
        q, r = np.linalg.qr(rng.standard_normal(size=(max(rows, cols), min(rows, cols))))
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return np.ascontiguousarray(self.gain * q.reshape(shape))

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    """`gain` times the identity matrix (2-D shapes only; rectangular ones get ones on the diagonal)."""

    def __init__(self, gain=1.0):
        self.gain = _check_real("gain", gain)

    def sample(self, shape, rng):
        if len(shape) != 2:
            raise ValueError(f"The identity initializer needs a 2-D shape. Received: shape={shape}")
        return self.gain * np.eye(*shape)

    def get_config(self):
        return {"gain": self.gain}


CLASSES = {cls.__name__: cls for cls in (
    Zeros, Ones, Constant, RandomNormal, RandomUniform, TruncatedNormal, VarianceScaling, GlorotUniform, GlorotNormal,
    HeUniform, HeNormal, LecunUniform, LecunNormal, Orthogonal, Identity)}

INITIALIZERS: dict[str, type] = {
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal,
    "xavier_uniform": GlorotUniform, "xavier_normal": GlorotNormal,
    "he_uniform": HeUniform, "he_normal": HeNormal, "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal,
    "random_normal": RandomNormal, "random_uniform": RandomUniform, "uniform": RandomUniform,
    "normal": RandomNormal, "truncated_normal": TruncatedNormal, "variance_scaling": VarianceScaling,
    "orthogonal": Orthogonal, "identity": Identity, "zeros": Zeros, "ones": Ones, "constant": Constant,
}


def _function_alias(cls):
    """Keras's lowercase name: `glorot_uniform()` is an initializer; `glorot_uniform(shape, rng, dtype)` draws."""
    def alias(shape=None, rng=None, dtype=None, **config):
        initializer = cls(**config)
        return initializer if shape is None else initializer(shape, rng, dtype)
    alias.__name__ = alias.__qualname__ = next(k for k, v in INITIALIZERS.items() if v is cls)
    alias.__doc__ = cls.__doc__
    return alias


glorot_uniform, glorot_normal = _function_alias(GlorotUniform), _function_alias(GlorotNormal)
he_uniform, he_normal = _function_alias(HeUniform), _function_alias(HeNormal)
lecun_uniform, lecun_normal = _function_alias(LecunUniform), _function_alias(LecunNormal)
random_normal, random_uniform = _function_alias(RandomNormal), _function_alias(RandomUniform)
truncated_normal, variance_scaling = _function_alias(TruncatedNormal), _function_alias(VarianceScaling)
orthogonal, identity = _function_alias(Orthogonal), _function_alias(Identity)
zeros, ones, constant = _function_alias(Zeros), _function_alias(Ones), _function_alias(Constant)


def get(identifier):
    """An initializer for a name ("he_normal", "HeNormal"), a `serialize` dict, an instance or class,
    or any callable `(shape, rng, dtype)` (returned unchanged)."""
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if isinstance(identifier, dict):
        cls = CLASSES.get(identifier.get("class_name"))
        if cls is None:
            raise ValueError(f"Unknown initializer config {identifier!r}. Expected class_name one of: "
                             f"{', '.join(CLASSES)}.")
        return cls.from_config(dict(identifier.get("config") or {}))
    if callable(identifier) and not isinstance(identifier, str):
        return identifier
    if isinstance(identifier, str):
        cls = INITIALIZERS.get(identifier.lower()) or CLASSES.get(identifier)
        if cls is not None:
            return cls()
    raise ValueError(
        f"Unknown initializer {identifier!r}. Expected one of: {', '.join([*INITIALIZERS, *CLASSES])}."
    )


def serialize(initializer) -> dict | str | None:
    """`{"class_name": ..., "config": {...}}` for an `Initializer`, a name unchanged, None for None."""
    if initializer is None or isinstance(initializer, str):
        return initializer
    if isinstance(initializer, Initializer):
        return {"class_name": type(initializer).__name__, "config": initializer.get_config()}
    raise ValueError(f"Cannot serialize the initializer {initializer!r}: use a name or an Initializer instance.")


deserialize = get
