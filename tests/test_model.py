import numpy as np
import pytest

import barenet as bn
from gradcheck import assert_close, numerical_grad


def _three_layer(dtype="float64", seed=0, out_activation="softmax"):
    return bn.Sequential([
        bn.Dense(6, "tanh", input_dim=4),
        bn.Dense(5, "relu"),
        bn.Dense(3, out_activation),
    ], seed=seed, dtype=dtype)


def _data(rng, n=40, features=4, classes=3):
    x = rng.normal(size=(n, features))
    labels = rng.integers(0, classes, n)
    return x, labels


# --- the math through the public API --------------------------------------------------------
@pytest.mark.parametrize("loss, out_activation, sparse", [
    ("categorical_crossentropy", "softmax", False),   # fused path
    ("sparse_categorical_crossentropy", "softmax", True),
    ("mse", "sigmoid", False),
    ("mae", "linear", False),
    ("categorical_crossentropy", "sigmoid", False),   # unfused cross-entropy path
])
def test_whole_network_gradient_matches_finite_differences(loss, out_activation, sparse, rng):
    model = _three_layer(out_activation=out_activation)
    x, labels = _data(rng, n=7)
    y = labels if sparse else bn.to_categorical(labels, 3).astype(np.float64)
    # Plain SGD with learning rate 1: one train_on_batch step moves each parameter by -grad.
    model.compile(optimizer=bn.optimizers.SGD(learning_rate=1.0), loss=loss)
    before = model.get_weights()
    model.train_on_batch(x, y, return_dict=True)
    analytic = [b - a for b, a in zip(before, model.get_weights())]
    model.set_weights(before)
    arrays = [p for layer in model.layers for p in layer.params.values()]
    for array, grad in zip(arrays, analytic):
        assert_close(grad, numerical_grad(lambda: model.evaluate(x, y, return_dict=True)["loss"], array), rtol=1e-5, atol=1e-8)


def test_binary_sigmoid_network_gradient(rng):
    model = bn.Sequential([bn.Dense(5, "elu", input_dim=3), bn.Dense(1, "sigmoid")], dtype="float64", seed=1)
    x = rng.normal(size=(9, 3))
    y = rng.integers(0, 2, size=9).astype(float)
    model.compile(bn.optimizers.SGD(1.0), "binary_crossentropy")
    before = model.get_weights()
    model.train_on_batch(x, y, return_dict=True)
    analytic = [b - a for b, a in zip(before, model.get_weights())]
    model.set_weights(before)
    arrays = [p for layer in model.layers for p in layer.params.values()]
    for array, grad in zip(arrays, analytic):
        assert_close(grad, numerical_grad(lambda: model.evaluate(x, y, return_dict=True)["loss"], array))


# --- training semantics -----------------------------------------------------------------------
def test_every_sample_once_per_epoch_and_short_last_batch_updates(rng, monkeypatch):
    model = _three_layer()
    model.compile("sgd", "categorical_crossentropy")
    x, labels = _data(rng, n=10)
    seen = []
    original = model.train_step_arrays

    def spy(xs, ys, sample_weight=None):
        seen.append(xs[0].copy())
        return original(xs, ys, sample_weight)

    monkeypatch.setattr(model, "train_step_arrays", spy)
    model.fit(x, bn.to_categorical(labels, 3), epochs=2, batch_size=4, verbose=0)
    assert [len(b) for b in seen] == [4, 4, 2, 4, 4, 2]
    for epoch in (seen[:3], seen[3:]):
        rows = np.concatenate(epoch)
        assert sorted(map(tuple, rows)) == sorted(map(tuple, x))
    # The short batch is averaged over its own size: its step equals one train_on_batch.
    model2 = _three_layer()
    model2.compile(bn.optimizers.SGD(0.1), "mse")
    m3 = _three_layer()
    m3.compile(bn.optimizers.SGD(0.1), "mse")
    y = bn.to_categorical(labels, 3)
    model2.fit(x[:2], y[:2], epochs=1, batch_size=4, shuffle=False, verbose=0)
    m3.train_on_batch(x[:2], y[:2], return_dict=True)
    for a, b in zip(model2.get_weights(), m3.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_history_and_blog_dicts(rng):
    model = _three_layer(dtype="float32")
    model.compile("adam", "categorical_crossentropy", metrics=["accuracy", "mse"])
    x, labels = _data(rng, n=50)
    history = model.fit(x, bn.to_categorical(labels, 3), epochs=3, validation_split=0.2, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "mse", "val_loss", "val_accuracy", "val_mse"}
    assert all(len(v) == 3 for v in history.history.values())
    assert history.epoch == [0, 1, 2]
    assert list(model.train_loss) == [0, 1, 2]
    assert model.val_acc[2] == pytest.approx(100 * history.history["val_accuracy"][2])
    evaluated = model.evaluate(x, bn.to_categorical(labels, 3), return_dict=True)
    assert set(evaluated) == {"loss", "accuracy", "mse"}


def test_validation_data_is_used_as_given(rng):
    model = _three_layer()
    model.compile("sgd", "categorical_crossentropy", ["accuracy"])
    x, labels = _data(rng, n=30)
    y = bn.to_categorical(labels, 3)
    history = model.fit(x, y, epochs=1, validation_data=(x[:5], y[:5]), verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(model.evaluate(x[:5], y[:5], return_dict=True)["loss"])


def test_same_seed_is_bit_identical_and_global_rng_untouched(rng):
    x, labels = _data(rng, n=64)
    y = bn.to_categorical(labels, 3)
    state = np.random.get_state()
    runs = []
    for _ in range(2):
        model = _three_layer(dtype="float32", seed=42)
        model.compile("adam", "cse", ["accuracy"])
        model.fit(x, y, epochs=3, batch_size=8, validation_split=0.25, verbose=0)
        runs.append(model.get_weights())
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)
    other = _three_layer(dtype="float32", seed=43)
    assert not np.array_equal(other.get_weights()[0], runs[0][0])
    after = np.random.get_state()
    assert state[0] == after[0] and np.array_equal(state[1], after[1]) and state[2:] == after[2:]


def test_layers_of_equal_shape_start_different():
    model = bn.Sequential([bn.Dense(8, input_dim=8), bn.Dense(8), bn.Dense(8)], seed=0)
    assert not np.array_equal(model.layers[1].weights, model.layers[2].weights)


def test_float32_by_default_float64_on_request(rng):
    x, labels = _data(rng)
    for dtype in ("float32", "float64"):
        model = _three_layer(dtype=dtype)
        model.compile("adam", "categorical_crossentropy")
        model.fit(x, bn.to_categorical(labels, 3), epochs=1, verbose=0)
        assert all(w.dtype == np.dtype(dtype) for w in model.get_weights())
        assert model.predict(x).dtype == np.dtype(dtype)


def test_lazy_build_from_first_batch(rng):
    model = bn.Sequential([bn.Dense(4, "relu"), bn.Dense(2, "softmax")], seed=0)
    assert not model.built
    model.compile("sgd", "sparse_categorical_crossentropy", ["accuracy"])
    x = rng.normal(size=(20, 5))
    model.fit(x, rng.integers(0, 2, 20), epochs=1, verbose=0)
    assert model.built and model.layers[0].weights.shape == (5, 4)


def test_summary_twice_gives_same_totals(capsys):
    model = _three_layer()
    model.summary()
    first = capsys.readouterr().out
    model.summary()
    assert capsys.readouterr().out == first
    total = (4 * 6 + 6) + (6 * 5 + 5) + (5 * 3 + 3)
    assert f"Total params: {total}" in first and model.parameters == total
    assert "(None, 5)" in first and "relu" in first


def test_predict_batches_agree(rng):
    model = _three_layer()
    x = rng.normal(size=(2500, 4))
    np.testing.assert_allclose(model.predict(x), model.predict(x, batch_size=7))
    np.testing.assert_allclose(model.predict(x)[:3], model.predict(x[:3]))


def test_blog_api_end_to_end_learns_xor_like_problem(rng, capsys):
    x = rng.uniform(-1, 1, size=(600, 2))
    labels = (x[:, 0] * x[:, 1] > 0).astype(int)
    model = bn.NN(seed=0)
    model.add(bn.FFL(input_shape=2, neurons=32, activation="tanh"))
    model.add(bn.FFL(neurons=2, activation="softmax"))
    model.compile_model(lr=0.01, opt="adam", loss="cse", metrics=["accuracy"])
    model.train(x, bn.one_hot_encoding(labels, 2), epochs=30, show_every=10, batch_size=16, val_split=0.1)
    out = capsys.readouterr().out
    assert out.count("Epoch: ") == 3  # the post's lines for epochs 0, 10 and 20
    assert model.train_acc[29] >= 95 and model.val_acc[29] >= 90
    predictions = model.predict(x).argmax(axis=1)
    assert np.mean(predictions == labels) >= 0.95


def test_keras_api_binary_classification_learns(rng):
    x = rng.normal(size=(400, 3))
    y = (x.sum(axis=1) > 0).astype(float)
    model = bn.Sequential([bn.Dense(8, "relu", input_dim=3), bn.Dense(1, "sigmoid")], seed=3)
    model.compile(bn.optimizers.SGD(0.1, momentum=0.9), "binary_crossentropy", ["accuracy"])
    history = model.fit(x, y, epochs=20, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0] / 3
    assert model.evaluate(x, y, return_dict=True)["accuracy"] >= 0.95


def test_verbose_prints_one_line_per_epoch(rng, capsys):
    model = _three_layer()
    model.compile("sgd", "cse")
    x, labels = _data(rng)
    model.fit(x, bn.to_categorical(labels, 3), epochs=2, verbose=1)
    assert capsys.readouterr().out.count("Epoch ") == 2
    model.fit(x, bn.to_categorical(labels, 3), epochs=2, verbose=0)
    assert capsys.readouterr().out == ""


# --- errors: clear, and nothing changes -----------------------------------------------------
def _compiled(rng):
    model = _three_layer()
    model.compile("sgd", "categorical_crossentropy", ["accuracy"])
    x, labels = _data(rng, n=12)
    return model, x, bn.to_categorical(labels, 3)


BAD_FIT = [
    (lambda x, y: (x[:5], y), {}, ValueError, "same length.*len\\(x\\)=5, len\\(y\\)=12"),
    (lambda x, y: (x[:, :3], y), {}, ValueError, "expects \\(4,\\).*x.shape=\\(12, 3\\)"),
    (lambda x, y: (x, y[:, :2]), {}, ValueError, "produces \\(3,\\).*y.shape=\\(12, 2\\)"),
    (lambda x, y: (np.where(np.arange(48).reshape(12, 4) == 5, np.nan, x), y), {}, ValueError, "`x` contains NaN or inf"),
    (lambda x, y: (x, np.where(y == 1, np.inf, y)), {}, ValueError, "`y` contains NaN or inf"),
    (lambda x, y: (x[:0], y[:0]), {}, ValueError, "`x` must not be empty"),
    (lambda x, y: (x.astype(str), y), {}, TypeError, "`x` must be a numeric array. Received: dtype <U"),
    (lambda x, y: ([[1, 2], [3]], y), {}, ValueError, "`x` must be a rectangular numeric array"),
    (lambda x, y: (None, y), {}, TypeError, "`x` must be a numeric array. Received: None"),
    (lambda x, y: (x, y), {"batch_size": 0}, ValueError, "`batch_size` must be a positive integer. Received: batch_size=0"),
    (lambda x, y: (x, y), {"epochs": 0}, ValueError, "`epochs` must be a positive integer. Received: epochs=0"),
    (lambda x, y: (x, y), {"validation_split": 1.0}, ValueError, "`validation_split` must be a number in \\[0, 1\\)"),
    (lambda x, y: (x, y), {"validation_split": -0.1}, ValueError, "`validation_split`"),
    (lambda x, y: (x, y), {"validation_data": (np.zeros((3, 4)), np.zeros((3, 2)))}, ValueError, "y_val"),
]


@pytest.mark.parametrize("make, kwargs, error, match", BAD_FIT)
def test_bad_fit_input_raises_and_changes_nothing(make, kwargs, error, match, rng):
    model, x, y = _compiled(rng)
    before = model.get_weights()
    rng_state = model.rng.bit_generator.state
    bad_x, bad_y = make(x, y)
    with pytest.raises(error, match=match):
        model.fit(bad_x, bad_y, verbose=0, **kwargs)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert model.rng.bit_generator.state == rng_state
    assert model.history is None


def test_blog_train_val_split_checked(rng):
    model, x, y = _compiled(rng)
    with pytest.raises(ValueError, match="`val_split` must be a number in \\[0, 1\\). Received: val_split=1.5"):
        model.train(x, y, epochs=1, val_split=1.5)
    with pytest.raises(ValueError, match="both `val_x` and `val_y`"):
        model.train(x, y, epochs=1, val_x=x)


def test_training_uncompiled_model_is_an_error(rng):
    model = _three_layer()
    x, labels = _data(rng)
    for call in (lambda: model.fit(x, labels), lambda: model.train(x, labels, 1), lambda: model.evaluate(x, labels, return_dict=True)):
        with pytest.raises(RuntimeError, match="Call compile_model\\(\\) or compile\\(\\) before"):
            call()


def test_sparse_labels_out_of_range(rng):
    model = _three_layer()
    model.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="labels must lie in \\[0, 3\\)"):
        model.fit(rng.normal(size=(4, 4)), np.array([0, 1, 2, 3]), verbose=0)


def test_sparse_labels_per_time_step_as_keras(rng):
    """Labels `(samples, steps)` against an output `(samples, steps, classes)`: one label per row."""
    x = rng.integers(1, 10, size=(16, 7))
    labels = x[:, ::-1]
    model = bn.Sequential([bn.Input((7,)), bn.Embedding(10, 8), bn.Dense(10, activation="softmax")], seed=0)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    probabilities = model.predict(x, verbose=0)
    expected = -np.log(np.take_along_axis(probabilities, labels[..., None], -1)).mean()
    loss, accuracy = model.evaluate(x, labels, verbose=0)
    assert loss == pytest.approx(expected, rel=1e-5)
    assert accuracy == pytest.approx(np.mean(probabilities.argmax(-1) == labels))
    one_hot = bn.Sequential([bn.Input((7,)), bn.Embedding(10, 8), bn.Dense(10, activation="softmax")], seed=0)
    one_hot.compile("adam", "categorical_crossentropy")
    sparse_grads = model.compute_gradients(x, labels[..., None])   # a trailing axis of 1 is accepted
    dense_grads = one_hot.compute_gradients(x, bn.to_categorical(labels, 10))
    assert sparse_grads.keys() == dense_grads.keys()
    for key in sparse_grads:
        np.testing.assert_allclose(sparse_grads[key], dense_grads[key], rtol=1e-4, atol=1e-7)
    with pytest.raises(ValueError, match="integer class labels, shape \\(samples, 7\\)"):
        model.fit(x, labels[:, :6], verbose=0)


def test_mismatched_declared_input_uses_blog_message():
    model = bn.NN()
    model.add(bn.FFL(input_shape=4, neurons=10))
    with pytest.raises(ValueError, match="declares input_shape=\\(8,\\).*outputs \\(10,\\)"):
        model.add(bn.FFL(input_shape=8, neurons=3))
    assert len(model.layers) == 1


@pytest.mark.parametrize("call, match", [
    (lambda m: m.compile(optimizer="sgdd"), "Unknown optimizer 'sgdd'.*sgd, adam"),
    (lambda m: m.compile(loss="l2"), "Unknown loss 'l2'.*mean_squared_error"),
    (lambda m: m.compile(metrics=["precisionn"]), "Unknown metric 'precisionn'.*accuracy"),
    (lambda m: m.compile_model(opt="rmsprops"), "Unknown optimizer opt='rmsprops'.*iterative"),
    (lambda m: m.compile_model(metrics=["f1"]), "Unknown metric 'f1'"),
    (lambda m: m.compile_model(lr=-1, opt="sgd"), "`learning_rate` must be a non-negative number. Received: learning_rate=-1"),
])
def test_unknown_names_list_valid_ones_and_leave_model_uncompiled(call, match):
    model = _three_layer()
    with pytest.raises(ValueError, match=match):
        call(model)
    assert not model.compiled


def test_predict_wrong_features(rng):
    model = _three_layer()
    with pytest.raises(ValueError, match="expects \\(4,\\)"):
        model.predict(rng.normal(size=(3, 5)))
    assert model.predict(np.zeros(4)).shape == (1, 3)   # one sample of the input shape: a batch of one
    with pytest.raises(ValueError, match="expects \\(4,\\).*add a batch axis: `x\\[None\\]`"):
        model.predict(np.zeros(5))


def test_an_update_that_overflows_stops_training_with_the_last_good_weights(rng):
    """Adam's second moment overflows float32 with gradients near 1e20: the step is rolled back."""
    model = bn.Sequential([bn.Dense(1, input_dim=2)], seed=0)
    model.compile(bn.optimizers.Adam(1e-3), "mse")
    x = np.full((4, 2), 1e18, np.float32)
    y = np.zeros((4, 1), np.float32)
    before = model.get_weights()
    history = model.fit(x, y, epochs=2, verbose=0)
    assert "not finite" in history.stop_reason or "inf" in history.stop_reason
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert history.history == {}


def test_float64_inputs_beyond_float32_are_refused():
    model = bn.Sequential([bn.Dense(1, input_dim=2)], seed=0)
    with pytest.raises(ValueError, match="too large for float32"):
        model.predict(np.array([[1e300, 0.0]]))
