"""Merge layers: combine several tensors into one (`Add`, `Concatenate`, `Dot`, ...).

They are written with the engine's ops, so their gradients come from the engine:
`Add` passes the output gradient to every input, `Multiply` scales it by the other
inputs, `Concatenate` hands each input its slice, and so on (see `autodiff.ops`).
"""

from __future__ import annotations

import functools
import numbers

from ..autodiff import ops
from .base import Layer, snake_case


class Merge(Layer):
    """Base class: a list of at least two inputs of one shape (sizes of 1 broadcast)."""

    min_inputs = 2
    max_inputs = None

    def __init__(self, name: str | None = None, **kwargs):
        super().__init__(name=name, **kwargs)

    def build(self, input_shape):
        self._check_count(input_shape)
        self._check_shapes([tuple(shape) for shape in input_shape])

    def _check_count(self, input_shape):
        label = f"Layer {self._label()!r} ({type(self).__name__})"
        if not isinstance(input_shape, (list, tuple)) or not input_shape or not isinstance(input_shape[0], (list, tuple)):
            raise ValueError(f"{label} must be called on a list of tensors. Received: one tensor of shape {input_shape}")
        count = len(input_shape)
        if count < self.min_inputs or (self.max_inputs is not None and count > self.max_inputs):
            expected = self.min_inputs if self.max_inputs == self.min_inputs else f"at least {self.min_inputs}"
            raise ValueError(f"{label} needs {expected} inputs. Received: {count}")

    def _check_shapes(self, shapes):
        first = shapes[0]
        for shape in shapes[1:]:
            if len(shape) != len(first) or any(a is not None and b is not None and a != b and 1 not in (a, b)
                                               for a, b in zip(first[1:], shape[1:])):
                raise ValueError(f"Layer {self._label()!r} ({type(self).__name__}) needs inputs "
                                 f"of the same shape. Received: shapes {[tuple(s) for s in shapes]}")

    def _label(self) -> str:
        return self.name or snake_case(type(self).__name__)

    def call(self, inputs):
        return functools.reduce(self.merge, inputs)

    def merge(self, a, b):
        raise NotImplementedError

    def get_config(self):
        return {"name": self.name, **({} if self.trainable else {"trainable": False})}


class Add(Merge):
    """Sum of the inputs."""

    def merge(self, a, b):
        return ops.add(a, b)


class Subtract(Merge):
    """`inputs[0] - inputs[1]` (exactly two inputs)."""

    max_inputs = 2

    def merge(self, a, b):
        return ops.subtract(a, b)


class Multiply(Merge):
    """Elementwise product of the inputs."""

    def merge(self, a, b):
        return ops.multiply(a, b)


class Average(Merge):
    """Elementwise mean of the inputs."""

    def call(self, inputs):
        return ops.divide(functools.reduce(ops.add, inputs), float(len(inputs)))


class Maximum(Merge):
    """Elementwise maximum (the gradient goes to the input that is largest there)."""

    def merge(self, a, b):
        return ops.maximum(a, b)


class Minimum(Merge):
    """Elementwise minimum."""

    def merge(self, a, b):
        return ops.minimum(a, b)


class Concatenate(Merge):
    """Join the inputs along `axis` (their other sizes must agree).

    Args:
        axis: Axis to join along. Defaults to -1.
    """

    def __init__(self, axis: int = -1, name: str | None = None, **kwargs):
        super().__init__(name=name, **kwargs)
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
            raise ValueError(f"`axis` must be an integer. Received: axis={axis!r}")
        self.axis = int(axis)

    def _check_shapes(self, shapes):
        rank = len(shapes[0])
        if not -rank <= self.axis < rank or self.axis % rank == 0:
            raise ValueError(f"Layer {self._label()!r} (Concatenate): axis={self.axis} is not a feature axis of "
                             f"inputs of rank {rank}.")
        axis = self.axis % rank
        for shape in shapes:
            if len(shape) != rank or any(i != axis and a is not None and b is not None and a != b
                                         for i, (a, b) in enumerate(zip(shapes[0], shape)) if i):
                raise ValueError(f"Layer {self._label()!r} (Concatenate) needs inputs whose shapes match "
                                 f"except on axis {self.axis}. Received: shapes {[tuple(s) for s in shapes]}")

    def call(self, inputs):
        return ops.concatenate(list(inputs), axis=self.axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class Dot(Merge):
    """Dot product of two inputs along `axes`, per sample (Keras's batch dot).

    Rank-2 inputs `(batch, n)` give `(batch, 1)`; rank-3 inputs `(batch, n, d)` and
    `(batch, m, d)` with `axes=2` give `(batch, n, m)` (one matrix product per sample).

    Args:
        axes: The axis (or one axis per input) to sum over.
        normalize: L2-normalize both inputs along those axes first (cosine similarity).
            Defaults to False.
    """

    min_inputs = max_inputs = 2

    def __init__(self, axes, normalize: bool = False, name: str | None = None, **kwargs):
        super().__init__(name=name, **kwargs)
        pair = (axes, axes) if isinstance(axes, numbers.Integral) else tuple(axes)
        if len(pair) != 2 or not all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in pair):
            raise ValueError(f"`axes` must be an integer or a pair of integers. Received: axes={axes!r}")
        self.axes = tuple(int(a) for a in pair)
        self.normalize = bool(normalize)

    def _check_shapes(self, shapes):
        a, b = shapes
        if len(a) != len(b) or len(a) not in (2, 3):
            raise ValueError(f"Layer {self._label()!r} (Dot) supports two inputs of rank 2 or 3. "
                             f"Received: shapes {[tuple(s) for s in shapes]}")
        axis_a, axis_b = (ax % len(a) for ax in self.axes)
        if 0 in (axis_a, axis_b) or (a[axis_a] is not None and b[axis_b] is not None and a[axis_a] != b[axis_b]):
            raise ValueError(f"Layer {self._label()!r} (Dot): the axes {self.axes} must have the same size in "
                             f"both inputs and not be the batch axis. Received: shapes {[tuple(s) for s in shapes]}")

    def call(self, inputs):
        a, b = inputs
        axis_a, axis_b = (ax % a.ndim for ax in self.axes)
        if self.normalize:
            a = ops.divide(a, ops.sqrt(ops.add(ops.sum(ops.square(a), axis=axis_a, keepdims=True), 1e-12)))
            b = ops.divide(b, ops.sqrt(ops.add(ops.sum(ops.square(b), axis=axis_b, keepdims=True), 1e-12)))
        if a.ndim == 2:
            return ops.sum(ops.multiply(a, b), axis=1, keepdims=True)
        # rank 3: bring the summed axis last in `a` and second-to-last in `b`, then one matmul per sample
        if axis_a == 1:
            a = ops.transpose(a, (0, 2, 1))
        if axis_b == 2:
            b = ops.transpose(b, (0, 2, 1))
        return ops.matmul(a, b)

    def get_config(self):
        return {**super().get_config(), "axes": list(self.axes), "normalize": self.normalize}


def add(inputs, **kwargs):
    """Functional form of `Add`: `add([a, b])`."""
    return Add(**kwargs)(inputs)


def concatenate(inputs, axis: int = -1, **kwargs):
    """Functional form of `Concatenate`."""
    return Concatenate(axis=axis, **kwargs)(inputs)
