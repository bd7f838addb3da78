"""`History`: the per-epoch record every `fit` returns."""

from __future__ import annotations

from .base import Callback


class History(Callback):
    """Per-epoch values: `history.history["loss"][i]`, likewise `val_loss` and each metric;
    `history.epoch` lists the epochs run (from `initial_epoch`)."""

    def __init__(self):
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.stop_reason: str | None = None  # set when fit stops on a NaN loss or Ctrl-C

    def on_train_begin(self, logs=None):
        self.epoch = []  # Keras: `epoch` restarts with every fit, `history` keeps adding

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
