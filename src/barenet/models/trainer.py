"""`fit`, `evaluate`, `predict` and `train_on_batch`: argument checks, then `barenet.training`."""

from __future__ import annotations

import numbers

import numpy as np

from .. import training
from ..callbacks import Callback, History
from ..layers.base import check_positive_int
from .compiling import Compiling
from .sample_weights import check_sample_weight, class_weight_to_sample_weight


class Trainer(Compiling):
    """The Keras training API of `Model` (mixed in; the loop itself is in `barenet.training`)."""

    def fit(self, x, y, epochs: int = 1, batch_size: int = 32, validation_split: float = 0.0,
            validation_data=None, shuffle: bool = True, verbose: int = 1, callbacks=None) -> History:
        """Train for `epochs` passes over `(x, y)` and return a `History` (Keras spelling).

        Args:
            x: Inputs, `(samples, *input_shape)`; for several inputs a list, or a dict by input name.
            y: Targets, `(samples, *output_shape)`, or integer labels for sparse losses; for
                several outputs a list, or a dict by output name.
            epochs: Number of passes over the data. Defaults to 1.
            batch_size: Samples per gradient step. Defaults to 32.
            validation_split: Fraction in [0, 1) of `(x, y)` held out (drawn with the
                model's generator) for validation. Defaults to 0.0.
            validation_data: `(x_val, y_val)`; takes precedence over `validation_split`.
            shuffle: Reshuffle the training samples every epoch. Defaults to True.
            verbose: 0 silent; 1 a live progress bar in a terminal (with `rich`
                installed), one line per epoch elsewhere; 2 one line per epoch. Defaults to 1.
            callbacks: `Callback` objects. Defaults to none.

        Training stops early, keeping the model and the returned history, when a batch's
        loss or gradient is NaN or infinite (that batch's update is skipped, so the weights
        are the last good ones; a message goes to stderr), or on Ctrl-C (at the end of the
        running batch). The unfinished epoch is then not recorded; `history.stop_reason`
        says what happened.
        """
        self._check_compiled("fit")
        epochs = check_positive_int("epochs", epochs)
        batch_size = check_positive_int("batch_size", batch_size)
        if isinstance(validation_split, bool) or not isinstance(validation_split, numbers.Real) \
                or not 0 <= validation_split < 1:
            raise ValueError(f"`validation_split` must be a number in [0, 1). Received: validation_split={validation_split!r}")
        if verbose not in (0, 1, 2):
            raise ValueError(f"`verbose` must be 0, 1 or 2. Received: verbose={verbose!r}")
        callbacks = list(callbacks or [])
        for callback in callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(f"`callbacks` must hold Callback objects. Received: {type(callback).__name__}")
        xs, ys = self._prepare_data(x, y)
        validation = None
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise ValueError("`validation_data` must be a pair (x_val, y_val).")
            validation = self._prepare_data(*validation_data, "x_val", "y_val")
        elif validation_split > 0:
            n = len(xs[0])
            order = self.rng.permutation(n)
            n_val = int(n * validation_split)
            if n_val == n:
                raise ValueError(f"`validation_split={validation_split}` leaves no training samples out of {n}.")
            val_rows, train_rows = np.sort(order[:n_val]), np.sort(order[n_val:])
            if n_val:
                validation = ([a[val_rows] for a in xs], [a[val_rows] for a in ys])
            xs, ys = [a[train_rows] for a in xs], [a[train_rows] for a in ys]
        return training.fit_loop(self, xs, ys, epochs, batch_size, validation, shuffle, callbacks, verbose)

    def train_step_arrays(self, xs: list, ys: list, sample_weight=None) -> training.StepResult:
        """One training step on checked arrays (one per input, one per output)."""
        return training.train_step(self, xs, ys, sample_weight)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict: bool = False):
        """One gradient step on one batch (Keras 3's semantics).

        Args:
            x, y: One batch of inputs and targets.
            sample_weight: One weight per sample (or a list/dict per output). Defaults to None.
            class_weight: `{class index: weight}` for a single-output model; multiplies
                `sample_weight`. Defaults to None.
            return_dict: Return a dict of logs rather than values. Defaults to False.

        Returns the running loss and metrics since the last `reset_metrics()` (this batch's
        included, computed before the update): the loss alone when nothing else is compiled,
        else `[loss, *metrics]` in `metrics_names` order, or the dict. When the loss or a
        gradient is not finite the step is skipped (the weights do not change).
        """
        self._check_compiled("train_on_batch")
        xs, ys = self._prepare_data(x, y)
        weights = self._sample_weights(ys, sample_weight, class_weight)
        return self._pack_logs(training.train_step(self, xs, ys, weights).logs, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict: bool = False):
        """Loss and metrics of one batch in inference mode, added to the running values (see
        `train_on_batch` for what is returned)."""
        self._check_compiled("test_on_batch")
        xs, ys = self._prepare_data(x, y)
        weights = self._sample_weights(ys, sample_weight, None)
        return self._pack_logs(training.test_step(self, xs, ys, weights), return_dict)

    def predict_on_batch(self, x):
        """Outputs for one batch `x` in inference mode (no chunking)."""
        self._check_has_layers("predicting")
        xs = self._prepare_x(x)
        return self.pack_outputs(training.predict_arrays(self, xs, len(xs[0]) or 1))

    def _sample_weights(self, ys: list, sample_weight, class_weight):
        """Checked sample weights (None, one array, or a list per output) with `class_weight` folded in."""
        n = len(ys[0])
        weights = check_sample_weight(sample_weight, n, self.output_names)
        if class_weight is None:
            return weights
        if len(ys) > 1:
            raise ValueError("`class_weight` is only supported for models with a single output; "
                             "use `sample_weight` for several outputs.")
        spec = self.output_specs()[0]
        classes = spec[-1] if spec and spec[-1] not in (None, 1) else None
        from_classes = class_weight_to_sample_weight(ys[0], class_weight, classes)
        return from_classes if weights is None else weights * from_classes

    def _pack_logs(self, logs: dict, return_dict: bool):
        """Keras's return convention: the dict, or its values in `metrics_names` order
        (a single value alone)."""
        logs = {key: _python(value) for key, value in logs.items()}
        if return_dict:
            return logs
        values = [logs[name] for name in self.metrics_names if name in logs]
        values += [logs[key] for key in sorted(logs) if key not in self.metrics_names]
        return values[0] if len(values) == 1 else values

    def compute_gradients(self, x, y, sample_weight=None) -> dict:
        """dLoss/dWeight for one batch, without updating: `{"layer/weight": array}`.

        The same forward and backward pass as a training step (training mode), so a
        reader can check any gradient against finite differences or another library.
        """
        self._check_compiled("compute_gradients")
        xs, ys = self._prepare_data(x, y)
        weights = self._sample_weights(ys, sample_weight, None)
        result, _, grads = training.forward_backward(self, xs, ys, weights, track=False)
        if result.skipped:
            raise FloatingPointError(f"No gradients: {result.skipped}.")
        return {key: np.array(grad) for key, grad in grads.items()}

    def predict(self, x, batch_size: int | None = None):
        """Outputs for `x`, computed in batches of `batch_size` (default 1024) in inference mode.

        One array for a single-output model; a list (or dict, for dict outputs) otherwise.
        """
        self._check_has_layers("predicting")
        if batch_size is not None:
            batch_size = check_positive_int("batch_size", batch_size)
        xs = self._prepare_x(x)
        outputs = training.predict_arrays(self, xs, batch_size)
        return self.pack_outputs(outputs)

    def pack_outputs(self, outputs: list):
        """Arrays (one per output) in the structure the model's outputs have."""
        return outputs[0] if len(outputs) == 1 else outputs

    def evaluate(self, x, y=None, batch_size: int | None = None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict: bool = False):
        """Loss and metrics on `(x, y)` in inference mode, over batches (Keras 3's semantics).

        Args:
            x, y: Inputs and targets, as for `fit`.
            batch_size: Samples per batch. Defaults to 32.
            verbose: Accepted for Keras compatibility ("auto", 0, 1 or 2); evaluate prints nothing.
            sample_weight: One weight per sample (or a list/dict per output): weights each
                sample's loss, and its weight in `weighted_metrics`. Defaults to None.
            steps: Accepted when None only (arrays are evaluated whole).
            callbacks: Accepted when empty only.
            return_dict: Return `{name: value}` rather than values. Defaults to False.

        Returns the loss alone when no metric is compiled, else `[loss, *metrics]` in
        `metrics_names` order (so `loss, acc = model.evaluate(x, y)`), or the dict. The
        metrics are reset first and computed over all the data (exact precision, recall, AUC).
        """
        self._check_compiled("evaluate")
        batch_size = 32 if batch_size is None else check_positive_int("batch_size", batch_size)
        if verbose not in ("auto", 0, 1, 2):
            raise ValueError(f"`verbose` must be 'auto', 0, 1 or 2. Received: verbose={verbose!r}")
        if steps is not None or callbacks:
            raise ValueError("`steps` and `callbacks` are not supported by evaluate() on arrays yet. "
                             f"Received: steps={steps!r}, callbacks={callbacks!r}")
        xs, ys = self._prepare_data(x, y)
        weights = self._sample_weights(ys, sample_weight, None)
        return self._pack_logs(training.evaluate_batches(self, xs, ys, weights, batch_size), return_dict)

    def on_epoch_logs(self, epoch: int, logs: dict) -> None:
        """Called by the loop after each epoch with its logs (the blog's dicts are filled here)."""


def _python(value):
    """A metric result as a Python float (arrays, e.g. per-threshold results, stay arrays)."""
    return float(value) if np.ndim(value) == 0 else value
