"""`sample_weight` for models with several outputs: one array, a list per output or a dict by name.

Each array is checked by `data_adapters.check_sample_weight` (one finite, non-negative
weight per sample). A sample weight multiplies its sample's loss (Keras 3: the batch loss
is `sum(w * loss) / batch_size`) and its weight in `weighted_metrics`.
"""

from __future__ import annotations

import numpy as np

from ..data_adapters import check_sample_weight as check_one


def check_sample_weight(sample_weight, n: int, output_names: list, name: str = "sample_weight"):
    """None, one checked array, or (several outputs) a list with one checked array or None per output."""
    if sample_weight is None:
        return None
    if isinstance(sample_weight, dict):
        unknown = [key for key in sample_weight if key not in output_names]
        if unknown:
            raise ValueError(f"`{name}` names unknown outputs {unknown}. Outputs: {output_names}")
        sample_weight = [sample_weight.get(out) for out in output_names]
    if isinstance(sample_weight, (list, tuple)) and len(output_names) > 1 and len(sample_weight) == len(output_names) \
            and all(w is None or np.ndim(w) >= 1 for w in sample_weight):
        return [None if w is None else check_one(w, n, f"{name}[{out!r}]") for w, out in zip(sample_weight, output_names)]
    return check_one(sample_weight, n, name)
