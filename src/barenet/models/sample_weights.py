"""Checking `sample_weight` and turning `class_weight` into sample weights (fit, evaluate, *_on_batch).

A sample weight multiplies a sample's loss (Keras 3: the batch loss is `sum(w * loss) /
batch_size`) and its weight in `weighted_metrics`. `class_weight` maps a class index to a
weight; each sample gets the weight of its class (integer label, arg-max of a one-hot row,
or the rounded value of a single output column), 1.0 for classes the dict leaves out.
"""

from __future__ import annotations

import numbers

import numpy as np


def _one(sample_weight, n: int, name: str) -> np.ndarray:
    weight = np.asarray(sample_weight)
    if weight.dtype == object or weight.dtype.kind not in "biuf":
        raise TypeError(f"`{name}` must be numbers, one per sample. Received: dtype {weight.dtype}")
    if weight.ndim == 2 and weight.shape[1] == 1:
        weight = weight[:, 0]
    if weight.ndim != 1 or len(weight) != n:
        raise ValueError(f"`{name}` must hold one weight per sample: shape ({n},). Received: shape {weight.shape}")
    weight = weight.astype(np.float64)
    if not np.all(np.isfinite(weight)):
        raise ValueError(f"`{name}` must be finite. Received: {int((~np.isfinite(weight)).sum())} NaN or infinite values")
    if np.any(weight < 0):
        raise ValueError(f"`{name}` must not be negative. Received: minimum {weight.min()}")
    return weight


def check_sample_weight(sample_weight, n: int, output_names: list, name: str = "sample_weight"):
    """None, one `(n,)` float64 array, or (several outputs) a list with one array or None per output.

    Accepts an array, a list per output or a dict by output name; raises for a wrong length,
    negative or non-finite weights, naming the argument.
    """
    if sample_weight is None:
        return None
    if isinstance(sample_weight, dict):
        unknown = [key for key in sample_weight if key not in output_names]
        if unknown:
            raise ValueError(f"`{name}` names unknown outputs {unknown}. Outputs: {output_names}")
        sample_weight = [sample_weight.get(out) for out in output_names]
    if isinstance(sample_weight, (list, tuple)) and len(output_names) > 1 and len(sample_weight) == len(output_names) \
            and all(w is None or np.ndim(w) >= 1 for w in sample_weight):
        return [None if w is None else _one(w, n, f"{name}[{out!r}]") for w, out in zip(sample_weight, output_names)]
    return _one(sample_weight, n, name)


def class_weight_to_sample_weight(y: np.ndarray, class_weight: dict, classes: int | None = None) -> np.ndarray:
    """Per-sample weights from `class_weight` (`{class index: weight}`) and the targets `y` of one output.

    Args:
        y: Integer labels `(n,)`/`(n, 1)`, one-hot rows `(n, classes)`, or 0/1 values `(n, 1)`.
        class_weight: Weight per class index; classes left out weigh 1.0.
        classes: How many classes the output has, when known (a key outside `[0, classes)` is an error).
    """
    if not isinstance(class_weight, dict):
        raise TypeError(f"`class_weight` must be a dict {{class index: weight}}. Received: {type(class_weight).__name__}")
    for key, value in class_weight.items():
        if isinstance(key, bool) or not isinstance(key, (numbers.Integral, np.integer)) or key < 0:
            raise ValueError(f"`class_weight` keys must be class indices (integers >= 0). Received: key {key!r}")
        if classes is not None and key >= classes:
            raise ValueError(f"`class_weight` has class {key}, but the output has {classes} classes "
                             f"(indices 0..{classes - 1}).")
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value) or value < 0:
            raise ValueError(f"`class_weight` values must be non-negative numbers. Received: {key}: {value!r}")
    y = np.asarray(y)
    if y.ndim > 1 and y.shape[-1] > 1:
        labels = np.argmax(y.reshape(len(y), -1), axis=-1)
    else:
        labels = np.round(y.reshape(len(y))).astype(np.intp)
    table = np.ones(max(int(labels.max(initial=0)), max(class_weight, default=0)) + 1)
    for key, value in class_weight.items():
        table[key] = value
    if labels.min(initial=0) < 0:
        raise ValueError(f"`class_weight` needs class labels >= 0. Received: minimum label {labels.min()}")
    return table[labels]
