"""Symbolic tensors: placeholders that record a graph instead of computing (functional API)."""

from __future__ import annotations

import functools


class KerasTensor:
    """A placeholder with a shape and dtype (the batch axis is None); defined in full below."""


def contains_symbolic(structure) -> bool:
    """Whether a (nested) argument structure holds a `KerasTensor`."""
    if isinstance(structure, KerasTensor):
        return True
    if isinstance(structure, (list, tuple)):
        return any(contains_symbolic(item) for item in structure)
    if isinstance(structure, dict):
        return any(contains_symbolic(item) for item in structure.values())
    return False


def symbolic_op(fn):
    """Make an engine op usable on symbolic tensors: there it records a graph node instead."""

    @functools.wraps(fn)
    def op(*args, **kwargs):
        if contains_symbolic(args) or contains_symbolic(kwargs):
            return record_op(fn, args, kwargs)
        return fn(*args, **kwargs)

    op.raw = fn
    return op


def record_op(fn, args, kwargs):
    raise NotImplementedError("symbolic ops are being written")
