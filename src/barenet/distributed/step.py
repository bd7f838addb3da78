"""One data-parallel training step: this process's share of the global batch, its forward and
backward pass, then ONE allreduce of a flat, preallocated buffer holding

    [ every trainable gradient * local rows | every log value * local rows
      | this step's change of every stateful metric's additive state | 4 flags ]

then divides by the summed row count: the global batch's mean gradient and mean logs, exactly as
one process would compute them on the whole batch (losses and metrics that are batch means).
Shares may differ in size (a last, short batch; per-process data of unequal length). The
flags (this step was skipped / raised / was interrupted, and the local row count) let every
process take the same decision after the same collective: skip the update, raise the failing
process's error, or stop at this batch boundary.

Stateful metrics (objects with additive `variables`: running sums and counts) are reduced by
their change in this step: every process then holds the global running state, and the logs
computed from it (`model._compile_metrics.logs()`) are the same, exact epoch values.
"""

from __future__ import annotations

import numpy as np

from ..layers.context import CONTEXT

FLAGS = 4  # skipped, raised, interrupted, rows


class DistributedStepError(RuntimeError):
    """A training step raised on some process; every process raises this, naming that process and
    the error, after the same collective (so none is left waiting)."""


def trainable_arrays(model) -> dict:
    """`{"layer/weight": array}` of every trainable weight, in the model's order (the same order
    `training.collect_gradients` uses, without asking which got a gradient in a given pass)."""
    arrays = {}
    for prefix, layer in model.weight_layers(with_prefix=True):
        if not layer.trainable or not layer.params:
            continue
        if layer.is_hand_written:
            arrays.update({prefix + key: value for key, value in layer.params.items()})
            continue
        for key, variable in layer.__dict__.get("_variables", {}).items():
            if variable.trainable:
                arrays[prefix + key] = variable.value
    return arrays


def local_rows(global_rows: int, rank: int, size: int) -> slice:
    """This process's contiguous share of a global batch: sizes differ by at most one row."""
    base, extra = divmod(global_rows, size)
    start = rank * base + min(rank, extra)
    return slice(start, start + base + (rank < extra))


def metric_variables(model) -> list:
    """The additive state arrays of the model's stateful metrics (none for metrics given by name)."""
    return [variable for metric in getattr(model, "metrics", None) or [] if not isinstance(metric, str)
            for variable in getattr(metric, "variables", None) or []]


class GradientAllReducer:
    """The layout of the flat buffer, built on the first step and reused for every later one."""

    def __init__(self, communicator, model):
        self.communicator, self.model = communicator, model
        self.params = trainable_arrays(model)
        self.layout, offset = {}, 0
        for key, value in self.params.items():
            self.layout[key] = (offset, offset + value.size, value.shape)
            offset += value.size
        self.gradient_size = offset
        dtypes = {value.dtype for value in self.params.values()} or {np.dtype(model.dtype)}
        self.dtype = np.result_type(*dtypes)
        self.log_keys: list | None = None
        self.buffer: np.ndarray | None = None
        self.updated_keys = list(self.params)
        self.interrupt_seen = False  # some process got Ctrl-C before the last step: all stop after it

    def _agree_on_log_keys(self, logs) -> None:
        """On the first step, every process learns the log names (a process with no rows has none)."""
        everyone = self.communicator.gather_objects(None if logs is None else list(logs))
        known = [keys for keys in everyone if keys is not None]
        self.log_keys = known[0] if known else ["loss"]
        self.metric_size = sum(variable.size for variable in metric_variables(self.model))
        self.buffer = np.zeros(self.gradient_size + len(self.log_keys) + self.metric_size + FLAGS, self.dtype)

    def step(self, model, xs, ys, forward_backward, interrupted: bool, local_batch: bool = False,
             sample_weight=None):
        """`(StepResult, params, grads)` of the global batch, the same on every process: `(xs, ys)`
        (and `sample_weight`: None, an array, or a list per output) is the global batch (this process
        takes its share), or with `local_batch` this process's own."""
        from ..training import StepResult

        communicator = self.communicator
        share = None
        if not local_batch:
            rows = local_rows(len(xs[0]), communicator.rank, communicator.size)
            share = (rows, len(xs[0]))  # Dropout draws the global batch's mask and keeps these rows
            xs, ys = [x[rows] for x in xs], [y[rows] for y in ys]
            if isinstance(sample_weight, (list, tuple)):
                sample_weight = [None if w is None else w[rows] for w in sample_weight]
            elif sample_weight is not None:
                sample_weight = sample_weight[rows]
        local = len(xs[0])
        result, grads, error = None, {}, None
        variables = metric_variables(model)
        metrics_before = [variable.copy() for variable in variables]
        if local:
            saved_share, CONTEXT.replica_rows = CONTEXT.replica_rows, share
            try:
                if sample_weight is None:
                    result, _, grads = forward_backward(model, xs, ys)
                else:
                    result, _, grads = forward_backward(model, xs, ys, sample_weight)
            except Exception as exc:  # noqa: BLE001 - reported to every process below, after the collective
                error = exc
            finally:
                CONTEXT.replica_rows = saved_share
        if self.log_keys is None:
            self._agree_on_log_keys(None if result is None else result.logs)
        buffer, scale = self.buffer, local
        gradients = buffer[:self.gradient_size]
        if result is None or error is not None or result.skipped:
            buffer[:] = 0
        else:
            for key, (start, stop, _) in self.layout.items():
                grad = grads.get(key)
                if grad is None:
                    gradients[start:stop] = 0
                else:
                    np.multiply(np.ravel(grad), scale, out=gradients[start:stop], casting="unsafe")
            logs = buffer[self.gradient_size:self.gradient_size + len(self.log_keys)]
            logs[:] = [result.logs.get(key, 0.0) * scale for key in self.log_keys]
        if variables:  # this process's additions to the metrics' sums and counts (zero if it had no rows)
            self._pack_metric_changes(variables, metrics_before, result is None or error is not None)
        skipped = result is not None and result.skipped is not None
        buffer[-FLAGS:] = (skipped, error is not None, interrupted, local)
        communicator.sum_in_place(buffer)
        flags = buffer[-FLAGS:]
        means = buffer[:self.gradient_size + len(self.log_keys)]
        means /= max(flags[3], 1)  # sums of rows' contributions -> means over the global batch
        if variables:  # every process now holds the global running state of each metric
            self._unpack_metric_changes(variables, metrics_before)
        self.interrupt_seen = bool(flags[2])
        if flags[1]:
            self._raise_everywhere(error)
        logs = {key: float(value) for key, value in zip(self.log_keys, means[self.gradient_size:])}
        if variables and hasattr(model, "_compile_metrics"):  # running logs from the reduced metric state
            logs = model._compile_metrics.logs()
        if flags[0]:
            reason = self._skip_reason(result)
            if result is not None and not skipped:  # put back what this process's forward pass moved
                for value, before in result.saved_state or []:
                    value[...] = before
            return StepResult(logs, reason), {}, {}
        if result is not None and grads:
            self.updated_keys = [key for key in self.layout if key in grads]
        keys = self.updated_keys
        grads = {key: gradients[self.layout[key][0]:self.layout[key][1]].reshape(self.layout[key][2]) for key in keys}
        params = {key: self.params[key] for key in keys}
        saved = [] if result is None else result.saved_state
        return StepResult(logs, saved_state=saved), params, grads

    def _pack_metric_changes(self, variables, before, nothing: bool) -> None:
        section = self.buffer[self.gradient_size + len(self.log_keys):-FLAGS]
        offset = 0
        for variable, old in zip(variables, before):
            part = section[offset:offset + variable.size]
            if nothing:
                part[:] = 0
            else:
                np.subtract(variable.ravel(), old.ravel(), out=part, casting="unsafe")
            offset += variable.size

    def _unpack_metric_changes(self, variables, before) -> None:
        section = self.buffer[self.gradient_size + len(self.log_keys):-FLAGS]
        offset = 0
        for variable, old in zip(variables, before):
            variable[...] = old + section[offset:offset + variable.size].reshape(variable.shape)
            offset += variable.size

    def _raise_everywhere(self, error) -> None:
        messages = self.communicator.gather_objects(None if error is None else f"{type(error).__name__}: {error}")
        rank = next(i for i, message in enumerate(messages) if message is not None)
        text = (f"process {rank} of {self.communicator.size} raised in a training step: {messages[rank]}; "
                "every process stopped at this step.")
        if error is not None:
            raise DistributedStepError(text) from error
        raise DistributedStepError(text)

    def _skip_reason(self, result) -> str:
        reasons = self.communicator.gather_objects(None if result is None else result.skipped)
        rank = next(i for i, reason in enumerate(reasons) if reason is not None)
        return f"{reasons[rank]} (on process {rank})" if self.communicator.size > 1 else reasons[rank]
