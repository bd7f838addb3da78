"""Reading `compile()`'s per-output arguments: one value, a list (one per output) or a dict by output name."""

from __future__ import annotations


def per_output(value, names: list, what: str) -> list:
    """A setting given once, as a list (one per output) or as a dict by output name (a
    `{"class_name", "config"}` dict is one setting, a serialized loss)."""
    if isinstance(value, dict) and not _is_config(value, names):
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
    elif isinstance(metrics, dict) and not _is_config(metrics, names):
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


def _is_config(value: dict, names: list) -> bool:
    return "class_name" in value and set(value) <= {"class_name", "config"} and "class_name" not in names


def as_list(value) -> list:
    if value is None:
        return []
    return [value] if isinstance(value, str) or not isinstance(value, (list, tuple)) else list(value)


def metric_names_for_saving(groups: list) -> list:
    """The compiled metrics in a JSON-ready form (names, or `{"class_name", "config"}` for
    configured built-ins), per output when several; ValueError for one that cannot be rebuilt."""
    from .. import metrics as metrics_module

    def saved(item):
        if isinstance(item, str):
            return item
        return metrics_module.serialize(item() if isinstance(item, type) else item)

    named = [[saved(item) for item in group] for group in groups]
    return named[0] if len(named) == 1 else named
