"""Hostile model files end in a clear `ModelFileError`, fast and in bounded memory: sizes checked
from the config before anything is built, the zip directory bounded before it is parsed,
O(n) layer names, O(1) optimizer state, non-finite arrays refused, FIFOs refused at once."""

import io
import json
import os
import threading
import zipfile

import numpy as np
import pytest

import barenet as bn
from barenet import cli, saving
from bounds import within


def _saved(tmp_path, optimizer="adam"):
    model = bn.Sequential([bn.Dense(3, "relu", input_dim=4), bn.layers.Dropout(0.1), bn.Dense(2)], seed=0)
    model.compile(optimizer, "mse")
    model.fit(np.ones((8, 4), np.float32), np.ones((8, 2), np.float32), epochs=2, verbose=0)
    path = tmp_path / "good.barenet"
    model.save(path)
    return path


def _read(path):
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read("config.json")), {n: zf.read(n) for n in zf.namelist() if n != "config.json"}


def _write(path, config, members):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("config.json", json.dumps(config))
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _npy(array):
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _huge_dense_config(tmp_path, with_weights):
    config, members = _read(_saved(tmp_path))
    config["training"] = None
    config["model"]["layers"][2]["config"]["units"] = 2**24
    if with_weights:   # the index claims the huge array; the member holds 2x2
        config["weights"][2]["params"]["weights"]["shape"] = [3, 2**24]
        config["weights"][2]["params"]["biases"]["shape"] = [2**24]
    else:
        config["weights"] = None
        members = {}
    return config, members


# --- 1. sizes from the config, before building ----------------------------------------------
@pytest.mark.parametrize("with_weights", [False, True])
def test_a_tiny_file_declaring_a_huge_dense_layer_is_refused_before_building(tmp_path, with_weights):
    path = _write(tmp_path / "huge.barenet", *_huge_dense_config(tmp_path, with_weights))
    assert path.stat().st_size < 8192
    message = "its arrays hold at most" if with_weights else "declares input shapes but the file holds no weights"
    with within(seconds=5, megabytes=50), pytest.raises(bn.ModelFileError, match=message):
        bn.load_model(path)


def test_summary_of_the_huge_file_is_a_one_line_error(tmp_path, capsys):
    path = _write(tmp_path / "huge.barenet", *_huge_dense_config(tmp_path, True))
    with within(seconds=5, megabytes=50):
        assert cli.main(["summary", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("barenet: error: Cannot load") and "Traceback" not in err


def test_a_huge_conv_kernel_is_refused_by_the_parameter_limit(tmp_path):
    config = {
        "format": "barenet.model", "format_version": 1,
        "model": {"class_name": "Sequential",
                  "config": {"name": "m", "dtype": "float32", "seed": 0, "input_shape": [600, 600, 3]},
                  "layers": [{"class_name": "Conv2D", "config": {"filters": 1024, "kernel_size": 600,
                                                                 "input_shape": [600, 600, 3], "name": "c"}}]},
        "weights": [{"params": {}, "state": {}}], "training": None, "rng_state": {},
    }
    path = _write(tmp_path / "conv.barenet", config, {})
    with within(seconds=5, megabytes=50), pytest.raises(bn.ModelFileError, match=r"model.layers\[0\] \(Conv2D\) would hold"):
        bn.load_model(path)


def test_a_huge_output_per_sample_is_refused(tmp_path):
    config, members = _read(_saved(tmp_path))
    config["model"]["layers"][0]["config"]["units"] = 2**25
    with within(seconds=5, megabytes=50), pytest.raises(bn.ModelFileError, match="output"):
        bn.load_model(_write(tmp_path / "wide.barenet", config, members))


# --- 2. O(1) optimizer state --------------------------------------------------------------------
def test_nadam_file_with_2_62_iterations_loads_at_once(tmp_path):
    config, members = _read(_saved(tmp_path, bn.optimizers.Nadam()))
    state = config["training"]["optimizer_state"]
    assert "u_product" in state["scalars"]           # saved, so it is never recomputed
    state["iterations"] = 2**62
    del state["scalars"]                            # an old file: rebuilt in closed form
    with within(seconds=5, megabytes=50):
        model = bn.load_model(_write(tmp_path / "old.barenet", config, members))
    assert model.optimizer.iterations == 2**62 and model.optimizer.u_product == 0.0


def test_iterations_beyond_int64_are_refused(tmp_path):
    config, members = _read(_saved(tmp_path, bn.optimizers.Nadam()))
    config["training"]["optimizer_state"]["iterations"] = 10**400
    with pytest.raises(bn.ModelFileError, match="iterations"):
        bn.load_model(_write(tmp_path / "big.barenet", config, members))


# --- 3. layer count: O(n) names, capped ---------------------------------------------------------
def _many_layers(tmp_path, n):
    config, _ = _read(_saved(tmp_path))
    config["training"] = None
    config["model"]["config"]["input_shape"] = [4]
    config["model"]["layers"] = [{"class_name": "Dropout", "config": {"name": f"d{i}", "rate": 0.0,
                                                                       "input_shape": [4] if i == 0 else None}}
                                 for i in range(n)]
    config["weights"] = [{"params": {}, "state": {}} for _ in range(n)]
    return _write(tmp_path / f"deep{n}.barenet", config, {})


def test_eight_thousand_layers_load_in_linear_time(tmp_path):
    path = _many_layers(tmp_path, 8000)
    with within(seconds=5, megabytes=None):   # untraced: tracemalloc slows this Python-heavy load 8x
        model = bn.load_model(path)
    assert len(model.layers) == 8000
    np.testing.assert_array_equal(model.predict(np.ones((2, 4))), np.ones((2, 4)))


def test_more_layers_than_the_limit_are_refused(tmp_path):
    path = _many_layers(tmp_path, saving.MAX_LAYERS + 1)
    with within(seconds=5, megabytes=200), pytest.raises(bn.ModelFileError, match="at most 10000"):
        bn.load_model(path)


def test_duplicate_layer_names_are_refused(tmp_path):
    config, members = _read(_saved(tmp_path))
    config["model"]["layers"][1]["config"]["name"] = "dense"
    with pytest.raises(bn.ModelFileError, match="repeats the layer name 'dense'"):
        bn.load_model(_write(tmp_path / "dup.barenet", config, members))


# --- 8. a million members, non-finite weights, FIFOs --------------------------------------------
def test_a_million_members_are_refused_from_the_end_record(tmp_path):
    path = tmp_path / "members.barenet"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("config.json", "{}")
    with within(seconds=5, megabytes=50), pytest.raises(bn.ModelFileError, match="1000000 members"):
        bn.load_model(_zip64_with_entries(path, 1_000_000))


def _zip64_with_entries(path, entries):
    """A zip whose zip64 end record declares `entries` members (the directory itself is tiny)."""
    import struct
    data = path.read_bytes()
    end = data.rfind(b"PK\x05\x06")
    cd_size, cd_offset = struct.unpack_from("<LL", data, end + 12)
    record = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, entries, entries, cd_size, cd_offset)
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, end, 1)
    eocd = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, cd_size, cd_offset, 0)
    out = path.with_name("zip64.barenet")
    out.write_bytes(data[:end] + record + locator + eocd)
    return out


def test_a_huge_central_directory_is_refused_before_parsing(tmp_path):
    path = tmp_path / "dir.barenet"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("config.json", "{}")
    data = bytearray(path.read_bytes())
    end = data.rfind(b"PK\x05\x06")
    data[end + 12:end + 16] = (saving.checks.MAX_CENTRAL_DIRECTORY_BYTES + 1).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    with within(seconds=5, megabytes=50), pytest.raises(bn.ModelFileError, match="directory is"):
        bn.load_model(path)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_weights_are_refused(tmp_path, value):
    config, members = _read(_saved(tmp_path))
    weights = np.ones((4, 3), np.float32)
    weights[1, 2] = value
    members["arrays/0.npy"] = _npy(weights)
    with pytest.raises(bn.ModelFileError, match="NaN or infinite"):
        bn.load_model(_write(tmp_path / "nan.barenet", config, members))


def test_float64_weights_overflowing_a_float32_model_are_refused_by_load_weights(tmp_path):
    path = _saved(tmp_path)
    model = bn.load_model(path)
    config, members = _read(path)
    config["format"] = "barenet.weights"
    config.pop("training"), config.pop("model"), config.pop("rng_state")
    for entry in config["weights"]:
        for spec in entry["params"].values():
            spec["dtype"] = "<f8"
            members[spec["member"]] = _npy(np.full(spec["shape"], 1e300))
    members = {k: v for k, v in members.items() if any(k == s["member"] for e in config["weights"]
                                                         for s in e["params"].values())}
    before = model.get_weights()
    with pytest.raises(bn.ModelFileError, match="once cast to float32"):
        model.load_weights(_write(tmp_path / "w.barenet", config, members))
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)


def test_non_finite_optimizer_slots_are_refused(tmp_path):
    config, members = _read(_saved(tmp_path))
    member = config["training"]["optimizer_state"]["slots"]["dense/weights"]["v"]["member"]
    members[member] = _npy(np.full((4, 3), np.inf, np.float32))
    with pytest.raises(bn.ModelFileError, match="slot 'dense/weights'/v.*NaN or infinite"):
        bn.load_model(_write(tmp_path / "slot.barenet", config, members))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("load", [bn.load_model, bn.saving.import_blog_json,
                                  lambda p: bn.Sequential([bn.Dense(1, input_dim=1)]).load_weights(p)])
def test_a_fifo_is_refused_at_once(tmp_path, load):
    fifo = tmp_path / "model.barenet"
    os.mkfifo(fifo)
    with within(seconds=5, megabytes=50), pytest.raises(bn.ModelFileError, match="not a regular file"):
        load(fifo)


# --- writing: symlinks and stale temporary files ------------------------------------------------
@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_saving_onto_a_symlink_writes_its_target_and_keeps_the_link(tmp_path):
    target = tmp_path / "real" / "model.barenet"
    target.parent.mkdir()
    target.write_bytes(b"old")
    link = tmp_path / "link.barenet"
    link.symlink_to(target)
    model = bn.Sequential([bn.Dense(2, input_dim=3)], seed=1)
    model.save(link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    np.testing.assert_array_equal(bn.load_model(target).get_weights()[0], model.get_weights()[0])
    assert sorted(p.name for p in target.parent.iterdir()) == ["model.barenet"]


def _dead_pid():
    import subprocess
    import sys
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


@pytest.mark.skipif(os.name != "posix", reason="process probing is POSIX")
def test_a_save_removes_temporary_files_a_killed_save_left(tmp_path):
    stale = tmp_path / f".model.barenet.{_dead_pid()}-abc123.tmp"
    live = tmp_path / f".model.barenet.{os.getppid()}-def456.tmp"   # a running process's: kept
    other = tmp_path / ".other.barenet.1-x.tmp"
    for path in (stale, live, other):
        path.write_bytes(b"partial")
    bn.Sequential([bn.Dense(2, input_dim=3)]).save(tmp_path / "model.barenet")
    assert not stale.exists() and live.exists() and other.exists()


def test_concurrent_saves_to_one_path_all_succeed(tmp_path):
    model = bn.Sequential([bn.Dense(2, input_dim=3)], seed=1)
    errors = []

    def save():
        try:
            model.save(tmp_path / "m.barenet")
        except Exception as error:   # pragma: no cover - the assertion below reports it
            errors.append(error)

    threads = [threading.Thread(target=save) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and bn.load_model(tmp_path / "m.barenet").count_params() == 8


# --- the blog's JSON: duplicates, non-finite values, size -----------------------------------------
def _blog_text(name_b="b", value="0.5"):
    layer = '{{"type": "FFL", "neurons": 2, "input_shape": {i}, "isbias": true, "activation": null, ' \
            '"weights": {w}, "biases": [0, 0]}}'
    first = layer.format(i=3, w=f"[[{value}, 0], [0, 0], [0, 0]]")
    second = layer.format(i=2, w="[[1, 0], [0, 1]]")
    return f'{{"model": "NN", "a": {first}, "{name_b}": {second}}}'


def test_blog_json_with_a_repeated_layer_name_is_refused(tmp_path):
    path = tmp_path / "dup.json"
    path.write_text(_blog_text(name_b="a"))
    with pytest.raises(bn.ModelFileError, match="'a' appears twice"):
        bn.load_model(path)
    path.write_text(_blog_text())
    assert [layer.name for layer in bn.load_model(path).layers] == ["a", "b"]


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e300"])
def test_blog_json_with_non_finite_or_overflowing_weights_is_refused(tmp_path, value):
    path = tmp_path / "nan.json"
    path.write_text(_blog_text(value=value))
    with pytest.raises(bn.ModelFileError, match="NaN or infinite"):
        bn.load_model(path)
    assert bn.load_model(path, dtype="float64") if value == "1e300" else True   # fits float64


def test_blog_json_larger_than_the_limit_is_refused_unread(tmp_path):
    path = tmp_path / "big.json"
    with open(path, "wb") as f:
        f.write(b'{"model": "NN", "a": {"weights": [')
        f.truncate(saving.MAX_BLOG_JSON_BYTES + 10)
    with within(seconds=5, megabytes=5), pytest.raises(bn.ModelFileError, match="larger than"):
        bn.load_model(path)


def test_blog_json_memory_stays_near_its_size(tmp_path):
    # 2 layers of 300 x 300 short numbers: ~0.5 MB of text; the lists of one layer at a time.
    rng = np.random.default_rng(0)
    document = {"model": "NN"}
    for i, name in enumerate(["a", "b"]):
        document[name] = {"type": "FFL", "neurons": 300, "input_shape": 300, "isbias": False, "activation": None,
                          "weights": rng.integers(0, 9, (300, 300)).tolist(), "biases": None}
    path = tmp_path / "m.json"
    path.write_text(json.dumps(document))
    size = path.stat().st_size / 2**20
    with within(seconds=5, megabytes=20 * size + 10):
        model = bn.load_model(path)
    assert model.count_params() == 2 * 300 * 300
