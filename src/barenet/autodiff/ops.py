"""All of the engine's primitive operations in one namespace, and `Tensor`'s operators.

The ops live by kind: `elementwise.py` (arithmetic, math, comparisons, where, clip,
cast), `reductions.py` (sum, mean, max, var, prod, cumsum, logsumexp, einsum), `shapes.py`
(reshape, join, split, index, gather, tile, pad) and `nn.py` (activations, softmax
family, one_hot). Each op sits beside its vector-Jacobian product; this module only
gathers them (`from barenet.autodiff import ops; ops.add(a, b)`) and installs the
operator overloads on `Tensor` (`+ - * / ** @`, unary minus, `abs()`, indexing,
order comparisons). `==` is left as identity so tensors stay usable as dict keys.
"""

from __future__ import annotations

from .elementwise import (abs, add, cast, clip, cos, divide, equal, erf, exp, expm1, greater, greater_equal, less,
                          less_equal, log, log1p, logical_and, logical_not, logical_or, logical_xor, matmul, maximum,
                          minimum, multiply, negative, not_equal, power, sign, sin, sqrt, square, stop_gradient,
                          subtract, swap_last, where)
from .nn import (elu, gelu, hard_sigmoid, leaky_relu, log_softmax, one_hot, relu, relu6, sigmoid, silu, softmax,
                 softplus, swish, tanh)
from .reductions import argmax, argmin, cumsum, einsum, logsumexp, max, mean, min, prod, std, sum, var
from .shapes import (concatenate, expand_dims, getitem, pad, repeat, reshape, split, squeeze, stack, take,
                     take_along_axis, tile, transpose)
from .tensor import Tensor

__all__ = [
    "add", "subtract", "multiply", "divide", "negative", "power", "matmul", "maximum", "minimum",
    "exp", "log", "log1p", "expm1", "sqrt", "square", "abs", "sign", "sin", "cos", "erf",
    "where", "clip", "cast", "stop_gradient",
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
    "logical_and", "logical_or", "logical_xor", "logical_not",
    "sum", "mean", "max", "min", "argmax", "argmin", "var", "std", "prod", "cumsum", "logsumexp", "einsum",
    "reshape", "transpose", "expand_dims", "squeeze", "concatenate", "stack", "split", "getitem",
    "take", "take_along_axis", "tile", "repeat", "pad",
    "tanh", "sigmoid", "relu", "leaky_relu", "elu", "relu6", "hard_sigmoid", "softplus", "silu", "swish", "gelu",
    "softmax", "log_softmax", "one_hot", "swap_last",
]

Tensor.__add__ = lambda a, b: add(a, b)
Tensor.__radd__ = lambda a, b: add(b, a)
Tensor.__sub__ = lambda a, b: subtract(a, b)
Tensor.__rsub__ = lambda a, b: subtract(b, a)
Tensor.__mul__ = lambda a, b: multiply(a, b)
Tensor.__rmul__ = lambda a, b: multiply(b, a)
Tensor.__truediv__ = lambda a, b: divide(a, b)
Tensor.__rtruediv__ = lambda a, b: divide(b, a)
Tensor.__pow__ = lambda a, b: power(a, b)
Tensor.__rpow__ = lambda a, b: power(b, a)
Tensor.__matmul__ = lambda a, b: matmul(a, b)
Tensor.__rmatmul__ = lambda a, b: matmul(b, a)
Tensor.__neg__ = lambda a: negative(a)
Tensor.__pos__ = lambda a: a
Tensor.__abs__ = lambda a: abs(a)
Tensor.__getitem__ = lambda a, index: getitem(a, index)
Tensor.__lt__ = lambda a, b: less(a, b)
Tensor.__le__ = lambda a, b: less_equal(a, b)
Tensor.__gt__ = lambda a, b: greater(a, b)
Tensor.__ge__ = lambda a, b: greater_equal(a, b)
Tensor.T = property(lambda a: transpose(a))
Tensor.reshape = lambda a, *shape: reshape(a, shape[0] if len(shape) == 1 else shape)
Tensor.sum = lambda a, axis=None, keepdims=False: sum(a, axis, keepdims)
Tensor.mean = lambda a, axis=None, keepdims=False: mean(a, axis, keepdims)
