"""Datasets: embedded digits, folder lookup order, offline downloads from a local HTTP server."""

import gzip
import hashlib
import http.server
import os
import socket
import threading
from pathlib import Path

import numpy as np
import pytest

import barenet as bn
from barenet.datasets import DownloadError, digits, fashion_mnist, mnist, read_idx
from barenet.datasets.remote import IDXDataset, load_idx_dataset

FILES = mnist.FILES
FASHION = Path(os.environ.get("BARENET_FASHION_MNIST_DIR",
                              Path(__file__).resolve().parents[2] / "shared" / "data" / "fashion-mnist"))


def idx_bytes(array: np.ndarray) -> bytes:
    array = np.asarray(array, np.uint8)
    header = bytes([0, 0, 8, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    return header + array.tobytes()


def make_files(n_train=6, n_test=4, seed=0):
    """Four small gzip IDX files (28x28 images) and the arrays they hold."""
    rng = np.random.default_rng(seed)
    arrays = [rng.integers(0, 256, (n_train, 28, 28)), rng.integers(0, 10, n_train),
              rng.integers(0, 256, (n_test, 28, 28)), rng.integers(0, 10, n_test)]
    blobs = {name: gzip.compress(idx_bytes(a), mtime=0) for name, a in zip(FILES, arrays)}
    return blobs, [a.astype(np.uint8) for a in arrays]


def sha(blobs):
    return {name: hashlib.sha256(blob).hexdigest() for name, blob in blobs.items()}


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    """Every test gets an empty cache and no BARENET_DATA_DIR."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("BARENET_DATA_DIR", raising=False)
    return tmp_path / "cache" / "barenet"


class Server:
    """A local HTTP server: `routes[path] = (status, body, declared_length or None)`."""

    def __init__(self):
        self.routes, self.requests = {}, []
        routes, requests = self.routes, self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                requests.append(self.path)
                status, body, length = routes.get(self.path, (404, b"not found", None))
                self.send_response(status)
                self.send_header("Content-Length", str(len(body) if length is None else length))
                self.end_headers()
                self.wfile.write(body)
                self.close_connection = True

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def serve(self, prefix, blobs, **overrides):
        for name, blob in blobs.items():
            self.routes[f"{prefix}/{name}"] = overrides.get(name, (200, blob, None))


@pytest.fixture
def server():
    srv = Server()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


def assert_arrays(loaded, arrays):
    (x_train, y_train), (x_test, y_test) = loaded
    for got, want in zip((x_train, y_train, x_test, y_test), arrays):
        np.testing.assert_array_equal(got, want)
        assert got.dtype == np.uint8


# --- embedded digits ------------------------------------------------------------------------
def test_digits_loads_offline_with_a_fixed_split():
    (x_train, y_train), (x_test, y_test) = digits.load_data()
    assert x_train.shape == (1437, 8, 8) and x_test.shape == (360, 8, 8)
    assert y_train.shape == (1437,) and y_test.shape == (360,)
    assert x_train.dtype == np.uint8 and 0 == x_train.min() and x_train.max() == 16
    assert set(np.unique(np.concatenate([y_train, y_test]))) == set(range(10))
    # Known facts about the UCI digits test set: 1,797 samples, 178 zeros.
    assert np.bincount(np.concatenate([y_train, y_test]))[0] == 178
    (x2, _), (x3, y3) = digits.load_data()
    np.testing.assert_array_equal(x2, x_train)
    np.testing.assert_array_equal(y3, y_test)


def test_digits_attribution_ships_next_to_the_data():
    note = (Path(digits.__file__).parent / "data" / "README.md").read_text()
    assert "CC BY 4.0" in note and "Alpaydin" in note


# --- IDX reader -----------------------------------------------------------------------------
def test_read_idx_reads_plain_and_gzip(tmp_path):
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "a.idx").write_bytes(idx_bytes(array))
    (tmp_path / "a.idx.gz").write_bytes(gzip.compress(idx_bytes(array)))
    np.testing.assert_array_equal(read_idx(tmp_path / "a.idx"), array)
    np.testing.assert_array_equal(read_idx(tmp_path / "a.idx.gz"), array)


@pytest.mark.parametrize("blob, message", [
    (b"\x00\x00\x0d\x01" + b"\x00" * 8, "magic"),
    (b"\x00\x00\x08\x03\x00\x00", "truncated"),
    (idx_bytes(np.zeros((2, 3), np.uint8))[:-1], "need"),
])
def test_read_idx_names_the_file_when_it_is_wrong(tmp_path, blob, message):
    path = tmp_path / "broken-idx"
    path.write_bytes(blob)
    with pytest.raises(ValueError, match=message) as info:
        read_idx(path)
    assert "broken-idx" in str(info.value)


# --- lookup order ---------------------------------------------------------------------------
def write_folder(folder, blobs, plain=False):
    folder.mkdir(parents=True, exist_ok=True)
    for name, blob in blobs.items():
        if plain:
            (folder / name[:-3]).write_bytes(gzip.decompress(blob))
        else:
            (folder / name).write_bytes(blob)


def test_lookup_order_data_dir_then_env_then_cache(tmp_path, monkeypatch, isolated_cache):
    sets = [make_files(seed=s) for s in range(3)]
    write_folder(tmp_path / "arg", sets[0][0])
    write_folder(tmp_path / "env" / "mnist", sets[1][0], plain=True)  # the <name> subfolder, plain IDX
    write_folder(isolated_cache / "mnist", sets[2][0])
    monkeypatch.setenv("BARENET_DATA_DIR", str(tmp_path / "env"))
    assert_arrays(mnist.load_data(tmp_path / "arg", download=False), sets[0][1])
    assert_arrays(mnist.load_data(download=False), sets[1][1])
    monkeypatch.delenv("BARENET_DATA_DIR")
    assert_arrays(mnist.load_data(download=False), sets[2][1])
    # A data_dir folder without the files falls through to the next place (a missing one is an error).
    (tmp_path / "empty").mkdir()
    assert_arrays(mnist.load_data(tmp_path / "empty", download=False), sets[2][1])


def test_system_dir_comes_after_the_cache(tmp_path):
    blobs, arrays = make_files()
    write_folder(tmp_path / "debian", blobs)
    spec = IDXDataset("thing", FILES, {}, (), system_dirs=(str(tmp_path / "debian"),))
    assert_arrays(load_idx_dataset(spec, download=False), arrays)


def test_fashion_mnist_looks_in_the_debian_package_folder():
    assert fashion_mnist.DATASET.system_dirs == ("/usr/share/datasets/fashion-mnist",)


def test_mismatched_files_are_a_clear_error(tmp_path):
    blobs, _ = make_files()
    blobs[FILES[1]] = gzip.compress(idx_bytes(np.zeros(5)))  # 6 images, 5 labels
    write_folder(tmp_path, blobs)
    with pytest.raises(ValueError, match="6 images but 5 labels"):
        mnist.load_data(tmp_path, download=False)
    blobs[FILES[0]] = gzip.compress(idx_bytes(np.zeros((6, 8, 8))))
    write_folder(tmp_path, blobs)
    with pytest.raises(ValueError, match=r"train-images.*\(samples, 28, 28\)"):
        mnist.load_data(tmp_path, download=False)


# --- downloads ------------------------------------------------------------------------------
def test_download_verifies_and_caches_atomically(server, isolated_cache):
    blobs, arrays = make_files()
    server.serve("/a", blobs)
    assert_arrays(mnist.load_data(mirrors=[server.url + "/a/"], sha256=sha(blobs)), arrays)
    cached = sorted(p.name for p in (isolated_cache / "mnist").iterdir())
    assert cached == sorted(FILES)  # no .part files left
    served = len(server.requests)
    assert_arrays(mnist.load_data(mirrors=[server.url + "/a/"], sha256=sha(blobs)), arrays)
    assert len(server.requests) == served  # the second call reads the cache


def test_404_then_success_on_the_next_mirror(server, isolated_cache):
    blobs, arrays = make_files()
    server.serve("/good", blobs)
    mirrors = [server.url + "/missing/", server.url + "/good/"]
    assert_arrays(mnist.load_data(mirrors=mirrors, sha256=sha(blobs)), arrays)
    assert [p for p in server.requests if p.startswith("/missing/")]


def test_bad_checksum_is_rejected_and_leaves_nothing(server, isolated_cache):
    blobs, arrays = make_files()
    tampered = dict(blobs)
    tampered[FILES[0]] = blobs[FILES[0]][:-1] + bytes([blobs[FILES[0]][-1] ^ 1])
    server.serve("/bad", tampered)
    with pytest.raises(DownloadError, match="SHA-256 mismatch") as info:
        mnist.load_data(mirrors=[server.url + "/bad/"], sha256=sha(blobs))
    assert "Put the files" in str(info.value)
    left = sorted(p.name for p in (isolated_cache / "mnist").iterdir())
    assert FILES[0] not in left and not any(name.endswith(".part") for name in left)
    # The next call with a second mirror falls back to it for the damaged file only.
    server.serve("/good", blobs)
    before = len(server.requests)
    assert_arrays(mnist.load_data(mirrors=[server.url + "/bad/", server.url + "/good/"], sha256=sha(blobs)), arrays)
    assert server.requests[before:] == ["/bad/" + FILES[0], "/good/" + FILES[0]] + ["/bad/" + f for f in FILES[1:]]


def test_truncated_body_is_rejected_then_next_mirror_used(server, isolated_cache):
    blobs, arrays = make_files()
    name = FILES[2]
    server.serve("/short", blobs, **{name: (200, blobs[name][:100], len(blobs[name]))})
    with pytest.raises(DownloadError, match="closed early|truncated"):
        mnist.load_data(mirrors=[server.url + "/short/"], sha256=sha(blobs))
    assert not any(p.name.endswith(".part") or p.name == name for p in (isolated_cache / "mnist").iterdir())
    server.serve("/good", blobs)
    assert_arrays(mnist.load_data(mirrors=[server.url + "/short/", server.url + "/good/"], sha256=sha(blobs)), arrays)


def test_no_network_tells_the_user_where_to_put_the_files(isolated_cache):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DownloadError) as info:
        fashion_mnist.load_data(mirrors=[f"http://127.0.0.1:{port}/"], sha256=fashion_mnist.SHA256)
    message = str(info.value)
    assert "cannot connect" in message and "Put the files" in message
    assert str(isolated_cache / "fashion-mnist") in message and "BARENET_DATA_DIR" in message
    assert "/usr/share/datasets/fashion-mnist" in message
    assert not (isolated_cache / "fashion-mnist").exists() or not any((isolated_cache / "fashion-mnist").iterdir())


def test_published_hashes_match_the_shared_fashion_mnist_files():
    if not all((FASHION / name).exists() for name in fashion_mnist.FILES):
        pytest.skip(f"Fashion-MNIST IDX files not found in {FASHION}")
    for name in fashion_mnist.FILES:
        assert hashlib.sha256((FASHION / name).read_bytes()).hexdigest() == fashion_mnist.SHA256[name]
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data(FASHION, download=False)
    assert x_train.shape == (60000, 28, 28) and y_test.shape == (10000,)


# --- helpers --------------------------------------------------------------------------------
def test_normalize_and_standardize():
    x = np.array([[0, 51, 255]], np.uint8)
    np.testing.assert_allclose(bn.normalize(x), [[0, 0.2, 1]], rtol=1e-6)
    np.testing.assert_allclose(bn.normalize(np.array([0.0, 8.0, 16.0]), 16), [0, 0.5, 1])
    z = bn.standardize(np.array([1.0, 2.0, 3.0, 4.0]))
    assert abs(z.mean()) < 1e-6 and abs(z.std() - 1) < 1e-5
    np.testing.assert_allclose(bn.standardize(np.array([5.0]), mean=3.0, std=2.0), [1.0], rtol=1e-6)
    with pytest.raises(ValueError, match="max_value"):
        bn.normalize(x, 0)


def test_train_test_split_is_seeded_and_disjoint():
    x, y = np.arange(100).reshape(50, 2), np.arange(50) % 5
    a = bn.train_test_split(x, y, test_size=0.2, seed=1)
    b = bn.train_test_split(x, y, test_size=0.2, seed=1)
    c = bn.train_test_split(x, y, test_size=0.2, seed=2)
    x_train, x_test, y_train, y_test = a
    assert len(x_test) == 10 and len(x_train) == 40
    assert set(x_train[:, 0]).isdisjoint(x_test[:, 0]) and len(set(x_train[:, 0]) | set(x_test[:, 0])) == 50
    np.testing.assert_array_equal(x_train[:, 0] // 2 % 5, y_train)  # rows stay paired
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[1], c[1])
    _, _, _, strat = bn.train_test_split(x, y, test_size=0.2, seed=0, stratify=y)
    assert np.bincount(strat).tolist() == [2] * 5
    with pytest.raises(ValueError, match="test_size"):
        bn.train_test_split(x, test_size=1.5)
    with pytest.raises(ValueError, match="same length"):
        bn.train_test_split(x, y[:3])
