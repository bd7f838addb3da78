"""`Sequential` (the blog's `NN`): a straight stack of layers — a functional graph built for you.

Adding a layer calls it on the previous layer's symbolic output, so a Sequential model
is the same graph `Model(inputs, outputs)` would make from the same calls, run and
trained by the same code. The blog's methods (`compile_model`, `train`, ...) come from
`barenet.compat.blog`.
"""

from __future__ import annotations

from ..compat.blog import BlogModel
from ..layers.base import Layer, call_context, normalize_shape, snake_case
from ..layers.input_layer import Input, InputLayer
from .functional import Functional
from .model import Model, unique_name
from ..autodiff.symbolic import KerasTensor


class Sequential(BlogModel, Functional):
    """A linear stack of layers.

    Args:
        layers: Layers to add, in order; the first may be an `Input(shape=...)`. Defaults to none.
        seed: Seed for the model's random generator (initialization, shuffling,
            validation split, dropout). The same seed gives bit-identical runs. Defaults to None.
        dtype: Parameter and computation dtype, "float32" or "float64". Defaults to
            `barenet.config.floatx()` ("float32").
        name: Model name. Defaults to "sequential".
    """

    def __init__(self, layers=None, seed: int | None = None, dtype=None, name: str | None = None,
                 trainable: bool = True):
        Model.__init__(self, seed=seed, dtype=dtype, name=name or "sequential", trainable=trainable)
        self._stack: list[Layer] = []
        self._names: set[str] = set()  # with _ids, adding a layer takes O(1), not a scan of the stack
        self._ids: set[int] = set()
        self._input = None  # the graph's Input tensor, once the input shape is known
        self._output = None
        self._graph_ready = False
        self._input_keys, self._inputs_are_list = None, False
        self._init_blog_records()
        for layer in layers or []:
            self.add(layer)

    # --- building ----------------------------------------------------------------------------------
    def add(self, layer) -> None:
        """Append a layer, checking its declared input against the previous layer's output."""
        if isinstance(layer, KerasTensor) and isinstance(layer.node.operation, InputLayer):
            layer = layer.node.operation
        if isinstance(layer, InputLayer):
            if self._stack or self._input is not None:
                raise ValueError("An Input can only come first in a Sequential model.")
            text = layer.input_dtype.kind == "O"  # a "string" Input keeps its dtype
            self._input = Input(shape=layer.sample_shape, dtype="string" if text else self.dtype)
            self._output = self._input
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"`layer` must be a barenet Layer. Received: {type(layer).__name__}")
        if id(layer) in self._ids:
            raise ValueError(f"Layer {layer.name!r} is already in this model.")
        if layer.name is not None and layer.name in self._names:
            raise ValueError(f"Layer names must be unique. Received: a second layer named {layer.name!r}")
        declared = layer.input_shape if not layer.built else None
        if self._stack and declared is not None:
            previous = self._stack[-1]
            if previous.output_shape is not None and tuple(declared) != tuple(previous.output_shape):
                raise ValueError(
                    f"Layer {layer.name!r} declares input_shape={declared}, but the previous layer "
                    f"{previous.name!r} outputs {previous.output_shape}. Expected input_shape="
                    f"{previous.output_shape} (or leave it out)."
                )
        if self._input is None and not self._stack and layer.input_shape is not None:
            self._input = Input(shape=layer.input_shape, dtype=self.dtype)
            self._output = self._input
        if layer.name is None:
            layer.name = unique_name(snake_case(type(layer).__name__), self._names)
        if self._output is not None:
            with call_context(rng=self.rng, dtype=self.dtype):
                output = layer(self._output)
            self._output = output
        self._stack.append(layer)
        self._names.add(layer.name)
        self._ids.add(id(layer))
        self._graph_ready = False

    def pop(self) -> Layer:
        """Remove and return the last layer."""
        if not self._stack:
            raise ValueError("There are no layers to remove.")
        layer = self._stack.pop()
        self._names.discard(layer.name)
        self._ids.discard(id(layer))
        self._output = None
        if self._input is not None:
            self._output = self._input
            for remaining in self._stack:
                self._output = self._output_of(remaining)
        self._graph_ready = False
        return layer

    def _output_of(self, layer):
        with call_context(rng=self.rng, dtype=self.dtype):
            return layer(self._output)

    def build(self, input_shape=None, *args) -> None:
        """Build every layer for samples of `input_shape` (no batch axis)."""
        if not self._stack:
            raise RuntimeError("The model has no layers. Add layers with add() first.")
        if self._input is None:
            self._input = Input(shape=normalize_shape(input_shape, "input_shape"), dtype=self.dtype)
        self._output = self._input
        for layer in self._stack:
            self._output = self._output_of(layer)
        self._graph_ready = False

    def _ensure_graph(self) -> None:
        if not self._graph_ready:
            if self._output is None or not self._stack:
                raise RuntimeError("The model has no layers or no input shape yet. Add layers, giving the first "
                                   "an input_shape (or an Input), or call build(input_shape).")
            self._init_graph(self._input, self._output)
            self._graph_ready = True

    def get_config(self) -> dict:
        """The architecture (name, dtype, seed, input shape, each layer's class and config); no weights."""
        from .json_config import sequential_config

        return sequential_config(self)

    @classmethod
    def from_config(cls, config: dict):
        """A new model (new weights) from `get_config()`'s output."""
        from .json_config import sequential_from_config

        return sequential_from_config(cls, config)

    @property
    def built(self) -> bool:
        return bool(self._stack) and self._output is not None and all(layer.built for layer in self._stack)

    @built.setter
    def built(self, value) -> None:
        pass  # derived from the layers

    @property
    def layers(self) -> list:
        return list(self._stack)

    @property
    def input_shape(self):
        if self._input is not None:
            return tuple(self._input.shape[1:])
        return self._stack[0].input_shape if self._stack else None

    @input_shape.setter
    def input_shape(self, value) -> None:
        pass

    @property
    def output_shape(self):
        return self._stack[-1].output_shape if self._stack else None

    @output_shape.setter
    def output_shape(self, value) -> None:
        pass

    @property
    def inputs(self) -> list:
        self._ensure_graph()
        return super().inputs

    @property
    def outputs(self) -> list:
        self._ensure_graph()
        return super().outputs

    @property
    def input_names(self) -> list[str]:
        return ["input"]

    @property
    def output_names(self) -> list[str]:
        return [self._stack[-1].name] if self._stack else ["output"]

    def input_specs(self) -> list:
        return [self.input_shape]

    def output_specs(self) -> list:
        return [self.output_shape if self.built else _declared_units(self._stack[-1] if self._stack else None)]

    def _input_owner(self, index: int) -> str:
        return f"layer {self._stack[0].name!r}"

    def _output_owner(self, index: int) -> str:
        return f"the output layer {self._stack[-1].name!r}"

    def _input_dtype(self, index: int):
        return self._input.dtype if self._input is not None and self._input.dtype.kind == "O" else self.dtype

    def _assign_names(self) -> None:
        pass  # names are given as layers are added

    def _build_from_arrays(self, xs: list) -> None:
        self.build(xs[0].shape[1:])

    def _check_has_layers(self, doing: str) -> None:
        if not self._stack:
            raise RuntimeError(f"The model has no layers. Add layers with add() before {doing}.")

    def run_graph(self, xs: list, training: bool) -> list:
        self._ensure_graph()
        return super().run_graph(xs, training)

    def call(self, inputs, training=False):
        self._ensure_graph()
        return super().call(inputs, training)

    def summary_rows(self):
        return Model.summary_rows(self)

    def __repr__(self) -> str:
        return f"<Sequential name={self.name!r} layers={len(self._stack)} params={self.count_params()}>"


def _declared_units(layer):
    units = getattr(layer, "units", None)
    return (units,) if units is not None else None
