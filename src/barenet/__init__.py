"""barenet: a deep-learning library written from scratch on NumPy.

The blog's API (`NN`, `FFL`, `compile_model`, `train`) and Keras's
(`Sequential`, `Dense`, `compile`, `fit`, `evaluate`, `predict`) on the same objects.
"""

from . import autodiff, activations, callbacks, datasets, initializers, layers, losses, metrics, optimizers, regularizers, saving
from .callbacks import Callback, History
from .layers import (FFL, Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract, AveragePooling2D, BatchNormalization, Conv2d, Conv2D, Dense, Dropout, Flatten,
                     GlobalAveragePooling2D, Layer, MaxPooling2D, Pool2d, Reshape)
from .models import NN, Input, InputLayer, Model, Sequential
from .preprocessing import normalize, standardize, train_test_split
from .saving import ModelFileError, load_model
from .utils import one_hot_encoding, to_categorical

__version__ = "0.1.0"

__all__ = [
    "NN", "Sequential", "Model", "Input", "InputLayer", "FFL", "Dense", "Layer",
    "Conv2D", "Conv2d", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D", "Pool2d",
    "Flatten", "Reshape", "Dropout", "BatchNormalization",
    "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot", "Callback", "History",
    "to_categorical", "one_hot_encoding", "normalize", "standardize", "train_test_split",
    "load_model", "ModelFileError",
    "autodiff", "activations", "callbacks", "datasets", "initializers", "layers", "losses", "metrics", "optimizers", "saving",
    "regularizers",
    "__version__",
]
