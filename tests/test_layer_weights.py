"""`trainable` (freezing layers and models), `weights`, `trainable_weights`, `non_trainable_weights`,
`get_weights`/`set_weights` on layers and models, and the summary's counts."""

import numpy as np
import pytest

import barenet as bn
from barenet import ops


def _data(rng, n=32, features=6, classes=3):
    x = rng.normal(size=(n, features)).astype(np.float32)
    return x, bn.utils.to_categorical(rng.integers(0, classes, n), classes)


def _fit(model, x, y):
    model.compile("adam", "categorical_crossentropy")
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)


def test_frozen_layer_is_bit_identical_after_fit_in_a_sequential_model(rng):
    x, y = _data(rng)
    model = bn.Sequential([bn.Input((6,)), bn.Dense(8, "relu"), bn.Dense(8, "relu"), bn.Dense(3, "softmax")], seed=0)
    model.layers[1].trainable = False
    frozen = model.layers[1].get_weights()
    others = [layer.get_weights() for layer in (model.layers[0], model.layers[2])]
    _fit(model, x, y)
    for before, after in zip(frozen, model.layers[1].get_weights()):
        assert np.array_equal(before, after)
    assert not np.array_equal(others[0][0], model.layers[0].get_weights()[0])  # the others did train
    assert not np.array_equal(others[1][0], model.layers[2].get_weights()[0])


def test_frozen_first_layer_of_a_functional_model(rng):
    x, y = _data(rng)
    inputs = bn.Input((6,))
    first = bn.Dense(8, "tanh")
    outputs = bn.Dense(3, "softmax")(first(inputs))
    model = bn.Model(inputs, outputs, seed=1)
    first.trainable = False
    before = first.get_weights()
    _fit(model, x, y)
    assert all(np.array_equal(a, b) for a, b in zip(before, first.get_weights()))


def test_freezing_a_nested_model_freezes_its_layers_and_summary_counts_them(rng):
    x, y = _data(rng)
    inner = bn.Sequential([bn.Input((6,)), bn.Dense(5, "relu"), bn.BatchNormalization(), bn.Dense(4, "relu")],
                          name="inner")
    model = bn.Sequential([bn.Input((6,)), inner, bn.Dense(3, "softmax")], seed=2)
    model.trainable = False
    assert inner.trainable is False and all(layer.trainable is False for layer in inner.layers)
    assert model.trainable_weights == [] and len(model.non_trainable_weights) == len(model.weights)
    model.layers[-1].trainable = True  # Keras 3: a frozen model hides its layers' weights all the same
    assert model.trainable_weights == []
    model.trainable = True
    inner.trainable = False  # freeze the feature extractor only, as in transfer learning
    head = model.layers[-1]
    assert [w.name for w in model.trainable_weights] == ["weights", "biases"]
    before = [w.copy() for layer in inner.layers for w in layer.params.values()]
    head_before = head.get_weights()
    _fit(model, x, y)
    after = [w for layer in inner.layers for w in layer.params.values()]
    assert all(np.array_equal(a, b) for a, b in zip(before, after))
    assert not np.array_equal(head_before[0], head.get_weights()[0])
    model.trainable = False
    model.layers[-1].trainable = True
    frozen_head = head.get_weights()
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(frozen_head, head.get_weights()))
    model.trainable = True
    inner.trainable = False
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    head_count = 4 * 3 + 3
    total = (6 * 5 + 5) + 4 * 5 + (5 * 4 + 4) + head_count
    assert f"Total params: {total:,}" in text
    assert f"Trainable params: {head_count:,}" in text
    assert f"Non-trainable params: {total - head_count:,}" in text


def test_trainable_set_after_compile_takes_effect_at_the_next_step(rng):
    x, y = _data(rng)
    model = bn.Sequential([bn.Input((6,)), bn.Dense(4, "relu"), bn.Dense(3, "softmax")], seed=3)
    model.compile("sgd", "categorical_crossentropy")
    model.layers[0].trainable = False
    before = model.layers[0].get_weights()
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.layers[0].get_weights()))
    model.layers[0].trainable = True
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert not np.array_equal(before[0], model.layers[0].get_weights()[0])


class Scale(bn.Layer):
    def build(self, input_shape):
        self.gain = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="gain")
        self.count = self.add_weight(shape=(), initializer="zeros", trainable=False, name="count")

    def call(self, inputs):
        return inputs * self.gain


def test_a_frozen_custom_layer_gets_no_gradient_and_keeps_its_weights(rng):
    x, y = _data(rng)
    scale = Scale()
    model = bn.Sequential([bn.Input((6,)), scale, bn.Dense(3, "softmax")], seed=4)
    model.build()
    scale.trainable = False
    assert scale.gain.trainable is False and scale.count.trainable is False
    assert [w.name for w in scale.weights] == ["gain", "count"]
    _fit(model, x, y)
    assert np.array_equal(scale.gain.value, np.ones(6, np.float32))
    assert scale.gain.grad is None  # the engine computed no gradient for it
    scale.trainable = True
    assert scale.gain.trainable is True and scale.count.trainable is False  # created non-trainable: stays so


def test_weights_order_and_get_set_weights_as_keras(rng):
    model = bn.Sequential([bn.Input((4,)), bn.Dense(3), bn.BatchNormalization(), bn.Dense(2)], seed=0)
    names = [w.name for w in model.weights]
    assert names == ["weights", "biases", "gamma", "beta", "moving_mean", "moving_variance", "weights", "biases"]
    bn_layer = model.layers[1]
    assert [w.name for w in bn_layer.trainable_weights] == ["gamma", "beta"]
    assert [w.name for w in bn_layer.non_trainable_weights] == ["moving_mean", "moving_variance"]
    values = [rng.normal(size=w.shape).astype(np.float32) for w in model.get_weights()]
    model.set_weights(values)
    for got, want in zip(model.get_weights(), values):
        np.testing.assert_array_equal(got, want)
    bn_layer.set_weights([np.full(3, 2.0)] * 4)
    np.testing.assert_array_equal(bn_layer.state["moving_variance"], np.full(3, 2.0, np.float32))
    # The variables wrap the live arrays.
    model.weights[0].assign(np.zeros((4, 3)))
    np.testing.assert_array_equal(model.layers[0].params["weights"], np.zeros((4, 3)))


def test_set_weights_checks_before_changing_anything(rng):
    layer = bn.Dense(3)
    layer.build((4,))
    before = layer.get_weights()
    with pytest.raises(ValueError, match=r"`weights\[1\]` \(biases\) must have shape \(3,\)"):
        layer.set_weights([np.ones((4, 3)), np.ones(2)])
    with pytest.raises(ValueError, match="must hold 2 arrays"):
        layer.set_weights([np.ones((4, 3))])
    for a, b in zip(before, layer.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_trainable_argument_and_config(rng):
    layer = bn.Dense(3, trainable=False)
    assert layer.trainable is False and layer.get_config()["trainable"] is False
    assert bn.Dense.from_config(layer.get_config()).trainable is False


def test_activity_regularizer_adds_its_penalty_and_gradient(rng):
    x = rng.normal(size=(5, 4))
    y = rng.normal(size=(5, 2))
    model = bn.Sequential([bn.Input((4,)), bn.Dense(3, "tanh", activity_regularizer=bn.regularizers.L1L2(0.01, 0.02)),
                           bn.Dense(2)], dtype="float64", seed=0)
    model.compile("sgd", "mse")
    grads = model.compute_gradients(x, y)
    first = model.layers[0].params["weights"]

    def loss():
        hidden = np.tanh(x @ first + model.layers[0].params["biases"])
        out = hidden @ model.layers[1].params["weights"] + model.layers[1].params["biases"]
        return float(np.mean((out - y) ** 2) + 0.01 * np.abs(hidden).sum() + 0.02 * (hidden ** 2).sum())

    from gradcheck import assert_close, numerical_grad
    assert_close(grads[f"{model.layers[0].name}/weights"], numerical_grad(loss, first), rtol=1e-5, atol=1e-8)
    assert model.layers[0].get_config()["activity_regularizer"]["class_name"] == "L1L2"


def test_activity_regularizer_on_a_custom_layer(rng):
    class Double(bn.Layer):
        def call(self, inputs):
            return ops.multiply(inputs, 2.0)

    inputs = bn.Input((3,))
    model = bn.Model(inputs, bn.Dense(1)(Double(activity_regularizer="l2")(inputs)), dtype="float64", seed=0)
    model.compile("sgd", "mse")
    x = rng.normal(size=(4, 3))
    logs = model.train_on_batch(x, np.zeros((4, 1)))
    loss = logs["loss"] if isinstance(logs, dict) else (logs[0] if isinstance(logs, list) else logs)
    assert loss >= 0.01 * float(np.sum((2 * x) ** 2)) - 1e-9


def test_a_frozen_conv_layer_stays_frozen_through_saving(tmp_path):
    model = bn.Sequential([bn.Input((6, 6, 1)), bn.Conv2D(2, 3), bn.Flatten(), bn.Dense(2)], seed=0)
    model.layers[0].trainable = False
    model.save(tmp_path / "m.barenet")
    loaded = bn.load_model(tmp_path / "m.barenet")
    assert loaded.layers[0].trainable is False and loaded.layers[2].trainable is True
    assert len(loaded.trainable_weights) == 2
