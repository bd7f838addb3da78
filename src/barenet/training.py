"""Training: the one train step shared by every kind of model (the epoch loop is in `barenet.loops`).

    train_step:  forward (the model's graph, on engine tensors)
                 -> loss per output (+ weight penalties + add_loss terms)
                 -> backward (hand-derived layers run their own backward inside it)
                 -> optimizer update

A step whose loss or gradient is not finite is skipped (no weight changes; layer state
the forward pass moved, such as BatchNormalization's moving statistics, is put back)
and reported as a `StepResult` with `skipped` set: the loop then stops with a message,
keeping the last good weights.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .autodiff import Tensor, backward, no_grad
from .autodiff import ops as engine_ops
from .autodiff.function import grads_from_pass
from .layers.base import CONTEXT, call_context, trainable_layer_ids
from .optimizers import NonFiniteUpdateError
from .optimizers.base import first_non_finite_sum

PREDICT_CHUNK = 1024


class StepResult:
    """What one training step reports: its logs, and why it was skipped (None if it was not).

    `logs` may be given as the model's `CompiledMetrics` instead of a dict: they are then read
    from it when first asked for (the loop asks only when a callback takes each batch's logs,
    and at the epoch's end), as the running values after this step.
    """

    __slots__ = ("_logs", "skipped", "saved_state")

    def __init__(self, logs, skipped: str | None = None, saved_state: list | None = None):
        self._logs = logs
        self.skipped = skipped
        self.saved_state = saved_state  # layer state before the step, to put back if the update fails

    @property
    def logs(self) -> dict:
        if not isinstance(self._logs, dict):
            self._logs = self._logs.logs()
        return self._logs


# --- one step ----------------------------------------------------------------------------------
def train_step(model, xs: list, ys: list, sample_weight=None) -> StepResult:
    """Forward, loss, backward and update on one batch (inputs `xs`, targets `ys`, one per output).

    `sample_weight`: None, one weight per sample, or a list with one such array (or None) per
    output. The logs are the running values since the last `model.reset_metrics()`.
    """
    replicas = model.__dict__.get("_replicas")  # barenet.distributed's strategy, set during its fit
    if replicas is None:
        result, params, grads = forward_backward(model, xs, ys, sample_weight)
    else:  # issue 14 hook: this process's share of the batch, then ONE allreduce of gradients and logs
        result, params, grads = replicas.forward_backward(model, xs, ys, forward_backward, sample_weight)
    if result.skipped is None:
        try:
            model.optimizer.apply_gradients(params, grads)
        except NonFiniteUpdateError as error:  # the optimizer has put the weights and its slots back
            return _skip(result.saved_state, result.logs, str(error))
    return result


def forward_backward(model, xs: list, ys: list, sample_weight=None, track: bool = True):
    """Forward, loss and backward on one batch, no update: `(StepResult, params, grads)`.

    `grads[key]` is dLoss/d`params[key]` for every trainable weight that took part
    ("layer/weight" keys). When the loss or a gradient is not finite the result is
    marked skipped and the layer state the forward pass moved is put back. With `track`
    the batch enters the model's loss tracker and metrics, whose running values are the
    logs (read when first asked for); without it the logs hold this batch's loss alone.
    """
    owners = model.weight_layers(with_prefix=True)
    builds = CONTEXT.builds
    saved_state = [(value, value.copy()) for _, layer in owners for value in layer.state.values()]
    for _, layer in owners:
        for variable in layer.__dict__.get("_variables", {}).values():
            variable.grad = None
    with call_context(losses=[]) as context:
        outputs = model.run_graph(xs, training=True)
        extra_losses = list(context.losses)
    if CONTEXT.builds != builds:  # layers were built during this call (a subclassed model's first step)
        owners = model.weight_layers(with_prefix=True)
    weights = with_output_masks(per_output_weights(sample_weight, len(outputs)), outputs, model.compiled_loss)
    total_loss, output_losses, roots, seeds = _losses_and_seeds(model, ys, outputs, extra_losses, owners, weights)
    logs = {"loss": total_loss}
    if track:
        model._compile_metrics.update(ys, [out.value for out in outputs], total_loss, output_losses, weights,
                                      len(xs[0]), output_masks(outputs))
        logs = model._compile_metrics  # read when asked for (StepResult.logs)
    if not math.isfinite(total_loss):
        return _skip(saved_state, logs, f"the loss is {total_loss}"), {}, {}
    pass_number = backward(roots, seeds)
    params, grads = collect_gradients(owners, pass_number, trainable_layer_ids(model))
    optimizer = getattr(model, "optimizer", None)
    key = first_non_finite_sum(grads) if optimizer is None else optimizer._first_non_finite_gradient(params, grads)
    if key is not None:
        reason = f"the gradient of {key} is not finite (loss {total_loss:.4g})"
        return _skip(saved_state, logs, reason), params, grads
    return StepResult(logs, saved_state=saved_state), params, grads


def test_step(model, xs: list, ys: list, sample_weight=None) -> dict:
    """Loss and metrics of one batch in inference mode, added to the model's running logs
    (as `train_step`, without gradients or updates); returns the running logs."""
    weights = per_output_weights(sample_weight, len(ys))
    with no_grad(), call_context(losses=[]) as context:
        outputs = model.run_graph(xs, training=False)
        extra_losses = list(context.losses)
    weights = with_output_masks(weights, outputs, model.compiled_loss)
    predictions = [out.value for out in outputs]
    total_loss, output_losses = _loss_values(model, ys, predictions, weights)
    total_loss += sum(float(_reduce_to_scalar(extra).value) for extra in extra_losses)  # add_loss terms, as Keras
    model._compile_metrics.update(ys, predictions, total_loss, output_losses, weights, len(xs[0]),
                                  output_masks(outputs))
    return model._compile_metrics.logs()


def per_output_weights(sample_weight, outputs: int) -> list:
    """One sample-weight array (or None) per output from None, one array, or a list per output."""
    if sample_weight is None:
        return [None] * outputs
    if isinstance(sample_weight, (list, tuple)) and len(sample_weight) == outputs and (
            outputs > 1 or sample_weight[0] is None or np.ndim(sample_weight[0]) >= 1):
        return list(sample_weight)
    return [sample_weight] * outputs


def output_masks(outputs: list) -> list | None:
    """Each output's mask as an array (None where it has none), or None when no output has one."""
    masks = [getattr(out, "_keras_mask", None) for out in outputs]
    if all(mask is None for mask in masks):
        return None
    return [None if mask is None else np.asarray(getattr(mask, "value", mask)) for mask in masks]


def with_output_masks(weights: list, outputs: list, losses: list) -> list:
    """Per-output weights with each output's mask folded in, as Keras 3 does.

    An output that carries a mask (`_keras_mask`, e.g. a sequence after `Embedding(mask_zero=True)`)
    weighs its loss and metrics by it. Padded steps get weight 0. The real ones are scaled by
    all/valid when the loss's reduction is a mean over the batch, so the loss is the mean over
    the real entries. A per-sample weight `(batch,)` is spread over the steps.
    """
    result = []
    for weight, out, loss in zip(weights, outputs, losses):
        mask = getattr(out, "_keras_mask", None)
        if mask is None:
            result.append(weight)
            continue
        mask = np.asarray(getattr(mask, "value", mask), dtype=np.float64)
        if getattr(loss, "reduction", "sum_over_batch_size") in ("sum_over_batch_size", "mean"):
            valid = mask.sum()
            if valid:
                mask = mask * (mask.size / valid)
        if weight is not None:
            weight = np.asarray(weight, dtype=np.float64)
            mask = weight.reshape(weight.shape + (1,) * (mask.ndim - weight.ndim)) * mask
        result.append(mask)
    return result


def _skip(saved_state, logs, reason) -> StepResult:
    for value, before in saved_state:
        value[...] = before
    return StepResult(logs, reason)


def collect_gradients(owners, pass_number: int, trainable_ids: set | None = None):
    """`params` and `grads` dicts (keys "layer/weight") of the trainable weights that got a
    gradient in backward pass `pass_number`; `owners` is `model.weight_layers(with_prefix=True)`.
    `trainable_ids` (from `trainable_layer_ids(model)`) leaves out layers inside a frozen one."""
    params, grads = {}, {}
    for prefix, layer in owners:
        if not layer.trainable or not layer.params or (trainable_ids is not None and id(layer) not in trainable_ids):
            continue
        if layer.is_hand_written:
            if grads_from_pass(layer, pass_number):
                for key, value in layer.params.items():
                    params[prefix + key], grads[prefix + key] = value, layer.grads[key]
            continue
        for key, variable in layer.__dict__.get("_variables", {}).items():
            if variable.trainable and variable.grad is not None:
                grad = variable.grad
                if key in layer.regularizers:
                    grad = grad + layer.regularizers[key].gradient(variable.value)
                params[prefix + key], grads[prefix + key] = variable.value, grad
    return params, grads


def _losses_and_seeds(model, ys, outputs, extra_losses, owners, sample_weights):
    """`(total loss, {output index: its loss}, roots, seeds)` of a training batch: the backward
    pass starts from `roots` with gradients `seeds` (None: the root is a scalar loss tensor)."""
    roots, seeds, output_losses = [], [], {}
    total_loss = 0.0
    fusable = _fusable_outputs(outputs, extra_losses)
    for i, (out, y) in enumerate(zip(outputs, ys)):
        loss, weight, sample_weight = model.compiled_loss[i], model.loss_weights_list[i], sample_weights[i]
        if loss is None:
            continue
        if loss.hand_derived:
            if loss.from_logits:
                _warn_if_probabilities(model, i, out, loss)
            if i in fusable and _fuses_with(out, loss):
                out.vjp = out.vjp.preactivation  # seed dL/dz: the stable softmax/sigmoid + CE gradient
                value, seed = loss.value_and_logits_gradient(y, out.value, sample_weight)
            else:
                value, upstream = loss.training_scale(loss.call(y, out.value), sample_weight)
                seed = loss.call_gradient(y, out.value, upstream).astype(out.dtype, copy=False)
            roots.append(out)
            seeds.append(seed if weight == 1 else seed * out.dtype.type(weight))
        else:  # written with ops (a Loss subclass's `call`, or a function): the engine differentiates it
            loss_tensor = _reduce_to_scalar(loss(Tensor(np.asarray(y)), out, sample_weight=sample_weight))
            value = float(loss_tensor.value)
            roots.append(loss_tensor if weight == 1 else loss_tensor * weight)
            seeds.append(None)
        total_loss += weight * value
        output_losses[i] = value
    for extra in extra_losses:
        extra = _reduce_to_scalar(extra if isinstance(extra, Tensor) else Tensor(np.asarray(extra)))
        total_loss += float(extra.value)
        roots.append(extra)
        seeds.append(None)
    if not roots:
        raise ValueError("No loss to compute: give `loss` to compile() (or add losses with `add_loss` in "
                         "the model's call).")
    total_loss += sum(layer.regularization_loss() for _, layer in owners if layer.regularizers)
    return total_loss, output_losses, roots, seeds


def _warn_if_probabilities(model, index: int, out: Tensor, loss) -> None:
    """Keras's warning for `from_logits=True` on an output that a softmax/sigmoid produced."""
    activation = getattr(getattr(out.source, "activation", None), "name", None)
    if activation in ("softmax", "sigmoid") and not model.__dict__.get("_warned_from_logits"):
        model._warned_from_logits = True
        warnings.warn(f"`{loss.name}` received `from_logits=True`, but output {model.output_names[index]!r} is "
                      f"produced by a {activation} activation and thus does not represent logits. "
                      "Was this intended?", UserWarning, stacklevel=4)


def _fuses_with(out: Tensor, loss) -> bool:
    """Whether `out` is the softmax (sigmoid) output of a hand-derived layer and `loss` the matching
    cross-entropy on probabilities: then the layer's backward takes dL/dz = (p - y) / n directly."""
    activation = getattr(out.source, "activation", None)
    return (loss.fused_activation is not None and not loss.from_logits
            and getattr(loss, "axis", -1) in (-1, out.ndim - 1)
            and getattr(activation, "name", None) == loss.fused_activation
            and hasattr(out.vjp, "preactivation"))


def _fusable_outputs(outputs, extra_losses) -> set:
    """Indices of outputs whose loss is the only path their gradient takes (nothing else that is
    differentiated uses them), so the fused gradient may replace the output's own."""
    if len(outputs) == 1 and not extra_losses:
        return {0}
    others = [t for t in extra_losses if isinstance(t, Tensor)]
    fusable = set()
    for i, out in enumerate(outputs):
        rest = [t for j, t in enumerate(outputs) if j != i] + others
        if not any(t is out for t in rest) and not _reaches(rest, out):
            fusable.add(i)
    return fusable


def _reaches(roots, target) -> bool:
    """Whether `target` is among `roots` or their ancestors."""
    stack, seen = list(roots), set()
    while stack:
        node = stack.pop()
        if node is target:
            return True
        if id(node) not in seen:
            seen.add(id(node))
            stack.extend(node.parents)
    return False


def _reduce_to_scalar(tensor):
    if not isinstance(tensor, Tensor):
        tensor = Tensor(np.asarray(tensor))
    return tensor if tensor.ndim == 0 else engine_ops.mean(tensor)


def _loss_values(model, ys, predictions, sample_weights):
    """`(total loss, {output index: its loss})` of predictions, no gradients (weight penalties included)."""
    output_losses, total_loss = {}, 0.0
    for i, (y, prediction) in enumerate(zip(ys, predictions)):
        loss, weight = model.compiled_loss[i], model.loss_weights_list[i]
        if loss is None:
            continue
        value, _ = loss.training_scale(loss.values(y, prediction), sample_weights[i])
        total_loss += weight * value
        output_losses[i] = value
    total_loss += sum(layer.regularization_loss() for layer in model.weight_layers())
    return total_loss, output_losses


def loss_logs(model, ys, predictions, sample_weight=None) -> dict:
    """Loss (with weight penalties) and metrics of whole predictions, no gradients, computed with
    fresh metric states (the model's running training logs are left alone): fit's validation."""
    state = model._compile_metrics.clone()
    weights = per_output_weights(sample_weight, len(ys))
    total_loss, output_losses = _loss_values(model, ys, predictions, weights)
    state.update(ys, predictions, total_loss, output_losses, weights, len(predictions[0]))
    return state.logs()


def metric_logs(model, ys, predictions, sample_weight=None) -> dict:
    """The compiled metrics alone (no losses) of whole predictions, with fresh states."""
    logs = loss_logs(model, ys, predictions, sample_weight)
    return {key: value for key, value in logs.items() if key != "loss" and not key.endswith("_loss")}


# --- inference ---------------------------------------------------------------------------------
def predict_arrays(model, xs: list, batch_size: int | None) -> list:
    """The model's outputs (a list, one array per output) for inputs `xs`, in chunks."""
    chunk = batch_size or PREDICT_CHUNK
    n = len(xs[0])
    with no_grad():
        if n <= chunk:
            return [out.value for out in model.run_graph(xs, training=False)]
        parts = [[out.value for out in model.run_graph([x[i:i + chunk] for x in xs], training=False)]
                 for i in range(0, n, chunk)]
    return [np.concatenate(column) for column in zip(*parts)]


class EpochLogs:
    """The logs of an epoch (or an evaluation) so far: the step's logs are already running values
    over it (a loss tracker weighted by batch size and stateful metrics), so `start` resets the
    model's metrics and `add` returns the step's logs as they are."""

    def __init__(self, model):
        self.model = model
        self.start()

    def start(self) -> None:
        self.model.reset_metrics()

    def add(self, logs: dict, size: int) -> dict:
        return dict(logs)
