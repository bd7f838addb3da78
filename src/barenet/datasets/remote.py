"""Finding, downloading and verifying the IDX files of MNIST-like datasets.

`load_idx_dataset` looks for the four files in, in order: the `data_dir` argument,
the `BARENET_DATA_DIR` environment variable, the user cache (`$XDG_CACHE_HOME/barenet/<name>`,
by default `~/.cache/barenet/<name>`) and any system folders the dataset names (Debian's
`dataset-fashion-mnist` package, for instance). A folder counts when it holds all four
files, each either gzip-compressed (`.gz`) or plain. In `data_dir` and `BARENET_DATA_DIR`
both the folder itself and its `<name>` subfolder are tried.

A `data_dir` that does not exist or is not a folder is an error (not silently skipped).

When no folder has them, the missing files are downloaded into the cache, trying each
mirror in turn. A download is written to a temporary file beside its target, its length
and SHA-256 are checked, and only then is it renamed into place (atomic on POSIX and
Windows); a failed or partial download leaves nothing behind, and the `.part` files of
a killed process are removed on the next download.

Limits: every read waits at most `timeout` seconds (default 30); a whole file must
arrive within `deadline` seconds (default `DOWNLOAD_DEADLINE`, 600), however slowly a
mirror trickles; reading stops as soon as a file exceeds its known size (`IDXDataset.sizes`,
or `MAX_DOWNLOAD_BYTES` for a file without one).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path


from ..saving.atomic import remove_stale_temporary_files
from .idx import read_idx

_ROLES = ("x_train", "y_train", "x_test", "y_test")
_CHUNK = 1 << 16
DOWNLOAD_DEADLINE = 600.0          # seconds for one whole file
MAX_DOWNLOAD_BYTES = 64 * 2**20    # for a file whose size the dataset does not give


class DownloadError(OSError):
    """No folder held the dataset and no mirror delivered a file with the right checksum."""


@dataclass(frozen=True)
class IDXDataset:
    """What a dataset's files are called, where they can be found and what they must hash to.

    Args:
        name: Folder name in the cache, e.g. "mnist".
        files: The four gzip file names, in the order x_train, y_train, x_test, y_test.
        sha256: SHA-256 (hex) of each gzip file, by file name.
        mirrors: Base URLs (ending in "/"), tried in turn.
        system_dirs: Extra folders to look in after the cache (e.g. a distribution package's).
        image_shape: Shape of one image, checked after reading.
        sizes: Most bytes each gzip file may have (a little above its real size); a download
            is cut off beyond it. Files not listed get `MAX_DOWNLOAD_BYTES`.
    """

    name: str
    files: tuple[str, str, str, str]
    sha256: dict
    mirrors: tuple[str, ...]
    system_dirs: tuple[str, ...] = ()
    image_shape: tuple[int, int] = (28, 28)
    sizes: dict = field(default_factory=dict)


def cache_dir() -> Path:
    """barenet's download cache: `$XDG_CACHE_HOME/barenet`, by default `~/.cache/barenet`."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "barenet"


def search_dirs(spec: IDXDataset, data_dir=None) -> list[Path]:
    """The folders `load_idx_dataset` looks in, in order."""
    dirs: list[Path] = []
    for root in (data_dir, os.environ.get("BARENET_DATA_DIR") or None):
        if root is not None:
            dirs += [Path(root), Path(root) / spec.name]
    dirs.append(cache_dir() / spec.name)
    dirs += [Path(d) for d in spec.system_dirs]
    return dirs


def _find(folder: Path, gz_name: str) -> Path | None:
    for candidate in (folder / gz_name, folder / gz_name[:-3]):
        if candidate.is_file():
            return candidate
    return None


def load_idx_dataset(spec: IDXDataset, data_dir=None, *, mirrors=None, sha256=None,
                     download: bool = True, timeout: float = 30.0, deadline: float | None = None):
    """Return `(x_train, y_train), (x_test, y_test)` for `spec` (see the module docstring).

    Args:
        spec: The dataset's description.
        data_dir: A folder to look in first. Defaults to None.
        mirrors: Base URLs to download from, replacing `spec.mirrors`. Defaults to None.
        sha256: Expected SHA-256 by file name, replacing `spec.sha256`. Defaults to None.
        download: Whether to download when no folder has the files. Defaults to True.
        timeout: Seconds to wait for a mirror to answer, and for each read. Defaults to 30.
        deadline: Seconds one whole file may take to download. Defaults to `DOWNLOAD_DEADLINE`.

    Raises:
        FileNotFoundError, NotADirectoryError: `data_dir` is missing or not a folder.
        DownloadError: No folder has the files and downloading is off or failed.
        ValueError: A file is not a valid IDX file, or the four files do not fit together.
    """
    if data_dir is not None and not isinstance(data_dir, (str, os.PathLike)):
        raise TypeError(f"`data_dir` must be a path. Received: {type(data_dir).__name__}")
    if data_dir is not None and not os.path.isdir(data_dir):
        if os.path.exists(data_dir):
            raise NotADirectoryError(f"data_dir={os.fspath(data_dir)!r} is not a folder.")
        raise FileNotFoundError(f"data_dir={os.fspath(data_dir)!r} does not exist.")
    deadline = DOWNLOAD_DEADLINE if deadline is None else deadline
    mirrors = tuple(spec.mirrors if mirrors is None else mirrors)
    sha256 = dict(spec.sha256 if sha256 is None else sha256)
    for folder in search_dirs(spec, data_dir):
        paths = [_find(folder, name) for name in spec.files]
        if all(paths):
            return _read(spec, paths)
    cache = cache_dir() / spec.name
    if not download:
        raise DownloadError(_where_message(spec, data_dir, cache, "downloading is switched off"))
    failures = []
    paths = []
    for name in spec.files:
        path = _find(cache, name)
        if path is None:
            limits = (timeout, deadline, spec.sizes.get(name, MAX_DOWNLOAD_BYTES))
            path, errors = _download(name, cache, mirrors, sha256.get(name), limits)
            if path is None:  # every mirror failed: the other files would fail the same way
                failures += errors
                break
        paths.append(path)
    if failures:
        reason = "the download failed:\n  " + "\n  ".join(failures)
        raise DownloadError(_where_message(spec, data_dir, cache, reason))
    return _read(spec, paths)


def _where_message(spec, data_dir, cache, reason) -> str:
    places = [f"data_dir={str(data_dir)!r}"] if data_dir is not None else []
    places += ["the folder named by the BARENET_DATA_DIR environment variable", str(cache)]
    places += list(spec.system_dirs)
    return (f"{spec.name} is not on this machine and {reason}\n"
            f"Put the files {', '.join(spec.files)} (gzip-compressed or not) in one of: "
            + "; ".join(places) + ".")


def _download(name: str, cache: Path, mirrors, expected: str | None, limits: tuple):
    """Fetch `name` from the first mirror that delivers it whole and with the right hash."""
    if expected is None:
        return None, [f"{name}: no SHA-256 is known for it, so it cannot be verified"]
    if not mirrors:
        return None, [f"{name}: no mirrors to download from"]
    remove_stale_temporary_files(cache, name, ".part")
    errors = []
    for base in mirrors:
        url = base if base.endswith(name) else base.rstrip("/") + "/" + name
        try:
            _fetch_verified(url, cache / name, expected, *limits)
            return cache / name, []
        except (OSError, http.client.HTTPException, ValueError) as error:
            errors.append(f"{url}: {_describe(error)}")
    return None, errors


def _describe(error) -> str:
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code} {error.reason}"
    if isinstance(error, urllib.error.URLError):
        return f"cannot connect ({error.reason})"
    if isinstance(error, http.client.IncompleteRead):
        return f"the connection closed early ({len(error.partial)} bytes received)"
    return str(error) or type(error).__name__


def _fetch_verified(url: str, target: Path, expected: str, timeout: float, deadline: float, max_bytes: int) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}-", suffix=".part", dir=target.parent)
    try:
        digest, received = hashlib.sha256(), 0
        give_up = time.monotonic() + deadline
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            if length is not None and length.isdigit() and int(length) > max_bytes:
                raise ValueError(f"the server announces {length} bytes; the file has at most {max_bytes}")
            # read1 returns what has arrived (read() would wait for a whole chunk), so the
            # deadline is checked however slowly the bytes trickle in.
            while chunk := response.read1(_CHUNK):
                received += len(chunk)
                if received > max_bytes:
                    raise ValueError(f"more than the {max_bytes} bytes the file has; stopped reading")
                if time.monotonic() > give_up:
                    raise TimeoutError(f"not complete after the {deadline:g} s allowed per file "
                                       f"({received} bytes received)")
                out.write(chunk)
                digest.update(chunk)
            out.flush()
            os.fsync(out.fileno())
        if length is not None and received != int(length):
            raise ValueError(f"truncated: received {received} of {length} bytes")
        if digest.hexdigest() != expected.lower():
            raise ValueError(f"SHA-256 mismatch: expected {expected}, got {digest.hexdigest()}")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read(spec: IDXDataset, paths):
    arrays = {}
    for role, path in zip(_ROLES, paths):
        array = read_idx(path)
        expected_ndim = 3 if role.startswith("x") else 1
        if array.ndim != expected_ndim or (expected_ndim == 3 and array.shape[1:] != spec.image_shape):
            wanted = f"(samples, {spec.image_shape[0]}, {spec.image_shape[1]})" if expected_ndim == 3 else "(samples,)"
            raise ValueError(f"IDX file {str(path)!r} holds an array of shape {array.shape}; "
                             f"{spec.name} {role} must be {wanted}.")
        arrays[role] = array
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if len(x) != len(y):
            raise ValueError(f"{spec.name} {split} files do not fit together: {len(x)} images but {len(y)} labels.")
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])
