"""`ModelCheckpoint`: save the model (or its weights) during training."""

from __future__ import annotations

import math
import os

from .base import batch_counter
from .monitor import Monitor, check_number


class ModelCheckpoint(Monitor):
    """Save the model with `model.save` (or `model.save_weights`) every epoch or every `save_freq` batches.

    Files are written atomically (barenet's saving): an interrupted save never leaves a
    half-written file at the target.

    Args:
        filepath: Where to save; may hold `{epoch}` (counting from 1), `{batch}` (from 1, for
            saves within an epoch) and log names, e.g. "ckpt-{epoch:02d}-{val_loss:.2f}.barenet".
        monitor: Log that decides "best". Defaults to "val_loss".
        verbose: Print a line per save (and per skipped save with `save_best_only`). Defaults to 0.
        save_best_only: Save only when `monitor` improves on the best value so far. Defaults to False.
        save_weights_only: Save the weights alone (`save_weights`). Defaults to False.
        mode: "min", "max" or "auto" (max for accuracies, min otherwise). Defaults to "auto".
        save_freq: "epoch" (at every epoch's end) or an integer: save after every that many
            batches, counted across epochs (the logs are then the running ones of the batch).
            Defaults to "epoch".
        initial_value_threshold: The value of `monitor` to beat before the first save with
            `save_best_only`. Defaults to None (any first value).
    """

    def __init__(self, filepath, monitor: str = "val_loss", verbose: int = 0, save_best_only: bool = False,
                 save_weights_only: bool = False, mode: str = "auto", save_freq="epoch",
                 initial_value_threshold: float | None = None):
        super().__init__(monitor, mode, 0.0)
        if not isinstance(filepath, (str, os.PathLike)):
            raise TypeError(f"`filepath` must be a path. Received: {type(filepath).__name__}")
        self.filepath, self.verbose = os.fspath(filepath), verbose
        self.save_best_only, self.save_weights_only, self.save_freq = save_best_only, save_weights_only, save_freq
        self._reset()
        if initial_value_threshold is not None:
            self.best = check_number("initial_value_threshold", initial_value_threshold, low=-math.inf)
        self._counter, self._epoch = batch_counter(save_freq), 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._counter is not None and self._counter.due(batch):
            self._save(self._epoch, batch, logs or {})

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, None, logs or {})

    def file_path(self, epoch: int, batch: int | None, logs: dict) -> str:
        """`filepath` filled from the epoch (from 1), the batch (from 1) and the logs."""
        fields = {"epoch": epoch + 1, **logs}
        if batch is not None:
            fields.setdefault("batch", batch + 1)
        try:
            return self.filepath.format(**fields)
        except (KeyError, IndexError, ValueError) as error:
            raise ValueError(f"`filepath` {self.filepath!r} cannot be filled from the epoch and the logs "
                             f"{sorted(logs)}: {error!r}") from None

    def _save(self, epoch: int, batch: int | None, logs: dict) -> None:
        path = self.file_path(epoch, batch, logs)
        if self.save_best_only:
            current = self._current(logs)
            if current is None:
                return
            if not self._better(current, self.best, 0.0):
                if self.verbose:
                    print(f"Epoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}")
                return
            if self.verbose:
                print(f"Epoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to {current:.5f}, "
                      f"saving model to {path}")
            self.best = current
        elif self.verbose:
            print(f"Epoch {epoch + 1}: saving model to {path}")
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)
