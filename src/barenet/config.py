"""Global settings, as `keras.config`: the default float type, the fuzz factor epsilon, the
image data format, and the backend's name.

    barenet.config.floatx()            # "float32": the dtype of new models and layers
    barenet.config.set_floatx("float64")
    barenet.config.epsilon()           # 1e-7: Normalization's floor for the standard deviation

Models made without `dtype=` and layers built outside a model use `floatx()`.
`set_num_threads(n)` / `get_num_threads()` (barenet's own threads, see `barenet.parallel`) are
here too.
"""

from __future__ import annotations

import numbers

from .parallel import get_num_threads, set_num_threads  # noqa: F401 - barenet.config.set_num_threads

_FLOATX = "float32"
_EPSILON = 1e-7
_IMAGE_DATA_FORMAT = "channels_last"
_FLOAT_TYPES = ("float32", "float64")


def floatx() -> str:
    """The default float type of new models and layers. Defaults to "float32"."""
    return _FLOATX


def set_floatx(value: str) -> None:
    """Set the default float type: "float32" or "float64" (barenet computes in these two only)."""
    global _FLOATX
    if str(value) not in _FLOAT_TYPES:
        raise ValueError(f"`value` must be one of {', '.join(_FLOAT_TYPES)}. Received: value={value!r}")
    _FLOATX = str(value)


def epsilon() -> float:
    """The fuzz factor that keeps divisions finite. Defaults to 1e-7, as in Keras."""
    return _EPSILON


def set_epsilon(value: float) -> None:
    """Set the fuzz factor (a positive number)."""
    global _EPSILON
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
        raise ValueError(f"`value` must be a positive number. Received: value={value!r}")
    _EPSILON = float(value)


def image_data_format() -> str:
    """The default image layout, "channels_last" (barenet's layers' default)."""
    return _IMAGE_DATA_FORMAT


def set_image_data_format(data_format: str) -> None:
    """Set the default image layout: "channels_last" or "channels_first"."""
    global _IMAGE_DATA_FORMAT
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError("`data_format` must be 'channels_last' or 'channels_first'. "
                         f"Received: data_format={data_format!r}")
    _IMAGE_DATA_FORMAT = data_format


def backend() -> str:
    """The name of the computing backend: always "numpy"."""
    return "numpy"

