"""The blog's API over the Keras one (`compat.blog`): accuracy by default, single-sample predict,
`layer.input` / `layer.out`, the posts' attributes and names."""

import numpy as np
import pytest

import barenet as bn
from barenet import activations


def _xor(rng, n=200):
    x = rng.uniform(-1, 1, size=(n, 2))
    labels = (x[:, 0] * x[:, 1] > 0).astype(int)
    return x, bn.one_hot_encoding(labels, 2)


def _mlp(seed=0):
    model = bn.NN(seed=seed)
    model.add(bn.FFL(input_shape=2, neurons=8, activation="tanh"))
    model.add(bn.FFL(neurons=2, activation="softmax"))
    return model


def _cnn(seed=0):
    model = bn.CNN(seed=seed)
    model.add(bn.Conv2d(input_shape=(6, 6, 1), filters=2, padding=None, kernel_size=(3, 3), activation="relu"))
    model.add(bn.Pool2d(kernel_size=(2, 2)))
    model.add(bn.Flatten())
    model.add(bn.FFL(neurons=3, activation="softmax"))
    return model


# --- accuracy without being asked ------------------------------------------------------------------
@pytest.mark.parametrize("loss", ["cse", "categorical_crossentropy"])
def test_compile_model_tracks_accuracy_for_classification_losses(rng, loss, capsys):
    x, y = _xor(rng)
    model = _mlp()
    model.compile_model(lr=0.01, opt="adam", loss=loss)   # no metrics=, as in every post
    history = model.train(x, y, epochs=2, batch_size=16)
    assert set(history.history) >= {"accuracy", "val_accuracy", "mse", "loss"}
    assert list(model.train_acc) == [0, 1] and list(model.val_acc) == [0, 1]
    assert model.train_acc[1] == pytest.approx(100 * history.history["accuracy"][1])
    assert "Train Accuracy: " in capsys.readouterr().out


def test_accuracy_is_not_added_twice_nor_for_regression(rng):
    x, y = _xor(rng)
    model = _mlp()
    model.compile_model(loss="cse", metrics=["acc"])
    assert model.metrics_names == ["loss", "acc"]
    model.compile_model(loss="mse")
    assert model.metrics_names == ["loss", "mse"]
    single = bn.NN(seed=0)
    single.add(bn.FFL(input_shape=2, neurons=1, activation="sigmoid"))
    single.compile_model(loss="cse")   # binary cross-entropy on one output
    assert single.metrics_names[1] == "accuracy"
    history = single.train(x, y[:, :1], epochs=1, val_split=0)
    assert 0 <= history.history["accuracy"][0] <= 1


def test_visualize_draws_the_posts_two_figures(rng, tmp_path):
    pytest.importorskip("matplotlib")
    from PIL import Image

    x, y = _xor(rng)
    model = _mlp()
    model.compile_model(lr=0.01, opt="adam", loss="cse")
    model.train(x, y, epochs=2)
    width, height = Image.open(model.visualize(tmp_path / "curves.png")).size
    assert width > 1.8 * height   # two panels side by side: loss and accuracy


# --- predict on one sample ---------------------------------------------------------------------------
def test_predict_on_one_sample_returns_a_batch_of_one(rng):
    model = _cnn()
    images = rng.normal(size=(4, 6, 6, 1))
    batch = model.predict(images)
    one = model.predict(images[2])                # the CNN post's m.predict(x[0])
    assert one.shape == (1, 3)
    np.testing.assert_allclose(one[0], batch[2], rtol=1e-6)
    assert (model.predict(images[0]) == model.predict(images[0])).all()   # the post's save/load check
    np.testing.assert_allclose(model.feedforward(images[1]), batch[1:2], rtol=1e-6)


@pytest.mark.parametrize("shape", [(6, 6), (6, 1), (36,), (5, 6, 1)])
def test_predict_on_neither_a_sample_nor_a_batch_says_what_it_expected(rng, shape):
    model = _cnn()
    with pytest.raises(ValueError, match=r"expects \(6, 6, 1\).*add a batch axis: `x\[None\]`"):
        model.predict(rng.normal(size=shape))


def test_functional_models_take_one_sample_too(rng):
    inputs = bn.Input(shape=(3,))
    model = bn.Model(inputs, bn.layers.Dense(2)(inputs))
    x = rng.normal(size=(5, 3)).astype(np.float32)
    np.testing.assert_allclose(model.predict(x[1]), model.predict(x)[1:2], rtol=1e-6)


# --- layer.input / layer.out -------------------------------------------------------------------------
def test_out_and_input_after_a_single_sample_predict_are_that_samples(rng):
    model = _cnn()
    image = rng.normal(size=(6, 6, 1))
    prediction = model.predict(image)
    conv, pool, flat, dense = model.layers
    assert conv.input.shape == (6, 6, 1) and conv.out.shape == (4, 4, 2)   # the post's l.out[:, :, f]
    np.testing.assert_array_equal(pool.input, conv.out)
    np.testing.assert_allclose(pool.out, conv.out.reshape(2, 2, 2, 2, 2).max(axis=(1, 3)))
    assert flat.out.shape == (8,)
    np.testing.assert_array_equal(dense.out, prediction[0])


def test_record_activations_keeps_the_last_inference_batch(rng):
    model = _cnn()
    images = rng.normal(size=(5, 6, 6, 1))
    model.predict(images)
    assert all(layer.out is None and layer.input is None for layer in model.layers)   # off by default
    model.record_activations = True
    prediction = model.predict(images)
    assert model.layers[0].input.shape == (5, 6, 6, 1)
    np.testing.assert_array_equal(model.layers[-1].out, prediction)
    np.testing.assert_array_equal(model.forward(images[:2]), model.layers[-1].out)


def test_training_keeps_no_activations_and_never_takes_the_recording_pass(rng, monkeypatch):
    model = _mlp()
    model.compile_model(lr=0.01, opt="adam", loss="cse")
    calls = []
    original = type(model)._recorded_pass
    monkeypatch.setattr(type(model), "_recorded_pass", lambda self, xs: calls.append(len(xs[0])) or original(self, xs))
    x, y = _xor(rng)
    model.train(x, y, epochs=2, batch_size=16, val_split=0.2)
    assert calls == []
    assert all("out" not in layer.__dict__ and "input" not in layer.__dict__ for layer in model.layers)
    model.record_activations = True
    model.train(x, y, epochs=1, batch_size=16, val_split=0.2)
    assert calls == [16, 16, 8]   # the validation batches only: training passes are never recorded
    assert model.layers[0].input.shape == (8, 2)   # the last one


def test_train_val_split_holds_out_a_random_subset_as_the_post_did(rng, monkeypatch):
    model = _mlp(seed=3)
    model.compile_model(lr=0.01, opt="adam", loss="cse")
    x, y = _xor(rng)
    x[:, 0] = np.arange(len(x))   # row numbers, to see which rows were held out
    seen = {}
    original = type(model).fit
    monkeypatch.setattr(type(model), "fit", lambda self, X, Y, **kw: seen.update(kw, X=X) or original(self, X, Y, **kw))
    model.train(x, y, epochs=1, batch_size=16, val_split=0.2)
    val_rows = seen["validation_data"][0][:, 0].astype(int)
    train_rows = seen["X"][:, 0].astype(int)
    assert len(val_rows) == 40 and len(train_rows) == 160
    assert sorted([*val_rows, *train_rows]) == list(range(200))
    assert list(val_rows) != list(range(160, 200))   # not Keras's last fraction
    again = _mlp(seed=3)
    again.compile_model(lr=0.01, opt="adam", loss="cse")
    seen.clear()
    again.train(x, y, epochs=1, batch_size=16, val_split=0.2)
    np.testing.assert_array_equal(seen["validation_data"][0][:, 0].astype(int), val_rows)  # the model's seed


def test_a_layer_using_the_name_out_itself_is_left_alone(rng):
    class Head(bn.layers.Layer):
        def __init__(self):
            super().__init__()
            self.out = bn.Dense(2)

        def call(self, inputs):
            return self.out(inputs)

    model = bn.NN(seed=0)
    model.add(bn.FFL(input_shape=3, neurons=4))
    model.add(Head())
    head = model.layers[1]
    model.predict(np.ones(3))
    assert isinstance(head.out, bn.Dense) and head.input.shape == (4,)


# --- the posts' attributes and names -----------------------------------------------------------------
def test_layer_attributes_the_posts_read():
    model = _cnn()
    model.add(bn.Dropout(0.2))
    conv, pool, flat, dense, drop = model.layers
    assert conv.filters == 2 and conv.kernel_size == (3, 3) and conv.stride == (1, 1) and conv.isbias
    assert pool.kernel_size == (2, 2) and pool.stride == (2, 2) and pool.kind == "max" and not pool.isbias
    assert not flat.isbias and not drop.isbias and drop.prob == 0.2
    assert dense.neurons == 3 and dense.isbias and not bn.FFL(neurons=2, is_bias=False).isbias
    assert dense.activation == "softmax" and conv.activation == "relu" and conv.activation != "softmax"
    assert bn.CNN is bn.NN is bn.Sequential


def test_activation_equals_its_name_and_hashes_like_it():
    softmax = activations.get("softmax")
    assert softmax == "softmax" and "softmax" == softmax and softmax != "relu"
    assert hash(softmax) == hash("softmax") and {softmax: 1}["softmax"] == 1
    assert activations.get(None) == "linear"
    assert softmax != activations.get("softmax")   # between objects, equality stays identity


def test_upsample_is_upsampling2d_with_the_posts_arguments(rng):
    layer = bn.Upsample(kernel_size=(1, 3))
    assert isinstance(layer, bn.UpSampling2D) and layer.kernel_size == layer.stride == (1, 3)
    image = np.array([[12.0, 10.0], [101.0, 88.0]])[:, :, None]
    model = bn.NN()
    model.add(bn.Upsample(input_shape=(2, 2, 1)))
    expected = [[12, 12, 10, 10], [12, 12, 10, 10], [101, 101, 88, 88], [101, 101, 88, 88]]
    np.testing.assert_array_equal(model.predict(image)[0, :, :, 0], expected)   # the post's example
    clone = bn.Upsample.from_config(layer.get_config())
    assert clone.kernel_size == (1, 3)
