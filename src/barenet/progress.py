"""Progress output of `fit`, `evaluate` and `predict`, and the `summary()` table.

`ProgressLogger` is the callback `verbose=...` adds (Keras's ProgbarLogger):

- `verbose=1` (or "auto") in a terminal: Keras's bar, redrawn after a batch at most every
  `REDRAW_INTERVAL` seconds (Keras's Progbar `interval`, 0.05 s), and always after the last:
  `Epoch 2/5` then ` 12/32 ━━━━━━━╺━━━━━━━━━━━━ 0.4s 31ms/step - accuracy: 0.8125 - loss: 0.4521`
  (steps done/steps, time so far, time per step, the running logs); the finished bar stays as
  the epoch's line, with the validation values. Drawn with `rich` when it is installed
  (`pip install barenet[progress]`), with plain carriage returns otherwise.
- `verbose=1` anywhere else (a CI log, a file, a pipe) and `verbose=2`: one line per epoch
  (`Epoch 2/5 - 32/32 - 1.02s - 31ms/step - accuracy: ... - val_loss: ...`), no carriage returns.
- `verbose=0`: nothing.

`evaluate` and `predict` show the same bar (or one line at the end) over their batches;
inside `fit`, validation draws nothing of its own (its values join the epoch's line).
"""

from __future__ import annotations

import sys
import time

from .callbacks import Callback

try:  # optional extra: pip install barenet[progress]
    import rich.box
    import rich.console
    import rich.progress
    import rich.table
except ImportError:  # pragma: no cover - exercised by the fallback tests via monkeypatch
    rich = None

BAR_WIDTH = 20
REDRAW_INTERVAL = 0.05  # seconds between two drawings of the bar (drawing costs ~0.1 ms a batch)


def _format_logs(logs) -> str:
    return " - ".join(f"{key}: {value:.4f}" for key, value in (logs or {}).items()
                      if isinstance(value, (int, float)))


def _is_terminal(stream) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # closed stream
        return False


def _per_step(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.0f}s/step"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/step"
    return f"{seconds * 1e6:.0f}us/step"


def _bar(done: int, total: int | None) -> str:
    if not total:
        return ""
    filled = BAR_WIDTH * min(done, total) / total
    full = int(filled)
    return "━" * full + ("╸" if filled - full >= 0.5 else "") + " " * (BAR_WIDTH - full - (filled - full >= 0.5))


def progress_logger(verbose: int, mode: str):
    """The progress callback for `verbose` (None when silent); `mode` is "fit", "evaluate" or "predict"."""
    return ProgressLogger(verbose, mode=mode) if verbose else None


class ProgressLogger(Callback):
    """Prints progress (see the module docstring for what each `verbose` shows).

    Args:
        verbose: 1 (bar in a terminal, else a line per epoch) or 2 (a line per epoch).
            Defaults to 1.
        every: Print only every `every`-th epoch (and the last); the blog's `show_every`.
            Defaults to 1.
        stream: Where to write. Defaults to `sys.stdout` at the time a run starts.
        mode: "fit", "evaluate" or "predict": which loop's progress to show. Defaults to "fit".
    """

    def __init__(self, verbose: int = 1, every: int = 1, stream=None, mode: str = "fit"):
        super().__init__()
        self.verbose, self.every, self._stream, self.mode = verbose, every, stream, mode
        self._progress = None

    # --- one run (an epoch, an evaluation, a prediction) ----------------------------------------
    def _begin(self, title: str | None):
        self.stream = self._stream if self._stream is not None else sys.stdout
        self.steps = self.params.get("steps")
        self.live = self.verbose == 1 and _is_terminal(self.stream)
        self._start, self._seen, self._width = time.perf_counter(), 0, 0
        self._drawn = None  # when the bar was last drawn
        if self.live and rich is not None:
            if self._progress is None:
                self._progress = rich.progress.Progress(
                    rich.progress.TextColumn("{task.description}"),
                    rich.progress.BarColumn(bar_width=BAR_WIDTH),
                    rich.progress.MofNCompleteColumn(),
                    rich.progress.TextColumn("{task.fields[timing]}"),
                    rich.progress.TextColumn("{task.fields[metrics]}",
                                             table_column=rich.table.Column(ratio=1, overflow="fold")),
                    console=rich.console.Console(file=self.stream), transient=False,
                    auto_refresh=False)  # drawn by `_update` (no refresh thread taking the GIL)
                self._progress.start()
            self._task = self._progress.add_task(title or "", total=self.steps, timing="", metrics="")
        elif self.live and title:
            print(title, file=self.stream, flush=True)

    def _timing(self) -> str:
        elapsed = time.perf_counter() - self._start
        return f"{elapsed:.1f}s {_per_step(elapsed / max(1, self._seen))}"

    def _update(self, step: int, logs, force: bool = False) -> None:
        self._seen = step + 1
        if not self.live:
            return
        now = time.perf_counter()
        last = self.steps is not None and self._seen >= self.steps
        if not (force or last or self._drawn is None or now - self._drawn >= REDRAW_INTERVAL):
            return
        self._drawn = now
        if self._progress is not None:
            self._progress.update(self._task, completed=self._seen, timing=self._timing(),
                                  metrics=_format_logs(logs), refresh=True)
            return
        total = "Unknown" if self.steps is None else str(self.steps)
        text = f"{self._seen:>{len(total)}}/{total} {_bar(self._seen, self.steps)} {self._timing()}"
        if _format_logs(logs):
            text += " - " + _format_logs(logs)
        self.stream.write("\r" + text.ljust(self._width))
        self.stream.flush()
        self._width = len(text)

    def _end(self, title: str | None, logs, show: bool = True) -> None:
        if self.live:
            if self._progress is not None:
                self._progress.update(self._task, completed=self._seen if self.steps is None else self.steps,
                                      timing=self._timing(), metrics=_format_logs(logs), refresh=True)
                if self.mode != "fit":
                    self._stop_rich()
            else:
                self._update(max(0, self._seen - 1), logs, force=True)
                self.stream.write("\n")
                self.stream.flush()
            return
        if show:
            parts = [title] if title else []
            parts += [f"{self._seen}/{self._seen}", self._timing().replace(" ", " - ")]
            if _format_logs(logs):
                parts.append(_format_logs(logs))
            print(" - ".join(parts), file=self.stream, flush=True)

    def _stop_rich(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    # --- fit ------------------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self.epochs = self.params.get("epochs", 1)

    def on_epoch_begin(self, epoch, logs=None):
        self._begin(f"Epoch {epoch + 1}/{self.epochs}")

    def on_train_batch_end(self, batch, logs=None):
        self._update(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        show = not (epoch % self.every and epoch != self.epochs - 1)
        self._end(f"Epoch {epoch + 1}/{self.epochs}", logs, show)

    def on_train_end(self, logs=None):
        self._stop_rich()

    # --- evaluate and predict (validation inside fit shows nothing of its own) -------------------
    def on_test_begin(self, logs=None):
        if self.mode == "evaluate":
            self._begin(None)

    def on_test_batch_end(self, batch, logs=None):
        if self.mode == "evaluate":
            self._update(batch, logs)

    def on_test_end(self, logs=None):
        if self.mode == "evaluate":
            self._end(None, logs)

    def on_predict_begin(self, logs=None):
        if self.mode == "predict":
            self._begin(None)

    def on_predict_batch_end(self, batch, logs=None):
        if self.mode == "predict":
            self._update(batch, None)

    def on_predict_end(self, logs=None):
        if self.mode == "predict":
            self._end(None, None)


def render_table(title: str, header, rows, footer) -> str:
    """A text table: with rich's box drawing when rich is installed, plain columns otherwise.

    The "Params" column is right-aligned, the others left-aligned."""
    if rich is not None:
        table = rich.table.Table(title=title, box=rich.box.SIMPLE_HEAD, title_justify="left")
        for i, name in enumerate(header):
            table.add_column(name, justify="right" if name == "Params" else "left", no_wrap=True)
        for row in rows:
            table.add_row(*row)
        console = rich.console.Console(width=200, record=True, file=_Discard(), color_system=None)
        console.print(table)
        lines = [line.rstrip() for line in console.export_text().splitlines()]
        return "\n".join([*lines, *footer])
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    rule = "-" * (sum(widths) + 2 * (len(header) - 1))

    def line(row):
        return "  ".join(c.rjust(w) if header[j] == "Params" else c.ljust(w)
                         for j, (c, w) in enumerate(zip(row, widths))).rstrip()

    return "\n".join([title, rule, line(header), rule, *map(line, rows), rule, *footer, rule])


class _Discard:
    def write(self, text):
        return len(text)

    def flush(self):
        pass
