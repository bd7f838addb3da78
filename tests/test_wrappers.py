"""TimeDistributed: one layer's weights applied at every step, gradients, configs, saving, errors."""

import numpy as np
import pytest

import barenet as bn
from gradcheck import check_layer_gradients


def _built(layer, input_shape, dtype="float64"):
    layer.name = layer.name or "td"
    layer.build(input_shape, np.random.default_rng(0), dtype)
    return layer


def test_every_step_gets_the_same_layer(rng):
    layer = _built(bn.TimeDistributed(bn.Dense(3, "tanh")), (4, 2))
    x = rng.normal(size=(2, 4, 2))
    out = layer.forward(x)
    assert out.shape == (2, 4, 3) == (2, *layer.output_shape)
    dense = layer.layer
    np.testing.assert_allclose(out[:, 2], np.tanh(x[:, 2] @ dense.params["weights"] + dense.params["biases"]))
    assert layer.params is dense.params and layer.grads is dense.grads and layer.count_params() == 9


@pytest.mark.parametrize("make, shape", [
    (lambda: bn.Dense(3, "tanh", kernel_regularizer="l2"), (4, 2)),
    (lambda: bn.Conv1D(2, 2, padding="causal"), (3, 5, 2)),
    (lambda: bn.LSTM(2), (3, 4, 2)),
])
def test_gradients_match_finite_differences(make, shape, rng):
    layer = _built(bn.TimeDistributed(make()), shape)
    check_layer_gradients(layer, rng.normal(size=(2, *shape)), rng)


def test_config_round_trip_and_errors():
    layer = bn.TimeDistributed(bn.Dense(4, "relu"), name="td")
    config = layer.get_config()
    assert config["layer"]["class_name"] == "Dense"
    assert bn.TimeDistributed.from_config(config).get_config() == config
    with pytest.raises(ValueError, match="TimeDistributed's `layer` must be"):
        bn.TimeDistributed.from_config({**config, "layer": {"class_name": "Nope", "config": {}}})
    with pytest.raises(TypeError, match="`layer` must be a barenet Layer"):
        bn.TimeDistributed("dense")
    with pytest.raises(ValueError, match=r"'td' \(TimeDistributed\) expects sequences"):
        layer.build((4,), np.random.default_rng(0))
    built = _built(bn.Dense(2), (3,))
    with pytest.raises(ValueError, match="must not be built yet"):
        bn.TimeDistributed(built)


def test_per_step_model_trains_and_saves(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(128, 5, 2)).astype(np.float32)
    y = np.cumsum(x[..., :1], axis=1)  # running sum per step: (128, 5, 1)
    model = bn.Sequential([bn.SimpleRNN(8, return_sequences=True, input_shape=(5, 2)),
                           bn.TimeDistributed(bn.Dense(1))], seed=0)
    model.compile(bn.optimizers.Adam(0.02), "mse")
    history = model.fit(x, y, epochs=15, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 0.2 * history.history["loss"][0], history.history["loss"]
    model.save(tmp_path / "td.barenet")
    np.testing.assert_array_equal(bn.load_model(tmp_path / "td.barenet").predict(x), model.predict(x))


def test_each_call_keeps_its_own_cache(rng):
    """A second forward rebinds `_call`; restoring the first one's attributes (as a graph that
    calls a layer twice would) gives the first call's gradients."""
    layer = _built(bn.TimeDistributed(bn.LSTM(2)), (3, 4, 2))
    x1, x2 = rng.normal(size=(2, 3, 4, 2)), rng.normal(size=(2, 3, 4, 2))
    upstream = rng.normal(size=(2, 3, 2))
    layer.forward(x1)
    expected = layer.backward(upstream), {key: value.copy() for key, value in layer.grads.items()}
    layer.forward(x1)
    first_call = dict(vars(layer))
    layer.forward(x2)
    vars(layer).update(first_call)
    np.testing.assert_array_equal(layer.backward(upstream), expected[0])
    for key, value in expected[1].items():
        np.testing.assert_array_equal(layer.grads[key], value)
