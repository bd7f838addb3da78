"""The blog's JSON model format: `{"model": "Sequential", "<layer name>": {"type": "FFL", ...}, ...}`.

The document level (the "model" key, layer order, file size, parsing); each layer's entry
is `blog_layers`' (FFL, Conv2d, Pool2d, Flatten, Dropout, Upsample, in the author's format).
"""

from __future__ import annotations

import json
import os

import numpy as np

from .archive import _assemble
from .atomic import atomic_write
from .blog_layers import MODEL_CLASSES, layer_entry, read_entry
from .budgets import check_layers
from .checks import (
    DEFAULT_SUFFIX,
    MAX_BLOG_JSON_BYTES,
    MAX_LAYERS,
    ModelFileError,
    _check_model,
    _check_path,
    _require,
)


def export_blog_json(model, path, model_class: str = "Sequential") -> None:
    """Write a model in the blog's JSON format, atomically, as its author's `save_model` does.

    Args:
        model: A built `Sequential`/`NN` of Dense/FFL, Conv2D/Conv2d, pooling (valid padding),
            Flatten, Dropout and UpSampling2D/Upsample layers.
        path: Target file.
        model_class: The file's "model" value, the class the author's loader builds:
            "Sequential" (the repository's `load_model`, which reads every layer type),
            "NN" (the MLP post's, FFL layers only) or "CNN" (the CNN post's). Defaults to
            "Sequential".

    Linear activations are written as "linear" (both of the author's loaders read it; they
    do not read null). A layer without biases gets zero biases and `"isbias": false`.

    Raises:
        ValueError: A layer has no equivalent in the author's code (named in the message),
            or `model_class` is not one of the three.
    """
    path = _check_path(path)
    _check_model(model)
    if model_class not in MODEL_CLASSES:
        raise ValueError(f"`model_class` must be one of {', '.join(map(repr, MODEL_CLASSES))}. "
                         f"Received: model_class={model_class!r}")
    if not model.built:
        raise RuntimeError("The model is not built, so it has no weights yet. Build it or fit it first.")
    document: dict = {"model": model_class}
    for layer in model.layers:
        if layer.name == "model":
            raise ValueError("The blog's JSON cannot hold a layer named 'model' (that key names the model class).")
        document[layer.name] = layer_entry(layer)
    data = json.dumps(document, allow_nan=True).encode("utf-8")
    atomic_write(path, lambda f: f.write(data))


# --- reading: the blog's JSON ---------------------------------------------------------------
def _import_blog_json(f, dtype):
    from ..models import Sequential

    # The size first: read(n) would reserve n bytes however small the file is.
    size = os.fstat(f.fileno()).st_size
    raw = f.read(size + 1) if size <= MAX_BLOG_JSON_BYTES else b""
    _require(size <= MAX_BLOG_JSON_BYTES and len(raw) <= MAX_BLOG_JSON_BYTES, f"the JSON file is larger than {MAX_BLOG_JSON_BYTES} bytes "
                                              f"(save big models in barenet's {DEFAULT_SUFFIX!r} format).")
    try:
        document = json.loads(raw.decode("utf-8"), object_pairs_hook=_json_object)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise ModelFileError(f"it is not valid JSON: {error}") from None
    del raw
    _require(isinstance(document, dict), f"the blog's JSON must be an object. Received: {type(document).__name__}")
    kind = document.get("model")
    _require(kind in MODEL_CLASSES, f"'model' must be one of {', '.join(map(repr, MODEL_CLASSES))} (the author's "
                                    f"stacking class). Received: {kind!r:.80}")
    layer_items = [(name, spec) for name, spec in document.items() if name != "model"]
    _require(layer_items, "it holds no layers.")
    _require(len(layer_items) <= MAX_LAYERS, f"it holds {len(layer_items)} layers; at most {MAX_LAYERS}.")
    model = Sequential(dtype=dtype)
    layers, shape = [], None
    for i, (name, spec) in enumerate(layer_items):
        layer, shape = read_entry(name, spec, shape, i == 0, model.dtype)
        layers.append(layer)
    plan = check_layers(layers, layers[0].input_shape, model.dtype.itemsize, None)
    _assemble(model, layers, plan)
    return model


def _json_object(pairs: list) -> dict:
    """A JSON object, refusing repeated keys (json.loads would keep the last one silently);
    number lists under "weights"/"biases" become arrays at once, so the lists of one layer
    are freed before the next layer is parsed."""
    document = {}
    for key, value in pairs:
        _require(key not in document, f"the key {key!r:.80} appears twice in one object (layer names must be unique).")
        if key in ("weights", "biases") and isinstance(value, list):
            try:
                value = np.array(value)
            except ValueError:  # ragged: _blog_array explains
                pass
        document[key] = value
    return document
