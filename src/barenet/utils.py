"""Utilities as in `keras.utils`: `to_categorical` (the blog's `one_hot_encoding`), `set_random_seed`,
`normalize` (L2), `plot_model`."""

from __future__ import annotations

import numbers

import numpy as np

from .model_plot import model_to_dot, plot_model  # noqa: F401 - Keras: keras.utils.plot_model
from .seeding import set_random_seed  # noqa: F401 - Keras: keras.utils.set_random_seed
from .py_dataset import PyDataset  # noqa: F401 - Keras: keras.utils.PyDataset
from .text import Tokenizer, pad_sequences  # noqa: F401 - Keras: keras.utils.pad_sequences (issue 13)


def to_categorical(y, num_classes: int | None = None, dtype="float32") -> np.ndarray:
    """One-hot encode integer class labels `0 .. num_classes - 1`.

    Args:
        y: Integer labels, any shape; the one-hot axis is appended last
            (a trailing axis of size 1 is dropped first, as Keras does).
        num_classes: Number of classes. Defaults to `max(y) + 1`.
        dtype: Output dtype. Defaults to "float32".
    """
    y = np.asarray(y)
    if y.size == 0:
        raise ValueError("`y` must not be empty.")
    if y.dtype.kind not in "biuf" or (y.dtype.kind == "f" and not np.all(np.equal(np.mod(y, 1), 0))):
        raise ValueError(f"`y` must hold integer class labels. Received: dtype {y.dtype}")
    y = y.astype(np.int64)
    if y.ndim > 1 and y.shape[-1] == 1:
        y = y[..., 0]
    if y.min() < 0:
        raise ValueError(f"`y` must hold non-negative class labels. Received: minimum {y.min()}")
    if num_classes is None:
        num_classes = int(y.max()) + 1
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral) or num_classes < 1:
        raise ValueError(f"`num_classes` must be a positive integer. Received: num_classes={num_classes!r}")
    if y.max() >= num_classes:
        raise ValueError(f"`y` holds label {int(y.max())}, which needs num_classes > {int(y.max())}. Received: num_classes={num_classes}")
    encoded = np.zeros((*y.shape, num_classes), dtype)
    np.put_along_axis(encoded, y[..., None], 1, axis=-1)
    return encoded


def one_hot_encoding(lbl, classes: int) -> np.ndarray:
    """The blog's one-hot encoder: column `j` stands for the `j`-th smallest distinct label.

    Raises `ValueError` if the number of distinct labels is not `classes` (as the blog does).
    """
    lbl = np.asarray(lbl).reshape(-1)
    distinct, index = np.unique(lbl, return_inverse=True)
    if len(distinct) != classes:
        raise ValueError(
            f"Number of classes is not equal to unique labels: classes={classes}, "
            f"but lbl has {len(distinct)} distinct values."
        )
    return to_categorical(index, classes)


def normalize(x, axis: int = -1, order: int = 2) -> np.ndarray:
    """Scale `x` to unit `order`-norm along `axis` (Keras's `keras.utils.normalize`; zero vectors
    stay zero). Not the blog's `barenet.normalize` (min-max scaling), which is unchanged.

    Args:
        x: Array to normalize.
        axis: Axis along which to normalize. Defaults to -1.
        order: Norm order (2 for L2). Defaults to 2.
    """
    x = np.asarray(x)
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    return x / np.expand_dims(norm, axis)

