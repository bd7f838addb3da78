"""Keras's core ops: converting to and from tensors, dtypes, shapes, `stop_gradient`.

Also the one argument check every op in `barenet.ops` uses: numbers, arrays, nested
lists of numbers and tensors are accepted; anything else is a `TypeError` naming the
op and the argument.
"""

from __future__ import annotations

import numpy as np

from ..autodiff import Tensor, as_tensor
from ..autodiff import ops as engine
from ..autodiff.symbolic import symbolic_op

_NUMBERS = (bool, int, float, complex, np.number, np.bool_)


def _tensor(x, op: str, name: str = "x"):
    """`x` as an engine tensor (a Python number is passed on as is, to take the other operand's dtype).

    Raises:
        TypeError: If `x` is not numeric (a string, None, an object, a ragged list).
    """
    if isinstance(x, (Tensor, *_NUMBERS)):
        return x
    try:
        array = np.asarray(x)
    except ValueError:  # a ragged nested list
        array = None
    if array is None or array.dtype.kind not in "biufc":
        raise TypeError(f"`ops.{op}` expects numeric arrays or tensors. Received: {name} of type {type(x).__name__}")
    return as_tensor(x)


def _tensors(xs, op: str, name: str = "xs") -> list:
    """Each entry of a list or tuple of tensors, checked like `_tensor`."""
    if not isinstance(xs, (list, tuple)):
        raise TypeError(f"`ops.{op}` expects a list or tuple of tensors. Received: {name} of type {type(xs).__name__}")
    return [as_tensor(_tensor(x, op, f"{name}[{i}]")) for i, x in enumerate(xs)]


@symbolic_op
def convert_to_tensor(x, dtype=None, sparse=None) -> Tensor:
    """`x` as a tensor (a tensor is returned as is unless `dtype` differs); Python floats become float32."""
    if sparse:
        raise ValueError("barenet has no sparse tensors. Received: sparse=True")
    x = as_tensor(_tensor(x, "convert_to_tensor"))
    return x if dtype is None or x.dtype == np.dtype(dtype) else engine.cast(x, dtype)


def convert_to_numpy(x) -> np.ndarray:
    """The NumPy array behind a tensor (or `np.asarray(x)`)."""
    return as_tensor(_tensor(x, "convert_to_numpy")).value


@symbolic_op
def cast(x, dtype) -> Tensor:
    """`x` converted to `dtype`; the gradient is cast back."""
    return engine.cast(_tensor(x, "cast"), dtype)


@symbolic_op
def stop_gradient(variable) -> Tensor:
    """`variable`'s value as a constant: no gradient flows back through it."""
    return engine.stop_gradient(_tensor(variable, "stop_gradient", "variable"))


def shape(x) -> tuple:
    """The shape as a tuple (of a symbolic tensor too, with None for the batch axis)."""
    return tuple(x.shape) if hasattr(x, "shape") else as_tensor(_tensor(x, "shape")).shape


def ndim(x) -> int:
    """The number of axes."""
    return len(shape(x))


def dtype(x) -> str:
    """The dtype's name, e.g. "float32"."""
    return np.dtype(x.dtype).name if hasattr(x, "dtype") else as_tensor(_tensor(x, "dtype")).dtype.name


def size(x) -> int:
    """The number of entries."""
    return int(np.prod(shape(x)))
