"""The compiled kernels (numba): Conv2D's and MaxPooling2D's passes, fused, over the cores.

Each kernel is the NumPy code of its layer (`layers/conv.py`, `layers/pooling.py`, the
readable reference it is tested against) done in one parallel loop over the batch, so
that a sample's work stays in its core's cache:

- `conv_forward`: per block of samples, their columns (im2col, zeros for padding), one
  product with the weights, the bias and the ReLU. The columns are a scratch array per
  block, not kept (nine times the input's size for a 3 x 3 kernel), and a block holds no
  more samples than their columns fit in a core's cache (`fast.conv_samples_in_cache`).
  Inputs of one or three channels (grayscale and RGB images, the usual first layer) have
  im2col loops of their own, without the channel loop.
- `conv_backward`: per block of samples (a fixed split, `block_bounds`), the block's share
  of the bias and weight gradients (added in block order afterwards, so the result never
  depends on the thread count) and the input gradient, a chunk of samples that fits in
  cache at a time: the chunk's ReLU gradient (a scratch array of the chunk's size), its
  columns built again from the input (the forward's values), their product with the ReLU's
  gradient added to the block's weight gradient, and one product `dz @ weights^T` scattered
  back onto the pixels (col2im).
- `conv_pool_forward` / `conv_pool_backward`: a Conv2D and the MaxPooling2D(2) after it as
  one pass (`layers.conv_pool`): the convolution's output pooled, and its gradient built, a
  block (chunk) at a time in cache, never written whole.
- `matmul_by_rows` / `matmul_by_columns`: Dense's products, split into fixed blocks of rows
  (or of columns, for the weight gradient), one product per block, under a held BLAS where the
  training step is not split by the layer's inputs (`dense_kernels.py`).
- `max_pool_2x2_forward` / `max_pool_2x2_backward`: `MaxPooling2D(2)` (2x2 windows, strides 2,
  no padding, the common case; other pools keep the NumPy code): per sample, each window's
  maximum and the offset that holds it (the first, as in the NumPy code), and the gradient
  sent back there.

Every sample is computed the same way whatever the number of threads, so results are
bit-identical across thread counts. Matrix products call NumPy's own BLAS (`blas.py`).
"""

from __future__ import annotations

import ctypes

import llvmlite.binding
import numpy as np
from numba import njit, prange, types

from .blas import NO_TRANS, ROW_MAJOR, TRANS, load
from .blocks import block_bounds

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


@njit(nogil=True, cache=True, error_model="numpy")
def matmul(a, b, c, transpose_a, transpose_b, accumulate=False):
    """`c = op(a) @ op(b)` (`c += ...` with `accumulate`) for float32 matrices whose rows are
    contiguous (column slices of a C-contiguous matrix too: the row stride is BLAS's leading
    dimension), `op` a transpose or not."""
    m, n = c.shape
    k = a.shape[0] if transpose_a else a.shape[1]
    _sgemm(ROW_MAJOR, TRANS if transpose_a else NO_TRANS, TRANS if transpose_b else NO_TRANS,
           m, n, k, 1.0, a.ctypes.data, a.strides[0] // 4, b.ctypes.data, b.strides[0] // 4,
           1.0 if accumulate else 0.0, c.ctypes.data, c.strides[0] // 4)


@njit(parallel=True, nogil=True, cache=True, error_model="numpy")
def matmul_by_rows(a, b, c, transpose_b, blocks):
    """`c = a @ op(b)`, the rows of `a` and `c` split into `blocks` fixed blocks (one product each)."""
    for k in prange(blocks):
        start, stop = block_bounds(a.shape[0], blocks, k)
        if stop > start:
            matmul(a[start:stop], b, c[start:stop], False, transpose_b)


@njit(parallel=True, nogil=True, cache=True, error_model="numpy")
def matmul_by_columns(a, b, c, blocks):
    """`c = a^T @ b` (a weight gradient), the columns of `b` and `c` split into `blocks` fixed blocks."""
    for k in prange(blocks):
        start, stop = block_bounds(b.shape[1], blocks, k)
        if stop > start:
            matmul(a, b[:, start:stop], c[:, start:stop], True, False)


@njit(nogil=True, cache=True, error_model="numpy")
def _columns(x, s, cols, geometry):
    """im2col of sample `s`: row `y * ow + x` lists its window, `(kh, kw, channels)` order."""
    kh, kw, sh, sw, dh, dw, top, left, oh, ow = geometry
    _, h, w, c = x.shape
    if c == 1:
        _columns_of_one_channel(x, s, cols, geometry)
        return
    if c == 3:
        _columns_of_three_channels(x, s, cols, geometry)
        return
    for y in range(oh):
        for i in range(kh):
            r = y * sh + i * dh - top
            inside = 0 <= r < h
            for xx in range(ow):
                row = y * ow + xx
                for j in range(kw):
                    q = xx * sw + j * dw - left
                    base = (i * kw + j) * c
                    if inside and 0 <= q < w:
                        for ch in range(c):
                            cols[row, base + ch] = x[s, r, q, ch]
                    else:
                        for ch in range(c):
                            cols[row, base + ch] = 0


@njit(nogil=True, cache=True, error_model="numpy")
def _columns_of_one_channel(x, s, cols, geometry):
    """`_columns` for one input channel (a grayscale image): the same values, one per tap, without
    the channel loop, whose start cost as much as its single copy (im2col of the benchmark CNN's
    first convolution, 64 images of 28 x 28: 1.4 -> 0.8 ms on one thread)."""
    kh, kw, sh, sw, dh, dw, top, left, oh, ow = geometry
    h, w = x.shape[1], x.shape[2]
    for y in range(oh):
        for i in range(kh):
            r = y * sh + i * dh - top
            inside = 0 <= r < h
            for xx in range(ow):
                row = y * ow + xx
                for j in range(kw):
                    q = xx * sw + j * dw - left
                    cols[row, i * kw + j] = x[s, r, q, 0] if inside and 0 <= q < w else 0


@njit(nogil=True, cache=True, error_model="numpy")
def _columns_of_three_channels(x, s, cols, geometry):
    """`_columns` for three input channels (an RGB image): each tap's three values copied one by one
    (64 images of 32 x 32 x 3, a 3 x 3 kernel: 2.3 -> 1.2 ms on one thread)."""
    kh, kw, sh, sw, dh, dw, top, left, oh, ow = geometry
    h, w = x.shape[1], x.shape[2]
    for y in range(oh):
        for i in range(kh):
            r = y * sh + i * dh - top
            inside = 0 <= r < h
            for xx in range(ow):
                target = cols[y * ow + xx]
                for j in range(kw):
                    q = xx * sw + j * dw - left
                    base = (i * kw + j) * 3
                    if inside and 0 <= q < w:
                        pixel = x[s, r, q]
                        target[base], target[base + 1], target[base + 2] = pixel[0], pixel[1], pixel[2]
                    else:
                        target[base], target[base + 1], target[base + 2] = 0, 0, 0


@njit(nogil=True, cache=True, error_model="numpy")
def _add_bias(z, biases, relu):
    """`z += biases`, then the ReLU if `relu`, in place (two loops: no test inside the inner one)."""
    if relu:
        for r in range(z.shape[0]):
            row = z[r]
            for k in range(z.shape[1]):
                row[k] = max(row[k] + biases[k], 0)
    else:
        for r in range(z.shape[0]):
            row = z[r]
            for k in range(z.shape[1]):
                row[k] += biases[k]


@njit(parallel=True, nogil=True, cache=True, error_model="numpy")
def conv_forward(x, weights, biases, relu, out, geometry, blocks):
    """`out = act(columns(x) @ weights + biases)` (act: ReLU or none).

    x `(n, h, w, c)`; weights `(kh * kw * c, filters)`; out `(n * oh * ow, filters)` is written a
    block of samples at a time (one product per block: a few samples' rows make a better-shaped
    product than one's, as long as their columns stay in cache: `fast.conv_forward_blocks`). The
    block's columns are a scratch array of the block's own, not kept:
    `conv_backward` builds them again from `x` (nine copies of the input for a 3 x 3 kernel are
    cheaper to rebuild in cache than to keep in memory and read back).
    """
    n, per, width = x.shape[0], geometry[8] * geometry[9], weights.shape[0]
    for b in prange(blocks):
        start, stop = block_bounds(n, blocks, b)
        if stop == start:
            continue
        columns = np.empty(((stop - start) * per, width), x.dtype)
        for s in range(start, stop):
            _columns(x, s, columns[(s - start) * per:(s - start + 1) * per], geometry)
        z = out[start * per:stop * per]
        matmul(columns, weights, z, False, False)
        _add_bias(z, biases, relu)


@njit(parallel=True, nogil=True, cache=True, error_model="numpy")
def conv_backward(grad, relu_out, relu, x, weights, grad_x, weight_parts, bias_parts, geometry, with_input, chunk):
    """The gradients of `conv_forward`.

    grad `(n * oh * ow, filters)` is dL/d(output) (dL/dz when `relu` is False); relu_out the
    forward output; x the forward input. Each block of samples works `chunk` samples at a time,
    so that the chunk's arrays stay in the core's cache from one pass to the next: the ReLU's
    gradient dz of the chunk's rows (a scratch array of the chunk's size, never one of the
    batch's) added to the block's bias sum, the chunk's columns built again from `x` (the same
    values as the forward's), their product with dz added to the block's weight sum, and, if
    `with_input`, one product `dz @ weights^T` (each row the gradient of one window) scattered
    back onto the pixels of grad_x `(n, h, w, c)` (col2im). Writes the per-block sums
    `weight_parts` `(blocks, kh * kw * c, filters)` and `bias_parts` `(blocks, filters)`: the same
    bits whatever the thread count (the blocks and chunks follow the shapes alone).
    """
    per, filters, width = geometry[8] * geometry[9], weights.shape[1], weights.shape[0]
    blocks = weight_parts.shape[0]
    n = grad.shape[0] // per
    for b in prange(blocks):
        start, stop = block_bounds(n, blocks, b)
        bias, columns, dz, shares = _block_start(b, min(chunk, stop - start) * per, weight_parts, bias_parts, width,
                                                 with_input)
        for first in range(start, stop, chunk):
            last = min(first + chunk, stop)
            rows, offset = (last - first) * per, first * per
            for r in range(rows):
                g, out, d = grad[offset + r], relu_out[offset + r], dz[r]
                for k in range(filters):
                    d[k] = g[k] if (not relu or out[k] > 0) else 0
            _chunk_gradients(dz[:rows], first, last, first > start, x, weights, columns, shares, weight_parts[b], bias,
                             grad_x, geometry, with_input)


@njit(nogil=True, cache=True, error_model="numpy")
def _block_start(b, rows, weight_parts, bias_parts, width, with_input):
    """Block `b`'s weight and bias sums zeroed, and its scratch arrays for chunks of `rows` rows:
    `(bias sum, columns, dz, shares)` (shares, the products to scatter, only `with_input`)."""
    bias = bias_parts[b]
    bias[:] = 0
    weight_parts[b] = 0
    columns = np.empty((rows, width), bias_parts.dtype)
    dz = np.empty((rows, bias_parts.shape[1]), bias_parts.dtype)
    return bias, columns, dz, np.empty_like(columns) if with_input else columns


@njit(nogil=True, cache=True, error_model="numpy")
def _chunk_gradients(dz, first, last, accumulate, x, weights, columns, shares, weight_part, bias, grad_x, geometry,
                     with_input):
    """The gradients from the chunk of samples `[first, last)` given its dz (one row per output pixel):
    dz's rows added to `bias` in order, the chunk's columns built again from `x` and their product with
    dz written to `weight_part` (added to it if `accumulate`), and with `with_input` the product
    `dz @ weights^T` scattered onto the chunk's pixels of grad_x (col2im). `columns` and `shares` are
    scratch arrays of at least the chunk's rows."""
    per, rows = geometry[8] * geometry[9], len(dz)
    for r in range(rows):
        d = dz[r]
        for k in range(len(bias)):
            bias[k] += d[k]
    for s in range(first, last):
        _columns(x, s, columns[(s - first) * per:(s - first + 1) * per], geometry)
    matmul(columns[:rows], dz, weight_part, True, False, accumulate)
    if with_input:
        matmul(dz, weights, shares[:rows], False, True)
        for s in range(first, last):
            _scatter(shares[(s - first) * per:(s - first + 1) * per], s, grad_x, geometry)


@njit(nogil=True, cache=True, error_model="numpy")
def _scatter(shares, s, grad_x, geometry):
    """col2im of sample `s`: `grad_x[s]` = the sum, over the windows, of each window's row of `shares`
    added back onto the pixels it was copied from (`_columns`' order)."""
    kh, kw, sh, sw, dh, dw, top, left, oh, ow = geometry
    _, h, w, c = grad_x.shape
    for r in range(h):
        for q in range(w):
            for ch in range(c):
                grad_x[s, r, q, ch] = 0
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


@njit(parallel=True, nogil=True, cache=True, error_model="numpy")
def conv_pool_forward(x, weights, biases, relu, pooled, winner, geometry, blocks):
    """`max_pool_2x2_forward` of `conv_forward`'s output in one pass (`layers.conv_pool`): each block's
    output rows are a scratch array, pooled while they are in the core's cache, so only the pooled
    maxima `(n, oh // 2, ow // 2, filters)` and their winners are written (winner 4 where the ReLU
    sends no gradient: `pool_image`). The same blocks, products and values as `conv_forward`."""
    n, oh, ow, filters = x.shape[0], geometry[8], geometry[9], weights.shape[1]
    per = oh * ow
    for b in prange(blocks):
        start, stop = block_bounds(n, blocks, b)
        if stop == start:
            continue
        columns = np.empty(((stop - start) * per, weights.shape[0]), x.dtype)
        z = np.empty(((stop - start) * per, filters), x.dtype)
        for s in range(start, stop):
            _columns(x, s, columns[(s - start) * per:(s - start + 1) * per], geometry)
        matmul(columns, weights, z, False, False)
        _add_bias(z, biases, relu)
        for s in range(start, stop):
            image = z[(s - start) * per:(s - start + 1) * per].reshape((oh, ow, filters))
            pool_image(image, pooled[s], winner[s], relu)


@njit(parallel=True, nogil=True, cache=True, error_model="numpy")
def conv_pool_backward(grad, winner, x, weights, grad_x, weight_parts, bias_parts, geometry, with_input, chunk):
    """The gradients of `conv_pool_forward` from grad `(n, oh // 2, ow // 2, filters)`, dL/d(pooled
    output): `conv_backward`'s, each chunk's dz built from grad instead of read, zeros but each
    window's gradient at its winner (none at winner 4). The same values and sums as the two
    layers' kernels (`max_pool_2x2_backward`, then `conv_backward`)."""
    ow, filters, width = geometry[9], weights.shape[1], weights.shape[0]
    per, half_h, half_w = geometry[8] * ow, grad.shape[1], grad.shape[2]
    blocks = weight_parts.shape[0]
    n = x.shape[0]
    for b in prange(blocks):
        start, stop = block_bounds(n, blocks, b)
        bias, columns, dz, shares = _block_start(b, min(chunk, stop - start) * per, weight_parts, bias_parts, width,
                                                 with_input)
        for first in range(start, stop, chunk):
            last = min(first + chunk, stop)
            rows = (last - first) * per
            dz[:rows] = 0
            for s in range(first, last):
                for y in range(half_h):
                    for xx in range(half_w):
                        corner = (s - first) * per + 2 * y * ow + 2 * xx
                        g, won = grad[s, y, xx], winner[s, y, xx]
                        for ch in range(filters):
                            k = won[ch]
                            if k < 4:
                                dz[corner + (k // 2) * ow + k % 2, ch] = g[ch]
            _chunk_gradients(dz[:rows], first, last, first > start, x, weights, columns, shares, weight_parts[b], bias,
                             grad_x, geometry, with_input)


@njit(parallel=True, nogil=True, cache=True, error_model="numpy")
def max_pool_2x2_forward(x, out, winner):
    """MaxPooling2D(2) (windows 2x2, strides 2, "valid"): each window's maximum into `out`, and into
    `winner` the offset (0 to 3, row-major) of the first entry holding it. The four candidates
    of a pixel are compared channel by channel in registers, a loop the compiler vectorizes."""
    for s in prange(out.shape[0]):
        pool_image(x[s], out[s], winner[s], False)


@njit(nogil=True, cache=True, error_model="numpy")
def pool_image(image, out, winner, relu):
    """`max_pool_2x2_forward` of one image `(h, w, c)`. With `relu` (the image is a ReLU's output) a
    window whose maximum is not positive gets winner 4: the ReLU sends it no gradient."""
    oh, ow, c = out.shape
    for y in range(oh):
        for xx in range(ow):
            a, b = image[2 * y, 2 * xx], image[2 * y, 2 * xx + 1]
            d, e = image[2 * y + 1, 2 * xx], image[2 * y + 1, 2 * xx + 1]
            best, won = out[y, xx], winner[y, xx]
            for ch in range(c):
                m, k = a[ch], 0
                if b[ch] > m:
                    m, k = b[ch], 1
                if d[ch] > m:
                    m, k = d[ch], 2
                if e[ch] > m:
                    m, k = e[ch], 3
                if relu and not m > 0:
                    k = 4
                best[ch], won[ch] = m, k


@njit(parallel=True, nogil=True, cache=True, error_model="numpy")
def max_pool_2x2_backward(grad, winner, grad_x):
    """Each window's gradient to the entry that won it in `max_pool_2x2_forward`, zeros elsewhere."""
    n, oh, ow, c = grad.shape
    h, w = grad_x.shape[1], grad_x.shape[2]
    for s in prange(n):
        for y in range(oh):
            for xx in range(ow):
                g, won = grad[s, y, xx], winner[s, y, xx]
                a, b = grad_x[s, 2 * y, 2 * xx], grad_x[s, 2 * y, 2 * xx + 1]
                d, e = grad_x[s, 2 * y + 1, 2 * xx], grad_x[s, 2 * y + 1, 2 * xx + 1]
                for ch in range(c):  # one loop per target: each a simple selection
                    a[ch] = g[ch] if won[ch] == 0 else 0
                for ch in range(c):
                    b[ch] = g[ch] if won[ch] == 1 else 0
                for ch in range(c):
                    d[ch] = g[ch] if won[ch] == 2 else 0
                for ch in range(c):
                    e[ch] = g[ch] if won[ch] == 3 else 0
        for r in range(2 * oh, h):  # an odd last row or column belongs to no window
            for q in range(w):
                grad_x[s, r, q] = 0
        for r in range(2 * oh):
            for q in range(2 * ow, w):
                grad_x[s, r, q] = 0
