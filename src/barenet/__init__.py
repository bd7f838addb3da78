"""barenet: a deep-learning library written from scratch on NumPy.

The blog's API (`NN`, `FFL`, `compile_model`, `train`) and Keras's
(`Sequential`, `Dense`, `compile`, `fit`, `evaluate`, `predict`) on the same objects.
"""

from . import activations, callbacks, initializers, layers, losses, metrics, optimizers
from . import saving
from .callbacks import Callback, History
from .layers import FFL, Dense, Layer
from .model import NN, Sequential
from .saving import ModelFileError, load_model
from .utils import one_hot_encoding, to_categorical

__version__ = "0.1.0"

__all__ = [
    "NN", "Sequential", "FFL", "Dense", "Layer", "Callback", "History",
    "to_categorical", "one_hot_encoding", "load_model", "ModelFileError",
    "activations", "callbacks", "initializers", "layers", "losses", "metrics", "optimizers", "saving",
    "__version__",
]
