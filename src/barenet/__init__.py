"""barenet: a deep-learning library written from scratch on NumPy.

The blog's API (`NN`, `FFL`, `compile_model`, `train`) and Keras's
(`Sequential`, `Model`, `Input`, `Dense`, `compile`, `fit`, `evaluate`, `predict`)
on the same objects.
"""

from . import (activations, autodiff, callbacks, datasets, initializers, layers, losses, metrics, ops, optimizers,
               regularizers, saving, utils)
from .callbacks import Callback, History
from .layers import (FFL, GRU, LSTM, Add, Average, AveragePooling1D, AveragePooling2D, BatchNormalization, Concatenate,
                     Conv1D, Conv1DTranspose, Conv2d, Conv2D, Conv2DTranspose, Cropping1D, Cropping2D, Dense, Dot,
                     Dropout, Embedding, Flatten, GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalMaxPooling1D,
                     Layer, LayerNormalization, Maximum, MaxPooling1D, MaxPooling2D, Minimum, Multiply, Pool2d,
                     RepeatVector, Reshape, SimpleRNN, Subtract, TimeDistributed, UpSampling1D, UpSampling2D,
                     ZeroPadding1D, ZeroPadding2D)
from .layers import SpatialDropout1D, SpatialDropout2D
from .models import NN, Input, InputLayer, Model, Sequential
from .preprocessing import normalize, standardize, train_test_split
from .saving import ModelFileError, load_model
from .utils import one_hot_encoding, to_categorical

__version__ = "0.1.0"

__all__ = [
    "NN", "Sequential", "Model", "Input", "InputLayer", "FFL", "Dense", "Layer",
    "Conv2D", "Conv2d", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D", "Pool2d",
    "Flatten", "Reshape", "Dropout", "BatchNormalization",
    "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot",
    "SimpleRNN", "LSTM", "GRU", "RepeatVector",
    "Embedding", "LayerNormalization", "Conv1D", "MaxPooling1D", "AveragePooling1D", "GlobalAveragePooling1D",
    "GlobalMaxPooling1D", "UpSampling1D", "UpSampling2D", "ZeroPadding1D", "ZeroPadding2D", "Cropping1D", "Cropping2D",
    "Conv1DTranspose", "Conv2DTranspose", "TimeDistributed", "Callback", "History",
    "SpatialDropout1D", "SpatialDropout2D",
    "to_categorical", "one_hot_encoding", "normalize", "standardize", "train_test_split",
    "load_model", "ModelFileError",
    "autodiff", "activations", "callbacks", "datasets", "initializers", "layers", "losses", "metrics", "ops", "optimizers",
    "saving", "regularizers", "utils",
    "__version__",
]
