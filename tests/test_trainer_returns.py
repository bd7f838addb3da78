"""The step's weighting and running logs, and Keras 3's return conventions: evaluate,
test_on_batch, train_on_batch, predict_on_batch, metrics_names, compile's defaults."""

import numpy as np
import pytest
from gradcheck import assert_close

import barenet as bn


def _classifier(seed=0, metrics=("accuracy",), **compile_args):
    model = bn.Sequential([bn.Input((4,)), bn.layers.Dense(6, activation="tanh"),
                           bn.layers.Dense(3, activation="softmax")], seed=seed, dtype="float64")
    model.compile(bn.optimizers.SGD(0.1), "sparse_categorical_crossentropy", metrics=list(metrics), **compile_args)
    return model


@pytest.fixture
def data(rng):
    x = rng.normal(size=(37, 4))
    labels = rng.integers(0, 3, 37)
    return x, labels, rng.uniform(0.1, 3.0, 37)


def test_evaluate_returns_loss_or_list_in_metrics_names_order(data):
    x, labels, _ = data
    model = _classifier(metrics=["accuracy", bn.metrics.SparseTopKCategoricalAccuracy(k=2)])
    assert model.metrics_names == ["loss", "accuracy", "sparse_top_k_categorical_accuracy"]
    loss, acc, top2 = model.evaluate(x, labels, verbose=0)
    logs = model.evaluate(x, labels, verbose=0, return_dict=True)
    assert list(logs) == model.metrics_names and [loss, acc, top2] == list(logs.values())
    probs = model.predict(x)
    expected_loss = -np.mean(np.log(probs[np.arange(37), labels]))
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    assert acc == pytest.approx(np.mean(probs.argmax(1) == labels))
    plain = _classifier(metrics=())
    assert isinstance(plain.evaluate(x, labels, verbose=0), float)
    assert plain.evaluate(x, labels, batch_size=5) == pytest.approx(expected_loss, rel=1e-12)


def test_sample_weight_enters_the_loss_as_keras_weighted_mean(data):
    x, labels, w = data
    model = _classifier(weighted_metrics=["accuracy"])
    probs = model.predict(x)
    per_sample = -np.log(probs[np.arange(37), labels])
    hits = probs.argmax(1) == labels
    logs = model.evaluate(x, labels, sample_weight=w, batch_size=37, return_dict=True)
    assert logs["loss"] == pytest.approx(np.sum(w * per_sample) / 37, rel=1e-12)   # sum_over_batch_size
    assert logs["accuracy"] == pytest.approx(hits.mean())                         # unweighted metric
    assert logs["weighted_accuracy"] == pytest.approx(np.sum(w * hits) / w.sum())  # weighted metric
    # over batches of 10: each batch's weighted mean, averaged by batch size, as Keras's loss tracker
    batched = model.evaluate(x, labels, sample_weight=w, batch_size=10, return_dict=True)
    means = [np.sum((w * per_sample)[i:i + 10]) / len(w[i:i + 10]) for i in range(0, 37, 10)]
    sizes = [len(w[i:i + 10]) for i in range(0, 37, 10)]
    assert batched["loss"] == pytest.approx(np.dot(means, sizes) / 37, rel=1e-12)


def test_weighted_gradient_is_the_gradient_of_the_weighted_loss(data):
    x, labels, w = data
    model = _classifier()
    grads = model.compute_gradients(x[:8], labels[:8], sample_weight=w[:8])
    # a weight of k equals repeating the sample k times (integer weights), up to the batch size divisor
    counts = np.array([1, 2, 0, 3, 1, 1, 2, 1])
    repeated = _classifier().compute_gradients(np.repeat(x[:8], counts, 0), np.repeat(labels[:8], counts))
    weighted = _classifier().compute_gradients(x[:8], labels[:8], sample_weight=counts.astype(float))
    for key in grads:
        assert_close(weighted[key] * 8 / counts.sum(), repeated[key], rtol=1e-10, atol=1e-14)


def test_train_logs_are_running_values_and_reset_each_epoch(data):
    x, labels, _ = data
    model, check = _classifier(metrics=["accuracy"]), _classifier(metrics=["accuracy"])
    first = model.train_on_batch(x[:10], labels[:10], return_dict=True)   # logs before the update
    assert first["loss"] == pytest.approx(check.test_on_batch(x[:10], labels[:10], return_dict=True)["loss"])
    check.set_weights(model.get_weights())
    check.reset_metrics()
    second_batch = check.test_on_batch(x[10:30], labels[10:30], return_dict=True)["loss"]
    second = model.train_on_batch(x[10:30], labels[10:30], return_dict=True)
    assert second["loss"] == pytest.approx((10 * first["loss"] + 20 * second_batch) / 30, rel=1e-12)
    model.reset_metrics()
    assert model.train_on_batch(x[:3], labels[:3], return_dict=True)["loss"] == pytest.approx(
        model.evaluate(x[:3], labels[:3], return_dict=True)["loss"], abs=0.5)
    # fit: each epoch starts from reset metrics; its logs are the epoch's running values
    seen = []
    probe = bn.callbacks.LambdaCallback(on_batch_end=lambda batch, logs: seen.append(logs["loss"]))
    history = model.fit(x, labels, epochs=2, batch_size=8, shuffle=False, verbose=0, callbacks=[probe])
    assert history.history["loss"] == [seen[4], seen[9]]


def test_epoch_precision_is_exact_over_uneven_batches(data):
    x, labels, _ = data
    model = bn.Sequential([bn.Input((4,)), bn.layers.Dense(1, activation="sigmoid")], seed=1, dtype="float64")
    model.compile(bn.optimizers.SGD(0.0), "binary_crossentropy", metrics=[bn.metrics.Precision(), "auc"])
    y = (labels == 1).astype(float)
    logs = model.evaluate(x, y, batch_size=6, return_dict=True)
    whole = model.predict(x)[:, 0]
    predicted = whole > 0.5
    assert logs["precision"] == pytest.approx((predicted & (y == 1)).sum() / predicted.sum())
    assert logs["auc"] == pytest.approx(bn.metrics.AUC()(y, whole))
    history = model.fit(x, y, epochs=1, batch_size=6, shuffle=False, verbose=0)  # lr 0: weights fixed
    assert history.history["precision"][0] == pytest.approx(logs["precision"])


def test_on_batch_methods_and_predict_on_batch(data):
    x, labels, w = data
    model = _classifier(metrics=["accuracy"])
    loss, acc = model.test_on_batch(x[:4], labels[:4])
    assert isinstance(loss, float) and 0 <= acc <= 1
    assert np.array_equal(model.predict_on_batch(x[:4]), model.predict(x[:4]))
    values = model.train_on_batch(x[:4], labels[:4], sample_weight=w[:4], class_weight={0: 2.0, 2: 0.5})
    assert isinstance(values, list) and len(values) == 2
    # class_weight becomes per-sample weights (the logs are computed before the update)
    cw = {0: 2.0, 1: 1.0, 2: 0.5}
    expected = _classifier(metrics=()).evaluate(x[:6], labels[:6], sample_weight=np.array([cw[k] for k in labels[:6]]))
    assert _classifier(metrics=()).train_on_batch(x[:6], labels[:6], class_weight=cw) == pytest.approx(expected)


def test_compile_accepts_objects_functions_and_per_output_dicts(rng):
    inputs = bn.Input((3,))
    hidden = bn.layers.Dense(4, activation="relu")(inputs)
    model = bn.Model(inputs, {"kind": bn.layers.Dense(2, activation="softmax", name="kind")(hidden),
                              "size": bn.layers.Dense(1, name="size")(hidden)})

    def half_error(y_true, y_pred):
        return 0.5 * np.abs(y_true - y_pred).mean(axis=-1)

    model.compile(optimizer="adam", loss={"kind": "sparse_categorical_crossentropy", "size": bn.losses.Huber()},
                  metrics={"kind": ["acc", bn.metrics.Recall(class_id=1)], "size": [half_error, "mae"]})
    x, kind, size = rng.normal(size=(9, 3)), rng.integers(0, 2, 9), rng.normal(size=(9, 1))
    names = model.metrics_names
    assert names == ["loss", "kind_acc", "kind_recall", "size_half_error", "size_mae", "kind_loss", "size_loss"]
    values = model.evaluate(x, {"kind": kind, "size": size})
    logs = model.evaluate(x, {"kind": kind, "size": size}, return_dict=True)
    assert values == [logs[name] for name in names]
    assert logs["loss"] == pytest.approx(logs["kind_loss"] + logs["size_loss"])
    assert logs["size_half_error"] == pytest.approx(0.5 * logs["size_mae"])
    assert [m.name for m in model.metrics][:2] == ["loss", "acc"]


def test_compile_defaults_follow_keras(data):
    x, _, _ = data
    model = bn.Sequential([bn.Input((4,)), bn.layers.Dense(3)])
    model.compile()
    assert isinstance(model.optimizer, bn.optimizers.RMSprop) and model.loss is None
    with pytest.raises(ValueError, match="No loss to compute"):
        model.train_on_batch(x, np.zeros((37, 3)))
    model.compile("sgd", "mse", ["mae"])  # barenet's earlier positional order still reads the metrics
    assert model.metrics_names == ["loss", "mae"]


def test_an_empty_third_argument_means_no_metrics_and_loss_weights_fit_the_outputs(data):
    x, labels, _ = data
    model = _classifier()
    model.compile("adam", "sparse_categorical_crossentropy", [])  # the earlier positional order, no metrics
    assert model.metrics_names == ["loss"] and model.loss_weights_list == [1.0]
    assert set(model.fit(x, labels, epochs=1, verbose=0).history) == {"loss"}
    model.compile("adam", "sparse_categorical_crossentropy", loss_weights=[2.0])
    assert model.loss_weights_list == [2.0]
    for weights in ([1.0, 2.0], {"nope": 1.0}):
        with pytest.raises(ValueError, match="`loss_weights`"):
            model.compile("adam", "sparse_categorical_crossentropy", loss_weights=weights)


def test_bad_sample_weight_and_class_weight_are_named(data):
    x, labels, w = data
    model = _classifier()
    with pytest.raises(ValueError, match=r"`sample_weight` must hold one weight per sample \(37\). Received: 5"):
        model.evaluate(x, labels, sample_weight=w[:5])
    with pytest.raises(ValueError, match="`sample_weight` must not be negative"):
        model.train_on_batch(x, labels, sample_weight=-w)
    with pytest.raises(ValueError, match="`sample_weight` contains NaN"):
        model.test_on_batch(x, labels, sample_weight=np.full(37, np.nan))
    with pytest.raises(ValueError, match="`class_weight` has the unknown class 5"):
        model.train_on_batch(x, labels, class_weight={5: 1.0})
    with pytest.raises(ValueError, match="`verbose` must be"):
        model.evaluate(x, labels, verbose="loud")
    with pytest.raises(ValueError, match="Unknown metric 'precison'.*precision"):
        model.compile("sgd", "mse", metrics=["precison"])


def test_configured_losses_and_metrics_survive_save_and_load(tmp_path, data):
    x, labels, _ = data
    model = bn.Sequential([bn.Input((4,)), bn.layers.Dense(3)], seed=2)
    model.compile("adam", bn.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["acc", bn.metrics.Precision(class_id=1, name="p1"), bn.metrics.AUC],
                  weighted_metrics=None)
    model.save(tmp_path / "m.barenet")
    loaded = bn.load_model(tmp_path / "m.barenet")
    assert loaded.loss.from_logits and loaded.metrics_names == model.metrics_names == ["loss", "acc", "p1", "auc"]
    assert loaded.evaluate(x, labels) == model.evaluate(x, labels)
    assert bn.losses.serialize(bn.losses.Huber()) == "huber_loss"
    assert bn.losses.get(bn.losses.serialize(bn.losses.Huber(delta=2.0))).delta == 2.0


def test_sample_weights_per_output_by_name_on_batches(rng):
    inputs = bn.Input((3,))
    hidden = bn.layers.Dense(4, activation="tanh")(inputs)
    model = bn.Model(inputs, {"kind": bn.layers.Dense(2, activation="softmax", name="kind")(hidden),
                              "size": bn.layers.Dense(1, name="size")(hidden)})
    model.compile("sgd", {"kind": "sparse_categorical_crossentropy", "size": "mse"}, loss_weights={"kind": 1.0,
                                                                                                  "size": 0.5})
    x, kind, size = rng.normal(size=(10, 3)), rng.integers(0, 2, 10), rng.normal(size=(10, 1))
    w = rng.uniform(0, 2, 10)
    outputs = model.predict(x)
    probs, predicted = outputs["kind"], outputs["size"]
    kind_loss = np.sum(w * -np.log(probs[np.arange(10), kind])) / 10
    size_loss = np.mean((predicted - size) ** 2)
    logs = model.test_on_batch(x, {"kind": kind, "size": size}, sample_weight={"kind": w}, return_dict=True)
    assert logs["kind_loss"] == pytest.approx(kind_loss, rel=1e-5)
    assert logs["size_loss"] == pytest.approx(size_loss, rel=1e-5)
    assert logs["loss"] == pytest.approx(kind_loss + 0.5 * size_loss, rel=1e-5)
    with pytest.raises(ValueError, match=r"`sample_weight` names unknown outputs \['weight'\]"):
        model.test_on_batch(x, {"kind": kind, "size": size}, sample_weight={"weight": w})
