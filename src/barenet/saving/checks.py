"""What every reader shares: the format's names, the limits a file must respect, `ModelFileError`
and the small checks that raise it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

FORMAT_VERSION = 1
MODEL_FORMAT = "barenet.model"
WEIGHTS_FORMAT = "barenet.weights"
DEFAULT_SUFFIX = ".barenet"
CONFIG_MEMBER = "config.json"

# Limits that keep a hostile file from exhausting memory or time (documented in README.md).
MAX_CONFIG_BYTES = 16 * 2**20          # config.json
MAX_BLOG_JSON_BYTES = 32 * 2**20       # a blog JSON file (parsing a layer's lists takes up to ~16x their text)
MAX_MEMBERS = 100_000                  # zip members, read from the end-of-central-directory record first
MAX_CENTRAL_DIRECTORY_BYTES = 16 * 2**20
MAX_DEFLATE_RATIO = 1100               # deflate cannot expand more than ~1032:1
MAX_NPY_HEADER_BYTES = 2**16
MAX_LAYERS = 10_000
MAX_SAMPLE_ELEMENTS = 2**24            # one layer's output for one sample
MAX_MODEL_SAMPLE_ELEMENTS = 2**26      # all layers' outputs for one sample
MAX_PARAMS = 2**28                     # numbers in all parameters and layer state (1 GiB in float32)

_BIT_GENERATORS = {"PCG64", "PCG64DXSM", "Philox", "SFC64", "MT19937"}
_ARRAY_KINDS = "biuf"


class ModelFileError(ValueError):
    """A model, weights or blog-JSON file that cannot be loaded: truncated, not a zip,
    missing members, unknown layer types, wrong shapes or dtypes, a newer format version.

    Raised for every problem with the file's contents (and for a missing or unreadable
    path), never another exception type; the message says what is wrong.
    """



# --- helpers ----------------------------------------------------------------------------------
def _guard(path: Path, load):
    """Run a loader, turning every failure into a ModelFileError naming the file."""
    try:
        return load()
    except ModelFileError as error:
        raise ModelFileError(f"Cannot load {str(path)!r}: {error}") from None
    except FileNotFoundError:
        raise ModelFileError(f"Cannot load {str(path)!r}: no such file.") from None
    except Exception as error:  # damaged files fail in many ways deep inside zipfile/numpy/json
        raise ModelFileError(f"Cannot load {str(path)!r}: the file is damaged or invalid "
                             f"({type(error).__name__}: {error}).") from None


def _read_head(path: Path) -> bytes:
    with _open_regular(path) as f:
        return f.read(64)


def _open_regular(path: Path):
    """Open `path` for binary reading, refusing at once anything but a regular file.

    Opened non-blocking, so a FIFO without a writer cannot hang the open; the check is on
    the opened descriptor, so nothing can be swapped in between check and read.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise ModelFileError(f"Cannot load {str(path)!r}: no such file.") from None
    except OSError as error:
        raise ModelFileError(f"Cannot load {str(path)!r}: {error.strerror or error}.") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = "a folder" if stat.S_ISDIR(mode) else "a FIFO, socket or device"
        raise ModelFileError(f"Cannot load {str(path)!r}: it is {kind}, not a regular file.")
    if hasattr(os, "set_blocking"):
        os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def _check_path(path) -> Path:
    if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"`path` must be a str or os.PathLike. Received: {type(path).__name__}")
    return Path(path)


def _check_model(model) -> None:
    from ..models import Model, Sequential

    if not isinstance(model, Model):
        raise TypeError(f"`model` must be a barenet model (Sequential/NN, Model). Received: {type(model).__name__}")
    if isinstance(model, Sequential) and not model.layers:
        raise RuntimeError("The model has no layers. Add layers with add() first.")


def _field(container: dict, key: str, kind: type, where: str):
    value = container.get(key)
    _require(isinstance(value, kind), f"{where}.{key} must be a JSON {'object' if kind is dict else 'array'}. "
                                      f"Received: {value!r:.80}")
    return value


def _require(condition, message: str) -> None:
    if not condition:
        raise ModelFileError(message)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _barenet_version() -> str:
    from .. import __version__

    return __version__

