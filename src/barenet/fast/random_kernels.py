"""Compiled kernels (numba) for Dropout in training: the mask drawn and applied in one pass, from
the very stream NumPy's `Generator.random` reads, over the cores.

The reference (`layers/core.py`) draws `rng.random(shape, dtype=float32) >= rate` and then
multiplies. NumPy makes each float32 there from 32 bits of its PCG64's 64-bit outputs, the low
half of an output first and then its high half: `(bits >> 8) * 2**-24`. These kernels compute
the same outputs themselves, so the mask is NumPy's bit for bit (the tests check it):

- PCG64 is a 128-bit linear congruential generator, `state = state * MULTIPLIER + increment`
  (mod 2^128), whose output is the state's two halves folded by exclusive or and rotated
  right by the top 6 bits of the state ("XSL RR"). The 128-bit numbers here are pairs of
  64-bit halves; the high half of a 64 x 64-bit product comes from `_mul_high`, one machine
  multiply. Each output steps the state first, then folds the new state: NumPy's order.
- `k` steps at once are one affine map `state * a + c` (`_jump`, from O(log k) squarings): so a
  block of the array begins from the generator's state moved ahead to its first output,
  and the blocks run on separate cores; the mask does not depend on how many there are.

Each block fills a small buffer with outputs, then turns the buffer into the mask, then applies
it: three short loops, the last two vectorized. Measured on the test machine (2-core AMD
EPYC), a mask over 346,112 values (the benchmark CNN's first Dropout) took 405-414 us on one
thread and 206-273 us in two blocks on two. This module's earlier form, which called NumPy's
own C function through a pointer for each output, took 1,058-1,069 us and 606-813 us; NumPy's
`rng.random(...) >= rate` alone takes 654-724 us. (Four interleaved generators, so that their
multiplies need not wait on each other, drew no faster: the draw is bound by the instructions
of a step, about 2 ns an output, not by their latency.)
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.extending import intrinsic

# Outputs drawn at a time in a block: a buffer in the core's first-level cache.
BUFFER = 512
_UNIT = np.float32(1.0 / 16777216.0)  # 2**-24: NumPy's float32 from the top 24 of 32 bits
# PCG64's multiplier (PCG's default 128-bit one), as its high and low 64-bit halves.
MULTIPLIER = 0x2360ED051FC65DA44385DF649FCCF645
_ZERO, _ONE = np.uint64(0), np.uint64(1)


def halves(value: int) -> tuple:
    """A 128-bit Python integer as the kernels take it: `(high, low)` 64-bit halves (uint64)."""
    return np.uint64(value >> 64), np.uint64(value & 0xFFFFFFFFFFFFFFFF)


def whole(high, low) -> int:
    """The 128-bit Python integer of `(high, low)` halves (`halves`, back)."""
    return (int(high) << 64) | int(low)


_MULTIPLIER_HIGH, _MULTIPLIER_LOW = halves(MULTIPLIER)


@intrinsic
def _mul_high(typingctx, a, b):
    """The high 64 bits of the 128-bit product of two uint64 (one machine multiply)."""
    if a != types.uint64 or b != types.uint64:
        return None

    def codegen(context, builder, signature, args):
        wide = ir.IntType(128)
        product = builder.mul(builder.zext(args[0], wide), builder.zext(args[1], wide))
        return builder.trunc(builder.lshr(product, ir.Constant(wide, 64)), ir.IntType(64))

    return types.uint64(types.uint64, types.uint64), codegen


@njit(inline="always", nogil=True, cache=True)
def _mul(a_high, a_low, b_high, b_low):
    """`a * b` mod 2^128, as (high, low) halves."""
    return _mul_high(a_low, b_low) + a_low * b_high + a_high * b_low, a_low * b_low


@njit(inline="always", nogil=True, cache=True)
def _add(a_high, a_low, b_high, b_low):
    """`a + b` mod 2^128, as (high, low) halves."""
    low = a_low + b_low
    return a_high + b_high + (_ONE if low < a_low else _ZERO), low


@njit(inline="always", nogil=True, cache=True)
def _output(high, low):
    """PCG64's output of a state: XSL RR (the halves folded, rotated right by the top 6 bits)."""
    folded = high ^ low
    rotation = high >> np.uint64(58)
    return (folded >> rotation) | (folded << ((np.uint64(64) - rotation) & np.uint64(63)))


@njit(inline="always", nogil=True, cache=True)
def _low_uniform(raw):
    """NumPy's float32 in [0, 1) from an output's low 32 bits (its top 24 of them)."""
    return np.float32(np.int64((raw & np.uint64(0xFFFFFFFF)) >> np.uint64(8))) * _UNIT


@njit(nogil=True, cache=True)
def _jump(steps, increment_high, increment_low):
    """The affine map `state -> state * a + c` (mod 2^128) of `steps` steps of the generator, as
    `(a_high, a_low, c_high, c_low)`: the maps of 1, 2, 4, ... steps squared in turn, and those
    of the set bits of `steps` composed (PCG's "advance")."""
    a_high, a_low, c_high, c_low = _ZERO, _ONE, _ZERO, _ZERO  # the identity
    m_high, m_low, p_high, p_low = _MULTIPLIER_HIGH, _MULTIPLIER_LOW, increment_high, increment_low
    while steps > _ZERO:
        if steps & _ONE:
            a_high, a_low = _mul(a_high, a_low, m_high, m_low)
            c_high, c_low = _mul(c_high, c_low, m_high, m_low)
            c_high, c_low = _add(c_high, c_low, p_high, p_low)
        plus_high, plus_low = _add(m_high, m_low, _ZERO, _ONE)  # p <- (m + 1) p, then m <- m^2
        p_high, p_low = _mul(plus_high, plus_low, p_high, p_low)
        m_high, m_low = _mul(m_high, m_low, m_high, m_low)
        steps >>= _ONE
    return a_high, a_low, c_high, c_low


@njit(nogil=True, cache=True)
def _moved(state_high, state_low, steps, increment_high, increment_low):
    """The state `steps` steps after `(state_high, state_low)`."""
    a_high, a_low, c_high, c_low = _jump(steps, increment_high, increment_low)
    high, low = _mul(state_high, state_low, a_high, a_low)
    return _add(high, low, c_high, c_low)


@njit(nogil=True, cache=True, error_model="numpy")
def dropout_block(state_high, state_low, increment_high, increment_low, first, values, keep, out, rate, scale):
    """One block: `keep = u >= rate` for the `len(values)` uniform float32 of the stream that begin
    with output `first` after the state `(state_high, state_low)` (two values an output, its low half
    first), and `out = values * keep * scale` (NumPy's order: a NaN stays NaN, -x * 0 is -0).

    Returns the high half of the block's last output (of a non-empty block): NumPy keeps it in
    the generator's state, for its next 32-bit draw, when the block's length is odd."""
    n = values.shape[0]
    outputs = (n + 1) // 2
    high, low = _moved(state_high, state_low, np.uint64(first), increment_high, increment_low)
    raws = np.empty(BUFFER, np.uint64)
    last = _ZERO
    for first_output in range(0, outputs, BUFFER):
        count = min(BUFFER, outputs - first_output)
        for j in range(count):
            high, low = _mul(high, low, _MULTIPLIER_HIGH, _MULTIPLIER_LOW)
            high, low = _add(high, low, increment_high, increment_low)
            raws[j] = _output(high, low)
        # Each loop runs from 0 over slices: from a computed start, the compiler did not vectorize
        # them, and the block took 2.4 times as long.
        start, stop = 2 * first_output, min(n, 2 * (first_output + count))
        chunk_keep, chunk_values, chunk_out = keep[start:stop], values[start:stop], out[start:stop]
        pairs = stop - start - count  # count, or count - 1 when the block ends on a lone low half
        for j in range(pairs):
            raw = raws[j]
            chunk_keep[2 * j] = _low_uniform(raw) >= rate
            chunk_keep[2 * j + 1] = np.float32(np.int64(raw >> np.uint64(40))) * _UNIT >= rate
        if pairs < count:
            chunk_keep[2 * pairs] = _low_uniform(raws[pairs]) >= rate
        for i in range(stop - start):
            chunk_out[i] = chunk_values[i] * np.float32(chunk_keep[i]) * scale
        last = raws[count - 1]
    return np.int64(last >> np.uint64(32))


@njit(parallel=True, nogil=True, cache=True, error_model="numpy")
def dropout_blocks(state_high, state_low, increment_high, increment_low, bounds, values, keep, out, rate, scale,
                   final):
    """`dropout_block` on the blocks `[bounds[b], bounds[b + 1])` of flat arrays in parallel (each
    bound but the last even: block `b` begins with output `bounds[b] // 2`). Afterwards `final`
    (uint64, 3) holds the generator's state after the draw's last output (high, low) and the high
    half of that output."""
    blocks = bounds.shape[0] - 1
    tails = np.empty(blocks, np.int64)
    for b in prange(blocks):
        lo, hi = bounds[b], bounds[b + 1]
        tails[b] = dropout_block(state_high, state_low, increment_high, increment_low, lo // 2, values[lo:hi],
                                 keep[lo:hi], out[lo:hi], rate, scale)
    _finish(state_high, state_low, increment_high, increment_low, bounds, tails[blocks - 1], final)


@njit(nogil=True, cache=True, error_model="numpy")
def dropout_one_block(state_high, state_low, increment_high, increment_low, bounds, values, keep, out, rate, scale,
                      final):
    """`dropout_blocks` of one block (`bounds` = [0, len(values)]) on the calling thread: no parallel
    loop to start."""
    tail = dropout_block(state_high, state_low, increment_high, increment_low, 0, values, keep, out, rate, scale)
    _finish(state_high, state_low, increment_high, increment_low, bounds, tail, final)


@njit(nogil=True, cache=True)
def _finish(state_high, state_low, increment_high, increment_low, bounds, tail, final):
    """`final` = the state after the draw's last output (high, low), and that output's high half."""
    outputs = np.uint64((bounds[bounds.shape[0] - 1] + 1) // 2)
    final[0], final[1] = _moved(state_high, state_low, outputs, increment_high, increment_low)
    final[2] = np.uint64(tail)
