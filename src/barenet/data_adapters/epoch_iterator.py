"""`EpochIterator`: the steps of each epoch, from an adapter (Keras's epoch iterator)."""

from __future__ import annotations

import warnings


class EpochIterator:
    """The steps of each epoch: a full pass over the adapter, or `steps` batches of one stream.

    With `steps`, the stream carries on across epochs; a finished pass starts over when the
    source can be read again, otherwise the data has run out: `ran_out` is set and the
    epoch ends early (`fit` then stops, with Keras's warning).
    """

    def __init__(self, adapter, steps: int | None = None, rng=None, steps_name: str = "steps_per_epoch"):
        if steps is None and not adapter.restartable and adapter.num_batches is None and adapter.role == "fit":
            raise ValueError(f"`{steps_name}` is required when the data is a generator or another one-shot "
                             "iterator: nothing marks where its epoch ends (an endless generator would never "
                             f"finish one). Pass {steps_name}=<batches per epoch>, or a barenet.utils.PyDataset "
                             "or a re-iterable object (such as a list of batches) whose end marks the epoch.")
        self.adapter, self.steps_per_epoch, self.rng = adapter, steps, rng
        self.ran_out = False
        self._stream = None

    @property
    def num_steps(self) -> int | None:
        return self.steps_per_epoch if self.steps_per_epoch is not None else self.adapter.num_batches

    def on_epoch_begin(self) -> None:
        self.adapter.on_epoch_begin()

    def on_epoch_end(self) -> None:
        self.adapter.on_epoch_end()

    def steps(self):
        """`(step, (xs, ys, sample_weight))` for one epoch."""
        if self.steps_per_epoch is None:
            yield from enumerate(self.adapter.batches(self.rng))
            return
        for step in range(self.steps_per_epoch):
            batch = self._next()
            if batch is None:
                self.ran_out = True
                warnings.warn("Your input ran out of data; interrupting training. Make sure that your dataset or "
                              "generator can generate at least `steps_per_epoch * epochs` batches.",
                              RuntimeWarning, stacklevel=3)
                return
            yield step, batch

    def _next(self):
        for fresh in (self._stream is None, True):
            if self._stream is None:
                self._stream = iter(self.adapter.batches(self.rng))
            try:
                return next(self._stream)
            except StopIteration:
                self._stream = None
                if fresh or not self.adapter.restartable:
                    return None
        return None
