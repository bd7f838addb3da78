"""The blog's API, as a thin layer over the Keras one.

The post's spelling keeps the post's behaviour; everything here calls the Keras
methods underneath:

    NN() / CNN()                Sequential()
    compile_model(lr, mr, opt, loss, metrics)  compile(optimizers.from_blog(opt, lr, mr), loss, metrics
                                + ["accuracy"] for classification losses, as the post always measured it)
    train(X, Y, epochs, show_every, batch_size, shuffle, val_split, val_x, val_y)
                                fit(...) printing the post's lines (see `compat.blog_log`)
    feedforward(x)              predict(x)
    train_loss/val_loss/train_acc/val_acc   per-epoch dicts (accuracy in percent)
    save_model(path="model.json")  saving.save_model (the blog's JSON for a `.json` path)
    parameters                  count_params()
    loss="cse"                  binary cross-entropy on a single output, categorical otherwise
    layer.input / layer.out     the last recorded inference pass (see `BlogModel.record_activations`)
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import losses, optimizers

# Losses whose models the post measured by accuracy (it printed accuracy for every model).
_CLASSIFICATION = (losses.CategoricalCrossentropy, losses.BinaryCrossentropy, losses.SparseCategoricalCrossentropy)


class BlogModel:
    """The blog's methods and records, mixed into `Sequential` (so `NN is Sequential`).

    `layer.input` and `layer.out` (the post's "visualize activations" section) hold what
    each layer received and returned in the last *recorded* forward pass, and are None
    until one is recorded. Recorded are:

    - every `predict(x[0])` on one sample without a batch axis (the posts' call): the
      values are that sample's, without a batch axis, as in the post;
    - every inference pass (`predict`, `feedforward`, `forward(x)`, `evaluate`, the
      validation of `fit`) while `model.record_activations` is True: the values of its
      last batch, with the batch axis.

    Training passes are never recorded, so training keeps no extra arrays and runs at
    full speed; recording costs nothing but keeping those references.
    """

    #: Record `layer.input` / `layer.out` on every inference pass (set it on the model).
    record_activations: bool = False

    def _init_blog_records(self) -> None:
        # The blog's per-epoch records (accuracy in percent, as the blog prints it).
        self.train_loss: dict[int, float] = {}
        self.val_loss: dict[int, float] = {}
        self.train_acc: dict[int, float] = {}
        self.val_acc: dict[int, float] = {}

    def compile_model(self, lr: float = 0.01, mr: float = 0.001, opt: str = "sgd", loss: str = "mse",
                      metrics=("mse",)) -> None:
        """Configure training (the blog's spelling); see `barenet.optimizers.from_blog` for `opt`.

        With a classification loss (`"cse"` or a cross-entropy) accuracy is tracked whether
        or not `metrics` names it, as the post's `train` always measured and printed it.
        """
        metrics = list(metrics)
        named = {m.lower() for m in metrics if isinstance(m, str)}
        if isinstance(self._resolve_loss(loss), _CLASSIFICATION) and not named & {"accuracy", "acc"}:
            metrics.insert(0, "accuracy")
        self.compile(optimizers.from_blog(opt, lr, mr), loss, metrics=metrics)

    def _resolve_loss(self, loss):
        # The blog's "cse" means binary cross-entropy on a single output, categorical otherwise.
        if isinstance(loss, str) and loss.lower() == "cse" and getattr(self.layers[-1], "units", None) == 1:
            return losses.BinaryCrossentropy()
        return super()._resolve_loss(loss)

    def train(self, X, Y, epochs: int, show_every: int = 1, batch_size: int = 32, shuffle: bool = True,
              val_split: float = 0.1, val_x=None, val_y=None):
        """Train (the blog's spelling), printing the post's lines every `show_every` epochs.

        Prints the post's header (samples, batches), then for epochs 0, `show_every`,
        2 `show_every`, ...: `Epoch: e, Time: ...sec` (since the last print),
        `Train Loss: ... Train Accuracy: ...%` and `Val Loss: ... Val Accuracy: ...%`
        (see `compat.blog_log`). Fills the blog's `train_loss`, `val_loss`, `train_acc`,
        `val_acc` dicts and returns the same `History` as `fit`.
        """
        from ..layers.base import check_positive_int
        from .blog_log import BlogLogger

        self._check_compiled("train")
        show_every = check_positive_int("show_every", show_every)
        if (val_x is None) != (val_y is None):
            raise ValueError("Pass both `val_x` and `val_y`, or neither.")
        validation_data = None if val_x is None else (val_x, val_y)
        total = _length(X)
        if validation_data is None and val_split and total is not None:
            X, Y, validation_data = _random_split(self.rng, X, Y, val_split)
        logger = BlogLogger(show_every, total=total, training=_length(X), found=val_x is not None,
                            validation=None if validation_data is None else _length(validation_data[0]),
                            batch_size=batch_size)
        return self.fit(X, Y, epochs=epochs, batch_size=batch_size, validation_data=validation_data,
                        shuffle=shuffle, verbose=0, callbacks=[logger])

    def on_epoch_logs(self, epoch: int, logs: dict) -> None:
        self.train_loss[epoch] = logs["loss"]
        if "val_loss" in logs:
            self.val_loss[epoch] = logs["val_loss"]
        for key in ("accuracy", "acc"):
            if key in logs:
                self.train_acc[epoch] = 100 * logs[key]
            if f"val_{key}" in logs:
                self.val_acc[epoch] = 100 * logs[f"val_{key}"]

    def feedforward(self, x):
        """The blog's name for `predict`."""
        return self.predict(x, verbose=0)

    def forward(self, x, training: bool = False):
        """Run a batch through every layer (no checks): the blog's feed-forward pass."""
        return self.run_graph([x], training)[0].value

    def save_model(self, path="model.json", model_class: str = "Sequential") -> None:
        """The blog's `save_model`: the blog's JSON at "model.json" by default.

        The suffix picks the format (`.json` the blog's JSON, `.barenet`/`.keras` barenet's
        zip file); `model_class` is the JSON's "model" value. See `barenet.saving.save_model`.
        """
        from .. import saving

        saving.save_model(self, path, model_class)

    @property
    def parameters(self) -> int:
        """Total parameters (the blog's `model.parameters`), recomputed on every read."""
        return self.count_params()

    def visualize(self, path=None):
        """The blog's figures: loss and accuracy per epoch, train vs validation (needs matplotlib).

        With `path`, saves one PNG (no display needed) and returns the path; otherwise shows them.
        """
        from ..plotting import visualize
        return visualize(self, path)

    # --- layer.input / layer.out -------------------------------------------------------------
    def note_single_sample(self, single: bool) -> None:
        """Called by `predict`: whether this call is one sample without a batch axis (then recorded)."""
        self._one_sample = single

    def run_graph(self, xs: list, training: bool) -> list:
        if training or not (self.record_activations or self.__dict__.get("_one_sample")):
            return super().run_graph(xs, training)
        return self._recorded_pass(xs)

    def _recorded_pass(self, xs: list) -> list:
        """The same inference pass, layer by layer, keeping each layer's input and output."""
        from ..autodiff import Tensor
        from ..layers.context import call_context

        one_sample = self.__dict__.pop("_one_sample", False) and len(xs[0]) == 1
        tensor = xs[0] if isinstance(xs[0], Tensor) else Tensor(xs[0])
        with call_context(rng=self.rng, dtype=self.dtype):
            for layer in self.layers:
                output = layer(tensor, training=False)
                _record(layer, tensor.value, output.value, one_sample)
                tensor = output
        return [tensor]


def _record(layer, x: np.ndarray, out: np.ndarray, one_sample: bool) -> None:
    """Set the blog's `layer.input` / `layer.out`, unless the layer uses those names itself."""
    for key, value in (("input", x), ("out", out)):
        if getattr(type(layer), key, None) is None and isinstance(layer.__dict__.get(key), (np.ndarray, type(None))):
            layer.__dict__[key] = value[0] if one_sample else value


def _random_split(rng, X, Y, val_split):
    """The blog's validation split: a random `int(len(X) * val_split)` rows (drawn with the model's
    generator, kept in their order) for validation, the rest for training. Keras's `fit` holds out
    the last rows instead; the blog's `train` keeps the post's behaviour."""
    if isinstance(val_split, bool) or not isinstance(val_split, numbers.Real) or not 0 <= val_split < 1:
        raise ValueError(f"`val_split` must be a number in [0, 1). Received: val_split={val_split!r}")
    X, Y = np.asarray(X), np.asarray(Y)
    n_val = int(len(X) * val_split)
    if n_val == 0:
        return X, Y, None
    if n_val == len(X):
        raise ValueError(f"`val_split={val_split}` leaves no training samples out of {len(X)}.")
    order = rng.permutation(len(X))
    val_rows, train_rows = np.sort(order[:n_val]), np.sort(order[n_val:])
    return X[train_rows], Y[train_rows], (X[val_rows], Y[val_rows])


def _length(data):
    return len(data) if hasattr(data, "__len__") else None
