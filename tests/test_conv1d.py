"""Conv1D: sizes and values against a loop definition, gradients against finite differences
and PyTorch (every padding, stride and dilation), configs, errors, and training in `Sequential`."""

import math

import numpy as np
import pytest

import barenet as bn
from gradcheck import check_layer_gradients

OPTIONS = [  # kernel, strides, dilation, padding
    (1, 1, 1, "valid"), (3, 1, 1, "valid"), (3, 2, 1, "valid"), (2, 1, 2, "valid"), (3, 2, 2, "valid"),
    (3, 1, 1, "same"), (4, 1, 1, "same"), (3, 2, 1, "same"), (3, 1, 2, "same"),
    (3, 1, 1, "causal"), (2, 1, 3, "causal"), (3, 2, 1, "causal"), (3, 2, 2, "causal"),
]


def _built(layer, input_shape, dtype="float64", rng=None):
    layer.name = layer.name or "conv1d"
    layer.build(input_shape, np.random.default_rng(0), dtype)
    if rng is not None and layer.use_bias:
        layer.params["biases"][:] = rng.normal(size=layer.filters)
    return layer


def _expected_pads(steps, kernel, strides, dilation, padding):
    """Keras/TensorFlow's padding, computed independently of the layer."""
    span = dilation * (kernel - 1) + 1
    if padding == "valid":
        return (steps - span) // strides + 1, (0, 0)
    if padding == "causal":
        return (steps - 1) // strides + 1, (span - 1, 0)
    out = math.ceil(steps / strides)
    total = max((out - 1) * strides + span - steps, 0)
    return out, (total // 2, total - total // 2)


def _reference(x, weights, biases, strides, dilation, pads):
    x = np.pad(x, ((0, 0), pads, (0, 0)))
    kernel = weights.shape[0]
    out = (x.shape[1] - dilation * (kernel - 1) - 1) // strides + 1
    return np.stack([sum(x[:, t * strides + j * dilation] @ weights[j] for j in range(kernel)) + biases
                     for t in range(out)], axis=1)


@pytest.mark.parametrize("kernel, strides, dilation, padding", OPTIONS)
def test_forward_matches_loop_definition_and_keras_sizes(kernel, strides, dilation, padding, rng):
    layer = _built(bn.Conv1D(3, kernel, strides, padding, dilation), (9, 2), rng=rng)
    x = rng.normal(size=(2, 9, 2))
    out = layer.forward(x)
    steps, pads = _expected_pads(9, kernel, strides, dilation, padding)
    assert out.shape == (2, steps, 3) == (2, *layer.output_shape)
    np.testing.assert_allclose(out, _reference(x, layer.params["weights"], layer.params["biases"], strides, dilation,
                                               pads), rtol=1e-12, atol=1e-12)


def test_causal_output_never_sees_the_future(rng):
    layer = _built(bn.Conv1D(2, 3, padding="causal", dilation_rate=2), (8, 1))
    x = rng.normal(size=(1, 8, 1))
    changed = x.copy()
    changed[0, 5:] += 1.0
    np.testing.assert_array_equal(layer.forward(x)[0, :5], layer.forward(changed)[0, :5])


@pytest.mark.parametrize("kernel, strides, dilation, padding", OPTIONS)
def test_gradients_match_finite_differences(kernel, strides, dilation, padding, rng):
    layer = _built(bn.Conv1D(2, kernel, strides, padding, dilation, activation="tanh"), (7, 2), rng=rng)
    check_layer_gradients(layer, rng.normal(size=(2, 7, 2)), rng)


def test_gradients_without_bias_with_regularizer(rng):
    layer = _built(bn.Conv1D(2, 2, use_bias=False, kernel_regularizer="l2"), (5, 3))
    check_layer_gradients(layer, rng.normal(size=(2, 5, 3)), rng)
    assert set(layer.params) == {"weights"}


@pytest.mark.parametrize("kernel, strides, dilation, padding", OPTIONS)
def test_forward_and_every_gradient_match_torch(kernel, strides, dilation, padding, rng):
    torch = pytest.importorskip("torch")
    layer = _built(bn.Conv1D(4, kernel, strides, padding, dilation), (10, 3), rng=rng)
    x = rng.normal(size=(2, 10, 3))
    out = layer.forward(x)
    upstream = rng.normal(size=out.shape)
    grad_x = layer.backward(upstream)

    _, pads = _expected_pads(10, kernel, strides, dilation, padding)
    tx = torch.tensor(x.transpose(0, 2, 1).copy(), requires_grad=True)  # (batch, channels, steps)
    tw = torch.tensor(layer.params["weights"].transpose(2, 1, 0).copy(), requires_grad=True)  # (out, in, kernel)
    tb = torch.tensor(layer.params["biases"].copy(), requires_grad=True)
    tout = torch.nn.functional.conv1d(torch.nn.functional.pad(tx, pads), tw, tb, stride=strides, dilation=dilation)
    tout.backward(torch.tensor(upstream.transpose(0, 2, 1).copy()))
    close = dict(rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(out, tout.detach().numpy().transpose(0, 2, 1), **close)
    np.testing.assert_allclose(grad_x, tx.grad.numpy().transpose(0, 2, 1), **close)
    np.testing.assert_allclose(layer.grads["weights"], tw.grad.numpy().transpose(2, 1, 0), **close)
    np.testing.assert_allclose(layer.grads["biases"], tb.grad.numpy(), **close)


def test_weight_layout_config_and_float32(rng):
    layer = _built(bn.Conv1D(5, 3, padding="causal", dilation_rate=2, activation="relu"), (8, 2), "float32")
    assert layer.params["weights"].shape == (3, 2, 5) and layer.params["biases"].shape == (5,)
    out = layer.forward(rng.normal(size=(2, 8, 2)).astype(np.float32))
    assert out.dtype == np.float32 and layer.backward(np.ones_like(out)).dtype == np.float32
    config = layer.get_config()
    assert config["padding"] == "causal" and config["dilation_rate"] == 2 and config["kernel_size"] == 3
    assert bn.Conv1D.from_config(config).get_config() == config
    assert bn.Conv1D(2, (3,), strides=(2,)).kernel_size == 3


def test_kernel_larger_than_input_and_bad_arguments_are_refused():
    layer = bn.Conv1D(2, 3, dilation_rate=3, name="c1")
    with pytest.raises(ValueError, match=r"`kernel_size` 3 of layer 'c1' \(spanning 7 steps at dilation_rate=3\) "
                                         r"is larger than its input of 5 steps.*input_shape=\(5, 2\)"):
        layer.build((5, 2), np.random.default_rng(0))
    layer = bn.Conv1D(2, 3, padding="same", name="c1")
    assert layer.compute_output_shape((2, 1)) == (2, 2)  # padding makes room, as in Keras
    with pytest.raises(ValueError, match=r"'c1' \(Conv1D\) expects sequences of shape \(steps, channels\). "
                                         r"Received: input_shape=\(5,\)"):
        layer.build((5,), np.random.default_rng(0))
    with pytest.raises(ValueError, match="`padding` must be one of 'valid', 'same', 'causal'"):
        bn.Conv1D(2, 3, padding="full")
    with pytest.raises(ValueError, match="`kernel_size` must be a positive integer"):
        bn.Conv1D(2, (3, 3))
    with pytest.raises(ValueError, match="`dilation_rate` must be a positive integer"):
        bn.Conv1D(2, 3, dilation_rate=0)


def test_conv1d_model_learns_to_classify_sequences():
    """Class 1 sequences hold a rising edge somewhere; a causal Conv1D + pooling finds it."""
    rng = np.random.default_rng(0)
    x = rng.normal(scale=0.3, size=(256, 16, 1)).astype(np.float32)
    y = rng.integers(0, 2, size=256)
    where = rng.integers(2, 14, size=256)
    x[y == 1, :, 0] += (np.arange(16) >= where[y == 1, None]) * 1.5
    model = bn.Sequential([bn.Conv1D(4, 3, padding="causal", activation="relu", input_shape=(16, 1)),
                           bn.MaxPooling1D(2), bn.Conv1D(4, 3, dilation_rate=2, activation="relu"),
                           bn.GlobalMaxPooling1D(), bn.Dense(2, "softmax")], seed=0)
    model.compile(bn.optimizers.Adam(0.02), "sparse_categorical_crossentropy", ["accuracy"])
    history = model.fit(x, y, epochs=15, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0], history.history["loss"]
    assert history.history["accuracy"][-1] > 0.9
