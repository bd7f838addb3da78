"""`compile()` (Keras 3's arguments and defaults), the compiled metrics and `reset_metrics`."""

from __future__ import annotations

import numbers

from .. import losses, optimizers
from .compile_args import per_output, per_output_metrics
from .compiled_metrics import CompiledMetrics


class Compiling:
    """The compile half of the Keras training API (mixed into `Model` through `Trainer`)."""

    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None, weighted_metrics=None,
                **kwargs) -> None:
        """Configure training (Keras 3's spelling and defaults).

        Args:
            optimizer: An `Optimizer` or a name from `barenet.optimizers.OPTIMIZERS`. Defaults to "rmsprop".
            loss: A `Loss`, a loss name from `barenet.losses.LOSSES`, or a function
                `loss(y_true, y_pred)` written with `barenet.ops`; for several outputs, a list
                (one per output) or a dict by output name. Defaults to None (then the model's
                `add_loss` terms must provide the loss).
            loss_weights: Weights of the outputs' losses in the total (list or dict). Defaults to 1 each.
            metrics: Metrics (names, `Metric` classes or objects, functions `f(y_true, y_pred)`);
                for several outputs, a list applied to each, a list of lists, or a dict by output
                name. They ignore sample and class weights. Defaults to none.
            weighted_metrics: Like `metrics`, but weighted by `sample_weight` / `class_weight`.
            **kwargs: Keras's `run_eagerly`, `steps_per_execution`, `jit_compile` and
                `auto_scale_loss` are accepted and have no effect (barenet always runs eagerly,
                one step at a time).

        For barenet's earlier positional order `compile(optimizer, loss, metrics)`, a third
        argument that holds metrics rather than numbers, or nothing (`[]`), is read as `metrics`.
        """
        unknown = set(kwargs) - {"run_eagerly", "steps_per_execution", "jit_compile", "auto_scale_loss"}
        if unknown:
            raise TypeError(f"compile() got unexpected arguments: {', '.join(sorted(unknown))}")
        self._check_has_layers("compiling")
        if metrics is None and loss_weights is not None and not _holds_numbers(loss_weights):
            metrics, loss_weights = loss_weights, None
        names = self.output_names
        optimizer = optimizers.get(optimizer)
        per_output_loss = [self._resolve_loss(item) for item in per_output(loss, names, "loss")]
        metrics_per_output = per_output_metrics(metrics, names)
        weighted_per_output = per_output_metrics(weighted_metrics, names, "weighted_metrics")
        weights = [1.0] * len(names) if loss_weights is None else per_output(loss_weights, names, "loss_weights")
        if len(weights) != len(names):
            raise ValueError(f"`loss_weights` must hold one weight per output ({len(names)}: {names}). "
                             f"Received: loss_weights={loss_weights!r}")
        for weight in weights:
            if isinstance(weight, bool) or not isinstance(weight, numbers.Real):
                raise TypeError(f"`loss_weights` must hold numbers. Received: {loss_weights!r}")
        state = CompiledMetrics(names, metrics_per_output, weighted_per_output, [lo is not None for lo in per_output_loss])
        self.optimizer, self.loss = optimizer, per_output_loss[0] if len(names) == 1 else per_output_loss
        self.compiled_loss, self._compile_metrics = per_output_loss, state
        self._metric_specs = (metrics_per_output, weighted_per_output)
        self.loss_weights_list = [float(w) for w in weights]

    @property
    def metrics(self) -> list:
        """The stateful objects behind the logs, in `metrics_names` order: the "loss" tracker,
        the compiled metrics, then the per-output loss trackers (several outputs).

        Keras 3 lists `[loss_tracker, compile_metrics]` (one object gathering the compiled
        metrics); barenet lists each metric itself."""
        state = self.__dict__.get("_compile_metrics")
        return [] if state is None else state.all_metrics

    @property
    def metrics_names(self) -> list[str]:
        """The log names, in the order `evaluate`, `test_on_batch` and `train_on_batch` return
        values: "loss", the compiled metrics, then (several outputs) the per-output losses,
        sorted. Keras 3 gives `["loss", "compile_metrics"]` here and flattens the same way when
        returning values; barenet gives the names the returned lists are in."""
        state = self.__dict__.get("_compile_metrics")
        return [] if state is None else state.names

    def reset_metrics(self) -> None:
        """Reset the loss trackers and every compiled metric (fit does it at each epoch start,
        evaluate at its start)."""
        state = self.__dict__.get("_compile_metrics")
        if state is not None:
            state.reset()

    def _resolve_loss(self, loss):
        return None if loss is None else losses.get(loss)

    @property
    def compiled(self) -> bool:
        return self.optimizer is not None and bool(self.compiled_loss)

    def _check_compiled(self, method: str) -> None:
        if not self.compiled:
            raise RuntimeError(f"Call compile_model() or compile() before {method}().")


def _holds_numbers(value) -> bool:
    """Whether `value` is loss weights: a number, or a non-empty list, tuple or dict of numbers."""
    items = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else [value]
    items = list(items)
    return bool(items) and all(isinstance(item, numbers.Real) and not isinstance(item, bool) for item in items)
