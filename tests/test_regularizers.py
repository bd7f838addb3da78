"""Weight penalties: values, gradients, names, and their place in the model's loss and updates."""

import json

import numpy as np
import pytest

import barenet as bn
from barenet import regularizers
from gradcheck import assert_close, numerical_grad

W = np.array([[1.0, -2.0], [0.0, 3.0]])


def test_penalty_values_match_the_definitions():
    assert regularizers.l1(0.1)(W) == pytest.approx(0.1 * 6)
    assert regularizers.l2(0.1)(W) == pytest.approx(0.1 * 14)
    assert regularizers.l1_l2(0.1, 0.2)(W) == pytest.approx(0.1 * 6 + 0.2 * 14)
    assert regularizers.L1L2()(W) == 0.0


def test_names_and_functions_default_to_0_01():
    assert regularizers.get("l1").l1 == 0.01
    assert regularizers.get("L2").l2 == 0.01
    both = regularizers.get("l1_l2")
    assert (both.l1, both.l2) == (0.01, 0.01)
    assert regularizers.get(None) is None
    with pytest.raises(ValueError, match="Unknown regularizer 'l3'.*l1, l2, l1_l2"):
        regularizers.get("l3")


@pytest.mark.parametrize("reg", [regularizers.l1(0.3), regularizers.l2(0.3), regularizers.l1_l2(0.2, 0.4)],
                         ids=["l1", "l2", "l1_l2"])
def test_gradient_matches_finite_differences(reg, rng):
    w = rng.normal(size=(3, 4))            # no entry at 0, where |w| has no derivative
    assert_close(reg.gradient(w), numerical_grad(lambda: reg(w), w))


@pytest.mark.parametrize("make, name", [
    (lambda: regularizers.l1(-0.1), "l1"),
    (lambda: regularizers.l2(float("nan")), "l2"),
    (lambda: regularizers.L1L2(l1="a"), "l1"),
])
def test_invalid_factor(make, name):
    with pytest.raises(ValueError, match=f"`{name}` must be a non-negative number"):
        make()


def _model(kernel_reg, bias_reg, dtype="float64"):
    return bn.Sequential([
        bn.Dense(5, "tanh", input_dim=3, kernel_regularizer=kernel_reg, bias_regularizer=bias_reg),
        bn.Dense(2, "softmax", kernel_regularizer=kernel_reg),
    ], seed=4, dtype=dtype)


def test_reported_loss_includes_the_penalty(rng):
    x, labels = rng.normal(size=(10, 3)), rng.integers(0, 2, 10)
    y = bn.to_categorical(labels, 2)
    plain, reg = _model(None, None), _model("l2", regularizers.l1(0.05))
    for m in (plain, reg):
        m.compile(bn.optimizers.SGD(0.1), "categorical_crossentropy")
    reg.set_weights(plain.get_weights())
    first, second = reg.layers
    penalty = (0.01 * np.sum(first.weights**2) + 0.05 * np.sum(np.abs(first.biases))
               + 0.01 * np.sum(second.weights**2))
    assert reg.evaluate(x, y, return_dict=True)["loss"] == pytest.approx(plain.evaluate(x, y, return_dict=True)["loss"] + penalty, rel=1e-12)
    assert reg.train_on_batch(x, y, return_dict=True)["loss"] == pytest.approx(plain.train_on_batch(x, y, return_dict=True)["loss"] + penalty, rel=1e-12)


def test_fit_logs_the_penalised_loss(rng):
    x, labels = rng.normal(size=(8, 3)), rng.integers(0, 2, 8)
    y = bn.to_categorical(labels, 2)
    model = _model(regularizers.l2(0.5), None)
    model.compile(bn.optimizers.SGD(0.0), "categorical_crossentropy")   # lr 0: the weights stay put
    expected = model.evaluate(x, y, return_dict=True)["loss"]
    assert model.layers[0].regularization_loss() > 0.1
    history = model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-12)


def test_gradients_include_the_penalty(rng):
    """One SGD step with lr 1 moves each parameter by the gradient of (loss + penalties)."""
    x, labels = rng.normal(size=(6, 3)), rng.integers(0, 2, 6)
    y = bn.to_categorical(labels, 2)
    model = _model(regularizers.l1_l2(0.03, 0.2), regularizers.l2(0.3))
    model.compile(bn.optimizers.SGD(1.0), "categorical_crossentropy")
    before = model.get_weights()
    model.train_on_batch(x, y, return_dict=True)
    analytic = [b - a for b, a in zip(before, model.get_weights())]
    model.set_weights(before)
    arrays = [p for layer in model.layers for p in layer.params.values()]
    for array, grad in zip(arrays, analytic):
        assert_close(grad, numerical_grad(lambda: model.evaluate(x, y, return_dict=True)["loss"], array), rtol=1e-5, atol=1e-8)


def test_l2_training_ends_with_smaller_weights(rng):
    x = rng.normal(size=(64, 3))
    y = bn.to_categorical((x[:, 0] > 0).astype(int), 2)
    norms = []
    for reg in (None, regularizers.l2(0.01)):
        model = _model(reg, None, dtype="float32")
        model.compile(bn.optimizers.Adam(0.02), "categorical_crossentropy")
        model.fit(x, y, epochs=20, batch_size=16, verbose=0)
        norms.append(sum(float(np.sum(layer.weights**2)) for layer in model.layers))
    assert norms[1] < 0.8 * norms[0], norms


def test_dense_config_round_trip_keeps_regularizers():
    layer = bn.Dense(4, kernel_regularizer=regularizers.l1_l2(0.1, 0.2), bias_regularizer="l1", input_dim=3)
    config = json.loads(json.dumps(layer.get_config()))
    clone = bn.Dense.from_config(config)
    assert clone.get_config() == layer.get_config()
    assert (clone.kernel_regularizer.l1, clone.kernel_regularizer.l2, clone.bias_regularizer.l1) == (0.1, 0.2, 0.01)
    ffl = bn.FFL(input_shape=3, neurons=2, kernel_regularizer="l2")
    assert bn.FFL.from_config(ffl.get_config()).kernel_regularizer.l2 == 0.01


def test_layer_without_regularizers_adds_nothing():
    layer = bn.Dense(2, input_dim=3)
    assert layer.regularizers == {} and layer.regularization_loss() == 0.0
    assert bn.Dense(2, use_bias=False, bias_regularizer="l2").regularizers == {}
