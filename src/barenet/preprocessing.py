"""Data helpers users expect: `normalize`, `standardize`, `train_test_split`.

(`to_categorical` and the blog's `one_hot_encoding` live in `barenet.utils`.)
"""

from __future__ import annotations

import numbers

import numpy as np


def _as_array(x, name: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"`{name}` must be a numeric array. Received: dtype {arr.dtype}")
    if arr.size == 0:
        raise ValueError(f"`{name}` must not be empty. Received: shape {arr.shape}")
    return arr


def normalize(x, max_value: float | None = None, dtype="float32") -> np.ndarray:
    """Scale `x` into [0, 1]: `x / max_value`.

    Unlike `keras.utils.normalize` (which divides by the L2 norm), this is the pixel
    scaling image tutorials use.

    Args:
        x: Numeric array, e.g. uint8 images.
        max_value: The value that maps to 1. Defaults to 255 for uint8 input, else `x.max()`.
        dtype: Output dtype. Defaults to "float32".
    """
    x = _as_array(x, "x")
    if max_value is None:
        max_value = 255 if x.dtype == np.uint8 else float(np.max(x))
    if isinstance(max_value, bool) or not isinstance(max_value, numbers.Real) or not max_value > 0:
        raise ValueError(f"`max_value` must be a positive number. Received: max_value={max_value!r}")
    return (x / max_value).astype(dtype, copy=False)


def standardize(x, mean=None, std=None, epsilon: float = 1e-7, dtype="float32") -> np.ndarray:
    """Return `(x - mean) / (std + epsilon)`, the blog's normalization.

    Compute `mean` and `std` on the training set and pass the same ones for the test
    set: `standardize(x_test, x_train.mean(), x_train.std())`.

    Args:
        x: Numeric array.
        mean: Value (or array broadcasting against `x`) to subtract. Defaults to `x.mean()`.
        std: Value (or array) to divide by. Defaults to `x.std()`.
        epsilon: Added to `std` so constant features do not divide by zero. Defaults to 1e-7.
        dtype: Output dtype. Defaults to "float32".
    """
    x = _as_array(x, "x").astype(np.float64)
    mean = x.mean() if mean is None else np.asarray(mean, np.float64)
    std = x.std() if std is None else np.asarray(std, np.float64)
    if np.any(std < 0):
        raise ValueError("`std` must be non-negative.")
    return ((x - mean) / (std + epsilon)).astype(dtype)


def train_test_split(*arrays, test_size: float | int = 0.25, seed: int | None = None,
                     shuffle: bool = True, stratify=None):
    """Split arrays of equal length into train and test parts.

    Returns `a_train, a_test, b_train, b_test, ...` in the order the arrays were given
    (as scikit-learn does). The shuffle comes from `numpy.random.default_rng(seed)`,
    never the global generator: the same seed gives the same split.

    Args:
        *arrays: Arrays with the same first dimension.
        test_size: Fraction in (0, 1) of samples, or a number of samples, for the test part.
            Defaults to 0.25.
        seed: Seed for the shuffle. Defaults to None (a fresh split each call).
        shuffle: Shuffle before splitting; if False the last samples are the test part.
            Defaults to True.
        stratify: Class labels; when given, each class is split in the same proportion.
            Defaults to None.
    """
    if not arrays:
        raise ValueError("train_test_split needs at least one array.")
    arrays = [np.asarray(a) for a in arrays]
    n = len(arrays[0])
    for i, a in enumerate(arrays):
        if a.ndim == 0 or len(a) != n:
            raise ValueError(f"All arrays must have the same length. Received: array 0 has {n} samples, "
                             f"array {i} has {0 if a.ndim == 0 else len(a)}")
    if isinstance(test_size, bool) or not isinstance(test_size, numbers.Real):
        raise TypeError(f"`test_size` must be a fraction or a count. Received: {test_size!r}")
    if isinstance(test_size, numbers.Integral):
        n_test = int(test_size)
    elif 0 < test_size < 1:
        n_test = int(round(test_size * n))
    else:
        raise ValueError(f"`test_size` must be a fraction in (0, 1) or a number of samples. Received: test_size={test_size!r}")
    if not 0 < n_test < n:
        raise ValueError(f"`test_size={test_size!r}` must leave at least one of the {n} samples on each side.")
    rng = np.random.default_rng(seed)
    if stratify is not None:
        if not shuffle:
            raise ValueError("`stratify` needs shuffle=True.")
        labels = np.asarray(stratify).reshape(n, -1)[:, 0] if np.ndim(stratify) else None
        if labels is None or len(labels) != n:
            raise ValueError(f"`stratify` must hold one label per sample ({n}).")
        test_idx = []
        for cls in np.unique(labels):
            members = rng.permutation(np.flatnonzero(labels == cls))
            test_idx.append(members[:int(round(len(members) * n_test / n))])
        test_idx = np.sort(np.concatenate(test_idx))
        train_idx = np.setdiff1d(np.arange(n), test_idx)
    elif shuffle:
        order = rng.permutation(n)
        train_idx, test_idx = order[n_test:], order[:n_test]
    else:
        train_idx, test_idx = np.arange(n - n_test), np.arange(n - n_test, n)
    out = []
    for a in arrays:
        out += [a[train_idx], a[test_idx]]
    return out
