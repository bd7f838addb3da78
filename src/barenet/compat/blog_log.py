"""The post's training log, printed by the blog's `train`:

    Total 600 samples.
    Training samples: 540 Validation samples: 60.
    Total 34 batches, most batch has 16 samples.

    Epoch: 0, Time: 0.051sec
    Train Loss: 0.6931 Train Accuracy: 50.2%
    Val Loss: 0.6904 Val Accuracy: 53.33%

Epochs are counted from 0 and shown when `epoch % show_every == 0`, as in the post; the
time is since the previous shown epoch (or the start); losses are rounded to 4 decimals and
accuracies given in percent, rounded to 4 decimals. The accuracy parts appear when accuracy
is tracked (`compile_model` tracks it for classification losses), the Val line when there
is validation data.

Unlike the post, which ran the whole training set through the model again after each shown
epoch, the train figures are the epoch's running means (Keras's `fit` logs): no extra pass.
"""

from __future__ import annotations

import math
import sys
import time

from ..callbacks import Callback


class BlogLogger(Callback):
    """Prints the post's header and per-epoch lines (see the module docstring).

    Args:
        show_every: Print epochs 0, `show_every`, 2 `show_every`, ...
        total: Samples given to `train` (for the header), or None to skip the header.
        training: Samples trained on (`total` less those split off for validation).
        validation: Validation samples (given as `val_x` or split off), or None for none.
        found: Whether validation data was given as `val_x` (the post then says so).
        batch_size: The batch size, for the header. Defaults to 32.
        stream: Where to write. Defaults to `sys.stdout` at the time training starts.
    """

    def __init__(self, show_every: int = 1, total: int | None = None, training: int | None = None,
                 validation: int | None = None, found: bool = False, batch_size: int = 32, stream=None):
        super().__init__()
        self.show_every, self.total, self.validation, self._stream = show_every, total, validation, stream
        self.training = total if training is None else training
        self.found, self.batch_size = found, batch_size

    def on_train_begin(self, logs=None):
        self.stream = self._stream if self._stream is not None else sys.stdout
        self._since = time.perf_counter()
        if self.total is None:
            return
        if self.found:
            self._print("\nValidation data found.\n")
        samples = self.training
        self._print(f"\nTotal {self.total} samples.\nTraining samples: {samples} Validation samples: "
                    f"{self.validation or 0}.")
        self._print(f"Total {math.ceil(samples / self.batch_size)} batches, most batch has {self.batch_size} samples.\n")

    def on_epoch_end(self, epoch, logs=None):
        if epoch % self.show_every:
            return
        now = time.perf_counter()
        elapsed, self._since = now - self._since, now
        logs = logs or {}
        lines = [f"Epoch: {epoch}, Time: {round(elapsed, 3)}sec", _figures("Train", logs, "")]
        if "val_loss" in logs:
            lines.append(_figures("Val", logs, "val_") + " ")
        self._print("\n".join(lines) + "\n")

    def _print(self, text: str) -> None:
        print(text, file=self.stream, flush=True)


def _figures(label: str, logs: dict, prefix: str) -> str:
    text = f"{label} Loss: {round(float(logs[prefix + 'loss']), 4)}"
    accuracy = logs.get(prefix + "accuracy", logs.get(prefix + "acc"))
    if accuracy is not None:
        text += f" {label} Accuracy: {round(float(accuracy) * 100, 4)}%"
    return text
