"""The command never prints a traceback: every failure is one `barenet: error: ...` line and a
non-zero exit, fast and in bounded memory; paths are checked before training; inputs are
scaled by their real bit depth or refused."""

import os
import struct
import zlib

import numpy as np
import pytest

import barenet as bn
from barenet import cli
from bounds import within


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def _error(capsys, *argv, match):
    code, out, err = run(capsys, *argv)
    last = err.strip().splitlines()[-1]
    assert code == 1 and last.startswith("barenet: error:") and match in err, (code, err)
    return out


@pytest.fixture
def model_file(tmp_path):
    """An untrained 8x8-digits classifier (weights from a fixed seed)."""
    model = bn.Sequential([bn.Dense(10, "softmax", input_dim=64)], seed=0)
    path = tmp_path / "m.barenet"
    model.save(path)
    return path, model


# --- 7. no tracebacks ------------------------------------------------------------------------
def test_a_model_too_big_to_build_is_refused_before_allocating(capsys):
    with within(seconds=5, megabytes=50):
        _error(capsys, "train", "--model", "100000000", match="would have 7,500,000,010 parameters")


def test_evaluate_on_a_one_unit_model(tmp_path, capsys):
    path = tmp_path / "one.barenet"
    bn.Sequential([bn.Dense(1, input_dim=64)]).save(path)
    _error(capsys, "evaluate", path, match="needs 10 outputs")


def test_predict_on_a_npy_whose_header_claims_10_12_rows(tmp_path, capsys, model_file):
    path = tmp_path / "huge.npy"
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "<f4", "fortran_order": False, "shape": (10**12, 64)})
        f.write(bytes(256))
    with within(seconds=5, megabytes=50):
        _error(capsys, "predict", model_file[0], path, match="but holds 256 bytes")


def _png_header_only(path, width, height):
    """A PNG that declares width x height pixels but holds one empty row (a few hundred bytes)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00"))
                     + chunk(b"IEND", b""))
    return path


@pytest.mark.parametrize("resize", [False, True])
def test_predict_on_a_20000x20000_png(tmp_path, capsys, model_file, resize):
    pytest.importorskip("PIL")
    png = _png_header_only(tmp_path / "big.png", 20000, 20000)
    with within(seconds=5, megabytes=50):
        _error(capsys, "predict", model_file[0], png, *(["--resize"] if resize else []), match="big.png")


def test_a_damaged_image_is_one_line(tmp_path, capsys, model_file):
    pytest.importorskip("PIL")
    png = _png_header_only(tmp_path / "broken.png", 8, 8)   # its data is one byte short of 8 rows
    _error(capsys, "predict", model_file[0], png, match="Cannot read image")


def test_memory_errors_and_unexpected_errors_are_one_line(capsys, monkeypatch, model_file):
    def out_of_memory(path):
        raise MemoryError
    monkeypatch.setattr(bn, "load_model", out_of_memory)
    _error(capsys, "summary", model_file[0], match="out of memory")
    monkeypatch.setattr(bn, "load_model", lambda path: {}["missing"])
    _error(capsys, "summary", model_file[0], match="unexpected KeyError")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("where", ["model", "npy", "image"])
def test_fifos_are_refused_without_blocking(tmp_path, capsys, model_file, where):
    fifo = tmp_path / ("f.npy" if where == "npy" else "f.png" if where == "image" else "f.barenet")
    os.mkfifo(fifo)
    argv = ["summary", fifo] if where == "model" else ["predict", model_file[0], fifo]
    with within(seconds=5, megabytes=50):
        _error(capsys, *argv, match="not a regular file")


# --- output paths, before training ----------------------------------------------------------------
@pytest.mark.parametrize("option, value, match", [
    ("--output", "missing/m.barenet", "does not exist"),
    ("--plot", "missing/curves.png", "does not exist"),
    ("--plot", "curves.txt", "suffix must be one of"),
    ("--output", ".", "is a folder"),
])
def test_output_paths_are_checked_before_training(tmp_path, capsys, option, value, match):
    out = _error(capsys, "train", "--epochs", "1", option, tmp_path / value if value != "." else tmp_path,
                 match=match)
    assert "Training on" not in out


def test_cnn_to_blog_json_is_written_in_the_authors_format(tmp_path, capsys):
    code, _, err = run(capsys, "train", "--model", "cnn", "--epochs", "1", "--output", tmp_path / "m.json")
    assert code == 0, err
    model = bn.load_model(tmp_path / "m.json")
    assert [type(layer).__name__ for layer in model.layers][:2] == ["Conv2d", "Pool2d"]


# --- 4. a NaN/inf stop exits non-zero and saves nothing --------------------------------------------
@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
def test_training_that_stops_on_nan_exits_1_and_saves_nothing(tmp_path, capsys):
    # A NaN loss today; once the training step catches optimizers.NonFiniteUpdateError (Adam's
    # overflowing slots) the same History.stop_reason path covers that too.
    output, plot = tmp_path / "m.barenet", tmp_path / "curves.png"
    with within(seconds=30, megabytes=None):
        out = _error(capsys, "train", "--epochs", "1", "--model", "16", "--lr", "1e30", "--optimizer", "sgd",
                     "--verbose", "0", "--output", output, "--plot", plot, match="nothing was saved")
    assert "test accuracy" not in out
    assert sorted(os.listdir(tmp_path)) == []


# --- inputs: bit depth, integer arrays, image sizes ------------------------------------------------
def _prediction_line(out):
    name, label, probability = out.strip().split("\t")
    return int(label), float(probability)


def _expected(model, x):
    row = model.predict(x.reshape(1, 64))[0]
    return int(row.argmax()), round(float(row.max()), 4)


def test_16_bit_png_keeps_its_depth(tmp_path, capsys, model_file):
    Image = pytest.importorskip("PIL.Image")
    pixels = (np.arange(64, dtype=np.uint16).reshape(8, 8) * 1000)   # 0..63000: all above 255
    path = tmp_path / "deep.png"
    Image.fromarray(pixels).save(path)
    with Image.open(path) as image:
        assert image.mode.startswith("I")   # read back as 16-bit, not 8
    code, out, err = run(capsys, "predict", model_file[0], path)
    assert code == 0, err
    assert _prediction_line(out) == _expected(model_file[1], pixels / 65535.0)


def test_uint16_npy_is_scaled_and_other_integers_refused(tmp_path, capsys, model_file):
    x = (np.arange(64, dtype=np.uint16).reshape(1, 64) * 1000)
    np.save(tmp_path / "u16.npy", x)
    code, out, err = run(capsys, "predict", model_file[0], tmp_path / "u16.npy")
    assert code == 0, err
    assert _prediction_line(out) == _expected(model_file[1], x / 65535.0)
    np.save(tmp_path / "i32.npy", x.astype(np.int32))
    _error(capsys, "predict", model_file[0], tmp_path / "i32.npy", match="int32 integers")


def test_float64_inputs_beyond_float32_are_refused(tmp_path, capsys, model_file):
    np.save(tmp_path / "big.npy", np.full((1, 64), 1e300))
    _error(capsys, "predict", model_file[0], tmp_path / "big.npy", match="beyond float32")


def test_wrong_size_images_need_resize(tmp_path, capsys, model_file):
    Image = pytest.importorskip("PIL.Image")
    path = tmp_path / "big.png"
    Image.fromarray(np.full((16, 16), 200, np.uint8)).save(path)
    _error(capsys, "predict", model_file[0], path, match="16x16 pixels; the model takes 8x8. Pass --resize")
    code, out, err = run(capsys, "predict", model_file[0], path, "--resize")
    assert code == 0, err
    assert _prediction_line(out) == _expected(model_file[1], np.full((8, 8), 200 / 255))
