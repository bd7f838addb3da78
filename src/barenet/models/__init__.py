"""Models: `Model` (functional or subclassed), `Sequential` (the blog's `NN`), and `Input`."""

from ..layers.input_layer import Input, InputLayer
from .functional import Functional
from .model import Model
from .sequential import Sequential

NN = Sequential

__all__ = ["Model", "Functional", "Sequential", "NN", "Input", "InputLayer"]
