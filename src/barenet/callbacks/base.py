"""`Callback`, the hooks of `fit`, `evaluate` and `predict`, and `CallbackList`, which calls them."""

from __future__ import annotations

HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
         "on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end",
         "on_test_begin", "on_test_end", "on_test_batch_begin", "on_test_batch_end",
         "on_predict_begin", "on_predict_end", "on_predict_batch_begin", "on_predict_batch_end")


class Callback:
    """Base class of callbacks: every hook does nothing.

    Hooks and their arguments (Keras 3's): `on_train_begin/end(logs)`,
    `on_epoch_begin/end(epoch, logs)`, `on_train_batch_begin/end(batch, logs)`,
    `on_test_begin/end(logs)`, `on_test_batch_begin/end(batch, logs)` (in `evaluate` and in
    `fit`'s validation), `on_predict_begin/end(logs)`, `on_predict_batch_begin/end(batch, logs)`.
    `on_batch_begin/end` are the legacy names: the default `on_train_batch_*` call them.
    `on_epoch_end`'s logs hold the epoch's training values and the `val_` ones;
    `on_train_batch_end`'s the running values of the epoch so far; `on_test_end`'s the
    evaluation's; `on_predict_batch_end`'s `{"outputs": batch_outputs}`.

    `self.model` is the model; `self.params` holds `verbose`, `epochs` and `steps` (batches
    per epoch, None when unknown). Setting `self.model.stop_training = True` ends `fit` after
    the current batch's epoch finishes (its validation and `on_epoch_end` still run).
    """

    def __init__(self):
        self.model = None
        self.params: dict = {}

    def set_model(self, model) -> None:
        self.model = model

    def set_params(self, params: dict) -> None:
        self.params = dict(params)

    def on_train_begin(self, logs=None): ...
    def on_train_end(self, logs=None): ...
    def on_epoch_begin(self, epoch, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...
    def on_batch_begin(self, batch, logs=None): ...
    def on_batch_end(self, batch, logs=None): ...
    def on_test_begin(self, logs=None): ...
    def on_test_end(self, logs=None): ...
    def on_test_batch_begin(self, batch, logs=None): ...
    def on_test_batch_end(self, batch, logs=None): ...
    def on_predict_begin(self, logs=None): ...
    def on_predict_end(self, logs=None): ...
    def on_predict_batch_begin(self, batch, logs=None): ...
    def on_predict_batch_end(self, batch, logs=None): ...

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)


class BatchCounter:
    """Counts training batches across epochs for a `save_freq` given in batches: `due(batch)` is
    True once every `every` batches (batch numbers restart at 0 each epoch)."""

    def __init__(self, every: int):
        self.every, self._since, self._last = every, 0, 0

    def due(self, batch: int) -> bool:
        self._since += batch + 1 if batch <= self._last else batch - self._last
        self._last = batch
        if self._since < self.every:
            return False
        self._since = 0
        return True


def batch_counter(save_freq) -> BatchCounter | None:
    """None for `save_freq="epoch"`, a `BatchCounter` for a positive integer; anything else is an error."""
    if save_freq == "epoch":
        return None
    if isinstance(save_freq, bool) or not isinstance(save_freq, int) or save_freq < 1:
        raise ValueError(f"`save_freq` must be 'epoch' or a positive integer. Received: save_freq={save_freq!r}")
    return BatchCounter(save_freq)


def check_callbacks(callbacks) -> list:
    """`callbacks` (None or an iterable of `Callback`) as a list, or a clear TypeError."""
    if isinstance(callbacks, CallbackList):
        return callbacks.callbacks
    if isinstance(callbacks, Callback):
        raise TypeError("`callbacks` must be a list of Callback objects. Received: a single "
                        f"{type(callbacks).__name__} (wrap it in a list)")
    callbacks = list(callbacks or [])
    for callback in callbacks:
        if not isinstance(callback, Callback):
            raise TypeError(f"`callbacks` must hold Callback objects. Received: {type(callback).__name__}")
    return callbacks


def _overrides(callback, hook: str) -> bool:
    """Whether `callback.hook` is anything but `Callback`'s empty (or forwarding) method."""
    method = getattr(callback, hook, None)
    return getattr(method, "__func__", method) is not getattr(Callback, hook)


class CallbackList:
    """Calls each hook on several callbacks, in order (`History` and the progress bar are added last,
    as Keras does)."""

    def __init__(self, callbacks=None, model=None, params=None, add_history: bool = False, progress=None):
        from .history import History

        self.callbacks = check_callbacks(callbacks)
        if add_history:
            history = next((c for c in self.callbacks if isinstance(c, History)), None)
            if history is None:
                history = History()
                self.callbacks.append(history)
            model.history = history
        if progress is not None and not any(isinstance(c, type(progress)) for c in self.callbacks):
            self.callbacks.append(progress)  # unless the caller passed their own
        self.model, self.params = model, dict(params or {})
        for callback in self.callbacks:
            if model is not None:
                callback.set_model(model)
            if params is not None:
                callback.set_params(params)

    def implements(self, hook: str) -> bool:
        """Whether any callback does something in `hook` ("on_train_batch_begin" or "..._end" also
        count a callback's legacy `on_batch_*`): the loops leave out the batch hooks, and the batch
        logs, that no callback would use (Callback's own hooks do nothing)."""
        legacy = {"on_train_batch_begin": "on_batch_begin", "on_train_batch_end": "on_batch_end"}.get(hook)
        return any(_overrides(callback, hook) or (legacy is not None and _overrides(callback, legacy))
                   for callback in self.callbacks)

    def _call(self, hook: str, *args, logs=None):
        logs = {} if logs is None else logs
        for callback in self.callbacks:
            getattr(callback, hook)(*args, logs)

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", logs=logs)

    def on_train_end(self, logs=None):
        self._call("on_train_end", logs=logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, logs=logs)

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, logs=logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._call("on_train_batch_begin", batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self._call("on_train_batch_end", batch, logs=logs)

    on_batch_begin, on_batch_end = on_train_batch_begin, on_train_batch_end

    def on_test_begin(self, logs=None):
        self._call("on_test_begin", logs=logs)

    def on_test_end(self, logs=None):
        self._call("on_test_end", logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._call("on_test_batch_begin", batch, logs=logs)

    def on_test_batch_end(self, batch, logs=None):
        self._call("on_test_batch_end", batch, logs=logs)

    def on_predict_begin(self, logs=None):
        self._call("on_predict_begin", logs=logs)

    def on_predict_end(self, logs=None):
        self._call("on_predict_end", logs=logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._call("on_predict_batch_begin", batch, logs=logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._call("on_predict_batch_end", batch, logs=logs)
