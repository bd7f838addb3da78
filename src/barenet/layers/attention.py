"""Keras's `Attention`: dot-product (Luong-style) or concat (tanh) attention, written with the
engine's ops (its gradient comes from the engine)."""

from __future__ import annotations

import numbers

import numpy as np

from ..autodiff import Tensor, ops
from .base import Layer
from .context import CONTEXT, to_tensors
from .multi_head_attention import LARGE_NEGATIVE


class Attention(Layer):
    """Attention of a query sequence over a value sequence, without projections:

        scores = query @ key^T  (times `scale` when `use_scale`)                 score_mode="dot"
        scores = concat_score_weight * sum(tanh(scale * (q_i + k_j)), -1)        score_mode="concat"
        weights = softmax(scores with -1e9 added where masked), dropout in training
        output = weights @ value   (rows of a masked query zeroed)

    Args:
        use_scale: Learn a scalar `scale` (initialized to 1) multiplying the scores. Defaults to False.
        score_mode: "dot" or "concat". Defaults to "dot".
        dropout: Dropout rate on the attention weights (training only). Defaults to 0.
        seed: Unused: dropout draws from the model's generator. Accepted for Keras's signature.
        name: Layer name. Defaults to one the model assigns.

    Call arguments:
        inputs: `[query, value]` or `[query, value, key]`, shapes `(batch, Tq, dim)`,
            `(batch, Tv, dim)`, `(batch, Tv, dim)`; key defaults to value.
        mask: `[query_mask, value_mask]`, booleans `(batch, Tq)` and `(batch, Tv)` (either may be None).
        return_attention_scores: Also return the weights `(batch, Tq, Tv)`.
        use_causal_mask: Forbid query position i attending to value positions after i.
        training: Whether dropout is active. Defaults to the model's mode.
    """

    def __init__(self, use_scale: bool = False, score_mode: str = "dot", dropout: float = 0.0, seed=None,
                 name: str | None = None, **kwargs):
        super().__init__(name=name, **kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError(f"`score_mode` must be 'dot' or 'concat'. Received: score_mode={score_mode!r}")
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) or not 0 <= dropout < 1:
            raise ValueError(f"`dropout` must be a number in [0, 1). Received: dropout={dropout!r}")
        self.use_scale, self.score_mode, self.dropout, self.seed = bool(use_scale), score_mode, float(dropout), seed

    def build(self, input_shape):
        self._check_list(input_shape, "inputs")
        self.scale = self.add_weight(shape=(), initializer="ones", name="scale") if self.use_scale else None
        self.concat_score_weight = (self.add_weight(shape=(), initializer="ones", name="concat_score_weight")
                                    if self.score_mode == "concat" else None)

    def _check_list(self, items, what):
        if not isinstance(items, (list, tuple)) or not 2 <= len(items) <= 3 or (
                what == "inputs" and not all(isinstance(i, (list, tuple, Tensor, np.ndarray)) for i in items)):
            raise ValueError(f"Layer {self.name!r} (Attention) must be called on a list [query, value] or "
                             f"[query, value, key]. Received: {what}={items!r:.120}")

    def call(self, inputs, mask=None, training=None, return_attention_scores=False, use_causal_mask=False):
        self._check_list(inputs, "inputs")
        query, value = to_tensors(inputs[0], self.dtype), to_tensors(inputs[1], self.dtype)
        key = to_tensors(inputs[2], self.dtype) if len(inputs) > 2 else value
        where = f"Layer {self.name!r} (Attention)"
        if query.ndim != 3 or value.ndim != 3 or key.shape != value.shape[:2] + key.shape[2:] or \
                query.shape[0] != value.shape[0]:
            raise ValueError(f"{where} expects query (batch, Tq, dim), value (batch, Tv, dim) and key (batch, Tv, "
                             f"dim). Received: query {query.shape}, value {value.shape}, key {key.shape}")
        if self.score_mode == "dot":
            if query.shape[-1] != key.shape[-1]:
                raise ValueError(f"{where} (score_mode='dot') needs query and key of the same last axis. Received: "
                                 f"query {query.shape}, key {key.shape}")
            scores = ops.matmul(query, ops.transpose(key, (0, 2, 1)))
            if self.scale is not None:
                scores = scores * self.scale
        else:
            summed = ops.expand_dims(query, -2) + ops.expand_dims(key, -3)
            if self.scale is not None:
                summed = summed * self.scale
            scores = self.concat_score_weight * ops.sum(ops.tanh(summed), axis=-1)
        n, tq, tv = query.shape[0], query.shape[1], value.shape[1]
        query_mask, value_mask = (None, None)
        if mask is not None:
            self._check_list(mask, "mask")
            query_mask, value_mask = mask[0], mask[1]
        allowed = None
        if value_mask is not None:
            allowed = _mask_array(value_mask, (n, tv), "value_mask", where)[:, None, :]
        if use_causal_mask:
            causal = (np.arange(tq)[:, None] >= np.arange(tv)[None, :])[None]
            allowed = causal if allowed is None else allowed & causal
        if allowed is not None:
            scores = scores + np.where(allowed, 0, LARGE_NEGATIVE).astype(scores.dtype)
        weights = ops.softmax(scores, axis=-1)
        applied = weights
        active = training if training is not None else CONTEXT.training
        if active and self.dropout > 0:
            rng = CONTEXT.rng or self._rng
            keep = (rng.random(weights.shape, dtype=weights.dtype) >= self.dropout) / (1 - self.dropout)
            applied = weights * keep.astype(weights.dtype)
        result = ops.matmul(applied, value)
        if query_mask is not None:
            result = result * _mask_array(query_mask, (n, tq), "query_mask", where)[:, :, None].astype(result.dtype)
        return (result, weights) if return_attention_scores else result

    def get_config(self):
        return {"name": self.name, **({} if self.trainable else {"trainable": False}), "use_scale": self.use_scale,
                "score_mode": self.score_mode, "dropout": self.dropout}


def _mask_array(mask, shape, what, where):
    array = np.asarray(getattr(mask, "value", mask))
    if array.shape != shape:
        raise ValueError(f"{where}: `{what}` must have shape {shape}. Received: shape {array.shape}")
    return array.astype(bool)
