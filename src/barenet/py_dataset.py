"""`PyDataset`: a dataset of batches by index (Keras's `keras.utils.PyDataset`)."""

from __future__ import annotations


class PyDataset:
    """Base class for a dataset that makes its batches on request, by index.

    Subclass it and implement `__len__` (batches per epoch) and `__getitem__(index)`
    (batch `index`, `0 <= index < len(self)`): a tuple `(x, y)` or `(x, y, sample_weight)`,
    or `x` alone (or `(x,)`) for `predict`. `on_epoch_begin()` / `on_epoch_end()` are
    called around every epoch (reshuffle your file list there, for instance). `fit` reads
    the batches in order, or in a new random order each epoch with `shuffle=True` (the
    order comes from the model's generator); nothing else is held in memory.

    Args:
        workers, use_multiprocessing, max_queue_size: Keras's arguments, accepted for
            compatibility; barenet reads batches in the training process, one at a time.
    """

    def __init__(self, workers: int = 1, use_multiprocessing: bool = False, max_queue_size: int = 10):
        self._workers, self._use_multiprocessing, self._max_queue_size = workers, use_multiprocessing, max_queue_size

    @property
    def workers(self) -> int:
        return getattr(self, "_workers", 1)

    @property
    def use_multiprocessing(self) -> bool:
        return getattr(self, "_use_multiprocessing", False)

    @property
    def max_queue_size(self) -> int:
        return getattr(self, "_max_queue_size", 10)

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__(index).")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __len__().")

    @property
    def num_batches(self) -> int:
        """Batches per epoch (`len(self)`)."""
        return len(self)

    def on_epoch_begin(self) -> None:
        """Called before every epoch."""

    def on_epoch_end(self) -> None:
        """Called after every epoch."""
