"""Pooling layers: loop-definition forward, finite-difference gradients, configs, bad arguments."""

import math

import numpy as np
import pytest

import barenet as bn
from gradcheck import check_layer_gradients

KERAS = {"max": bn.MaxPooling2D, "average": bn.AveragePooling2D}


def _built(layer, input_shape, dtype="float64"):
    layer.name = layer.name or "pool"
    layer.build(input_shape, np.random.default_rng(0), dtype)
    return layer


def _pool(kind, pool, stride, padding):
    if kind == "min":
        return bn.Pool2d(pool, stride, kind="min", padding=padding)
    return KERAS[kind](pool, stride, padding)


def _reference_pool(x, kind, pool, stride, padding):
    """Loops over output pixels; "same" windows are clipped to the image (padding ignored)."""
    n, h, w, c = x.shape
    (ph, pw), (sh, sw) = pool, stride
    if padding == "valid":
        oh, ow, top, left = (h - ph) // sh + 1, (w - pw) // sw + 1, 0, 0
    else:
        oh, ow = math.ceil(h / sh), math.ceil(w / sw)
        top = max((oh - 1) * sh + ph - h, 0) // 2
        left = max((ow - 1) * sw + pw - w, 0) // 2
    reduce = {"max": np.max, "min": np.min, "average": np.mean}[kind]
    out = np.zeros((n, oh, ow, c))
    for i in range(oh):
        for j in range(ow):
            r0, c0 = i * sh - top, j * sw - left
            window = x[:, max(r0, 0):r0 + ph, max(c0, 0):c0 + pw, :]
            out[:, i, j, :] = reduce(window, axis=(1, 2))
    return out


CASES = [((2, 2), None), ((3, 3), (2, 2)), ((3, 2), (1, 2)), ((2, 2), (3, 3)), ((1, 1), None), ((5, 5), (2, 2))]


@pytest.mark.parametrize("kind", ["max", "average", "min"])
@pytest.mark.parametrize("pool, stride", CASES)
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_forward_matches_loop_definition(kind, pool, stride, padding, rng):
    layer = _built(_pool(kind, pool, stride, padding), (7, 9, 2))
    x = rng.normal(size=(2, 7, 9, 2))
    out = layer.forward(x)
    assert out.shape == (2, *layer.output_shape)
    np.testing.assert_allclose(out, _reference_pool(x, kind, pool, stride or pool, padding), rtol=1e-12)


@pytest.mark.parametrize("kind", ["max", "average", "min"])
@pytest.mark.parametrize("pool, stride", CASES)
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_gradients_match_finite_differences(kind, pool, stride, padding, rng):
    layer = _built(_pool(kind, pool, stride, padding), (7, 9, 2))
    # A permutation of well-separated values: no ties, so max/min are differentiable.
    x = rng.permutation(2 * 7 * 9 * 2).reshape(2, 7, 9, 2) * 0.1
    check_layer_gradients(layer, x.astype(np.float64), rng)


def test_max_gradient_goes_to_the_first_maximum_only():
    layer = _built(bn.MaxPooling2D(2), (2, 4, 1))
    x = np.array([[[3.0], [3.0], [1.0], [2.0]], [[3.0], [0.0], [2.0], [2.0]]])[None]
    np.testing.assert_array_equal(layer.forward(x), [[[[3.0], [2.0]]]])
    grad = layer.backward(np.array([[[[1.0], [5.0]]]]))
    np.testing.assert_array_equal(grad[0, :, :, 0], [[1, 0, 0, 5], [0, 0, 0, 0]])
    # Overlapping windows: [3 3; 3 0] -> (0, 0); [3 1; 0 2] -> (0, 1); [1 2; 2 2] -> (0, 3), the first 2.
    overlapping = _built(bn.MaxPooling2D(2, strides=1), (2, 4, 1))
    overlapping.forward(x)
    np.testing.assert_array_equal(overlapping.backward(np.ones((1, 1, 3, 1)))[0, :, :, 0], [[1, 1, 0, 1], [0, 0, 0, 0]])


def test_same_average_excludes_padding_like_keras():
    layer = _built(bn.AveragePooling2D(2, padding="same"), (3, 3, 1))
    x = np.arange(9.0).reshape(1, 3, 3, 1)
    np.testing.assert_allclose(layer.forward(x)[0, :, :, 0], [[2.0, 3.5], [6.5, 8.0]])


def test_global_average_pooling(rng):
    layer = _built(bn.GlobalAveragePooling2D(), (5, 4, 3))
    x = rng.normal(size=(2, 5, 4, 3))
    np.testing.assert_allclose(layer.forward(x), x.mean(axis=(1, 2)))
    assert layer.output_shape == (3,)
    check_layer_gradients(layer, x, rng)


@pytest.mark.parametrize("layer", [
    bn.MaxPooling2D((3, 2), strides=(1, 2), padding="same", input_shape=(8, 8, 1), name="p"),
    bn.AveragePooling2D(3),
    bn.Pool2d(kernel_size=(2, 3), stride=2, kind="min", padding="zero"),
    bn.GlobalAveragePooling2D(input_shape=(4, 4, 2)),
])
def test_config_round_trip(layer):
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    assert type(clone).__name__ in bn.layers.LAYERS


def test_blog_pool2d_defaults_and_kinds():
    layer = bn.Pool2d()
    assert layer.pool_size == (2, 2) == layer.strides and layer.kind == "max" and layer.padding == "valid"
    assert bn.Pool2d(kind="average", stride=(1, 1)).strides == (1, 1)


@pytest.mark.parametrize("make, match", [
    (lambda: bn.MaxPooling2D(0), "`pool_size` must be a positive integer or a pair.*pool_size=0"),
    (lambda: bn.MaxPooling2D(2, strides=(2, 0)), "`strides` must be.*strides=\\(2, 0\\)"),
    (lambda: bn.AveragePooling2D(2.0), "`pool_size`"),
    (lambda: bn.MaxPooling2D(2, padding="zero"), "`padding` must be one of 'valid', 'same'. Received: padding='zero'"),
    (lambda: bn.Pool2d(kind="median"), "`kind` must be one of 'max', 'average', 'min'. Received: kind='median'"),
    (lambda: bn.Pool2d(kernel_size=(2, -2)), "`pool_size`"),
])
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_pool_larger_than_input_and_wrong_input_raise(rng):
    with pytest.raises(ValueError, match="`pool_size` \\(3, 3\\).*larger than its input"):
        bn.Sequential([bn.MaxPooling2D(3, input_shape=(2, 5, 1))])
    with pytest.raises(ValueError, match="expects images of shape"):
        bn.Sequential([bn.Dense(4, input_dim=3), bn.MaxPooling2D(2)])
    layer = _built(bn.MaxPooling2D(2), (4, 4, 2))
    with pytest.raises(ValueError, match="input_shape=\\(4, 4, 2\\).*Received: input_shape=\\(4, 4, 3\\)"):
        layer.forward(rng.normal(size=(1, 4, 4, 3)))


def test_float32_stays_float32(rng):
    for layer in (bn.MaxPooling2D(3, 2, "same"), bn.AveragePooling2D(3, 2, "same"), bn.AveragePooling2D(),
                  bn.GlobalAveragePooling2D()):
        _built(layer, (6, 7, 2), dtype="float32")
        out = layer.forward(rng.normal(size=(2, 6, 7, 2)).astype(np.float32))
        assert out.dtype == np.float32
        assert layer.backward(np.ones_like(out)).dtype == np.float32
