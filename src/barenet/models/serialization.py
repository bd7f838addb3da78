"""Models as JSON-ready configs and back: the graph of a functional model, registered custom classes.

A functional model's config lists its layers (class name and constructor config, from
barenet's registry or classes registered with `register_keras_serializable`) and its
nodes in topological order. A node names its layer (or engine op) and its arguments,
where a symbolic tensor is written `{"tensor": [node, output]}`. Loading rebuilds the
layers and replays the nodes on new `Input`s, so no code is ever taken from a file:
op names resolve to functions of `barenet.autodiff.ops` only.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..autodiff import ops as engine_ops
from ..autodiff.symbolic import KerasTensor, flatten_outputs, record_op
from ..layers import LAYERS
from ..layers.base import Layer
from ..layers.input_layer import InputLayer

_CUSTOM_OBJECTS: dict[str, type] = {}
MAX_CONSTANT_ELEMENTS = 4096  # arrays written inline into a node's arguments


def register_keras_serializable(package: str = "Custom", name: str | None = None):
    """Class decorator: let saved models that use this custom layer or model class load again.

    Use as `@register_keras_serializable()` above `class MyLayer(Layer)`; the class must
    define `get_config()` returning its constructor arguments if it takes any.
    """
    def register(cls):
        key = f"{package}>{name or cls.__name__}"
        _CUSTOM_OBJECTS[key] = cls
        cls._registered_name = key
        return cls
    return register


def get_custom_objects() -> dict:
    """The live registry of custom classes by name (Keras's `get_custom_objects()`): adding
    `get_custom_objects()["MyLayer"] = MyLayer` lets saved models and JSON configs use it."""
    return _CUSTOM_OBJECTS


class custom_object_scope:
    """`with custom_object_scope({"MyLayer": MyLayer}):` - classes known by name inside the block only.

    Args:
        custom_objects: A dict of name -> class (several dicts may be given).
    """

    def __init__(self, *custom_objects: dict):
        self.objects = {}
        for objects in custom_objects:
            if not isinstance(objects, dict):
                raise TypeError(f"`custom_objects` must be a dict of name -> class. Received: {objects!r:.80}")
            self.objects.update(objects)

    def __enter__(self):
        self.saved = dict(_CUSTOM_OBJECTS)
        _CUSTOM_OBJECTS.update(self.objects)
        return self

    def __exit__(self, *exc):
        _CUSTOM_OBJECTS.clear()
        _CUSTOM_OBJECTS.update(self.saved)


def class_key(obj) -> str:
    """The name a saved file uses for `obj`'s class (raises if it could not be loaded again)."""
    cls = type(obj)
    if LAYERS.get(cls.__name__) is cls or cls is InputLayer:
        return cls.__name__
    from .functional import Functional
    from .sequential import Sequential
    if cls in (Functional, Sequential):
        return cls.__name__
    registered = getattr(cls, "_registered_name", None)
    if registered and _CUSTOM_OBJECTS.get(registered) is cls:
        return registered
    for key, value in _CUSTOM_OBJECTS.items():  # added through get_custom_objects() or a scope
        if value is cls:
            return key
    raise ValueError(f"{cls.__name__} (layer or model {getattr(obj, 'name', '')!r}) is not a barenet class and is not "
                     "registered, so a saved file could not rebuild it. Decorate the class with "
                     "@barenet.saving.register_keras_serializable().")


def lookup_class(key):
    """The class a saved name stands for, from barenet's registry or the registered custom classes."""
    from .functional import Functional
    from .sequential import Sequential
    known = {**LAYERS, "InputLayer": InputLayer, "Functional": Functional, "Sequential": Sequential}
    if isinstance(key, str) and key in known:
        return known[key]
    if isinstance(key, str) and key in _CUSTOM_OBJECTS:
        return _CUSTOM_OBJECTS[key]
    raise LookupError(f"unknown layer or model class {key!r:.80}: not a barenet class and not registered with "
                      "barenet.saving.register_keras_serializable() in this program")


# --- functional graphs -------------------------------------------------------------------------------
def graph_config(model) -> dict:
    """The JSON-ready description of a functional model's graph (see the module docstring)."""
    refs: dict[int, list] = {}
    nodes = []
    for i, tensor in enumerate(model.inputs):
        nodes.append({"layer": tensor.node.operation.name, "args": [], "kwargs": {"dict": {}}})
        refs[id(tensor)] = [i, 0]
    for node in model._nodes:
        index = len(nodes)
        if node.is_layer:
            entry = {"layer": node.operation.name}
        else:
            name = node.operation.__name__
            if getattr(engine_ops, name, None) is not node.operation:
                raise ValueError(f"The op {name!r} in model {model.name!r} is not an op of barenet.autodiff.ops, so a "
                                 "saved file could not rebuild it.")
            entry = {"op": name}
        entry["args"] = _encode(list(node.args), refs)
        entry["kwargs"] = _encode(dict(node.kwargs), refs)
        nodes.append(entry)
        for j, tensor in enumerate(node.outputs):
            refs[id(tensor)] = [index, j]
    layers = [{"class_name": class_key(layer), "config": layer_config(layer)} for layer in model.layers]
    outputs = model._output_structure
    return {"layers": layers, "nodes": nodes, "inputs": [refs[id(t)] for t in model.inputs],
            "input_keys": model._input_keys, "inputs_are_list": model._inputs_are_list,
            "outputs": _encode(outputs, refs)}


def layer_config(layer) -> dict:
    from .functional import Functional
    if type(layer) is Functional:
        return {"name": layer.name, "dtype": str(layer.dtype), "graph": graph_config(layer)}
    return layer.get_config()


def _encode(value, refs):
    if isinstance(value, KerasTensor):
        return {"tensor": refs[id(value)]}
    if isinstance(value, dict):
        return {"dict": {str(k): _encode(v, refs) for k, v in value.items()}}
    if isinstance(value, tuple):
        return {"tuple": [_encode(v, refs) for v in value]}
    if isinstance(value, list):
        return [_encode(v, refs) for v in value]
    if isinstance(value, slice):
        return {"slice": [value.start, value.stop, value.step]}
    if value is Ellipsis:
        return {"ellipsis": True}
    if isinstance(value, np.ndarray) or hasattr(value, "value") and isinstance(getattr(value, "value"), np.ndarray):
        array = np.asarray(getattr(value, "value", value))
        if array.size > MAX_CONSTANT_ELEMENTS or array.dtype.kind not in "biuf":
            raise ValueError(f"A constant of shape {array.shape} in the graph is too large to save inline.")
        return {"array": array.tolist(), "dtype": array.dtype.str}
    if value is None or isinstance(value, (bool, str)) or isinstance(value, numbers.Number):
        return value.item() if isinstance(value, np.generic) else value
    raise ValueError(f"Cannot save a graph argument of type {type(value).__name__}.")


def functional_from_config(config: dict, dtype, name, seed=None, build_layer=None):
    """Rebuild a functional model from `graph_config`'s output (raises ValueError/TypeError/LookupError)."""
    from ..layers.base import call_context
    from .functional import Functional

    if not isinstance(config, dict):
        raise TypeError("the graph config must be an object")
    build_layer = build_layer or _layer_from_entry
    layers = {}
    for entry in _as_list(config.get("layers"), "layers"):
        layer = build_layer(entry)
        if layer.name in layers:
            raise ValueError(f"two layers are named {layer.name!r}")
        layers[layer.name] = layer
    tensors: list[list] = []
    with call_context(dtype=np.dtype(dtype)):
        for i, node in enumerate(_as_list(config.get("nodes"), "nodes")):
            if not isinstance(node, dict):
                raise TypeError(f"nodes[{i}] must be an object")
            args = _decode(node.get("args", []), tensors)
            kwargs = _decode(node.get("kwargs", {"dict": {}}), tensors)
            if not isinstance(args, list) or not isinstance(kwargs, dict):
                raise TypeError(f"nodes[{i}] has malformed arguments")
            if "layer" in node:
                layer = layers.get(node["layer"])
                if layer is None:
                    raise ValueError(f"nodes[{i}] names an unknown layer {node['layer']!r:.80}")
                result = layer.output if isinstance(layer, InputLayer) else layer(*args, **kwargs)
            else:
                fn = getattr(engine_ops, str(node.get("op")), None)
                if fn is None or not callable(fn) or str(node.get("op")).startswith("_"):
                    raise ValueError(f"nodes[{i}] names an unknown op {node.get('op')!r:.80}")
                result = record_op(fn, tuple(args), kwargs)
            tensors.append(flatten_outputs(result))
    inputs = [_tensor_ref(ref, tensors) for ref in _as_list(config.get("inputs"), "inputs")]
    keys = config.get("input_keys")
    if keys is not None:
        inputs = dict(zip(keys, inputs))
    elif not config.get("inputs_are_list") and len(inputs) == 1:
        inputs = inputs[0]
    outputs = _decode(config.get("outputs"), tensors)
    return Functional(inputs, outputs, name=name, seed=seed, dtype=dtype)


def _layer_from_entry(entry) -> Layer:
    if not isinstance(entry, dict):
        raise TypeError("each layer entry must be an object")
    cls = lookup_class(entry.get("class_name"))
    config = entry.get("config")
    if not isinstance(config, dict):
        raise TypeError(f"the config of a {entry.get('class_name')} layer must be an object")
    if "graph" in config:
        return functional_from_config(config["graph"], config.get("dtype", "float32"), config.get("name"))
    return cls.from_config(dict(config))


def _decode(value, tensors):
    if isinstance(value, list):
        return [_decode(v, tensors) for v in value]
    if isinstance(value, dict):
        if "tensor" in value:
            return _tensor_ref(value["tensor"], tensors)
        if "dict" in value:
            return {k: _decode(v, tensors) for k, v in value["dict"].items()}
        if "tuple" in value:
            return tuple(_decode(v, tensors) for v in value["tuple"])
        if "slice" in value:
            return slice(*value["slice"])
        if "ellipsis" in value:
            return Ellipsis
        if "array" in value:
            return np.asarray(value["array"], dtype=np.dtype(value["dtype"]))
        raise ValueError(f"unknown argument encoding {sorted(value)[:3]}")
    return value


def _tensor_ref(ref, tensors):
    if not (isinstance(ref, list) and len(ref) == 2 and all(isinstance(i, int) and not isinstance(i, bool)
                                                             for i in ref)):
        raise ValueError(f"a tensor reference must be [node, output]. Received: {ref!r:.80}")
    node, output = ref
    if not (0 <= node < len(tensors) and 0 <= output < len(tensors[node])):
        raise ValueError(f"the tensor reference {ref} points past the nodes read so far")
    return tensors[node][output]


def _as_list(value, what):
    if not isinstance(value, list):
        raise TypeError(f"`{what}` must be a list")
    return value
