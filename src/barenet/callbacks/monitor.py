"""What the callbacks that watch one logged value share: the mode and the comparison."""

from __future__ import annotations

import math
import warnings

from .base import Callback


def mode_better(mode: str, monitor: str):
    """`(mode, better)`: "min"/"max" ("auto": max for accuracies and AUC) and `better(current, best, delta)`."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"`mode` must be 'auto', 'min' or 'max'. Received: mode={mode!r}")
    if mode == "auto":
        mode = "max" if ("acc" in monitor or monitor.endswith("auc") or monitor.startswith("fmeasure")) else "min"
    if mode == "min":
        return mode, lambda current, best, delta: current < best - delta
    return mode, lambda current, best, delta: current > best + delta


def check_number(name, value, low=0.0, low_inclusive=True):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or (value < low if low_inclusive else value <= low):
        relation = ">=" if low_inclusive else ">"
        raise ValueError(f"`{name}` must be a number {relation} {low}. Received: {name}={value!r}")
    return value


def check_count(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"`{name}` must be a non-negative integer. Received: {name}={value!r}")
    return value


class Monitor(Callback):
    """Shared by the callbacks that watch one logged value."""

    def __init__(self, monitor: str, mode: str, min_delta: float):
        super().__init__()
        if not isinstance(monitor, str):
            raise TypeError(f"`monitor` must be a log name such as 'val_loss'. Received: {monitor!r}")
        self.monitor = monitor
        self.min_delta = abs(check_number("min_delta", min_delta))
        self.mode, self._better = mode_better(mode, monitor)
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
