"""Whole models against PyTorch with the same weights: forward values and every gradient (float64).

Each test builds a model the Keras way (functional, shared layers, several inputs or
outputs, subclassing, a custom layer, a custom loss), copies its weights into torch
tensors, computes the same loss with torch.autograd and compares every weight's gradient
with barenet's `compute_gradients` to 1e-6 relative.
"""

import numpy as np
import pytest

import barenet as bn
from barenet.autodiff import ops

torch = pytest.importorskip("torch")
F = torch.nn.functional


def torch_weights(model):
    return {key: torch.tensor(value, requires_grad=True)
            for key, value in _weights(model).items()}


def _weights(model):
    found = {}
    for prefix, layer in model.weight_layers(with_prefix=True):
        for key, value in layer.params.items():
            found[prefix + key] = value
    return found


def assert_gradients_match(model, x, y, torch_loss_fn):
    grads = model.compute_gradients(x, y)
    weights = torch_weights(model)
    loss = torch_loss_fn(weights)
    loss.backward()
    assert set(grads) == set(weights)
    for key, tensor in weights.items():
        np.testing.assert_allclose(grads[key], tensor.grad.numpy(), rtol=1e-6, atol=1e-10, err_msg=key)
    logs = model.evaluate(x, y, return_dict=True)
    np.testing.assert_allclose(logs["loss"], loss.item(), rtol=1e-9)


def dense(w, prefix, h, activation=None):
    z = h @ w[prefix + "weights"] + w[prefix + "biases"]
    return {None: z, "relu": torch.relu(z), "tanh": torch.tanh(z), "sigmoid": torch.sigmoid(z),
            "softmax": torch.softmax(z, -1)}[activation]


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng, rng.normal(size=(7, 5)), rng.integers(0, 3, size=7)


def test_residual_mlp(data):
    rng, x, labels = data
    bn.utils.set_random_seed(1)
    inputs = bn.Input(shape=(5,), dtype="float64")
    h = bn.Dense(6, activation="relu", name="d1")(inputs)
    h = h + bn.Dense(6, activation="tanh", name="d2")(h)
    out = bn.Dense(3, activation="softmax", name="d3")(h)
    model = bn.Model(inputs, out)
    model.compile("sgd", "sparse_categorical_crossentropy")

    def torch_loss(w):
        t = torch.tensor(x)
        h = dense(w, "d1/", t, "relu")
        h = h + dense(w, "d2/", h, "tanh")
        return F.cross_entropy(dense(w, "d3/", h), torch.tensor(labels))

    assert_gradients_match(model, x, labels, torch_loss)


def test_two_inputs_concatenate(data):
    rng, x, _ = data
    x2 = rng.normal(size=(7, 2))
    target = rng.normal(size=(7, 2))
    a, b = bn.Input(shape=(5,), dtype="float64", name="a"), bn.Input(shape=(2,), dtype="float64", name="b")
    h = bn.Concatenate(name="cat")([bn.Dense(4, activation="sigmoid", name="da")(a), b])
    model = bn.Model([a, b], bn.Dense(2, name="out")(h))
    model.compile("sgd", "mse")

    def torch_loss(w):
        h = torch.cat([dense(w, "da/", torch.tensor(x), "sigmoid"), torch.tensor(x2)], dim=-1)
        return F.mse_loss(dense(w, "out/", h), torch.tensor(target))

    assert_gradients_match(model, [x, x2], target, torch_loss)
    # a dict of named inputs works the same
    np.testing.assert_array_equal(model.predict({"a": x, "b": x2}), model.predict([x, x2]))


def test_two_outputs_two_losses_and_loss_weights(data):
    rng, x, labels = data
    target = rng.normal(size=(7, 1))
    inputs = bn.Input(shape=(5,), dtype="float64")
    trunk = bn.Dense(6, activation="relu", name="trunk")(inputs)
    classes = bn.Dense(3, activation="softmax", name="classes")(trunk)
    value = bn.Dense(1, name="value")(trunk)
    model = bn.Model(inputs, [classes, value])
    model.compile("sgd", ["sparse_categorical_crossentropy", "mse"], loss_weights=[0.3, 2.0])

    def torch_loss(w):
        h = dense(w, "trunk/", torch.tensor(x), "relu")
        ce = F.cross_entropy(dense(w, "classes/", h), torch.tensor(labels))
        return 0.3 * ce + 2.0 * F.mse_loss(dense(w, "value/", h), torch.tensor(target))

    assert_gradients_match(model, x, [labels, target], torch_loss)
    logs = model.evaluate(x, {"classes": labels, "value": target}, return_dict=True)
    assert set(logs) == {"loss", "classes_loss", "value_loss"}


def test_shared_siamese_layer_accumulates_both_gradients(data):
    rng, x, _ = data
    x2 = rng.normal(size=(7, 5))
    same = rng.integers(0, 2, size=(7, 1)).astype(float)
    a, b = bn.Input(shape=(5,), dtype="float64"), bn.Input(shape=(5,), dtype="float64")
    encoder = bn.Dense(4, activation="tanh", name="encoder")
    distance = bn.Multiply()([encoder(a) - encoder(b), encoder(a) - encoder(b)])
    model = bn.Model([a, b], bn.Dense(1, activation="sigmoid", name="head")(distance))
    model.compile("sgd", "binary_crossentropy")
    assert sum(layer is encoder for layer in model.layers) == 1

    def torch_loss(w):
        ea, eb = dense(w, "encoder/", torch.tensor(x), "tanh"), dense(w, "encoder/", torch.tensor(x2), "tanh")
        d = (ea - eb) * (ea - eb)
        return F.binary_cross_entropy(dense(w, "head/", d, "sigmoid"), torch.tensor(same))

    assert_gradients_match(model, [x, x2], same, torch_loss)


class Gated(bn.Model):
    def __init__(self):
        super().__init__(dtype="float64", seed=3)
        self.hidden = bn.Dense(6, activation="relu", name="hidden")
        self.gate = bn.Dense(6, activation="sigmoid", name="gate")
        self.out = bn.Dense(3, activation="softmax", name="out")

    def call(self, inputs, training=False):
        h = self.hidden(inputs)
        if training:
            h = h * self.gate(inputs)
        return self.out(h)


def test_subclassed_model_with_python_control_flow(data):
    rng, x, labels = data
    model = Gated()
    model.compile("sgd", "sparse_categorical_crossentropy")

    def torch_loss(w):
        t = torch.tensor(x)
        h = dense(w, "hidden/", t, "relu") * dense(w, "gate/", t, "sigmoid")
        return F.nll_loss(torch.log(dense(w, "out/", h, "softmax")), torch.tensor(labels))

    assert_gradients_match_training_only(model, x, labels, torch_loss)
    # in inference the gate is skipped
    t = torch.tensor(x)
    w = torch_weights(model)
    expected = dense(w, "out/", dense(w, "hidden/", t, "relu"), "softmax").detach().numpy()
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-10)


def assert_gradients_match_training_only(model, x, y, torch_loss_fn):
    grads = model.compute_gradients(x, y)
    weights = torch_weights(model)
    torch_loss_fn(weights).backward()
    for key, tensor in weights.items():
        np.testing.assert_allclose(grads[key], tensor.grad.numpy(), rtol=1e-6, atol=1e-10, err_msg=key)


class Scale(bn.Layer):
    """A custom layer written the Keras way: weights from add_weight, gradient from the engine."""

    def build(self, input_shape):
        self.gain = self.add_weight(shape=(input_shape[-1],), initializer="random_normal", name="gain")
        self.shift = self.add_weight(shape=(input_shape[-1],), initializer="zeros", name="shift")

    def call(self, inputs):
        return ops.exp(inputs * self.gain) + self.shift


def test_custom_layer_and_custom_loss_written_with_ops(data):
    rng, x, _ = data
    target = rng.normal(size=(7, 2))
    inputs = bn.Input(shape=(5,), dtype="float64")
    out = bn.Dense(2, name="dense")(Scale(name="scale")(inputs))
    model = bn.Model(inputs, out)

    def loss(y_true, y_pred):
        return ops.mean(ops.square(y_pred - y_true)) + 0.1 * ops.mean(y_pred * y_pred)

    model.compile("sgd", loss)

    def torch_loss(w):
        h = torch.exp(torch.tensor(x) * w["scale/gain"]) + w["scale/shift"]
        p = dense(w, "dense/", h)
        return torch.mean((p - torch.tensor(target)) ** 2) + 0.1 * torch.mean(p * p)

    assert_gradients_match(model, x, target, torch_loss)
