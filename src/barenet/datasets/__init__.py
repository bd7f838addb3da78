"""Datasets and their file formats."""

from .idx import read_idx

__all__ = ["read_idx"]
