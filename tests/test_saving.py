"""Saving and loading: round trips, exact resume, weights files, the blog's JSON,
atomic writes, and bad files (hand-made and fuzzed) all raising ModelFileError."""

import io
import json
import os
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import barenet as bn
from barenet import saving
from barenet.layers.base import Layer
from bounds import within


def _data(n=96, features=5, classes=3, seed=7):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype(np.float32)
    labels = (x[:, 0] + x[:, 1] > 0).astype(int) + (x[:, 2] > 1).astype(int)
    return x, labels % classes


def _model(optimizer=None, dtype="float32", seed=3):
    model = bn.Sequential([bn.Dense(8, "tanh", input_dim=5), bn.Dense(6, "relu"), bn.Dense(3, "softmax")],
                          seed=seed, dtype=dtype)
    model.compile(optimizer=optimizer if optimizer is not None else bn.optimizers.Adam(0.01),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _optimizer_factories():
    """SGD with (Nesterov) momentum, Adam, and every optimizer registered by name, default settings."""
    factories = {
        "sgd_momentum": lambda: bn.optimizers.SGD(0.05, momentum=0.9),
        "sgd_nesterov": lambda: bn.optimizers.SGD(0.05, momentum=0.8, nesterov=True),
        "adam": lambda: bn.optimizers.Adam(0.01),
    }
    for name, cls in bn.optimizers.OPTIMIZERS.items():
        factories.setdefault(f"registered_{name}", cls)
    return factories


@pytest.fixture(scope="module")
def trained_file(tmp_path_factory):
    """A real model file (trained 1 epoch with Adam) and the model it came from."""
    x, y = _data()
    model = _model()
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    path = tmp_path_factory.mktemp("saved") / "model.barenet"
    model.save(path)
    return path, model


# --- round trips ----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_save_load_predicts_identically_and_keeps_compile_settings(tmp_path, dtype):
    x, y = _data()
    model = _model(bn.optimizers.SGD(0.05, momentum=0.9), dtype=dtype)
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    path = tmp_path / "m.barenet"
    model.save(path)
    loaded = bn.load_model(path)
    assert loaded is not model and loaded.dtype == np.dtype(dtype)
    assert np.array_equal(loaded.predict(x), model.predict(x))
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    assert [layer.get_config() for layer in loaded.layers] == [layer.get_config() for layer in model.layers]
    assert type(loaded.optimizer) is bn.optimizers.SGD
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert loaded.optimizer.iterations == model.optimizer.iterations == 12
    assert loaded.loss.name == "sparse_categorical_crossentropy" and loaded.metrics_names == ["loss", "accuracy"]
    assert loaded.evaluate(x, y, return_dict=True) == model.evaluate(x, y, return_dict=True)


@pytest.mark.parametrize("name", list(_optimizer_factories()))
def test_resume_is_bit_identical_to_training_straight_through(tmp_path, name):
    """2 epochs, save, load, 1 more == 3 epochs straight (same seed): slots, step count and shuffling."""
    factory = _optimizer_factories()[name]
    x, y = _data()
    straight = _model(factory())
    straight.fit(x, y, epochs=3, batch_size=10, verbose=0)

    first = _model(factory())
    first.fit(x, y, epochs=2, batch_size=10, verbose=0)
    first.save_model(tmp_path / "half.barenet")
    resumed = bn.load_model(tmp_path / "half.barenet")
    resumed.fit(x, y, epochs=1, batch_size=10, verbose=0)

    for a, b in zip(straight.get_weights(), resumed.get_weights()):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    assert resumed.optimizer.iterations == straight.optimizer.iterations
    # Without the generator state the shuffles differ: the same check would then fail.
    assert not np.array_equal(first.get_weights()[0], straight.get_weights()[0])


def test_uncompiled_and_unbuilt_models_round_trip(tmp_path):
    built = bn.NN(seed=1)
    built.add(bn.FFL(input_shape=4, neurons=3, activation="sigmoid"))
    built.save(tmp_path / "built.barenet")
    loaded = bn.load_model(tmp_path / "built.barenet")
    assert not loaded.compiled and loaded.built
    assert np.array_equal(loaded.layers[0].weights, built.layers[0].weights)
    assert type(loaded.layers[0]) is bn.FFL

    unbuilt = bn.Sequential([bn.Dense(4, "relu"), bn.Dense(2)], seed=5)
    unbuilt.compile("sgd", "mse")
    unbuilt.save(tmp_path / "unbuilt.barenet")
    loaded = bn.load_model(tmp_path / "unbuilt.barenet")
    assert not loaded.built and loaded.compiled
    assert [layer.units for layer in loaded.layers] == [4, 2]


def test_same_model_gives_the_same_bytes(tmp_path):
    model = _model()
    model.save(tmp_path / "a.barenet")
    model.save(tmp_path / "b.barenet")
    assert (tmp_path / "a.barenet").read_bytes() == (tmp_path / "b.barenet").read_bytes()


def test_file_is_a_plain_zip_of_json_and_npy(trained_file):
    path, model = trained_file
    with zipfile.ZipFile(path) as zf:
        config = json.loads(zf.read("config.json"))
        assert config["format_version"] == saving.FORMAT_VERSION
        entry = config["weights"][0]["params"]["weights"]
        array = np.load(io.BytesIO(zf.read(entry["member"])), allow_pickle=False)
    assert np.array_equal(array, model.layers[0].params["weights"])
    assert config["training"]["optimizer"]["class_name"] == "Adam"


def test_layer_state_arrays_are_saved_and_restored(tmp_path):
    model = _model()
    model.layers[1].state = {"running_mean": np.arange(6, dtype=np.float32)}
    model.save(tmp_path / "s.barenet")
    loaded = _model()
    loaded.layers[1].state = {"running_mean": np.zeros(6, np.float32)}
    keep = loaded.layers[1].state["running_mean"]
    saving._load_weights_zip(loaded, tmp_path / "s.barenet")
    assert keep is loaded.layers[1].state["running_mean"]
    assert np.array_equal(keep, np.arange(6))


# --- weights alone ---------------------------------------------------------------------------
def test_save_weights_load_weights(tmp_path, trained_file):
    _, trained = trained_file
    trained.save_weights(tmp_path / "w.weights.barenet")
    fresh = _model(seed=99)
    assert not np.array_equal(fresh.get_weights()[0], trained.get_weights()[0])
    fresh.load_weights(tmp_path / "w.weights.barenet")
    for a, b in zip(fresh.get_weights(), trained.get_weights()):
        assert np.array_equal(a, b)
    # A whole-model file serves too, and float64 weights load into a float32 model.
    other = _model(seed=98, dtype="float64")
    other.load_weights(trained_file[0])
    assert np.array_equal(other.get_weights()[0], trained.get_weights()[0].astype(np.float64))


def test_load_weights_with_wrong_shapes_changes_nothing(tmp_path):
    small = bn.Sequential([bn.Dense(8, "tanh", input_dim=5), bn.Dense(6, "relu"), bn.Dense(4, "softmax")], seed=0)
    small.save_weights(tmp_path / "w.barenet")
    model = _model()
    before = model.get_weights()
    with pytest.raises(bn.ModelFileError, match=r"shape \(6, 4\).*\(6, 3\)"):
        model.load_weights(tmp_path / "w.barenet")
    for a, b in zip(before, model.get_weights()):
        assert np.array_equal(a, b)
    shorter = bn.Sequential([bn.Dense(8, "tanh", input_dim=5)], seed=0)
    shorter.save_weights(tmp_path / "short.barenet")
    with pytest.raises(bn.ModelFileError, match="1 layers; the model has 3"):
        model.load_weights(tmp_path / "short.barenet")


def test_bad_weights_files_raise_model_file_error(tmp_path, trained_file):
    model = _model()
    before = model.get_weights()
    model.save_weights(tmp_path / "w.barenet")
    data = (tmp_path / "w.barenet").read_bytes()
    cases = {
        "truncated.barenet": data[: len(data) // 2],
        "random.barenet": bytes(np.random.default_rng(0).integers(0, 256, 500, dtype=np.uint8)),
        "empty.barenet": b"",
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(bn.ModelFileError):
            model.load_weights(tmp_path / name)
    _rewrite(tmp_path / "w.barenet", tmp_path / "nov.barenet", config_edit=lambda c: c.update(format_version=9))
    with pytest.raises(bn.ModelFileError, match="format version 9"):
        model.load_weights(tmp_path / "nov.barenet")
    unbuilt = bn.Sequential([bn.Dense(3)], seed=0)
    unbuilt.save(tmp_path / "unbuilt.barenet")
    with pytest.raises(bn.ModelFileError, match="holds no weights"):
        model.load_weights(tmp_path / "unbuilt.barenet")
    with pytest.raises(bn.ModelFileError, match="no such file"):
        model.load_weights(tmp_path / "absent.barenet")
    for a, b in zip(before, model.get_weights()):
        assert np.array_equal(a, b)


def test_weights_need_a_built_model(tmp_path):
    unbuilt = bn.Sequential([bn.Dense(3)])
    with pytest.raises(RuntimeError, match="not built"):
        unbuilt.save_weights(tmp_path / "w.barenet")
    with pytest.raises(RuntimeError, match="Build the model"):
        unbuilt.load_weights(tmp_path / "w.barenet")


class _Custom(Layer):
    def forward(self, x, training=False):
        return x


def test_export_refuses_what_it_cannot_hold(tmp_path):
    model = bn.Sequential([bn.Dense(3, input_dim=2), _Custom()])
    with pytest.raises(ValueError, match="cannot be written to the blog's JSON"):
        model.save_model(tmp_path / "x.json")
    with pytest.raises(ValueError, match="not in barenet.layers.LAYERS"):
        model.save(tmp_path / "x.barenet")
    assert not (tmp_path / "x.json").exists() and not (tmp_path / "x.barenet").exists()


# --- atomic writes ---------------------------------------------------------------------------
@pytest.mark.parametrize("where", ["np.save", "os.replace", "fsync"])
def test_failed_save_leaves_previous_file_and_no_temp_file(tmp_path, monkeypatch, where):
    path = tmp_path / "model.barenet"
    model = _model()
    model.save(path)
    before = path.read_bytes()
    model.fit(*_data(), epochs=1, verbose=0)   # the next save would differ

    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if where == "np.save" and len(calls) == 3:   # after two arrays went into the zip
            raise OSError(28, "No space left on device")
        if where != "np.save":
            raise OSError(28, "No space left on device")
        return real(*args, **kwargs)

    target = {"np.save": (saving.np, "save"), "os.replace": (saving.os, "replace"), "fsync": (saving.os, "fsync")}[where]
    real = getattr(*target)
    monkeypatch.setattr(*target, failing)
    with pytest.raises(OSError, match="No space"):
        model.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.barenet"]
    assert np.array_equal(bn.load_model(path).get_weights()[0], _model().get_weights()[0])


def test_save_into_missing_directory_fails_cleanly(tmp_path):
    with pytest.raises(FileNotFoundError):
        _model().save(tmp_path / "nope" / "m.barenet")
    with pytest.raises(TypeError, match="path"):
        _model().save(123)


def test_activations_with_arguments_survive_a_round_trip(tmp_path):
    """A Dense with a leaky, capped ReLU object (or another activation with arguments) is saved with
    them: the loaded model predicts the same values (before, the file kept the name alone)."""
    x, _ = _data()
    model = bn.Sequential([bn.Dense(8, bn.activations.ReLU(negative_slope=0.5, max_value=1.5), input_dim=5),
                           bn.Dense(6, bn.activations.ELU(0.5)), bn.Dense(3, bn.activations.LeakyReLU(0.1))], seed=2)
    path = tmp_path / "m.barenet"
    model.save(path)
    loaded = bn.load_model(path)
    assert [layer.get_config() for layer in loaded.layers] == [layer.get_config() for layer in model.layers]
    assert loaded.layers[0].get_config()["activation"] == {"class_name": "ReLU",
                                                          "config": {"negative_slope": 0.5, "max_value": 1.5}}
    prediction = model.predict(x, verbose=0)
    assert prediction.min() < 0
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), prediction)


# --- bad model files, by hand ------------------------------------------------------------------
def _rewrite(src, dst, config_edit=None, drop=(), add=None, replace=None):
    """Copy a model zip, editing config.json and members."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            if info.filename in drop:
                continue
            data = zin.read(info.filename)
            if info.filename == "config.json" and config_edit is not None:
                config = json.loads(data)
                config_edit(config)
                data = json.dumps(config).encode()
            if replace and info.filename in replace:
                data = replace[info.filename]
            zout.writestr(info.filename, data)
        for name, data in (add or {}).items():
            zout.writestr(name, data)
    return dst


def _npy(array):
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _first_layer_config(config):
    return config["model"]["layers"][0]["config"]


BAD_EDITS = {
    "unknown layer": (dict(config_edit=lambda c: c["model"]["layers"][0].update(class_name="os.system")),
                      "unknown layer type 'os.system'"),
    "newer format": (dict(config_edit=lambda c: c.update(format_version=2)), "format version 2.*Upgrade"),
    "wrong format": (dict(config_edit=lambda c: c.update(format="keras")), "names format 'keras'"),
    "missing member": (dict(drop=("arrays/2.npy",)), "'arrays/2.npy' is missing"),
    "missing config": (dict(drop=("config.json",)), "'config.json' is missing"),
    "extra member": (dict(add={"evil.py": b"print(1)"}), "unexpected members: 'evil.py'"),
    "config not json": (dict(replace={"config.json": b"{not json"}), "not valid JSON"),
    "config a list": (dict(replace={"config.json": b"[1, 2]"}), "JSON object"),
    "wrong shape in index": (dict(config_edit=lambda c: c["weights"][0]["params"]["weights"].update(shape=[5, 9])),
                             r"shape \(5, 9\) in the file.*\(5, 8\)"),
    "wrong dtype in index": (dict(config_edit=lambda c: c["weights"][0]["params"]["weights"].update(dtype="<f8")),
                             "dtype float64 in the file"),
    "wrong array data": (dict(replace={"arrays/0.npy": _npy(np.zeros((5, 8), np.float64))}), "holds float64"),
    "pickled array": (dict(replace={"arrays/1.npy": _npy(np.array([{"a": 1}] * 8, dtype=object))}),
                      "not a valid .npy|object|pickle"),
    "bad layer config": (dict(config_edit=lambda c: _first_layer_config(c).update(units=-3)), "invalid config"),
    "unknown activation class": (dict(config_edit=lambda c: _first_layer_config(c).update(
        activation={"class_name": "Evil", "config": {}})), "invalid config"),
    "activation argument not a number": (dict(config_edit=lambda c: _first_layer_config(c).update(
        activation={"class_name": "ReLU", "config": {"max_value": "__import__('os')"}})), "invalid config"),
    "unknown layer argument": (dict(config_edit=lambda c: _first_layer_config(c).update(evil=1)), "invalid config"),
    "huge layer": (dict(config_edit=lambda c: _first_layer_config(c).update(units=10**12)), "per sample"),
    "changed architecture": (dict(config_edit=lambda c: _first_layer_config(c).update(units=9)),
                             "cannot follow|shape"),
    "unknown optimizer": (dict(config_edit=lambda c: c["training"]["optimizer"].update(class_name="Evil")),
                          "unknown optimizer|Evil"),
    "bad optimizer config": (dict(config_edit=lambda c: c["training"]["optimizer"]["config"].update(beta_1=3)),
                             "optimizer|beta_1"),
    "unknown loss": (dict(config_edit=lambda c: c["training"].update(loss="hinge2")), "hinge2"),
    "slot for no parameter": (dict(config_edit=lambda c: c["training"]["optimizer_state"]["slots"].update(
        {"ghost/weights": {}})), "names no parameter"),
    "slot missing": (dict(config_edit=lambda c: c["training"]["optimizer_state"]["slots"]["dense/weights"].pop("m")),
                     r"has slots \['v'\]"),
    "bad iterations": (dict(config_edit=lambda c: c["training"]["optimizer_state"].update(iterations=-1)),
                       "iterations"),
    "bad rng state": (dict(config_edit=lambda c: c.update(rng_state={"bit_generator": "Evil"})), "rng_state"),
    "bad rng numbers": (dict(config_edit=lambda c: c["rng_state"]["state"].update(state="x")), "rng_state"),
    "no layers": (dict(config_edit=lambda c: c["model"].update(layers=[])), "empty"),
    "bad dtype": (dict(config_edit=lambda c: c["model"]["config"].update(dtype="object")), "dtype"),
}


@pytest.mark.parametrize("case", list(BAD_EDITS))
def test_bad_model_files_raise_model_file_error(tmp_path, trained_file, case):
    edits, message = BAD_EDITS[case]
    path = _rewrite(trained_file[0], tmp_path / "bad.barenet", **edits)
    with pytest.raises(bn.ModelFileError, match=message) as info:
        bn.load_model(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("content, message", [
    (b"", "neither a barenet model file"),
    (os.urandom(300), "neither a barenet model file|not valid"),
    (b"PK\x03\x04" + b"\x00" * 50, "not a valid zip"),
    (b"{\"model\": \"NN\"", "not valid JSON"),
    (b"hello world", "neither"),
])
def test_not_a_model_file(tmp_path, content, message):
    path = tmp_path / "f.barenet"
    path.write_bytes(content)
    with pytest.raises(bn.ModelFileError, match=message):
        bn.load_model(path)


def test_missing_path_and_directory(tmp_path):
    with pytest.raises(bn.ModelFileError, match="no such file"):
        bn.load_model(tmp_path / "absent.barenet")
    with pytest.raises(bn.ModelFileError):
        bn.load_model(tmp_path)
    assert issubclass(bn.ModelFileError, ValueError)


def test_every_truncation_raises_model_file_error(tmp_path, trained_file):
    data = trained_file[0].read_bytes()
    path = tmp_path / "t.barenet"
    for cut in range(0, len(data), max(1, len(data) // 97)):
        path.write_bytes(data[:cut])
        with pytest.raises(bn.ModelFileError):
            bn.load_model(path)


def test_zip_bomb_member_is_refused_without_inflating_it(tmp_path, trained_file):
    path = tmp_path / "bomb.barenet"
    with zipfile.ZipFile(trained_file[0]) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "arrays/0.npy":
                data = data + b"\x00" * (64 * 2**20)   # 64 MiB of zeros, ~64 KiB deflated
            zout.writestr(info.filename, data)
    assert path.stat().st_size < 2**20
    with pytest.raises(bn.ModelFileError, match="at most"):
        bn.load_model(path)


# --- fuzzing ------------------------------------------------------------------------------------
def _check_loads_or_raises(path, x):
    """The only allowed outcomes, within 5 s and 300 MB: a working model, or ModelFileError."""
    try:
        with within(seconds=5, megabytes=300):
            model = bn.load_model(path)
    except bn.ModelFileError as error:
        assert str(error)
        return
    assert isinstance(model, bn.Sequential) and model.built
    assert model.predict(x).shape == (len(x), 3)


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture],
                database=None)


@FUZZ
@given(data=st.data())
def test_fuzz_byte_flips_and_truncation(tmp_path, trained_file, data):
    original = bytearray(trained_file[0].read_bytes())
    flips = data.draw(st.lists(st.tuples(st.integers(0, len(original) - 1), st.integers(1, 255)),
                               min_size=1, max_size=8))
    for position, xor in flips:
        original[position] ^= xor
    cut = data.draw(st.one_of(st.none(), st.integers(0, len(original))))
    path = tmp_path / "fuzz.barenet"
    path.write_bytes(bytes(original[:cut]))
    _check_loads_or_raises(path, _data(n=4)[0])


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 40) | st.sampled_from([2**40, -2**63, 10**30])
    | st.floats(allow_nan=True) | st.text(max_size=8) | st.sampled_from(["Dense", "Adam", "<f4", "arrays/0.npy"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=8,
)


def _paths(value, prefix=()):
    """Every path (tuple of keys/indices) into a JSON value."""
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, prefix + (key,))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _paths(child, prefix + (i,))


@FUZZ
@given(data=st.data())
def test_fuzz_config_fields_and_members(tmp_path, trained_file, data):
    with zipfile.ZipFile(trained_file[0]) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    config = json.loads(members["config.json"])
    action = data.draw(st.sampled_from(["replace", "delete_key", "delete_member", "swap_members"]))
    paths = [p for p in _paths(config) if p]
    if action in ("replace", "delete_key"):
        path = data.draw(st.sampled_from(paths))
        parent = config
        for key in path[:-1]:
            parent = parent[key]
        if action == "replace":
            parent[path[-1]] = data.draw(_JSON_VALUES)
        else:
            del parent[path[-1]]
        members["config.json"] = json.dumps(config).encode()
    elif action == "delete_member":
        del members[data.draw(st.sampled_from(sorted(members)))]
    else:
        a, b = data.draw(st.lists(st.sampled_from(sorted(members)), min_size=2, max_size=2, unique=True))
        members[a], members[b] = members[b], members[a]
    path = tmp_path / "fuzz.barenet"
    with zipfile.ZipFile(path, "w") as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    _check_loads_or_raises(path, _data(n=4)[0])


_HUGE_NUMBERS = st.sampled_from([0, -1, 2**16, 2**24, 2**31, 2**62, 2**64, 10**12, 10**400, 1e308])


@settings(FUZZ, max_examples=60)
@given(data=st.data())
def test_fuzz_numbers_in_the_config_stay_within_bounds(tmp_path, trained_file, data):
    """Sizes, counts and steps replaced by huge values: a load or a ModelFileError, fast and small."""
    with zipfile.ZipFile(trained_file[0]) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    config = json.loads(members["config.json"])
    numeric = [p for p in _paths(config) if p and p[0] != "rng_state" and _is_number_at(config, p)]
    for path in data.draw(st.lists(st.sampled_from(numeric), min_size=1, max_size=4, unique=True)):
        parent = config
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = data.draw(_HUGE_NUMBERS)
    members["config.json"] = json.dumps(config).encode()
    path = tmp_path / "numbers.barenet"
    with zipfile.ZipFile(path, "w") as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    _check_loads_or_raises(path, _data(n=4)[0])


def _is_number_at(value, path):
    for key in path:
        value = value[key]
    return isinstance(value, (int, float)) and not isinstance(value, bool)
