"""Layers. Every layer follows the `Layer` contract in `layers.base`."""

from .activation_layers import ELU, Activation, LeakyReLU, ReLU, Softmax
from .attention import Attention
from .base import Layer
from .input_layer import Input, InputLayer
from .conv import Conv2d, Conv2D
from .conv1d import Conv1D
from .conv_transpose import Conv1DTranspose, Conv2DTranspose
from .core import Dropout, Flatten, Reshape, SpatialDropout1D, SpatialDropout2D
from .dense import FFL, Dense
from .embedding import Embedding
from .global_max_pooling2d import GlobalMaxPooling2D
from .layer_normalization import LayerNormalization
from .masking import Masking
from .multi_head_attention import MultiHeadAttention
from .merging import Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract, add, concatenate
from .normalization import BatchNormalization
from .preprocessing_layers import Normalization, Rescaling
from .pooling import AveragePooling2D, GlobalAveragePooling2D, MaxPooling2D, Pool2d
from .pooling1d import AveragePooling1D, GlobalAveragePooling1D, GlobalMaxPooling1D, MaxPooling1D
from .recurrent import GRU, LSTM, RepeatVector, SimpleRNN
from .regularization import ActivityRegularization, GaussianNoise
from .reshaping import Cropping1D, Cropping2D, Upsample, UpSampling1D, UpSampling2D, ZeroPadding1D, ZeroPadding2D
from .text_vectorization import TextVectorization
from .wrappers import Bidirectional, TimeDistributed

LAYERS = {cls.__name__: cls for cls in (
    Dense, FFL, Conv2D, Conv2d, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, Pool2d,
    Flatten, Reshape, Dropout, BatchNormalization,
    Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot,
    SimpleRNN, LSTM, GRU, RepeatVector, Embedding, LayerNormalization,
    Conv1D, MaxPooling1D, AveragePooling1D, GlobalAveragePooling1D, GlobalMaxPooling1D,
    UpSampling1D, UpSampling2D, ZeroPadding1D, ZeroPadding2D, Cropping1D, Cropping2D,
    Conv1DTranspose, Conv2DTranspose, TimeDistributed, Upsample,
    Activation, ReLU, LeakyReLU, ELU, Softmax, Rescaling, Normalization, GlobalMaxPooling2D, GaussianNoise,
    ActivityRegularization,
    MultiHeadAttention, Attention, Bidirectional, Masking,  # issue 13 (sequences)
    SpatialDropout1D, SpatialDropout2D,
    TextVectorization,  # issue 13 (text)
)}

__all__ = ["Layer", "Input", "InputLayer", "Dense", "FFL", "Conv2D", "Conv2d", "MaxPooling2D", "AveragePooling2D",
           "GlobalAveragePooling2D", "Pool2d", "Flatten", "Reshape", "Dropout", "BatchNormalization",
           "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot", "add", "concatenate",
           "SimpleRNN", "LSTM", "GRU", "RepeatVector", "Embedding", "LayerNormalization",
           "Conv1D", "MaxPooling1D", "AveragePooling1D", "GlobalAveragePooling1D", "GlobalMaxPooling1D",
           "UpSampling1D", "UpSampling2D", "ZeroPadding1D", "ZeroPadding2D", "Cropping1D", "Cropping2D",
           "Conv1DTranspose", "Conv2DTranspose", "TimeDistributed", "Upsample", "LAYERS",
           "Activation", "ReLU", "LeakyReLU", "ELU", "Softmax", "Rescaling", "Normalization", "GlobalMaxPooling2D",
           "GaussianNoise", "ActivityRegularization",
           "MultiHeadAttention", "Attention", "Bidirectional", "Masking",
           "SpatialDropout1D", "SpatialDropout2D", "TextVectorization"]
