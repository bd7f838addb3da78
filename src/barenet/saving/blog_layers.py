"""One layer of the blog's JSON, both ways: a barenet layer <-> the entry its author's code writes.

The author's `save_model` writes, for every layer, the attributes it keeps in `vars(layer)`
among a fixed list, keyed by the layer's name. Per type (shapes are one sample's; a 1-D
shape is written as a bare int):

    FFL       neurons, input_shape, output_shape, weights (inputs, neurons), biases (neurons,),
              activation, isbias, parameters
    Conv2d    filters, kernel_size [kh, kw, channels, filters], stride [sh, sw],
              padding "zero" (one pixel of zeros) | null (none), input_shape [h, w, c],
              output_shape [oh, ow, filters], weights (kh, kw, c, filters), biases (filters, 1),
              activation, isbias, parameters
    Pool2d    kernel_size [ph, pw], stride [sh, sw], kind "max" | "average" | "min", padding null
    Flatten   input_shape, output_shape
    Dropout   prob (the fraction dropped in training), input_shape, output_shape
    Upsample  kernel_size [rows, cols] (each pixel repeated into a block), stride

Layers without weights carry `"weights": 0.0`, `"isbias": false`, `"activation": null`,
`"parameters": 0`, as the author's do. The layouts are barenet's own (channels-last images,
kernels `(kh, kw, in, out)`, the same flatten order), so weights copy over unchanged.

The author's forward pass adds a layer's biases whatever its `isbias` says (a Conv2d
without bias still adds the random ones it drew), so a file's non-zero biases are read
as biases; a layer without them is written with zero biases, which the author's loader
then adds harmlessly (it would otherwise keep random ones).
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import activations
from .. import layers as L
from ..layers.pooling import KINDS, _Pooling2D
from .checks import MAX_SAMPLE_ELEMENTS, ModelFileError, _require

MODEL_CLASSES = ("Sequential", "NN", "CNN")  # the repository's loader, the MLP post's, the CNN post's
LAYER_TYPES = ("FFL", "Dense", "Conv2d", "Pool2d", "Flatten", "Dropout", "Upsample")
_ZERO_PAD = ((3, 3), (1, 1))  # the only kernel and stride where one pixel of zeros is "same"


# --- writing -----------------------------------------------------------------------------------
def layer_entry(layer) -> dict:
    """The author's entry for a built barenet layer, or a ValueError naming what has no equivalent."""
    where = f"Layer {layer.name!r} ({type(layer).__name__})"
    entry = {"type": None, "name": layer.name, "isbias": False, "input_shape": _shape_value(layer.input_shape),
             "output_shape": _shape_value(layer.output_shape), "activation": None, "parameters": layer.count_params(),
             "weights": 0.0}
    if isinstance(layer, L.Dense):
        entry.update(type="FFL", neurons=layer.units, **_kernel_entries(layer, (layer.units,)))
    elif isinstance(layer, L.Conv2D):
        if layer.padding == "same" and (layer.kernel_size, layer.strides) != _ZERO_PAD:
            raise ValueError(f"{where} cannot be written to the blog's JSON: the author's Conv2d pads one pixel "
                             f"of zeros or none, and padding='same' with kernel_size={layer.kernel_size}, "
                             f"strides={layer.strides} pads otherwise. Use padding='valid' (or a 3x3 kernel at "
                             f"stride 1), or save with a '.barenet' suffix.")
        channels = layer.input_shape[2]
        entry.update(type="Conv2d", filters=layer.filters, kernel_size=[*layer.kernel_size, channels, layer.filters],
                     stride=list(layer.strides), padding="zero" if layer.padding == "same" else None,
                     **_kernel_entries(layer, (layer.filters, 1)))
    elif isinstance(layer, _Pooling2D):
        if layer.padding != "valid":
            raise ValueError(f"{where} cannot be written to the blog's JSON: the author's Pool2d does not pad. "
                             f"Received: padding={layer.padding!r}. Use padding='valid', or a '.barenet' suffix.")
        entry.update(type="Pool2d", kernel_size=list(layer.pool_size), stride=list(layer.strides), kind=layer.kind,
                     padding=None)
    elif isinstance(layer, L.Flatten):
        entry.update(type="Flatten")
    elif isinstance(layer, L.Dropout):
        entry.update(type="Dropout", prob=layer.rate)
    elif isinstance(layer, L.UpSampling2D):
        entry.update(type="Upsample", kernel_size=list(layer.size), stride=list(layer.size))
    else:  # like the refusals above: the model's contents are wrong, not an argument's type
        raise ValueError(  # noqa: TRY004
            f"{where} cannot be written to the blog's JSON, which holds the author's FFL, Conv2d, Pool2d, "
            f"Flatten, Dropout and Upsample layers only (Dense, Conv2D, pooling, Flatten, Dropout, UpSampling2D). "
            f"Save with a '.barenet' suffix instead.")
    return entry


def _kernel_entries(layer, bias_shape: tuple) -> dict:
    activation = layer.activation.get_config()
    if not isinstance(activation, str):
        raise ValueError(  # noqa: TRY004 - the model's contents are wrong, not an argument's type
            f"Layer {layer.name!r} cannot be written to the blog's JSON, which stores an activation by "
            f"its name: its {activation['class_name']} has arguments ({activation['config']}) that the "
            "name would lose. Save with a '.barenet' suffix instead.")
    biases = layer.params["biases"] if layer.use_bias else np.zeros(bias_shape[0], layer.dtype)
    return {"isbias": layer.use_bias, "activation": activation,
            "weights": layer.params["weights"].tolist(), "biases": biases.reshape(bias_shape).tolist()}


def _shape_value(shape):
    return shape[0] if len(shape) == 1 else list(shape)


# --- reading -----------------------------------------------------------------------------------
def read_entry(name: str, spec, shape: tuple | None, first: bool, dtype: np.dtype):
    """An unbuilt barenet layer for the file's entry, and the sample shape it outputs.

    `shape` is what the layer before outputs (None for the first layer, which must then
    declare its `input_shape`). Every problem raises `ModelFileError` naming the layer.
    """
    where = f"layer {name!r:.80}"
    _require(isinstance(spec, dict), f"{where} must be an object.")
    kind = spec.get("type")
    _require(kind in LAYER_TYPES, f"{where} has unknown type {kind!r:.80}. Expected one of: {', '.join(LAYER_TYPES)}.")
    declared = spec.get("input_shape")
    if declared is not None:
        declared = _shape(declared, f"{where}: 'input_shape'")
        _require(shape is None or declared == shape,
                 f"{where} takes input_shape {declared} but the layer before outputs {shape}: the shapes do not chain.")
    shape = shape if shape is not None else declared
    _require(shape is not None, f"{where} is the first layer and needs an 'input_shape'.")
    layer = _READERS[kind](spec, where, shape, dtype, shape if first else None, name)
    try:
        output = tuple(layer.compute_output_shape(shape))
    except ValueError as error:
        raise ModelFileError(f"{where} does not fit its input {shape}: {error}") from None
    stated = spec.get("output_shape")
    if stated is not None:
        _require(_shape(stated, f"{where}: 'output_shape'") == output,
                 f"{where}: output_shape {stated!r:.80} disagrees with {output}, what its input {shape} and "
                 f"settings give: the shapes do not chain.")
    return layer, output


def _read_ffl(spec, where, shape, dtype, input_shape, name):
    units = _count(spec.get("neurons"), f"{where}: 'neurons'")
    _require(len(shape) == 1, f"{where} (FFL) takes flat inputs, but the layer before outputs {shape}: "
                              "the shapes do not chain (a Flatten is missing).")
    weights = _array(spec, "weights", (shape[0], units), where, dtype)
    use_bias, biases = _biases(spec, (units,), where, dtype)
    return L.FFL(input_shape=input_shape, neurons=units, activation=_activation(spec, where), is_bias=use_bias,
                 weights=weights, bias=biases, name=name)


def _read_conv(spec, where, shape, dtype, input_shape, name):
    filters = _count(spec.get("filters"), f"{where}: 'filters'")
    _require(len(shape) == 3, f"{where} (Conv2d) takes images (height, width, channels), but the layer before "
                              f"outputs {shape}: the shapes do not chain.")
    kernel = _ints(spec.get("kernel_size"), (2, 4), f"{where}: 'kernel_size'")
    _require(len(kernel) == 2 or tuple(kernel[2:]) == (shape[2], filters),
             f"{where}: kernel_size {kernel} must end with the input's channels and the filters "
             f"({shape[2]}, {filters}).")
    kernel = tuple(kernel[:2])
    stride = (1, 1) if spec.get("stride") is None else tuple(_ints(spec["stride"], (2,), f"{where}: 'stride'"))
    padding = spec.get("padding")
    if padding == "zero":
        _require((kernel, stride) == _ZERO_PAD,
                 f"{where}: padding 'zero' pads one pixel in the author's code, which barenet's 'same' matches only "
                 f"for a 3x3 kernel at stride 1. Received: kernel_size={kernel}, stride={stride}.")
    else:
        _require(padding is None, f"{where}: padding {padding!r:.80} is not readable (the author's 'same' repeats "
                                  "the edge pixels, which barenet does not do). Expected 'zero' or null.")
    weights = _array(spec, "weights", (*kernel, shape[2], filters), where, dtype)
    use_bias, biases = _biases(spec, (filters,), where, dtype)
    return L.Conv2d(input_shape=input_shape, filters=filters, kernel_size=kernel, isbias=use_bias,
                    activation=_activation(spec, where), stride=stride, padding=padding, kernel=weights, bias=biases,
                    name=name)


def _read_pool(spec, where, shape, dtype, input_shape, name):
    kernel = tuple(_ints(spec.get("kernel_size"), (2,), f"{where}: 'kernel_size'"))
    stride = None if spec.get("stride") is None else tuple(_ints(spec["stride"], (2,), f"{where}: 'stride'"))
    kind = spec.get("kind", "max")
    _require(kind in KINDS, f"{where}: 'kind' must be one of {', '.join(KINDS)}. Received: {kind!r:.80}")
    _require(spec.get("padding") is None, f"{where}: the author's Pool2d never pads; padding must be null. "
                                          f"Received: {spec.get('padding')!r:.80}")
    return L.Pool2d(kernel_size=kernel, stride=stride, kind=kind, input_shape=input_shape, name=name)


def _read_flatten(spec, where, shape, dtype, input_shape, name):
    return L.Flatten(input_shape=input_shape, name=name)


def _read_dropout(spec, where, shape, dtype, input_shape, name):
    prob = spec.get("prob", 0.5)
    _require(isinstance(prob, numbers.Real) and not isinstance(prob, bool) and 0 <= prob < 1,
             f"{where}: 'prob' must be a number in [0, 1). Received: {prob!r:.80}")
    return L.Dropout(rate=float(prob), input_shape=input_shape, name=name)


def _read_upsample(spec, where, shape, dtype, input_shape, name):
    kernel = tuple(_ints(spec.get("kernel_size", [2, 2]), (2,), f"{where}: 'kernel_size'"))
    return L.Upsample(kernel_size=kernel, input_shape=input_shape, name=name)


_READERS = {"FFL": _read_ffl, "Dense": _read_ffl, "Conv2d": _read_conv, "Pool2d": _read_pool,
            "Flatten": _read_flatten, "Dropout": _read_dropout, "Upsample": _read_upsample}


# --- field checks ------------------------------------------------------------------------------
def _count(value, where: str) -> int:
    """A positive integer (an integral float too: the author's code writes some counts as floats)."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and value == int(value) \
        and 1 <= value <= MAX_SAMPLE_ELEMENTS
    _require(ok, f"{where} must be a positive integer. Received: {value!r:.80}")
    return int(value)


def _ints(value, lengths: tuple, where: str) -> list:
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        value = [value, value]
    _require(isinstance(value, (list, np.ndarray)) and len(value) in lengths,
             f"{where} must be a list of {' or '.join(map(str, lengths))} positive integers. Received: {value!r:.80}")
    return [_count(v, where) for v in value]


def _shape(value, where: str) -> tuple:
    return (_count(value, where),) if isinstance(value, numbers.Real) else tuple(_ints(value, (1, 2, 3), where))


def _activation(spec, where: str):
    name = spec.get("activation")
    _require(name is None or (isinstance(name, str) and name.lower() in activations.ACTIVATIONS),
             f"{where}: unknown activation {name!r:.80}. Expected null or one of: {', '.join(activations.ACTIVATIONS)}.")
    return name


def _array(spec, key: str, shape: tuple, where: str, dtype) -> np.ndarray:
    value = spec.get(key)
    _require(isinstance(value, (list, np.ndarray)),
             f"{where}: '{key}' must be a (nested) list of numbers of shape {shape}; the weights are missing. "
             f"Received: {type(value).__name__}")
    return blog_array(value, shape, f"{where} {key}", dtype)


def _biases(spec, shape: tuple, where: str, dtype):
    """(use_bias, biases or None). The author's forward pass adds whatever biases the layer holds."""
    use_bias = spec.get("isbias", True)
    _require(isinstance(use_bias, bool), f"{where}: 'isbias' must be true or false. Received: {use_bias!r:.80}")
    value = spec.get("biases")
    if value is None or (isinstance(value, numbers.Real) and not isinstance(value, bool) and value == 0):
        _require(not use_bias, f"{where}: isbias is true but its 'biases' are missing.")
        return False, None
    value = np.asarray(value) if isinstance(value, (list, np.ndarray)) else value
    if isinstance(value, np.ndarray) and value.shape == (*shape, 1):  # the author's Conv2d: (filters, 1)
        value = value.reshape(shape)
    biases = _array({"biases": value}, "biases", shape, where, dtype)
    if not use_bias and not biases.any():
        return False, None
    return True, biases


def blog_array(value, shape: tuple, where: str, dtype: np.dtype) -> np.ndarray:
    """`value` as an array of `shape` in `dtype`: numbers only, finite after the cast."""
    try:
        array = np.array(value)
    except ValueError as error:
        raise ModelFileError(f"{where} is not a rectangular list of numbers: {error}") from None
    _require(array.dtype.kind in "iuf", f"{where} must hold numbers only. Received: values of dtype {array.dtype}")
    _require(array.shape == shape, f"{where} must have shape {shape}. Received: {array.shape}")
    with np.errstate(over="ignore"):
        array = array.astype(dtype)
    _require(np.isfinite(array).all(), f"{where} holds NaN or infinite values (or values beyond {dtype}'s range).")
    return array
