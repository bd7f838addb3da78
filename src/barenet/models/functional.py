"""`Functional`: a model that is a graph of layer calls and ops between `Input`s and outputs.

    x = Input(shape=(784,))
    h = Dense(64, activation="relu")(x)
    y = Dense(10, activation="softmax")(h + Dense(64)(x))   # ops on symbolic tensors become nodes
    model = Model(inputs=x, outputs=y)

The constructor walks back from the outputs to the inputs once and keeps the nodes in
topological order; running the model replays them on real tensors, so the engine
records the same graph for backward. A layer called twice shares its weights and
receives the sum of both gradients. Hand-derived layers that only feed one another
(all of a Sequential model's, usually) are replayed as one graph node
(`autodiff.function.chain_node`): the same forward and backward calls, less
bookkeeping between them.
"""

from __future__ import annotations

import numpy as np

from ..autodiff import Tensor
from ..autodiff.function import chain_node, layer_node
from ..layers.base import add_activity_penalty, call_context, snake_case
from ..layers.input_layer import InputLayer
from .model import Model, unique_name
from .summary import activation_name, layer_total
from ..autodiff.symbolic import KerasTensor, flatten_outputs, pack_like, substitute


class Functional(Model):
    """A graph model; build it as `Model(inputs=..., outputs=...)` (see the module docstring).

    Args:
        inputs: An `Input` tensor, a list of them, or a dict by name.
        outputs: Tensors computed from the inputs: one, a list, or a dict by name.
        name: Model name. Defaults to "functional".
        seed, dtype, trainable: As for `Model`.
    """

    def __init__(self, inputs=None, outputs=None, name: str | None = None, seed: int | None = None,
                 dtype=None, trainable: bool = True):
        flat_inputs = _flat_tensors(inputs, "inputs")
        if dtype is None:
            dtype = next((t.dtype for t in flat_inputs if t.dtype.kind == "f"), np.dtype("float32"))
        super().__init__(seed=seed, dtype=dtype, name=name or "functional", trainable=trainable)
        self._init_graph(inputs, outputs)

    def _init_graph(self, inputs, outputs) -> None:
        self._inputs = _flat_tensors(inputs, "inputs")
        self._outputs = _flat_tensors(outputs, "outputs")
        for tensor in self._inputs:
            if not isinstance(tensor.node.operation, InputLayer):
                raise ValueError(f"Model inputs must come from Input(...). Received: {tensor!r}")
        self._input_keys = list(inputs) if isinstance(inputs, dict) else None
        self._inputs_are_list = isinstance(inputs, (list, tuple))
        self._output_structure = outputs
        self._nodes = _nodes_between(self._inputs, self._outputs)
        for node in self._nodes:
            node.direct = (node.is_layer and node.operation.is_hand_written and node.operation.built
                           and len(node.args) == 1 and isinstance(node.args[0], KerasTensor) and not node.kwargs
                           and len(node.outputs) == 1)
        self._steps = _chains(self._nodes, self._outputs)
        used = {id(t) for node in self._nodes for t in node.inputs} | {id(t) for t in self._outputs}
        for i, tensor in enumerate(self._inputs):
            if id(tensor) not in used:
                raise ValueError(f"Input {i} ({tensor.node.operation.name or 'unnamed'}, shape {tensor.shape}) is "
                                 "not used to compute any output. Remove it from `inputs`.")
        self._graph_layers = [tensor.node.operation for tensor in self._inputs]
        seen = {id(layer) for layer in self._graph_layers}
        for node in self._nodes:
            if node.is_layer and id(node.operation) not in seen:
                seen.add(id(node.operation))
                self._graph_layers.append(node.operation)
        self._assign_names()
        self._output_shapes = [tuple(t.shape[1:]) for t in self._outputs]
        self.output_shape = self._output_shapes[0] if len(self._outputs) == 1 else self._output_shapes
        self.built = True

    def get_config(self) -> dict:
        """The architecture (name, dtype, the graph's layers and nodes); no weights."""
        from .json_config import functional_config

        return functional_config(self)

    @classmethod
    def from_config(cls, config: dict):
        """A new model (new weights) from `get_config()`'s output."""
        from .json_config import functional_from_dict

        return functional_from_dict(config)

    # --- structure ---------------------------------------------------------------------------------
    @property
    def layers(self) -> list:
        return list(self._graph_layers)

    @property
    def inputs(self) -> list:
        return list(self._inputs)

    @property
    def outputs(self) -> list:
        return list(self._outputs)

    @property
    def input_names(self) -> list[str]:
        if self._input_keys is not None:
            return list(self._input_keys)
        return [t.node.operation.name for t in self._inputs]

    @property
    def output_names(self) -> list[str]:
        if isinstance(self._output_structure, dict):
            return list(self._output_structure)
        names = []
        for tensor in self._outputs:
            op = tensor.node.operation
            names.append(unique_name(op.name if tensor.node.is_layer else op.__name__, names))
        return names

    def input_specs(self) -> list:
        return [t.shape[1:] for t in self._inputs]

    def _input_dtype(self, index: int):
        dtype = self._inputs[index].dtype
        return self.dtype if dtype.kind == "f" else dtype

    def _assign_names(self) -> None:
        taken = {layer.name for layer in self._graph_layers if layer.name is not None}
        seen = set()
        for layer in self._graph_layers:
            if layer.name is None:
                base = "input_layer" if isinstance(layer, InputLayer) else snake_case(type(layer).__name__)
                layer.name = unique_name(base, taken)
                taken.add(layer.name)
            elif layer.name in seen:
                raise ValueError(f"Layer names must be unique within a model. Received: two layers named {layer.name!r}")
            seen.add(layer.name)

    def pack_outputs(self, outputs: list):
        if isinstance(self._output_structure, (list, tuple, dict)):
            return pack_like(self._output_structure, outputs)
        return outputs[0]

    # --- running -----------------------------------------------------------------------------------
    def run_graph(self, xs: list, training: bool) -> list:
        with call_context(rng=self.rng, dtype=self.dtype):
            return self._replay([x if isinstance(x, Tensor) else Tensor(x) for x in xs], training)

    def call(self, inputs, training=False):
        if isinstance(inputs, dict):
            flat = [inputs[name] for name in self.input_names]
        else:
            flat = flatten_outputs(inputs)
        if len(flat) != len(self._inputs):
            raise ValueError(f"Model {self.name!r} expects {len(self._inputs)} inputs. Received: {len(flat)}")
        return self.pack_outputs(self._replay(flat, training))

    def _replay(self, tensors: list, training: bool) -> list:
        values = {id(kt): tensor for kt, tensor in zip(self._inputs, tensors)}
        for step in self._steps:
            if type(step) is _Chain:
                if not any(layer.activity_regularizer is not None for layer in step.layers):
                    values[id(step.output)] = chain_node(step.layers, values[id(step.input)], training)
                    continue
                nodes = step.nodes  # an activity penalty wants each layer's output: node by node
            else:
                nodes = (step,)
            for node in nodes:
                self._replay_node(node, values, training)
        outputs = [values[id(kt)] for kt in self._outputs]
        for kt, out in zip(self._outputs, outputs):  # an output's mask, where the graph computed it
            mask = getattr(kt, "_keras_mask", None)
            if mask is not None and id(mask) in values and isinstance(out, Tensor):
                out._keras_mask = values[id(mask)]
        return outputs

    @staticmethod
    def _replay_node(node, values: dict, training: bool) -> None:
        if node.direct:  # a built hand-derived layer on one tensor: straight to its graph node
            out = values[id(node.outputs[0])] = layer_node(node.operation, values[id(node.args[0])], training)
            if node.operation.activity_regularizer is not None:
                add_activity_penalty(node.operation, out)
            return
        args, kwargs = substitute(node.args, values), substitute(node.kwargs, values)
        if node.is_layer and "training" not in kwargs:
            kwargs["training"] = training
        result = node.operation(*args, **kwargs)
        for symbolic, real in zip(node.outputs, flatten_outputs(result)):
            values[id(symbolic)] = real

    # --- summary -----------------------------------------------------------------------------------
    def summary_rows(self):
        rows = []
        for layer in self.layers:
            sources = []
            for node in self._nodes:
                if node.operation is layer:
                    sources += [_describe_source(t) for t in node.inputs]
            shape = "(None, " + ", ".join(map(str, layer.output_shape)) + ")" if isinstance(
                layer.output_shape, tuple) else "?"
            rows.append((layer.name, type(layer).__name__, shape, activation_name(layer), f"{layer_total(layer):,}",
                         ", ".join(sources)))
        return rows, ("Layer", "Type", "Output shape", "Activation", "Params", "Connected to")


def _describe_source(tensor: KerasTensor) -> str:
    op = tensor.node.operation
    return op.name if tensor.node.is_layer else op.__name__


def _flat_tensors(structure, what: str) -> list:
    if structure is None:
        raise TypeError(f"Model needs `{what}`: a tensor, a list of tensors or a dict of them.")
    flat = flatten_outputs(structure)
    for item in flat:
        if not isinstance(item, KerasTensor):
            raise TypeError(f"Model `{what}` must be symbolic tensors (from Input and layer calls). "
                            f"Received: {type(item).__name__}")
    if not flat:
        raise ValueError(f"Model `{what}` is empty.")
    return flat


def _nodes_between(inputs: list, outputs: list) -> list:
    """The nodes computing `outputs` from `inputs`, in topological order (inputs' own nodes left out)."""
    input_ids = {id(t) for t in inputs}
    order, state = [], {}  # state: 1 visiting, 2 done

    for output in outputs:
        stack = [(output, False)]
        while stack:
            tensor, expanded = stack.pop()
            if id(tensor) in input_ids:
                continue
            node = tensor.node
            if node is None or isinstance(node.operation, InputLayer):
                raise ValueError(f"Graph disconnected: the outputs depend on {tensor!r}, which is not among the "
                                 "model's inputs. Add it to `inputs`.")
            if expanded:
                state[id(node)] = 2
                order.append(node)
                continue
            if state.get(id(node)) == 2:
                continue
            if state.get(id(node)) == 1:
                raise ValueError(f"The graph has a cycle through {node.describe()}.")
            state[id(node)] = 1
            stack.append((tensor, True))
            for parent in reversed(node.inputs):
                if id(parent) not in input_ids and state.get(id(parent.node)) != 2:
                    if state.get(id(parent.node)) == 1:
                        raise ValueError(f"The graph has a cycle through {parent.node.describe()}.")
                    stack.append((parent, False))
    return order


class _Chain:
    """Direct nodes (see `_init_graph`) each taking the previous one's output, read by nothing else:
    replayed as one `chain_node`."""

    __slots__ = ("nodes", "layers", "input", "output")

    def __init__(self, nodes):
        self.nodes, self.layers = tuple(nodes), tuple(node.operation for node in nodes)
        self.input, self.output = nodes[0].args[0], nodes[-1].outputs[0]


def _chains(nodes: list, outputs: list) -> list:
    """`nodes` to replay, with each run of two or more direct nodes that feed only one another (and
    call distinct layers) as one `_Chain`: a Sequential model's layers are one."""
    readers: dict = {}
    for tensor in [t for node in nodes for t in node.inputs] + list(outputs):
        readers[id(tensor)] = readers.get(id(tensor), 0) + 1
    for tensor in outputs:  # an output's mask, read when the replay ends
        mask = getattr(tensor, "_keras_mask", None)
        if mask is not None:
            readers[id(mask)] = readers.get(id(mask), 0) + 2
    runs = []
    for node in nodes:
        run = runs[-1] if runs and isinstance(runs[-1], list) else None
        if (node.direct and run is not None and run[-1].outputs[0] is node.args[0]
                and readers.get(id(node.args[0])) == 1 and all(n.operation is not node.operation for n in run)):
            run.append(node)
        else:
            runs.append([node] if node.direct else node)
    return [(_Chain(run) if len(run) > 1 else run[0]) if isinstance(run, list) else run for run in runs]
