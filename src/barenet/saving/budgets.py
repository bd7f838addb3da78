"""Budgets a model file must fit before anything is built or parsed in full.

- The zip's end-of-central-directory record is read first: its member count and
  directory size are bounded before `zipfile` parses the directory.
- Every layer's output size and parameter count are computed from its config alone,
  and the model's totals checked against the limits in `checks` and against the bytes
  the file's own arrays can hold, before a single parameter array is allocated.
"""

from __future__ import annotations

import contextlib
import math
import struct

from .. import initializers, layers as layers_module
from .checks import (MAX_CENTRAL_DIRECTORY_BYTES, MAX_MEMBERS, MAX_MODEL_SAMPLE_ELEMENTS, MAX_PARAMS,
                     MAX_SAMPLE_ELEMENTS, ModelFileError, _require)

_END_RECORD = struct.Struct("<4s4H2LH")       # end of central directory
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_END_RECORD = struct.Struct("<4sQ2H2L4Q")


def check_central_directory(f) -> None:
    """Refuse a zip whose directory declares more than `MAX_MEMBERS` entries or more than
    `MAX_CENTRAL_DIRECTORY_BYTES`, reading only its last 64 KiB (and the zip64 record)."""
    size = f.seek(0, 2)
    tail_size = min(size, _END_RECORD.size + 0xFFFF)
    f.seek(size - tail_size)
    tail = f.read(tail_size)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _END_RECORD.size:
        return  # no end record: zipfile reports the damage
    _, _, _, _, entries, directory_bytes, offset, _ = _END_RECORD.unpack_from(tail, at)
    if (entries == 0xFFFF or directory_bytes == 0xFFFFFFFF or offset == 0xFFFFFFFF) and at >= _ZIP64_LOCATOR.size:
        signature, _, record_offset, _ = _ZIP64_LOCATOR.unpack_from(tail, at - _ZIP64_LOCATOR.size)
        if signature == b"PK\x06\x07" and record_offset + _ZIP64_END_RECORD.size <= size:
            f.seek(record_offset)
            record = f.read(_ZIP64_END_RECORD.size)
            if record[:4] == b"PK\x06\x06":
                fields = _ZIP64_END_RECORD.unpack(record)
                entries, directory_bytes = fields[7], fields[8]
    _require(entries <= MAX_MEMBERS, f"its directory lists {entries} members; at most {MAX_MEMBERS} are allowed.")
    _require(directory_bytes <= MAX_CENTRAL_DIRECTORY_BYTES,
             f"its directory is {directory_bytes} bytes; at most {MAX_CENTRAL_DIRECTORY_BYTES} are allowed.")
    f.seek(0)


def check_layers(layers: list, input_shape, itemsize: int, available_bytes: int | None) -> list:
    """Walk the unbuilt `layers` from `input_shape`; return each layer's (input shape, numbers it holds).

    Refuses, naming the layer, an output above `MAX_SAMPLE_ELEMENTS` per sample, totals
    above `MAX_MODEL_SAMPLE_ELEMENTS` or `MAX_PARAMS`, and parameters that need more bytes
    than `available_bytes` (what the file's arrays hold; None when nothing will be loaded).
    """
    shape = tuple(input_shape)
    plan, params, outputs = [], 0, 0
    for i, layer in enumerate(layers):
        where = f"model.layers[{i}] ({type(layer).__name__})"
        _require(i == 0 or layer.input_shape is None or tuple(layer.input_shape) == shape,
                 f"{where} declares input_shape={layer.input_shape} but the layer before outputs {shape}.")
        try:
            output = tuple(layer.compute_output_shape(shape))
        except (TypeError, ValueError) as error:
            raise ModelFileError(f"{where} does not fit its input {shape}: {error}") from None
        size = math.prod(output)
        _require(size <= MAX_SAMPLE_ELEMENTS,
                 f"{where} would output {output} per sample, more than {MAX_SAMPLE_ELEMENTS} elements.")
        numbers = layer_numbers(layer, shape)
        _require(numbers <= MAX_PARAMS, f"{where} would hold {numbers} parameters, more than {MAX_PARAMS}.")
        params, outputs = params + numbers, outputs + size
        _require(params <= MAX_PARAMS, f"the layers up to {where} hold {params} parameters, more than {MAX_PARAMS}.")
        _require(outputs <= MAX_MODEL_SAMPLE_ELEMENTS, f"the layers up to {where} output {outputs} elements "
                                                       f"per sample, more than {MAX_MODEL_SAMPLE_ELEMENTS}.")
        plan.append((shape, numbers))
        shape = output
    if available_bytes is not None:
        _require(params * itemsize <= available_bytes,
                 f"its layers need {params * itemsize} bytes of parameters; its arrays hold at most {available_bytes}.")
    return plan


def layer_numbers(layer, input_shape: tuple) -> int:
    """Numbers in the `params` and `state` that `layer.build(input_shape)` would allocate.

    Known for every layer in `barenet.layers.LAYERS`; a new layer with weights needs a
    line here (loading checks the count after building and refuses a mismatch).
    """
    if isinstance(layer, layers_module.TimeDistributed):
        return layer_numbers(layer.layer, tuple(input_shape[1:]))
    if isinstance(layer, layers_module.Bidirectional):
        return layer_numbers(layer.forward_layer, input_shape) + layer_numbers(layer.backward_layer, input_shape)
    if isinstance(layer, layers_module.Dense):
        return (input_shape[-1] + layer.use_bias) * layer.units
    if isinstance(layer, layers_module.Conv1D):
        return (layer.kernel_size * input_shape[-1] + layer.use_bias) * layer.filters
    if isinstance(layer, (layers_module.Conv1DTranspose, layers_module.Conv2DTranspose)):
        return (math.prod(layer._kernel[2 - layer.rank:]) * input_shape[-1] + layer.use_bias) * layer.filters
    if isinstance(layer, (layers_module.SimpleRNN, layers_module.LSTM, layers_module.GRU)):
        width = layer.gates * layer.units
        return (input_shape[-1] + layer.units) * width + (math.prod(layer._bias_shape()) if layer.use_bias else 0)
    if isinstance(layer, layers_module.Embedding):
        return layer.input_dim * layer.output_dim
    if isinstance(layer, layers_module.LayerNormalization):
        normalized = math.prod(input_shape[a - 1] for a in layer._axes(tuple(input_shape)))
        return (layer.scale + layer.center) * normalized
    if isinstance(layer, layers_module.Conv2D):
        return (math.prod(layer.kernel_size) * input_shape[-1] + layer.use_bias) * layer.filters
    if isinstance(layer, layers_module.BatchNormalization):
        return (2 + layer.scale + layer.center) * input_shape[-1]
    if isinstance(layer, layers_module.Normalization):  # adapted mean and variance
        return 0 if layer.input_mean is not None else 2 * math.prod(layer._stats_shape(tuple(input_shape)))
    return 0


def built_numbers(layer) -> int:
    return int(sum(value.size for value in layer.params.values()) + sum(value.size for value in layer.state.values()))


@contextlib.contextmanager
def without_random_init(layer):
    """Build `layer` with zero-filled weights: they are about to be overwritten by the file's."""
    saved = {name: getattr(layer, name) for name in ("kernel_initializer", "bias_initializer") if hasattr(layer, name)}
    for name in saved:
        setattr(layer, name, initializers.zeros)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(layer, name, value)
