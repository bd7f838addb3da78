"""Dropout's mask from a PCG64 generator's stream, cut into blocks that run on separate cores.

`draw_and_apply(rng, values, rate)` gives what the NumPy reference in `layers/core.py` gives,
`keep = rng.random(values.shape, dtype=float32) >= rate` and `values * keep / (1 - rate)`, to
the bit, and leaves `rng` in the very state that draw leaves it in; but the drawing runs in the
compiled kernels of `random_kernels.py`, in one pass with the comparison and the product, and
over the cores for a large array.

How the stream is cut: `Generator.random` reads one 64-bit output of the bit generator for two
float32 values (the low half first), and keeps an output's unused high half for the next 32-bit
draw (`has_uint32` and `uinteger` in `PCG64.state`). So a block of an even number of values
begins on an output of its own, and the kernel moves a copy of the generator's state ahead to
it (a jump of O(log n) steps, not a replay). A kept high half from an earlier draw becomes the
first value; the generator's state is set at the end to the state after the draw's last
output, with the unused high half of an odd draw kept as NumPy keeps it.

Only NumPy's `PCG64` (what `numpy.random.default_rng` and barenet's `seed=` make) is cut so;
other bit generators, and arrays the kernels do not take, are drawn by NumPy (`None` is
returned). The mask does not depend on the number of blocks: the tests check it against
NumPy's own draw at several counts, with and without a kept half.
"""

from __future__ import annotations

import numpy as np

from .. import fast

_bounds_kept: dict = {}


def _bounds(count: int, blocks: int) -> np.ndarray:
    """Block bounds over `count` values: every block but the last of an even length (so each
    begins on an output of its own), their lengths as close as that allows. Kept per shape."""
    key = (count, blocks)
    bounds = _bounds_kept.get(key)
    if bounds is None:
        if len(_bounds_kept) >= 256:  # inputs of ever new shapes: keep the memory bounded
            _bounds_kept.clear()
        blocks = max(1, min(blocks, count // 2))
        step = -(-count // blocks)
        step += step % 2
        bounds = np.array(sorted({min(b * step, count) for b in range(blocks + 1)}), dtype=np.int64)
        _bounds_kept[key] = bounds  # (read back from the local name: another thread may clear the dict)
    return bounds


def draw_and_apply(rng, values: np.ndarray, rate: float, blocks: int):
    """`(keep, out)` for Dropout in training, drawn from `rng` as the NumPy reference draws it,
    in up to `blocks` parallel blocks; or None when the kernels do not apply (then nothing of
    `rng` has moved).

    Args:
        rng: The generator to draw from (a `numpy.random.Generator` over `PCG64` is cut).
        values: A C-contiguous float32 array, the inputs.
        rate: The fraction to drop, in [0, 1).
        blocks: How many blocks to cut the draw into (the result does not depend on it).
    """
    bit_generator = getattr(rng, "bit_generator", None)
    if type(bit_generator) is not np.random.PCG64 or values.size < 2:
        return None
    kernels = fast.get_random_kernels()
    if kernels is None:
        return None
    flat = values.reshape(-1)
    keep, out = np.empty(flat.shape, bool), np.empty(flat.shape, np.float32)
    rate, scale = np.float32(rate), np.float32(1 / (1 - rate))
    with bit_generator.lock:  # the generator's own lock, which NumPy's draws take too
        state = bit_generator.state
        start = 0
        if state["has_uint32"]:  # the high half kept by an earlier draw: the first value
            keep[0] = np.float32(state["uinteger"] >> 8) * np.float32(2.0**-24) >= rate
            np.multiply(flat[:1], keep[:1], out=out[:1])
            out[:1] *= scale
            start = 1
        bounds = _bounds(flat.size - start, blocks)
        pcg = state["state"]
        stream = (*kernels.halves(pcg["state"]), *kernels.halves(pcg["inc"]))  # state, increment
        rest = slice(start, None)
        final = np.empty(3, np.uint64)
        if len(bounds) == 2:  # one block: no parallel loop to start
            kernels.dropout_one_block(*stream, bounds, flat[rest], keep[rest], out[rest], rate, scale, final)
        else:
            with fast.running(hold=False):
                kernels.dropout_blocks(*stream, bounds, flat[rest], keep[rest], out[rest], rate, scale, final)
        pcg["state"] = kernels.whole(final[0], final[1])
        state["has_uint32"], state["uinteger"] = int(bounds[-1] % 2), int(final[2])
        bit_generator.state = state
    return keep.reshape(values.shape), out.reshape(values.shape)
