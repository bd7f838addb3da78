"""Layers. Every layer follows the `Layer` contract in `layers.base`."""

from .base import Layer
from .input_layer import Input, InputLayer
from .conv import Conv2d, Conv2D
from .core import Dropout, Flatten, Reshape
from .dense import FFL, Dense
from .merging import Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract, add, concatenate
from .normalization import BatchNormalization
from .pooling import AveragePooling2D, GlobalAveragePooling2D, MaxPooling2D, Pool2d

LAYERS = {cls.__name__: cls for cls in (
    Dense, FFL, Conv2D, Conv2d, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, Pool2d,
    Flatten, Reshape, Dropout, BatchNormalization,
    Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot,
)}

__all__ = ["Layer", "Input", "InputLayer", "Dense", "FFL", "Conv2D", "Conv2d", "MaxPooling2D", "AveragePooling2D",
           "GlobalAveragePooling2D", "Pool2d", "Flatten", "Reshape", "Dropout", "BatchNormalization", "Add", "Subtract", "Multiply", "Average",
           "Maximum", "Minimum", "Concatenate", "Dot", "add", "concatenate", "LAYERS"]
