"""Models: `Model` (functional or subclassed), `Sequential` (the blog's `NN`), and `Input`."""

from ..layers.input_layer import Input, InputLayer
from .functional import Functional
from .model import Model
from .sequential import Sequential

NN = Sequential
CNN = Sequential  # the CNN post's name for the same stacking class

__all__ = ["Model", "Functional", "Sequential", "NN", "CNN", "Input", "InputLayer"]
