"""Callbacks that set the optimizer's learning rate: `ReduceLROnPlateau`, `LearningRateScheduler`.

Both need a settable learning rate. When the optimizer was given a `LearningRateSchedule`,
Keras refuses to set it (TypeError from the optimizer); barenet raises the same kind of
error, but at `on_train_begin`, before anything has trained.
"""

from __future__ import annotations

import math

from ..optimizers.schedules import LearningRateSchedule
from .base import Callback
from .monitor import Monitor, check_count, check_number


def settable_learning_rate(callback) -> None:
    """Raise TypeError when the model's optimizer holds a schedule instead of a number."""
    optimizer = callback.model.optimizer
    if isinstance(optimizer.learning_rate, LearningRateSchedule):
        raise TypeError(f"{type(callback).__name__} needs a settable learning rate, but the optimizer was "
                        f"created with the schedule {type(optimizer.learning_rate).__name__} as its "
                        "`learning_rate`, which the schedule decides. Use a float `learning_rate`, or drop "
                        "the callback and let the schedule set the rate.")


class ReduceLROnPlateau(Monitor):
    """Multiply the learning rate by `factor` when `monitor` stops improving.

    Adds `learning_rate` (the rate the epoch trained with) to each epoch's logs.

    Args:
        monitor: Log to watch. Defaults to "val_loss".
        factor: Multiplier in (0, 1). Defaults to 0.1.
        patience: Epochs without improvement before reducing. Defaults to 10.
        verbose: Print a line per reduction. Defaults to 0.
        mode: "min", "max" or "auto". Defaults to "auto".
        min_delta: Smallest change that counts as an improvement. Defaults to 1e-4.
        cooldown: Epochs to wait after a reduction before counting again. Defaults to 0.
        min_lr: The learning rate never goes below this. Defaults to 0.
    """

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10, verbose: int = 0,
                 mode: str = "auto", min_delta: float = 1e-4, cooldown: int = 0, min_lr: float = 0.0):
        super().__init__(monitor, mode, min_delta)
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not 0 < factor < 1:
            raise ValueError(f"`factor` must be a number in (0, 1). Received: factor={factor!r}")
        self.factor, self.patience = factor, check_count("patience", patience)
        self.cooldown, self.min_lr, self.verbose = check_count("cooldown", cooldown), check_number("min_lr", min_lr), verbose

    def on_train_begin(self, logs=None):
        settable_learning_rate(self)
        self._reset()
        self.wait, self.cooldown_counter = 0, 0

    def on_epoch_end(self, epoch, logs=None):
        optimizer = self.model.optimizer
        if logs is not None:
            logs["learning_rate"] = float(optimizer.learning_rate)
        current = self._current(logs)
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._better(current, self.best, self.min_delta):
            self.best, self.wait = current, 0
            return
        if self.cooldown_counter > 0:
            return
        self.wait += 1
        if self.wait >= self.patience:
            old = float(optimizer.learning_rate)
            new = max(old * self.factor, self.min_lr)
            if new < old:
                optimizer.learning_rate = new
                if self.verbose:
                    print(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new:g}.")
            self.cooldown_counter, self.wait = self.cooldown, 0


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of every epoch to `schedule(epoch, lr)`.

    Adds `learning_rate` to each epoch's logs.

    Args:
        schedule: A function of the epoch index (from 0) and the current learning rate,
            returning the new learning rate (a non-negative number); a function of the epoch
            alone is accepted too (Keras's older form).
        verbose: Print the learning rate each epoch. Defaults to 0.
    """

    def __init__(self, schedule, verbose: int = 0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"`schedule` must be a function (epoch, lr) -> lr. Received: {type(schedule).__name__}")
        self.schedule, self.verbose = schedule, verbose
        self._takes_rate = _positional_count(schedule) != 1

    def on_train_begin(self, logs=None):
        settable_learning_rate(self)

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        lr = self.schedule(epoch, float(optimizer.learning_rate)) if self._takes_rate else self.schedule(epoch)
        if hasattr(lr, "item") and getattr(lr, "ndim", 1) == 0:
            lr = lr.item()
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr < 0:
            raise ValueError(f"The schedule must return a non-negative number. Received: {lr!r} at epoch {epoch}")
        optimizer.learning_rate = float(lr)
        if self.verbose:
            print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr:g}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


def _positional_count(function) -> int | None:
    """How many positional arguments `function` takes (None when it takes any number or cannot be told)."""
    import inspect

    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind == p.VAR_POSITIONAL for p in parameters):
        return None
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty for p in parameters)
