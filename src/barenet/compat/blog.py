"""The blog's API, as a thin layer over the Keras one.

The post's spelling keeps the post's behaviour; everything here calls the Keras
methods underneath:

    NN()                        Sequential()
    compile_model(lr, mr, opt, loss, metrics)  compile(optimizers.from_blog(opt, lr, mr), loss, metrics)
    train(X, Y, epochs, show_every, batch_size, shuffle, val_split, val_x, val_y)
                                fit(...) with the post's per-epoch lines
    feedforward(x)              predict(x)
    train_loss/val_loss/train_acc/val_acc   per-epoch dicts (accuracy in percent)
    save_model(path)            save(path) (the blog's JSON for a `.json` path)
    parameters                  count_params()
    loss="cse"                  binary cross-entropy on a single output, categorical otherwise
"""

from __future__ import annotations

from .. import losses, optimizers


class BlogModel:
    """The blog's methods and records, mixed into `Sequential` (so `NN is Sequential`)."""

    def _init_blog_records(self) -> None:
        # The blog's per-epoch records (accuracy in percent, as the blog prints it).
        self.train_loss: dict[int, float] = {}
        self.val_loss: dict[int, float] = {}
        self.train_acc: dict[int, float] = {}
        self.val_acc: dict[int, float] = {}

    def compile_model(self, lr: float = 0.01, mr: float = 0.001, opt: str = "sgd", loss: str = "mse",
                      metrics=("mse",)) -> None:
        """Configure training (the blog's spelling); see `barenet.optimizers.from_blog` for `opt`."""
        self.compile(optimizers.from_blog(opt, lr, mr), loss, metrics=list(metrics))

    def _resolve_loss(self, loss):
        # The blog's "cse" means binary cross-entropy on a single output, categorical otherwise.
        if isinstance(loss, str) and loss.lower() == "cse" and getattr(self.layers[-1], "units", None) == 1:
            return losses.BinaryCrossentropy()
        return super()._resolve_loss(loss)

    def train(self, X, Y, epochs: int, show_every: int = 1, batch_size: int = 32, shuffle: bool = True,
              val_split: float = 0.1, val_x=None, val_y=None):
        """Train (the blog's spelling): prints loss and accuracy every `show_every` epochs.

        Fills the blog's `train_loss`, `val_loss`, `train_acc`, `val_acc` dicts and
        returns the same `History` as `fit`.
        """
        from ..layers.base import check_positive_int
        from ..progress import ProgressLogger

        self._check_compiled("train")
        show_every = check_positive_int("show_every", show_every)
        if (val_x is None) != (val_y is None):
            raise ValueError("Pass both `val_x` and `val_y`, or neither.")
        validation_data = None if val_x is None else (val_x, val_y)
        return self.fit(X, Y, epochs=epochs, batch_size=batch_size, validation_split=val_split,
                        validation_data=validation_data, shuffle=shuffle, verbose=0,
                        callbacks=[ProgressLogger(verbose=2, every=show_every)])

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
        return self.predict(x)

    def forward(self, x, training: bool = False):
        """Run a batch through every layer (no checks): the blog's feed-forward pass."""
        return self.run_graph([x], training)[0].value

    def save_model(self, path="model.barenet") -> None:
        """The blog's name for `save` (the blog's JSON when `path` ends in `.json`)."""
        self.save(path)

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


