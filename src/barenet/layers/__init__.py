"""Layers. Every layer follows the `Layer` contract in `layers.base`."""

from .base import Layer
from .dense import FFL, Dense

LAYERS = {"Dense": Dense, "FFL": FFL}

__all__ = ["Layer", "Dense", "FFL", "LAYERS"]
