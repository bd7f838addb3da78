"""The loops of `fit`, `evaluate` and `predict`: batches from `data_adapters`, steps from
`training`, hooks from `callbacks`, in Keras 3's order.

    fit:       on_train_begin
                 on_epoch_begin(epoch)                                  epoch = initial_epoch .. epochs-1
                   on_train_batch_begin(step), step, on_train_batch_end(step, running logs)
                   [validation, every `validation_freq` epochs: the evaluate loop below]
                 on_epoch_end(epoch, logs + val_ logs)
               on_train_end(last epoch's logs)
    evaluate:  on_test_begin, (on_test_batch_begin, step, on_test_batch_end)*, on_test_end(logs)
    predict:   on_predict_begin, (on_predict_batch_begin, forward, on_predict_batch_end({"outputs"}))*,
               on_predict_end

`model.stop_training = True` (from a callback) ends `fit` once the current epoch is finished
(its validation and `on_epoch_end` run, as in Keras). barenet's own stops are immediate and
leave the unfinished epoch unrecorded: a step whose loss or gradient is not finite (skipped,
so the weights are the last good ones), and Ctrl-C (at the end of the running batch).
"""

from __future__ import annotations

import sys

import numpy as np

from . import fast, training
from .autodiff import no_grad
from .callbacks import CallbackList, History, interrupt_at_batch_boundary


@fast.session()
def fit_loop(model, data, epochs: int, initial_epoch: int = 0, validation=None, validation_freq=1,
             callbacks=(), verbose: int = 1) -> History:
    """Train on `data` (an `EpochIterator`) from `initial_epoch` to `epochs`; returns the model's new History.

    `validation` is an `EpochIterator` (or None) run every `validation_freq` epochs (an
    integer: every n-th epoch, counting from 1; or a list of epochs, from 1).
    """
    from .progress import progress_logger

    model.stop_training = False
    params = {"verbose": verbose, "epochs": epochs, "steps": data.num_steps}
    hooks = CallbackList(callbacks, model, params, add_history=True, progress=progress_logger(verbose, "fit"))
    history = model.history
    history.stop_reason = None
    hooks.on_train_begin()
    initial_epoch = model.__dict__.pop("_initial_epoch", None) or initial_epoch  # set by BackupAndRestore
    training_logs = None
    with interrupt_at_batch_boundary() as interrupt:
        epoch = initial_epoch
        try:
            for epoch in range(initial_epoch, epochs):
                logs = _run_epoch(model, data, hooks, interrupt, epoch)
                if logs is None:  # stopped inside the epoch: not recorded
                    break
                if validation is not None and _should_validate(epoch, validation_freq):
                    val_logs = evaluate_loop(model, validation, hooks)
                    logs.update({f"val_{key}": value for key, value in val_logs.items()})
                model.on_epoch_logs(epoch, logs)
                hooks.on_epoch_end(epoch, logs)
                training_logs = logs
                if model.stop_training or data.ran_out:
                    break
        except KeyboardInterrupt:  # a second Ctrl-C, or one raised by a callback
            stop(model, f"Training interrupted (Ctrl-C) in epoch {epoch + 1}; the model and its history "
                        "are kept, the unfinished epoch is not recorded.")
    hooks.on_train_end(training_logs)
    return history


def _should_validate(epoch: int, validation_freq) -> bool:
    if isinstance(validation_freq, int):
        return (epoch + 1) % validation_freq == 0
    return epoch + 1 in validation_freq


def _run_epoch(model, data, hooks, interrupt, epoch: int) -> dict | None:
    """One epoch; its logs, or None when training stopped inside it (a non-finite step, Ctrl-C)."""
    running = training.EpochLogs(model)
    logs: dict = {}
    hooks.on_epoch_begin(epoch)
    data.on_epoch_begin()
    # Batch hooks that no callback implements are left out, and so are the logs they would get:
    # the step's logs are running values, so the last step's are the epoch's.
    batch_begin, batch_end = hooks.implements("on_train_batch_begin"), hooks.implements("on_train_batch_end")
    step, result = -1, None
    for step, (xs, ys, sample_weight) in data.steps():
        if batch_begin:
            hooks.on_train_batch_begin(step)
        result = model.train_step_arrays(xs, ys, sample_weight)
        if result.skipped:
            stop(model, f"Training stopped in epoch {epoch + 1}, batch {step + 1}: {result.skipped}. That "
                        "batch's update was skipped, so the weights are the last good ones. Try a lower "
                        "learning rate, or check the data for extreme values.")
            return None
        if batch_end:
            logs = running.add(result.logs, len(xs[0]))
            hooks.on_train_batch_end(step, dict(logs))
        if interrupt is not None and interrupt["hit"]:
            stop(model, f"Training interrupted (Ctrl-C) after batch {step + 1} of epoch {epoch + 1}; the "
                        "model and its history are kept, the unfinished epoch is not recorded.")
            return None
        if model.stop_training:
            break
    if result is not None and not batch_end:
        logs = running.add(result.logs, len(xs[0]))
    data.on_epoch_end()
    if step < 0 and data.ran_out:  # the data ended at the epoch boundary: nothing to record
        model.history.stop_reason = f"The input ran out of data before epoch {epoch + 1}."
        return None
    return dict(logs)


@fast.session()
def evaluate_loop(model, data, hooks) -> dict:
    """Loss and metrics over one pass of `data` (an `EpochIterator`), with the `on_test_*` hooks."""
    running = training.EpochLogs(model)
    logs: dict = {}
    hooks.on_test_begin()
    data.on_epoch_begin()
    for step, (xs, ys, sample_weight) in data.steps():
        hooks.on_test_batch_begin(step)
        logs = running.add(model.test_step_arrays(xs, ys, sample_weight), len(xs[0]))
        hooks.on_test_batch_end(step, dict(logs))
    data.on_epoch_end()
    if not logs:
        raise ValueError("The evaluation data yielded no batches.")
    hooks.on_test_end(dict(logs))
    return logs


@fast.session()
def predict_loop(model, data, hooks) -> list:
    """The model's outputs over one pass of `data` (one array per output), with the `on_predict_*` hooks."""
    parts = []
    hooks.on_predict_begin()
    data.on_epoch_begin()
    for step, (xs, _, _) in data.steps():
        hooks.on_predict_batch_begin(step)
        with no_grad():
            outputs = [out.value for out in model.run_graph(xs, training=False)]
        parts.append(outputs)
        hooks.on_predict_batch_end(step, {"outputs": model.pack_outputs(outputs)})
    data.on_epoch_end()
    if not parts:
        raise ValueError("The prediction data yielded no batches.")
    hooks.on_predict_end()
    return [column[0] if len(column) == 1 else np.concatenate(column) for column in zip(*parts)]


def stop(model, reason: str) -> None:
    model.stop_training = True
    model.history.stop_reason = reason
    print(reason, file=sys.stderr, flush=True)
