"""The barenet side's timing, shared by every benchmark case (see benchmark.py and sequence_cases.py)."""

from __future__ import annotations

import time


def fit_and_time(model, x_train, y_fit, x_test, y_test, batch_size: int, epochs: int):
    """One `fit` over `epochs`, timed per epoch by a callback (as a Keras user times epochs; the
    data are checked once, when `fit` starts, as PyTorch's tensors are made once): the seconds of
    each epoch, the seconds of `predict` over `x_test`, and the test accuracy (argmax of the
    predicted probabilities against `y_test`)."""
    import numpy as np

    import barenet as bn

    times = []

    class EpochTimer(bn.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.start)

    model.fit(x_train, y_fit, epochs=epochs, batch_size=batch_size, verbose=0, callbacks=[EpochTimer()])
    start = time.perf_counter()
    probabilities = model.predict(x_test, batch_size=batch_size, verbose=0)
    inference = time.perf_counter() - start
    return times, inference, float(np.mean(probabilities.argmax(axis=1) == y_test))
