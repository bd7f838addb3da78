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


def per_output_metrics(metrics, names: list, what: str = "metrics") -> list:
    """One list of metric identifiers per output, each checked with `barenet.metrics.get` (so an
    unknown name fails here, listing the valid ones)."""
    from .. import metrics as metrics_module

    if metrics is None:
        groups = [[] for _ in names]
    elif isinstance(metrics, str):
        raise TypeError(f"`{what}` must be a list of metrics. Received: {what}={metrics!r} (wrap it in a list)")
    elif isinstance(metrics, dict):
        unknown = [key for key in metrics if key not in names]
        if unknown:
            raise ValueError(f"`{what}` names unknown outputs {unknown}. Outputs: {names}")
        groups = [as_list(metrics.get(name)) for name in names]
    elif not isinstance(metrics, (list, tuple)):
        raise TypeError(f"`{what}` must be a list of metrics (or a dict by output name). Received: {metrics!r}")
    elif len(names) > 1 and metrics and all(isinstance(m, (list, tuple)) or m is None for m in metrics):
        if len(metrics) != len(names):
            raise ValueError(f"`{what}` must have one list per output ({len(names)}). Received: {len(metrics)}")
        groups = [as_list(m) for m in metrics]
    else:
        groups = [list(metrics) for _ in names]
    for group in groups:
        for item in group:
            metrics_module.get(item)
    return groups


def as_list(value) -> list:
    if value is None:
        return []
    return [value] if isinstance(value, str) or not isinstance(value, (list, tuple)) else list(value)


def metric_names_for_saving(groups: list) -> list:
    """The compiled metrics as names (per output when several), or ValueError for one that has
    no name a new model could be compiled with."""
    from .. import metrics as metrics_module

    def name_of(item):
        if isinstance(item, str):
            return item
        cls = item if isinstance(item, type) else type(item)
        if cls.__name__ in metrics_module.__all__ and (isinstance(item, type) or _is_default(item)):
            return cls.__name__
        raise ValueError(f"The metric {item!r} has no name barenet can compile it from, so it cannot be saved.")

    named = [[name_of(item) for item in group] for group in groups]
    return named[0] if len(named) == 1 else named


def _is_default(metric) -> bool:
    try:
        return type(metric)().get_config() == metric.get_config()
    except TypeError:
        return False
