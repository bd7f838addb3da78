"""barenet: a deep-learning library written from scratch on NumPy.

The blog's API (`NN`, `FFL`, `compile_model`, `train`) and Keras's
(`Sequential`, `Model`, `Input`, `Dense`, `compile`, `fit`, `evaluate`, `predict`)
on the same objects.
"""

from . import (activations, autodiff, callbacks, config, datasets, distributed, initializers, layers, losses, metrics,
               models, ops, optimizers, parallel, regularizers, saving, utils)
from .callbacks import Callback, History
from .layers import (ELU, FFL, GRU, LSTM, Activation, ActivityRegularization, GaussianNoise, GlobalMaxPooling2D,
                     LeakyReLU, Normalization, ReLU, Rescaling, Softmax)
from .layers import (Add, Average, AveragePooling1D, AveragePooling2D, BatchNormalization, Concatenate,
                     Conv1D, Conv1DTranspose, Conv2d, Conv2D, Conv2DTranspose, Cropping1D, Cropping2D, Dense, Dot,
                     Dropout, Embedding, Flatten, GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalMaxPooling1D,
                     Layer, LayerNormalization, Maximum, MaxPooling1D, MaxPooling2D, Minimum, Multiply, Pool2d,
                     RepeatVector, Reshape, SimpleRNN, Subtract, TimeDistributed, Upsample, UpSampling1D, UpSampling2D,
                     ZeroPadding1D, ZeroPadding2D)
from .layers import Attention, Bidirectional, Masking, MultiHeadAttention  # issue 13 (sequences)
from .layers import SpatialDropout1D, SpatialDropout2D
from .layers import TextVectorization  # issue 13 (text)
from .models import CNN, NN, Input, InputLayer, Model, Sequential
from .preprocessing import normalize, standardize, train_test_split
from .saving import ModelFileError, load_model, save_model
from .utils import one_hot_encoding, to_categorical

__version__ = "0.1.0"

__all__ = [
    "NN", "CNN", "Sequential", "Model", "Input", "InputLayer", "FFL", "Dense", "Layer",
    "Conv2D", "Conv2d", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D", "Pool2d",
    "Flatten", "Reshape", "Dropout", "BatchNormalization",
    "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot",
    "SimpleRNN", "LSTM", "GRU", "RepeatVector",
    "Embedding", "LayerNormalization", "Conv1D", "MaxPooling1D", "AveragePooling1D", "GlobalAveragePooling1D",
    "GlobalMaxPooling1D", "UpSampling1D", "UpSampling2D", "ZeroPadding1D", "ZeroPadding2D", "Cropping1D", "Cropping2D",
    "Conv1DTranspose", "Conv2DTranspose", "TimeDistributed", "Upsample", "Callback", "History",
    "Attention", "Bidirectional", "Masking", "MultiHeadAttention",
    "SpatialDropout1D", "SpatialDropout2D", "TextVectorization",
    "to_categorical", "one_hot_encoding", "normalize", "standardize", "train_test_split",
    "load_model", "save_model", "ModelFileError",
    "Activation", "ReLU", "LeakyReLU", "ELU", "Softmax", "Rescaling", "Normalization", "GlobalMaxPooling2D",
    "GaussianNoise", "ActivityRegularization",
    "autodiff", "activations", "config", "parallel", "models", "callbacks", "datasets", "initializers", "layers", "losses", "metrics", "ops", "optimizers",
    "saving", "regularizers", "utils", "distributed",
    "__version__",
]
