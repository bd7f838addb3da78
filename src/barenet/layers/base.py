"""The `Layer` base class: the contract every barenet layer follows.

A layer is built once its input shape is known (`build(input_shape, rng, dtype)`),
then maps whole batches (batch axis first):

    forward(x, training=False) -> output
    backward(grad) -> grad_input       # grad is dLoss/dOutput of the last forward

Trainable arrays live in `params`; `backward` fills `grads` under the same keys.
Both hold the same array objects for the layer's lifetime (updated in place,
never rebound), so optimizers and savers can keep references to them.
Non-trainable arrays that training updates (BatchNormalization's moving statistics)
live in `state`, also updated in place; savers store them beside `params`.

Weight penalties: a layer maps param keys to `barenet.regularizers` objects in
`self.regularizers`; `regularization_loss()` is their total on the current params
(the model adds it to the reported loss) and `backward` calls
`_add_regularization_grads()` after filling `grads`.
"""

from __future__ import annotations

import numbers
import re

import numpy as np

from .. import activations, initializers, regularizers


class Layer:
    """Base class for layers.

    `needs_input_grad` is False on a model's first layer, whose `backward` may then
    skip computing (and return None for) the gradient of its input.

    Args:
        input_shape: Shape of one sample (no batch axis), e.g. `(784,)` or `(28, 28, 1)`;
            only needed on the first layer of a model. An int means `(int,)`.
        name: Unique name within a model. Defaults to one the model assigns.
    """

    needs_input_grad = True

    def __init__(self, input_shape=None, name: str | None = None):
        self.input_shape = normalize_shape(input_shape, "input_shape") if input_shape is not None else None
        self.name = name
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.regularizers: dict = {}  # param key -> Regularizer
        self.state: dict[str, np.ndarray] = {}  # non-trainable arrays, updated in place (saved too)
        self.output_shape: tuple[int, ...] | None = None
        self.dtype: np.dtype | None = None
        self.built = False

    # --- building ------------------------------------------------------------------------
    def build(self, input_shape: tuple[int, ...], rng: np.random.Generator, dtype="float32") -> None:
        """Create parameters for samples of `input_shape`; subclasses extend `_build`."""
        input_shape = normalize_shape(input_shape, "input_shape")
        self.dtype = np.dtype(dtype)
        self.output_shape = self.compute_output_shape(input_shape)
        self._build(input_shape, rng)
        self.input_shape = input_shape
        self.grads = {key: np.zeros_like(value) for key, value in self.params.items()}
        self.built = True

    def _build(self, input_shape: tuple[int, ...], rng: np.random.Generator) -> None:
        """Create `self.params` (none by default)."""

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """Shape of one output sample for one input sample of `input_shape`."""
        return input_shape

    # --- computing -----------------------------------------------------------------------
    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _check_input(self, x: np.ndarray) -> None:
        """Raise a ValueError unless `x` is a batch of samples of this layer's `input_shape`."""
        if x.ndim != len(self.input_shape) + 1 or x.shape[1:] != self.input_shape:
            raise ValueError(
                f"Layer {self.name!r} ({type(self).__name__}) was built for input_shape={self.input_shape} "
                f"(plus a batch axis). Received: input_shape={tuple(x.shape[1:])} (a batch of shape {x.shape})"
            )

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
    def count_params(self) -> int:
        return int(sum(p.size for p in self.params.values()))

    @property
    def parameters(self) -> int:
        """Number of trainable numbers (the blog's `layer.parameters`)."""
        return self.count_params()

    def get_config(self) -> dict:
        """Constructor arguments as plain Python values; `type(layer)(**config)` rebuilds it."""
        return {"name": self.name, "input_shape": list(self.input_shape) if self.input_shape else None}

    @classmethod
    def from_config(cls, config: dict) -> "Layer":
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} output_shape={self.output_shape}>"


class KernelLayer(Layer):
    """A layer computing `activation(x * weights + biases)` for some product `*` (Dense, Conv2D).

    Holds what such layers share: the activation, whether there is a bias, the
    initializers and the weight penalties, their config entries, and the blog's
    `weights` / `biases` attributes (the `params` arrays, assigned with a shape check).
    """

    def __init__(self, activation=None, use_bias: bool = True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, input_shape=None,
                 name: str | None = None):
        super().__init__(input_shape, name)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self._kernel_initializer_name = kernel_initializer if isinstance(kernel_initializer, str) else None
        self._bias_initializer_name = bias_initializer if isinstance(bias_initializer, str) else None
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        if self.kernel_regularizer is not None:
            self.regularizers["weights"] = self.kernel_regularizer
        if self.bias_regularizer is not None and self.use_bias:
            self.regularizers["biases"] = self.bias_regularizer

    # The blog's attribute names, the same arrays as `params`.
    @property
    def weights(self) -> np.ndarray | None:
        return self.params.get("weights")

    @weights.setter
    def weights(self, value):
        self._assign("weights", value)

    @property
    def biases(self) -> np.ndarray | None:
        return self.params.get("biases")

    @biases.setter
    def biases(self, value):
        self._assign("biases", value)

    def _assign(self, key: str, value, argument: str | None = None) -> None:
        """Copy `value` into `params[key]` after checking its shape; errors name `argument` (default `key`)."""
        if key not in self.params:
            raise ValueError(f"Layer {self.name!r} has no {key!r} yet: build it (add it to a model with a known input) first.")
        value = np.asarray(value)
        if value.shape != self.params[key].shape:
            raise ValueError(f"`{argument or key}` of layer {self.name!r} must have shape {self.params[key].shape}. "
                             f"Received: shape {value.shape}")
        self.params[key][...] = value

    def kernel_config(self) -> dict:
        """The config entries of the arguments above (`use_bias` included)."""
        return {
            "activation": self.activation.get_config(),
            "use_bias": self.use_bias,
            "kernel_initializer": self._kernel_initializer_name or "glorot_uniform",
            "bias_initializer": self._bias_initializer_name or "zeros",
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
        }


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
