"""Models: `Model` (functional or subclassed), `Sequential` (the blog's `NN`), and `Input`; Keras's
`keras.models` functions `load_model`, `save_model`, `clone_model`, `model_from_json`."""

from ..layers.input_layer import Input, InputLayer
from .functional import Functional
from .json_config import clone_model, model_from_json
from .model import Model
from .sequential import Sequential

NN = Sequential
CNN = Sequential  # the CNN post's name for the same stacking class


def load_model(filepath, custom_objects: dict | None = None, compile: bool = True, safe_mode: bool = True):
    """Load a model file written by `save_model` / `model.save` (Keras's `keras.models.load_model`).

    Args:
        filepath: The file (a barenet model file, or the blog's JSON).
        custom_objects: Custom layer or model classes by name, known while loading.
        compile: Accepted for Keras compatibility; a saved model comes back compiled as it was saved.
        safe_mode: Accepted for Keras compatibility; barenet never runs code from a file.
    """
    from ..saving import load_model as load

    return load(filepath, custom_objects=custom_objects)


def save_model(model, filepath, overwrite: bool = True, **kwargs) -> None:
    """Save `model` to `filepath` (Keras's `keras.models.save_model`; see `Model.save`)."""
    from pathlib import Path

    from ..saving import save_model as save

    if not overwrite and Path(filepath).exists():
        raise FileExistsError(f"{str(filepath)!r} exists and overwrite=False.")
    save(model, filepath)


__all__ = ["Model", "Functional", "Sequential", "NN", "CNN", "Input", "InputLayer", "load_model", "save_model",
           "clone_model", "model_from_json"]
