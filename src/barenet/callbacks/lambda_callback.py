"""`LambdaCallback` and `TerminateOnNaN`: small callbacks from functions."""

from __future__ import annotations

import math

from .base import HOOKS, Callback


class LambdaCallback(Callback):
    """A callback built from functions: `LambdaCallback(on_epoch_end=lambda epoch, logs: ...)`.

    Any hook name of `Callback` may be given (`on_train_batch_end`, `on_test_begin`,
    `on_predict_batch_end`, the legacy `on_batch_end`, ...); each function takes the same
    arguments as the hook it replaces.
    """

    def __init__(self, **hooks):
        super().__init__()
        for name, function in hooks.items():
            if name not in HOOKS:
                raise TypeError(f"Unknown hook {name!r}. Expected one of: {', '.join(HOOKS)}.")
            if function is not None and not callable(function):
                raise TypeError(f"`{name}` must be callable. Received: {type(function).__name__}")
            if function is not None:
                setattr(self, name, function)


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch's loss is NaN or infinite.

    barenet's `fit` already does this by itself (and keeps the last good weights);
    the callback exists for code written for Keras.
    """

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: invalid loss {loss}, terminating training.")
            self.model.stop_training = True
