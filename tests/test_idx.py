"""IDX files are read header first: absurd declared sizes are refused at once, and a gzip
bomb behind a valid header is never inflated past the size its header declares."""

import gzip
import zlib

import numpy as np
import pytest

from barenet import cli
from barenet.datasets import mnist, read_idx
from barenet.datasets.idx import MAX_IDX_BYTES
from bounds import within


def _header(shape):
    return bytes([0, 0, 8, len(shape)]) + np.array(shape, ">u4").tobytes()


def _bomb(path, shape, inflated):
    """A gzip file: a valid header for `shape`, then `inflated` zero bytes (compressed ~1000:1)."""
    compressor = zlib.compressobj(1, zlib.DEFLATED, 31)
    with open(path, "wb") as f:
        f.write(compressor.compress(_header(shape)))
        chunk = bytes(1 << 20)
        for _ in range(inflated >> 20):
            f.write(compressor.compress(chunk))
        f.write(compressor.flush())
    return path


def test_a_gzip_bomb_behind_a_valid_header_is_not_inflated(tmp_path):
    path = _bomb(tmp_path / "train-images-idx3-ubyte.gz", (10, 28, 28), 256 << 20)   # 256 MiB of zeros, ~1 MB
    assert path.stat().st_size < 2 * 2**20
    with within(seconds=5, megabytes=50), pytest.raises(ValueError, match="more data than its dimensions"):
        read_idx(path)


def test_an_absurd_declared_size_is_refused_before_reading(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(_header((60000, 28, 28, 10000)) + bytes(100)))
    with within(seconds=1, megabytes=10), pytest.raises(ValueError, match=f"at most {MAX_IDX_BYTES} bytes"):
        read_idx(path)


@pytest.mark.parametrize("data, message", [
    (_header((4, 2)) + bytes(7), "truncated"),
    (_header((4, 2)) + bytes(9), "more data"),
    (b"\x00\x00\x08", "bad magic"),
    (b"\x00\x00\x08\x03\x00", "header needs 16 bytes"),
])
def test_sizes_must_match_the_header(tmp_path, data, message):
    for path, blob in ((tmp_path / "f", data), (tmp_path / "f.gz", gzip.compress(data))):
        path.write_bytes(blob)
        with pytest.raises(ValueError, match=message):
            read_idx(path)


def test_a_good_file_reads_back(tmp_path):
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "a.gz").write_bytes(gzip.compress(_header(array.shape) + array.tobytes()))
    np.testing.assert_array_equal(read_idx(tmp_path / "a.gz"), array)


def test_the_cli_reports_the_bomb_in_one_line(tmp_path, capsys):
    _bomb(tmp_path / mnist.FILES[0], (10, 28, 28), 128 << 20)
    for name, shape in zip(mnist.FILES[1:], [(10,), (2, 28, 28), (2,)]):
        (tmp_path / name).write_bytes(gzip.compress(_header(shape) + bytes(int(np.prod(shape)))))
    with within(seconds=5, megabytes=100):
        assert cli.main(["train", "--dataset", "mnist", "--data-dir", str(tmp_path), "--epochs", "1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("barenet: error:") and "more data than its dimensions" in err
