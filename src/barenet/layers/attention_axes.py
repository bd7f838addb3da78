"""`MultiHeadAttention(attention_axes=...)`: attention over chosen axes of inputs of any rank >= 3.

Keras 3's semantics: for a query `(batch, d1, ..., dk, features)` the axes not attended over
(besides batch and features) act as more batch axes, and every position of the attention axes
(all of them together, flattened in the order given) attends to every position of the key's
attention axes. The layer reuses its rank-3 attention for this: the non-attention axes move
into the batch, the attention axes into one sequence axis,

    (batch, *other, *attention, features) -> (batch * prod(other), prod(attention), features),

and the output moves back. Both moves are engine reshapes and transposes, so their gradients
are exact permutations; the attention itself keeps its hand-derived backward.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..autodiff import Tensor
from ..autodiff.shapes import reshape, transpose


def check_attention_axes(attention_axes):
    """The constructor's check: None, an int, or a non-empty list/tuple of distinct ints -> None or a tuple."""
    if attention_axes is None:
        return None
    axes = (attention_axes,) if isinstance(attention_axes, numbers.Integral) else attention_axes
    if (isinstance(attention_axes, bool) or not isinstance(axes, (list, tuple)) or not axes
            or any(isinstance(a, bool) or not isinstance(a, numbers.Integral) for a in axes)):
        raise ValueError("`attention_axes` must be None, an int or a non-empty list/tuple of ints (axes of the "
                         f"query, batch and features excluded). Received: attention_axes={attention_axes!r}")
    axes = tuple(int(a) for a in axes)
    if len(set(axes)) != len(axes):
        raise ValueError(f"`attention_axes` must not repeat an axis. Received: attention_axes={attention_axes!r}")
    if 0 in axes:
        raise ValueError("`attention_axes` must not include the batch axis 0. "
                         f"Received: attention_axes={attention_axes!r}")
    return axes


def resolve_attention_axes(attention_axes, rank: int, where: str) -> tuple:
    """The attention axes as non-negative axes of inputs of `rank`, in the order given.

    None means every axis but batch and features (Keras's default). Negative axes count from
    the end of the input (-2 is the axis before the features).
    """
    if attention_axes is None:
        return tuple(range(1, rank - 1))
    resolved = []
    for axis in attention_axes:
        a = axis + rank if axis < 0 else axis
        if not 1 <= a <= rank - 2:
            what = ("the batch axis" if a == 0 else "the last (features) axis" if a == rank - 1
                    else "out of range")
            raise ValueError(f"{where}: `attention_axes` must name axes 1 .. {rank - 2} (or {2 - rank} .. -2) of "
                             f"inputs of rank {rank}; axis {axis} is {what}. Received: attention_axes="
                             f"{attention_axes!r}")
        resolved.append(a)
    if len(set(resolved)) != len(resolved):
        raise ValueError(f"{where}: `attention_axes` names one axis twice for inputs of rank {rank}. "
                         f"Received: attention_axes={attention_axes!r}")
    return tuple(resolved)


class AxesLayout:
    """How inputs of one rank map to the rank-3 attention and back, for given attention axes."""

    def __init__(self, axes: tuple, query_shape: tuple, value_shape: tuple):
        rank = len(query_shape)
        self.axes = axes
        self.other = tuple(a for a in range(1, rank - 1) if a not in axes)
        self.perm = (0, *self.other, *axes, rank - 1)
        self.inverse = tuple(np.argsort(self.perm))
        self.lead_shape = (query_shape[0], *(query_shape[a] for a in self.other))
        self.query_positions = tuple(query_shape[a] for a in axes)
        self.key_positions = tuple(value_shape[a] for a in axes)
        self.lead = math.prod(self.lead_shape)
        self.tq, self.tv = math.prod(self.query_positions), math.prod(self.key_positions)
        # The scores without their heads axis, the layout attention masks broadcast to (Keras's).
        self.mask_shape = (*self.lead_shape, *self.query_positions, *self.key_positions)

    @property
    def identity(self) -> bool:
        """True for rank-3 inputs attending over their one sequence axis (nothing moves)."""
        return len(self.perm) == 3

    def to_sequences(self, tensor: Tensor, positions: int) -> Tensor:
        """`(batch, ...)` -> `(batch * prod(other), positions, features)`, gradient tracked."""
        if self.identity:
            return tensor
        return reshape(transpose(tensor, self.perm), (self.lead, positions, tensor.shape[-1]))

    def from_sequences(self, tensor: Tensor) -> Tensor:
        """The attention's `(lead, Tq, out)` back to the query's layout `(batch, ..., out)`."""
        if self.identity:
            return tensor
        moved = reshape(tensor, (*self.lead_shape, *self.query_positions, tensor.shape[-1]))
        return transpose(moved, self.inverse)

    def scores(self, probs: np.ndarray) -> np.ndarray:
        """`(lead, heads, Tq, Tv)` -> Keras's `(batch, *other, heads, *query attention, *key attention)`."""
        return probs.reshape(*self.lead_shape, probs.shape[1], *self.query_positions, *self.key_positions)

    def padding_mask(self, array: np.ndarray, is_query: bool) -> np.ndarray:
        """A `(batch, ...)` padding mask (the input's shape without features) in the mask layout."""
        moved = np.transpose(array, self.perm[:-1])
        ones = (1,) * len(self.axes)
        if is_query:
            return moved.reshape(*moved.shape, *ones)
        return moved.reshape(*self.lead_shape, *ones, *self.key_positions)

    def causal_mask(self) -> np.ndarray:
        """Query position i (flattened, row-major over the attention axes) sees key positions <= i."""
        causal = np.arange(self.tq)[:, None] >= np.arange(self.tv)[None, :]
        return causal.reshape(*(1,) * len(self.lead_shape), *self.query_positions, *self.key_positions)

    def flatten_mask(self, mask: np.ndarray) -> np.ndarray:
        """A mask broadcastable to `mask_shape` -> `(lead or 1, Tq or 1, Tv or 1)` for the rank-3 attention."""
        mask = mask.reshape((1,) * (len(self.mask_shape) - mask.ndim) + mask.shape)
        n_lead = len(self.lead_shape)
        lead = (1,) * n_lead if all(s == 1 for s in mask.shape[:n_lead]) else self.lead_shape
        if len(self.axes) == 1:  # sizes of 1 may stay: the attention broadcasts them
            tail = flat_tail = mask.shape[n_lead:]
        else:
            tail, flat_tail = self.mask_shape[n_lead:], (self.tq, self.tv)
        return np.broadcast_to(mask, (*lead, *tail)).reshape(math.prod(lead), *flat_tail)
