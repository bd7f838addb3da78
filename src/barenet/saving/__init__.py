"""Saving and loading models: one zip file, the blog's JSON, and weights alone.

A model file (suffix `.barenet` by convention; any suffix but `.json` works) is a
zip archive readable with nothing but the standard library and NumPy:

    config.json        format name and version, barenet version, the architecture
                       (layer class names from `barenet.layers.LAYERS` and their
                       configs), the compile settings (optimizer class and
                       hyperparameters, loss name, metric names), the optimizer's
                       iteration count, the model's random-generator state, and an
                       index of every array below (member, shape, dtype)
    arrays/<n>.npy     one NumPy array per member: layer parameters, layer state
                       (non-trainable arrays), optimizer slots

    model.save("model.barenet")                 # or model.save_model(...), the blog's name
    model = barenet.load_model("model.barenet") # compiled, ready to predict or keep training
    model.save_weights("w.weights.barenet") / model.load_weights(...)
    model.save_model()                          # the blog's JSON, "model.json" (the blog's default)
    barenet.load_model()                        # reads "model.json": a file the blog's author's code wrote

Loading a model file restores training exactly: train 2 epochs, save, load and
train 1 more gives the same weights, bit for bit, as 3 epochs straight, because
the optimizer's slots and step count and the model's generator state (which
drives shuffling) are saved too.

Safety. Arrays load with `allow_pickle=False`; layer and optimizer classes are
looked up in barenet's own registries by name, never imported from a name in
the file. Everything in a file is checked before a model is returned (zip
structure, members, JSON fields, known layer types, array shapes and dtypes
against the rebuilt model, optimizer slots, format version), and every problem
raises `ModelFileError` (a `ValueError`) saying what is wrong. Member sizes are
bounded, so a zip bomb cannot exhaust memory.

Writes are atomic: the file is written to a temporary file beside the target,
flushed and fsynced, then renamed over the target with `os.replace`; on any
error the temporary file is removed and a previous file at the target is left
untouched.

The package: `archive` (model <-> config and arrays), `container` (the zip itself), `budgets`
(sizes checked before building), `atomic` (atomic writes), `blog_json` and `blog_layers` (the blog's JSON),
`checks` (`ModelFileError`, the limits, field checks); this module is the public API.
"""

from __future__ import annotations

import os  # noqa: F401  (tests patch saving.os / saving.np)

import numpy as np  # noqa: F401

from .archive import _load_weights_zip, _load_zip_model, _model_config, _weights_index
from .container import _write_zip
from .atomic import atomic_write
from .blog_json import _import_blog_json, export_blog_json
from .checks import (CONFIG_MEMBER, DEFAULT_SUFFIX, FORMAT_VERSION, MAX_BLOG_JSON_BYTES,
                     MAX_CENTRAL_DIRECTORY_BYTES, MAX_CONFIG_BYTES, MAX_LAYERS, MAX_MEMBERS,
                     MAX_MODEL_SAMPLE_ELEMENTS, MAX_NPY_HEADER_BYTES, MAX_PARAMS, MAX_SAMPLE_ELEMENTS,
                     MODEL_FORMAT, WEIGHTS_FORMAT,
                     ModelFileError, _barenet_version, _check_model, _check_path, _guard, _open_regular, _read_head)
from ..models.serialization import (custom_object_scope, get_custom_objects,  # Keras: keras.saving names
                                    register_keras_serializable)


# --- public API --------------------------------------------------------------------------
def save_model(model, path="model.json", model_class: str = "Sequential") -> None:
    """Write `model` to `path`; the suffix picks the format.

    Args:
        model: A `Sequential`/`NN` with at least one layer. It need not be built or
            compiled for a zip file; what exists is saved (architecture always, weights
            once built, compile settings and optimizer state once compiled).
        path: Target file. Ending in `.json`: the blog's JSON, as its author's code writes
            it (see `export_blog_json`; weights and architecture only). Any other suffix
            (`.barenet` by convention, `.keras` too): barenet's zip model file. Defaults to
            "model.json", the blog's default.
        model_class: For `.json` only: the file's "model" value, "Sequential" (the author's
            repository loader), "NN" (the MLP post's) or "CNN" (the CNN post's). Defaults
            to "Sequential".

    The write is atomic: on any error the previous file at `path` is left intact.
    """
    path = _check_path(path)
    if path.suffix.lower() == ".json":
        export_blog_json(model, path, model_class)
        return
    if model_class != "Sequential":
        raise ValueError(f"`model_class` applies to the blog's JSON (a '.json' path) only. Received: "
                         f"model_class={model_class!r} with path {str(path)!r}")
    _check_model(model)
    config, arrays = _model_config(model)
    atomic_write(path, lambda f: _write_zip(f, config, arrays))


def load_model(path="model.json", dtype="float32", custom_objects: dict | None = None, compile: bool = True,
               safe_mode: bool = True):
    """Load a model saved by `save_model`, or a JSON file the blog's author's `save_model` wrote.

    Args:
        path: A barenet model file (zip) or the blog's JSON (detected from the content).
            Defaults to "model.json", the blog's default.
        dtype: Only for the blog's JSON, which stores float64 lists: the model's dtype.
            Defaults to "float32". A barenet model file keeps its own dtype.
        custom_objects: Custom layer or model classes by name, known while loading (Keras's argument).
        compile, safe_mode: Accepted for Keras compatibility: a saved model comes back compiled
            as it was saved, and barenet never runs code from a file.

    Returns:
        A new `Sequential`. From a barenet file it is compiled when the saved model was,
        with optimizer state and random-generator state restored; from the blog's JSON
        it is built and predicts at once, but is not compiled (the blog saves no training
        settings): call `compile_model()`/`compile()` before training it further.

    Raises:
        ModelFileError: The file is missing, unreadable, or not a valid model file.
    """
    path = _check_path(path)
    head = _read_head(path)
    if head.startswith(b"PK"):
        with custom_object_scope(custom_objects or {}):
            return _guard(path, lambda: _load_zip_model(path))
    if head.lstrip()[:1] == b"{":
        return import_blog_json(path, dtype=dtype)
    raise ModelFileError(
        f"Cannot load {str(path)!r}: it is neither a barenet model file (a zip archive) nor the "
        f"blog's JSON. It starts with {head[:8]!r}."
    )


def save_weights(model, path) -> None:
    """Write the model's weights (and layer state) alone to a zip file at `path`, atomically."""
    path = _check_path(path)
    _check_model(model)
    if not model.built:
        raise RuntimeError("The model is not built, so it has no weights yet. Build it or fit it first.")
    arrays: dict[str, np.ndarray] = {}
    config = {
        "format": WEIGHTS_FORMAT,
        "format_version": FORMAT_VERSION,
        "barenet_version": _barenet_version(),
        "weights": _weights_index(model, arrays),
    }
    atomic_write(path, lambda f: _write_zip(f, config, arrays))


def load_weights(model, path) -> None:
    """Set the model's weights from a weights file or a model file at `path`.

    Layers are matched by position; every layer's parameter names and shapes must
    match the model's (float arrays are cast to the model's dtype). Nothing
    changes unless the whole file checks out.

    Raises:
        RuntimeError: The model is not built.
        ModelFileError: The file is bad or does not fit the model.
    """
    path = _check_path(path)
    _check_model(model)
    if not model.built:
        raise RuntimeError("Build the model (model.build(input_shape), or give the first layer an "
                           "input_shape) before load_weights().")
    _guard(path, lambda: _load_weights_zip(model, path))


def import_blog_json(path, dtype="float32"):
    """Build an (uncompiled) model from a JSON file written by the blog's `save_model`.

    Layers are taken in file order; the entries are the author's (see `saving.blog_layers`):
    FFL (or Dense), Conv2d, Pool2d, Flatten, Dropout, Upsample. The first layer needs its
    `input_shape`; every stated `input_shape`/`output_shape` must chain with what the layers
    compute; FFL and Conv2d need their `weights` (and `biases` when `isbias` is true).
    `parameters` is ignored (the author's counts are off for layers without biases).

    Raises:
        ModelFileError: The file is not valid blog JSON: an unknown layer type, missing
            weights, shapes that do not chain, ... (the message names the layer).
    """
    path = _check_path(path)

    def load():
        with _open_regular(path) as f:
            return _import_blog_json(f, dtype)

    return _guard(path, load)



__all__ = ["ModelFileError", "save_model", "load_model", "save_weights", "load_weights", "register_keras_serializable",
           "get_custom_objects", "custom_object_scope",
           "export_blog_json", "import_blog_json", "FORMAT_VERSION", "DEFAULT_SUFFIX"]
