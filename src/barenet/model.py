"""`Sequential` (the blog's `NN`): a stack of layers you compile, fit and predict with.

Both spellings work on the same object:

    blog:   NN() / add / compile_model(lr, mr, opt, loss, metrics) / train(X, Y, epochs, ...)
    Keras:  Sequential([...]) / compile(optimizer, loss, metrics) / fit(x, y, ...) /
            evaluate / predict / train_on_batch

Training is vectorized: one forward and one backward matrix pass per mini-batch;
every sample is used exactly once per epoch, and a short last batch is averaged
over its own size. All randomness (initialization, shuffling, validation split)
comes from the model's own `numpy.random.Generator`, seeded by `seed=`.
"""

from __future__ import annotations

import math
import numbers
import sys

import numpy as np

from . import losses, metrics as metrics_module, optimizers
from .callbacks import Callback, CallbackList, History, interrupt_at_batch_boundary
from .layers.base import Layer, check_positive_int, snake_case
from .progress import ProgressLogger, render_table
from .reductions import total

_FLOAT_DTYPES = ("float32", "float64")
_PREDICT_CHUNK = 1024


class Sequential:
    """A linear stack of layers.

    Args:
        layers: Layers to add, in order. Defaults to none.
        seed: Seed for the model's random generator (initialization, shuffling,
            validation split). The same seed gives bit-identical runs. Defaults to None.
        dtype: Parameter and computation dtype, "float32" or "float64". Defaults to "float32".
        name: Model name. Defaults to "sequential".
    """

    def __init__(self, layers=None, seed: int | None = None, dtype="float32", name: str | None = None):
        if str(np.dtype(dtype)) not in _FLOAT_DTYPES:
            raise ValueError(f"`dtype` must be one of {', '.join(_FLOAT_DTYPES)}. Received: dtype={dtype!r}")
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.dtype = np.dtype(dtype)
        self.name = name or "sequential"
        self.layers: list[Layer] = []
        self.optimizer: optimizers.Optimizer | None = None
        self.loss: losses.Loss | None = None
        self.metrics: list[str] = []
        self.stop_training = False
        self.history: History | None = None
        # The blog's per-epoch records (accuracy in percent, as the blog prints it).
        self.train_loss: dict[int, float] = {}
        self.val_loss: dict[int, float] = {}
        self.train_acc: dict[int, float] = {}
        self.val_acc: dict[int, float] = {}
        for layer in layers or []:
            self.add(layer)

    # --- building --------------------------------------------------------------------------
    def add(self, layer: Layer) -> None:
        """Append a layer, checking its declared input against the previous layer's output."""
        if not isinstance(layer, Layer):
            raise TypeError(f"`layer` must be a barenet Layer. Received: {type(layer).__name__}")
        if any(existing is layer for existing in self.layers):
            raise ValueError(f"Layer {layer.name!r} is already in this model.")
        if layer.name is None:
            layer.name = self._unique_name(snake_case(type(layer).__name__))
        elif any(existing.name == layer.name for existing in self.layers):
            raise ValueError(f"Layer names must be unique. Received: a second layer named {layer.name!r}")
        if self.layers:
            previous = self.layers[-1]
            declared = layer.input_shape
            if declared is not None and previous.output_shape is not None and declared != previous.output_shape:
                raise ValueError(
                    f"Layer {layer.name!r} declares input_shape={declared}, but the previous layer "
                    f"{previous.name!r} outputs {previous.output_shape}. Expected input_shape="
                    f"{previous.output_shape} (or leave it out)."
                )
            if previous.built:
                layer.build(previous.output_shape, self.rng, self.dtype)
        elif layer.input_shape is not None:
            layer.build(layer.input_shape, self.rng, self.dtype)
        # The first layer's input gradient is never used: it can skip computing it.
        layer.needs_input_grad = bool(self.layers)
        self.layers.append(layer)

    def _unique_name(self, base: str) -> str:
        taken = {layer.name for layer in self.layers}
        if base not in taken:
            return base
        i = 1
        while f"{base}_{i}" in taken:
            i += 1
        return f"{base}_{i}"

    def build(self, input_shape) -> None:
        """Build every layer for samples of `input_shape` (no batch axis)."""
        if not self.layers:
            raise RuntimeError("The model has no layers. Add layers with add() first.")
        shape = tuple(input_shape)
        for layer in self.layers:
            if not layer.built:
                layer.build(shape, self.rng, self.dtype)
            shape = layer.output_shape

    @property
    def built(self) -> bool:
        return bool(self.layers) and all(layer.built for layer in self.layers)

    @property
    def input_shape(self):
        return self.layers[0].input_shape if self.layers else None

    @property
    def output_shape(self):
        return self.layers[-1].output_shape if self.layers else None

    # --- compiling -------------------------------------------------------------------------
    def compile(self, optimizer="sgd", loss="mean_squared_error", metrics=None) -> None:
        """Configure training (Keras spelling).

        Args:
            optimizer: An `Optimizer` or a name from `barenet.optimizers.OPTIMIZERS`. Defaults to "sgd".
            loss: A `Loss` or a name from `barenet.losses.LOSSES`. Defaults to "mean_squared_error".
            metrics: Metric names from `barenet.metrics.METRICS`. Defaults to none.
        """
        if not self.layers:
            raise RuntimeError("The model has no layers. Add layers with add() before compiling.")
        optimizer = optimizers.get(optimizer)
        loss = self._resolve_loss(loss)
        metrics = list(metrics or [])
        for name in metrics:
            metrics_module.get(name)
        self.optimizer, self.loss, self.metrics = optimizer, loss, metrics

    def compile_model(self, lr: float = 0.01, mr: float = 0.001, opt: str = "sgd", loss: str = "mse",
                      metrics=("mse",)) -> None:
        """Configure training (the blog's spelling); see `barenet.optimizers.from_blog` for `opt`."""
        self.compile(optimizers.from_blog(opt, lr, mr), loss, list(metrics))

    def _resolve_loss(self, loss):
        # The blog's "cse" means binary cross-entropy on a single output, categorical otherwise.
        if isinstance(loss, str) and loss.lower() == "cse" and getattr(self.layers[-1], "units", None) == 1:
            return losses.BinaryCrossentropy()
        return losses.get(loss)

    @property
    def compiled(self) -> bool:
        return self.optimizer is not None and self.loss is not None

    # --- training --------------------------------------------------------------------------
    def fit(self, x, y, epochs: int = 1, batch_size: int = 32, validation_split: float = 0.0,
            validation_data=None, shuffle: bool = True, verbose: int = 1, callbacks=None) -> History:
        """Train for `epochs` passes over `(x, y)` and return a `History` (Keras spelling).

        Args:
            x: Inputs, `(samples, *input_shape)`.
            y: Targets, `(samples, *output_shape)`, or integer labels for sparse losses.
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
        x, y = self._check_data(x, y, "x", "y")
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise ValueError("`validation_data` must be a pair (x_val, y_val).")
            x_val, y_val = self._check_data(*validation_data, "x_val", "y_val")
        elif validation_split > 0:
            order = self.rng.permutation(len(x))
            n_val = int(len(x) * validation_split)
            if n_val == len(x):
                raise ValueError(f"`validation_split={validation_split}` leaves no training samples out of {len(x)}.")
            val_idx, train_idx = np.sort(order[:n_val]), np.sort(order[n_val:])
            x_val, y_val = (x[val_idx], y[val_idx]) if n_val else (None, None)
            x, y = x[train_idx], y[train_idx]
        else:
            x_val = y_val = None

        self.history = History()
        params = {"epochs": epochs, "steps": math.ceil(len(x) / batch_size), "samples": len(x), "verbose": verbose}
        logger = [ProgressLogger(verbose)] if verbose else []
        # History last, as in Keras, so it records what other callbacks add to the logs.
        hooks = CallbackList([*logger, *callbacks, self.history], self, params)
        self.stop_training = False
        hooks.on_train_begin({})
        with interrupt_at_batch_boundary() as interrupt:
            epoch = 0
            try:
                for epoch in range(epochs):
                    hooks.on_epoch_begin(epoch, {})
                    logs = self._run_epoch(x, y, batch_size, shuffle, hooks, interrupt, epoch)
                    if logs is None:  # stopped inside the epoch
                        break
                    if x_val is not None:
                        logs.update({f"val_{k}": v for k, v in self.evaluate(x_val, y_val).items()})
                    self._record_blog_logs(epoch, logs)
                    hooks.on_epoch_end(epoch, logs)
                    if self.stop_training:
                        break
            except KeyboardInterrupt:  # a second Ctrl-C, or one raised by a callback
                self._stop(f"Training interrupted (Ctrl-C) in epoch {epoch + 1}; the model and its history "
                           "are kept, the unfinished epoch is not recorded.")
        hooks.on_train_end({})
        return self.history

    def _stop(self, reason: str) -> None:
        self.stop_training = True
        self.history.stop_reason = reason
        print(reason, file=sys.stderr, flush=True)

    def _run_epoch(self, x, y, batch_size, shuffle, hooks, interrupt=None, epoch=0) -> dict | None:
        """One pass over the data; the mean logs, or None when training stopped inside the epoch."""
        n = len(x)
        order = self.rng.permutation(n) if shuffle else None
        totals: dict[str, float] = {}
        for batch, start in enumerate(range(0, n, batch_size)):
            hooks.on_batch_begin(batch, {})
            if order is None:
                xb, yb = x[start:start + batch_size], y[start:start + batch_size]
            else:
                idx = order[start:start + batch_size]
                xb, yb = x[idx], y[idx]
            try:
                logs = self._train_step(xb, yb)
            except _SkippedStep as skipped:
                self._stop(f"Training stopped in epoch {epoch + 1}, batch {batch + 1}: {skipped}. That batch's "
                           "update was skipped, so the weights are the last good ones. Try a lower learning "
                           "rate, or check the data for extreme values.")
                return None
            for key, value in logs.items():
                totals[key] = totals.get(key, 0.0) + value * len(xb)
            hooks.on_batch_end(batch, logs)
            if interrupt is not None and interrupt["hit"]:
                self._stop(f"Training interrupted (Ctrl-C) after batch {batch + 1} of epoch {epoch + 1}; the "
                           "model and its history are kept, the unfinished epoch is not recorded.")
                return None
            if self.stop_training:
                return None
        return {key: total / n for key, total in totals.items()}

    def _train_step(self, x, y) -> dict:
        """Forward, loss, backward, update. Raises `_SkippedStep`, without updating, when the
        loss or a gradient is not finite (layer state that the forward pass moved, such as
        BatchNormalization's moving statistics, is put back too)."""
        saved_state = [(value, value.copy()) for layer in self.layers for value in layer.state.values()]
        try:
            return self._train_step_unchecked(x, y)
        except _SkippedStep:
            for value, before in saved_state:
                value[...] = before
            raise

    def _train_step_unchecked(self, x, y) -> dict:
        out = self.forward(x, training=True)
        logs = self._compute_logs(y, out)
        if not math.isfinite(logs["loss"]):
            raise _SkippedStep(f"the loss is {logs['loss']}", logs)
        last = self.layers[-1]
        if self._fuses_output():
            grad = last.backward_preactivation(self.loss.logits_gradient(y, out))
        else:
            grad = last.backward(self.loss.gradient(y, out))
        for layer in reversed(self.layers[:-1]):
            grad = layer.backward(grad)
        params, grads = {}, {}
        for layer in self.layers:
            for key, value in layer.params.items():
                params[f"{layer.name}/{key}"] = value
                grads[f"{layer.name}/{key}"] = layer.grads[key]
        for key, grad in grads.items():
            if not math.isfinite(total(grad)):
                raise _SkippedStep(f"the gradient of {key} is not finite (loss {logs['loss']:.4g})", logs)
        self.optimizer.apply_gradients(params, grads)
        return logs

    def _fuses_output(self) -> bool:
        """Whether the loss's fused gradient applies (softmax/sigmoid output + cross-entropy)."""
        last = self.layers[-1]
        activation = getattr(last, "activation", None)
        return (self.loss.fused_activation is not None and activation is not None
                and activation.name == self.loss.fused_activation and hasattr(last, "backward_preactivation"))

    def _compute_logs(self, y, out) -> dict:
        # The reported loss includes the layers' weight penalties (as in Keras); metrics do not.
        logs = {"loss": self.loss(y, out) + sum(layer.regularization_loss() for layer in self.layers)}
        for name in self.metrics:
            logs[name] = metrics_module.get(name)(y, out)
        return logs

    def train_on_batch(self, x, y) -> dict:
        """One gradient step on one batch; returns its loss and metrics (before the step).

        When the loss or a gradient is not finite the step is skipped (the weights do not
        change) and the logs, with their NaN/inf loss, are returned.
        """
        self._check_compiled("train_on_batch")
        x, y = self._check_data(x, y, "x", "y")
        try:
            return self._train_step(x, y)
        except _SkippedStep as skipped:
            return skipped.logs

    def train(self, X, Y, epochs: int, show_every: int = 1, batch_size: int = 32, shuffle: bool = True,
              val_split: float = 0.1, val_x=None, val_y=None) -> History:
        """Train (the blog's spelling): prints loss and accuracy every `show_every` epochs.

        Fills the blog's `train_loss`, `val_loss`, `train_acc`, `val_acc` dicts and
        returns the same `History` as `fit`.
        """
        self._check_compiled("train")
        show_every = check_positive_int("show_every", show_every)
        if (val_x is None) != (val_y is None):
            raise ValueError("Pass both `val_x` and `val_y`, or neither.")
        validation_data = None if val_x is None else (val_x, val_y)
        return self.fit(X, Y, epochs=epochs, batch_size=batch_size, validation_split=val_split,
                        validation_data=validation_data, shuffle=shuffle, verbose=0,
                        callbacks=[ProgressLogger(verbose=2, every=show_every)])

    def _record_blog_logs(self, epoch, logs):
        self.train_loss[epoch] = logs["loss"]
        if "val_loss" in logs:
            self.val_loss[epoch] = logs["val_loss"]
        for key in ("accuracy", "acc"):
            if key in logs:
                self.train_acc[epoch] = 100 * logs[key]
            if f"val_{key}" in logs:
                self.val_acc[epoch] = 100 * logs[f"val_{key}"]

    # --- inference -------------------------------------------------------------------------
    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Run a checked, correctly typed batch through every layer."""
        for layer in self.layers:
            x = layer.forward(x, training=training)
        return x

    def predict(self, x, batch_size: int | None = None) -> np.ndarray:
        """Outputs for `x`, computed in batches of `batch_size` (default 1024) in inference mode."""
        x = self._check_inputs(x, "x")
        chunk = _PREDICT_CHUNK if batch_size is None else check_positive_int("batch_size", batch_size)
        if len(x) <= chunk:
            return self.forward(x)
        return np.concatenate([self.forward(x[i:i + chunk]) for i in range(0, len(x), chunk)])

    def evaluate(self, x, y, batch_size: int | None = None) -> dict:
        """Loss and metrics on `(x, y)` in inference mode, as a dict."""
        self._check_compiled("evaluate")
        x, y = self._check_data(x, y, "x", "y")
        return self._compute_logs(y, self.predict(x, batch_size))

    def feedforward(self, x):
        """The blog's name for `predict`."""
        return self.predict(x)

    # --- weights ---------------------------------------------------------------------------
    def get_weights(self) -> list[np.ndarray]:
        """Copies of every parameter array, layer by layer."""
        return [value.copy() for layer in self.layers for value in layer.params.values()]

    def set_weights(self, weights) -> None:
        """Set every parameter array from a list shaped like `get_weights()`."""
        targets = [value for layer in self.layers for value in layer.params.values()]
        if len(weights) != len(targets):
            raise ValueError(f"`weights` must hold {len(targets)} arrays. Received: {len(weights)}")
        for i, (target, value) in enumerate(zip(targets, weights)):
            if np.shape(value) != target.shape:
                raise ValueError(f"`weights[{i}]` must have shape {target.shape}. Received: {np.shape(value)}")
        for target, value in zip(targets, weights):
            target[...] = value

    # --- saving (the work is in barenet.saving) ------------------------------------------
    def save(self, path) -> None:
        """Save architecture, compile settings, weights, optimizer and generator state to one file.

        A zip model file (suffix `.barenet` by convention), written atomically; a path ending
        in `.json` writes the blog's JSON instead (Dense/FFL models). Load with
        `barenet.load_model(path)`. See `barenet.saving`.
        """
        from . import saving

        saving.save_model(self, path)

    def save_model(self, path="model.barenet") -> None:
        """The blog's name for `save` (the blog's JSON when `path` ends in `.json`)."""
        self.save(path)

    def save_weights(self, path) -> None:
        """Save the weights (and non-trainable layer state) alone, atomically; see `load_weights`."""
        from . import saving

        saving.save_weights(self, path)

    def load_weights(self, path) -> None:
        """Set the weights from a `save_weights` or `save` file; shapes must match, layer by layer.

        Raises `barenet.ModelFileError` for a bad or mismatched file, before anything changes.
        """
        from . import saving

        saving.load_weights(self, path)

    def count_params(self) -> int:
        return sum(layer.count_params() for layer in self.layers)

    @property
    def parameters(self) -> int:
        """Total parameters (the blog's `model.parameters`), recomputed on every read."""
        return self.count_params()

    def visualize(self, path=None):
        """The blog's figures: loss and accuracy per epoch, train vs validation (needs matplotlib).

        With `path`, saves one PNG (no display needed) and returns the path; otherwise shows them.
        """
        from .plotting import visualize
        return visualize(self, path)

    # --- summary ---------------------------------------------------------------------------
    def summary(self, print_fn=print) -> None:
        """Print a table of layers: name, type, output shape, activation, parameters, and totals.

        A layer's count includes its non-trainable state (BatchNormalization's moving
        statistics), as Keras counts it; the footer splits the total.
        """
        rows = []
        for layer in self.layers:
            shape = "?" if layer.output_shape is None else str((None, *layer.output_shape))
            activation = getattr(layer, "activation", None)
            rows.append((layer.name, type(layer).__name__, shape, activation.name if activation is not None else "",
                         f"{layer.count_params() + _state_size(layer):,}"))
        trainable = self.count_params()
        frozen = sum(_state_size(layer) for layer in self.layers)
        footer = [f"Total params: {trainable + frozen:,}"]
        if frozen:
            footer += [f"Trainable params: {trainable:,}", f"Non-trainable params: {frozen:,}"]
        header = ("Layer", "Type", "Output shape", "Activation", "Params")
        print_fn(render_table(f'Model: "{self.name}"', header, rows, footer))

    # --- checks ----------------------------------------------------------------------------
    def _check_compiled(self, method: str) -> None:
        if not self.compiled:
            raise RuntimeError(f"Call compile_model() or compile() before {method}().")

    def _check_inputs(self, x, name: str) -> np.ndarray:
        if not self.layers:
            raise RuntimeError("The model has no layers. Add layers with add() first.")
        x = _as_numeric(x, name)
        if x.ndim < 2:
            if x.ndim == 1 and self.input_shape == (1,):
                x = x[:, None]
            else:
                raise ValueError(f"`{name}` must have a batch axis first: shape (samples, *features). Received: shape {x.shape}")
        expected = self.input_shape
        if expected is not None and x.shape[1:] != tuple(expected):
            raise ValueError(
                f"`{name}` has samples of shape {x.shape[1:]}, but layer {self.layers[0].name!r} "
                f"expects {tuple(expected)}. Received: {name}.shape={x.shape}"
            )
        if not self.built:
            self.build(x.shape[1:])
        return x.astype(self.dtype, copy=False)

    def _check_data(self, x, y, x_name: str, y_name: str):
        x_arr = _as_numeric(x, x_name)
        y_arr = _as_numeric(y, y_name)
        if len(x_arr) != len(y_arr):
            raise ValueError(f"`{x_name}` and `{y_name}` must have the same length. Received: len({x_name})={len(x_arr)}, len({y_name})={len(y_arr)}")
        y_arr = self._check_targets(y_arr, y_name, x_arr)
        return self._check_inputs(x_arr, x_name), y_arr

    def _check_targets(self, y, name, x):
        output_shape = self.layers[-1].output_shape
        if output_shape is None:  # not built yet: infer from the layer's declared size
            units = getattr(self.layers[-1], "units", None)
            output_shape = (units,) if units is not None else None
        if isinstance(self.loss, losses.SparseCategoricalCrossentropy):
            labels = y.reshape(len(y), -1)
            if labels.shape[1] != 1 or np.any(labels != np.round(labels)):
                raise ValueError(f"`{name}` must hold integer class labels, shape (samples,) or (samples, 1), "
                                 f"for sparse_categorical_crossentropy. Received: shape {y.shape}, dtype {y.dtype}")
            if output_shape is not None and (labels.min() < 0 or labels.max() >= output_shape[-1]):
                raise ValueError(f"`{name}` labels must lie in [0, {output_shape[-1]}). "
                                 f"Received: min {labels.min()}, max {labels.max()}")
            return labels.reshape(-1).astype(np.intp)
        if y.ndim == 1 and output_shape == (1,):
            y = y[:, None]
        if output_shape is not None and y.shape[1:] != tuple(output_shape):
            raise ValueError(
                f"`{name}` has targets of shape {y.shape[1:]}, but the output layer {self.layers[-1].name!r} "
                f"produces {tuple(output_shape)}. Received: {name}.shape={y.shape} "
                "(one-hot encode class labels with to_categorical, or use sparse_categorical_crossentropy)."
            )
        return y.astype(self.dtype, copy=False)

    def __repr__(self) -> str:
        return f"<Sequential name={self.name!r} layers={len(self.layers)} params={self.count_params()}>"


NN = Sequential


def _state_size(layer: Layer) -> int:
    """Numbers in a layer's non-trainable `state` (0 for most layers)."""
    return int(sum(value.size for value in layer.state.values()))


class _SkippedStep(ArithmeticError):
    """A training step found a NaN/inf loss or gradient and did not update the weights."""

    def __init__(self, message: str, logs: dict):
        super().__init__(message)
        self.logs = logs


def _as_numeric(value, name: str) -> np.ndarray:
    if value is None:
        raise TypeError(f"`{name}` must be a numeric array. Received: None")
    try:
        arr = np.asarray(value)
    except ValueError as error:  # ragged nested lists
        raise ValueError(f"`{name}` must be a rectangular numeric array. Received: {error}") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"`{name}` must be a numeric array. Received: dtype {arr.dtype}")
    if arr.ndim == 0 or len(arr) == 0:
        raise ValueError(f"`{name}` must not be empty. Received: shape {arr.shape}")
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise ValueError(f"`{name}` contains NaN or inf. Received: {int((~np.isfinite(arr)).sum())} non-finite values")
    return arr
