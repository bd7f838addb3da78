"""Conv1DTranspose / Conv2DTranspose: Keras's output sizes, the adjoint of Conv1D/Conv2D,
gradients against finite differences and PyTorch's conv_transpose, configs, errors."""

import numpy as np
import pytest

import barenet as bn
from gradcheck import check_layer_gradients

OPTIONS_1D = [  # kernel, strides, dilation, padding
    (3, 1, 1, "valid"), (3, 2, 1, "valid"), (2, 3, 1, "valid"), (3, 2, 2, "valid"), (1, 2, 1, "valid"),
    (3, 1, 1, "same"), (3, 2, 1, "same"), (4, 2, 1, "same"), (2, 3, 1, "same"), (3, 2, 2, "same"),
]
OPTIONS_2D = [((3, 3), (1, 1), "valid"), ((3, 2), (2, 1), "valid"), ((2, 2), (3, 2), "valid"),
              ((3, 3), (2, 2), "same"), ((4, 3), (2, 3), "same")]


def _built(layer, input_shape, dtype="float64", rng=None):
    layer.name = layer.name or "deconv"
    layer.build(input_shape, np.random.default_rng(0), dtype)
    if rng is not None and layer.use_bias:
        layer.params["biases"][:] = rng.normal(size=layer.filters)
    return layer


def _keras_length(size, kernel, stride, dilation, padding):
    span = dilation * (kernel - 1) + 1
    return size * stride + max(span - stride, 0) if padding == "valid" else size * stride


@pytest.mark.parametrize("kernel, strides, dilation, padding", OPTIONS_1D)
def test_1d_is_the_adjoint_of_conv1d_with_keras_sizes(kernel, strides, dilation, padding, rng):
    """<deconv(x), y> == <x, conv(y)> with the same kernel: the definition of a transposed convolution."""
    layer = _built(bn.Conv1DTranspose(3, kernel, strides, padding, dilation, use_bias=False), (5, 2))
    steps = _keras_length(5, kernel, strides, dilation, padding)
    assert layer.output_shape == (steps, 3)
    conv = _built(bn.Conv1D(2, kernel, strides, padding, dilation, use_bias=False), (steps, 3))
    assert conv.output_shape == (5, 2)
    conv.params["weights"][...] = layer.params["weights"]  # Keras: (k, filters, in) is the conv's (k, in, out)
    x, y = rng.normal(size=(2, 5, 2)), rng.normal(size=(2, steps, 3))
    np.testing.assert_allclose(np.sum(layer.forward(x) * y), np.sum(x * conv.forward(y)), rtol=1e-12)


@pytest.mark.parametrize("kernel, strides, padding", OPTIONS_2D)
def test_2d_is_the_adjoint_of_conv2d_with_keras_sizes(kernel, strides, padding, rng):
    layer = _built(bn.Conv2DTranspose(3, kernel, strides, padding, use_bias=False), (4, 3, 2))
    out_hw = tuple(_keras_length(n, k, s, 1, padding) for n, k, s in zip((4, 3), kernel, strides))
    assert layer.output_shape == (*out_hw, 3)
    conv = _built(bn.Conv2D(2, kernel, strides, padding, use_bias=False), (*out_hw, 3))
    assert conv.output_shape == (4, 3, 2)
    conv.params["weights"][...] = layer.params["weights"]
    x, y = rng.normal(size=(2, 4, 3, 2)), rng.normal(size=(2, *out_hw, 3))
    np.testing.assert_allclose(np.sum(layer.forward(x) * y), np.sum(x * conv.forward(y)), rtol=1e-12)


@pytest.mark.parametrize("kernel, strides, dilation, padding", OPTIONS_1D)
def test_1d_gradients_match_finite_differences(kernel, strides, dilation, padding, rng):
    layer = _built(bn.Conv1DTranspose(2, kernel, strides, padding, dilation, activation="tanh"), (4, 2), rng=rng)
    check_layer_gradients(layer, rng.normal(size=(2, 4, 2)), rng)


@pytest.mark.parametrize("kernel, strides, padding", OPTIONS_2D)
def test_2d_gradients_match_finite_differences(kernel, strides, padding, rng):
    layer = _built(bn.Conv2DTranspose(2, kernel, strides, padding, dilation_rate=1, kernel_regularizer="l2"),
                   (3, 2, 2), rng=rng)
    check_layer_gradients(layer, rng.normal(size=(2, 3, 2, 2)), rng)


def _torch_reference(torch, function, x, weights, biases, upstream, strides, dilation, crops):
    """torch's full transposed convolution (no padding), zero-extended and cropped as Keras does."""
    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(weights, requires_grad=True)
    tb = torch.tensor(biases, requires_grad=True)
    full = function(tx, tw, None, stride=strides, dilation=dilation)
    extend = [max(0, start + size - length) for (start, size), length in zip(crops, full.shape[2:])]
    pad = [p for e in reversed(extend) for p in (0, e)]
    full = torch.nn.functional.pad(full, pad)
    index = (slice(None), slice(None)) + tuple(slice(start, start + size) for start, size in crops)
    out = full[index] + tb.reshape(1, -1, *[1] * len(crops))
    out.backward(torch.tensor(upstream))
    return out.detach().numpy(), tx.grad.numpy(), tw.grad.numpy(), tb.grad.numpy()


@pytest.mark.parametrize("kernel, strides, dilation, padding", OPTIONS_1D)
def test_1d_matches_torch(kernel, strides, dilation, padding, rng):
    torch = pytest.importorskip("torch")
    layer = _built(bn.Conv1DTranspose(4, kernel, strides, padding, dilation), (5, 3), rng=rng)
    x = rng.normal(size=(2, 5, 3))
    out = layer.forward(x)
    upstream = rng.normal(size=out.shape)
    grad_x = layer.backward(upstream)
    span = dilation * (kernel - 1) + 1
    start = 0 if padding == "valid" else max(span - strides, 0) // 2
    expected = _torch_reference(torch, torch.nn.functional.conv_transpose1d, x.transpose(0, 2, 1).copy(),
                                layer.params["weights"].transpose(2, 1, 0).copy(), layer.params["biases"],
                                upstream.transpose(0, 2, 1).copy(), strides, dilation, [(start, out.shape[1])])
    close = dict(rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(out, expected[0].transpose(0, 2, 1), **close)
    np.testing.assert_allclose(grad_x, expected[1].transpose(0, 2, 1), **close)
    np.testing.assert_allclose(layer.grads["weights"], expected[2].transpose(2, 1, 0), **close)
    np.testing.assert_allclose(layer.grads["biases"], expected[3], **close)


@pytest.mark.parametrize("kernel, strides, padding", OPTIONS_2D)
def test_2d_matches_torch(kernel, strides, padding, rng):
    torch = pytest.importorskip("torch")
    layer = _built(bn.Conv2DTranspose(4, kernel, strides, padding), (4, 3, 2), rng=rng)
    x = rng.normal(size=(2, 4, 3, 2))
    out = layer.forward(x)
    upstream = rng.normal(size=out.shape)
    grad_x = layer.backward(upstream)
    crops = [(0 if padding == "valid" else max(k - s, 0) // 2, size)
             for k, s, size in zip(kernel, strides, out.shape[1:3])]
    expected = _torch_reference(torch, torch.nn.functional.conv_transpose2d, x.transpose(0, 3, 1, 2).copy(),
                                layer.params["weights"].transpose(3, 2, 0, 1).copy(), layer.params["biases"],
                                upstream.transpose(0, 3, 1, 2).copy(), strides, 1, crops)
    close = dict(rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(out, expected[0].transpose(0, 2, 3, 1), **close)
    np.testing.assert_allclose(grad_x, expected[1].transpose(0, 2, 3, 1), **close)
    np.testing.assert_allclose(layer.grads["weights"], expected[2].transpose(2, 3, 1, 0), **close)
    np.testing.assert_allclose(layer.grads["biases"], expected[3], **close)


def test_weight_layouts_configs_and_errors():
    layer = _built(bn.Conv2DTranspose(5, (3, 2), strides=2, padding="same"), (4, 4, 3))
    assert layer.params["weights"].shape == (3, 2, 5, 3) and layer.output_shape == (8, 8, 5)
    assert layer.kernel_size == (3, 2) and layer.strides == (2, 2)
    layer1d = _built(bn.Conv1DTranspose(5, 3, strides=2, dilation_rate=2), (4, 3))
    assert layer1d.params["weights"].shape == (3, 5, 3) and layer1d.output_shape == (11, 5)  # 4 * 2 + (span 5 - 2)
    assert layer1d.kernel_size == 3 and layer1d.dilation_rate == 2
    for built in (layer, layer1d):
        config = built.get_config()
        assert type(built).from_config(config).get_config() == config
    with pytest.raises(ValueError, match=r"'up' \(Conv1DTranspose\) expects sequences of shape \(steps, channels\)"):
        bn.Conv1DTranspose(2, 3, name="up").build((4, 4, 3), np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"'up' \(Conv2DTranspose\) expects images"):
        bn.Conv2DTranspose(2, 3, name="up").build((4, 3), np.random.default_rng(0))
    with pytest.raises(ValueError, match="`padding` must be one of 'valid', 'same'"):
        bn.Conv2DTranspose(2, 3, padding="causal")
    with pytest.raises(ValueError, match="`filters` must be a positive integer"):
        bn.Conv1DTranspose(0, 3)


def test_decoder_with_transposed_convolutions_trains():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(128, 4)).astype(np.float32)
    y = np.repeat(np.repeat(x.reshape(-1, 2, 2, 1), 2, axis=1), 2, axis=2)  # a 4x4 upsampled image
    model = bn.Sequential([bn.Reshape((2, 2, 1), input_shape=(4,)),
                           bn.Conv2DTranspose(4, 3, strides=2, padding="same", activation="tanh"),
                           bn.Conv2DTranspose(1, 1)], seed=0)
    model.compile(bn.optimizers.Adam(0.02), "mse")
    history = model.fit(x, y, epochs=15, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 0.2 * history.history["loss"][0], history.history["loss"]
