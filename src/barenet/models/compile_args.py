"""Reading `compile()`'s per-output arguments: one value, a list (one per output) or a dict by output name."""

from __future__ import annotations


def per_output(value, names: list, what: str) -> list:
    """A setting given once, as a list (one per output) or as a dict by output name."""
    if isinstance(value, dict):
        unknown = [key for key in value if key not in names]
        if unknown:
            raise ValueError(f"`{what}` names unknown outputs {unknown}. Outputs: {names}")
        return [value.get(name) for name in names]
    if isinstance(value, (list, tuple)) and len(names) > 1:
        if len(value) != len(names):
            raise ValueError(f"`{what}` must have one entry per output ({len(names)}: {names}). Received: {len(value)}")
        return list(value)
    if isinstance(value, (list, tuple)) and what == "loss_weights":
        return list(value)
    return [value] * len(names)


def per_output_metrics(metrics, names: list) -> list:
    if metrics is None:
        return [[] for _ in names]
    if isinstance(metrics, str):
        raise TypeError(f"`metrics` must be a list of metric names. Received: {metrics!r} (wrap it in a list)")
    if isinstance(metrics, dict):
        unknown = [key for key in metrics if key not in names]
        if unknown:
            raise ValueError(f"`metrics` names unknown outputs {unknown}. Outputs: {names}")
        return [as_list(metrics.get(name)) for name in names]
    metrics = list(metrics)
    if len(names) > 1 and metrics and all(isinstance(m, (list, tuple)) or m is None for m in metrics):
        if len(metrics) != len(names):
            raise ValueError(f"`metrics` must have one list per output ({len(names)}). Received: {len(metrics)}")
        return [as_list(m) for m in metrics]
    return [list(metrics) for _ in names]


def as_list(value) -> list:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)
