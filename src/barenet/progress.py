"""Training progress output and the `summary()` table.

`ProgressLogger` is the callback `fit(verbose=...)` adds:

- `verbose=1` in a terminal, with `rich` installed (`pip install barenet[progress]`):
  a live bar per epoch with steps, ETA, running loss and metrics; the finished bar
  stays on screen as that epoch's line.
- `verbose=1` anywhere else (a CI log, a file, a pipe, or no `rich`), and `verbose=2`:
  one line per epoch, no carriage returns.
- `verbose=0`: nothing.

rich was chosen over tqdm because one library then gives both the live bar and the
`summary()` table, and its bars degrade cleanly outside a terminal.
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


def _format_logs(logs) -> str:
    return " - ".join(f"{key}: {value:.4f}" for key, value in (logs or {}).items())


def _is_terminal(stream) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # closed stream
        return False


class ProgressLogger(Callback):
    """Prints training progress (see the module docstring for what each `verbose` shows).

    Args:
        verbose: 1 (bar in a terminal, else a line per epoch) or 2 (a line per epoch).
            Defaults to 1.
        every: Print only every `every`-th epoch (and the last); the blog's `show_every`.
            Defaults to 1.
        stream: Where to write. Defaults to `sys.stdout` at the time training starts.
    """

    def __init__(self, verbose: int = 1, every: int = 1, stream=None):
        super().__init__()
        self.verbose, self.every, self._stream = verbose, every, stream
        self._progress = None

    def on_train_begin(self, logs=None):
        self.stream = self._stream if self._stream is not None else sys.stdout
        self.epochs = self.params.get("epochs", 1)
        self.steps = self.params.get("steps")
        self._progress = None
        if self.verbose == 1 and rich is not None and _is_terminal(self.stream):
            console = rich.console.Console(file=self.stream)
            self._progress = rich.progress.Progress(
                rich.progress.TextColumn("{task.description}"),
                rich.progress.BarColumn(bar_width=20),
                rich.progress.MofNCompleteColumn(),
                rich.progress.TimeRemainingColumn(),
                rich.progress.TextColumn("{task.fields[metrics]}",
                                         table_column=rich.table.Column(ratio=1, overflow="fold")),
                console=console, transient=False,
            )
            self._progress.start()

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()
        self._running: dict[str, float] = {}
        self._batches = 0
        if self._progress is not None:
            self._task = self._progress.add_task(f"Epoch {epoch + 1}/{self.epochs}", total=self.steps, metrics="")

    def on_batch_end(self, batch, logs=None):
        if self._progress is None:
            return
        self._batches += 1
        for key, value in (logs or {}).items():
            self._running[key] = self._running.get(key, 0.0) + (value - self._running.get(key, 0.0)) / self._batches
        self._progress.update(self._task, advance=1, metrics=_format_logs(self._running))

    def on_epoch_end(self, epoch, logs=None):
        elapsed = time.perf_counter() - self._start
        if self._progress is not None:
            self._progress.update(self._task, completed=self.steps, metrics=_format_logs(logs))
            return
        if epoch % self.every and epoch != self.epochs - 1:
            return
        print(f"Epoch {epoch + 1}/{self.epochs} - {elapsed:.2f}s - {_format_logs(logs)}", file=self.stream, flush=True)

    def on_train_end(self, logs=None):
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


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
