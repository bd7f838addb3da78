"""The compiled kernels (numba): Conv2D's and MaxPooling2D's passes, fused, over the cores.

Each kernel is the NumPy code of its layer (`layers/conv.py`, `layers/pooling.py`, the
readable reference it is tested against) done in one parallel loop over the batch, so
that a sample's work stays in its core's cache:

- `conv_forward`: per sample, its columns (im2col, zeros for padding), one product with
  the weights, the bias and the ReLU, while the sample's output is still in cache.
- `conv_backward`: per block of samples (a fixed split, `block_bounds`), the ReLU's
  gradient, the block's share of the weight and bias gradients (added in block order
  afterwards, so the result never depends on the thread count), and per sample the input
  gradient: one product `dz @ weights^T` and its scatter back onto the pixels (col2im).
- `max_pool_forward` / `max_pool_backward`: per sample, each window's maximum and the
  offset that holds it (the first, as in the NumPy code), and the gradient sent back there.

Every sample is computed the same way whatever the number of threads, so results are
bit-identical across thread counts. Matrix products call NumPy's own BLAS (`blas.py`).
"""

from __future__ import annotations

import ctypes

import llvmlite.binding
import numpy as np
from numba import njit, prange, types

from .blas import NO_TRANS, ROW_MAJOR, TRANS, load

_functions = load()
if _functions is None:
    raise ImportError("NumPy's OpenBLAS (cblas_sgemm) was not found")
# The product is called by symbol name (registered with LLVM here, in every process), not
# through a ctypes object, so that numba can cache the compiled kernels on disk. Pointers
# travel as pointer-sized integers.
_integer = types.int64 if _functions[3] is ctypes.c_int64 else types.int32
llvmlite.binding.add_symbol("barenet_cblas_sgemm", ctypes.cast(_functions[0], ctypes.c_void_p).value)
_sgemm = types.ExternalFunction("barenet_cblas_sgemm", types.void(
    types.int32, types.int32, types.int32, _integer, _integer, _integer, types.float32, types.intp, _integer,
    types.intp, _integer, types.float32, types.intp, _integer))


@njit(nogil=True, cache=True)
def matmul(a, b, c, transpose_a, transpose_b):
    """`c = op(a) @ op(b)` for C-contiguous float32 matrices, `op` a transpose or not."""
    m, n = c.shape
    k = a.shape[0] if transpose_a else a.shape[1]
    _sgemm(ROW_MAJOR, TRANS if transpose_a else NO_TRANS, TRANS if transpose_b else NO_TRANS,
           m, n, k, 1.0, a.ctypes.data, a.shape[1], b.ctypes.data, b.shape[1], 0.0, c.ctypes.data, n)


@njit(nogil=True, cache=True)
def block_bounds(n, blocks, b):
    """Samples `[start, stop)` of block `b` of `blocks`: sizes differ by at most one."""
    base, extra = n // blocks, n % blocks
    start = b * base + min(b, extra)
    return start, start + base + (1 if b < extra else 0)


@njit(nogil=True, cache=True)
def _columns(x, s, cols, geometry):
    """im2col of sample `s`: row `y * ow + x` lists its window, `(kh, kw, channels)` order."""
    kh, kw, sh, sw, dh, dw, top, left, oh, ow = geometry
    _, h, w, c = x.shape
    for y in range(oh):
        for i in range(kh):
            r = y * sh + i * dh - top
            inside_r = 0 <= r < h
            for xx in range(ow):
                row = y * ow + xx
                for j in range(kw):
                    q = xx * sw + j * dw - left
                    base = (i * kw + j) * c
                    if inside_r and 0 <= q < w:
                        for ch in range(c):
                            cols[row, base + ch] = x[s, r, q, ch]
                    else:
                        for ch in range(c):
                            cols[row, base + ch] = 0


@njit(parallel=True, nogil=True, cache=True)
def conv_forward(x, weights, biases, relu, columns, out, geometry):
    """`out = act(columns(x) @ weights + biases)` (act: ReLU or none), keeping the columns.

    x `(n, h, w, c)`; weights `(kh * kw * c, filters)`; columns `(n * oh * ow, kh * kw * c)`
    and out `(n * oh * ow, filters)` are written.
    """
    n, per, filters = x.shape[0], geometry[8] * geometry[9], weights.shape[1]
    for s in prange(n):
        cols = columns[s * per:(s + 1) * per]
        _columns(x, s, cols, geometry)
        z = out[s * per:(s + 1) * per]
        matmul(cols, weights, z, False, False)
        for r in range(per):
            for k in range(filters):
                v = z[r, k] + biases[k]
                z[r, k] = v if (v > 0 or not relu) else 0


@njit(parallel=True, nogil=True, cache=True)
def conv_backward(grad, relu_out, relu, columns, weights, dz, grad_x, weight_parts, bias_parts, geometry,
                  with_input):
    """The gradients of `conv_forward`.

    grad `(n * oh * ow, filters)` is dL/d(output) (dL/dz when `relu` is False); relu_out the
    forward output. Writes dz, the per-block weight and bias sums `weight_parts` `(blocks,
    kh * kw * c, filters)` and `bias_parts` `(blocks, filters)`, and, if `with_input`,
    grad_x `(n, h, w, c)`.
    """
    kh, kw, sh, sw, dh, dw, top, left, oh, ow = geometry
    per, filters, width = oh * ow, weights.shape[1], weights.shape[0]
    blocks = weight_parts.shape[0]
    n = grad.shape[0] // per
    _, h, w, c = grad_x.shape
    for b in prange(blocks):
        start, stop = block_bounds(n, blocks, b)
        rows = slice(start * per, stop * per)
        g, d = grad[rows], dz[rows]
        if relu:
            out = relu_out[rows]
            for r in range(d.shape[0]):
                for k in range(filters):
                    d[r, k] = g[r, k] if out[r, k] > 0 else 0
        else:
            d[...] = g
        bias_parts[b] = 0
        if stop == start:
            weight_parts[b] = 0
            continue
        matmul(columns[rows], d, weight_parts[b], True, False)
        for r in range(d.shape[0]):
            for k in range(filters):
                bias_parts[b, k] += d[r, k]
        if not with_input:
            continue
        shares = np.empty((per, width), grad.dtype)
        for s in range(start, stop):
            matmul(dz[s * per:(s + 1) * per], weights, shares, False, True)
            grad_x[s] = 0
            for y in range(oh):
                for i in range(kh):
                    r = y * sh + i * dh - top
                    if r < 0 or r >= h:
                        continue
                    for xx in range(ow):
                        row = y * ow + xx
                        for j in range(kw):
                            q = xx * sw + j * dw - left
                            if 0 <= q < w:
                                base = (i * kw + j) * c
                                for ch in range(c):
                                    grad_x[s, r, q, ch] += shares[row, base + ch]


@njit(parallel=True, nogil=True, cache=True)
def max_pool_forward(x, out, winner, geometry):
    """Each window's maximum into `out`, and into `winner` the offset `i * pw + j` of the first
    entry holding it (padding never wins; a NaN, once met, is the window's value)."""
    ph, pw, sh, sw, top, left = geometry
    n, oh, ow, c = out.shape
    h, w = x.shape[1], x.shape[2]
    for s in prange(n):
        for y in range(oh):
            for xx in range(ow):
                for ch in range(c):
                    out[s, y, xx, ch] = -np.inf
                    winner[s, y, xx, ch] = 0
            for i in range(ph):
                r = y * sh + i - top
                if r < 0 or r >= h:
                    continue
                for xx in range(ow):
                    for j in range(pw):
                        q = xx * sw + j - left
                        if q < 0 or q >= w:
                            continue
                        k = i * pw + j
                        for ch in range(c):
                            v, best = x[s, r, q, ch], out[s, y, xx, ch]
                            if v > best:
                                out[s, y, xx, ch] = v
                                winner[s, y, xx, ch] = k
                            elif v != v and best == best:
                                out[s, y, xx, ch] = v


@njit(parallel=True, nogil=True, cache=True)
def max_pool_backward(grad, winner, grad_x, geometry):
    """Each window's gradient added to the entry that won it in `max_pool_forward`."""
    ph, pw, sh, sw, top, left = geometry
    n, oh, ow, c = grad.shape
    h, w = grad_x.shape[1], grad_x.shape[2]
    row_of, column_of = np.empty(ph * pw, np.int64), np.empty(ph * pw, np.int64)
    for k in range(ph * pw):
        row_of[k], column_of[k] = k // pw - top, k % pw - left
    for s in prange(n):
        for r in range(h):
            for q in range(w):
                for ch in range(c):
                    grad_x[s, r, q, ch] = 0
        for y in range(oh):
            for xx in range(ow):
                for ch in range(c):
                    k = winner[s, y, xx, ch]
                    r, q = y * sh + row_of[k], xx * sw + column_of[k]
                    if 0 <= r < h and 0 <= q < w:
                        grad_x[s, r, q, ch] += grad[s, y, xx, ch]
