"""Keras's `MultiHeadAttention` (Vaswani et al., 2017) with a hand-derived backward pass.

The whole layer (three input projections, scaled dot-product attention per head, the
output projection) is ONE node of the graph: its forward pass is a handful of matrix
products over all heads at once, and its vector-Jacobian product is derived by hand:

    Q = x_q Wq + bq,  K = x_k Wk + bk,  V = x_v Wv + bv          (split into heads)
    S = Q K^T / sqrt(key_dim) + adder,   adder = -1e9 where the mask is False (as Keras)
    P = softmax(S) (stable: the row maximum is subtracted),   D = dropout(P)
    O = D V,   out = concat_heads(O) Wo + bo

    dS = P * (dP - sum(dP * P, -1)),  dP = (dO V^T) * dropout_mask
    dQ = dS K / sqrt(key_dim),  dK = dS^T Q / sqrt(key_dim),  dV = D^T dO

Weights follow Keras 3's layouts (its EinsumDense kernels), under this layer's names:

    query_kernel (query_dim, num_heads, key_dim)    query_bias (num_heads, key_dim)
    key_kernel   (key_dim_in, num_heads, key_dim)   key_bias   (num_heads, key_dim)
    value_kernel (value_dim_in, num_heads, value_dim) value_bias (num_heads, value_dim)
    output_kernel (num_heads, value_dim, output_dim)  output_bias (output_dim,)
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .. import initializers, regularizers
from ..autodiff import Tensor
from ..autodiff.symbolic import KerasTensor
from ..seeding import context_generator
from .attention_axes import AxesLayout, check_attention_axes, resolve_attention_axes
from .base import Layer, check_positive_int
from .context import CONTEXT, to_tensors

LARGE_NEGATIVE = -1e9  # what Keras adds to masked scores before the softmax


class MultiHeadAttention(Layer):
    """Multi-head attention: `num_heads` scaled dot-product attentions side by side.

    Args:
        num_heads: Number of attention heads.
        key_dim: Size of each head for query and key.
        value_dim: Size of each head for value. Defaults to `key_dim`.
        dropout: Dropout rate on the attention probabilities (training only). Defaults to 0.
        use_bias: Whether the projections have biases. Defaults to True.
        output_shape: Size of the output's last axis. Defaults to the query's last axis.
        attention_axes: The axes attended over: an int or a tuple of ints (axes of the query,
            negative ones counted from the end), never the batch or the last (features) axis.
            The other axes act as more batch axes. None: every axis but batch and features (the
            sequence axis of `(batch, steps, features)` inputs). Defaults to None.
        kernel_initializer: For the four kernels. Defaults to "glorot_uniform".
        bias_initializer: For the biases. Defaults to "zeros".
        kernel_regularizer, bias_regularizer: Penalties (a regularizer or a name). Default None.
        seed: Unused: dropout draws from the model's generator. Accepted for Keras's signature.
        name: Layer name. Defaults to one the model assigns.

    Call arguments:
        query: `(batch, Tq, query_dim)`, or any rank >= 3 with `attention_axes`.
        value: `(batch, Tv, value_dim_in)`: the query's rank, the same batch and non-attention axes.
        key: `(batch, Tv, key_dim_in)`. Defaults to `value`.
        attention_mask: Boolean `(batch, Tq, Tv)` (or broadcastable to it): False stops a query
            attending to a key. With `attention_axes`: broadcastable to
            `(batch, *other axes, *query attention axes, *key attention axes)`.
        query_mask, value_mask, key_mask: Boolean padding masks of the inputs' shapes without
            their features (`(batch, Tq)`, `(batch, Tv)`, `(batch, Tv)`), combined with
            `attention_mask` as Keras does.
        return_attention_scores: Also return the attention probabilities
            `(batch, num_heads, Tq, Tv)` (with `attention_axes`: `(batch, *other axes, num_heads,
            *query attention axes, *key attention axes)`), before dropout; no gradient flows back
            through them.
        training: Whether dropout is active. Defaults to the model's mode.
        use_causal_mask: Also forbid each query position attending to later key positions (with
            several attention axes: later in their flattened, row-major order).

    Returns the query's shape with `output_dim` features, and the scores when asked.
    """

    def __init__(self, num_heads: int, key_dim: int | None = None, value_dim: int | None = None, dropout: float = 0.0,
                 use_bias: bool = True, output_shape=None, attention_axes=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, seed=None, name: str | None = None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.num_heads = check_positive_int("num_heads", num_heads)
        if key_dim is None:
            raise ValueError("MultiHeadAttention needs `key_dim`, the size of each attention head for query and key. "
                             "Received: key_dim=None")
        self.key_dim = check_positive_int("key_dim", key_dim)
        self.value_dim = self.key_dim if value_dim is None else check_positive_int("value_dim", value_dim)
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) or not 0 <= dropout < 1:
            raise ValueError(f"`dropout` must be a number in [0, 1). Received: dropout={dropout!r}")
        self.dropout = float(dropout)
        self.use_bias = bool(use_bias)
        if output_shape is not None:
            dims = output_shape if isinstance(output_shape, (list, tuple)) else (output_shape,)
            if len(dims) != 1:
                raise ValueError("`output_shape` must be one integer (the output's last axis); several output axes "
                                 f"are not supported. Received: output_shape={output_shape!r}")
            output_shape = check_positive_int("output_shape", dims[0])
        self._output_dim = output_shape
        self.attention_axes = check_attention_axes(attention_axes)
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        initializers.get(kernel_initializer), initializers.get(bias_initializer)  # fail early on a bad name
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.seed = seed

    # --- calling --------------------------------------------------------------------------------
    def __call__(self, query=None, value=None, key=None, **kwargs):
        if query is None or value is None:
            raise TypeError(f"Layer {self.name or 'multi_head_attention'!r} (MultiHeadAttention) needs `query` and "
                            f"`value`. Received: query={_describe(query)}, value={_describe(value)}")
        if not self.built:
            shapes = [_shape(t) for t in (query, value, value if key is None else key)]
            dtype = next((np.dtype(getattr(t, "dtype", None)) for t in (query, value, key)
                          if t is not None and np.dtype(getattr(t, "dtype", "float32")).kind == "f"), None)
            self._maybe_build(shapes, CONTEXT.rng or context_generator(), dtype)
        return super().__call__(query, value, key, **kwargs)

    def build(self, input_shape, rng=None, dtype=None):
        if not self.__dict__.get("_building"):
            return super().build(input_shape, rng, dtype)
        query_shape, value_shape, key_shape = input_shape
        for what, shape in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            if len(shape) < 3 or shape[-1] is None or len(shape) != len(query_shape):
                raise ValueError(f"Layer {self.name!r} (MultiHeadAttention) expects `{what}` of shape "
                                 "(batch, steps, features) (or of one rank >= 3 for query, value and key, with "
                                 f"`attention_axes`). Received: {what} shape {tuple(shape)}")
        resolve_attention_axes(self.attention_axes, len(query_shape), f"Layer {self.name!r} (MultiHeadAttention)")
        h, k, v = self.num_heads, self.key_dim, self.value_dim
        out = self._output_dim or query_shape[-1]
        for part, width, size in (("query", query_shape[-1], k), ("key", key_shape[-1], k),
                                  ("value", value_shape[-1], v)):
            self._weight(f"{part}_kernel", (width, h, size), self.kernel_initializer, self.kernel_regularizer)
            if self.use_bias:
                self._weight(f"{part}_bias", (h, size), self.bias_initializer, self.bias_regularizer)
        self._weight("output_kernel", (h, v, out), self.kernel_initializer, self.kernel_regularizer)
        if self.use_bias:
            self._weight("output_bias", (out,), self.bias_initializer, self.bias_regularizer)

    def _weight(self, name, shape, initializer, regularizer):
        # Keras's EinsumDense kernels are initialized with the fans of their full shape, as here.
        self.add_weight(shape=shape, initializer=initializer, name=name, regularizer=regularizer)

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None, attention_mask=None,
             return_attention_scores=False, training=None, use_causal_mask=False):
        query, value = to_tensors(query, self.dtype), to_tensors(value, self.dtype)
        key = value if key is None else to_tensors(key, self.dtype)
        layout = self._check_inputs(query, value, key)
        mask = self._combined_mask(layout, query.shape, value.shape, query_mask, value_mask, key_mask,
                                   attention_mask, use_causal_mask)
        dropout = self.dropout if (training if training is not None else CONTEXT.training) else 0.0
        out, scores = attention_node(self, layout.to_sequences(query, layout.tq), layout.to_sequences(value, layout.tv),
                                     layout.to_sequences(key, layout.tv), mask, dropout)
        out = layout.from_sequences(out)
        return (out, Tensor(layout.scores(scores.value))) if return_attention_scores else out

    def _check_inputs(self, query, value, key):
        where = f"Layer {self.name!r} (MultiHeadAttention)"
        expected = {"query": self.params["query_kernel"].shape[0], "value": self.params["value_kernel"].shape[0],
                    "key": self.params["key_kernel"].shape[0]}
        for what, tensor in (("query", query), ("value", value), ("key", key)):
            if tensor.ndim < 3 or tensor.ndim != query.ndim or tensor.shape[-1] != expected[what]:
                steps = "steps" if query.ndim <= 3 else ", ".join(["..."] * (query.ndim - 2))
                raise ValueError(f"{where} was built for `{what}` of shape (batch, {steps}, {expected[what]}). "
                                 f"Received: {what} shape {tensor.shape}")
        axes = resolve_attention_axes(self.attention_axes, query.ndim, where)
        shared = (0, *(a for a in range(1, query.ndim - 1) if a not in axes))
        if (key.shape[:-1] != value.shape[:-1]
                or any(query.shape[a] != value.shape[a] for a in shared)):
            raise ValueError(f"{where} needs `key` and `value` of the same shape but for the features, and `query` "
                             f"of the same batch (and non-attention axes {shared[1:]}). Received: query "
                             f"{query.shape}, value {value.shape}, key {key.shape}")
        return AxesLayout(axes, query.shape, value.shape)

    def _combined_mask(self, layout, query_shape, value_shape, query_mask, value_mask, key_mask, attention_mask,
                       causal):
        """The boolean `(lead or 1, Tq or 1, Tv or 1)` mask (True: may attend), or None when nothing is masked."""
        where = f"Layer {self.name!r} (MultiHeadAttention)"
        mask = None

        def combine(part):
            nonlocal mask
            mask = part if mask is None else (mask & part)

        for what, given, shape, is_query in (("query_mask", query_mask, query_shape[:-1], True),
                                             ("value_mask", value_mask, value_shape[:-1], False),
                                             ("key_mask", key_mask, value_shape[:-1], False)):
            if given is None:
                continue
            array = np.asarray(getattr(given, "value", given))
            if array.shape != tuple(shape):
                raise ValueError(f"{where}: `{what}` must have shape {tuple(shape)}. Received: shape {array.shape}")
            combine(layout.padding_mask(array.astype(bool), is_query))
        if causal:
            combine(layout.causal_mask())
        if attention_mask is not None:
            array = np.asarray(getattr(attention_mask, "value", attention_mask))
            full = layout.mask_shape
            if (not 2 * len(layout.axes) <= array.ndim <= len(full)
                    or any(a not in (1, b) for a, b in zip(array.shape[::-1], full[::-1]))):
                layout_name = ("(batch, Tq, Tv)" if layout.identity else
                               "(batch, *other axes, *query attention axes, *key attention axes)")
                raise ValueError(f"{where}: `attention_mask` must have shape {layout_name} = {full} (or sizes of 1 "
                                 f"that broadcast). Received: shape {array.shape}")
            combine(array.astype(bool))
        return None if mask is None else layout.flatten_mask(mask)

    # --- describing ----------------------------------------------------------------------------
    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        return (*tuple(query_shape)[:-1], self._output_dim or tuple(query_shape)[-1])

    def get_config(self):
        return {"name": self.name, **({} if self.trainable else {"trainable": False}),
                "num_heads": self.num_heads, "key_dim": self.key_dim, "value_dim": self.value_dim,
                "dropout": self.dropout, "use_bias": self.use_bias, "output_shape": self._output_dim,
                "attention_axes": None if self.attention_axes is None else list(self.attention_axes),
                "kernel_initializer": self.kernel_initializer if isinstance(self.kernel_initializer, str)
                else "glorot_uniform",
                "bias_initializer": self.bias_initializer if isinstance(self.bias_initializer, str) else "zeros",
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer)}


# --- the node: forward and its hand-derived vector-Jacobian product ---------------------------------
def _heads(x2d, n, steps, heads):
    """`(n * steps, heads * size)` -> `(n, heads, steps, size)`."""
    return x2d.reshape(n, steps, heads, -1).transpose(0, 2, 1, 3)


def _merge_heads(x):
    """`(n, heads, steps, size)` -> `(n * steps, heads * size)`."""
    n, heads, steps, size = x.shape
    return x.transpose(0, 2, 1, 3).reshape(n * steps, heads * size)


def attention_node(layer, query: Tensor, value: Tensor, key: Tensor, mask, dropout: float):
    """The layer's output as one Tensor (and the probabilities, without gradient)."""
    p, v_ = layer.params, layer.__dict__["_variables"]
    h, kd = layer.num_heads, layer.key_dim
    n, tq, tv = query.shape[0], query.shape[1], value.shape[1]
    names = ["query_kernel", "key_kernel", "value_kernel", "output_kernel"]
    if layer.use_bias:
        names += ["query_bias", "key_bias", "value_bias", "output_bias"]
    w = {name: p[name].reshape(p[name].shape[0], -1) if name != "output_kernel" else
         p[name].reshape(-1, p[name].shape[-1]) for name in names if "kernel" in name}
    xq, xk, xv = (t.value.reshape(-1, t.shape[-1]) for t in (query, key, value))
    projected = []
    for part, x in (("query", xq), ("key", xk), ("value", xv)):
        z = x @ w[f"{part}_kernel"]
        if layer.use_bias:
            z += p[f"{part}_bias"].reshape(-1)
        projected.append(z)
    q = _heads(projected[0], n, tq, h)
    k = _heads(projected[1], n, tv, h)
    v = _heads(projected[2], n, tv, h)
    scale = query.dtype.type(1 / math.sqrt(kd))
    scores = (q @ k.transpose(0, 1, 3, 2)) * scale  # (n, h, tq, tv)
    if mask is not None:
        scores += np.where(mask, 0, LARGE_NEGATIVE).astype(scores.dtype)[:, None]
    scores -= scores.max(axis=-1, keepdims=True)
    probs = np.exp(scores, out=scores)
    probs /= probs.sum(axis=-1, keepdims=True)
    keep = None
    if dropout > 0:
        rng = CONTEXT.rng or layer._rng
        keep = (rng.random(probs.shape, dtype=probs.dtype) >= dropout) * probs.dtype.type(1 / (1 - dropout))
        dropped = probs * keep
    else:
        dropped = probs
    o = _merge_heads(dropped @ v)  # (n * tq, h * value_dim)
    out = o @ w["output_kernel"]
    if layer.use_bias:
        out += p["output_bias"]
    out = out.reshape(n, tq, -1)

    def vjp(g):
        g2 = g.reshape(n * tq, -1)
        grads = {"output_kernel": (o.T @ g2).reshape(p["output_kernel"].shape)}
        if layer.use_bias:
            grads["output_bias"] = g2.sum(axis=0)
        d_o = _heads(g2 @ w["output_kernel"].T, n, tq, h)  # (n, h, tq, value_dim)
        d_v = dropped.transpose(0, 1, 3, 2) @ d_o
        d_p = d_o @ v.transpose(0, 1, 3, 2)
        if keep is not None:
            d_p *= keep
        d_s = probs * (d_p - (d_p * probs).sum(axis=-1, keepdims=True))
        d_s *= scale
        d_q = d_s @ k
        d_k = d_s.transpose(0, 1, 3, 2) @ q
        inputs = {}
        for part, x, d in (("query", xq, d_q), ("key", xk, d_k), ("value", xv, d_v)):
            d2 = _merge_heads(d)
            grads[f"{part}_kernel"] = (x.T @ d2).reshape(p[f"{part}_kernel"].shape)
            if layer.use_bias:
                grads[f"{part}_bias"] = d2.sum(axis=0).reshape(p[f"{part}_bias"].shape)
            inputs[part] = (d2 @ w[f"{part}_kernel"].T).reshape(n, -1, x.shape[-1])
        return (inputs["query"], inputs["value"], inputs["key"], *(grads[name] for name in names))

    parents = (query, value, key, *(v_[name] for name in names))
    result = Tensor(out, parents, vjp)
    return result, Tensor(probs)


def _shape(tensor):
    if isinstance(tensor, KerasTensor):
        return tensor.shape
    return (None, *np.shape(getattr(tensor, "value", tensor))[1:])


def _describe(tensor):
    return "None" if tensor is None else f"shape {_shape(tensor)}"
