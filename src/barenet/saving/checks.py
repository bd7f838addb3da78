"""What every reader shares: the format's names, the limits a file must respect, `ModelFileError`
and the small checks that raise it."""

from __future__ import annotations

import os
from pathlib import Path

FORMAT_VERSION = 1
MODEL_FORMAT = "barenet.model"
WEIGHTS_FORMAT = "barenet.weights"
DEFAULT_SUFFIX = ".barenet"
CONFIG_MEMBER = "config.json"

# Limits that keep a hostile file from exhausting memory or time.
MAX_CONFIG_BYTES = 16 * 2**20
MAX_BLOG_JSON_BYTES = 512 * 2**20
MAX_MEMBERS = 100_000
MAX_NPY_HEADER_BYTES = 2**16
MAX_SAMPLE_ELEMENTS = 2**24  # per-sample output size above which a layer config is refused

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
    try:
        with open(path, "rb") as f:
            return f.read(64)
    except FileNotFoundError:
        raise ModelFileError(f"Cannot load {str(path)!r}: no such file.") from None
    except OSError as error:
        raise ModelFileError(f"Cannot load {str(path)!r}: {error}") from None


def _check_path(path) -> Path:
    if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"`path` must be a str or os.PathLike. Received: {type(path).__name__}")
    return Path(path)


def _check_model(model) -> None:
    from ..model import Sequential

    if not isinstance(model, Sequential):
        raise TypeError(f"`model` must be a barenet Sequential/NN. Received: {type(model).__name__}")
    if not model.layers:
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

