"""barenet: a deep-learning library written from scratch on NumPy.

The blog's API (`NN`, `FFL`, `compile_model`, `train`) and Keras's
(`Sequential`, `Dense`, `compile`, `fit`, `evaluate`, `predict`) on the same objects.
"""

from . import activations, callbacks, initializers, layers, losses, metrics, optimizers, regularizers
from .callbacks import Callback, History
from .layers import FFL, Dense, Layer
from .model import NN, Sequential
from .utils import one_hot_encoding, to_categorical

__version__ = "0.1.0"

__all__ = [
    "NN", "Sequential", "FFL", "Dense", "Layer", "Callback", "History",
    "to_categorical", "one_hot_encoding",
    "activations", "callbacks", "initializers", "layers", "losses", "metrics", "optimizers",
    "regularizers",
    "__version__",
]
