"""Subclassed models and custom layers, Keras's way; the three model styles agree."""

import numpy as np
import pytest

import barenet as bn
from barenet.autodiff import ops


class MLP(bn.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden = bn.Dense(8, activation="relu")
        self.out = bn.Dense(3, activation="softmax")

    def call(self, inputs, training=False):
        return self.out(self.hidden(inputs))


def _data(rng, n=64):
    x = rng.normal(size=(n, 4)).astype("float32")
    return x, (x[:, 0] > 0).astype(int) + (x[:, 1] > 0)


def test_sequential_functional_and_subclassed_train_to_identical_weights(rng):
    x, y = _data(rng)
    sequential = bn.Sequential([bn.Dense(8, activation="relu", input_shape=(4,)), bn.Dense(3, activation="softmax")],
                               seed=0)
    inputs = bn.Input(shape=(4,))
    functional = bn.Model(inputs, bn.Dense(3, activation="softmax")(bn.Dense(8, activation="relu")(inputs)), seed=0)
    subclassed = MLP(seed=0)
    subclassed.predict(x[:1])  # builds it
    start = sequential.get_weights()
    finals = []
    for model in (sequential, functional, subclassed):
        model.set_weights(start)
        model.compile(bn.optimizers.Adam(0.01), "sparse_categorical_crossentropy", ["accuracy"])
        model.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0)
        finals.append(model.get_weights())
    for other in finals[1:]:
        for a, b in zip(finals[0], other):
            np.testing.assert_array_equal(a, b)


def test_subclassed_model_tracks_layers_names_and_summary(rng):
    model = MLP()
    with pytest.raises(ValueError, match="not built yet"):
        model.summary()
    model.predict(rng.normal(size=(2, 4)))
    assert [layer.name for layer in model.layers] == ["dense", "dense_1"]
    lines = []
    model.summary(print_fn=lines.append)
    assert "Total params: 67" in lines[0]


class Noisy(bn.Layer):
    """A custom layer with a non-trainable weight and an extra loss."""

    def __init__(self, factor=0.01, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="scale")
        self.calls = self.add_weight(shape=(), initializer="zeros", trainable=False, name="calls")

    def call(self, inputs, training=False):
        out = inputs * self.scale
        self.add_loss(self.factor * ops.sum(ops.square(self.scale)))
        return out


def test_add_loss_and_non_trainable_weights(rng):
    x = bn.Input(shape=(3,), dtype="float64")
    noisy = Noisy(factor=0.5, name="noisy")
    model = bn.Model(x, bn.Dense(1, name="head")(noisy(x)))
    model.compile("sgd", "mse")
    data, target = rng.normal(size=(5, 3)), rng.normal(size=(5, 1))
    assert set(noisy.params) == {"scale"} and set(noisy.state) == {"calls"}
    loss = model.evaluate(data, target, return_dict=True)["loss"]
    grads = model.compute_gradients(data, target)
    head = model.get_layer("head")
    pred = (data * noisy.params["scale"]) @ head.params["weights"] + head.params["biases"]
    residual = 2 * (pred - target) / pred.size
    expected = (data * (residual @ head.params["weights"].T)).sum(0) + 0.5 * 2 * noisy.params["scale"]
    np.testing.assert_allclose(grads["noisy/scale"], expected, rtol=1e-10)
    assert "noisy/calls" not in grads
    # evaluate's loss includes the add_loss terms of the inference pass, as Keras's does
    penalty = 0.5 * float(np.sum(noisy.params["scale"] ** 2))
    assert loss == pytest.approx(float(np.mean((pred - target) ** 2)) + penalty)


class Block(bn.Layer):
    """A layer made of layers: its sublayers are tracked and trained."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.first = bn.Dense(4, activation="tanh")
        self.second = bn.Dense(4)

    def call(self, inputs):
        return inputs + self.second(self.first(inputs))


def test_composite_custom_layer_trains_its_sublayers(rng):
    x = bn.Input(shape=(4,))
    block = Block(name="block")
    model = bn.Model(x, bn.Dense(1)(block(x)))
    model.compile("sgd", "mse")
    grads = model.compute_gradients(rng.normal(size=(3, 4)), np.ones((3, 1)))
    assert len(block.sublayers) == 2
    assert sorted(grads) == ["block/dense/biases", "block/dense/weights", "block/dense_1/biases",
                            "block/dense_1/weights", "dense/biases", "dense/weights"]


def test_call_returning_a_non_tensor_is_an_error(rng):
    class Broken(bn.Model):
        def call(self, inputs):
            return "not a tensor"

    with pytest.raises(TypeError, match="must return a tensor"):
        Broken().predict(rng.normal(size=(2, 3)))
    with pytest.raises(NotImplementedError, match="must define call"):
        bn.Model().predict(np.zeros((2, 3)))


def test_shared_layer_gradient_is_the_sum_of_both_calls(rng):
    """Every hand-derived layer called twice in one graph gets the sum of both calls' gradients."""
    a, b = bn.Input(shape=(3,), dtype="float64"), bn.Input(shape=(3,), dtype="float64")
    shared = bn.Dense(2, activation="relu", name="shared")
    model = bn.Model([a, b], bn.Add()([shared(a), shared(b)]))
    model.compile("sgd", "mse")
    xa, xb, y = rng.normal(size=(4, 3)), rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    grads = model.compute_gradients([xa, xb], y)
    w, bias = shared.params["weights"], shared.params["biases"]
    za, zb = xa @ w + bias, xb @ w + bias
    g = 2 * (np.maximum(za, 0) + np.maximum(zb, 0) - y) / y.size
    expected = xa.T @ (g * (za > 0)) + xb.T @ (g * (zb > 0))
    np.testing.assert_allclose(grads["shared/weights"], expected, rtol=1e-10)


def test_a_subclassed_model_inside_a_functional_one(rng):
    x = bn.Input(shape=(4,))
    inner = MLP(seed=1)
    outer = bn.Model(x, bn.Dense(1, name="head")(inner(x)))
    data = rng.normal(size=(5, 4)).astype("float32")
    head = outer.get_layer("head")
    expected = inner.predict(data) @ head.params["weights"] + head.params["biases"]
    np.testing.assert_allclose(outer.predict(data), expected, rtol=1e-5)
    outer.compile("sgd", "mse")
    assert "mlp/dense/weights" in outer.compute_gradients(data, np.zeros((5, 1)))


def test_a_model_called_inside_another_inherits_the_training_flag():
    class Outer(bn.Model):
        def __init__(self):
            super().__init__(seed=0)
            self.inner = bn.Sequential([bn.Input(shape=(50,)), bn.Dropout(0.5)], seed=0)

        def call(self, inputs, training=False):
            return self.inner(inputs)

    model = Outer()
    x = np.ones((4, 50), np.float32)
    assert (model(x, training=True).numpy() == 0).any()
    np.testing.assert_array_equal(model(x).numpy(), x)
