"""`fit`, `evaluate`, `predict` and `train_on_batch`: argument checks, then `barenet.training`."""

from __future__ import annotations

import numbers

import numpy as np

from .. import training
from ..callbacks import Callback, History
from ..layers.base import check_positive_int
from .single_sample import batch_single_sample


class Trainer:
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

    def train_step_arrays(self, xs: list, ys: list) -> "training.StepResult":
        """One training step on checked arrays (one per input, one per output)."""
        return training.train_step(self, xs, ys)

    def train_on_batch(self, x, y) -> dict:
        """One gradient step on one batch; returns its loss and metrics (before the step).

        When the loss or a gradient is not finite the step is skipped (the weights do not
        change) and the logs, with their NaN/inf loss, are returned.
        """
        self._check_compiled("train_on_batch")
        xs, ys = self._prepare_data(x, y)
        return self.train_step_arrays(xs, ys).logs

    def compute_gradients(self, x, y) -> dict:
        """dLoss/dWeight for one batch, without updating: `{"layer/weight": array}`.

        The same forward and backward pass as a training step (training mode), so a
        reader can check any gradient against finite differences or another library.
        """
        self._check_compiled("compute_gradients")
        xs, ys = self._prepare_data(x, y)
        result, _, grads = training.forward_backward(self, xs, ys)
        if result.skipped:
            raise FloatingPointError(f"No gradients: {result.skipped}.")
        return {key: np.array(grad) for key, grad in grads.items()}

    def predict(self, x, batch_size: int | None = None):
        """Outputs for `x`, computed in batches of `batch_size` (default 1024) in inference mode.

        One array for a single-output model; a list (or dict, for dict outputs) otherwise.
        One sample of the input shape, without a batch axis (the blog's `predict(x[0])`),
        gives a batch of one, `(1, *output_shape)`; see `models.single_sample`.
        """
        self._check_has_layers("predicting")
        if batch_size is not None:
            batch_size = check_positive_int("batch_size", batch_size)
        xs = self._prepare_x(batch_single_sample(self, x))
        outputs = training.predict_arrays(self, xs, batch_size)
        return self.pack_outputs(outputs)

    def pack_outputs(self, outputs: list):
        """Arrays (one per output) in the structure the model's outputs have."""
        return outputs[0] if len(outputs) == 1 else outputs

    def evaluate(self, x, y, batch_size: int | None = None) -> dict:
        """Loss and metrics on `(x, y)` in inference mode, as a dict."""
        self._check_compiled("evaluate")
        if batch_size is not None:
            batch_size = check_positive_int("batch_size", batch_size)
        xs, ys = self._prepare_data(x, y)
        return training.loss_logs(self, ys, training.predict_arrays(self, xs, batch_size))

    def on_epoch_logs(self, epoch: int, logs: dict) -> None:
        """Called by the loop after each epoch with its logs (the blog's dicts are filled here)."""
