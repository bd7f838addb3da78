"""Learning-rate schedules: pass one as `learning_rate=` to any optimizer.

A schedule maps the optimizer's step count (0 on the first step, as in Keras)
to a learning rate. The formulas are Keras's:

    ExponentialDecay:       lr0 * decay_rate ** (step / decay_steps)   (floor the exponent if staircase)
    PiecewiseConstantDecay: values[i] while boundaries[i-1] < step <= boundaries[i]
    CosineDecay:            optional linear warm-up from lr0 to warmup_target over warmup_steps,
                            then peak * ((1 - alpha) * 0.5 * (1 + cos(pi * s / decay_steps)) + alpha)
                            for s = min(step - warmup_steps, decay_steps)
    PolynomialDecay:        (lr0 - end) * (1 - min(step, decay_steps) / decay_steps) ** power + end
    InverseTimeDecay:       lr0 / (1 + decay_rate * step / decay_steps)
    CosineDecayRestarts:    cosine decay over periods first_decay_steps * t_mul ** i, restarting at lr0 * m_mul ** i

    opt = Adam(learning_rate=ExponentialDecay(1e-2, decay_steps=1000, decay_rate=0.5))

`serialize(schedule)` gives a JSON-ready dict, `deserialize(dict)` rebuilds it.
"""

from __future__ import annotations

import math
import numbers


class LearningRateSchedule:
    """Base class: `schedule(step) -> float`, plus `get_config()` / `from_config()`."""

    def __call__(self, step: int) -> float:
        raise NotImplementedError

    def get_config(self) -> dict:
        raise NotImplementedError

    @classmethod
    def from_config(cls, config: dict) -> "LearningRateSchedule":
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and self.get_config() == other.get_config()


class ExponentialDecay(LearningRateSchedule):
    """`initial_learning_rate * decay_rate ** (step / decay_steps)`.

    A rate that grows beyond the largest float (decay_rate > 1, huge steps) is `inf`,
    which optimizers refuse with `NonFiniteUpdateError` before changing anything.

    Args:
        initial_learning_rate: Learning rate at step 0, non-negative.
        decay_steps: Steps over which the rate is multiplied by `decay_rate`; positive.
        decay_rate: Multiplier per `decay_steps`, positive.
        staircase: Decay in whole `decay_steps` jumps (floor the exponent). Defaults to False.
    """

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float, staircase: bool = False,
                 name: str | None = None):
        self.initial_learning_rate = _non_negative("initial_learning_rate", initial_learning_rate)
        self.decay_steps = _positive("decay_steps", decay_steps)
        self.decay_rate = _positive("decay_rate", decay_rate)
        self.staircase = _bool("staircase", staircase)
        self.name = name

    def __call__(self, step):
        exponent = step / self.decay_steps
        if self.staircase:
            exponent = math.floor(exponent)
        try:
            return self.initial_learning_rate * self.decay_rate ** exponent
        except OverflowError:  # a growing rate (decay_rate > 1) at a huge step
            return math.inf if self.initial_learning_rate > 0 else 0.0

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase, "name": self.name}


class PiecewiseConstantDecay(LearningRateSchedule):
    """A constant rate between step boundaries.

    `values[0]` for `step <= boundaries[0]`, `values[i]` for
    `boundaries[i-1] < step <= boundaries[i]`, `values[-1]` after the last boundary.

    Args:
        boundaries: Strictly increasing step numbers.
        values: One more learning rate than there are boundaries, each non-negative.
    """

    def __init__(self, boundaries, values, name: str | None = None):
        boundaries, values = list(boundaries), list(values)
        if len(values) != len(boundaries) + 1:
            raise ValueError("`values` must hold one more entry than `boundaries`. "
                             f"Received: {len(boundaries)} boundaries and {len(values)} values")
        for b in boundaries:
            if isinstance(b, bool) or not isinstance(b, numbers.Real):
                raise ValueError(f"`boundaries` must hold numbers. Received: boundaries={boundaries!r}")
        if any(b >= c for b, c in zip(boundaries, boundaries[1:])):
            raise ValueError(f"`boundaries` must be strictly increasing. Received: boundaries={boundaries!r}")
        self.boundaries = [_plain(b) for b in boundaries]
        self.values = [_non_negative("values", v) for v in values]
        self.name = name

    def __call__(self, step):
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return value
        return self.values[-1]

    def get_config(self):
        return {"boundaries": list(self.boundaries), "values": list(self.values), "name": self.name}


class CosineDecay(LearningRateSchedule):
    """Cosine decay (Loshchilov & Hutter, 2017), with optional linear warm-up.

    Without warm-up (`warmup_target=None`) the rate falls from `initial_learning_rate`
    to `alpha * initial_learning_rate` over `decay_steps` and stays there. With it,
    the rate first rises linearly from `initial_learning_rate` to `warmup_target`
    over `warmup_steps`, then decays from `warmup_target` the same way.

    Args:
        initial_learning_rate: Rate at step 0, non-negative.
        decay_steps: Length of the cosine part, positive.
        alpha: Floor as a fraction of the peak, in [0, 1]. Defaults to 0.0.
        warmup_target: Peak rate reached after warm-up, or None for no warm-up. Defaults to None.
        warmup_steps: Length of the warm-up. Defaults to 0.
    """

    def __init__(self, initial_learning_rate: float, decay_steps: int, alpha: float = 0.0,
                 name: str | None = None, warmup_target: float | None = None, warmup_steps: int = 0):
        self.initial_learning_rate = _non_negative("initial_learning_rate", initial_learning_rate)
        self.decay_steps = _positive("decay_steps", decay_steps)
        self.alpha = _non_negative("alpha", alpha)
        if self.alpha > 1:
            raise ValueError(f"`alpha` must be a number in [0, 1]. Received: alpha={alpha!r}")
        self.warmup_target = None if warmup_target is None else _non_negative("warmup_target", warmup_target)
        self.warmup_steps = _non_negative("warmup_steps", warmup_steps)
        self.name = name

    def _decay(self, step, peak):
        fraction = min(step, self.decay_steps) / self.decay_steps
        cosine = 0.5 * (1.0 + math.cos(math.pi * fraction))
        return peak * ((1.0 - self.alpha) * cosine + self.alpha)

    def __call__(self, step):
        if self.warmup_target is None:
            return self._decay(step, self.initial_learning_rate)
        if step < self.warmup_steps:
            fraction = step / self.warmup_steps
            return self.initial_learning_rate + (self.warmup_target - self.initial_learning_rate) * fraction
        return self._decay(step - self.warmup_steps, self.warmup_target)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "alpha": self.alpha, "name": self.name, "warmup_target": self.warmup_target,
                "warmup_steps": self.warmup_steps}


class PolynomialDecay(LearningRateSchedule):
    """Polynomial decay from `initial_learning_rate` to `end_learning_rate` over `decay_steps`:
    `(lr0 - end) * (1 - s / decay_steps) ** power + end` with `s = min(step, decay_steps)`.

    With `cycle=True` the decay restarts: `decay_steps` is multiplied by `ceil(step / decay_steps)`
    (1 at step 0) and `s = step`, as in Keras.

    Args:
        initial_learning_rate: Rate at step 0, non-negative.
        decay_steps: Length of the decay, positive.
        end_learning_rate: Final rate, non-negative. Defaults to 0.0001.
        power: Exponent of the polynomial, positive. Defaults to 1.0 (linear).
        cycle: Restart after `decay_steps`. Defaults to False.
    """

    def __init__(self, initial_learning_rate: float, decay_steps: int, end_learning_rate: float = 0.0001,
                 power: float = 1.0, cycle: bool = False, name: str | None = None):
        self.initial_learning_rate = _non_negative("initial_learning_rate", initial_learning_rate)
        self.decay_steps = _positive("decay_steps", decay_steps)
        self.end_learning_rate = _non_negative("end_learning_rate", end_learning_rate)
        self.power = _positive("power", power)
        self.cycle = _bool("cycle", cycle)
        self.name = name

    def __call__(self, step):
        decay_steps = self.decay_steps
        if self.cycle:
            decay_steps *= 1 if step == 0 else math.ceil(step / self.decay_steps)
        else:
            step = min(step, decay_steps)
        fraction = 1 - step / decay_steps
        return (self.initial_learning_rate - self.end_learning_rate) * fraction ** self.power + self.end_learning_rate

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "end_learning_rate": self.end_learning_rate, "power": self.power, "cycle": self.cycle,
                "name": self.name}


class InverseTimeDecay(LearningRateSchedule):
    """`initial_learning_rate / (1 + decay_rate * step / decay_steps)` (floor `step / decay_steps`
    if `staircase`).

    Args:
        initial_learning_rate: Rate at step 0, non-negative.
        decay_steps: Steps per unit of decay, positive.
        decay_rate: Decay per `decay_steps`, non-negative.
        staircase: Decay in whole `decay_steps` jumps. Defaults to False.
    """

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float, staircase: bool = False,
                 name: str | None = None):
        self.initial_learning_rate = _non_negative("initial_learning_rate", initial_learning_rate)
        self.decay_steps = _positive("decay_steps", decay_steps)
        self.decay_rate = _non_negative("decay_rate", decay_rate)
        self.staircase = _bool("staircase", staircase)
        self.name = name

    def __call__(self, step):
        ratio = step / self.decay_steps
        if self.staircase:
            ratio = math.floor(ratio)
        return self.initial_learning_rate / (1 + self.decay_rate * ratio)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase, "name": self.name}


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR, Loshchilov & Hutter, 2017).

    Period i lasts `first_decay_steps * t_mul ** i` steps and starts from
    `initial_learning_rate * m_mul ** i`; within a period at fraction f the rate is
    `start * ((1 - alpha) * 0.5 * (1 + cos(pi f)) + alpha)`.

    Args:
        initial_learning_rate: Rate at step 0, non-negative.
        first_decay_steps: Length of the first period, positive.
        t_mul: Growth of each period's length, positive. Defaults to 2.0.
        m_mul: Factor on each restart's starting rate, non-negative. Defaults to 1.0.
        alpha: Floor as a fraction of the starting rate, in [0, 1]. Defaults to 0.0.
    """

    def __init__(self, initial_learning_rate: float, first_decay_steps: int, t_mul: float = 2.0,
                 m_mul: float = 1.0, alpha: float = 0.0, name: str | None = None):
        self.initial_learning_rate = _non_negative("initial_learning_rate", initial_learning_rate)
        self.first_decay_steps = _positive("first_decay_steps", first_decay_steps)
        self.t_mul = _positive("t_mul", t_mul)
        self.m_mul = _non_negative("m_mul", m_mul)
        self.alpha = _non_negative("alpha", alpha)
        if self.alpha > 1:
            raise ValueError(f"`alpha` must be a number in [0, 1]. Received: alpha={alpha!r}")
        self.name = name

    def __call__(self, step):
        fraction = step / self.first_decay_steps
        if self.t_mul == 1.0:
            restart = math.floor(fraction)
            fraction -= restart
        else:
            restart = math.floor(math.log(1 - fraction * (1 - self.t_mul)) / math.log(self.t_mul))
            done = (1 - self.t_mul ** restart) / (1 - self.t_mul)
            fraction = (fraction - done) / self.t_mul ** restart
        cosine = 0.5 * self.m_mul ** restart * (1 + math.cos(math.pi * fraction))
        return self.initial_learning_rate * ((1 - self.alpha) * cosine + self.alpha)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "first_decay_steps": self.first_decay_steps,
                "t_mul": self.t_mul, "m_mul": self.m_mul, "alpha": self.alpha, "name": self.name}


SCHEDULES = {cls.__name__: cls for cls in (ExponentialDecay, PiecewiseConstantDecay, CosineDecay, PolynomialDecay,
                                           InverseTimeDecay, CosineDecayRestarts)}


def serialize(schedule: LearningRateSchedule) -> dict:
    """`{"class_name": ..., "config": {...}}`, plain Python values only (JSON-ready)."""
    if not isinstance(schedule, LearningRateSchedule):
        raise TypeError(f"`schedule` must be a LearningRateSchedule. Received: {type(schedule).__name__}")
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(config: dict, custom_objects: dict | None = None) -> LearningRateSchedule:
    """Rebuild a schedule from what `serialize` returned."""
    classes = {**SCHEDULES, **(custom_objects or {})}
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"A schedule config must be a dict with 'class_name' and 'config'. Received: {config!r}")
    cls = classes.get(config["class_name"])
    if cls is None:
        raise ValueError(f"Unknown learning-rate schedule {config['class_name']!r}. "
                         f"Expected one of: {', '.join(classes)}.")
    return cls.from_config(dict(config.get("config", {})))


# --- checks (plain Python numbers out, so configs stay JSON-serializable) -----------------------
def _plain(value):
    return int(value) if isinstance(value, numbers.Integral) else float(value)


def _non_negative(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0 or not math.isfinite(value):
        raise ValueError(f"`{name}` must be a finite non-negative number. Received: {name}={value!r}")
    return _plain(value)


def _positive(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0 or not math.isfinite(value):
        raise ValueError(f"`{name}` must be a finite positive number. Received: {name}={value!r}")
    return _plain(value)


def _bool(name, value):
    if not isinstance(value, bool):
        raise TypeError(f"`{name}` must be True or False. Received: {name}={value!r}")
    return value
