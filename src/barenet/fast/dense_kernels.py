"""Dense's products in training, split over the weights' rows (the layer's inputs) (numba).

On two or more cores, each core keeps its own share of a Dense layer's weights through the
whole step: block `k` of the weights' rows (inputs `start:stop`) is multiplied in the forward
pass, given its gradient in the backward pass, and updated by Adam (`adam_update`, whose fixed
blocks of the flat weights fall on the same rows) on the same thread. No core then writes
values that the other holds in its cache, which is what a product on BLAS's own threads makes
happen: both cores read all the weights in the forward pass, then the optimizer rewrites them
on one core, and every line the other core holds must be taken back from it first (on the
2-core test machine Adam's pass over a 784 x 128 kernel took 78-106 us after such a product,
against 32-35 us; see benchmarks/RESULTS.md).

- `forward_by_inputs`: `parts[k] = x[:, start:stop] @ weights[start:stop]`, each block's share of
  `x @ weights`; `finish_forward` then adds the shares in block order, the biases and a plain
  ReLU in one pass over the output (NumPy's three passes and their bits), and `relu_gradient`
  takes that ReLU's derivative from its output in the backward pass.
- `weight_gradient_by_inputs`: `grad[start:stop] = x[:, start:stop]^T @ dz`, the block's rows of
  `x^T @ dz`, the same dot products as the whole product's.
- `input_gradient_by_inputs`: `dx[:, start:stop] = dz @ weights[start:stop]^T`, the block's
  columns of `dz @ weights^T`, the same dot products as the whole product's.

Each has a twin, `..._here`, that runs the same blocks in turn on the calling thread (Dense uses
it at one thread: the same BLAS calls, without a parallel loop to start). The blocks depend on
the shapes alone (`fast.input_blocks`), so the results are bit-identical at every thread count;
only the forward pass rounds differently from NumPy's single product (a sum of shares), to
float32's rounding. The products call NumPy's own BLAS (`kernels.matmul`).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .blocks import block_bounds
from .kernels import matmul


@njit(nogil=True, cache=True, error_model="numpy")
def _forward_block(x, weights, parts, blocks, k):
    start, stop = block_bounds(weights.shape[0], blocks, k)
    matmul(x[:, start:stop], weights[start:stop], parts[k], False, False)


@njit(nogil=True, cache=True, error_model="numpy")
def _weight_gradient_block(x, dz, grad, blocks, k):
    start, stop = block_bounds(grad.shape[0], blocks, k)
    matmul(x[:, start:stop], dz, grad[start:stop], True, False)


@njit(nogil=True, cache=True, error_model="numpy")
def _input_gradient_block(dz, weights, dx, blocks, k):
    start, stop = block_bounds(weights.shape[0], blocks, k)
    matmul(dz, weights[start:stop], dx[:, start:stop], False, True)


@njit(parallel=True, nogil=True, cache=True, error_model="numpy")
def forward_by_inputs(x, weights, parts, blocks):
    """`parts[k] = x[:, inputs of block k] @ weights[inputs of block k]` (`parts`: blocks x rows x units)."""
    for k in prange(blocks):
        _forward_block(x, weights, parts, blocks, k)


@njit(parallel=True, nogil=True, cache=True, error_model="numpy")
def weight_gradient_by_inputs(x, dz, grad, blocks):
    """`grad = x^T @ dz`, the rows of `grad` (the inputs) split into `blocks` fixed blocks."""
    for k in prange(blocks):
        _weight_gradient_block(x, dz, grad, blocks, k)


@njit(parallel=True, nogil=True, cache=True, error_model="numpy")
def input_gradient_by_inputs(dz, weights, dx, blocks):
    """`dx = dz @ weights^T`, the columns of `dx` (the inputs) split into `blocks` fixed blocks."""
    for k in prange(blocks):
        _input_gradient_block(dz, weights, dx, blocks, k)


@njit(nogil=True, cache=True, error_model="numpy")
def finish_forward(parts, biases, with_bias, relu, z):
    """`z = parts[0] + parts[1] + ... (in block order) + biases`, then `np.maximum(z, 0)` if
    `relu`, in one pass, row by row, to NumPy's bits: each value is the same chain of float32
    additions, and the ReLU keeps NaN as it is and turns every other value not above 0 (-0.0
    included) into +0.0, as `np.maximum` does. `biases` is ignored (any float32 vector) unless
    `with_bias`."""
    for r in range(z.shape[0]):
        row, first, second = z[r], parts[0, r], parts[1, r]
        for c in range(z.shape[1]):
            row[c] = first[c] + second[c]
        for k in range(2, parts.shape[0]):
            part = parts[k, r]
            for c in range(z.shape[1]):
                row[c] += part[c]
        if with_bias:
            for c in range(z.shape[1]):
                row[c] += biases[c]
        if relu:
            for c in range(z.shape[1]):
                value = row[c]
                row[c] = value if value > 0 or np.isnan(value) else 0


@njit(nogil=True, cache=True, error_model="numpy")
def relu_gradient(grad, out, dz):
    """`dz = grad * (out > 0)` for a ReLU's output `out`, in one pass, to NumPy's bits (the same
    float32 product by 1 or 0: NaN where `grad` is NaN, or infinite under a 0)."""
    for r in range(dz.shape[0]):
        g, o, d = grad[r], out[r], dz[r]
        for c in range(dz.shape[1]):
            d[c] = g[c] * (np.float32(1) if o[c] > 0 else np.float32(0))


# The same blocks one after the other, for one thread: the same BLAS calls, so the same bits,
# without starting a parallel loop (which costs a few microseconds a call inside a training step).
@njit(nogil=True, cache=True, error_model="numpy")
def forward_by_inputs_here(x, weights, parts, blocks):
    """`forward_by_inputs` on the calling thread."""
    for k in range(blocks):
        _forward_block(x, weights, parts, blocks, k)


@njit(nogil=True, cache=True, error_model="numpy")
def weight_gradient_by_inputs_here(x, dz, grad, blocks):
    """`weight_gradient_by_inputs` on the calling thread."""
    for k in range(blocks):
        _weight_gradient_block(x, dz, grad, blocks, k)


@njit(nogil=True, cache=True, error_model="numpy")
def input_gradient_by_inputs_here(dz, weights, dx, blocks):
    """`input_gradient_by_inputs` on the calling thread."""
    for k in range(blocks):
        _input_gradient_block(dz, weights, dx, blocks, k)
