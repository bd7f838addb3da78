"""Callbacks: hooks into `fit`, and `History`, the record every `fit` returns.

A callback overrides any of `on_train_begin/end(logs)`, `on_epoch_begin/end(epoch, logs)`
and `on_batch_begin/end(batch, logs)`. `self.model` is the model being trained and
`self.params` holds `epochs`, `steps` (batches per epoch), `samples` and `verbose`.
Setting `model.stop_training = True` in `on_epoch_end` ends training after that epoch;
in `on_batch_end` it ends training after that batch, and the unfinished epoch is not
recorded (the weights keep every update made).

Keras's callbacks, same names and meanings: `EarlyStopping`, `ModelCheckpoint`,
`ReduceLROnPlateau`, `LearningRateScheduler`, `CSVLogger`, `TerminateOnNaN`, `LambdaCallback`.
"""

from __future__ import annotations

import csv
import math
import os
import signal
import threading
import warnings
from contextlib import contextmanager


class Callback:
    """Base class: every hook does nothing."""

    def __init__(self):
        self.model = None
        self.params: dict = {}

    def set_model(self, model) -> None:
        self.model = model

    def set_params(self, params: dict) -> None:
        self.params = dict(params)

    def on_train_begin(self, logs=None): ...
    def on_train_end(self, logs=None): ...
    def on_epoch_begin(self, epoch, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...
    def on_batch_begin(self, batch, logs=None): ...
    def on_batch_end(self, batch, logs=None): ...


class History(Callback):
    """Per-epoch values: `history.history["loss"][epoch]`, likewise `val_loss` and each metric."""

    def __init__(self):
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.stop_reason: str | None = None  # set when fit stops on a NaN loss or Ctrl-C

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)


class CallbackList:
    """Calls the same hook on several callbacks, in order."""

    def __init__(self, callbacks, model, params=None):
        self.callbacks = list(callbacks)
        for callback in self.callbacks:
            callback.set_model(model)
            if params is not None:
                callback.set_params(params)

    def on_train_begin(self, logs=None):
        for callback in self.callbacks:
            callback.on_train_begin(logs)

    def on_train_end(self, logs=None):
        for callback in self.callbacks:
            callback.on_train_end(logs)

    def on_epoch_begin(self, epoch, logs=None):
        for callback in self.callbacks:
            callback.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        for callback in self.callbacks:
            callback.on_epoch_end(epoch, logs)

    def on_batch_begin(self, batch, logs=None):
        for callback in self.callbacks:
            callback.on_batch_begin(batch, logs)

    def on_batch_end(self, batch, logs=None):
        for callback in self.callbacks:
            callback.on_batch_end(batch, logs)


# --- helpers ------------------------------------------------------------------------------------
def _mode_better(mode: str, monitor: str):
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"`mode` must be 'auto', 'min' or 'max'. Received: mode={mode!r}")
    if mode == "auto":
        mode = "max" if ("acc" in monitor or monitor.endswith("auc")) else "min"
    if mode == "min":
        return mode, lambda current, best, delta: current < best - delta
    return mode, lambda current, best, delta: current > best + delta


def _check_number(name, value, low=0.0, low_inclusive=True):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or (value < low if low_inclusive else value <= low):
        relation = ">=" if low_inclusive else ">"
        raise ValueError(f"`{name}` must be a number {relation} {low}. Received: {name}={value!r}")
    return value


class _Monitor(Callback):
    """Shared by the callbacks that watch one logged value."""

    def __init__(self, monitor: str, mode: str, min_delta: float):
        super().__init__()
        if not isinstance(monitor, str):
            raise TypeError(f"`monitor` must be a log name such as 'val_loss'. Received: {monitor!r}")
        self.monitor = monitor
        self.min_delta = abs(_check_number("min_delta", min_delta))
        self.mode, self._better = _mode_better(mode, monitor)
        self._warned = False

    def _reset(self):
        self.best = math.inf if self.mode == "min" else -math.inf

    def _current(self, logs):
        value = (logs or {}).get(self.monitor)
        if value is None and not self._warned:
            self._warned = True
            warnings.warn(f"{type(self).__name__} watches {self.monitor!r}, which is not in the logs "
                          f"(available: {', '.join(logs or {}) or 'none'}). It does nothing this run.",
                          RuntimeWarning, stacklevel=3)
        return value


class EarlyStopping(_Monitor):
    """Stop training when `monitor` has not improved for `patience` epochs.

    Args:
        monitor: Log to watch. Defaults to "val_loss".
        min_delta: Smallest change that counts as an improvement. Defaults to 0.
        patience: Epochs without improvement before stopping. Defaults to 0.
        mode: "min", "max" or "auto" (max for accuracies, min otherwise). Defaults to "auto".
        restore_best_weights: At the end of training, whether or not it stopped early,
            put back the weights of the best epoch. Defaults to False.
        verbose: Print a line when stopping. Defaults to 0.
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0,
                 mode: str = "auto", restore_best_weights: bool = False, verbose: int = 0):
        super().__init__(monitor, mode, min_delta)
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ValueError(f"`patience` must be a non-negative integer. Received: patience={patience!r}")
        self.patience, self.restore_best_weights, self.verbose = patience, restore_best_weights, verbose

    def on_train_begin(self, logs=None):
        self._reset()
        self.wait, self.stopped_epoch, self.best_epoch, self.best_weights = 0, None, None, None

    def on_epoch_end(self, epoch, logs=None):
        current = self._current(logs)
        if current is None:
            return
        if self._better(current, self.best, self.min_delta):
            self.best, self.best_epoch, self.wait = current, epoch, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.verbose:
                print(f"Epoch {epoch + 1}: early stopping ({self.monitor} best {self.best:.4f} "
                      f"at epoch {self.best_epoch + 1}).")

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None:
            self.model.set_weights(self.best_weights)
            if self.verbose:
                print(f"Restored the weights of epoch {self.best_epoch + 1} ({self.monitor} {self.best:.4f}).")


class ModelCheckpoint(_Monitor):
    """Save the model with `model.save(path)` at the end of epochs.

    Args:
        filepath: Where to save; may hold `{epoch}` and log names, e.g.
            "ckpt-{epoch:02d}-{val_loss:.3f}.npz" (`epoch` counts from 1).
        monitor: Log that decides "best". Defaults to "val_loss".
        save_best_only: Save only when `monitor` improves. Defaults to False.
        mode: "min", "max" or "auto". Defaults to "auto".
        verbose: Print a line per save. Defaults to 0.
    """

    def __init__(self, filepath, monitor: str = "val_loss", save_best_only: bool = False,
                 mode: str = "auto", verbose: int = 0):
        super().__init__(monitor, mode, 0.0)
        if not isinstance(filepath, (str, os.PathLike)):
            raise TypeError(f"`filepath` must be a path. Received: {type(filepath).__name__}")
        self.filepath, self.save_best_only, self.verbose = os.fspath(filepath), save_best_only, verbose

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.save_best_only:
            current = self._current(logs)
            if current is None or not self._better(current, self.best, 0.0):
                return
            self.best = current
        try:
            path = self.filepath.format(epoch=epoch + 1, **logs)
        except (KeyError, IndexError, ValueError) as error:
            raise ValueError(f"`filepath` {self.filepath!r} cannot be filled from epoch and logs "
                             f"{sorted(logs)}: {error}") from None
        self.model.save(path)
        if self.verbose:
            print(f"Epoch {epoch + 1}: saved the model to {path}")


class ReduceLROnPlateau(_Monitor):
    """Multiply the learning rate by `factor` when `monitor` stops improving.

    Args:
        monitor: Log to watch. Defaults to "val_loss".
        factor: Multiplier in (0, 1). Defaults to 0.1.
        patience: Epochs without improvement before reducing. Defaults to 10.
        min_delta: Smallest change that counts as an improvement. Defaults to 1e-4.
        cooldown: Epochs to wait after a reduction before counting again. Defaults to 0.
        min_lr: The learning rate never goes below this. Defaults to 0.
        mode: "min", "max" or "auto". Defaults to "auto".
        verbose: Print a line per reduction. Defaults to 0.
    """

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10,
                 min_delta: float = 1e-4, cooldown: int = 0, min_lr: float = 0.0, mode: str = "auto",
                 verbose: int = 0):
        super().__init__(monitor, mode, min_delta)
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not 0 < factor < 1:
            raise ValueError(f"`factor` must be a number in (0, 1). Received: factor={factor!r}")
        for name, value in (("patience", patience), ("cooldown", cooldown)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"`{name}` must be a non-negative integer. Received: {name}={value!r}")
        self.factor, self.patience, self.cooldown = factor, patience, cooldown
        self.min_lr, self.verbose = _check_number("min_lr", min_lr), verbose

    def on_train_begin(self, logs=None):
        self._reset()
        self.wait, self.cooldown_counter = 0, 0

    def on_epoch_end(self, epoch, logs=None):
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
            optimizer = self.model.optimizer
            old = float(optimizer.learning_rate)
            new = max(old * self.factor, self.min_lr)
            if new < old:
                optimizer.learning_rate = new
                if self.verbose:
                    print(f"Epoch {epoch + 1}: learning rate reduced from {old:g} to {new:g}.")
            self.cooldown_counter, self.wait = self.cooldown, 0


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of every epoch to `schedule(epoch, lr)`.

    Args:
        schedule: A function of the epoch index (from 0) and the current learning rate,
            returning the new learning rate (a non-negative number).
        verbose: Print the learning rate each epoch. Defaults to 0.
    """

    def __init__(self, schedule, verbose: int = 0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"`schedule` must be a function (epoch, lr) -> lr. Received: {type(schedule).__name__}")
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        lr = self.schedule(epoch, float(optimizer.learning_rate))
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr < 0:
            raise ValueError(f"The schedule must return a non-negative number. Received: {lr!r} at epoch {epoch}")
        optimizer.learning_rate = float(lr)
        if self.verbose:
            print(f"Epoch {epoch + 1}: learning rate {lr:g}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


class CSVLogger(Callback):
    """Write one CSV row per epoch: `epoch` and every log value.

    Args:
        filename: The CSV file.
        separator: Field separator. Defaults to ",".
        append: Add to an existing file instead of replacing it. Defaults to False.
    """

    def __init__(self, filename, separator: str = ",", append: bool = False):
        super().__init__()
        if not isinstance(filename, (str, os.PathLike)):
            raise TypeError(f"`filename` must be a path. Received: {type(filename).__name__}")
        self.filename, self.separator, self.append = os.fspath(filename), separator, append
        self._file = None

    def on_train_begin(self, logs=None):
        has_rows = self.append and os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
        self._file = open(self.filename, "a" if self.append else "w", newline="", encoding="utf-8")
        self._writer, self._keys, self._header_written = None, None, has_rows

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self._keys is None:
            self._keys = list(logs)
            self._writer = csv.writer(self._file, delimiter=self.separator)
            if not self._header_written:
                self._writer.writerow(["epoch", *self._keys])
        self._writer.writerow([epoch, *(logs.get(key, "") for key in self._keys)])
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch's loss is NaN or infinite.

    barenet's `fit` already does this by itself (and keeps the last good weights);
    the callback exists for code written for Keras.
    """

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: invalid loss {loss}, terminating training.")
            self.model.stop_training = True


class LambdaCallback(Callback):
    """A callback built from functions: `LambdaCallback(on_epoch_end=lambda epoch, logs: ...)`.

    Each argument (`on_train_begin`, `on_train_end`, `on_epoch_begin`, `on_epoch_end`,
    `on_batch_begin`, `on_batch_end`) takes the same arguments as the hook it replaces.
    """

    _HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_batch_begin", "on_batch_end")

    def __init__(self, **hooks):
        super().__init__()
        for name, function in hooks.items():
            if name not in self._HOOKS:
                raise TypeError(f"Unknown hook {name!r}. Expected one of: {', '.join(self._HOOKS)}.")
            if function is not None and not callable(function):
                raise TypeError(f"`{name}` must be callable. Received: {type(function).__name__}")
            if function is not None:
                setattr(self, name, function)


@contextmanager
def interrupt_at_batch_boundary():
    """While active, Ctrl-C (SIGINT) only sets `flag["hit"]`; the training loop stops at the
    next batch boundary, so no update is left half-applied. A second Ctrl-C raises
    `KeyboardInterrupt` at once. Outside the main thread, or when someone else already
    handles SIGINT, nothing is installed (a `KeyboardInterrupt` is still caught by `fit`).
    """
    flag = {"hit": False}
    if threading.current_thread() is not threading.main_thread() \
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield flag
        return

    def handler(signum, frame):
        if flag["hit"]:
            raise KeyboardInterrupt
        flag["hit"] = True

    signal.signal(signal.SIGINT, handler)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
