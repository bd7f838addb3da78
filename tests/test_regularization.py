"""GaussianNoise (training only, seeded, statistics) and ActivityRegularization (penalty and gradient)."""

import numpy as np
import pytest
from gradcheck import assert_close, check_layer_gradients, numerical_grad

import barenet as bn


def test_gaussian_noise_only_in_training_with_its_stddev(rng):
    layer = bn.GaussianNoise(0.5, seed=7)
    layer.build((1000,), rng, "float64")
    x = np.zeros((20, 1000))
    np.testing.assert_array_equal(layer.forward(x, training=False), x)
    noise = layer.forward(x, training=True)
    assert abs(noise.std() - 0.5) < 0.01 and abs(noise.mean()) < 0.01
    again = bn.GaussianNoise(0.5, seed=7)
    again.build((1000,), rng, "float64")
    np.testing.assert_array_equal(again.forward(x, training=True), noise)  # its own seeded generator
    check_layer_gradients(layer, rng.normal(size=(2, 1000)), rng, training=False)
    layer.forward(x, training=True)
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), np.ones_like(x))


def test_gaussian_noise_from_the_models_generator_repeats_with_the_seed(rng):
    x = rng.normal(size=(16, 4)).astype(np.float32)
    y = rng.normal(size=(16, 1)).astype(np.float32)
    runs = []
    for _ in range(2):
        model = bn.Sequential([bn.Input((4,)), bn.GaussianNoise(0.3), bn.Dense(1)], seed=5)
        model.compile("sgd", "mse")
        model.fit(x, y, epochs=2, batch_size=4, verbose=0)
        runs.append(model.get_weights())
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


def test_activity_regularization_penalty_and_gradient(rng):
    x = rng.normal(size=(5, 4))
    y = rng.normal(size=(5, 1))
    model = bn.Sequential([bn.Input((4,)), bn.Dense(3, "tanh"), bn.ActivityRegularization(l1=0.02, l2=0.05),
                           bn.Dense(1)], dtype="float64", seed=0)
    model.compile("sgd", "mse")
    dense, head = model.layers[0], model.layers[2]

    def loss():
        hidden = np.tanh(x @ dense.params["weights"] + dense.params["biases"])
        out = hidden @ head.params["weights"] + head.params["biases"]
        return float(np.mean((out - y) ** 2) + 0.02 * np.abs(hidden).sum() + 0.05 * (hidden ** 2).sum())

    grads = model.compute_gradients(x, y)
    assert_close(grads[f"{dense.name}/weights"], numerical_grad(loss, dense.params["weights"]), rtol=1e-5, atol=1e-8)
    logs = model.train_on_batch(x, y)
    reported = logs["loss"] if isinstance(logs, dict) else (logs[0] if isinstance(logs, list) else logs)
    assert reported > 0


def test_configs_and_bad_arguments():
    layer = bn.ActivityRegularization(l1=0.1)
    assert bn.ActivityRegularization.from_config(layer.get_config()).get_config() == layer.get_config()
    with pytest.raises(ValueError, match="`l1`"):
        bn.ActivityRegularization(l1=-1)
    with pytest.raises(ValueError, match="`stddev` must be a number >= 0"):
        bn.GaussianNoise(-0.1)
    with pytest.raises(ValueError, match="`seed`"):
        bn.GaussianNoise(0.1, seed=-3)
