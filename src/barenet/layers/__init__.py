"""Layers. Every layer follows the `Layer` contract in `layers.base`."""

from .base import Layer
from .conv import Conv2d, Conv2D
from .core import Dropout, Flatten, Reshape
from .dense import FFL, Dense
from .embedding import Embedding
from .layer_normalization import LayerNormalization
from .normalization import BatchNormalization
from .pooling import AveragePooling2D, GlobalAveragePooling2D, MaxPooling2D, Pool2d
from .recurrent import GRU, LSTM, RepeatVector, SimpleRNN

LAYERS = {cls.__name__: cls for cls in (
    Dense, FFL, Conv2D, Conv2d, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, Pool2d,
    Flatten, Reshape, Dropout, BatchNormalization, SimpleRNN, LSTM, GRU, RepeatVector,
    Embedding, LayerNormalization,
)}

__all__ = ["Layer", "Dense", "FFL", "Conv2D", "Conv2d", "MaxPooling2D", "AveragePooling2D",
           "GlobalAveragePooling2D", "Pool2d", "Flatten", "Reshape", "Dropout", "BatchNormalization",
           "SimpleRNN", "LSTM", "GRU", "RepeatVector", "Embedding",
           "LayerNormalization", "LAYERS"]
