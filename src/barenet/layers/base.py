"""The `Layer` base class: the contract every barenet layer follows.

A layer is written in one of two ways, and both are called the same way, `layer(x)`:

1. Hand-derived (the teaching core: Dense, Conv2D, pooling, ...). The layer creates
   its arrays in `_build(input_shape, rng)` and maps whole batches (batch axis first):

       forward(x, training=False) -> output
       backward(dL_dy) -> dL_dx        # dL_dy is dLoss/dOutput of the last forward

   Trainable arrays live in `params`; `backward` fills `grads` under the same keys.
   Both hold the same array objects for the layer's lifetime (updated in place,
   never rebound), so optimizers and savers can keep references to them.
   Non-trainable arrays that training updates (BatchNormalization's moving
   statistics) live in `state`, also updated in place. Shapes given to
   `_build` and `compute_output_shape` are one sample's (no batch axis). Inside a
   graph such a layer is one node whose backward is `backward` (see
   `autodiff.function`): its math is never re-derived by the engine.

2. Keras's way (custom layers): `build(input_shape)` creates weights with
   `add_weight(...)`, and `call(inputs)` computes with `barenet.ops` or operators
   on tensors; the autodiff engine derives the gradient. `input_shape` includes the
   batch axis (None), as in Keras.

Forward values that `backward` needs are cached by *rebinding* attributes whose
names start with an underscore (`self._x = x`), never by writing into a kept
buffer: a layer called twice in one graph has its cache saved after each call
and put back before the matching backward.

Weight penalties: a layer maps param keys to `barenet.regularizers` objects in
`self.regularizers`; `regularization_loss()` is their total on the current params
(the model adds it to the reported loss) and `backward` calls
`_add_regularization_grads()` after filling `grads`.
"""

from __future__ import annotations

import inspect
import numbers
import re

import numpy as np

from .. import activations, config, initializers, regularizers
from ..autodiff import Variable
from ..autodiff.function import layer_node
from ..autodiff.symbolic import call_symbolic, contains_symbolic
from ..seeding import context_generator
from .context import CONTEXT, call_context, float_dtype, shapes_of, to_tensors
from .masking_flow import attach_output_masks, fill_masks
from .weight_lists import WeightLists, nested_layers, trainable_layer_ids  # noqa: F401 - used by training, summary

# Attributes that are configuration, not a forward pass's cache (see `_cache_snapshot`).
_NOT_CACHE = frozenset({"_grads_pass", "_last_call", "_sublayers", "_variables", "_building", "_inbound_nodes",
                        "_kernel_initializer_name", "_bias_initializer_name", "_call_accepts_training",
                        "_losses", "_trainable", "_activity_regularizer"})


class Layer(WeightLists):
    """Base class for layers.

    `needs_input_grad` is False when nothing upstream needs the gradient of the input
    (a model's first layer): `backward` may then skip computing it and return None.

    Args:
        input_shape: Shape of one sample (no batch axis), e.g. `(784,)` or `(28, 28, 1)`;
            only needed on the first layer of a Sequential model. An int means `(int,)`.
        name: Unique name within a model. Defaults to one the model assigns.
        trainable: Whether the optimizer updates this layer's weights. Defaults to True.
        dtype: Weight dtype. Defaults to the model's (float32 unless told otherwise).
    """

    needs_input_grad = True
    # The blog's attributes: `input` / `out` hold the last recorded inference pass's values
    # (see `barenet.compat.blog`; None until one is recorded), `isbias` whether biases are used.
    input = None
    out = None
    isbias = False

    def __init__(self, input_shape=None, name: str | None = None, trainable: bool = True, dtype=None,
                 input_dim=None, activity_regularizer=None, **kwargs):
        if kwargs:
            raise TypeError(f"{type(self).__name__} got unexpected keyword arguments: {', '.join(kwargs)}")
        if input_shape is None and input_dim is not None:
            input_shape = input_dim
        self.input_shape = normalize_shape(input_shape, "input_shape") if input_shape is not None else None
        if name is not None and not isinstance(name, str):
            raise TypeError(f"`name` must be a string. Received: name={name!r}")
        self.name = name
        object.__setattr__(self, "_trainable", bool(trainable))
        object.__setattr__(self, "_activity_regularizer", regularizers.get(activity_regularizer))
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.regularizers: dict = {}  # param key -> Regularizer
        self.state: dict[str, np.ndarray] = {}  # non-trainable arrays, updated in place (saved too)
        self.output_shape: tuple[int, ...] | None = None
        self.dtype: np.dtype | None = None if dtype is None else np.dtype(dtype)
        self.built = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.forward is not Layer.forward and "__setattr__" not in cls.__dict__:
            # Hand-derived layers own their arrays explicitly (a wrapper shares its inner layer's
            # dicts): no tracking, and no Python hook on the attribute writes of every forward pass.
            cls.__setattr__ = object.__setattr__

    def __setattr__(self, name, value):
        # Keras's tracking: layers assigned to attributes (or in lists) become sublayers.
        if isinstance(value, Layer) and value is not self and not name.startswith("_"):
            _add_sublayer(self, value)
        elif isinstance(value, (list, tuple)) and not name.startswith("_"):
            for item in value:
                if isinstance(item, Layer) and item is not self:
                    _add_sublayer(self, item)
        object.__setattr__(self, name, value)

    # --- calling -------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        """Apply the layer: to a symbolic tensor (records a graph node) or to values/tensors."""
        if not args:
            if "inputs" not in kwargs:
                raise TypeError(f"Layer {self.name or type(self).__name__!r} needs its inputs as the first argument.")
            args = (kwargs.pop("inputs"),)
        if contains_symbolic(args) or contains_symbolic(kwargs):
            return call_symbolic(self, args, kwargs)
        training = kwargs.pop("training", None)
        training = CONTEXT.training if training is None else bool(training)
        kwargs = fill_masks(self, args, kwargs)  # masks carried by the input tensors (layers.masking)
        inputs = to_tensors(args[0], self.dtype)
        if not self.built:
            self._maybe_build(shapes_of(inputs), CONTEXT.rng or context_generator(), float_dtype(inputs))
        if self.is_hand_written:
            result = layer_node(self, inputs, training)
        else:
            if self._call_accepts("training"):
                kwargs["training"] = training
            with call_context(training=training):  # layers it calls inherit the flag
                result = self.call(inputs, *args[1:], **kwargs)
        if self.activity_regularizer is not None:
            add_activity_penalty(self, result)
        attach_output_masks(self, args, kwargs, result)
        return result

    def call(self, inputs, *args, **kwargs):
        """The computation, Keras's way (override it in custom layers)."""
        raise NotImplementedError(f"{type(self).__name__} defines neither call() nor forward()/backward().")

    @property
    def is_hand_written(self) -> bool:
        """Whether this layer has its own forward/backward (else the engine differentiates `call`)."""
        return type(self).forward is not Layer.forward

    def _call_accepts(self, argument: str) -> bool:
        accepts = self.__dict__.get("_call_accepts_training")
        if accepts is None:
            parameters = inspect.signature(self.call).parameters
            accepts = argument in parameters or any(p.kind == p.VAR_KEYWORD for p in parameters.values())
            self._call_accepts_training = accepts
        return accepts

    # --- building ------------------------------------------------------------------------
    def _maybe_build(self, input_shape, rng: np.random.Generator, dtype) -> None:
        """Build for inputs of `input_shape` (batch axis included; a list for several inputs)."""
        if self.built:
            return
        if CONTEXT.build_hook is not None:
            CONTEXT.build_hook(self, input_shape, lambda: self._build_now(input_shape, rng, dtype))
        else:
            self._build_now(input_shape, rng, dtype)

    def _build_now(self, input_shape, rng: np.random.Generator, dtype) -> None:
        if self.dtype is None:
            self.dtype = np.dtype(dtype or config.floatx())
        self._rng = rng
        self._building = True
        try:
            self.build(input_shape)
        finally:
            self._building = False
        if self.is_hand_written:
            self.input_shape = tuple(input_shape[1:])
            for key, value in self.params.items():  # in place: a wrapper may share this dict
                self.grads[key] = np.zeros_like(value)
        self.built = True
        CONTEXT.builds += 1

    def build(self, input_shape, rng: np.random.Generator | None = None, dtype=None) -> None:
        """Create the layer's weights for inputs of `input_shape`.

        Keras's custom layers override this as `build(self, input_shape)` and call
        `add_weight`. Hand-derived layers implement `_build` instead; calling
        `layer.build(sample_shape, rng, dtype)` directly builds one of them outside a model.
        """
        if not self.__dict__.get("_building"):  # called directly, with one sample's shape
            sample = normalize_shape(input_shape, "input_shape")
            self.built = False
            self._maybe_build((None, *sample), rng if rng is not None else context_generator(), dtype)
            return
        if self.is_hand_written:
            sample = normalize_shape(input_shape[1:], "input_shape")
            self.output_shape = self.compute_output_shape(sample)
            self._build(sample, self._rng)

    def _build(self, input_shape: tuple[int, ...], rng: np.random.Generator) -> None:
        """Create `self.params` (none by default)."""

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """Shape of one output sample for one input sample of `input_shape`."""
        return input_shape

    def add_weight(self, shape=None, initializer="glorot_uniform", dtype=None, trainable: bool = True,
                   regularizer=None, name: str | None = None) -> Variable:
        """Create a weight (Keras's signature) and return it as a `Variable`.

        Trainable weights go in `params`, non-trainable ones in `state`; the variable
        wraps the same array, so the optimizer's in-place updates are what `call` sees.
        """
        shape = () if shape is None else tuple(int(d) for d in shape)
        variables = self.__dict__.setdefault("_variables", {})
        name = name or f"variable_{len(variables)}"
        if name in variables:
            raise ValueError(f"Layer {self.name!r} already has a weight named {name!r}.")
        dtype = np.dtype(dtype or self.dtype or config.floatx())
        rng = self.__dict__.get("_rng") or CONTEXT.rng or context_generator()
        value = np.asarray(initializers.get(initializer)(shape, rng, dtype), dtype=dtype)
        (self.params if trainable else self.state)[name] = value
        reg = regularizers.get(regularizer)
        if reg is not None and trainable:
            self.regularizers[name] = reg
        variable = Variable(value, name=name, trainable=trainable)
        variables[name] = variable
        return variable

    @property
    def activity_regularizer(self):
        """Penalty on the layer's outputs added to the loss at each call (Keras's argument), or None."""
        return self.__dict__.get("_activity_regularizer")

    @activity_regularizer.setter
    def activity_regularizer(self, value) -> None:
        object.__setattr__(self, "_activity_regularizer", regularizers.get(value))

    # --- computing (hand-derived layers) ----------------------------------------------------
    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dL_dy: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _check_input(self, x: np.ndarray) -> None:
        """Raise a ValueError unless `x` is a batch of samples of this layer's `input_shape`."""
        if x.ndim != len(self.input_shape) + 1 or x.shape[1:] != self.input_shape:
            raise ValueError(
                f"Layer {self.name!r} ({type(self).__name__}) was built for input_shape={self.input_shape} "
                f"(plus a batch axis). Received: input_shape={tuple(x.shape[1:])} (a batch of shape {x.shape})"
            )

    def _cache_snapshot(self):
        """What the last forward pass cached (underscore attributes, the activation's too)."""
        own = {key: value for key, value in self.__dict__.items() if key[0] == "_" and key not in _NOT_CACHE}
        own["needs_input_grad"] = self.needs_input_grad
        activation = self.__dict__.get("activation")
        if isinstance(activation, activations.Activation):
            return own, activation, dict(activation.__dict__)
        return own, None, None

    def _cache_restore(self, snapshot) -> None:
        own, activation, activation_cache = snapshot
        self.__dict__.update(own)
        if activation is not None:
            activation.__dict__.update(activation_cache)

    # --- extra losses --------------------------------------------------------------------
    def add_loss(self, loss) -> None:
        """Add a term to the training loss (a scalar tensor computed in `call`), as in Keras."""
        if CONTEXT.losses is not None:
            CONTEXT.losses.append(loss)
        else:
            self.__dict__.setdefault("_losses", []).append(loss)

    @property
    def losses(self) -> list:
        return list(self.__dict__.get("_losses", []))

    # --- weight penalties ------------------------------------------------------------------
    def regularization_loss(self) -> float:
        """Sum of the penalties in `self.regularizers` on the current params (0.0 if none)."""
        return float(sum(reg(self.params[key]) for key, reg in self.regularizers.items() if key in self.params))

    def _add_regularization_grads(self) -> None:
        """Add each penalty's gradient into `grads`; call at the end of `backward`."""
        for key, reg in self.regularizers.items():
            if key in self.params:
                self.grads[key] += reg.gradient(self.params[key])

    # --- describing ----------------------------------------------------------------------
    @property
    def sublayers(self) -> list:
        """Layers assigned to this layer's attributes, in order (Keras's tracking)."""
        return list(self.__dict__.get("_sublayers", []))

    def count_params(self) -> int:
        return int(sum(p.size for p in self.params.values()))

    @property
    def parameters(self) -> int:
        """Number of trainable numbers (the blog's `layer.parameters`)."""
        return self.count_params()

    def get_config(self) -> dict:
        """Constructor arguments as plain Python values; `type(layer)(**config)` rebuilds it."""
        config = {"name": self.name, "input_shape": list(self.input_shape) if self.input_shape else None}
        if not self.trainable:
            config["trainable"] = False
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config: dict) -> Layer:
        """`cls(**config)`; the base arguments a constructor does not take (`trainable`,
        `activity_regularizer`) are set on the new layer instead."""
        config = dict(config)
        parameters = inspect.signature(cls.__init__).parameters
        if not any(p.kind == p.VAR_KEYWORD for p in parameters.values()):
            extras = {key: config.pop(key) for key in ("trainable", "activity_regularizer")
                      if key in config and key not in parameters}
        else:
            extras = {}
        layer = cls(**config)
        for key, value in extras.items():
            setattr(layer, key, value)
        return layer

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} output_shape={self.output_shape}>"


def add_activity_penalty(layer: Layer, outputs) -> None:
    """Add `layer.activity_regularizer(output)` for each output to the loss (Keras's activity
    regularization: the penalty is summed over the batch, not divided by its size)."""
    from ..autodiff import Tensor
    from ..autodiff.symbolic import flatten_outputs

    regularizer = layer.activity_regularizer
    for output in flatten_outputs(outputs):
        if not isinstance(output, Tensor):
            continue
        value = np.asarray(regularizer(output.value), dtype=output.dtype)
        out = output
        layer.add_loss(Tensor(value, (out,), lambda g, out=out: (g * regularizer.gradient(out.value),)))


def _add_sublayer(owner: Layer, layer: Layer) -> None:
    sublayers = owner.__dict__.setdefault("_sublayers", [])
    if not any(existing is layer for existing in sublayers):
        sublayers.append(layer)


def normalize_shape(shape, argument: str) -> tuple[int, ...]:
    """Turn an int or a sequence of positive ints into a tuple, or raise naming `argument`."""
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        dims = tuple(int(d) for d in shape)
        ok = all(d > 0 and d == s for d, s in zip(dims, shape))
    except (TypeError, ValueError):
        ok = False
    if not ok or not dims:
        raise ValueError(f"`{argument}` must be a positive int or a tuple of positive ints. Received: {argument}={shape!r}")
    return dims


def check_positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
    return int(value)


def snake_case(name: str) -> str:
    """`BatchNormalization` -> `batch_normalization`, `MaxPooling2D` -> `max_pooling2d` (Keras's rule)."""
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)).lower()
