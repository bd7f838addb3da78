"""Model files for functional and subclassed models (Sequential ones are in `archive`).

A functional model is saved as its graph (`models.serialization.graph_config`): layer
classes by name from barenet's registry or from classes registered with
`register_keras_serializable`, and its nodes in order; loading replays the nodes on new
Inputs, checking each layer's size budget before it is built. A subclassed model is saved
as its registered class, its `get_config()` and the input shapes it was built for;
loading makes it from the config and builds it by calling it once on zeros. Either way
no code comes from the file: an unknown class is a `ModelFileError` naming it.
"""

from __future__ import annotations

import math

import numpy as np

from ..models.serialization import class_key, functional_from_config, graph_config, lookup_class
from .budgets import built_numbers, layer_numbers, without_random_init
from .checks import MAX_LAYERS, MAX_PARAMS, MAX_SAMPLE_ELEMENTS, ModelFileError, _require


def weight_owners(model) -> list:
    """`(name, layer)` for every entry of a file's weights list, in order.

    A Sequential model lists every layer (as files always have); other models list the
    layers holding weights or state, named by their path ("inner_model/dense").
    """
    from ..models import Sequential

    if isinstance(model, Sequential):
        return [(layer.name, layer) for layer in model.layers]
    return [(prefix[:-1], layer) for prefix, layer in model.weight_layers(with_prefix=True)]


def model_spec(model) -> dict:
    """The "model" entry of config.json for a functional or registered subclassed model."""
    from ..models import Functional

    common = {"name": model.name, "dtype": str(model.dtype), "seed": _seed(model)}
    if type(model) is Functional:
        return {"class_name": "Functional", "config": common, "graph": graph_config(model)}
    key = class_key(model)
    shapes = getattr(model, "_built_input_shapes", None)
    if shapes is None:
        raise ValueError(f"Model {model.name!r} has not been called yet, so its weights do not exist: call it on "
                         "data (or fit it) before saving.")
    return {"class_name": key, "config": {**common, "init": model.get_config()},
            "built_input_shapes": [list(shape) for shape in shapes]}


def model_from_spec(spec: dict, dtype, name, seed, with_weights: bool):
    """Rebuild a non-Sequential model from its "model" entry (raises ModelFileError)."""
    class_name = spec.get("class_name")
    try:
        if class_name == "Functional":
            graph = spec.get("graph")
            _require(isinstance(graph, dict), "model.graph must be an object.")
            _require(isinstance(graph.get("layers"), list) and len(graph["layers"]) <= MAX_LAYERS,
                     f"model.graph.layers must be a list of at most {MAX_LAYERS} layers.")
            with _checked_builds(with_weights):
                return functional_from_config(graph, dtype, name, seed)
        cls = lookup_class(class_name)
        config = spec.get("config")
        _require(isinstance(config, dict) and isinstance(config.get("init", {}), dict),
                 "model.config.init must be an object.")
        model = cls.from_config(dict(config.get("init", {})))
        model.name, model.seed = name, seed
        model.dtype = np.dtype(dtype)
        model.rng = np.random.default_rng(seed)
        shapes = spec.get("built_input_shapes")
        _require(isinstance(shapes, list) and shapes and all(
            isinstance(s, list) and all(isinstance(d, int) and 0 < d <= MAX_SAMPLE_ELEMENTS for d in s)
            for s in shapes), "model.built_input_shapes must list positive sample shapes.")
        _require(all(math.prod(s) <= MAX_SAMPLE_ELEMENTS for s in shapes), "model.built_input_shapes are too large.")
        zeros = [np.zeros((1, *shape), model.dtype) for shape in shapes]
        model.predict(zeros[0] if len(zeros) == 1 else zeros, verbose=0)
        return model
    except ModelFileError:
        raise
    except LookupError as error:
        raise ModelFileError(str(error).strip("'\"")) from None
    except (TypeError, ValueError, KeyError, IndexError) as error:
        raise ModelFileError(f"the model cannot be rebuilt from its config: {error}") from None


def _seed(model):
    seed = model.seed
    return int(seed) if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) else None


def _checked_builds(zero_filled: bool):
    """While a graph is replayed, check each hand-derived layer's size before it is built (and
    build it zero-filled when the file's weights follow)."""
    from ..layers.base import call_context

    total = [0]

    def hook(layer, input_shape, build):
        if not (layer.is_hand_written and isinstance(input_shape, tuple)):
            return build()
        sample = tuple(input_shape[1:])
        where = f"layer {layer.name!r} ({type(layer).__name__})"
        _require(all(isinstance(d, int) for d in sample), f"{where} has an unknown input size {sample}.")
        try:
            output = tuple(layer.compute_output_shape(sample))
        except (TypeError, ValueError) as error:
            raise ModelFileError(f"{where} does not fit its input {sample}: {error}") from None
        _require(math.prod(output) <= MAX_SAMPLE_ELEMENTS,
                 f"{where} would output {output} per sample, more than {MAX_SAMPLE_ELEMENTS} elements.")
        numbers = layer_numbers(layer, sample)
        total[0] += numbers
        _require(total[0] <= MAX_PARAMS, f"the layers up to {where} hold more than {MAX_PARAMS} numbers.")
        if zero_filled:
            with without_random_init(layer):
                build()
        else:
            build()
        _require(built_numbers(layer) == numbers,
                 f"{where} built {built_numbers(layer)} numbers where its config budget says {numbers}.")

    return call_context(build_hook=hook)
