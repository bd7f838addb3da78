"""The barenet side's timing, shared by every benchmark case (see benchmark.py and sequence_cases.py)."""

from __future__ import annotations

import time


def fit_and_time(model, x_train, y_fit, x_test, y_test, batch_size: int, epochs: int):
    """`fit` one epoch at a time: the seconds of each epoch, the seconds of `predict` over
    `x_test`, and the test accuracy (argmax of the predicted probabilities against `y_test`)."""
    import numpy as np

    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        model.fit(x_train, y_fit, epochs=1, batch_size=batch_size, verbose=0)
        times.append(time.perf_counter() - start)
    start = time.perf_counter()
    probabilities = model.predict(x_test, batch_size=batch_size, verbose=0)
    inference = time.perf_counter() - start
    return times, inference, float(np.mean(probabilities.argmax(axis=1) == y_test))
