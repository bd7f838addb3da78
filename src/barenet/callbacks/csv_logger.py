"""`CSVLogger`: one CSV row per epoch."""

from __future__ import annotations

import csv
import os

from .base import Callback


class CSVLogger(Callback):
    """Write one CSV row per epoch: `epoch` and every log value (columns sorted by name, as Keras).

    The columns are fixed by the first epoch's logs; a later epoch without one of them
    (no validation that epoch, say) leaves its cell empty.

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
        self._file = open(self.filename, "a" if self.append else "w", newline="", encoding="utf-8")  # noqa: SIM115 - open across hooks
        self._writer, self._keys, self._header_written = None, None, has_rows

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self._keys is None:
            self._keys = sorted(logs)
            self._writer = csv.writer(self._file, delimiter=self.separator)
            if not self._header_written:
                self._writer.writerow(["epoch", *self._keys])
        self._writer.writerow([epoch, *(logs.get(key, "") for key in self._keys)])
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None
