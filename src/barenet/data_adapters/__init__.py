"""What `fit`, `evaluate` and `predict` accept, turned into batches `(xs, ys, sample_weight)`.

    adapter = make_adapter(model, x, y, sample_weight=..., class_weight=..., batch_size=32,
                           shuffle=True, role="fit")
    epochs = EpochIterator(adapter, steps=None, rng=model.rng)
    epochs.on_epoch_begin(); for step, (xs, ys, sample_weight) in epochs.steps(): ...; epochs.on_epoch_end()

`xs` is a list of arrays (one per model input, cast to the model's dtype), `ys` a list of
checked targets (one per output; None for `predict`), `sample_weight` a float array of one
weight per sample, or None. Two adapters:

- `ArrayAdapter`: arrays, lists of arrays, dicts by input name. Everything is checked before
  training starts, but in chunks of rows, and each batch is sliced and cast on its own: a
  `numpy.memmap` or an `np.load(..., mmap_mode="r")` array is never copied or cast whole,
  so arrays larger than memory train in constant memory. `shuffle=True` draws a new
  permutation of the rows every epoch from the model's generator; "batch" shuffles the
  order of the batches and the rows within each.
- `IterableAdapter`: a `barenet.utils.PyDataset`, a generator, or any iterable of batches
  `(x, y)` / `(x, y, sample_weight)` (or `x` / `(x,)` for predict). Each batch is checked
  when it arrives (an error names the batch and the element). A PyDataset or a re-iterable
  object (a list of batches, an object whose `__iter__` starts over) is read once per epoch,
  its end marking the epoch's end. A one-shot iterator (a generator) can be read only once, so
  `fit` needs `steps_per_epoch` for it (an endless generator would otherwise never end an
  epoch); with `steps_per_epoch`, `EpochIterator` keeps reading the same stream across
  epochs and stops training with a warning when it runs out (as Keras does).

The package: `arrays` (`ArrayAdapter`, `check_sample_weight`; `arrays.CHUNK_ELEMENTS` values are
checked at a time), `batches` (`IterableAdapter`), `class_weights`, `epoch_iterator`.

Data-parallel training can hand each process its part of every global batch: pass
`shard=(index, count)` to `ArrayAdapter` (each batch's rows are split in `count` contiguous
parts; this process takes part `index`).
"""

from __future__ import annotations

import numpy as np

from ..py_dataset import PyDataset
from .arrays import ArrayAdapter, check_sample_weight
from .batches import IterableAdapter, unpack_batch
from .class_weights import ClassWeights
from .epoch_iterator import EpochIterator

__all__ = [
    "ArrayAdapter",
    "ClassWeights",
    "EpochIterator",
    "IterableAdapter",
    "check_sample_weight",
    "is_batch_source",
    "make_adapter",
    "unpack_batch",
]


def make_adapter(model, x, y=None, sample_weight=None, class_weight=None, batch_size: int = 32,
                 shuffle=False, role: str = "fit", steps=None, names=("x", "y")):
    """The adapter for `x` (see the module docstring); `role` is "fit", "evaluate" or "predict"."""
    if is_batch_source(x, y):
        for arg, value in (("y", y), ("sample_weight", sample_weight)):
            if value is not None:
                raise ValueError(f"`{arg}` must not be given when `{names[0]}` is a generator, an iterable of "
                                 f"batches or a PyDataset: its batches carry the targets and weights. "
                                 f"Received: {arg} of type {type(value).__name__}")
        return IterableAdapter(model, x, role, class_weight, shuffle, names[0])
    return ArrayAdapter(model, x, y, sample_weight, class_weight, batch_size, shuffle, role, names)


def is_batch_source(x, y=None) -> bool:
    """Whether `x` yields batches (PyDataset, generator, iterable of batch tuples) rather than holding rows."""
    if isinstance(x, PyDataset):
        return True
    if isinstance(x, (np.ndarray, dict, str, bytes)) or hasattr(x, "value") or hasattr(x, "__array__") \
            or np.isscalar(x):  # arrays, engine tensors, array-likes such as pandas frames
        return False
    if isinstance(x, (list, tuple)):
        return y is None and len(x) > 0 and all(isinstance(item, tuple) for item in x)
    return hasattr(x, "__iter__") or hasattr(x, "__next__")
