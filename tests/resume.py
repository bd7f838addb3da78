"""A shared check: training that is saved and loaded halfway ends exactly where uninterrupted training does."""

import numpy as np

import barenet as bn


def assert_resumes_exactly(make, x, y, tmp_path, compare_predictions=True):
    """Fit `make()` for 3 epochs straight, and another `make()` for 2 epochs, saved, loaded and fitted
    for 1 more: the weights must be bit-identical (with `compare_predictions`, the loaded model must
    also predict exactly as the saved one). Returns the straight run's loss history."""
    straight = make()
    history = straight.fit(x, y, epochs=3, batch_size=8, verbose=0).history["loss"]
    resumed = make()
    resumed.fit(x, y, epochs=2, batch_size=8, verbose=0)
    resumed.save(tmp_path / "m.barenet")
    loaded = bn.load_model(tmp_path / "m.barenet")
    if compare_predictions:
        np.testing.assert_array_equal(loaded.predict(x), resumed.predict(x))
    loaded.fit(x, y, epochs=1, batch_size=8, verbose=0)
    for a, b in zip(straight.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    return history
