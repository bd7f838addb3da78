"""`IterableAdapter`: batches from a PyDataset, a generator or any iterable of batch tuples."""

from __future__ import annotations

import numpy as np

from ..py_dataset import PyDataset
from .arrays import check_sample_weight
from .class_weights import ClassWeights


def unpack_batch(data, index: int, role: str, source: str):
    """`(x, y, sample_weight)` from one batch: `x`, `(x,)`, `(x, y)` or `(x, y, sample_weight)`."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        data = (data,)
    if not 1 <= len(data) <= 3:
        raise ValueError(f"Batch {index} of {source} must be a tuple (x, y) or (x, y, sample_weight). "
                         f"Received: a tuple of {len(data)} elements")
    x, y, weight = (*data, None, None)[:3]
    if role != "predict" and y is None:
        raise ValueError(f"Batch {index} of {source} must be a tuple (x, y) or (x, y, sample_weight): element 1 "
                         f"(y) is missing. Received: {type(data[0]).__name__}"
                         + (" in a 1-tuple" if len(data) == 1 else ""))
    return x, y, weight


class IterableAdapter:
    """Batches from a PyDataset, a generator or an iterable of batches (see the module docstring)."""

    def __init__(self, model, source, role: str = "fit", class_weight=None, shuffle=False, name: str = "x"):
        if not (isinstance(source, PyDataset) or hasattr(source, "__iter__") or hasattr(source, "__next__")):
            raise TypeError(f"`{name}` must be arrays, a dict of arrays, a generator or iterable of batches, or a "
                            f"barenet.utils.PyDataset. Received: {type(source).__name__}")
        self.model, self.source, self.role, self.shuffle, self.name = model, source, role, shuffle, name
        self.is_dataset = isinstance(source, PyDataset)
        self.restartable = self.is_dataset or (hasattr(source, "__iter__") and iter(source) is not source)
        self.class_weight = None if class_weight is None else ClassWeights(class_weight, model)
        self.what = f"the PyDataset {type(source).__name__}" if self.is_dataset else f"`{name}`"

    @property
    def num_batches(self) -> int | None:
        if self.is_dataset:
            return len(self.source)
        return len(self.source) if hasattr(self.source, "__len__") and self.restartable else None

    def batches(self, rng):
        if self.is_dataset:
            count = len(self.source)
            order = rng.permutation(count) if self.shuffle else range(count)
            items = (self.source[int(i)] for i in order)
        else:
            items = iter(self.source) if hasattr(self.source, "__iter__") else self.source
        for index, data in enumerate(items):
            yield self.check(data, index)

    def check(self, data, index: int):
        """Unpack and check one batch; errors name the batch and the element."""
        model = self.model
        x, y, weight = unpack_batch(data, index, self.role, self.what)
        where = f"batch {index} of {self.what}"
        xs = model._prepare_x(x, f"{self.name} (element 0 of {where})")
        ys = None
        if self.role != "predict":
            ys = model._prepare_y(y, xs, f"y (element 1 of {where})")
        if weight is not None and self.role != "predict":
            weight = np.asarray(check_sample_weight(weight, len(xs[0]), f"sample_weight (element 2 of {where})"),
                                model.dtype)
        elif self.class_weight is not None and ys is not None:
            weight = self.class_weight(ys[0], model.dtype)
        return xs, ys, weight

    def on_epoch_begin(self) -> None:
        if self.is_dataset:
            self.source.on_epoch_begin()

    def on_epoch_end(self) -> None:
        if self.is_dataset:
            self.source.on_epoch_end()
