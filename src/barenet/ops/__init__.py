"""Keras's `ops` over barenet's autodiff engine: `from barenet import ops; ops.mean(ops.square(y - p))`.

Each op accepts tensors, NumPy arrays, nested lists and Python numbers, and returns an
engine `Tensor` (`ops.convert_to_numpy` gives back an array, `ops.shape` a tuple), so a
custom loss, layer or model written with these ops gets its gradient from the engine.
On symbolic tensors (functional models) an op records a graph node instead. Arguments
and defaults follow `keras.ops`; non-numeric input is a `TypeError` naming the op and
the argument.

The modules mirror the engine's: `elementwise`, `reductions`, `shapes` (and creation),
`nn` (activations, softmax family, one_hot), `core` (conversion, dtypes, shapes).
"""

from .core import cast, convert_to_numpy, convert_to_tensor, dtype, ndim, shape, size, stop_gradient
from .elementwise import (abs, absolute, add, clip, cos, divide, dot, equal, erf, exp, expm1, greater, greater_equal,
                          less, less_equal, log, log1p, logical_and, logical_not, logical_or, logical_xor, matmul,
                          maximum, minimum, multiply, negative, not_equal, power, sign, sin, sqrt, square, subtract,
                          true_divide, where)
from .nn import (elu, gelu, hard_sigmoid, leaky_relu, log_softmax, one_hot, relu, relu6, sigmoid, silu, softmax,
                 softplus, swish, tanh)
from .reductions import argmax, argmin, cumsum, einsum, logsumexp, max, mean, min, norm, prod, std, sum, var
from .shapes import (arange, concatenate, expand_dims, eye, full, full_like, ones, ones_like, pad, repeat, reshape,
                     split, squeeze, stack, take, take_along_axis, tile, transpose, zeros, zeros_like)

__all__ = [
    "convert_to_tensor", "convert_to_numpy", "cast", "stop_gradient", "shape", "ndim", "dtype", "size",
    "add", "subtract", "multiply", "divide", "true_divide", "negative", "power", "matmul", "dot", "maximum", "minimum",
    "abs", "absolute", "sign", "exp", "expm1", "log", "log1p", "sqrt", "square", "sin", "cos", "erf", "clip", "where",
    "equal", "not_equal", "greater", "greater_equal", "less", "less_equal",
    "logical_and", "logical_or", "logical_xor", "logical_not",
    "sum", "mean", "max", "min", "argmax", "argmin", "var", "std", "prod", "cumsum", "logsumexp", "norm", "einsum",
    "reshape", "transpose", "expand_dims", "squeeze", "concatenate", "stack", "split", "take", "take_along_axis",
    "tile", "repeat", "pad", "zeros", "ones", "full", "zeros_like", "ones_like", "full_like", "arange", "eye",
    "relu", "relu6", "leaky_relu", "elu", "gelu", "sigmoid", "hard_sigmoid", "tanh", "softplus", "silu", "swish",
    "softmax", "log_softmax", "one_hot",
]
