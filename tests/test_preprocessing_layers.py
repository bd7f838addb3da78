"""Rescaling and Normalization (adapt, fixed statistics, invert): values, gradients, saving."""

import numpy as np
import pytest
from gradcheck import check_layer_gradients

import barenet as bn


def test_rescaling_values_and_gradient(rng):
    layer = bn.Rescaling(1 / 127.5, offset=-1)
    layer.build((2, 2, 1), rng, "float64")
    x = rng.uniform(0, 255, size=(3, 2, 2, 1))
    np.testing.assert_allclose(layer.forward(x), x / 127.5 - 1)
    check_layer_gradients(layer, x, rng)


def test_normalization_adapt_gives_zero_mean_unit_variance_per_feature(rng):
    data = rng.normal(loc=[1.0, -5.0, 20.0], scale=[0.5, 2.0, 10.0], size=(500, 3))
    layer = bn.Normalization()
    layer.adapt(data)
    np.testing.assert_allclose(layer.state["mean"], data.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(layer.state["variance"], data.var(axis=0), rtol=1e-5)
    out = layer(data.astype(np.float32)).numpy()
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(out.std(axis=0), 1, atol=1e-4)


def test_adapt_on_batches_combines_exactly(rng):
    data = rng.normal(size=(90, 4, 3)) * 3 + 2
    whole, batched = bn.Normalization(axis=-1), bn.Normalization(axis=-1)
    whole.adapt(data)
    batched.adapt(iter([data[:10], data[10:55], data[55:]]))
    np.testing.assert_allclose(batched.state["mean"], whole.state["mean"], rtol=1e-6)
    np.testing.assert_allclose(batched.state["variance"], whole.state["variance"], rtol=1e-6)
    assert whole.state["mean"].shape == (3,)  # one mean per kept position, as Keras stores it


def test_axis_none_and_tuple(rng):
    data = rng.normal(size=(20, 4, 3)) + 3
    scalar = bn.Normalization(axis=None)
    scalar.adapt(data)
    assert scalar.state["mean"].shape == ()
    np.testing.assert_allclose(scalar.state["mean"], data.mean(), rtol=1e-6)
    both = bn.Normalization(axis=(1, 2))
    both.adapt(data)
    np.testing.assert_allclose(both.state["variance"], data.var(axis=0), rtol=1e-5)


def test_fixed_statistics_invert_and_epsilon(rng):
    layer = bn.Normalization(mean=[1.0, 2.0], variance=[4.0, 0.0])
    layer.build((2,), rng, "float64")
    x = rng.normal(size=(5, 2))
    expected = (x - [1.0, 2.0]) / np.array([2.0, bn.config.epsilon()])
    np.testing.assert_allclose(layer.forward(x), expected)
    assert layer.count_params() == 0 and layer.state == {}
    inverse = bn.Normalization(mean=[1.0, 2.0], variance=[4.0, 9.0], invert=True)
    inverse.build((2,), rng, "float64")
    np.testing.assert_allclose(inverse.forward(x), x * [2.0, 3.0] + [1.0, 2.0])
    check_layer_gradients(inverse, x, rng)
    normal = bn.Normalization(mean=[1.0, 2.0], variance=[4.0, 9.0])
    normal.build((2,), rng, "float64")
    check_layer_gradients(normal, x, rng)


def test_adapted_statistics_are_saved_with_the_model(tmp_path, rng):
    data = rng.normal(size=(50, 3)) * 4 + 1
    norm = bn.Normalization()
    norm.adapt(data)
    model = bn.Sequential([bn.Input((3,)), norm, bn.Dense(2)], seed=0)
    assert [w.name for w in norm.non_trainable_weights] == ["mean", "variance"]
    model.save(tmp_path / "m.barenet")
    loaded = bn.load_model(tmp_path / "m.barenet")
    np.testing.assert_allclose(loaded.predict(data.astype(np.float32)), model.predict(data.astype(np.float32)))


@pytest.mark.parametrize("make, error, match", [
    (lambda: bn.Normalization(axis=0), ValueError, "batch axis"),
    (lambda: bn.Normalization(mean=[1.0]), ValueError, "both `mean` and `variance`"),
    (lambda: bn.Normalization(axis="x"), ValueError, "`axis`"),
    (lambda: bn.Rescaling("a"), TypeError, "`scale` must be a number"),
])
def test_bad_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_adapt_refuses_fixed_statistics_and_empty_data():
    with pytest.raises(ValueError, match="adapt"):
        bn.Normalization(mean=0.0, variance=1.0).adapt(np.ones((3, 2)))
    with pytest.raises(ValueError, match="no data"):
        bn.Normalization().adapt(iter([]))
