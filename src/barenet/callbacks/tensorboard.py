"""`TensorBoard`: event files that TensorBoard displays (written with the optional `tensorboard` package)."""

from __future__ import annotations

import os
import time

import numpy as np

from .base import Callback


def _tensorboard_modules():
    try:
        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
    except ImportError:
        raise ImportError("The TensorBoard callback writes its event files with the tensorboard package, which is "
                          "not installed. Install it with `pip install barenet[tensorboard]` (or `pip install "
                          "tensorboard`).") from None
    return EventFileWriter, event_pb2, summary_pb2


class EventWriter:
    """Scalars and histograms into one run folder, as TensorBoard's own event files."""

    def __init__(self, logdir: str):
        file_writer, self._events, self._summaries = _tensorboard_modules()
        self._file = file_writer(logdir)

    def _add(self, step: int, value) -> None:
        summary = self._summaries.Summary(value=[value])
        self._file.add_event(self._events.Event(wall_time=time.time(), step=int(step), summary=summary))

    def scalar(self, tag: str, value: float, step: int) -> None:
        self._add(step, self._summaries.Summary.Value(tag=tag, simple_value=float(value)))

    def histogram(self, tag: str, values, step: int, bins: int = 30) -> None:
        values = np.asarray(values, dtype=np.float64).ravel()
        counts, edges = np.histogram(values, bins=bins)
        proto = self._summaries.HistogramProto(
            min=float(values.min()), max=float(values.max()), num=float(values.size), sum=float(values.sum()),
            sum_squares=float(values @ values), bucket_limit=edges[1:].tolist(), bucket=counts.astype(float).tolist())
        self._add(step, self._summaries.Summary.Value(tag=tag, histo=proto))

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.close()


class TensorBoard(Callback):
    """Write training curves as TensorBoard event files: `tensorboard --logdir <log_dir>`.

    As Keras does, training values go to `log_dir/train` and validation values to
    `log_dir/validation`, as scalars named `epoch_<log>` (`epoch_loss`, `epoch_accuracy`, ...,
    the validation ones without their `val_` prefix) at step `epoch`. Needs the optional
    `tensorboard` package (`pip install barenet[tensorboard]`), whose own event-file writer
    is used.

    Args:
        log_dir: Folder of the run. Defaults to "logs".
        histogram_freq: Every this many epochs, also write a histogram of every weight array
            (`<layer>/<weight>/histogram`); 0 for none. Defaults to 0.
        update_freq: "epoch", "batch", or an integer: with "batch" (or n), also write the
            running training values as `batch_<log>` every batch (every n batches), at the
            global step. Defaults to "epoch".
        write_graph, write_images, write_steps_per_second, profile_batch, embeddings_freq,
            embeddings_metadata: Keras's arguments, accepted; barenet writes no graph, images,
            profiles or embeddings.
    """

    def __init__(self, log_dir="logs", histogram_freq: int = 0, write_graph: bool = True, write_images: bool = False,
                 write_steps_per_second: bool = False, update_freq="epoch", profile_batch=0, embeddings_freq=0,
                 embeddings_metadata=None):
        super().__init__()
        if not isinstance(log_dir, (str, os.PathLike)):
            raise TypeError(f"`log_dir` must be a path. Received: {type(log_dir).__name__}")
        if isinstance(histogram_freq, bool) or not isinstance(histogram_freq, int) or histogram_freq < 0:
            raise ValueError(f"`histogram_freq` must be a non-negative integer. Received: {histogram_freq!r}")
        if update_freq not in ("epoch", "batch") and (
                isinstance(update_freq, bool) or not isinstance(update_freq, int) or update_freq < 1):
            raise ValueError(f"`update_freq` must be 'epoch', 'batch' or a positive integer. Received: {update_freq!r}")
        _tensorboard_modules()  # fail here, with the package's name, when it is missing
        self.log_dir, self.histogram_freq = os.fspath(log_dir), histogram_freq
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self._writers: dict = {}
        self._global_step = 0

    def _writer(self, name: str):
        if name not in self._writers:
            self._writers[name] = EventWriter(os.path.join(self.log_dir, name))
        return self._writers[name]

    def on_train_begin(self, logs=None):
        self._global_step = getattr(self.model.optimizer, "iterations", 0)

    def on_train_batch_end(self, batch, logs=None):
        self._global_step += 1
        if self.update_freq != "epoch" and self._global_step % self.update_freq == 0:
            for key, value in (logs or {}).items():
                self._writer("train").scalar(f"batch_{key}", value, self._global_step)

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            if not isinstance(value, (int, float)):
                continue
            name, tag = ("validation", key[4:]) if key.startswith("val_") else ("train", key)
            self._writer(name).scalar(f"epoch_{tag}", value, epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            writer = self._writer("train")
            for prefix, layer in self.model.weight_layers(with_prefix=True):
                for key, value in layer.params.items():
                    writer.histogram(f"{prefix}{key}/histogram", value, epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}
