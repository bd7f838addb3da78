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

Data-parallel training can hand each process its part of every global batch: pass
`shard=(index, count)` to `ArrayAdapter` (each batch's rows are split in `count` contiguous
parts; this process takes part `index`).
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np

from .models.inputs import as_numeric, check_input, check_targets, split_structure
from .py_dataset import PyDataset

CHUNK_ELEMENTS = 1 << 18  # rows are checked this many values at a time


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


# --- arrays ---------------------------------------------------------------------------------------
def _as_array(value, label: str) -> np.ndarray:
    """`value` as an array without copying (a memmap stays a view of its file)."""
    if value is None:
        raise TypeError(f"`{label}` must be a numeric array. Received: None")
    if hasattr(value, "value") and isinstance(value.value, np.ndarray):  # an engine Tensor
        value = value.value
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise TypeError(f"`{label}` must be a numeric array. Received: dtype {value.dtype}")
        if value.ndim == 0 or len(value) == 0:
            raise ValueError(f"`{label}` must not be empty. Received: shape {value.shape}")
        return value
    return as_numeric(value, label)


def _restructure(value, arrays: list, names: list):
    """`arrays` (in `names` order) in the structure `value` had: a dict, a list, or one array."""
    if isinstance(value, dict):
        return dict(zip(names, arrays))
    if isinstance(value, (list, tuple)) and len(names) > 1:
        return list(arrays)
    return arrays[0]


def _chunks(n: int, row_size: int):
    step = max(1, CHUNK_ELEMENTS // max(1, row_size))
    for start in range(0, n, step):
        yield slice(start, start + step)


def check_sample_weight(weight, n: int, name: str = "sample_weight") -> np.ndarray:
    """`weight`: one finite, non-negative number per sample (`n`), checked in chunks."""
    weight = _as_array(weight, name)
    if len(weight) != n:
        raise ValueError(f"`{name}` must hold one weight per sample ({n}). Received: {len(weight)} weights "
                         f"(shape {weight.shape})")
    for rows in _chunks(n, int(np.prod(weight.shape[1:], dtype=np.int64))):
        part = weight[rows]
        if part.dtype.kind == "f" and not np.isfinite(part).all():
            raise ValueError(f"`{name}` contains NaN or inf (in rows {rows.start}..{rows.start + len(part) - 1}).")
        if part.min() < 0:
            raise ValueError(f"`{name}` must not be negative. Received: {part.min()} "
                             f"(row {rows.start + int(np.argmin(part.reshape(len(part), -1).min(axis=1)))})")
    return weight


class ClassWeights:
    """`class_weight` ({class index: weight}) as per-sample weights from a batch's targets.

    Labels are the targets' argmax for one-hot targets, the rounded value otherwise; a class
    missing from the dict weighs 1.0 (as in Keras 3). A key that is not a class of the
    model's output raises.
    """

    def __init__(self, class_weight, model):
        if not hasattr(class_weight, "items"):
            raise TypeError(f"`class_weight` must be a dict {{class index: weight}}. "
                            f"Received: {type(class_weight).__name__}")
        if len(model.output_names) != 1:
            raise ValueError("`class_weight` is only supported for models with a single output. "
                             f"Received a model with outputs {model.output_names}")
        spec = (model.output_specs() or [None])[0]
        units = spec[-1] if spec else None
        classes = None if units is None else max(2, units)
        table = {}
        for key, value in class_weight.items():
            if isinstance(key, bool) or not isinstance(key, numbers.Integral) or key < 0 \
                    or (classes is not None and key >= classes):
                valid = "non-negative integers" if classes is None else f"0 .. {classes - 1}"
                raise ValueError(f"`class_weight` has the unknown class {key!r}: classes of this model's output "
                                 f"are {valid}. Received: class_weight={dict(class_weight)!r}")
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value) or value < 0:
                raise ValueError(f"`class_weight[{key}]` must be a finite non-negative number. Received: {value!r}")
            table[int(key)] = float(value)
        self.lookup = np.ones(max(table, default=-1) + 1)
        for key, value in table.items():
            self.lookup[key] = value

    def __call__(self, y: np.ndarray, dtype) -> np.ndarray:
        labels = np.argmax(y, axis=-1) if y.ndim > 1 and y.shape[-1] > 1 else y.reshape(len(y), -1)[:, 0]
        labels = np.round(labels).astype(np.int64).reshape(len(y), -1)[:, 0]
        weights = np.ones(len(labels), dtype)
        known = (labels >= 0) & (labels < len(self.lookup))
        weights[known] = self.lookup[labels[known]]
        return weights


class ArrayAdapter:
    """Batches of rows of in-memory or memory-mapped arrays (see the module docstring)."""

    restartable = True

    def __init__(self, model, x, y=None, sample_weight=None, class_weight=None, batch_size: int = 32,
                 shuffle=False, role: str = "fit", names=("x", "y"), shard=None):
        x_name, y_name = names
        self.model, self.batch_size, self.shuffle, self.role, self.shard = model, batch_size, shuffle, role, shard
        arrays = split_structure(x, model.input_names, x_name)
        self.x_labels = [x_name if len(arrays) == 1 else f"{x_name}[{i}]" for i in range(len(arrays))]
        self.xs = [_as_array(a, label) for a, label in zip(arrays, self.x_labels)]
        if len({len(a) for a in self.xs}) > 1:
            raise ValueError(f"All inputs in `{x_name}` must have the same number of samples. "
                             f"Received: {[len(a) for a in self.xs]}")
        self.n = len(self.xs[0])
        self.ys = self.y_labels = None
        self._check_shapes()  # on the whole arrays, so that errors show their shapes
        model._prepare_x(_restructure(x, [a[:1] for a in self.xs], model.input_names), x_name)  # builds the model
        self._check_shapes()
        if role != "predict":
            if y is None:
                raise TypeError(f"`{y_name}` must be a numeric array. Received: None")
            targets = split_structure(y, model.output_names, y_name)
            if len(targets) != len(model.compiled_loss):
                raise ValueError(f"`{y_name}` must hold one target array per output ({len(model.compiled_loss)}). "
                                 f"Received: {len(targets)}")
            self.y_labels = [y_name if len(targets) == 1 else f"{y_name}[{name!r}]" for name in model.output_names]
            self.ys = [_as_array(a, label) for a, label in zip(targets, self.y_labels)]
            for array, label in zip(self.ys, self.y_labels):
                if len(array) != self.n:
                    raise ValueError(f"`{x_name}` and `{label}` must have the same length. Received: "
                                     f"len({x_name})={self.n}, len({label})={len(array)}")
            self._check_shapes()
        if sample_weight is not None and class_weight is not None:
            raise ValueError("Pass `sample_weight` or `class_weight`, not both (as in Keras).")
        self.sample_weight = None if sample_weight is None else check_sample_weight(sample_weight, self.n)
        self.class_weight = None if class_weight is None else ClassWeights(class_weight, model)
        self._scan()

    @property
    def num_batches(self) -> int:
        return -(-self.n // self.batch_size)

    def _scan(self) -> None:
        """Check every row (finite, shapes, labels, castable), a chunk of rows at a time."""
        for i, (array, label) in enumerate(zip(self.xs, self.x_labels)):
            for rows in _chunks(self.n, int(np.prod(array.shape[1:], dtype=np.int64))):
                self._x(i, as_numeric(array[rows], label))
        for i, (array, label) in enumerate(zip(self.ys or [], self.y_labels or [])):
            for rows in _chunks(self.n, int(np.prod(array.shape[1:], dtype=np.int64))):
                self._y(i, as_numeric(array[rows], label))

    def _check_shapes(self) -> None:
        """Shapes only, no copy: `check_input`/`check_targets` without a dtype."""
        specs = self.model.input_specs()
        for i, (array, label, spec) in enumerate(zip(self.xs, self.x_labels, specs)):
            check_input(array, label, spec, self.model._input_owner(i), None)
        if self.ys is not None and self.model.built:
            for i, (array, label, spec, loss) in enumerate(zip(self.ys, self.y_labels, self.model.output_specs(),
                                                               self.model.compiled_loss)):
                check_targets(array, label, spec, loss, self.model._output_owner(i), None)

    def _x(self, i: int, part: np.ndarray) -> np.ndarray:
        model = self.model
        return check_input(part, self.x_labels[i], model.input_specs()[i], model._input_owner(i), model._input_dtype(i))

    def _y(self, i: int, part: np.ndarray) -> np.ndarray:
        model = self.model
        return check_targets(part, self.y_labels[i], model.output_specs()[i], model.compiled_loss[i],
                             model._output_owner(i), model.dtype)

    def split(self, fraction: float) -> ArrayAdapter:
        """Keep the first rows for training and return an adapter over the last `fraction` of them
        (Keras's `validation_split`: taken before shuffling; views, nothing is copied)."""
        split_at = int(np.floor(self.n * (1.0 - fraction)))
        if split_at == 0 or split_at == self.n:
            raise ValueError(f"The training data holds {self.n} samples, too few to split into a validation and a "
                             f"training set with `validation_split={fraction}`. Provide more data or another value.")
        held = object.__new__(ArrayAdapter)
        held.__dict__.update(self.__dict__)
        held.xs, held.n, held.shuffle = [a[split_at:] for a in self.xs], self.n - split_at, False
        held.ys = None if self.ys is None else [a[split_at:] for a in self.ys]
        held.sample_weight = None if self.sample_weight is None else self.sample_weight[split_at:]
        self.xs, self.n = [a[:split_at] for a in self.xs], split_at
        self.ys = None if self.ys is None else [a[:split_at] for a in self.ys]
        self.sample_weight = None if self.sample_weight is None else self.sample_weight[:split_at]
        return held

    def batches(self, rng):
        """One pass: `(xs, ys, sample_weight)` per batch, rows in order or shuffled with `rng`."""
        starts = range(0, self.n, self.batch_size)
        order = None
        if self.shuffle == "batch":
            starts = [starts[i] for i in rng.permutation(len(starts))]
        elif self.shuffle:
            order = rng.permutation(self.n)
        for start in starts:
            stop = min(start + self.batch_size, self.n)
            if order is not None:
                rows = order[start:stop]
            elif self.shuffle == "batch":
                rows = start + rng.permutation(stop - start)
            else:
                rows = slice(start, stop)
            yield self.take(self._shard_rows(rows, stop - start))

    def _shard_rows(self, rows, size: int):
        if self.shard is None:
            return rows
        index, count = self.shard
        rows = np.arange(rows.start, rows.stop) if isinstance(rows, slice) else rows
        return rows[size * index // count: size * (index + 1) // count]

    def take(self, rows):
        """The batch of `rows` (a slice or an index array), sliced and cast on its own."""
        xs = [self._x(i, a[rows]) for i, a in enumerate(self.xs)]
        ys = None if self.ys is None else [self._y(i, a[rows]) for i, a in enumerate(self.ys)]
        weight = None
        if self.sample_weight is not None:
            weight = np.asarray(self.sample_weight[rows], self.model.dtype)
        elif self.class_weight is not None and ys is not None:
            weight = self.class_weight(ys[0], self.model.dtype)
        return xs, ys, weight

    def on_epoch_begin(self) -> None:
        pass

    def on_epoch_end(self) -> None:
        pass


# --- generators, iterables, PyDataset -------------------------------------------------------------
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


# --- epochs ---------------------------------------------------------------------------------------
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
