"""`class_weight` ({class index: weight}) turned into per-sample weights."""

from __future__ import annotations

import numbers

import numpy as np


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
