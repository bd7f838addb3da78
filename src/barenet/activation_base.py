"""The `Activation` contract (`forward` caches what `backward` needs) and the stable array helpers
that the activation modules share (`activations` and `activations_modern` both build on this)."""

from __future__ import annotations

import inspect

import numpy as np

from . import fast


class Activation:
    """Base class: identity. Subclasses override `forward` and `backward`."""

    name = "linear"

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x

    def forward_in_place(self, x: np.ndarray) -> np.ndarray:
        """`forward(x)`, free to overwrite `x` and return it.

        Layers call this on their own freshly computed pre-activations, which nothing else
        holds, to save allocating a second array of the same size (ReLU does so).
        """
        return self.forward(x)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return grad

    def get_config(self):
        """The name; where a constructor argument differs from its default (a `ReLU` with a slope,
        a `Softmax` over another axis), `{"class_name": ..., "config": {argument: value}}` instead,
        which `activations.get` takes back (a layer's config and a model file keep it)."""
        changed = self.changed_arguments()
        return {"class_name": type(self).__name__, "config": changed} if changed else self.name

    def changed_arguments(self) -> dict:
        """The constructor's arguments, read from the attributes of the same names, that differ from
        their defaults (plain Python values)."""
        changed = {}
        for name, parameter in inspect.signature(type(self).__init__).parameters.items():
            if parameter.default is inspect.Parameter.empty or name not in self.__dict__:
                continue
            value = self.__dict__[name]
            value = value.item() if isinstance(value, np.generic) else value
            if value is not parameter.default and not (type(value) in (bool, int, float, str, type(None))
                                                       and value == parameter.default):
                changed[name] = value
        return changed

    def __eq__(self, other):
        # The blog's code compares names (`layer.activation == "softmax"`); objects keep identity.
        if isinstance(other, str):
            return other == self.name
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.name)  # equal to its name, so it must hash like it

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def sigmoid_array(x: np.ndarray) -> np.ndarray:
    """Numerically stable logistic function (no overflow warning for large |x|)."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def softmax_array(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Softmax along `axis`, shifted by the maximum for stability."""
    e = _shifted_by_maximum(x, axis)
    np.exp(e, out=e)
    e /= e.sum(axis=axis, keepdims=True)
    return e


def _shifted_by_maximum(x: np.ndarray, axis: int) -> np.ndarray:
    """`x - x.max(axis=axis, keepdims=True)`, a new array: in one pass by `fast.output_kernels` for
    float32 rows along the last axis once the kernels are loaded (the softmax's bits are NumPy's)."""
    kernels = fast.loaded_output_kernels() if x.dtype == np.float32 else None
    if kernels is not None and x.ndim and axis in (-1, x.ndim - 1) and x.shape[-1] and x.flags.c_contiguous:
        out = np.empty_like(x)
        kernels.shifted_rows(x.reshape(-1, x.shape[-1]), out.reshape(-1, x.shape[-1]))
        return out
    return x - x.max(axis=axis, keepdims=True)
