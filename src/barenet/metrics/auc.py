"""`AUC`: area under the ROC or precision-recall curve, from confusion counts at fixed thresholds.

The thresholds are `num_thresholds` points: `-1e-7`, `i / (num_thresholds - 1)` for
`i = 1 .. num_thresholds - 2`, and `1 + 1e-7` (Keras's), so predictions in [0, 1] fall
between the first and last. The state is the weighted tp/fp/tn/fn count per threshold:
a histogram of the scores, additive over batches and shards, so the epoch's AUC is the
area of the curve through every example seen (not a mean of batch AUCs).

The area is a Riemann sum over consecutive thresholds. `summation_method`:
"interpolation" uses trapezoids for ROC, and for PR the interpolation of Davis &
Goadrich (2006): between two thresholds precision is integrated along the straight
line in (tp, tp + fp), not between the two precision values; "minoring" and "majoring"
use the lower and upper of the two heights.
"""

from __future__ import annotations

import numpy as np

from .base import EPSILON, Metric, as_array, broadcast_weight
from .confusion import confusion_counts, divide_no_nan


class AUC(Metric):
    """Area under the ROC curve (or the precision-recall curve) of binary scores.

    Args:
        num_thresholds: How many thresholds discretise the curve (> 1). Defaults to 200.
        curve: "ROC" or "PR". Defaults to "ROC".
        summation_method: "interpolation", "minoring" or "majoring" (see the module
            docstring). Defaults to "interpolation".
        name: Name in logs. Defaults to "auc".
        dtype: Dtype of the result.
        thresholds: Explicit thresholds in [0, 1] (then `num_thresholds` is their count
            plus the two end points). Defaults to None.
        from_logits: Whether the scores are logits (a sigmoid is applied first). Defaults to False.

    Keras's `multi_label`, `num_labels` and `label_weights` are not supported: every entry of
    a multi-column output counts as one binary score (Keras's `multi_label=False`).
    """

    def __init__(self, num_thresholds: int = 200, curve: str = "ROC", summation_method: str = "interpolation",
                 name: str | None = None, dtype=None, thresholds=None, from_logits: bool = False):
        super().__init__(name or "auc", dtype)
        if str(curve).upper() not in ("ROC", "PR"):
            raise ValueError(f"`curve` must be 'ROC' or 'PR'. Received: curve={curve!r}")
        if summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError("`summation_method` must be 'interpolation', 'minoring' or 'majoring'. "
                             f"Received: summation_method={summation_method!r}")
        if thresholds is not None:
            inner = np.sort(np.asarray(thresholds, np.float64).reshape(-1))
            if inner.size == 0 or inner.min() < 0 or inner.max() > 1:
                raise ValueError(f"`thresholds` must be numbers in [0, 1]. Received: thresholds={thresholds!r}")
            num_thresholds = inner.size + 2
        else:
            if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, (int, np.integer)) \
                    or num_thresholds <= 1:
                raise ValueError(f"`num_thresholds` must be an integer > 1. Received: num_thresholds={num_thresholds!r}")
            inner = np.arange(1, num_thresholds - 1, dtype=np.float64) / (num_thresholds - 1)
        self.num_thresholds = int(num_thresholds)
        self.curve, self.summation_method = str(curve).upper(), summation_method
        self.from_logits = bool(from_logits)
        self._init_thresholds = None if thresholds is None else [float(t) for t in np.reshape(thresholds, -1)]
        self.thresholds = np.concatenate([[0.0 - EPSILON], inner, [1.0 + EPSILON]])
        n = self.num_thresholds
        self.true_positives, self.false_positives = self.add_variable(n), self.add_variable(n)
        self.true_negatives, self.false_negatives = self.add_variable(n), self.add_variable(n)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_pred = as_array(y_pred).astype(np.float64)
        if self.from_logits:
            y_pred = np.exp(-np.logaddexp(0, -y_pred))
        y_true = as_array(y_true)
        if y_true.size != y_pred.size and y_pred.ndim >= 2 and y_true.size * y_pred.shape[-1] == y_pred.size:
            y_true = np.eye(y_pred.shape[-1])[y_true.reshape(y_pred.shape[:-1]).astype(np.intp)]  # labels -> one-hot
        if y_true.size != y_pred.size:
            raise ValueError(f"AUC needs one label per score. Received: y_true {y_true.shape}, y_pred {y_pred.shape}")
        weight = None if sample_weight is None else broadcast_weight(sample_weight, y_pred.shape)
        counts = confusion_counts(y_true.reshape(y_pred.shape), y_pred, self.thresholds, weight)
        for variable, count in zip(self._variables, counts):
            variable += count

    def result(self) -> float:
        tp, fp, tn, fn = self.true_positives, self.false_positives, self.true_negatives, self.false_negatives
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._scalar(_interpolated_pr_auc(tp, fp, fn))
        if self.curve == "ROC":
            x, y = divide_no_nan(fp, fp + tn), divide_no_nan(tp, tp + fn)  # false and true positive rates
        else:
            x, y = divide_no_nan(tp, tp + fn), divide_no_nan(tp, tp + fp)  # recall, precision
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return self._scalar(np.sum((x[:-1] - x[1:]) * heights))

    def get_config(self) -> dict:
        return {**super().get_config(), "num_thresholds": self.num_thresholds, "curve": self.curve,
                "summation_method": self.summation_method, "thresholds": self._init_thresholds,
                "from_logits": self.from_logits}


def _interpolated_pr_auc(tp, fp, fn) -> float:
    """PR-AUC with precision interpolated between thresholds (Davis & Goadrich).

    Between thresholds i and i+1, tp changes linearly with the number predicted positive
    `p = tp + fp`: `tp = slope * p + intercept`. Precision `tp / p` integrated over recall
    `tp / (tp + fn)` along that line gives `slope * (dtp + intercept * log(p_i / p_{i+1}))`,
    divided by the number of positives.
    """
    dtp = tp[:-1] - tp[1:]
    p = tp + fp
    dp = p[:-1] - p[1:]
    slope = divide_no_nan(dtp, np.maximum(dp, 0))
    intercept = tp[1:] - slope * p[1:]
    both = (p[:-1] > 0) & (p[1:] > 0)
    ratio = np.where(both, divide_no_nan(p[:-1], np.maximum(p[1:], 0)), 1.0)
    log_ratio = np.log(np.where(ratio > 0, ratio, 1.0))
    return float(np.sum(divide_no_nan(slope * (dtp + intercept * log_ratio), np.maximum(tp[1:] + fn[1:], 0))))
