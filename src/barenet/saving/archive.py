"""The zip model file: writing config.json and the arrays, and reading them back checked and bounded.

Turning a model into a config (`_model_config`, `_weights_index`) and rebuilding a model from
one (`_model_from_archive`, `_layer_from_spec`) are separate small functions, so other model
kinds can be added beside them.
"""

from __future__ import annotations

import io
import json
import math
import numbers
import zipfile
from pathlib import Path

import numpy as np

from .. import layers as layers_module, losses, optimizers
from .checks import (CONFIG_MEMBER, FORMAT_VERSION, MAX_CONFIG_BYTES, MAX_MEMBERS, MAX_NPY_HEADER_BYTES,
                     MAX_SAMPLE_ELEMENTS, MODEL_FORMAT, WEIGHTS_FORMAT, _ARRAY_KINDS, _BIT_GENERATORS,
                     ModelFileError, _barenet_version, _field, _is_int, _require)


# --- writing -------------------------------------------------------------------------------
def _model_config(model) -> tuple[dict, dict[str, np.ndarray]]:
    arrays: dict[str, np.ndarray] = {}
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
    config = {
        "format": MODEL_FORMAT,
        "format_version": FORMAT_VERSION,
        "barenet_version": _barenet_version(),
        "model": {
            "class_name": "Sequential",
            "config": {"name": model.name, "dtype": str(model.dtype), "seed": None if seed is None else int(seed),
                       "input_shape": list(model.input_shape) if model.built else None},
            "layers": layer_configs,
        },
        "weights": _weights_index(model, arrays) if model.built else None,
        "training": _training_config(model, arrays) if model.compiled else None,
        "rng_state": model.rng.bit_generator.state,
    }
    return config, arrays


def _weights_index(model, arrays: dict) -> list:
    index = []
    for layer in model.layers:
        index.append({
            "name": layer.name,
            "class_name": type(layer).__name__,
            "params": {key: _add_array(arrays, value) for key, value in layer.params.items()},
            "state": {key: _add_array(arrays, value) for key, value in layer.state.items()},
        })
    return index


def _training_config(model, arrays: dict) -> dict:
    loss = model.loss.get_config()
    try:
        restored = losses.get(loss)
    except ValueError:
        restored = None
    if type(restored) is not type(model.loss):
        raise ValueError(f"The loss {model.loss!r} is not a named barenet loss, so it cannot be saved.")
    state = model.optimizer.get_state()
    return {
        "optimizer": _serialize_optimizer(model.optimizer),
        "loss": loss,
        "metrics": list(model.metrics),
        "optimizer_state": {
            "iterations": int(state["iterations"]),
            "slots": {key: {name: _add_array(arrays, value) for name, value in slots.items()}
                      for key, slots in state["slots"].items()},
        },
    }


def _add_array(arrays: dict, value: np.ndarray) -> dict:
    value = np.asarray(value)
    member = f"arrays/{len(arrays)}.npy"
    arrays[member] = value
    return {"member": member, "shape": list(value.shape), "dtype": value.dtype.str}


def _write_zip(f, config: dict, arrays: dict[str, np.ndarray]) -> None:
    text = json.dumps(config, indent=1, default=_json_default, allow_nan=True)
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        # A fixed timestamp: the same model gives the same bytes.
        zf.writestr(zipfile.ZipInfo(CONFIG_MEMBER, date_time=(1980, 1, 1, 0, 0, 0)), text.encode("utf-8"))
        for member, value in arrays.items():
            with zf.open(zipfile.ZipInfo(member, date_time=(1980, 1, 1, 0, 0, 0)), "w", force_zip64=True) as handle:
                np.save(handle, np.ascontiguousarray(value), allow_pickle=False)


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray) and value.size <= 64:
        return value.tolist()
    raise TypeError(f"Cannot save a value of type {type(value).__name__} in a model config: {value!r}")


# --- reading: the zip container ---------------------------------------------------------------
class _Archive:
    """A zip opened for reading, with its members checked and reads bounded."""

    def __init__(self, zf: zipfile.ZipFile):
        self.zf = zf
        infos = zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise ModelFileError(f"it has {len(infos)} members; at most {MAX_MEMBERS} are allowed.")
        self.infos: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            if info.filename in self.infos:
                raise ModelFileError(f"member {info.filename!r} appears twice in the zip.")
            if info.flag_bits & 0x1:
                raise ModelFileError(f"member {info.filename!r} is encrypted.")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise ModelFileError(f"member {info.filename!r} uses an unsupported compression method "
                                     f"({info.compress_type}); expected stored or deflated.")
            self.infos[info.filename] = info
        self.used: set[str] = set()

    def read(self, member: str, max_bytes: int) -> bytes:
        info = self.infos.get(member)
        if info is None:
            raise ModelFileError(f"member {member!r} is missing from the zip.")
        if info.file_size > max_bytes:
            raise ModelFileError(f"member {member!r} is {info.file_size} bytes; at most {max_bytes} expected.")
        self.used.add(member)
        with self.zf.open(info) as handle:
            data = handle.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise ModelFileError(f"member {member!r} holds more than the {max_bytes} bytes expected.")
        return data

    def check_all_used(self) -> None:
        extra = sorted(set(self.infos) - self.used)
        if extra:
            raise ModelFileError(f"the zip has unexpected members: {', '.join(map(repr, extra[:5]))}.")


def _open_archive(path: Path, expected_formats: tuple[str, ...]):
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as error:
        raise ModelFileError(f"it is not a valid zip archive (truncated or corrupted?): {error}") from None
    try:
        archive = _Archive(zf)
        config = _read_config(archive, expected_formats)
    except BaseException:
        zf.close()
        raise
    return archive, config


def _read_config(archive: _Archive, expected_formats: tuple[str, ...]) -> dict:
    raw = archive.read(CONFIG_MEMBER, MAX_CONFIG_BYTES)
    try:
        config = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelFileError(f"{CONFIG_MEMBER} is not valid JSON: {error}") from None
    _require(isinstance(config, dict), f"{CONFIG_MEMBER} must hold a JSON object. Received: {type(config).__name__}")
    file_format = config.get("format")
    _require(file_format in expected_formats,
             f"{CONFIG_MEMBER} names format {file_format!r}; expected {' or '.join(map(repr, expected_formats))}.")
    version = config.get("format_version")
    _require(_is_int(version) and version >= 1,
             f"format_version must be a positive integer. Received: {version!r}")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"it was written in format version {version} (barenet {config.get('barenet_version')!r}); "
            f"this barenet ({_barenet_version()}) reads up to version {FORMAT_VERSION}. Upgrade barenet."
        )
    return config


def _read_array(archive: _Archive, entry, target: np.ndarray, where: str, cast: bool = False) -> np.ndarray:
    """Read the array `entry` points to and check it against `target` (shape, and dtype unless `cast`)."""
    _require(isinstance(entry, dict), f"{where}: expected an array entry object. Received: {entry!r:.80}")
    member, shape, dtype = entry.get("member"), entry.get("shape"), entry.get("dtype")
    _require(isinstance(member, str), f"{where}: 'member' must be a string. Received: {member!r:.80}")
    _require(isinstance(shape, list) and all(_is_int(d) and d >= 0 for d in shape),
             f"{where}: 'shape' must be a list of non-negative integers. Received: {shape!r:.80}")
    _require(tuple(shape) == target.shape,
             f"{where} has shape {tuple(shape)} in the file, but the model's array has shape {target.shape}.")
    _require(isinstance(dtype, str), f"{where}: 'dtype' must be a string. Received: {dtype!r:.80}")
    try:
        declared = np.dtype(dtype)
    except (TypeError, ValueError):
        raise ModelFileError(f"{where}: unknown dtype {dtype!r:.80}.") from None
    _require(declared.kind in _ARRAY_KINDS and declared.fields is None,
             f"{where}: dtype {dtype!r} is not a numeric dtype.")
    if cast:
        _require(declared.kind == target.dtype.kind or {declared.kind, target.dtype.kind} <= set("iu"),
                 f"{where} has dtype {declared} in the file; the model's array is {target.dtype}.")
    else:
        _require(declared == target.dtype,
                 f"{where} has dtype {declared} in the file, but the model's array is {target.dtype}.")
    nbytes = math.prod(shape) * declared.itemsize
    data = archive.read(member, nbytes + MAX_NPY_HEADER_BYTES)
    try:
        value = np.load(io.BytesIO(data), allow_pickle=False)
    except Exception as error:  # np.load raises several types for damaged data
        raise ModelFileError(f"{where}: member {member!r} is not a valid .npy array: {error}") from None
    _require(isinstance(value, np.ndarray) and value.shape == tuple(shape) and value.dtype == declared,
             f"{where}: member {member!r} holds {getattr(value, 'dtype', '?')} {getattr(value, 'shape', '?')}, "
             f"but the config says {declared} {tuple(shape)}.")
    return value


# --- reading: models ----------------------------------------------------------------------------
def _load_zip_model(path: Path):
    archive, config = _open_archive(path, (MODEL_FORMAT,))
    with archive.zf:
        return _model_from_archive(archive, config)


def _model_from_archive(archive: _Archive, config: dict):
    from ..model import Sequential

    spec = _field(config, "model", dict, "config")
    _require(spec.get("class_name") == "Sequential",
             f"model.class_name must be 'Sequential'. Received: {spec.get('class_name')!r:.80}")
    model_config = _field(spec, "config", dict, "model")
    dtype = model_config.get("dtype")
    _require(dtype in ("float32", "float64"), f"model.config.dtype must be 'float32' or 'float64'. Received: {dtype!r:.80}")
    seed = model_config.get("seed")
    _require(seed is None or (_is_int(seed) and seed >= 0), f"model.config.seed must be null or a non-negative integer. Received: {seed!r:.80}")
    name = model_config.get("name")
    _require(isinstance(name, str), f"model.config.name must be a string. Received: {name!r:.80}")
    model = Sequential(seed=seed, dtype=dtype, name=name)

    layer_specs = _field(spec, "layers", list, "model")
    _require(layer_specs, "model.layers is empty: a saved model has at least one layer.")
    for i, layer_spec in enumerate(layer_specs):
        layer = _layer_from_spec(layer_spec, i, model)
        try:
            model.add(layer)
        except (TypeError, ValueError) as error:
            raise ModelFileError(f"model.layers[{i}] cannot follow the layer before it: {error}") from None
    input_shape = model_config.get("input_shape")
    weights = config.get("weights")
    if weights is not None:
        _require(isinstance(input_shape, list) and input_shape,
                 "model.config.input_shape must be a non-empty list when weights are saved.")
        if not model.built:
            model.build(input_shape)
        _require(tuple(input_shape) == model.input_shape,
                 f"model.config.input_shape {input_shape} disagrees with the rebuilt model's {model.input_shape}.")
        values = _read_weights(archive, weights, model, cast=False)
    else:
        _require(not model.built, "the architecture declares input shapes but the file holds no weights.")
        values = []

    training = config.get("training")
    optimizer_state = None
    if training is not None:
        _require(isinstance(training, dict), f"'training' must be an object or null. Received: {training!r:.80}")
        optimizer = _deserialize_optimizer(training.get("optimizer"))
        loss = training.get("loss")
        _require(isinstance(loss, str), f"training.loss must be a loss name. Received: {loss!r:.80}")
        metric_names = _field(training, "metrics", list, "training")
        _require(all(isinstance(m, str) for m in metric_names), "training.metrics must be a list of metric names.")
        try:
            model.compile(optimizer=optimizer, loss=loss, metrics=metric_names)
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


def _layer_from_spec(layer_spec, i: int, model):
    where = f"model.layers[{i}]"
    _require(isinstance(layer_spec, dict), f"{where} must be an object. Received: {layer_spec!r:.80}")
    class_name = layer_spec.get("class_name")
    cls = layers_module.LAYERS.get(class_name) if isinstance(class_name, str) else None
    _require(cls is not None, f"{where} names an unknown layer type {class_name!r:.80}. "
                              f"Known: {', '.join(layers_module.LAYERS)}.")
    layer_config = _field(layer_spec, "config", dict, where)
    try:
        layer = cls.from_config(dict(layer_config))
    except (TypeError, ValueError) as error:
        raise ModelFileError(f"{where} ({class_name}) has an invalid config: {error}") from None
    # Refuse absurd sizes before building allocates them.
    previous = model.layers[-1].output_shape if model.layers else layer.input_shape
    if previous is not None:
        try:
            out_shape = layer.compute_output_shape(tuple(previous))
        except (TypeError, ValueError) as error:
            raise ModelFileError(f"{where} ({class_name}) does not fit its input {tuple(previous)}: {error}") from None
        _require(math.prod(out_shape) <= MAX_SAMPLE_ELEMENTS,
                 f"{where} ({class_name}) would output {out_shape} per sample, more than {MAX_SAMPLE_ELEMENTS} elements.")
    return layer


def _read_weights(archive: _Archive, weights, model, cast: bool) -> list:
    _require(isinstance(weights, list), f"'weights' must be a list of layer entries. Received: {weights!r:.80}")
    _require(len(weights) == len(model.layers),
             f"the file holds weights for {len(weights)} layers; the model has {len(model.layers)}.")
    values = []
    for i, (entry, layer) in enumerate(zip(weights, model.layers)):
        where = f"weights[{i}] (layer {layer.name!r})"
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
    _require(_is_int(iterations) and iterations >= 0,
             f"training.optimizer_state.iterations must be a non-negative integer. Received: {iterations!r:.80}")
    slots = _field(state, "slots", dict, "training.optimizer_state")
    params = {f"{layer.name}/{key}": value for layer in model.layers for key, value in layer.params.items()}
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
    return {"iterations": iterations, "slots": restored}


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
    with archive.zf:
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

