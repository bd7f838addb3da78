"""The engine's core: a `Tensor` that remembers how it was made, and `backward`.

A tensor holds a NumPy array (`value`), the tensors it was computed from
(`parents`) and a vector-Jacobian product (`vjp`): given dLoss/dOutput, it returns
dLoss/dParent for each parent. That is all reverse-mode autodiff needs:

    y = f(a, b)            ->  Tensor(f(a.value, b.value), parents=(a, b), vjp=...)
    backward(loss)         ->  visit tensors from the loss back to the leaves, once
                               each, in reverse topological order; a tensor used
                               twice receives the sum of both gradients

Leaves that require a gradient (a `Variable`, or a tensor made with
`requires_grad=True`) keep it in `.grad`; intermediate gradients and the graph
itself are dropped as soon as backward has used them, so memory is released
node by node. Integer and boolean tensors never carry a gradient.

Operator overloads (`a + b`, `a @ b`, `a[i]`, ...) live in `autodiff.ops`, which
installs them on `Tensor`; this module knows nothing about particular operations.
"""

from __future__ import annotations

import contextlib

import numpy as np

_grad_enabled = True
_backward_passes = 0  # how many backward passes have run; layers use it to accumulate shared gradients


class Tensor:
    """A value in the graph.

    Args:
        value: The array (anything `np.asarray` accepts).
        parents: Tensors this one was computed from. Defaults to none (a leaf).
        vjp: `vjp(grad) -> tuple` of gradients, one per parent (None where a parent
            gets none). Required when `parents` is not empty.
        requires_grad: Whether gradients flow to (or through) this tensor. Defaults
            to whether any parent requires one; a leaf defaults to False.
    """

    __slots__ = ("value", "parents", "vjp", "requires_grad", "grad", "source", "_keras_mask", "__weakref__")
    __array_priority__ = 1000  # `ndarray + Tensor` calls Tensor.__radd__

    def __init__(self, value, parents=(), vjp=None, requires_grad=None):
        self.value = value if isinstance(value, np.ndarray) else np.asarray(value)
        if requires_grad is None:
            requires_grad = any(p.requires_grad for p in parents)
        self.requires_grad = bool(requires_grad and _grad_enabled and self.value.dtype.kind in "fc")
        # A tensor nobody will differentiate through forgets its inputs at once.
        self.parents = tuple(parents) if self.requires_grad else ()
        self.vjp = vjp if self.requires_grad else None
        self.grad = None
        self.source = None  # the layer whose hand-written forward produced this tensor, if any
        self._keras_mask = None  # a boolean Tensor (batch, steps) of real steps (see layers.masking)

    # --- array-like --------------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self.value.shape

    @property
    def dtype(self) -> np.dtype:
        return self.value.dtype

    @property
    def ndim(self) -> int:
        return self.value.ndim

    @property
    def size(self) -> int:
        return self.value.size

    def __len__(self) -> int:
        return len(self.value)

    def numpy(self) -> np.ndarray:
        return self.value

    def __array__(self, dtype=None, copy=None):
        return self.value if dtype is None else self.value.astype(dtype, copy=False)

    def __float__(self) -> float:
        return float(self.value)

    def __bool__(self) -> bool:
        return bool(self.value)

    def __repr__(self) -> str:
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor(shape={self.shape}, dtype={self.dtype}{grad})"

    def backward(self, grad=None) -> None:
        """Backpropagate from this tensor; `grad` defaults to 1 for a single-element tensor."""
        backward([self], None if grad is None else [grad])


class Variable(Tensor):
    """A trainable leaf: wraps a layer's weight array (the same object, updated in place).

    Args:
        value: The weight array; optimizers update it in place, so the variable always
            sees the current weights.
        name: The weight's name within its layer (e.g. "kernel").
        trainable: Whether gradients are computed for it. Defaults to True.
    """

    __slots__ = ("name", "_trainable")

    def __init__(self, value: np.ndarray, name: str = "variable", trainable: bool = True):
        self._trainable = bool(trainable)
        super().__init__(value, requires_grad=trainable)
        self.name = name

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, flag: bool) -> None:
        self._trainable = bool(flag)

    @property
    def requires_grad(self) -> bool:  # follows `trainable` and no_grad(), never stored
        return self._trainable and _grad_enabled and self.value.dtype.kind in "fc"

    @requires_grad.setter
    def requires_grad(self, flag) -> None:
        pass

    def assign(self, value) -> None:
        """Overwrite the weights in place (shape must match)."""
        value = np.asarray(value.value if isinstance(value, Tensor) else value)
        if value.shape != self.value.shape:
            raise ValueError(f"Variable {self.name!r} has shape {self.value.shape}. Received: shape {value.shape}")
        self.value[...] = value

    def __repr__(self) -> str:
        return f"Variable(name={self.name!r}, shape={self.shape}, dtype={self.dtype}, trainable={self.trainable})"


def as_tensor(value, dtype=None) -> Tensor:
    """`value` itself if it is a Tensor, else a constant (gradient-free) Tensor of it."""
    if isinstance(value, Tensor):
        return value
    array = np.asarray(value, dtype=dtype)
    if dtype is None and array.dtype == np.float64 and not isinstance(value, np.ndarray):
        array = array.astype(np.float32)  # Python floats become float32, as in Keras
    return Tensor(array)


def backward(roots, grads=None) -> int:
    """Backpropagate from `roots`, seeded with `grads` (ones for single-element roots).

    Visits each tensor once, in reverse topological order, summing the gradients of a
    tensor used more than once. Leaves that require a gradient accumulate it in `.grad`;
    every other node drops its gradient, its parents and its vjp once used.

    Returns:
        The number of this backward pass (layers use it to tell a second call apart).
    """
    global _backward_passes
    _backward_passes += 1
    roots = list(roots)
    if grads is None:
        grads = [None] * len(roots)
    pending: dict[int, np.ndarray] = {}
    for root, grad in zip(roots, grads):
        if not root.requires_grad:
            continue
        if grad is None:
            if root.size != 1:
                raise ValueError(f"backward() needs `grad` for a non-scalar tensor. Received: shape {root.shape}")
            grad = np.ones_like(root.value)
        _accumulate(pending, root, np.asarray(grad, dtype=root.dtype))
    for node in reversed(_topological_order(roots)):
        grad = pending.pop(id(node), None)
        if grad is None:
            continue
        if node.vjp is None:  # a leaf: its own array (`grad` may be a view or another tensor's)
            node.grad = np.array(grad) if node.grad is None else node.grad + grad
            continue
        parent_grads = node.vjp(grad)
        for parent, parent_grad in zip(node.parents, parent_grads):
            if parent_grad is not None and parent.requires_grad:
                _accumulate(pending, parent, parent_grad)
        node.parents, node.vjp = (), _freed  # free the graph behind us
    return _backward_passes


def _freed(grad):
    raise RuntimeError("Backward has already run through this part of the graph and freed it; compute the "
                       "forward pass again to backpropagate again.")


def _accumulate(pending: dict, tensor: Tensor, grad) -> None:
    key = id(tensor)
    if key in pending:
        pending[key] = pending[key] + grad  # a new array: `grad` may be another tensor's buffer
    else:
        pending[key] = grad


def _topological_order(roots) -> list:
    """Tensors reachable from `roots` through parents that require a gradient, parents first."""
    order, visited = [], set()
    for root in roots:
        if not root.requires_grad or id(root) in visited:
            continue
        visited.add(id(root))
        stack = [(root, iter(root.parents))]
        while stack:
            node, parents = stack[-1]
            for parent in parents:
                if parent.requires_grad and id(parent) not in visited:
                    visited.add(id(parent))
                    stack.append((parent, iter(parent.parents)))
                    break
            else:
                stack.pop()
                order.append(node)
    return order


def backward_pass_count() -> int:
    """The number of the most recent backward pass."""
    return _backward_passes


@contextlib.contextmanager
def no_grad():
    """Inside this block, new tensors record no graph (inference: less memory, less time)."""
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, False
    try:
        yield
    finally:
        _grad_enabled = previous


def grad_enabled() -> bool:
    return _grad_enabled


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum `grad` over the axes that broadcasting added or stretched, back to `shape`."""
    if grad.shape == tuple(shape):
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad.reshape(shape)
