"""`Model`: what every model kind shares — compile, fit, evaluate, predict, weights, summary, saving.

Keras's three ways to build a model are three subclasses of this one class:

- `Functional` (`Model(inputs, outputs)`): a graph of layer calls and ops, replayed on data;
- `Sequential`: a functional graph that is a straight stack of layers;
- your subclass (`class Net(Model)` with `call(self, inputs, training=False)`): ordinary
  Python, run eagerly on engine tensors.

All are trained by the same `training.train_step` and `training.fit_loop`.
"""

from __future__ import annotations

import numpy as np

from .. import config, optimizers
from ..autodiff import Tensor
from ..layers.base import CONTEXT, Layer, call_context, snake_case
from ..seeding import new_model_generator
from .inputs import as_numeric, check_input, check_targets, split_structure
from ..autodiff.symbolic import call_symbolic, contains_symbolic, flatten_outputs
from .trainer import Trainer

_FLOAT_DTYPES = ("float32", "float64")


class Model(Trainer, Layer):
    """A trainable model; `Model(inputs, outputs)` builds a functional one, a subclass defines `call`.

    Args:
        inputs, outputs: For a functional model: its `Input` tensors and the tensors computed
            from them (a tensor, a list, or a dict by name).
        seed: Seed for the model's own random generator (shuffling, validation split, dropout,
            and the weights of layers it builds). Defaults to None (drawn from barenet's generator,
            see `barenet.utils.set_random_seed`).
        dtype: "float32" or "float64" for the weights it builds and the inputs it casts.
            Defaults to `barenet.config.floatx()` ("float32").
        name: Model name. Defaults to the class name in snake case.
    """

    def __new__(cls, *args, **kwargs):
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            from .functional import Functional
            return object.__new__(Functional)
        return object.__new__(cls)

    def __init__(self, *args, seed: int | None = None, dtype=None, name: str | None = None,
                 trainable: bool = True, **kwargs):
        if args or kwargs:
            unexpected = ", ".join(list(kwargs) or ["positional arguments"])
            raise TypeError(f"{type(self).__name__}() got unexpected arguments: {unexpected}. A functional model "
                            "is Model(inputs=..., outputs=...).")
        dtype = np.dtype(dtype or config.floatx())
        if str(dtype) not in _FLOAT_DTYPES:
            raise ValueError(f"`dtype` must be one of {', '.join(_FLOAT_DTYPES)}. Received: dtype={dtype!r}")
        super().__init__(name=name or snake_case(type(self).__name__), trainable=trainable)
        self.seed = seed
        self.rng = new_model_generator(seed)
        self.dtype = dtype
        self.optimizer: optimizers.Optimizer | None = None
        self.loss = None
        self.compiled_loss: list = []
        self._compile_metrics = None
        self.loss_weights_list: list = []
        self.stop_training = False
        self.history = None
        self._input_names: list[str] | None = None

    # --- structure (functional and Sequential override these) ------------------------------------
    @property
    def input_names(self) -> list[str]:
        return self._input_names or ["input"]

    @property
    def output_names(self) -> list[str]:
        return [f"output_{i}" for i in range(max(1, len(self.compiled_loss)))]

    def input_specs(self) -> list:
        """One sample's shape per input (None where unknown); [None] before a subclass is built."""
        return [None] * len(self.input_names)

    def output_specs(self) -> list:
        """One output sample's shape per output (None where unknown)."""
        return getattr(self, "_output_shapes", None) or [None] * len(self.output_names)

    def weight_layers(self, with_prefix: bool = False) -> list:
        """Every layer holding weights or state, nested ones included, each once, in order.

        With `with_prefix`, pairs `(prefix, layer)` where `prefix + key` names a weight
        ("dense/weights"; a nested model's layers are prefixed with its name too).
        """

        key = (CONTEXT.builds, tuple(id(layer) for layer in self.layers))
        cached = self.__dict__.get("_weight_layers_cache")
        if cached is not None and cached[0] == key:
            found = cached[1]
            return found if with_prefix else [layer for _, layer in found]
        found, seen = [], set()

        def visit(layer, prefix):
            if id(layer) in seen:
                return
            seen.add(id(layer))
            if layer.params or layer.state:
                found.append((f"{prefix}{layer.name}/", layer))
            children = layer.layers if isinstance(layer, Model) else layer.sublayers
            name_unnamed(children)
            for child in children:
                visit(child, f"{prefix}{layer.name}/")

        name_unnamed(self.layers)
        for layer in self.layers:
            visit(layer, "")
        self._weight_layers_cache = (key, found)
        return found if with_prefix else [layer for _, layer in found]

    @property
    def layers(self) -> list:
        return [layer for layer in self.sublayers]

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """The layer called `name` (or at position `index`)."""
        if index is not None:
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No layer named {name!r}. Layers: {', '.join(str(layer.name) for layer in self.layers)}")

    # --- calling ---------------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        if not args:
            args = (kwargs.pop("inputs"),)
        if contains_symbolic(args) or contains_symbolic(kwargs):
            if not self.built and type(self).call is not Model.call:
                self._build_by_calling(args[0])
            return call_symbolic(self, args, kwargs)
        from ..layers.base import CONTEXT

        training = kwargs.pop("training", None)
        training = CONTEXT.training if training is None else bool(training)  # a nested model inherits it
        if not self.built:
            self._built_input_shapes = [tuple(np.shape(x)[1:]) for x in flatten_outputs(args[0])]
        with call_context(rng=self.rng, dtype=self.dtype):
            outputs = self._call_eager(args[0], training, args[1:], kwargs)
        self.built = True
        return outputs

    def _call_eager(self, inputs, training, args, kwargs):
        inputs = _tensors_of(inputs, self.dtype)
        from ..layers.base import CONTEXT
        previous, CONTEXT.training = CONTEXT.training, training
        try:
            if self._call_accepts("training"):
                kwargs = {**kwargs, "training": training}
            outputs = self.call(inputs, *args, **kwargs)
        finally:
            CONTEXT.training = previous
        for item in flatten_outputs(outputs):
            if not isinstance(item, Tensor):
                raise TypeError(f"{type(self).__name__}.call() must return a tensor (or a list/dict of tensors). "
                                f"Received: {type(item).__name__}")
        if not self._assign_names_done():
            self._assign_names()
        return outputs

    def call(self, inputs, training=False):
        raise NotImplementedError(f"{type(self).__name__} must define call(self, inputs, training=False), "
                                  "or be built as Model(inputs=..., outputs=...).")

    def _build_by_calling(self, symbolic_inputs):
        """Build a subclassed model called on symbolic tensors by calling it once on zeros."""
        from ..autodiff import no_grad
        from ..autodiff.symbolic import KerasTensor, substitute

        def zeros(tensor: KerasTensor):
            return np.zeros((1, *[1 if d is None else d for d in tensor.shape[1:]]), tensor.dtype)

        from ..autodiff.symbolic import flatten_symbolic
        values = {id(t): zeros(t) for t in flatten_symbolic(symbolic_inputs)}
        with no_grad():
            self(substitute(symbolic_inputs, values))

    def run_graph(self, xs: list, training: bool) -> list:
        """Outputs (a flat list of Tensors) for inputs `xs` (a list of arrays, one per input)."""
        structure = self._input_structure_for(xs)
        return flatten_outputs(self(structure, training=training))

    def _input_structure_for(self, xs: list):
        if len(xs) == 1 and not getattr(self, "_inputs_are_list", False):
            return xs[0]
        if getattr(self, "_input_keys", None):
            return dict(zip(self._input_keys, xs))
        return list(xs)

    def _assign_names_done(self) -> bool:
        return all(layer.name is not None for layer in self.layers)

    def _assign_names(self) -> None:
        name_unnamed(self.layers)

    def get_config(self) -> dict:
        """Constructor arguments of a subclassed model (override it when `__init__` takes any)."""
        return {}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def to_json(self, **kwargs) -> str:
        """The architecture as a JSON string; `barenet.models.model_from_json` rebuilds it (new weights)."""
        from .json_config import to_json

        return to_json(self, **kwargs)

    def _check_has_layers(self, doing: str) -> None:
        """Sequential raises when it has no layers yet; other models always have a call."""

    # --- data ------------------------------------------------------------------------------------
    def _prepare_x(self, x, name: str = "x") -> list:
        arrays = split_structure(x, self.input_names, name)
        if isinstance(x, dict):
            self._input_keys = list(self.input_names)
        elif isinstance(x, (list, tuple)) and len(self.input_names) > 1:
            self._inputs_are_list = True
        labels = [name if len(arrays) == 1 else f"{name}[{i}]" for i in range(len(arrays))]
        arrays = [as_numeric(a, label, text=self._input_dtype(i).kind == "O")
                  for i, (a, label) in enumerate(zip(arrays, labels))]
        if len({len(a) for a in arrays}) > 1:
            raise ValueError(f"All inputs in `{name}` must have the same number of samples. "
                             f"Received: {[len(a) for a in arrays]}")
        specs = self.input_specs()
        checked = [check_input(a, label, spec, self._input_owner(i), self._input_dtype(i))
                   for i, (a, label, spec) in enumerate(zip(arrays, labels, specs))]
        if not self.built:
            self._build_from_arrays(checked)
        return checked

    def _input_owner(self, index: int) -> str:
        return f"input {self.input_names[index]!r}"

    def _input_dtype(self, index: int):
        return self.dtype

    def _build_from_arrays(self, xs: list) -> None:
        """Build a model whose shapes were unknown by calling it on one sample."""
        from ..autodiff import no_grad
        with no_grad():
            outputs = self.run_graph([x[:1] for x in xs], training=False)
        self._output_shapes = [tuple(out.shape[1:]) for out in outputs]

    def _prepare_y(self, y, xs, name: str = "y") -> list:
        names = self.output_names
        arrays = split_structure(y, names, name)
        if len(arrays) != len(self.compiled_loss):
            raise ValueError(f"`{name}` must hold one target array per output ({len(self.compiled_loss)}). "
                             f"Received: {len(arrays)}")
        labels = [name if len(arrays) == 1 else f"{name}[{names[i]!r}]" for i in range(len(arrays))]
        arrays = [as_numeric(a, label) for a, label in zip(arrays, labels)]
        for array, label in zip(arrays, labels):
            if len(array) != len(xs[0]):
                x_name = "x" if name == "y" else "x_val"
                raise ValueError(f"`{x_name}` and `{label}` must have the same length. Received: "
                                 f"len({x_name})={len(xs[0])}, len({label})={len(array)}")
        specs = self.output_specs()
        return [check_targets(a, label, spec, loss, self._output_owner(i), self.dtype)
                for i, (a, label, spec, loss) in enumerate(zip(arrays, labels, specs, self.compiled_loss))]

    def _output_owner(self, index: int) -> str:
        return f"output {self.output_names[index]!r}"

    def _prepare_data(self, x, y, x_name="x", y_name="y"):
        if y is None:
            raise TypeError(f"`{y_name}` must be a numeric array. Received: None")
        xs = self._prepare_x(x, x_name)
        return xs, self._prepare_y(y, xs, y_name)

    # --- weights ---------------------------------------------------------------------------------
    def _tracked_layers(self) -> list:
        return self.layers

    def get_weights(self) -> list[np.ndarray]:
        """Copies of every weight array, layer by layer (each layer's trainable weights, then its
        non-trainable state such as BatchNormalization's moving statistics), as Keras orders them."""
        return super().get_weights()

    def set_weights(self, weights) -> None:
        """Set every weight array from a list shaped like `get_weights()` (checked before any change)."""
        super().set_weights(weights)

    def count_params(self) -> int:
        return sum(layer.count_params() for layer in self.weight_layers())

    # --- saving (the work is in barenet.saving) --------------------------------------------------
    def save(self, path) -> None:
        """Save architecture, compile settings, weights, optimizer and generator state to one file.

        A zip model file (suffix `.barenet` by convention), written atomically; a path ending
        in `.json` writes the blog's JSON instead (see `barenet.saving.save_model`). Load with
        `barenet.load_model(path)`. See `barenet.saving`.
        """
        from .. import saving

        saving.save_model(self, path)

    def save_weights(self, path) -> None:
        """Save the weights (and non-trainable layer state) alone, atomically; see `load_weights`."""
        from .. import saving

        saving.save_weights(self, path)

    def load_weights(self, path) -> None:
        """Set the weights from a `save_weights` or `save` file; shapes must match, layer by layer.

        Raises `barenet.ModelFileError` for a bad or mismatched file, before anything changes.
        """
        from .. import saving

        saving.load_weights(self, path)

    # --- summary ---------------------------------------------------------------------------------
    def summary(self, print_fn=print) -> None:
        """Print a table of layers: name, type, output shape, activation, parameters (and, in a
        graph, what each layer is connected to), and totals; see `models.summary`."""
        from .summary import print_summary

        print_summary(self, print_fn)

    def summary_rows(self):
        from .summary import layer_rows

        return layer_rows(self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} layers={len(self.layers)} params={self.count_params()}>"


def name_unnamed(layers) -> None:
    """Give the unnamed layers among siblings unique names in Keras's style (dense, dense_1, ...)."""
    taken = {layer.name for layer in layers if layer.name is not None}
    for layer in layers:
        if layer.name is None:
            layer.name = unique_name(snake_case(type(layer).__name__), taken)
            taken.add(layer.name)


def unique_name(base: str, taken) -> str:
    if base not in taken:
        return base
    i = 1
    while f"{base}_{i}" in taken:
        i += 1
    return f"{base}_{i}"


def _tensors_of(inputs, dtype):
    """Call arguments as engine Tensors (float arrays cast to the model's dtype), keeping nesting."""
    if isinstance(inputs, Tensor):
        return inputs
    if isinstance(inputs, dict):
        return {key: _tensors_of(value, dtype) for key, value in inputs.items()}
    if isinstance(inputs, (list, tuple)) and inputs and all(
            isinstance(item, (Tensor, np.ndarray, list, tuple, dict)) for item in inputs) and any(
            isinstance(item, (Tensor, np.ndarray)) and np.ndim(item) >= 1 for item in inputs):
        return [_tensors_of(item, dtype) for item in inputs]
    array = np.asarray(inputs)
    if array.dtype.kind == "f" and array.dtype != dtype:
        array = array.astype(dtype)
    return Tensor(array)
