"""The contract every layer class keeps (see `barenet.layers.base`)."""

import numpy as np
import pytest

import barenet as bn
from barenet.layers import LAYERS

# One example per registered class, with the sample shape it is built for.
EXAMPLES = {
    "Dense": (lambda: bn.Dense(3, "relu"), (5,)),
    "FFL": (lambda: bn.FFL(neurons=3, activation="tanh"), (5,)),
    "Conv2D": (lambda: bn.Conv2D(3, (3, 2), strides=2, padding="same", activation="relu"), (7, 9, 2)),
    "Conv2d": (lambda: bn.Conv2d(filters=2, kernel_size=3, padding="zero"), (7, 9, 2)),
    "MaxPooling2D": (lambda: bn.MaxPooling2D(3, 2, "same"), (7, 9, 2)),
    "AveragePooling2D": (lambda: bn.AveragePooling2D(2), (7, 9, 2)),
    "GlobalAveragePooling2D": (lambda: bn.GlobalAveragePooling2D(), (7, 9, 2)),
    "Pool2d": (lambda: bn.Pool2d(kernel_size=(2, 3), kind="min"), (7, 9, 2)),
    "Flatten": (lambda: bn.Flatten(), (7, 9, 2)),
    "Reshape": (lambda: bn.Reshape((-1, 2)), (7, 9, 2)),
    "Dropout": (lambda: bn.Dropout(0.5), (7, 9, 2)),
    "SpatialDropout1D": (lambda: bn.SpatialDropout1D(0.5, seed=3), (9, 2)),
    "SpatialDropout2D": (lambda: bn.SpatialDropout2D(0.5), (7, 9, 2)),
    "BatchNormalization": (lambda: bn.BatchNormalization(), (7, 9, 2)),
    "SimpleRNN": (lambda: bn.SimpleRNN(3, return_sequences=True), (5, 2)),
    "LSTM": (lambda: bn.LSTM(3, go_backwards=True), (5, 2)),
    "GRU": (lambda: bn.GRU(3, return_sequences=True), (5, 2)),
    "RepeatVector": (lambda: bn.RepeatVector(3), (5,)),
    "Embedding": (lambda: bn.Embedding(10, 3), (5, 2)),
    "LayerNormalization": (lambda: bn.LayerNormalization(), (7, 9, 2)),
    "Conv1D": (lambda: bn.Conv1D(3, 3, strides=2, padding="causal", dilation_rate=2, activation="relu"), (9, 2)),
    "MaxPooling1D": (lambda: bn.MaxPooling1D(3, 2, "same"), (9, 2)),
    "AveragePooling1D": (lambda: bn.AveragePooling1D(2), (9, 2)),
    "GlobalAveragePooling1D": (lambda: bn.GlobalAveragePooling1D(), (9, 2)),
    "GlobalMaxPooling1D": (lambda: bn.GlobalMaxPooling1D(keepdims=True), (9, 2)),
    "UpSampling1D": (lambda: bn.UpSampling1D(2), (9, 2)),
    "UpSampling2D": (lambda: bn.UpSampling2D((2, 1)), (7, 9, 2)),
    "Upsample": (lambda: bn.Upsample(kernel_size=(1, 3)), (7, 9, 2)),
    "ZeroPadding1D": (lambda: bn.ZeroPadding1D((1, 2)), (9, 2)),
    "ZeroPadding2D": (lambda: bn.ZeroPadding2D(((1, 0), (2, 1))), (7, 9, 2)),
    "Cropping1D": (lambda: bn.Cropping1D((1, 2)), (9, 2)),
    "Cropping2D": (lambda: bn.Cropping2D(((1, 0), (2, 1))), (7, 9, 2)),
    "Conv1DTranspose": (lambda: bn.Conv1DTranspose(3, 3, strides=2, padding="same", activation="relu"), (9, 2)),
    "Conv2DTranspose": (lambda: bn.Conv2DTranspose(3, (3, 2), strides=(2, 1), activation="tanh"), (7, 9, 2)),
    "TimeDistributed": (lambda: bn.TimeDistributed(bn.Dense(3, "relu", kernel_regularizer="l2")), (5, 2)),
    "Activation": (lambda: bn.Activation("selu"), (5, 2)),
    "ReLU": (lambda: bn.ReLU(max_value=1.5, negative_slope=0.1, threshold=-0.2), (5, 2)),
    "LeakyReLU": (lambda: bn.LeakyReLU(), (5,)),
    "ELU": (lambda: bn.ELU(0.7), (5,)),
    "Softmax": (lambda: bn.Softmax(axis=-2), (7, 9, 2)),
    "Rescaling": (lambda: bn.Rescaling(1 / 255, offset=-0.5), (7, 9, 2)),
    "Normalization": (lambda: bn.Normalization(axis=(-1, -2)), (7, 9, 2)),
    "GlobalMaxPooling2D": (lambda: bn.GlobalMaxPooling2D(keepdims=True), (7, 9, 2)),
    "GaussianNoise": (lambda: bn.GaussianNoise(0.1, seed=3), (7, 9, 2)),
    "ActivityRegularization": (lambda: bn.ActivityRegularization(l1=0.01, l2=0.02), (5,)),
    "Bidirectional": (lambda: bn.Bidirectional(bn.LSTM(3, return_sequences=True)), (5, 2)),
}
# Layers whose inputs are integer indices: no input gradient, ever.
INDEX_INPUTS = {"Embedding": 10}


HAND_WRITTEN = {name: cls for name, cls in LAYERS.items() if cls.forward is not bn.Layer.forward}


def test_every_registered_layer_has_an_example_and_a_public_name():
    assert set(EXAMPLES) == set(HAND_WRITTEN)
    for name, cls in LAYERS.items():
        assert cls.__name__ == name and getattr(bn, name) is cls


@pytest.mark.parametrize("name", sorted(EXAMPLES))
@pytest.mark.parametrize("training", [False, True])
def test_contract(name, training, rng):
    make, shape = EXAMPLES[name]
    layer = make()
    layer.name = "layer"
    layer.build(shape, np.random.default_rng(0), "float32")
    if name in INDEX_INPUTS:
        x = rng.integers(0, INDEX_INPUTS[name], size=(4, *shape))
    else:
        x = rng.normal(size=(4, *shape)).astype(np.float32)
    out = layer.forward(x, training=training)
    assert out.shape == (4, *layer.compute_output_shape(shape)) == (4, *layer.output_shape)
    assert out.dtype == np.float32
    params_before = {key: value for key, value in layer.params.items()}
    grad_x = layer.backward(np.ones_like(out))
    if name in INDEX_INPUTS:
        assert grad_x is None
    else:
        assert grad_x.shape == x.shape and grad_x.dtype == np.float32
    assert set(layer.grads) == set(layer.params)
    for key, value in layer.params.items():
        assert value is params_before[key]  # updated in place, never rebound
        assert layer.grads[key].shape == value.shape and layer.grads[key].dtype == np.float32
    assert layer.count_params() == sum(v.size for v in layer.params.values())
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    clone.build(shape, np.random.default_rng(0), "float32")
    assert clone.output_shape == layer.output_shape
    assert set(clone.params) == set(layer.params)
    layer.needs_input_grad = False
    layer.forward(x, training=training)
    assert layer.backward(np.ones_like(out)) is None


@pytest.mark.parametrize("name", sorted(set(EXAMPLES) - {"Dropout"} - set(INDEX_INPUTS)))
def test_a_layer_called_twice_in_one_graph_gets_both_gradients(name, rng):
    """A shared layer: each call's cached forward values are put back before its backward, and the
    second backward adds to the first's weight gradients."""
    make, shape = EXAMPLES[name]
    layer = make()
    a, b = bn.Input(shape=shape, dtype="float64"), bn.Input(shape=shape, dtype="float64")
    model = bn.Model([a, b], bn.Add()([layer(a), layer(b)]))
    model.compile("sgd", "mse")
    xa, xb = rng.normal(size=(3, *shape)), rng.normal(size=(3, *shape))
    out = layer.forward(xa, training=True) + layer.forward(xb, training=True)
    grads = model.compute_gradients([xa, xb], np.zeros_like(out))
    dL_dout = 2 * out / out.size
    expected = {key: np.zeros_like(value) for key, value in layer.params.items()}
    for x in (xa, xb):
        layer.needs_input_grad = True
        layer.forward(x, training=True)
        layer.backward(dL_dout)
        for key in expected:
            expected[key] += layer.grads[key]
    assert set(grads) == {f"{layer.name}/{key}" for key in expected}
    for key, value in expected.items():
        np.testing.assert_allclose(grads[f"{layer.name}/{key}"], value, rtol=1e-10, atol=1e-12)
