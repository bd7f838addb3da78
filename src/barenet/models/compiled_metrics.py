"""What `compile()` makes of `metrics=` and `weighted_metrics=`: metric objects per output, the
loss trackers, and the running logs of the train and test steps.

As in Keras 3, the logged "loss" is a `Mean` of each batch's total loss weighted by the
batch size, and every metric is stateful: the logs are running values since the last
`model.reset_metrics()` (fit resets them at each epoch start, evaluate at its start).
Metrics in `metrics` ignore sample and class weights; those in `weighted_metrics` use them.
"""

from __future__ import annotations

from .. import metrics as metrics_module
from ..metrics import Mean, Metric


def _objects(group: list, used: set) -> list:
    """Metric objects for one output's list: names make new ones; an object already used (the
    same list applied to several outputs) is cloned, so each output keeps its own state."""
    built = []
    for item in group:
        metric = metrics_module.get(item)
        if id(metric) in used:
            metric = metric.clone()
        used.add(id(metric))
        built.append(metric)
    return built


class CompiledMetrics:
    """The loss trackers and metric objects of a compiled model, and their logs.

    Args:
        output_names: The model's output names.
        metrics: Per output, a list of metric identifiers (names, classes, objects, functions).
        weighted_metrics: Per output, likewise, for the metrics that take sample weights.
        has_loss: Per output, whether it has a loss (only those get an `<output>_loss` log).
    """

    def __init__(self, output_names: list, metrics: list, weighted_metrics: list, has_loss: list):
        self.output_names = list(output_names)
        several = len(output_names) > 1
        self.loss_tracker = Mean(name="loss")
        self.output_loss_trackers = [Mean(name=f"{name}_loss") if several and loss else None
                                     for name, loss in zip(output_names, has_loss)]
        used: set = set()
        self.metrics = [_objects(group, used) for group in metrics]
        self.weighted_metrics = [_objects(group, used) for group in weighted_metrics]
        # Log keys: "<output>_<name>" for several outputs; a weighted metric named like an
        # unweighted one of the same output logs as "weighted_<name>".
        self.keys: list[tuple[str, Metric]] = []
        taken = {"loss", *(t.name for t in self.output_loss_trackers if t is not None)}
        for weighted, table in ((False, self.metrics), (True, self.weighted_metrics)):
            for name, group in zip(self.output_names, table):
                for metric in group:
                    key = f"{name}_{metric.name}" if several else metric.name
                    if key in taken and weighted:
                        key = f"{name}_weighted_{metric.name}" if several else f"weighted_{metric.name}"
                    if key in taken:
                        raise ValueError(f"Two metrics would both be logged as {key!r}; give one a different `name`.")
                    taken.add(key)
                    self.keys.append((key, metric))

    # --- the state -------------------------------------------------------------------------------
    @property
    def all_metrics(self) -> list:
        """Every stateful object in log order: the loss tracker, per-output loss trackers, metrics."""
        trackers = sorted((t for t in self.output_loss_trackers if t is not None), key=lambda t: t.name)
        return [self.loss_tracker, *(metric for _, metric in self.keys), *trackers]

    @property
    def names(self) -> list[str]:
        """Log keys in Keras 3's order: "loss", the compiled metrics, then (several outputs) the
        per-output losses sorted by name."""
        trackers = sorted(t.name for t in self.output_loss_trackers if t is not None)
        return ["loss", *(key for key, _ in self.keys), *trackers]

    def reset(self) -> None:
        for metric in self.all_metrics:
            metric.reset_state()

    def clone(self) -> CompiledMetrics:
        """The same configuration with empty states (for a validation pass that must not touch these)."""
        import copy

        twin = copy.deepcopy(self)
        twin.reset()
        return twin

    # --- one batch -------------------------------------------------------------------------------
    def update(self, ys: list, predictions: list, total_loss: float, output_losses: dict, sample_weights: list,
               batch_size: int, masks: list | None = None) -> None:
        """Add one batch: its total loss (weighted by `batch_size`), per-output losses and metrics.

        `sample_weights` holds one weight array (or None) per output (an output's mask folded in);
        `masks` one mask (or None) per output, which weighs the unweighted metrics, as in Keras 3.
        """
        self.loss_tracker.update_state(total_loss, sample_weight=batch_size)
        for i, tracker in enumerate(self.output_loss_trackers):
            if tracker is not None and i in output_losses:
                tracker.update_state(output_losses[i], sample_weight=batch_size)
        for i, (y, prediction) in enumerate(zip(ys, predictions)):
            mask = None if masks is None else masks[i]
            for metric in self.metrics[i]:
                metric.update_state(y, prediction, sample_weight=mask)
            for metric in self.weighted_metrics[i]:
                metric.update_state(y, prediction, sample_weight=sample_weights[i])

    def logs(self) -> dict:
        """The running values, keyed in `names` order."""
        return {name: metric.result() for name, metric in zip(self.names, self.all_metrics)}
