import numpy as np
import pytest

import barenet as bn
from barenet import activations
from gradcheck import assert_close, numerical_grad


def _built(layer, input_shape, dtype="float64", seed=0):
    layer.name = layer.name or "layer"
    layer.build(input_shape, np.random.default_rng(seed), dtype)
    return layer


@pytest.mark.parametrize("activation", sorted(activations.ACTIVATIONS))
@pytest.mark.parametrize("use_bias", [True, False])
def test_dense_gradients_match_finite_differences(activation, use_bias, rng):
    layer = _built(bn.Dense(3, activation=activation, use_bias=use_bias), (4,))
    x = rng.normal(size=(5, 4))
    upstream = rng.normal(size=(5, 3))

    def f():
        return float(np.sum(layer.forward(x) * upstream))

    layer.forward(x)
    grad_x = layer.backward(upstream)
    for key in layer.params:
        assert_close(layer.grads[key], numerical_grad(f, layer.params[key]))
    assert_close(grad_x, numerical_grad(f, x))


def test_contract_shapes_params_and_config():
    layer = _built(bn.Dense(7, activation="relu"), (3,), dtype="float32")
    assert layer.weights.shape == (3, 7) and layer.biases.shape == (7,)
    assert layer.weights.dtype == np.float32
    assert layer.output_shape == (7,)
    assert layer.count_params() == 3 * 7 + 7 == layer.parameters
    assert set(layer.grads) == set(layer.params) == {"weights", "biases"}
    assert layer.params["weights"] is layer.weights
    clone = bn.Dense.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    assert layer.forward(np.ones((2, 3), np.float32)).shape == (2, 7)


def test_ffl_keeps_blog_names_and_given_weights():
    w = np.arange(6, dtype=float).reshape(2, 3)
    layer = bn.FFL(2, 3, bias=np.ones(3), weights=w, activation="tanh")
    model = bn.NN(dtype="float64")
    model.add(layer)
    assert isinstance(layer, bn.Dense)
    assert layer.neurons == 3 and layer.isbias and layer.activation.name == "tanh"
    np.testing.assert_array_equal(layer.weights, w)
    np.testing.assert_array_equal(layer.biases, np.ones(3))
    np.testing.assert_allclose(model.predict(np.array([[1.0, 1.0]])), np.tanh([[3 + 1, 5 + 1, 7 + 1]]))
    clone = bn.FFL.from_config(layer.get_config())
    assert clone.neurons == 3 and clone.activation.name == "tanh"


def test_weights_setter_updates_in_place_and_checks_shape():
    model = bn.Sequential([bn.Dense(2, input_dim=2)])
    layer = model.layers[0]
    array = layer.params["weights"]
    layer.weights = np.eye(2)
    assert layer.params["weights"] is array
    np.testing.assert_array_equal(array, np.eye(2))
    with pytest.raises(ValueError, match="must have shape \\(2, 2\\)"):
        layer.weights = np.zeros((3, 2))


def test_glorot_scale_not_unscaled_randn():
    layer = _built(bn.Dense(500), (500,), seed=3)
    limit = np.sqrt(6 / 1000)
    assert np.abs(layer.weights).max() <= limit
    assert layer.weights.std() == pytest.approx(limit / np.sqrt(3), rel=0.02)


@pytest.mark.parametrize("kwargs, match", [
    ({"units": 0}, "`units` must be a positive integer. Received: units=0"),
    ({"units": 2.5}, "`units`"),
    ({"units": 3, "activation": "relu7"}, "Unknown activation 'relu7'"),
    ({"units": 3, "kernel_initializer": "glorot"}, "Unknown initializer 'glorot'"),
    ({"units": 3, "input_dim": -1}, "`input_shape`"),
])
def test_bad_constructor_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        bn.Dense(**kwargs)


def test_dense_on_sequences_acts_on_the_last_axis(rng):
    from gradcheck import check_layer_gradients

    layer = bn.Dense(3, activation="tanh", name="d")
    layer.build((4, 2, 5), rng, "float64")
    x = rng.normal(size=(2, 4, 2, 5))
    out = layer.forward(x)
    assert out.shape == (2, 4, 2, 3) and layer.output_shape == (4, 2, 3)
    np.testing.assert_allclose(out, np.tanh(x @ layer.params["weights"] + layer.params["biases"]))
    check_layer_gradients(layer, x, rng)


def test_dense_softmax_over_a_sequence_trains(rng):
    x = rng.normal(size=(16, 5, 4)).astype("float32")
    y = bn.utils.to_categorical(x[..., 0] > 0, 2)
    model = bn.Sequential([bn.Input(shape=(5, 4)), bn.Dense(8, activation="relu"), bn.Dropout(0.1),
                           bn.Dense(2, activation="softmax")], seed=0)
    model.compile(bn.optimizers.Adam(0.05), "categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=15, batch_size=8, verbose=0).history
    assert model.predict(x).shape == (16, 5, 2)
    assert history["loss"][-1] < 0.5 * history["loss"][0]
