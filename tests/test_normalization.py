"""BatchNormalization: statistics, moving averages, train vs inference, gradients, configs."""

import numpy as np
import pytest

import barenet as bn
from gradcheck import check_layer_gradients


def _built(layer, input_shape, dtype="float64"):
    layer.name = layer.name or "bn"
    layer.build(input_shape, np.random.default_rng(0), dtype)
    return layer


@pytest.mark.parametrize("shape", [(5,), (4, 3, 2)])
def test_training_normalizes_with_batch_statistics_per_feature(shape, rng):
    layer = _built(bn.BatchNormalization(), shape)
    x = rng.normal(3.0, 2.0, size=(16, *shape))
    out = layer.forward(x, training=True)
    axes = tuple(range(out.ndim - 1))
    expected = (x - x.mean(axis=axes)) / np.sqrt(x.var(axis=axes) + 1e-3)
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    np.testing.assert_allclose(out.mean(axis=axes), 0, atol=1e-12)


def test_moving_statistics_update_and_are_used_at_inference(rng):
    layer = _built(bn.BatchNormalization(momentum=0.9, epsilon=1e-5), (3,))
    layer.params["gamma"][:] = [1.0, 2.0, 0.5]
    layer.params["beta"][:] = [0.0, 1.0, -1.0]
    x = rng.normal(1.0, 3.0, size=(32, 3))
    train_out = layer.forward(x, training=True)
    np.testing.assert_allclose(layer.state["moving_mean"], 0.1 * x.mean(axis=0))
    np.testing.assert_allclose(layer.state["moving_variance"], 0.9 + 0.1 * x.var(axis=0))  # biased variance
    infer_out = layer.forward(x)
    expected = (x - layer.state["moving_mean"]) / np.sqrt(layer.state["moving_variance"] + 1e-5) \
        * layer.params["gamma"] + layer.params["beta"]
    np.testing.assert_allclose(infer_out, expected)
    assert not np.allclose(train_out, infer_out)
    moving = {key: value.copy() for key, value in layer.state.items()}
    layer.forward(x)  # inference leaves the moving statistics alone
    for key in moving:
        np.testing.assert_array_equal(layer.state[key], moving[key])


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(4,), (3, 5, 2)])
@pytest.mark.parametrize("center, scale", [(True, True), (False, True), (True, False)])
def test_gradients_match_finite_differences(training, shape, center, scale, rng):
    layer = _built(bn.BatchNormalization(center=center, scale=scale), shape)
    for key in layer.params:
        layer.params[key][:] = rng.normal(size=layer.params[key].shape)
    layer.state["moving_mean"][:] = rng.normal(size=shape[-1])
    layer.state["moving_variance"][:] = rng.uniform(0.5, 2.0, size=shape[-1])
    layer.momentum = 1.0  # keep the moving statistics fixed while differencing
    x = rng.normal(size=(6, *shape))
    check_layer_gradients(layer, x, rng, training=training)
    assert set(layer.params) == {k for k, on in (("gamma", scale), ("beta", center)) if on}


def test_float32_stays_float32(rng):
    layer = _built(bn.BatchNormalization(), (4, 4, 3), dtype="float32")
    x = rng.normal(size=(8, 4, 4, 3)).astype(np.float32)
    for training in (True, False):
        out = layer.forward(x, training=training)
        assert out.dtype == np.float32 and layer.backward(out).dtype == np.float32
    assert all(v.dtype == np.float32 for v in [*layer.params.values(), *layer.state.values(), *layer.grads.values()])


def test_config_round_trip_and_counts():
    layer = bn.BatchNormalization(momentum=0.9, epsilon=1e-5, center=False, input_shape=(3,), name="bn")
    clone = bn.BatchNormalization.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    model = bn.Sequential([bn.BatchNormalization(input_shape=(8,))])
    assert model.count_params() == 16  # gamma and beta; the moving statistics are state, not params


@pytest.mark.parametrize("kwargs, match", [
    ({"momentum": 1.5}, "`momentum` must be a number in \\[0, 1\\]. Received: momentum=1.5"),
    ({"epsilon": 0}, "`epsilon` must be a positive number. Received: epsilon=0"),
    ({"axis": "last"}, "`axis` must be an integer"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        bn.BatchNormalization(**kwargs)


def test_only_last_axis_and_input_checked(rng):
    with pytest.raises(ValueError, match="last axis only. Received: axis=1"):
        bn.Sequential([bn.BatchNormalization(axis=1, input_shape=(4, 4, 2))])
    assert bn.Sequential([bn.BatchNormalization(axis=3, input_shape=(4, 4, 2))]).built
    layer = _built(bn.BatchNormalization(), (3,))
    with pytest.raises(ValueError, match="Received: input_shape=\\(4,\\)"):
        layer.forward(rng.normal(size=(2, 4)))


def test_summary_counts_moving_statistics_as_non_trainable():
    model = bn.Sequential([bn.Conv2D(8, 3, input_shape=(8, 8, 1)), bn.BatchNormalization(), bn.Flatten(), bn.Dense(10)])
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "Total params: 3,002" in text  # 80 + 32 + 2,890, BatchNormalization's 32 as Keras counts them
    assert "Trainable params: 2,986" in text and "Non-trainable params: 16" in text
    assert model.count_params() == 2986


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
def test_a_skipped_step_puts_the_moving_statistics_back():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((64, 4)).astype("float32"), rng.integers(0, 3, 64)
    model = bn.Sequential([bn.Dense(8, input_dim=4), bn.BatchNormalization(), bn.Dense(3, "softmax")], seed=0)
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    layer = model.layers[1]
    before = {key: value.copy() for key, value in layer.state.items()}
    weights = model.get_weights()
    logs = model.train_on_batch(np.full((16, 4), 3e38, "float32"), y[:16], return_dict=True)  # the loss overflows
    assert not np.isfinite(logs["loss"])
    for key, value in layer.state.items():
        np.testing.assert_array_equal(value, before[key])
    for got, want in zip(model.get_weights(), weights):
        np.testing.assert_array_equal(got, want)
