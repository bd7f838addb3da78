"""A whole model's architecture as a JSON-ready config, and back: `get_config`/`from_config`,
`to_json`/`model_from_json`, and `clone_model` (same architecture, new weights).

    config = model.get_config()                      # plain Python values
    same = type(model).from_config(config)           # new layers, weights drawn afresh
    text = model.to_json()                           # {"class_name": ..., "config": ...}
    same = barenet.models.model_from_json(text)

The config holds no weights (save the model for those). Layer classes resolve through
barenet's registry or classes registered with `register_keras_serializable` (or passed as
`custom_objects`), never from names imported out of the text.
"""

from __future__ import annotations

import json

import numpy as np

from .serialization import (
    class_key,
    custom_object_scope,
    functional_from_config,
    graph_config,
    layer_config,
)


def sequential_config(model) -> dict:
    """`Sequential.get_config()`: name, dtype, seed, input shape and each layer's class and config."""
    seed = model.seed if isinstance(model.seed, (int, np.integer)) and not isinstance(model.seed, bool) else None
    config = {"name": model.name, "dtype": str(model.dtype), "seed": None if seed is None else int(seed),
              "input_shape": list(model.input_shape) if model.built and model.input_shape else None,
              "layers": [{"class_name": class_key(layer), "config": layer_config(layer)} for layer in model.layers]}
    if model._input_dtype(0).kind == "O":  # texts for a first TextVectorization
        config["input_dtype"] = "string"
    if not model.trainable:
        config["trainable"] = False
    return config


def sequential_from_config(cls, config: dict, build_layer=None):
    """A new `Sequential` (class `cls`) from `sequential_config`'s output; layers from `build_layer(entry)`."""
    from ..layers import Input
    from .serialization import _layer_from_entry

    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise TypeError(f"A Sequential config must be a dict with a 'layers' list. Received: {config!r:.200}")
    model = cls(name=config.get("name"), dtype=config.get("dtype"), seed=config.get("seed"))
    if config.get("input_shape") or config.get("input_dtype") == "string":
        model.add(Input(shape=tuple(config.get("input_shape") or ()), dtype=config.get("input_dtype")))
    for entry in config["layers"]:
        model.add((build_layer or _layer_from_entry)(entry))
    if config.get("trainable") is False:
        model.trainable = False
    return model


def functional_config(model) -> dict:
    """`Functional.get_config()`: name, dtype and the graph (layers and nodes)."""
    config = {"name": model.name, "dtype": str(model.dtype), "graph": graph_config(model)}
    if not model.trainable:
        config["trainable"] = False
    return config


def functional_from_dict(config: dict, build_layer=None):
    if not isinstance(config, dict) or not isinstance(config.get("graph"), dict):
        raise TypeError(f"A functional model's config must be a dict with a 'graph'. Received: {config!r:.200}")
    model = functional_from_config(config["graph"], config.get("dtype", "float32"), config.get("name"),
                                   build_layer=build_layer)
    if config.get("trainable") is False:
        model.trainable = False
    return model


def to_json(model, **kwargs) -> str:
    """`{"class_name": ..., "config": ...}` as a JSON string (`kwargs` go to `json.dumps`)."""
    return json.dumps({"class_name": class_key(model), "config": model.get_config()}, **kwargs)


def model_from_json(json_string: str, custom_objects: dict | None = None):
    """Rebuild a model (new weights) from `model.to_json()`.

    Args:
        json_string: What `to_json()` returned.
        custom_objects: Classes of custom layers or models by name (as `custom_object_scope`).
    """
    from .serialization import lookup_class

    try:
        data = json.loads(json_string)
    except (TypeError, ValueError) as error:
        raise ValueError(f"`json_string` is not valid JSON: {error}") from None
    if not isinstance(data, dict) or "class_name" not in data or not isinstance(data.get("config"), dict):
        raise ValueError("`json_string` must hold an object with 'class_name' and 'config' (from model.to_json()).")
    with custom_object_scope(custom_objects or {}):
        return lookup_class(data["class_name"]).from_config(data["config"])


def clone_model(model, input_tensors=None, clone_function=None):
    """A new model with `model`'s architecture and new weights drawn from the layers' initializers.

    Args:
        model: A `Sequential` or functional `Model` (a subclassed model is rebuilt from its
            `get_config()`, unbuilt).
        input_tensors: Not supported (pass None).
        clone_function: `f(layer) -> new layer` applied to every layer. Defaults to rebuilding
            each layer from its config.
    """
    from .functional import Functional
    from .sequential import Sequential

    if input_tensors is not None:
        raise ValueError("clone_model(input_tensors=...) is not supported; clone, then call the clone on them.")
    build = None if clone_function is None else _cloner(model, clone_function)
    if isinstance(model, Sequential):  # no seed: a seeded clone would repeat the original's first weights
        return sequential_from_config(type(model), {**sequential_config(model), "seed": None}, build)
    if type(model) is Functional:
        return functional_from_dict(functional_config(model), build)
    return type(model).from_config(model.get_config())


def _cloner(model, clone_function):
    """`build_layer(entry)` calling `clone_function` on the original layer (Input layers rebuilt as they are)."""
    from ..layers.input_layer import InputLayer
    from .serialization import _layer_from_entry

    by_name = {layer.name: layer for layer in model.layers}

    def build(entry):
        original = by_name.get(entry["config"].get("name"))
        if original is None or isinstance(original, InputLayer):
            return _layer_from_entry(entry)
        return clone_function(original)
    return build
