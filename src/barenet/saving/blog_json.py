"""The blog's JSON model format: `{"model": "NN", "<layer name>": {"type": "FFL", ...}}`, Dense/FFL only."""

from __future__ import annotations

import json
import os

import numpy as np

from .. import activations, layers as layers_module
from .atomic import atomic_write
from .archive import _assemble
from .budgets import check_layers
from .checks import (DEFAULT_SUFFIX, MAX_BLOG_JSON_BYTES, MAX_LAYERS, MAX_SAMPLE_ELEMENTS, ModelFileError,
                     _check_model, _check_path, _is_int, _require)


def export_blog_json(model, path) -> None:
    """Write a Dense/FFL-only model to the blog's JSON format, atomically.

    Produces `{"model": "NN", "<layer name>": {"type": "FFL", "name", "isbias", "neurons",
    "input_shape", "output_shape", "weights", "biases", "activation", "parameters"}}` as the
    blog's `save_model` does, with linear activations written as `null` and a layer
    without biases as `"biases": null`. The blog's own loader knows only relu, sigmoid,
    tanh and softmax; barenet's `load_model` reads any barenet activation name back.
    """
    path = _check_path(path)
    _check_model(model)
    if not model.built:
        raise RuntimeError("The model is not built, so it has no weights yet. Build it or fit it first.")
    document: dict = {"model": "NN"}
    for layer in model.layers:
        if not isinstance(layer, layers_module.Dense):
            raise ValueError(
                f"The blog's JSON holds only FFL/Dense layers. Received: layer {layer.name!r} of type "
                f"{type(layer).__name__}. Save with a {DEFAULT_SUFFIX!r} suffix instead."
            )
        if layer.name == "model":
            raise ValueError("The blog's JSON cannot hold a layer named 'model' (that key names the model class).")
        activation = layer.activation.get_config()
        document[layer.name] = {
            "type": "FFL",
            "name": layer.name,
            "isbias": layer.use_bias,
            "neurons": layer.units,
            "input_shape": layer.input_shape[0],
            "output_shape": layer.units,
            "weights": layer.params["weights"].tolist(),
            "biases": layer.params["biases"].tolist() if layer.use_bias else None,
            "activation": None if activation == "linear" else activation,
            "parameters": layer.count_params(),
        }
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
    _require(kind in ("NN", "Sequential"), f"'model' must be 'NN' (the blog's model class). Received: {kind!r:.80}")
    layer_items = [(name, spec) for name, spec in document.items() if name != "model"]
    _require(layer_items, "it holds no layers.")
    _require(len(layer_items) <= MAX_LAYERS, f"it holds {len(layer_items)} layers; at most {MAX_LAYERS}.")
    model = Sequential(dtype=dtype)
    layers, previous_units = [], None
    for name, spec in layer_items:
        where = f"layer {name!r:.80}"
        _require(isinstance(spec, dict), f"{where} must be an object.")
        _require(spec.get("type") in ("FFL", "Dense"),
                 f"{where} has type {spec.get('type')!r:.80}; barenet reads FFL layers from the blog's JSON.")
        units, inputs = spec.get("neurons"), spec.get("input_shape")
        if isinstance(inputs, list) and len(inputs) == 1:
            inputs = inputs[0]
        if inputs is None:
            inputs = previous_units
        _require(_is_int(units) and 1 <= units <= MAX_SAMPLE_ELEMENTS,
                 f"{where}: 'neurons' must be a positive integer. Received: {units!r:.80}")
        _require(_is_int(inputs) and 1 <= inputs <= MAX_SAMPLE_ELEMENTS,
                 f"{where}: 'input_shape' must be a positive integer. Received: {inputs!r:.80}")
        _require(previous_units is None or inputs == previous_units,
                 f"{where} takes {inputs} inputs but the previous layer has {previous_units} neurons.")
        if "output_shape" in spec and spec["output_shape"] is not None:
            _require(spec["output_shape"] in (units, [units]),
                     f"{where}: output_shape {spec['output_shape']!r:.80} disagrees with neurons={units}.")
        use_bias = spec.get("isbias", True)
        _require(isinstance(use_bias, bool), f"{where}: 'isbias' must be true or false. Received: {use_bias!r:.80}")
        activation = spec.get("activation")
        _require(activation is None or (isinstance(activation, str) and activation.lower() in activations.ACTIVATIONS),
                 f"{where}: unknown activation {activation!r:.80}. Expected null or one of: "
                 f"{', '.join(activations.ACTIVATIONS)}.")
        weights = _blog_array(spec.get("weights"), (inputs, units), f"{where} weights", model.dtype)
        biases = _blog_array(spec.get("biases"), (units,), f"{where} biases", model.dtype) if use_bias else None
        layers.append(layers_module.FFL(input_shape=inputs if previous_units is None else None, neurons=units,
                                        activation=activation, is_bias=use_bias, weights=weights, bias=biases,
                                        name=name))
        previous_units = units
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


def _blog_array(value, shape: tuple, where: str, dtype: np.dtype) -> np.ndarray:
    _require(isinstance(value, (list, np.ndarray)),
             f"{where} must be a (nested) list of numbers. Received: {type(value).__name__}")
    try:
        array = np.array(value)
    except ValueError as error:
        raise ModelFileError(f"{where} is not a rectangular list of numbers: {error}") from None
    _require(array.dtype.kind in "iuf",
             f"{where} must hold numbers only. Received: values of dtype {array.dtype}")
    _require(array.shape == shape, f"{where} must have shape {shape}. Received: {array.shape}")
    with np.errstate(over="ignore"):
        array = array.astype(dtype)
    _require(np.isfinite(array).all(), f"{where} holds NaN or infinite values (or values beyond {dtype}'s range).")
    return array
