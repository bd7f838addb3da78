"""Model files for functional and subclassed models: identical predictions, exact resume, safe loading."""

import json
import zipfile

import numpy as np
import pytest

import barenet as bn


def two_input_model(seed=0):
    bn.utils.set_random_seed(seed)
    a, b = bn.Input(shape=(4,), name="a"), bn.Input(shape=(3,), name="b")
    shared = bn.Dense(5, activation="tanh", name="shared")
    h = bn.Concatenate()([shared(a), bn.Dense(5, name="side")(b)])
    h = bn.Dropout(0.2)(h) + 0.5 * h[:, :10]
    classes = bn.Dense(3, activation="softmax", name="classes")(h)
    value = bn.Dense(1, name="value")(bn.BatchNormalization()(h))
    return bn.Model([a, b], [classes, value], seed=seed)


def data(rng, n=48):
    return [rng.normal(size=(n, 4)), rng.normal(size=(n, 3))], [rng.integers(0, 3, n), rng.normal(size=(n, 1))]


def rewrite_config(source, target, edit):
    """Copy the model file `source` to `target` with `edit(config)` applied to its config.json."""
    with zipfile.ZipFile(source) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    config = json.loads(members["config.json"])
    edit(config)
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(target, "w") as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return target


def compiled(seed=0):
    model = two_input_model(seed)
    model.compile(bn.optimizers.Adam(0.01), ["sparse_categorical_crossentropy", "mse"],
                  metrics=[["accuracy"], []], loss_weights=[1.0, 0.5])
    return model


def test_functional_round_trip_predicts_identically(tmp_path, rng):
    model = compiled()
    x, y = data(rng)
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    path = tmp_path / "graph.barenet"
    model.save(path)
    loaded = bn.load_model(path)
    assert type(loaded).__name__ == "Functional"
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    for a, b in zip(model.predict(x), loaded.predict(x)):
        np.testing.assert_array_equal(a, b)
    assert loaded.evaluate(x, y, return_dict=True) == model.evaluate(x, y, return_dict=True)


def test_functional_training_resumes_exactly(tmp_path, rng):
    x, y = data(rng)
    straight = compiled()
    straight.fit(x, y, epochs=3, batch_size=16, verbose=0)
    resumed = compiled()
    resumed.fit(x, y, epochs=2, batch_size=16, verbose=0)
    resumed.save(tmp_path / "m.barenet")
    resumed = bn.load_model(tmp_path / "m.barenet")
    resumed.fit(x, y, epochs=1, batch_size=16, verbose=0)
    for a, b in zip(straight.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(a, b)


@bn.saving.register_keras_serializable(package="tests")
class Gain(bn.Layer):
    def __init__(self, start=1.0, **kwargs):
        super().__init__(**kwargs)
        self.start = start

    def build(self, input_shape):
        self.gain = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="gain")

    def call(self, inputs):
        return inputs * self.gain + self.start

    def get_config(self):
        return {**super().get_config(), "start": self.start}


@bn.saving.register_keras_serializable(package="tests")
class Net(bn.Model):
    def __init__(self, width=6, **kwargs):
        super().__init__(**kwargs)
        self.width = width
        self.hidden = bn.Dense(width, activation="relu")
        self.gain = Gain(0.5)
        self.out = bn.Dense(2)

    def call(self, inputs, training=False):
        return self.out(self.gain(self.hidden(inputs)))

    def get_config(self):
        return {"width": self.width}


def test_registered_custom_layer_and_subclassed_model_load(tmp_path, rng):
    x = rng.normal(size=(8, 3))
    inputs = bn.Input(shape=(3,))
    functional = bn.Model(inputs, bn.Dense(1)(Gain(2.0, name="gain")(inputs)))
    functional.save(tmp_path / "f.barenet")
    np.testing.assert_array_equal(bn.load_model(tmp_path / "f.barenet").predict(x), functional.predict(x))

    net = Net(width=4, seed=1)
    net.compile("adam", "mse")
    net.fit(x, rng.normal(size=(8, 2)), epochs=2, verbose=0)
    net.save(tmp_path / "net.barenet")
    loaded = bn.load_model(tmp_path / "net.barenet")
    assert isinstance(loaded, Net) and loaded.width == 4
    np.testing.assert_array_equal(loaded.predict(x), net.predict(x))


def test_unregistered_classes_cannot_be_saved_or_loaded(tmp_path, rng):
    class Plain(bn.Layer):
        def call(self, inputs):
            return inputs * 2

    inputs = bn.Input(shape=(3,))
    model = bn.Model(inputs, bn.Dense(1)(Plain()(inputs)))
    with pytest.raises(ValueError, match="Plain.*register_keras_serializable"):
        model.save(tmp_path / "p.barenet")
    # a file naming a class this program has not registered
    good = bn.Model(inputs, bn.Dense(1)(Gain(name="gain")(inputs)))
    good.save(tmp_path / "g.barenet")

    def rename(config):
        config["model"]["graph"]["layers"][1]["class_name"] = "evil>os.system"

    with pytest.raises(bn.ModelFileError, match="evil>os.system"):
        bn.load_model(rewrite_config(tmp_path / "g.barenet", tmp_path / "bad.barenet", rename))


def test_a_huge_layer_in_a_functional_file_is_refused_before_it_is_built(tmp_path):
    import time
    import tracemalloc

    inputs = bn.Input(shape=(3,))
    bn.Model(inputs, bn.Dense(2, name="d")(inputs)).save(tmp_path / "small.barenet")

    def enlarge(config):
        config["model"]["graph"]["layers"][1]["config"]["units"] = 2**24
        config["model"]["graph"]["layers"][0]["config"]["shape"] = [2**10]

    rewrite_config(tmp_path / "small.barenet", tmp_path / "huge.barenet", enlarge)
    tracemalloc.start()
    start = time.perf_counter()
    with pytest.raises(bn.ModelFileError, match="'d' \\(Dense\\)"):
        bn.load_model(tmp_path / "huge.barenet")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert time.perf_counter() - start < 5 and peak < 100 * 2**20


def test_an_op_that_is_not_an_engine_op_is_refused(tmp_path):
    inputs = bn.Input(shape=(3,))
    model = bn.Model(inputs, inputs * 2.0)
    model.save(tmp_path / "ok.barenet")

    def import_op(config):
        config["model"]["graph"]["nodes"][1]["op"] = "__import__"

    with pytest.raises(bn.ModelFileError, match="unknown op '__import__'"):
        bn.load_model(rewrite_config(tmp_path / "ok.barenet", tmp_path / "bad.barenet", import_op))
