"""Symbolic tensors: placeholders that record a graph instead of computing (functional API).

`Input(shape=(784,))` returns a `KerasTensor`: a shape (batch axis None) and a dtype,
no values. Calling a layer on one, or an op (`a + b`, `x[:, :10]`, `ops.concatenate`),
records a `Node` and returns new KerasTensors; `Model(inputs, outputs)` later replays
the nodes between them on real tensors. Output shapes come from the layer's
`compute_output_shape` (hand-derived layers) or from running the layer or op once on
small dummy inputs (everything else), so any op of the engine works symbolically.
"""

from __future__ import annotations

import functools

import numpy as np


class KerasTensor:
    """A symbolic tensor: `shape` (None for unknown sizes, always the batch axis) and `dtype`."""

    __array_priority__ = 1000  # `ndarray + KerasTensor` calls our __radd__
    _keras_mask = None  # a boolean KerasTensor (batch, steps) marking real steps (see layers.masking)

    def __init__(self, shape, dtype="float32", node=None, index: int = 0, name: str | None = None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = np.dtype(dtype)
        self.node = node  # the Node that produced it
        self.index = index  # which of the node's outputs it is
        self.name = name

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        made_by = f", made by {self.node.describe()}" if self.node is not None else ""
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}{made_by}>"

    def __bool__(self):
        raise TypeError("A symbolic tensor has no value to test with `if` or `and`. In a functional model use "
                        "ops.where; in a subclassed model's call() the inputs are real tensors.")

    def __hash__(self):
        return id(self)


class Node:
    """One recorded call: `operation(*args, **kwargs)` with KerasTensors among the arguments."""

    def __init__(self, operation, args=(), kwargs=None, outputs=()):
        self.operation = operation  # a Layer, or an engine op function
        self.args = tuple(args)
        self.kwargs = dict(kwargs or {})
        self.inputs = flatten_symbolic((self.args, self.kwargs))
        self.outputs = list(outputs)
        self.direct = False  # set by a model: replay may call the layer's graph node directly

    @property
    def is_layer(self) -> bool:
        return not callable(self.operation) or hasattr(self.operation, "built")

    def describe(self) -> str:
        if self.is_layer:
            return f"layer {self.operation.name or type(self.operation).__name__!r}"
        return f"op {self.operation.__name__!r}"


def flatten_symbolic(structure) -> list:
    """The KerasTensors in a nested structure of lists, tuples and dicts, in order."""
    found = []

    def visit(item):
        if isinstance(item, KerasTensor):
            found.append(item)
        elif isinstance(item, (list, tuple)):
            for element in item:
                visit(element)
        elif isinstance(item, dict):
            for element in item.values():
                visit(element)

    visit(structure)
    return found


def contains_symbolic(structure) -> bool:
    """Whether a (nested) argument structure holds a `KerasTensor`."""
    if isinstance(structure, KerasTensor):
        return True
    if isinstance(structure, (list, tuple)):
        return any(contains_symbolic(item) for item in structure)
    if isinstance(structure, dict):
        return any(contains_symbolic(item) for item in structure.values())
    return False


def substitute(structure, values: dict):
    """Replace every KerasTensor in `structure` by `values[id(tensor)]`."""
    if isinstance(structure, KerasTensor):
        return values[id(structure)]
    if isinstance(structure, list):
        return [substitute(item, values) for item in structure]
    if isinstance(structure, tuple):
        return tuple(substitute(item, values) for item in structure)
    if isinstance(structure, dict):
        return {key: substitute(item, values) for key, item in structure.items()}
    return structure


def flatten_outputs(structure) -> list:
    """A call's outputs (one tensor, or a list/tuple/dict of them) as a flat list."""
    if isinstance(structure, (list, tuple)):
        return [item for element in structure for item in flatten_outputs(element)]
    if isinstance(structure, dict):
        return [item for element in structure.values() for item in flatten_outputs(element)]
    return [structure]


def pack_like(structure, flat: list):
    """Inverse of `flatten_outputs`: rebuild `structure`'s nesting from `flat`."""
    items = iter(flat)

    def rebuild(template):
        if isinstance(template, list):
            return [rebuild(t) for t in template]
        if isinstance(template, tuple):
            return tuple(rebuild(t) for t in template)
        if isinstance(template, dict):
            return {key: rebuild(t) for key, t in template.items()}
        return next(items)

    return rebuild(structure)


# --- recording ----------------------------------------------------------------------------------
def symbolic_op(fn):
    """Make an engine op usable on symbolic tensors: there it records a graph node instead."""

    @functools.wraps(fn)
    def op(*args, **kwargs):
        if contains_symbolic(args) or contains_symbolic(kwargs):
            return record_op(fn, args, kwargs)
        return fn(*args, **kwargs)

    op.raw = fn
    return op


def record_op(fn, args, kwargs):
    """Record `fn(*args, **kwargs)` as a node; its output spec comes from a dummy run."""
    node = Node(fn, args, kwargs)
    return _finish(node, _probe(lambda a, k: fn(*a, **k), args, kwargs))


def call_symbolic(layer, args, kwargs):
    """Record a layer call on symbolic tensors (building the layer first if needed)."""
    from ..layers.base import CONTEXT
    from ..layers.masking_flow import attach_output_masks, fill_masks
    from ..seeding import context_generator

    inputs = args[0]
    if not layer.built:
        layer._maybe_build(_spec_shapes(inputs), CONTEXT.rng or context_generator(), _first_float_dtype(inputs))
    kwargs = fill_masks(layer, args, kwargs)  # masks the layer uses become recorded inputs of its node
    node = Node(layer, args, kwargs)
    specs = None
    if layer.is_hand_written and isinstance(inputs, KerasTensor):
        sample = inputs.shape[1:]
        if layer.input_shape is not None and tuple(sample) != tuple(layer.input_shape):
            raise ValueError(
                f"Layer {layer.name or type(layer).__name__!r} ({type(layer).__name__}) expects inputs of shape "
                f"{(None, *layer.input_shape)}. Received: a tensor of shape {inputs.shape}"
                + (f" (made by {inputs.node.describe()})." if inputs.node is not None else "."))
        specs = ((inputs.shape[0], *layer.output_shape), layer.dtype)
    if specs is None:
        specs = _probe(lambda a, k: layer(*a, **{**k, "training": False}), args, kwargs)
    outputs = _finish(node, specs)
    attach_output_masks(layer, args, kwargs, outputs)
    if layer.output_shape is None:  # a layer written with call(): record what the probe found
        shapes = [t.shape[1:] for t in flatten_symbolic(outputs)]
        layer.output_shape = shapes[0] if len(shapes) == 1 else shapes
    return outputs


def _finish(node: Node, specs):
    """Make the node's output KerasTensors from `specs`: (shape, dtype) or a structure of them."""
    def make(spec):
        tensor = KerasTensor(spec[0], spec[1], node=node, index=len(node.outputs))
        node.outputs.append(tensor)
        return tensor

    def build(spec):
        if _is_spec(spec):
            return make(spec)
        if isinstance(spec, list):
            return [build(s) for s in spec]
        if isinstance(spec, tuple):
            return tuple(build(s) for s in spec)
        if isinstance(spec, dict):
            return {key: build(s) for key, s in spec.items()}
        raise TypeError(f"{node.describe()} returned {type(spec).__name__}, not a tensor.")

    return build(specs)


def _is_spec(spec) -> bool:
    return (isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[1], np.dtype)
            and isinstance(spec[0], tuple))


def _spec_shapes(structure):
    if isinstance(structure, KerasTensor):
        return structure.shape
    if isinstance(structure, (list, tuple)):
        return [_spec_shapes(item) for item in structure]
    if isinstance(structure, dict):
        return {key: _spec_shapes(item) for key, item in structure.items()}
    return None


def _first_float_dtype(structure):
    for tensor in flatten_symbolic(structure):
        if tensor.dtype.kind == "f":
            return tensor.dtype
    return None


def _probe(run, args, kwargs):
    """Output specs of `run` from two dummy runs: unknown sizes set to 2, then to 3; the
    output sizes that change between the runs are unknown (None)."""
    from ..autodiff import Tensor, no_grad
    from ..layers.base import call_context

    outputs = []
    for size in (2, 3):
        def dummy(tensor):
            shape = tuple(size if d is None else d for d in tensor.shape)
            return Tensor(np.ones(shape, tensor.dtype))

        values = {id(t): dummy(t) for t in flatten_symbolic((args, kwargs))}
        with no_grad(), call_context(losses=[]), np.errstate(all="ignore"):
            result = run(substitute(args, values), substitute(kwargs, values))
        outputs.append(result)
    return _specs_from(outputs[0], outputs[1])


def _specs_from(first, second):
    from ..autodiff import Tensor

    if isinstance(first, (list, tuple)):
        return type(first)(_specs_from(a, b) for a, b in zip(first, second))
    if isinstance(first, dict):
        return {key: _specs_from(first[key], second[key]) for key in first}
    if not isinstance(first, (Tensor, np.ndarray)):
        raise TypeError(f"Expected a tensor as output. Received: {type(first).__name__}")
    shape = tuple(a if a == b else None for a, b in zip(np.shape(first), np.shape(second)))
    return shape, np.dtype(first.dtype)


def _install_operators():
    from ..autodiff import ops

    def binary(fn):
        def recorded(a, b):  # elementwise: a padded sequence's mask carries over (residual connections)
            return _same_mask(record_op(fn, (a, b), {}), a, b)
        return recorded

    def reflected(fn):
        return lambda a, b: record_op(fn, (b, a), {})

    for name, fn in (("add", ops.add), ("sub", ops.subtract), ("mul", ops.multiply), ("truediv", ops.divide),
                     ("pow", ops.power)):
        setattr(KerasTensor, f"__{name}__", binary(fn))
        setattr(KerasTensor, f"__r{name}__", reflected(fn))
    for name, fn in (("matmul", ops.matmul),):
        setattr(KerasTensor, f"__{name}__", binary(fn))
        setattr(KerasTensor, f"__r{name}__", reflected(fn))
    KerasTensor.__neg__ = lambda a: record_op(ops.negative, (a,), {})
    KerasTensor.__getitem__ = lambda a, index: record_op(ops.getitem, (a, index), {})
    KerasTensor.T = property(lambda a: record_op(ops.transpose, (a,), {}))
    for name, fn in (("lt", ops.less), ("le", ops.less_equal), ("gt", ops.greater), ("ge", ops.greater_equal)):
        setattr(KerasTensor, f"__{name}__", binary(fn))


def _same_mask(result, *operands):
    """Give `result` the first operand's `_keras_mask` when it keeps that operand's (batch, steps) axes."""
    for operand in operands:
        mask = getattr(operand, "_keras_mask", None)
        if mask is not None and isinstance(result, KerasTensor) and result.shape[:2] == operand.shape[:2]:
            result._keras_mask = mask
            break
    return result


_install_operators()
