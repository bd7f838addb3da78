"""The `Optimizer` interface every barenet optimizer implements.

An optimizer updates a flat dict of parameter arrays, in place, from a dict of
gradients under the same keys (the model uses keys like `"dense_1/weights"`).
Hyperparameters live in `__init__`; per-parameter state lives in named slots
created lazily by `init_slots`; `update` is the algorithm for one array.

One step (`apply_gradients`) does, in Keras's order:

    lr = current_learning_rate()          # a float, or the schedule at `iterations` (0 on the first step)
    clip the gradients                    # clipvalue | clipnorm (per array) | global_clipnorm
    (refuse a non-finite learning rate; create missing slots; copy params and slots aside)
    iterations += 1                       # `update` sees the 1-based step number
    param *= 1 - lr * weight_decay        # decoupled weight decay (Loshchilov & Hutter), if set
    update(param, grad, slots, lr)        # the algorithm
    any param or slot NaN/inf?            # restore the copies (and iterations), raise NonFiniteUpdateError
                                          # (copies and check skipped when `_step_is_finite` proves the step finite)
    every 100 steps: zero subnormal slot entries (speed only; see `_flush_subnormal_slots`)

State for exact resume: `get_state()` -> `{"iterations": int, "slots": {key: {slot: array}}}`
(Nadam adds a float `"u_product"`); `set_state(state)` restores it. Config for
rebuilding: `get_config()` holds only JSON-ready values (a schedule appears as
`{"class_name": ..., "config": ...}`); `type(opt)(**opt.get_config())` rebuilds it.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..reductions import total
from . import schedules

# Steps between sweeps that zero subnormal slot entries (see `Optimizer._flush_subnormal_slots`).
FLUSH_SUBNORMALS_EVERY = 100


class NonFiniteUpdateError(ArithmeticError):
    """A step made a parameter or an optimizer slot NaN or infinite (an overflow, typically
    Adam's squared gradient beyond float32), or the learning rate was not finite.

    `apply_gradients` raises it after putting every parameter, slot and the step count
    back as they were before the step; the message names the array. Training treats it
    like a NaN loss.
    """


class Optimizer:
    """Base class.

    Args:
        learning_rate: Step size: a non-negative float, or a
            `barenet.optimizers.schedules.LearningRateSchedule` (or its serialized dict).
            Defaults to 0.01.
        name: Optional display name. Defaults to the class name in lower case.
        weight_decay: Decoupled weight decay: before each update every parameter is
            multiplied by `1 - lr * weight_decay` (Keras's and PyTorch AdamW's rule, not
            an L2 term in the gradient). None or 0 disables it. Defaults to None.
        clipnorm: Rescale each parameter's gradient so its L2 norm is at most this. Defaults to None.
        clipvalue: Clip each gradient entry to `[-clipvalue, clipvalue]`. Defaults to None.
        global_clipnorm: Rescale all gradients together so their joint L2 norm is at
            most this. Defaults to None. At most one of the three clipping options may be set.
    """

    # Plain attributes a step changes besides the arrays (restored when a step is rolled back).
    _STEP_SCALARS = ("iterations",)

    def __init__(self, learning_rate=0.01, name: str | None = None, weight_decay: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None):
        self.learning_rate = learning_rate
        self.name = name or type(self).__name__.lower()
        self.weight_decay = None if weight_decay is None else _check_non_negative("weight_decay", weight_decay)
        self.clipnorm = _check_optional_positive("clipnorm", clipnorm)
        self.clipvalue = _check_optional_positive("clipvalue", clipvalue)
        self.global_clipnorm = _check_optional_positive("global_clipnorm", global_clipnorm)
        clipping = [k for k in ("clipnorm", "clipvalue", "global_clipnorm") if getattr(self, k) is not None]
        if len(clipping) > 1:
            raise ValueError(f"Set at most one of `clipnorm`, `clipvalue` and `global_clipnorm`. "
                             f"Received: {', '.join(f'{k}={getattr(self, k)}' for k in clipping)}")
        self.iterations = 0
        self.slots: dict[str, dict[str, np.ndarray]] = {}
        self._check_slots = False

    # --- the learning rate ---------------------------------------------------------------------
    @property
    def learning_rate(self):
        """The float or `LearningRateSchedule` given; `current_learning_rate()` evaluates it."""
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        if isinstance(value, dict):
            value = schedules.deserialize(value)
        if not isinstance(value, schedules.LearningRateSchedule):
            value = _check_non_negative("learning_rate", value)
        self._learning_rate = value

    def current_learning_rate(self) -> float:
        """The learning rate of the next step: the schedule evaluated at `iterations` (steps done)."""
        if isinstance(self._learning_rate, schedules.LearningRateSchedule):
            return float(self._learning_rate(self.iterations))
        return self._learning_rate

    # --- the algorithm -------------------------------------------------------------------------
    def init_slots(self, param: np.ndarray) -> dict[str, np.ndarray]:
        """Return the state one parameter array needs (empty for plain SGD)."""
        return {}

    def update(self, param: np.ndarray, grad: np.ndarray, slots: dict, lr: float) -> None:
        """Update `param` in place from `grad`. `self.iterations` is the 1-based step number."""
        raise NotImplementedError

    def _scratch(self, like: np.ndarray) -> np.ndarray:
        """A reusable work buffer shaped like `like` (not state: never saved or restored)."""
        buffers = self.__dict__.setdefault("_scratch_buffers", {})
        key = (like.shape, like.dtype.str)
        if key not in buffers:
            buffers[key] = np.empty_like(like)
        return buffers[key]

    def _begin_step(self) -> None:
        """Hook run once per step, after `iterations` is incremented (Nadam's momentum product)."""

    # --- driving it ----------------------------------------------------------------------------
    def apply_gradients(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        """Take one step on every parameter in `params` using `grads` under the same keys.

        The gradient arrays are never modified (clipping makes copies).
        """
        missing = [key for key in params if key not in grads]
        if missing:
            raise ValueError(f"`grads` has no entry for {', '.join(map(repr, missing))}: it must hold the keys of `params`.")
        for key, param in params.items():
            grad = grads[key]
            shape = grad.shape if isinstance(grad, np.ndarray) else np.shape(grad)
            if shape != param.shape:
                raise ValueError(f"`grads[{key!r}]` has shape {shape}, but its parameter has shape {param.shape}: "
                                 "each gradient must have its parameter's shape.")
        if self._check_slots:
            self._verify_slots(params)
        lr = self.current_learning_rate()
        if not math.isfinite(lr):
            raise NonFiniteUpdateError(f"the learning rate at step {self.iterations + 1} is {lr}; nothing was updated")
        grads = self._clip_gradients({key: grads[key] for key in params})
        created = [key for key in params if key not in self.slots]
        for key in created:
            self.slots[key] = self.init_slots(params[key])
        # The copies and the check cost more than the update itself; an optimizer that can prove
        # from cheap bounds that this step stays finite skips them (see Adam).
        proven = self._step_is_finite(params, grads, lr)
        backup = None if proven else self._backup(params, created)
        self.iterations += 1
        self._begin_step()
        if proven:  # nothing can overflow
            self._update_all(params, grads, lr)
            problem = None
        else:
            with np.errstate(over="ignore", invalid="ignore"):  # an overflow is caught just below, by name
                self._update_all(params, grads, lr)
                problem = self._first_non_finite(params)
        if problem is not None:
            self._restore(backup)
            raise NonFiniteUpdateError(f"step {self.iterations + 1} made {problem} not finite (NaN or inf); "
                                       "the step was rolled back")
        if self.iterations % FLUSH_SUBNORMALS_EVERY == 0 and getattr(self, "epsilon", 1.0) > 0:
            self._flush_subnormal_slots()

    def _update_all(self, params, grads, lr) -> None:
        decay = lr * self.weight_decay if self.weight_decay else 0.0
        slots = self.slots
        for key, param in params.items():
            if decay:
                param *= 1.0 - decay
            self.update(param, grads[key], slots[key], lr)

    # --- the NaN/inf guard ----------------------------------------------------------------------
    def _first_non_finite_gradient(self, params, grads) -> str | None:
        """The key of the first gradient whose sum is NaN or infinite, or None: the training step
        skips an update whose gradient fails this (see `barenet.training`). An optimizer may keep
        what it reads here for the coming `apply_gradients` of these same arrays (Adam does)."""
        return first_non_finite_sum(grads)

    def _step_is_finite(self, params, grads, lr) -> bool:
        """Whether the coming step provably leaves every parameter and slot finite, so that the
        copies and the check can be skipped. False (always guard) unless an optimizer proves it."""
        return False

    def _backup(self, params, created) -> dict:
        """Copy everything a step changes into reusable buffers (no allocation after the first step).

        A copy is the only exact way back: updates round, so they cannot be undone by
        subtracting. Copying is a memcpy per array, cheaper than the update itself.
        """
        buffers = self.__dict__.setdefault("_backup_buffers", {})
        arrays = [(key, param) for key, param in params.items()]
        arrays += [((key, name), slot) for key, slots in self.slots.items() if key in params
                   for name, slot in slots.items()]
        for key, value in arrays:
            buffer = buffers.get(key)
            if buffer is None or buffer.shape != value.shape or buffer.dtype != value.dtype:
                buffer = buffers[key] = np.empty_like(value)
            np.copyto(buffer, value)
        scalars = {name: getattr(self, name) for name in self._STEP_SCALARS}
        return {"arrays": [(value, buffers[key]) for key, value in arrays], "scalars": scalars, "created": created}

    def _restore(self, backup: dict) -> None:
        for value, saved in backup["arrays"]:
            np.copyto(value, saved)
        for key in backup["created"]:  # slots this step created did not exist before it
            del self.slots[key]
        for name, value in backup["scalars"].items():
            setattr(self, name, value)

    def _first_non_finite(self, params) -> str | None:
        """Name the first parameter or slot holding NaN or inf, or None when all are finite."""
        for key, param in params.items():
            if not _all_finite(param):
                return f"parameter {key!r}"
            for name, slot in self.slots[key].items():
                if not _all_finite(slot):
                    return f"the {name!r} slot of {key!r}"
        return None

    def _flush_subnormal_slots(self) -> None:
        """Set slot entries below the smallest normal float of their dtype to exactly zero.

        A moving average whose gradient stays zero (a dead unit, an always-blank pixel)
        decays into the subnormal range and gets stuck there: `m - 0.1 * m` rounds back
        to `m`. Arithmetic on subnormal numbers is 10-100 times slower on x86 CPUs, and
        a few percent of them doubled the time of an Adam step on Fashion-MNIST. Their
        share of any step is far below the resolution of the parameters, so zeroing them
        changes speed, not results. Skipped when `epsilon` is 0, where a zeroed
        denominator could divide by zero.
        """
        for slots in self.slots.values():
            for slot in slots.values():
                if slot.dtype.kind == "f":
                    slot[np.abs(slot) < np.finfo(slot.dtype).tiny] = 0

    def _clip_gradients(self, grads: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if self.clipvalue is not None:
            return {key: np.clip(g, -self.clipvalue, self.clipvalue) for key, g in grads.items()}
        if self.clipnorm is not None:
            clipped = {}
            for key, g in grads.items():
                norm = math.sqrt(float(np.vdot(g, g)))
                clipped[key] = g * (self.clipnorm / norm) if norm > self.clipnorm else g
            return clipped
        if self.global_clipnorm is not None:
            norm = math.sqrt(sum(float(np.vdot(g, g)) for g in grads.values()))
            if norm > self.global_clipnorm:
                scale = self.global_clipnorm / norm
                return {key: g * scale for key, g in grads.items()}
        return grads

    def _verify_slots(self, params):
        for key, slots in self.slots.items():
            if key not in params:
                continue
            for slot_name, arr in slots.items():
                if arr.shape != params[key].shape:
                    raise ValueError(f"Restored optimizer slot {key!r}/{slot_name!r} has shape {arr.shape}, "
                                     f"but the parameter has shape {params[key].shape}.")
        self._check_slots = False

    # --- state and config ----------------------------------------------------------------------
    def get_config(self) -> dict:
        """Hyperparameters as JSON-ready Python values; `type(opt)(**config)` rebuilds it."""
        lr = self._learning_rate
        return {
            "learning_rate": schedules.serialize(lr) if isinstance(lr, schedules.LearningRateSchedule) else lr,
            "name": self.name,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "clipvalue": self.clipvalue,
            "global_clipnorm": self.global_clipnorm,
        }

    @classmethod
    def from_config(cls, config: dict) -> "Optimizer":
        return cls(**config)

    def get_state(self) -> dict:
        """Iteration count and copies of every slot array, for exact resume."""
        return {
            "iterations": self.iterations,
            "slots": {key: {name: arr.copy() for name, arr in s.items()} for key, s in self.slots.items()},
        }

    def set_state(self, state: dict) -> None:
        """Restore what `get_state` returned (copies its arrays; checked before anything changes).

        Slot shapes are checked against the parameters on the next `apply_gradients`.
        """
        if not isinstance(state, dict) or "iterations" not in state or "slots" not in state:
            raise ValueError("`state` must be a dict with 'iterations' and 'slots', as get_state() returns. "
                             f"Received: {type(state).__name__}"
                             + (f" with keys {sorted(state)}" if isinstance(state, dict) else ""))
        iterations = state["iterations"]
        # A plain int, or a 0-d integer array (as an .npz file gives it back).
        if np.ndim(iterations) != 0 or np.asarray(iterations).dtype.kind not in "iu" or iterations < 0:
            raise ValueError(f"`state['iterations']` must be a non-negative integer. Received: {iterations!r}")
        if not isinstance(state["slots"], dict) or not all(isinstance(s, dict) for s in state["slots"].values()):
            raise ValueError("`state['slots']` must map parameter keys to dicts of slot arrays.")
        slots = {str(key): {str(name): np.array(arr) for name, arr in s.items()} for key, s in state["slots"].items()}
        self.iterations = int(iterations)
        self.slots = slots
        self._check_slots = True

    def __repr__(self) -> str:
        config = {**self.get_config(), "learning_rate": self._learning_rate}
        args = ", ".join(f"{k}={v!r}" for k, v in config.items() if k != "name" and v is not None)
        return f"{type(self).__name__}({args})"


def first_non_finite_sum(arrays: dict) -> str | None:
    """The key of the first array whose sum is NaN or infinite (one BLAS sum each), or None."""
    return next((key for key, array in arrays.items() if not math.isfinite(total(array))), None)


def _all_finite(array: np.ndarray) -> bool:
    """Whether `array` holds no NaN or inf: one BLAS sum on the normal path, an exact check
    only when the sum is not finite (it can overflow on huge finite values)."""
    if array.dtype.kind != "f" or math.isfinite(total(array)):
        return True
    return bool(np.isfinite(array).all())


# --- argument checks (return plain Python numbers so configs stay JSON-serializable) -----------------
def _is_number(value) -> bool:
    return not isinstance(value, (bool, np.bool_)) and isinstance(value, numbers.Real) and math.isfinite(value)


def _check_non_negative(name: str, value) -> float:
    if not _is_number(value) or not value >= 0:
        raise ValueError(f"`{name}` must be a non-negative number. Received: {name}={value!r}")
    return float(value)


def _check_positive(name: str, value) -> float:
    if not _is_number(value) or not value > 0:
        raise ValueError(f"`{name}` must be a positive number. Received: {name}={value!r}")
    return float(value)


def _check_optional_positive(name: str, value) -> float | None:
    return None if value is None else _check_positive(name, value)


def _check_unit_interval(name: str, value) -> float:
    """Check 0 <= value < 1 (decay rates, momenta)."""
    if not _is_number(value) or not 0 <= value < 1:
        raise ValueError(f"`{name}` must be a number in [0, 1). Received: {name}={value!r}")
    return float(value)


def _check_bool(name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"`{name}` must be True or False. Received: {name}={value!r}")
    return bool(value)
