"""Checking what users pass to fit/evaluate/predict: arrays, their shapes, dtypes and labels."""

from __future__ import annotations

import numpy as np

from .. import losses


def as_numeric(value, name: str, text: bool = False) -> np.ndarray:
    """`value` as a non-empty numeric array without NaN/inf, or a clear error naming `name`
    (with `text`, an input declared "string": an array of strings is accepted too)."""
    if value is None:
        raise TypeError(f"`{name}` must be a numeric array. Received: None")
    if hasattr(value, "value") and isinstance(getattr(value, "value"), np.ndarray):  # an engine Tensor
        value = value.value
    try:
        arr = np.asarray(value)
    except ValueError as error:  # ragged nested lists
        raise ValueError(f"`{name}` must be a rectangular numeric array. Received: {error}") from None
    if arr.dtype.kind not in ("biufOUS" if text else "biuf"):
        raise TypeError(f"`{name}` must be a numeric array. Received: dtype {arr.dtype}")
    if arr.ndim == 0 or len(arr) == 0:
        raise ValueError(f"`{name}` must not be empty. Received: shape {arr.shape}")
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise ValueError(f"`{name}` contains NaN or inf. Received: {int((~np.isfinite(arr)).sum())} non-finite values")
    return arr


def check_input(x: np.ndarray, name: str, expected, owner: str, dtype, scanned: bool = False) -> np.ndarray:
    """Check `x`'s samples against `expected` (one sample's shape; None = any size) and cast floats
    (and, for float inputs, integers) to `dtype`. `scanned`: the values were checked already (a
    batch of arrays an adapter scanned whole), so only shapes are checked and values cast."""
    if x.ndim < 2 and expected is not None:
        if x.ndim == 1 and tuple(expected) == (1,):
            x = x[:, None]
        elif len(expected) != 0:
            raise ValueError(f"`{name}` must have a batch axis first: shape (samples, *features). "
                             f"Received: shape {x.shape}")
    if expected is not None:
        sample = x.shape[1:]
        if len(sample) != len(expected) or any(e is not None and e != s for e, s in zip(expected, sample)):
            shown = tuple(expected)
            raise ValueError(f"`{name}` has samples of shape {sample}, but {owner} expects {shown}. "
                             f"Received: {name}.shape={x.shape}")
    if dtype is not None and dtype.kind != "O" and (dtype.kind == "f" or x.dtype.kind == "f") and x.dtype != dtype:
        with np.errstate(over="ignore"):
            x = x.astype(dtype)
        if not scanned:
            _check_finite_after_cast(x, name)
    return x


def _check_finite_after_cast(x: np.ndarray, name: str) -> None:
    """float64 values beyond float32's range become inf when cast: refuse them too."""
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        raise ValueError(f"`{name}` has values too large for {x.dtype} (they become inf). "
                         f"Received: {int((~np.isfinite(x)).sum())} such values")


def check_targets(y: np.ndarray, name: str, output_shape, loss, output_owner: str, dtype,
                  scanned: bool = False) -> np.ndarray:
    """Check targets `y` against one output (sample shape `output_shape`, or None when unknown).

    With `dtype=None` only shapes are checked (no value is read and nothing is copied) and `y`
    is returned as it is. `scanned`: as `check_input`'s (values cast, not checked again)."""
    if isinstance(loss, losses.SparseCategoricalCrossentropy):
        return _check_labels(y, name, output_shape, dtype, scanned)
    if y.ndim == 1 and output_shape is not None and tuple(output_shape) == (1,):
        y = y[:, None]
    if output_shape is not None and isinstance(loss, losses.Loss) and (
            len(y.shape[1:]) != len(output_shape)
            or any(o is not None and o != s for o, s in zip(output_shape, y.shape[1:]))):
        raise ValueError(
            f"`{name}` has targets of shape {y.shape[1:]}, but {output_owner} produces {tuple(output_shape)}. "
            f"Received: {name}.shape={y.shape} "
            "(one-hot encode class labels with to_categorical, or use sparse_categorical_crossentropy)."
        )
    if dtype is None or y.dtype == dtype:
        return y
    with np.errstate(over="ignore"):
        y = y.astype(dtype)
    if not scanned:
        _check_finite_after_cast(y, name)
    return y


def _check_labels(y: np.ndarray, name: str, output_shape, dtype, scanned: bool = False) -> np.ndarray:
    """Integer class labels for sparse_categorical_crossentropy: one per output row, i.e. of the
    output's shape without its class axis (`(samples,)` for `(samples, classes)`, `(samples, steps)`
    for `(samples, steps, classes)`), optionally with a trailing axis of 1."""
    label_shape = None if output_shape is None else tuple(output_shape[:-1])
    shape = y.shape[1:]
    if label_shape is None:
        fits = True
    else:
        fits = len(shape) in (len(label_shape), len(label_shape) + 1) and all(
            o is None or o == s for o, s in zip(label_shape, shape)) and (
            len(shape) == len(label_shape) or shape[-1] == 1)
    if not fits or (dtype is not None and not scanned and y.dtype.kind == "f" and np.any(y != np.round(y))):
        expected = "(samples,) or (samples, 1)" if not label_shape else \
            f"(samples, {', '.join(map(str, label_shape))})"
        raise ValueError(f"`{name}` must hold integer class labels, shape {expected}, "
                         f"for sparse_categorical_crossentropy. Received: shape {y.shape}, dtype {y.dtype}")
    if dtype is None:
        return y
    if label_shape is not None and len(shape) > len(label_shape):
        y = y[..., 0]
    elif label_shape is None and y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    classes = None if output_shape is None else output_shape[-1]
    if classes is not None and y.size and not scanned and (y.min() < 0 or y.max() >= classes):
        raise ValueError(f"`{name}` labels must lie in [0, {classes}). Received: min {y.min()}, max {y.max()}")
    return y.astype(np.intp)


def split_structure(value, names: list, what: str) -> list:
    """An array, a list/tuple of arrays or a dict by name, as a list in `names` order."""
    if isinstance(value, dict):
        missing = [name for name in names if name not in value]
        unknown = [key for key in value if key not in names]
        if missing or unknown:
            raise ValueError(f"`{what}` must be a dict with keys {names}. "
                             f"Received: keys {list(value)}")
        return [value[name] for name in names]
    if len(names) == 1:
        if isinstance(value, (list, tuple)) and len(value) == 1 and not np.isscalar(value[0]) \
                and np.ndim(value[0]) >= 1 and not _is_rows(value):
            return [value[0]]
        return [value]
    if not isinstance(value, (list, tuple)) or len(value) != len(names):
        count = len(value) if isinstance(value, (list, tuple)) else type(value).__name__
        raise ValueError(f"`{what}` must be a list of {len(names)} arrays (one per {names}) or a dict by name. "
                         f"Received: {count}")
    return list(value)


def _is_rows(value) -> bool:
    """Whether a one-element list is itself one row of data (not a wrapped array)."""
    return not isinstance(value[0], np.ndarray) and not hasattr(value[0], "value")
