"""Kept for imports written against earlier versions: the models now live in `barenet.models`."""

from .models import NN, Model, Sequential

__all__ = ["NN", "Model", "Sequential"]
