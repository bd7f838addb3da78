"""UpSampling1D/2D, ZeroPadding1D/2D, Cropping1D/2D: values, gradients, argument forms, errors."""

import numpy as np
import pytest

import barenet as bn
from gradcheck import check_layer_gradients


def _built(layer, input_shape, dtype="float64"):
    layer.name = layer.name or "resize"
    layer.build(input_shape, np.random.default_rng(0), dtype)
    return layer


CASES = [  # layer, sample shape, expected output for a given x
    (lambda: bn.UpSampling1D(3), (4, 2), lambda x: np.repeat(x, 3, axis=1)),
    (lambda: bn.UpSampling2D((2, 3)), (3, 4, 2), lambda x: np.repeat(np.repeat(x, 2, axis=1), 3, axis=2)),
    (lambda: bn.UpSampling2D(2), (3, 4, 2), lambda x: np.repeat(np.repeat(x, 2, axis=1), 2, axis=2)),
    (lambda: bn.ZeroPadding1D((1, 2)), (4, 2), lambda x: np.pad(x, ((0, 0), (1, 2), (0, 0)))),
    (lambda: bn.ZeroPadding1D(), (4, 2), lambda x: np.pad(x, ((0, 0), (1, 1), (0, 0)))),
    (lambda: bn.ZeroPadding2D(), (3, 4, 2), lambda x: np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))),
    (lambda: bn.ZeroPadding2D((2, 1)), (3, 4, 2), lambda x: np.pad(x, ((0, 0), (2, 2), (1, 1), (0, 0)))),
    (lambda: bn.ZeroPadding2D(((0, 1), (2, 3))), (3, 4, 2), lambda x: np.pad(x, ((0, 0), (0, 1), (2, 3), (0, 0)))),
    (lambda: bn.Cropping1D((1, 2)), (5, 2), lambda x: x[:, 1:3]),
    (lambda: bn.Cropping1D(1), (5, 2), lambda x: x[:, 1:4]),
    (lambda: bn.Cropping2D(((1, 0), (1, 2))), (4, 5, 2), lambda x: x[:, 1:, 1:3]),
    (lambda: bn.Cropping2D((1, 1)), (4, 5, 2), lambda x: x[:, 1:3, 1:4]),
    (lambda: bn.Cropping2D(), (4, 5, 2), lambda x: x),
]


@pytest.mark.parametrize("make, shape, expected", CASES)
def test_values_shapes_gradients_and_configs(make, shape, expected, rng):
    layer = _built(make(), shape)
    x = rng.normal(size=(2, *shape))
    out = layer.forward(x)
    np.testing.assert_array_equal(out, expected(x))
    assert out.shape == (2, *layer.output_shape)
    check_layer_gradients(layer, x, rng)
    config = layer.get_config()
    assert type(layer).from_config(config).get_config() == config


def test_upsampling_matches_torch_nearest(rng):
    torch = pytest.importorskip("torch")
    layer = _built(bn.UpSampling2D((2, 3)), (3, 4, 2))
    x = rng.normal(size=(2, 3, 4, 2))
    out = layer.forward(x)
    upstream = rng.normal(size=out.shape)
    grad_x = layer.backward(upstream)
    tx = torch.tensor(x.transpose(0, 3, 1, 2).copy(), requires_grad=True)
    tout = torch.nn.functional.interpolate(tx, scale_factor=(2, 3), mode="nearest")
    tout.backward(torch.tensor(upstream.transpose(0, 3, 1, 2).copy()))
    np.testing.assert_allclose(out, tout.detach().numpy().transpose(0, 2, 3, 1), rtol=1e-6)
    np.testing.assert_allclose(grad_x, tx.grad.numpy().transpose(0, 2, 3, 1), rtol=1e-6)


def test_bad_arguments_and_shapes_name_the_layer():
    with pytest.raises(ValueError, match="`interpolation` must be 'nearest'"):
        bn.UpSampling2D(interpolation="bilinear")
    with pytest.raises(ValueError, match="`padding` must be a non-negative integer or a pair"):
        bn.ZeroPadding1D((1, 2, 3))
    with pytest.raises(ValueError, match="`padding` must be .* or a pair of pairs"):
        bn.ZeroPadding2D(((1, 2), (3,)))
    with pytest.raises(ValueError, match="`cropping` must be a non-negative integer or a pair"):
        bn.Cropping1D(-1)
    with pytest.raises(ValueError, match="`size` must be a positive integer"):
        bn.UpSampling1D(0)
    with pytest.raises(ValueError, match=r"`cropping` \(2, 3\) of layer 'crop' removes all 5 steps"):
        bn.Cropping1D((2, 3), name="crop").build((5, 1), np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"'crop' removes a whole 4x5 image"):
        bn.Cropping2D(((0, 0), (3, 2)), name="crop").build((4, 5, 1), np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"'up' \(UpSampling2D\) expects images of shape \(height, width, channels\)"):
        bn.UpSampling2D(name="up").build((4, 5), np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"'pad' \(ZeroPadding1D\) expects sequences of shape \(steps, channels\)"):
        bn.ZeroPadding1D(name="pad").build((4, 5, 1), np.random.default_rng(0))


def test_image_model_with_padding_cropping_and_upsampling_trains():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(128, 4, 4, 1)).astype(np.float32)
    y = x.mean(axis=(1, 2))  # (128, 1)
    model = bn.Sequential([bn.UpSampling2D(2, input_shape=(4, 4, 1)), bn.ZeroPadding2D(1),
                           bn.Conv2D(2, 3, activation="relu"), bn.Cropping2D(1), bn.Flatten(), bn.Dense(1)], seed=0)
    model.compile(bn.optimizers.Adam(0.01), "mse")
    history = model.fit(x, y, epochs=10, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 0.3 * history.history["loss"][0], history.history["loss"]
