"""`fit`, `evaluate`, `predict` and `train_on_batch`: argument checks, then `barenet.loops`."""

from __future__ import annotations

import numbers

import numpy as np

from .. import distributed, loops, training
from ..callbacks import CallbackList, History
from ..callbacks.base import check_callbacks
from ..data_adapters import ArrayAdapter, EpochIterator, is_batch_source, make_adapter
from ..layers.base import check_positive_int
from .compiling import Compiling
from .sample_weights import check_sample_weight
from .single_sample import batch_single_sample


class Trainer(Compiling):
    """The Keras training API of `Model` (mixed in; the loops are in `barenet.loops`)."""

    def fit(self, x=None, y=None, batch_size: int | None = None, epochs: int = 1, verbose="auto", callbacks=None,
            validation_split: float = 0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch: int = 0, steps_per_epoch: int | None = None,
            validation_steps: int | None = None, validation_batch_size: int | None = None,
            validation_freq=1) -> History:
        """Train for epochs `initial_epoch .. epochs - 1` and return a `History` (Keras 3's arguments).

        Args:
            x: Inputs: an array `(samples, *input_shape)` (a `numpy.memmap` or an `np.load(...,
                mmap_mode="r")` array stays on disk: batches are read and cast one at a time); a
                list of arrays or a dict by input name for several inputs; or a source of batches:
                a `barenet.utils.PyDataset`, a generator, or any iterable of `(x, y)` /
                `(x, y, sample_weight)` tuples (then `y` and `sample_weight` must be None).
            y: Targets, `(samples, *output_shape)`, or integer labels for sparse losses; a list
                or a dict by output name for several outputs.
            batch_size: Samples per gradient step (arrays only). Defaults to 32.
            epochs: The epoch to stop before (with `initial_epoch`, epochs run are
                `initial_epoch .. epochs - 1`). Defaults to 1.
            verbose: "auto" (= 1), 0 silent, 1 a progress bar in a terminal (one line per epoch
                elsewhere), 2 one line per epoch. Defaults to "auto".
            callbacks: A list of `Callback` objects. Defaults to none.
            validation_split: Fraction in [0, 1) of the samples held out for validation: the
                LAST rows of the arrays, taken before shuffling (as Keras). Arrays only.
                Defaults to 0.0.
            validation_data: `(x_val, y_val)` or `(x_val, y_val, sample_weight_val)`, or a
                generator / PyDataset of batches; takes precedence over `validation_split`.
            shuffle: Draw a new order of the training rows every epoch (from the model's
                generator); "batch" shuffles the batches' order and the rows within each; with a
                PyDataset, the order of its batches. Ignored for generators. Defaults to True.
            class_weight: `{class index: weight}`: each sample's loss is weighted by its class's
                weight (single-output models; not with `sample_weight`). Defaults to None.
            sample_weight: One non-negative weight per training sample. Defaults to None.
            initial_epoch: The epoch to start from (to resume a run). Defaults to 0.
            steps_per_epoch: Batches per epoch. Needed for a generator (a one-shot iterator):
                its stream then carries on across epochs, and training stops with a warning
                when it runs out. Defaults to one pass over the data.
            validation_steps: Batches per validation (needed for a one-shot validation
                generator). Defaults to one pass over the validation data.
            validation_batch_size: Batch size of validation arrays. Defaults to `batch_size`.
            validation_freq: Validate after every n-th epoch (an integer), or after the epochs
                listed (counting from 1). Defaults to 1.

        Training stops early, keeping the model and the returned history, when a batch's
        loss or gradient is NaN or infinite (that batch's update is skipped, so the weights
        are the last good ones; a message goes to stderr), or on Ctrl-C (at the end of the
        running batch). The unfinished epoch is then not recorded; `history.stop_reason`
        says what happened.
        """
        self._check_compiled("fit")
        if x is None:
            raise TypeError("`x` must be a numeric array. Received: None (it may also be a dict of arrays, a "
                            "generator or a PyDataset)")
        epochs = check_positive_int("epochs", epochs)
        batch_size = 32 if batch_size is None else check_positive_int("batch_size", batch_size)
        verbose = _check_verbose(verbose)
        initial_epoch = _check_count("initial_epoch", initial_epoch)
        steps_per_epoch = _optional_positive("steps_per_epoch", steps_per_epoch)
        validation_steps = _optional_positive("validation_steps", validation_steps)
        validation_batch_size = _optional_positive("validation_batch_size", validation_batch_size) or batch_size
        validation_freq = _check_validation_freq(validation_freq)
        if isinstance(validation_split, bool) or not isinstance(validation_split, numbers.Real) \
                or not 0 <= validation_split < 1:
            raise ValueError(f"`validation_split` must be a number in [0, 1). Received: validation_split={validation_split!r}")
        if shuffle not in (True, False, "batch"):
            raise ValueError(f"`shuffle` must be True, False or 'batch'. Received: shuffle={shuffle!r}")
        callbacks = check_callbacks(callbacks)
        train = make_adapter(self, x, y, sample_weight, class_weight, batch_size, shuffle, "fit")
        validation = None
        if validation_data is not None:
            validation = self._validation_adapter(validation_data, validation_batch_size)
            if validation_steps is None and not validation.restartable and validation.num_batches is None:
                raise ValueError("`validation_steps` is required when `validation_data` is a generator or another "
                                 "one-shot iterator: it is read at every validation. Pass validation_steps=<batches>.")
        elif validation_split > 0:
            if not isinstance(train, ArrayAdapter):
                raise ValueError("`validation_split` is only supported for arrays (it holds out their last rows). "
                                 f"Received: x of type {type(x).__name__}; pass `validation_data` instead.")
            validation = train.split(validation_split)
            validation.batch_size, validation.class_weight = validation_batch_size, None
        data = EpochIterator(train, steps_per_epoch, self.rng)
        validation = None if validation is None else EpochIterator(validation, validation_steps, self.rng)
        strategy = distributed.current()  # issue 14 hook: after barenet.distributed.initialize(), N processes
        if strategy is not None:
            return strategy.fit(self, data, epochs, initial_epoch, validation, validation_freq, callbacks, verbose)
        return loops.fit_loop(self, data, epochs, initial_epoch, validation, validation_freq, callbacks, verbose)

    def _validation_adapter(self, validation_data, batch_size: int):
        if isinstance(validation_data, tuple) and 2 <= len(validation_data) <= 3 \
                or isinstance(validation_data, list) and len(validation_data) == 2 \
                and not is_batch_source(validation_data):
            x_val, y_val, weight = (*validation_data, None)[:3]
            return make_adapter(self, x_val, y_val, weight, None, batch_size, False, "evaluate", names=("x_val", "y_val"))
        if is_batch_source(validation_data):
            return make_adapter(self, validation_data, role="evaluate", names=("validation_data", "y_val"))
        raise ValueError("`validation_data` must be a tuple (x_val, y_val) or (x_val, y_val, sample_weight), a "
                         f"generator or a PyDataset. Received: {type(validation_data).__name__}"
                         + (f" of {len(validation_data)} elements" if hasattr(validation_data, "__len__") else ""))

    def train_step_arrays(self, xs: list, ys: list, sample_weight=None) -> training.StepResult:
        """One training step on checked arrays (one per input, one per output), weighted per sample."""
        return training.train_step(self, xs, ys, sample_weight)

    def test_step_arrays(self, xs: list, ys: list, sample_weight=None) -> dict:
        """Loss and metrics of one batch in inference mode, added to the running logs (evaluate's step)."""
        return training.test_step(self, xs, ys, sample_weight)

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
        from ..data_adapters.class_weights import ClassWeights

        weights = check_sample_weight(sample_weight, len(ys[0]), self.output_names)
        if class_weight is None:
            return weights
        from_classes = ClassWeights(class_weight, self)(ys[0], np.float64)
        return from_classes if weights is None else np.reshape(weights, len(from_classes)) * from_classes

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

    def predict(self, x, batch_size: int | None = None, verbose="auto", steps: int | None = None, callbacks=None):
        """Outputs for `x`, computed in batches in inference mode (Keras 3's arguments).

        Args:
            x: Inputs (as for `fit`: arrays, a dict, a generator or a PyDataset; the batches'
                targets, if any, are ignored).
            batch_size: Samples per batch (arrays only). Defaults to 32.
            verbose: "auto" (= 1), 0, 1 or 2, as for `fit`. Defaults to "auto".
            steps: Batches to predict (defaults to one pass over `x`).
            callbacks: A list of `Callback` objects: their `on_predict_*` hooks run.

        Returns one array for a single-output model; a list (or dict, for dict outputs) otherwise.
        One sample of the input shape, without a batch axis (the blog's `predict(x[0])`),
        gives a batch of one, `(1, *output_shape)`; see `models.single_sample`.
        """
        self._check_has_layers("predicting")
        batch_size = 32 if batch_size is None else check_positive_int("batch_size", batch_size)
        verbose, steps = _check_verbose(verbose), _optional_positive("steps", steps)
        callbacks = check_callbacks(callbacks)
        x = batch_single_sample(self, x)
        data = EpochIterator(make_adapter(self, x, batch_size=batch_size, role="predict"), steps, self.rng, "steps")
        hooks = self._hooks(callbacks, verbose, data, "predict")
        return self.pack_outputs(loops.predict_loop(self, data, hooks))

    def pack_outputs(self, outputs: list):
        """Arrays (one per output) in the structure the model's outputs have."""
        return outputs[0] if len(outputs) == 1 else outputs

    def evaluate(self, x=None, y=None, batch_size: int | None = None, verbose="auto", sample_weight=None,
                 steps: int | None = None, callbacks=None, return_dict: bool = False):
        """Loss and metrics on `(x, y)` in inference mode (Keras 3's arguments).

        Args:
            x, y: As for `fit` (arrays, a dict, or a generator / PyDataset of batches with `y` None).
            batch_size: Samples per batch (arrays only). Defaults to 32.
            verbose: "auto" (= 1), 0, 1 or 2, as for `fit`. Defaults to "auto".
            sample_weight: One non-negative weight per sample. Defaults to None.
            steps: Batches to evaluate (defaults to one pass over the data).
            callbacks: A list of `Callback` objects: their `on_test_*` hooks run.
            return_dict: Return a dict of the logs by name. Defaults to False.

        Returns the loss alone when no metric is compiled, else `[loss, *metrics]` in
        `metrics_names` order (so `loss, acc = model.evaluate(x, y)`), or the dict. The
        metrics are reset first and computed over all the data (exact precision, recall, AUC);
        a sample weight multiplies its sample's loss (Keras: `sum(w * loss) / batch_size` per
        batch) and its weight in `weighted_metrics`.
        """
        self._check_compiled("evaluate")
        if x is None:
            raise TypeError("`x` must be a numeric array. Received: None (it may also be a dict of arrays, a "
                            "generator or a PyDataset)")
        batch_size = 32 if batch_size is None else check_positive_int("batch_size", batch_size)
        verbose, steps = _check_verbose(verbose), _optional_positive("steps", steps)
        callbacks = check_callbacks(callbacks)
        adapter = make_adapter(self, x, y, sample_weight, None, batch_size, False, "evaluate")
        data = EpochIterator(adapter, steps, self.rng, "steps")
        logs = loops.evaluate_loop(self, data, self._hooks(callbacks, verbose, data, "evaluate"))
        return self._pack_logs(logs, return_dict)

    def _hooks(self, callbacks: list, verbose: int, data, mode: str) -> CallbackList:
        from ..progress import progress_logger

        params = {"verbose": verbose, "epochs": 1, "steps": data.num_steps}
        return CallbackList(callbacks, self, params, progress=progress_logger(verbose, mode))

    def on_epoch_logs(self, epoch: int, logs: dict) -> None:
        """Called by the loop after each epoch with its logs (the blog's dicts are filled here)."""


def _check_verbose(verbose) -> int:
    if verbose == "auto":
        return 1
    if isinstance(verbose, bool) or verbose not in (0, 1, 2):
        raise ValueError(f"`verbose` must be 'auto', 0, 1 or 2. Received: verbose={verbose!r}")
    return int(verbose)


def _check_count(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"`{name}` must be a non-negative integer. Received: {name}={value!r}")
    return int(value)


def _optional_positive(name: str, value) -> int | None:
    return None if value is None else check_positive_int(name, value)


def _check_validation_freq(value):
    if isinstance(value, (list, tuple)) and value and all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 1 for v in value):
        return [int(v) for v in value]
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError("`validation_freq` must be a positive integer or a list of epochs (from 1). "
                         f"Received: validation_freq={value!r}")
    return int(value)


def _python(value):
    """A metric result as a Python float (arrays, e.g. per-threshold results, stay arrays)."""
    return float(value) if np.ndim(value) == 0 else value
