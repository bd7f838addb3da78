"""`TensorBoard`: event files that TensorBoard displays (written with the optional `tensorboardX`)."""

from __future__ import annotations

import os

from .base import Callback


def _summary_writer_class():
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        raise ImportError("The TensorBoard callback writes its event files with the tensorboardX package, which "
                          "is not installed. Install it with `pip install barenet[tensorboard]` (or `pip install "
                          "tensorboardX`).") from None
    return SummaryWriter


class TensorBoard(Callback):
    """Write training curves as TensorBoard event files: `tensorboard --logdir <log_dir>`.

    As Keras does, training values go to `log_dir/train` and validation values to
    `log_dir/validation`, as scalars named `epoch_<log>` (`epoch_loss`, `epoch_accuracy`, ...,
    the validation ones without their `val_` prefix) at step `epoch`. Needs the optional
    `tensorboardX` package (`pip install barenet[tensorboard]`).

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
        self._writer_class = _summary_writer_class()
        self.log_dir, self.histogram_freq = os.fspath(log_dir), histogram_freq
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self._writers: dict = {}
        self._global_step = 0

    def _writer(self, name: str):
        if name not in self._writers:
            self._writers[name] = self._writer_class(os.path.join(self.log_dir, name))
        return self._writers[name]

    def on_train_begin(self, logs=None):
        self._global_step = getattr(self.model.optimizer, "iterations", 0)

    def on_train_batch_end(self, batch, logs=None):
        self._global_step += 1
        if self.update_freq != "epoch" and self._global_step % self.update_freq == 0:
            for key, value in (logs or {}).items():
                self._writer("train").add_scalar(f"batch_{key}", float(value), self._global_step)

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            if not isinstance(value, (int, float)):
                continue
            name, tag = ("validation", key[4:]) if key.startswith("val_") else ("train", key)
            self._writer(name).add_scalar(f"epoch_{tag}", float(value), epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            writer = self._writer("train")
            for prefix, layer in self.model.weight_layers(with_prefix=True):
                for key, value in layer.params.items():
                    writer.add_histogram(f"{prefix}{key}/histogram", value, epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}
