"""Conv2D / Conv2d: shapes, gradients against finite differences, configs, bad arguments."""

import math

import numpy as np
import pytest

import barenet as bn
from gradcheck import check_layer_gradients


def _built(layer, input_shape, dtype="float64", seed=0):
    layer.name = layer.name or "conv"
    layer.build(input_shape, np.random.default_rng(seed), dtype)
    return layer


def _reference_conv(x, weights, biases, strides, pads):
    """Plain loops over output pixels: the definition, for checking the vectorized layer."""
    x = np.pad(x, ((0, 0), *pads, (0, 0)))
    kh, kw, _, filters = weights.shape
    oh = (x.shape[1] - kh) // strides[0] + 1
    ow = (x.shape[2] - kw) // strides[1] + 1
    out = np.zeros((len(x), oh, ow, filters))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, i * strides[0]:i * strides[0] + kh, j * strides[1]:j * strides[1] + kw, :]
            out[:, i, j, :] = np.tensordot(patch, weights, axes=3) + biases
    return out


@pytest.mark.parametrize("kernel", [1, 3, 5, (2, 3)])
@pytest.mark.parametrize("stride", [1, 2, (2, 1)])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_forward_matches_loop_definition_and_keras_sizes(kernel, stride, padding, rng):
    layer = _built(bn.Conv2D(3, kernel, strides=stride, padding=padding), (7, 9, 2))
    layer.params["biases"][:] = rng.normal(size=3)
    x = rng.normal(size=(2, 7, 9, 2))
    out = layer.forward(x)
    (kh, kw), (sh, sw) = layer.kernel_size, layer.strides
    if padding == "valid":
        expected_hw = ((7 - kh) // sh + 1, (9 - kw) // sw + 1)
        pads = ((0, 0), (0, 0))
    else:
        expected_hw = (math.ceil(7 / sh), math.ceil(9 / sw))
        totals = [max((o - 1) * s + k - n, 0) for o, s, k, n in zip(expected_hw, (sh, sw), (kh, kw), (7, 9))]
        pads = tuple((t // 2, t - t // 2) for t in totals)  # extra pad bottom/right, as Keras
    assert out.shape == (2, *expected_hw, 3) == (2, *layer.output_shape)
    np.testing.assert_allclose(out, _reference_conv(x, layer.params["weights"], layer.params["biases"],
                                                    (sh, sw), pads), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kernel", [1, 3, 5])
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_gradients_match_finite_differences(kernel, stride, padding, rng):
    layer = _built(bn.Conv2D(2, kernel, strides=stride, padding=padding, activation="tanh"), (7, 9, 2))
    layer.params["biases"][:] = rng.normal(size=2)
    check_layer_gradients(layer, rng.normal(size=(2, 7, 9, 2)), rng)


def test_gradients_without_bias_with_regularizer_and_rectangular_kernel(rng):
    layer = _built(bn.Conv2D(2, (2, 3), strides=(1, 2), use_bias=False, kernel_regularizer="l2"), (5, 6, 3))
    check_layer_gradients(layer, rng.normal(size=(2, 5, 6, 3)), rng)
    assert set(layer.params) == {"weights"}


def test_backward_preactivation_skips_activation_and_first_layer_skips_input_grad(rng):
    layer = _built(bn.Conv2D(2, 3, activation="relu"), (5, 5, 1))
    x, grad = rng.normal(size=(2, 5, 5, 1)), rng.normal(size=(2, 3, 3, 2))
    layer.forward(x)
    grad_x = layer.backward_preactivation(grad)
    weights_grad = layer.grads["weights"].copy()
    linear = _built(bn.Conv2D(2, 3), (5, 5, 1))
    linear.params["weights"][...] = layer.params["weights"]
    linear.forward(x)
    np.testing.assert_allclose(grad_x, linear.backward(grad))
    np.testing.assert_allclose(weights_grad, linear.grads["weights"])
    layer.needs_input_grad = False
    layer.forward(x)
    assert layer.backward_preactivation(grad) is None
    np.testing.assert_allclose(layer.grads["weights"], weights_grad)


@pytest.mark.parametrize("fast_path", [True, False])
def test_a_relu_with_keras_arguments_is_not_fused_as_the_plain_one(fast_path, rng):
    """Conv2D applies a plain ReLU inside its pass; a ReLU object with a slope runs as itself."""
    from barenet import fast

    fast.set_enabled(fast_path)
    try:
        layer = bn.layers.Conv2D(4, 3, activation=bn.activations.ReLU(negative_slope=0.5))
        x = rng.normal(size=(2, 6, 6, 1)).astype(np.float32)
        out = np.asarray(layer(x))
        linear = bn.layers.Conv2D(4, 3)
        linear.build(x.shape[1:], np.random.default_rng(0), "float32")
        linear.set_weights(layer.get_weights())
        z = np.asarray(linear(x))
        np.testing.assert_allclose(out, np.where(z < 0, 0.5 * z, z), rtol=1e-6, atol=1e-6)
        assert out.min() < 0
    finally:
        fast.set_enabled(True)


def test_params_layout_glorot_fans_and_float32(rng):
    layer = _built(bn.Conv2D(16, 5, input_shape=(12, 12, 3)), (12, 12, 3), dtype="float32")
    assert layer.params["weights"].shape == (5, 5, 3, 16) and layer.params["biases"].shape == (16,)
    assert layer.count_params() == 5 * 5 * 3 * 16 + 16
    limit = np.sqrt(6 / (5 * 5 * 3 + 5 * 5 * 16))
    assert np.abs(layer.params["weights"]).max() <= limit
    assert layer.params["weights"].std() == pytest.approx(limit / np.sqrt(3), rel=0.05)
    x = rng.normal(size=(2, 12, 12, 3)).astype(np.float32)
    out = layer.forward(x)
    assert out.dtype == np.float32
    assert layer.backward(np.ones_like(out)).dtype == np.float32
    assert layer.grads["weights"].dtype == np.float32


def test_blog_spelling_zero_padding_and_given_kernel():
    kernel = np.zeros((3, 3, 1, 1))
    kernel[1, 1, 0, 0] = 2.0  # identity times two
    layer = bn.Conv2d(input_shape=(4, 5, 1), filters=1, kernel_size=(3, 3), stride=(1, 1), padding="zero",
                      kernel=kernel, bias=np.array([1.0]), activation=None)
    model = bn.NN(dtype="float64")
    model.add(layer)
    assert isinstance(layer, bn.Conv2D) and layer.padding == "same" and layer.output_shape == (4, 5, 1)
    x = np.arange(20.0).reshape(1, 4, 5, 1)
    np.testing.assert_allclose(model.predict(x), 2 * x + 1)
    assert bn.Conv2d(filters=2, padding="valid").padding == "valid"
    assert bn.Conv2d(filters=2, padding=None).padding == "valid"


@pytest.mark.parametrize("layer", [
    bn.Conv2D(4, (3, 2), strides=(2, 1), padding="same", activation="relu", use_bias=False,
              kernel_initializer="he_normal", kernel_regularizer="l2", input_shape=(8, 8, 3), name="c"),
    bn.Conv2d(input_shape=(8, 8, 3), filters=2, kernel_size=5, stride=2, padding="zero", activation="tanh"),
])
def test_config_round_trip(layer):
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    assert type(clone).__name__ in bn.layers.LAYERS
    for attribute in ("filters", "kernel_size", "strides", "padding", "use_bias"):
        assert getattr(clone, attribute) == getattr(layer, attribute)


@pytest.mark.parametrize("kwargs, match", [
    ({"filters": 0, "kernel_size": 3}, "`filters` must be a positive integer. Received: filters=0"),
    ({"filters": 2.5, "kernel_size": 3}, "`filters` must be a positive integer"),
    ({"filters": 2, "kernel_size": 0}, "`kernel_size` must be a positive integer or a pair.*kernel_size=0"),
    ({"filters": 2, "kernel_size": (3, 1.5)}, "`kernel_size`"),
    ({"filters": 2, "kernel_size": (3, 3, 3)}, "`kernel_size`"),
    ({"filters": 2, "kernel_size": 3, "strides": 0}, "`strides` must be a positive integer.*strides=0"),
    ({"filters": 2, "kernel_size": 3, "strides": -1}, "`strides`"),
    ({"filters": 2, "kernel_size": 3, "strides": True}, "`strides`"),
    ({"filters": 2, "kernel_size": 3, "padding": "full"}, "`padding` must be one of 'valid', 'same'.*'full'"),
    ({"filters": 2, "kernel_size": 3, "activation": "relu7"}, "Unknown activation 'relu7'"),
])
def test_bad_arguments_raise_value_error_naming_them(kwargs, match):
    with pytest.raises(ValueError, match=match):
        bn.Conv2D(**kwargs)


def test_blog_unknown_padding_lists_zero():
    with pytest.raises(ValueError, match="`padding` must be one of 'valid', 'same', 'zero'"):
        bn.Conv2d(filters=2, padding="reflect")


@pytest.mark.parametrize("shape", [(4, 6, 1), (6, 4, 2)])
def test_kernel_larger_than_input_raises_at_build(shape):
    # With "same" padding the padded input always holds the kernel; "valid" may not.
    model = bn.Sequential()
    with pytest.raises(ValueError, match="`kernel_size` \\(5, 5\\).*larger than its input"):
        model.add(bn.Conv2D(2, 5, input_shape=shape))
    assert not model.layers


def test_wrong_input_rank_or_channels_raise_before_anything_runs(rng):
    model = bn.Sequential([bn.Conv2D(2, 3, input_shape=(6, 6, 3)), bn.Flatten(), bn.Dense(2, "softmax")], seed=0)
    model.compile("sgd", "categorical_crossentropy")
    before = model.get_weights()
    with pytest.raises(ValueError, match="expects \\(6, 6, 3\\)"):
        model.fit(rng.normal(size=(4, 6, 6, 1)), np.eye(2)[[0, 1, 0, 1]], verbose=0)
    with pytest.raises(ValueError, match="expects \\(6, 6, 3\\)"):
        model.predict(rng.normal(size=(4, 6, 6)))
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)
    layer = model.layers[0]
    with pytest.raises(ValueError, match="'conv2d'.*input_shape=\\(6, 6, 3\\).*Received: input_shape=\\(6, 6, 1\\)"):
        layer.forward(rng.normal(size=(4, 6, 6, 1)).astype(np.float32))
    with pytest.raises(ValueError, match="Received: input_shape=\\(6, 3\\) \\(a batch of shape \\(6, 6, 3\\)\\)"):
        layer.forward(rng.normal(size=(6, 6, 3)).astype(np.float32))
    with pytest.raises(ValueError, match="expects images of shape \\(height, width, channels\\).*input_shape=\\(36,\\)"):
        bn.Sequential([bn.Conv2D(2, 3, input_shape=(36,))])


def test_default_names_read_like_keras():
    model = bn.Sequential([bn.Conv2D(2, 3, input_shape=(8, 8, 1)), bn.Conv2D(2, 3), bn.Conv2d(filters=2),
                           bn.MaxPooling2D(), bn.BatchNormalization(), bn.GlobalAveragePooling2D()])
    assert [layer.name for layer in model.layers] == [
        "conv2d", "conv2d_1", "conv2d_2", "max_pooling2d", "batch_normalization", "global_average_pooling2d"]
