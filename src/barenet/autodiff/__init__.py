"""A small reverse-mode autodiff engine over NumPy arrays.

`tensor.py` holds the `Tensor` (a value, its parents and a vector-Jacobian product)
and `backward`; the primitive operations, each beside its VJP, live by kind in
`elementwise.py`, `reductions.py`, `shapes.py` and `nn.py`, gathered in `ops.py`.
Layers with hand-derived gradients enter the graph as single nodes (`function.py`).
"""

from . import ops
from .tensor import Tensor, Variable, as_tensor, backward, backward_pass_count, grad_enabled, no_grad, unbroadcast

__all__ = ["Tensor", "Variable", "as_tensor", "backward", "backward_pass_count", "grad_enabled", "no_grad",
           "unbroadcast", "ops"]
