"""`Input` and `InputLayer`: where a functional graph starts."""

from __future__ import annotations

import numbers

import numpy as np

from .. import config
from ..autodiff.symbolic import KerasTensor, Node
from .base import Layer


def sample_shape(shape, argument: str = "shape") -> tuple:
    """One sample's shape: positive ints, or None for a size known only at run time."""
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        dims = None
    if dims is None or not all(d is None or (isinstance(d, numbers.Integral) and not isinstance(d, bool) and d > 0)
                               for d in dims):
        raise ValueError(f"`{argument}` must be a tuple of positive ints (or None for a variable size). "
                         f"Received: {argument}={shape!r}")
    return tuple(None if d is None else int(d) for d in dims)


class InputLayer(Layer):
    """The layer behind `Input`: no computation, only the graph's entry point.

    Args:
        shape: One sample's shape (no batch axis), e.g. `(784,)`; None for a variable size.
        batch_size: Fixed batch size, or None (any). Defaults to None.
        dtype: Input dtype, e.g. "float32", "int32" (token ids) or "string" (texts, for a first
            `TextVectorization` layer). Defaults to "float32".
        name: Name of the input (and of the key in a dict of inputs). Defaults to one the model assigns.
    """

    def __init__(self, shape=None, batch_size=None, dtype=None, name: str | None = None, batch_shape=None,
                 input_shape=None):
        super().__init__(name=name)
        if batch_shape is not None:
            batch_size, shape = batch_shape[0], batch_shape[1:]
        shape = input_shape if shape is None else shape
        if shape is None:
            raise ValueError("Input needs `shape`, one sample's shape without the batch axis, e.g. shape=(784,).")
        self.sample_shape = sample_shape(shape)
        self.batch_size = batch_size
        if isinstance(dtype, str) and dtype in ("string", "str") or dtype in (str, object):
            self.input_dtype = np.dtype(object)  # texts, for a first TextVectorization layer
        else:
            self.input_dtype = np.dtype(dtype or config.floatx())
            if self.input_dtype.kind not in "biuf":
                raise TypeError(f"`dtype` must be a numeric dtype or \"string\". Received: dtype={dtype!r}")
        self.output_shape = self.sample_shape
        self.built = True
        node = Node(self)
        self.output = KerasTensor((batch_size, *self.sample_shape), self.input_dtype, node=node, index=0, name=name)
        node.outputs.append(self.output)

    def get_config(self):
        dtype = "string" if self.input_dtype.kind == "O" else str(self.input_dtype)
        return {"shape": list(self.sample_shape), "batch_size": self.batch_size, "dtype": dtype,
                "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def Input(shape=None, batch_size=None, dtype=None, name: str | None = None, batch_shape=None) -> KerasTensor:  # noqa: N802
    """A symbolic input tensor: `x = Input(shape=(784,))`; see `InputLayer` for the arguments."""
    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, name=name, batch_shape=batch_shape).output
