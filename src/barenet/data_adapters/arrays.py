"""`ArrayAdapter`: batches of rows of arrays, in memory or memory-mapped (checked in chunks, cast per batch)."""

from __future__ import annotations

import numpy as np

from .. import fast
from ..models.inputs import as_numeric, check_input, check_targets, split_structure
from .class_weights import ClassWeights

CHUNK_ELEMENTS = 1 << 18  # rows are checked this many values at a time


def _as_array(value, label: str, text: bool = False) -> np.ndarray:
    """`value` as an array without copying (a memmap stays a view of its file); with `text`, strings
    are accepted too (an input declared "string")."""
    if value is None:
        raise TypeError(f"`{label}` must be a numeric array. Received: None")
    if hasattr(value, "value") and isinstance(value.value, np.ndarray):  # an engine Tensor
        value = value.value
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in ("biufOUS" if text else "biuf"):
            raise TypeError(f"`{label}` must be a numeric array. Received: dtype {value.dtype}")
        if value.ndim == 0 or len(value) == 0:
            raise ValueError(f"`{label}` must not be empty. Received: shape {value.shape}")
        return value
    return as_numeric(value, label, text)


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


def model_text(model, index: int) -> bool:
    """Whether the model's input `index` is declared "string" (texts for a TextVectorization)."""
    return model._input_dtype(index).kind == "O"


class ArrayAdapter:
    """Batches of rows of in-memory or memory-mapped arrays (see the module docstring)."""

    restartable = True

    def __init__(self, model, x, y=None, sample_weight=None, class_weight=None, batch_size: int = 32,
                 shuffle=False, role: str = "fit", names=("x", "y"), shard=None):
        x_name, y_name = names
        self.model, self.batch_size, self.shuffle, self.role, self.shard = model, batch_size, shuffle, role, shard
        arrays = split_structure(x, model.input_names, x_name)
        self.x_labels = [x_name if len(arrays) == 1 else f"{x_name}[{i}]" for i in range(len(arrays))]
        self.xs = [_as_array(a, label, model_text(model, i))
                   for i, (a, label) in enumerate(zip(arrays, self.x_labels))]
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
                self._x(i, as_numeric(array[rows], label, model_text(self.model, i)))
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

    def _x(self, i: int, part: np.ndarray, scanned: bool = False) -> np.ndarray:
        model = self.model
        return check_input(part, self.x_labels[i], model.input_specs()[i], model._input_owner(i), model._input_dtype(i),
                           scanned)

    def _y(self, i: int, part: np.ndarray, scanned: bool = False) -> np.ndarray:
        model = self.model
        return check_targets(part, self.y_labels[i], model.output_specs()[i], model.compiled_loss[i],
                             model._output_owner(i), model.dtype, scanned)

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
        """The batch of `rows` (a slice or an index array), sliced and cast on its own (its values
        were checked by `_scan`, so they are not read again). A shuffled batch of float32 inputs is
        gathered and cast in one pass by the compiled kernel where it applies (`fast.take_rows`)."""
        xs = [self._x(i, self._rows(a, rows, i), scanned=True) for i, a in enumerate(self.xs)]
        ys = None if self.ys is None else [self._y(i, a[rows], scanned=True) for i, a in enumerate(self.ys)]
        weight = None
        if self.sample_weight is not None:
            weight = np.asarray(self.sample_weight[rows], self.model.dtype)
        elif self.class_weight is not None and ys is not None:
            weight = self.class_weight(ys[0], self.model.dtype)
        return xs, ys, weight

    def _rows(self, array: np.ndarray, rows, i: int) -> np.ndarray:
        """`array[rows]`, already cast to input `i`'s dtype where the gather kernel copies it."""
        if isinstance(rows, slice):
            return array[rows]
        gathered = fast.take_rows(array, rows, self.model._input_dtype(i))
        return array[rows] if gathered is None else gathered

    def on_epoch_begin(self) -> None:
        pass

    def on_epoch_end(self) -> None:
        pass
