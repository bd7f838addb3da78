"""Flatten, Reshape, Dropout."""

import numpy as np
import pytest

import barenet as bn
from gradcheck import check_layer_gradients


def _built(layer, input_shape, dtype="float64", seed=0):
    layer.name = layer.name or "layer"
    layer.build(input_shape, np.random.default_rng(seed), dtype)
    return layer


def test_flatten_is_channels_last_row_major_and_reversible(rng):
    layer = _built(bn.Flatten(), (2, 3, 4))
    x = rng.normal(size=(5, 2, 3, 4))
    out = layer.forward(x)
    assert out.shape == (5, 24) and layer.output_shape == (24,)
    np.testing.assert_array_equal(out[1], x[1].ravel())
    np.testing.assert_array_equal(layer.backward(out), x)
    check_layer_gradients(layer, x, rng)


@pytest.mark.parametrize("target, expected", [((6, 4), (6, 4)), ((-1, 2), (12, 2)), (24, (24,)), ((2, -1, 3), (2, 4, 3))])
def test_reshape(target, expected, rng):
    layer = _built(bn.Reshape(target), (4, 6))
    x = rng.normal(size=(3, 4, 6))
    assert layer.output_shape == expected
    np.testing.assert_array_equal(layer.forward(x), x.reshape(3, *expected))
    check_layer_gradients(layer, x, rng)


@pytest.mark.parametrize("target", [(0, 4), (-1, -1), (2.0, 3), "ab", (), (True, 2)])
def test_reshape_bad_target(target):
    with pytest.raises(ValueError, match="`target_shape` must be a tuple of positive integers"):
        bn.Reshape(target)


def test_reshape_that_does_not_fit_raises_at_build():
    with pytest.raises(ValueError, match="`target_shape` \\(5, -1\\).*does not fit samples of 24 values"):
        bn.Sequential([bn.Reshape((5, -1), input_shape=(4, 6))])
    with pytest.raises(ValueError, match="`target_shape`"):
        bn.Sequential([bn.Reshape((5, 5), input_shape=(4, 6))])


def test_dropout_is_identity_at_inference(rng):
    layer = _built(bn.Dropout(0.5), (100,))
    x = rng.normal(size=(8, 100))
    assert layer.forward(x) is x
    np.testing.assert_array_equal(layer.backward(x), x)


def test_dropout_training_drops_rate_and_scales_kept_values():
    layer = _built(bn.Dropout(0.3), (1000,))
    x = np.ones((50, 1000))
    out = layer.forward(x, training=True)
    dropped = np.mean(out == 0)
    assert dropped == pytest.approx(0.3, abs=0.01)
    np.testing.assert_allclose(out[out != 0], 1 / 0.7)
    assert out.mean() == pytest.approx(1.0, abs=0.02)  # inverted dropout keeps the expectation
    grad = layer.backward(np.full_like(x, 2.0))
    np.testing.assert_allclose(grad, 2.0 * out)


def test_dropout_gradient_matches_finite_differences_for_a_fixed_mask(rng):
    layer = _built(bn.Dropout(0.4), (3, 4))
    x = rng.normal(size=(2, 3, 4))
    out = layer.forward(x, training=True)
    mask = layer._keep / (1 - 0.4)  # the kept entries, scaled
    np.testing.assert_allclose(out, x * mask)
    grad = layer.backward(np.ones_like(out))
    np.testing.assert_allclose(grad, mask)  # d sum(x * mask) / dx


def test_dropout_same_seed_same_mask_and_global_rng_untouched():
    np.random.seed(7)
    global_state = np.random.get_state()[1].copy()
    masks = []
    for _ in range(2):
        model = bn.Sequential([bn.Dropout(0.5, input_shape=(64,))], seed=11)
        masks.append(model.forward(np.ones((4, 64), np.float32), training=True))
    np.testing.assert_array_equal(masks[0], masks[1])
    other = bn.Sequential([bn.Dropout(0.5, input_shape=(64,))], seed=12).forward(np.ones((4, 64), np.float32), training=True)
    assert not np.array_equal(masks[0], other)
    np.testing.assert_array_equal(np.random.get_state()[1], global_state)
    assert masks[0].dtype == np.float32


def test_dropout_blog_prob_alias_and_zero_rate(rng):
    assert bn.Dropout(prob=0.25).rate == 0.25 == bn.Dropout(0.25).prob
    assert bn.Dropout().rate == 0.5
    layer = _built(bn.Dropout(0.0), (3,))
    x = rng.normal(size=(2, 3))
    np.testing.assert_array_equal(layer.forward(x, training=True), x)


@pytest.mark.parametrize("kwargs", [{"rate": 1.0}, {"rate": -0.1}, {"rate": "0.5"}, {"prob": 1.5}, {"rate": True}])
def test_dropout_bad_rate(kwargs):
    with pytest.raises(ValueError, match="`rate` must be a number in \\[0, 1\\). Received: rate="):
        bn.Dropout(**kwargs)


def test_dropout_rate_and_prob_together():
    with pytest.raises(ValueError, match="not both"):
        bn.Dropout(0.2, prob=0.3)


# --- Dropout's Keras options: noise_shape, seed; spatial dropout -------------------------------------
@pytest.mark.parametrize("shape", [(5,), (4, 6), (3, 4, 5), (2, 3, 4, 5)])
def test_dropout_on_any_rank_with_a_seed_is_reproducible(shape):
    x = np.ones((6, *shape))
    outs = [_built(bn.Dropout(0.5, seed=3), shape).forward(x, training=True) for _ in range(2)]
    np.testing.assert_array_equal(outs[0], outs[1])
    assert set(np.unique(outs[0])) <= {0.0, 2.0} and 0 < np.mean(outs[0] == 0) < 1
    other = _built(bn.Dropout(0.5, seed=4), shape).forward(x, training=True)
    assert not np.array_equal(outs[0], other)


def test_dropout_noise_shape_shares_one_draw_along_axes_of_size_one(rng):
    layer = _built(bn.Dropout(0.5, noise_shape=(None, 1, 5), seed=0), (4, 5))
    out = layer.forward(np.ones((30, 4, 5)), training=True)
    assert (out == out[:, :1, :]).all()  # the same mask along the axis of size 1
    assert 0.3 < np.mean(out == 0) < 0.7
    with pytest.raises(ValueError, match="`noise_shape` of layer .* does not broadcast"):
        _built(bn.Dropout(0.5, noise_shape=(None, 3, 5)), (4, 5)).forward(np.ones((2, 4, 5)), training=True)


@pytest.mark.parametrize("bad", [(0, 1), "abc", (None, -1), (1.5,), 3])
def test_dropout_bad_noise_shape_is_named(bad):
    with pytest.raises(ValueError, match="`noise_shape` must be a tuple"):
        bn.Dropout(0.5, noise_shape=bad)


@pytest.mark.parametrize("bad", [-1, 1.5, "7", True])
def test_dropout_bad_seed_is_named(bad):
    with pytest.raises(ValueError, match="`seed` must be a non-negative integer"):
        bn.Dropout(0.5, seed=bad)


@pytest.mark.parametrize("make,shape,maps", [
    (lambda: bn.SpatialDropout2D(0.4, seed=1), (5, 6, 8), lambda o: o.transpose(0, 3, 1, 2)),
    (lambda: bn.SpatialDropout2D(0.4, data_format="channels_first", seed=1), (8, 5, 6), lambda o: o),
    (lambda: bn.SpatialDropout1D(0.4, seed=1), (7, 8), lambda o: o.transpose(0, 2, 1)),
])
def test_spatial_dropout_drops_whole_feature_maps_like_pytorch(make, shape, maps, rng):
    torch = pytest.importorskip("torch")
    layer = _built(make(), shape)
    x = rng.uniform(1, 2, size=(40, *shape))
    out = layer.forward(x, training=True)
    grad = layer.backward(np.ones_like(out))
    # PyTorch's Dropout2d/Dropout1d (channels first): each (sample, channel) map is all zeros or
    # x / (1 - rate); the same holds here, and the gradient is that map's mask.
    theirs = torch.nn.functional.dropout2d(torch.tensor(maps(x)).flatten(2)[..., None], 0.4, training=True).numpy()
    for values, source in ((maps(out), maps(x)), (theirs.reshape(maps(x).shape), maps(x))):
        flat, src = values.reshape(40, values.shape[1], -1), source.reshape(40, values.shape[1], -1)
        zero = (flat == 0).all(axis=2)
        np.testing.assert_allclose(flat[~zero], src[~zero] / 0.6)
        assert 0.2 < zero.mean() < 0.6
    np.testing.assert_allclose(grad, out / x)


def test_spatial_dropout_gradient_matches_finite_differences_for_a_fixed_mask(rng):
    layer = _built(bn.SpatialDropout2D(0.5, seed=2), (3, 4, 5))
    x = rng.normal(size=(2, 3, 4, 5))
    out = layer.forward(x, training=True)
    mask = layer._keep / 0.5
    assert mask.shape == (2, 1, 1, 5)
    np.testing.assert_allclose(out, x * mask)
    projection = rng.normal(size=out.shape)
    np.testing.assert_allclose(layer.backward(projection), projection * mask)  # d sum(P * x * mask) / dx


def test_spatial_dropout_config_round_trip_and_rank_check():
    layer = bn.SpatialDropout2D(0.3, data_format="channels_first", seed=9)
    assert type(layer).from_config(layer.get_config()).get_config() == layer.get_config()
    with pytest.raises(ValueError, match="SpatialDropout2D.*expects images"):
        bn.Sequential([bn.SpatialDropout2D(0.3, input_shape=(4, 5))])
    with pytest.raises(ValueError, match="`data_format` must be"):
        bn.SpatialDropout2D(0.3, data_format="NHWC")
