"""Bad mirrors end in a clear DownloadError, fast and in bounded memory: an endless body is cut
off at the file's known size, a trickle at the per-file deadline; `.part` files a killed
download left are removed; a missing or non-folder `data_dir` is an error."""

import gzip
import hashlib
import http.server
import inspect
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from barenet.datasets import DownloadError, fashion_mnist, mnist
from barenet.datasets.remote import IDXDataset, load_idx_dataset
from bounds import within

FILES = mnist.FILES


def _blobs():
    rng = np.random.default_rng(0)
    arrays = [rng.integers(0, 256, (3, 28, 28)), rng.integers(0, 10, 3),
              rng.integers(0, 256, (2, 28, 28)), rng.integers(0, 10, 2)]
    def idx(a):
        a = np.asarray(a, np.uint8)
        return bytes([0, 0, 8, a.ndim]) + np.array(a.shape, ">u4").tobytes() + a.tobytes()
    return {name: gzip.compress(idx(a), mtime=0) for name, a in zip(FILES, arrays)}


BLOBS = _blobs()
SHA = {name: hashlib.sha256(blob).hexdigest() for name, blob in BLOBS.items()}
SPEC = IDXDataset("mnist", FILES, SHA, (), sizes={name: 2**20 for name in FILES})


class HostileServer:
    """127.0.0.1 server; `/endless/*` streams zeros without end, `/trickle/*` sends a byte every
    0.2 s, `/liar/*` announces 10 GB, `/silent/*` never answers, `/good/*` serves the files. Every handler stops by itself
    after 10 s, and the fixture shuts the server down."""

    def __init__(self):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                kind, name = self.path.strip("/").split("/", 1)
                self.send_response(200)
                if kind == "good":
                    self.send_header("Content-Length", str(len(BLOBS[name])))
                    self.end_headers()
                    self.wfile.write(BLOBS[name])
                    return
                if kind == "silent":   # headers never come
                    time.sleep(3)
                    return
                if kind == "liar":
                    self.send_header("Content-Length", str(10 * 10**9))
                self.end_headers()
                stop = time.monotonic() + 10
                try:
                    while time.monotonic() < stop:
                        if kind == "trickle":
                            self.wfile.write(b"\x00")
                            self.wfile.flush()
                            time.sleep(0.2)
                        else:
                            self.wfile.write(bytes(1 << 16))
                except OSError:   # the client hung up: what we want
                    pass
                self.close_connection = True

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()


@pytest.fixture
def server():
    srv = HostileServer()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("BARENET_DATA_DIR", raising=False)
    return tmp_path / "cache" / "barenet" / "mnist"


def _leftovers(cache):
    return sorted(p.name for p in cache.iterdir()) if cache.exists() else []


def test_an_endless_body_is_cut_off_at_the_known_size(server, cache):
    with within(seconds=5, megabytes=50), pytest.raises(DownloadError, match="more than the 1048576 bytes"):
        load_idx_dataset(SPEC, mirrors=[server.url + "/endless/"], timeout=2)
    assert _leftovers(cache) == []


def test_an_announced_oversize_is_refused_before_reading(server, cache):
    with within(seconds=5, megabytes=50), pytest.raises(DownloadError, match="announces 10000000000 bytes"):
        load_idx_dataset(SPEC, mirrors=[server.url + "/liar/"], timeout=2)
    assert _leftovers(cache) == []


def test_a_trickle_stops_at_the_per_file_deadline(server, cache):
    with within(seconds=5, megabytes=50), pytest.raises(DownloadError, match="not complete after the 1 s"):
        load_idx_dataset(SPEC, mirrors=[server.url + "/trickle/"], timeout=2, deadline=1.0)
    assert _leftovers(cache) == []


def test_a_bad_mirror_then_a_good_one_still_loads(server, cache):
    (x_train, _), _ = load_idx_dataset(SPEC, mirrors=[server.url + "/endless/", server.url + "/good/"], timeout=2)
    assert x_train.shape == (3, 28, 28)
    assert _leftovers(cache) == sorted(FILES)


def test_part_files_of_a_killed_download_are_removed(server, cache):
    cache.mkdir(parents=True)
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    stale = cache / f".{FILES[0]}.{process.pid}-abc.part"
    live = cache / f".{FILES[0]}.{os.getppid()}-def.part"
    stale.write_bytes(b"half a file")
    live.write_bytes(b"another download in progress")
    load_idx_dataset(SPEC, mirrors=[server.url + "/good/"], timeout=2)
    assert not stale.exists() and live.exists()


@pytest.mark.parametrize("module", [mnist, fashion_mnist])
def test_every_load_data_takes_a_timeout(module, server):
    assert inspect.signature(module.load_data).parameters["timeout"].default == 30.0
    with within(seconds=5, megabytes=50), pytest.raises(DownloadError):
        module.load_data(mirrors=[server.url + "/silent/"], sha256={n: "0" * 64 for n in module.FILES}, timeout=0.3)


def test_known_sizes_cover_every_file():
    for module in (mnist, fashion_mnist):
        assert set(module.DATASET.sizes) == set(module.FILES)


def test_a_missing_or_non_folder_data_dir_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        mnist.load_data(tmp_path / "nope", download=False)
    (tmp_path / "file").write_bytes(b"x")
    with pytest.raises(NotADirectoryError, match="not a folder"):
        mnist.load_data(tmp_path / "file", download=False)
