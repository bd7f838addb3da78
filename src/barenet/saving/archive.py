"""A model as a zip model file: its config and arrays out, and a checked model back (see `container`
for the zip itself and `budgets` for the sizes checked before anything is built).

Turning a model into a config (`_model_config`, `_weights_index`) and rebuilding a model from
one (`_model_from_archive`, `_layer_from_spec`) are separate small functions, so other model
kinds can be added beside them.
"""

from __future__ import annotations

import math
import numbers
from pathlib import Path

import numpy as np

from .. import layers as layers_module
from .. import losses, optimizers
from ..layers.base import snake_case
from ..models.compile_args import metric_names_for_saving
from .budgets import built_numbers, check_layers, without_random_init
from .checks import (
    _BIT_GENERATORS,
    FORMAT_VERSION,
    MAX_LAYERS,
    MODEL_FORMAT,
    WEIGHTS_FORMAT,
    ModelFileError,
    _barenet_version,
    _field,
    _is_int,
    _require,
)
from .container import _Archive, _open_archive, _read_array
from .graphs import model_from_spec, model_spec, weight_owners


# --- writing -------------------------------------------------------------------------------
def _model_config(model) -> tuple[dict, dict[str, np.ndarray]]:
    from ..models import Sequential

    arrays: dict[str, np.ndarray] = {}
    config = {
        "format": MODEL_FORMAT,
        "format_version": FORMAT_VERSION,
        "barenet_version": _barenet_version(),
        "model": _sequential_spec(model) if isinstance(model, Sequential) else model_spec(model),
        "weights": _weights_index(model, arrays) if model.built else None,
        "training": _training_config(model, arrays) if model.compiled else None,
        "rng_state": model.rng.bit_generator.state,
    }
    return config, arrays


def _sequential_spec(model) -> dict:
    layer_configs = []
    for layer in model.layers:
        class_name = type(layer).__name__
        if layers_module.LAYERS.get(class_name) is not type(layer):
            raise ValueError(
                f"Layer {layer.name!r} of type {class_name} is not in barenet.layers.LAYERS, so a "
                "saved file could not rebuild it. Register the class there under its name."
            )
        layer_configs.append({"class_name": class_name, "config": layer.get_config()})
    seed = model.seed if isinstance(model.seed, numbers.Integral) and not isinstance(model.seed, bool) else None
    config = {"name": model.name, "dtype": str(model.dtype), "seed": None if seed is None else int(seed),
              "input_shape": list(model.input_shape) if model.built else None}
    if model._input_dtype(0).kind == "O":  # texts for a first TextVectorization
        config["input_dtype"] = "string"
    return {"class_name": "Sequential", "config": config, "layers": layer_configs}


def _weights_index(model, arrays: dict) -> list:
    index = []
    for name, layer in weight_owners(model):
        index.append({
            "name": name,
            "class_name": type(layer).__name__,
            "params": {key: _add_array(arrays, value) for key, value in layer.params.items()},
            "state": {key: _add_array(arrays, value) for key, value in layer.state.items()},
        })
    return index


def _training_config(model, arrays: dict) -> dict:
    names = [_loss_name(loss) for loss in model.compiled_loss]
    state = model.optimizer.get_state()
    scalars = {key: float(value) for key, value in state.items() if key not in ("iterations", "slots")}
    return {
        "optimizer": _serialize_optimizer(model.optimizer),
        "loss": names[0] if len(names) == 1 else names,
        "metrics": metric_names_for_saving(model._metric_specs[0]),
        **({} if all(w == 1 for w in model.loss_weights_list) else {"loss_weights": model.loss_weights_list}),
        "optimizer_state": {
            "iterations": int(state["iterations"]),
            "slots": {key: {name: _add_array(arrays, value) for name, value in slots.items()}
                      for key, slots in state["slots"].items()},
            # Numbers derived from the step count (Nadam's "u_product"): saved, never recomputed.
            **({"scalars": scalars} if scalars else {}),
        },
    }


def _loss_name(loss):
    return None if loss is None else losses.serialize(loss)


def _add_array(arrays: dict, value: np.ndarray) -> dict:
    value = np.asarray(value)
    member = f"arrays/{len(arrays)}.npy"
    arrays[member] = value
    return {"member": member, "shape": list(value.shape), "dtype": value.dtype.str}


# --- reading: models ----------------------------------------------------------------------------
def _load_zip_model(path: Path):
    archive, config = _open_archive(path, (MODEL_FORMAT,))
    with archive.zf, archive.zf.fp:
        return _model_from_archive(archive, config)


def _model_from_archive(archive: _Archive, config: dict):
    from ..models import Sequential

    spec = _field(config, "model", dict, "config")
    model_config = _field(spec, "config", dict, "model")
    dtype = model_config.get("dtype")
    _require(dtype in ("float32", "float64"), f"model.config.dtype must be 'float32' or 'float64'. Received: {dtype!r:.80}")
    seed = model_config.get("seed")
    _require(seed is None or (_is_int(seed) and seed >= 0), f"model.config.seed must be null or a non-negative integer. Received: {seed!r:.80}")
    name = model_config.get("name")
    _require(isinstance(name, str), f"model.config.name must be a string. Received: {name!r:.80}")
    if spec.get("class_name") != "Sequential":
        model = model_from_spec(spec, dtype, name, seed, with_weights=config.get("weights") is not None)
        values = _read_weights(archive, _field(config, "weights", list, "config"), model, cast=False)
        return _finish_loading(archive, config, model, values)
    model = Sequential(seed=seed, dtype=dtype, name=name)

    layer_specs = _field(spec, "layers", list, "model")
    _require(layer_specs, "model.layers is empty: a saved model has at least one layer.")
    _require(len(layer_specs) <= MAX_LAYERS, f"model.layers holds {len(layer_specs)} layers; at most {MAX_LAYERS}.")
    layers = _unique_names([_layer_from_spec(layer_spec, i) for i, layer_spec in enumerate(layer_specs)])
    weights = config.get("weights")
    if weights is not None:
        input_shape = model_config.get("input_shape")
        input_dtype = model_config.get("input_dtype")
        _require(input_dtype in (None, "string"), f"model.config.input_dtype must be null or 'string'. "
                                                  f"Received: {input_dtype!r:.80}")
        _require(isinstance(input_shape, list) and (input_shape or input_dtype == "string")
                 and all(_is_int(d) and d > 0 for d in input_shape),
                 f"model.config.input_shape must be a list of positive integers when weights are saved. "
                 f"Received: {input_shape!r:.80}")
        _require(layers[0].input_shape is None or layers[0].input_shape == tuple(input_shape),
                 f"model.config.input_shape {input_shape} disagrees with the first layer's {layers[0].input_shape}.")
        plan = check_layers(layers, input_shape, np.dtype(dtype).itemsize, archive.array_bytes)
        _assemble(model, layers, plan, input_dtype)
        values = _read_weights(archive, weights, model, cast=False)
    else:
        _require(layers[0].input_shape is None, "the architecture declares input shapes but the file holds no weights.")
        _assemble(model, layers, None)
        values = []
    return _finish_loading(archive, config, model, values)


def _finish_loading(archive: _Archive, config: dict, model, values: list):
    """Compile the rebuilt model as saved, check the rest of the file, then fill in the arrays."""
    training = config.get("training")
    optimizer_state = None
    if training is not None:
        _require(isinstance(training, dict), f"'training' must be an object or null. Received: {training!r:.80}")
        optimizer = _deserialize_optimizer(training.get("optimizer"))
        loss = training.get("loss")
        _require(isinstance(loss, (str, dict)) or (isinstance(loss, list) and all(isinstance(n, (str, dict, type(None)))
                                                                               for n in loss)),
                 f"training.loss must be a loss name or config, or a list of them. Received: {loss!r:.80}")
        metric_names = _field(training, "metrics", list, "training")
        _require(all(isinstance(m, (str, dict)) or (isinstance(m, list) and all(isinstance(n, (str, dict)) for n in m))
                     for m in metric_names), "training.metrics must be a list of metric names or configs.")
        loss_weights = training.get("loss_weights")
        try:
            model.compile(optimizer=optimizer, loss=loss, metrics=metric_names, loss_weights=loss_weights)
        except (TypeError, ValueError) as error:
            raise ModelFileError(f"the training settings are invalid: {error}") from None
        optimizer_state = _read_optimizer_state(archive, training.get("optimizer_state"), model)

    rng_state = config.get("rng_state")
    _check_rng_state(rng_state, model.rng)
    archive.check_all_used()

    # Everything checked: now fill the new model.
    for target, value in values:
        target[...] = value
    if optimizer_state is not None:
        model.optimizer.set_state(optimizer_state)
    model.rng.bit_generator.state = rng_state
    return model


def _layer_from_spec(layer_spec, i: int):
    """An unbuilt layer from its saved `{"class_name", "config"}` (nothing allocated yet)."""
    where = f"model.layers[{i}]"
    _require(isinstance(layer_spec, dict), f"{where} must be an object. Received: {layer_spec!r:.80}")
    class_name = layer_spec.get("class_name")
    cls = layers_module.LAYERS.get(class_name) if isinstance(class_name, str) else None
    _require(cls is not None, f"{where} names an unknown layer type {class_name!r:.80}. "
                              f"Known: {', '.join(layers_module.LAYERS)}.")
    layer_config = _field(layer_spec, "config", dict, where)
    try:
        return cls.from_config(dict(layer_config))
    except (TypeError, ValueError) as error:
        raise ModelFileError(f"{where} ({class_name}) has an invalid config: {error}") from None


def _unique_names(layers: list) -> list:
    """Refuse duplicate names and name unnamed layers as `Sequential.add` would, with one set (O(n))."""
    taken = set()
    for i, layer in enumerate(layers):
        if layer.name is not None:
            _require(isinstance(layer.name, str) and layer.name not in taken,
                     f"model.layers[{i}] repeats the layer name {layer.name!r:.80}: names must be unique.")
            taken.add(layer.name)
    for layer in layers:
        if layer.name is None:
            base = name = snake_case(type(layer).__name__)
            suffix = 0
            while name in taken:
                suffix += 1
                name = f"{base}_{suffix}"
            layer.name = name
            taken.add(name)
    return layers


def _assemble(model, layers: list, plan: list | None, input_dtype: str | None = None) -> None:
    """Put checked layers into `model` as `Sequential.add` would, building them (zero-filled, the
    file's weights come next) when `plan` gives their input shapes.

    Not `add` itself: it scans every earlier layer's name, which makes loading n layers
    take O(n^2) time; names were checked with a set in `_unique_names`.
    """
    from ..layers import Input

    if plan is not None:
        model.add(Input(shape=plan[0][0], dtype=input_dtype))
    for i, layer in enumerate(layers):
        if plan is None:
            model.add(layer)
            continue
        with without_random_init(layer):
            model.add(layer)
        _require(built_numbers(layer) == plan[i][1],
                 f"model.layers[{i}] ({type(layer).__name__}) built {built_numbers(layer)} numbers where its "
                 f"config budget says {plan[i][1]}.")


def _read_weights(archive: _Archive, weights, model, cast: bool) -> list:
    _require(isinstance(weights, list), f"'weights' must be a list of layer entries. Received: {weights!r:.80}")
    owners = weight_owners(model)
    _require(len(weights) == len(owners),
             f"the file holds weights for {len(weights)} layers; the model has {len(owners)}.")
    values = []
    for i, (entry, (name, layer)) in enumerate(zip(weights, owners)):
        where = f"weights[{i}] (layer {name!r})"
        _require(isinstance(entry, dict), f"{where} must be an object.")
        for group, targets in (("params", layer.params), ("state", layer.state)):
            saved = _field(entry, group, dict, where)
            _require(set(saved) == set(targets),
                     f"{where} has {group} {sorted(saved)}; the model's layer has {sorted(targets)}.")
            for key, target in targets.items():
                values.append((target, _read_array(archive, saved[key], target, f"{where} {group} {key!r}", cast)))
    return values


def _read_optimizer_state(archive: _Archive, state, model) -> dict:
    _require(isinstance(state, dict), f"training.optimizer_state must be an object. Received: {state!r:.80}")
    iterations = state.get("iterations")
    _require(_is_int(iterations) and 0 <= iterations < 2**63,
             f"training.optimizer_state.iterations must be an integer in [0, 2**63). Received: {iterations!r:.80}")
    scalars = state.get("scalars", {})
    known = set(model.optimizer.get_state()) - {"iterations", "slots"}
    _require(isinstance(scalars, dict) and set(scalars) <= known
             and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                     for v in scalars.values()),
             f"training.optimizer_state.scalars must map {sorted(known) or 'nothing'} to finite numbers. "
             f"Received: {scalars!r:.80}")
    slots = _field(state, "slots", dict, "training.optimizer_state")
    params = {f"{name}/{key}": value for name, layer in weight_owners(model) for key, value in layer.params.items()}
    restored = {}
    for key, saved in slots.items():
        where = f"optimizer slot {key!r}"
        _require(key in params, f"{where} names no parameter of the model. Known: {', '.join(params)}.")
        _require(isinstance(saved, dict), f"{where} must be an object.")
        expected = model.optimizer.init_slots(params[key])
        _require(set(saved) == set(expected),
                 f"{where} has slots {sorted(saved)}; {type(model.optimizer).__name__} keeps {sorted(expected)}.")
        restored[key] = {name: _read_array(archive, saved[name], expected[name], f"{where}/{name}")
                         for name in expected}
    return {"iterations": iterations, "slots": restored, **scalars}


def _check_rng_state(state, rng: np.random.Generator) -> None:
    _require(isinstance(state, dict), f"'rng_state' must be an object. Received: {state!r:.80}")
    name = state.get("bit_generator")
    _require(name in _BIT_GENERATORS and name == type(rng.bit_generator).__name__,
             f"rng_state.bit_generator must be {type(rng.bit_generator).__name__!r}. Received: {name!r:.80}")
    probe = np.random.Generator(type(rng.bit_generator)())
    try:
        probe.bit_generator.state = state
    except (TypeError, ValueError, KeyError, OverflowError) as error:
        raise ModelFileError(f"rng_state is not a valid {name} state: {error!r}") from None


def _load_weights_zip(model, path: Path) -> None:
    archive, config = _open_archive(path, (WEIGHTS_FORMAT, MODEL_FORMAT))
    with archive.zf, archive.zf.fp:
        weights = config.get("weights")
        _require(weights is not None, "the file holds no weights (the model was saved before it was built).")
        values = _read_weights(archive, weights, model, cast=True)
        if config.get("format") == WEIGHTS_FORMAT:  # a model file also holds optimizer slots
            archive.check_all_used()
    for target, value in values:
        target[...] = value


# --- optimizers ---------------------------------------------------------------------------------
def _serialize_optimizer(optimizer) -> dict:
    serialize = getattr(optimizers, "serialize", None)
    if serialize is not None:
        return serialize(optimizer)
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def _deserialize_optimizer(spec):
    _require(isinstance(spec, dict), f"training.optimizer must be an object. Received: {spec!r:.80}")
    deserialize = getattr(optimizers, "deserialize", None)
    try:
        if deserialize is not None:
            return deserialize(spec)
        class_name, config = spec.get("class_name"), spec.get("config")
        classes = {cls.__name__: cls for cls in optimizers.OPTIMIZERS.values()}
        _require(isinstance(class_name, str) and class_name in classes,
                 f"training.optimizer names an unknown optimizer {class_name!r:.80}. Known: {', '.join(classes)}.")
        _require(isinstance(config, dict), "training.optimizer.config must be an object.")
        return classes[class_name](**config)
    except (TypeError, ValueError, KeyError) as error:
        if isinstance(error, ModelFileError):
            raise
        raise ModelFileError(f"training.optimizer is invalid: {error}") from None

