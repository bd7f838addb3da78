"""barenet.fast.random_kernels: the 128-bit arithmetic of the PCG64 stream that Dropout's kernels
draw from, against Python's integers and NumPy's own PCG64 (the masks themselves are checked
against NumPy's draw in test_dropout_stream.py)."""

import os

import numpy as np
import pytest

pytest.importorskip("numba")

from barenet import fast  # noqa: E402
from barenet.fast import blas  # noqa: E402

if blas.load() is None:
    pytest.skip("NumPy's OpenBLAS was not found: the kernels are off", allow_module_level=True)
if os.environ.get(fast.ENVIRONMENT_VARIABLE, "1").strip().lower() in ("0", "false", "no", "off"):
    pytest.skip("BARENET_FAST turns the kernels off in this run", allow_module_level=True)

from barenet.fast import random_kernels  # noqa: E402

HALF = 2**64 - 1


def _halves(value: int):
    return np.uint64(value >> 64), np.uint64(value & HALF)


def _whole(high, low) -> int:
    return (int(high) << 64) | int(low)


def test_products_and_sums_wrap_modulo_two_to_the_128():
    rng = np.random.default_rng(0)
    edges = [0, 1, HALF, 2**64, 2**128 - 1, random_kernels.MULTIPLIER]
    values = edges + [int.from_bytes(rng.bytes(16), "little") for _ in range(200)]
    for a, b in zip(values, values[::-1]):
        assert _whole(*random_kernels._mul(*_halves(a), *_halves(b))) == a * b % 2**128
        assert _whole(*random_kernels._add(*_halves(a), *_halves(b))) == (a + b) % 2**128


@pytest.mark.parametrize("steps", [0, 1, 2, 3, 511, 512, 1000, 2**40 + 3, 2**63 + 12345])
def test_moving_ahead_is_pcg64s_advance(steps):
    generator = np.random.PCG64(42)
    state = generator.state["state"]
    generator.advance(steps)
    moved = random_kernels._moved(*_halves(state["state"]), np.uint64(steps), *_halves(state["inc"]))
    assert _whole(*moved) == generator.state["state"]["state"]


def test_an_output_is_pcg64s_next_64_bits():
    generator = np.random.PCG64(7)
    state = generator.state["state"]
    expected = np.random.PCG64(7).random_raw(3)  # the bit generator's next 64-bit outputs
    outputs = []
    for step in (1, 2, 3):
        high, low = random_kernels._moved(*_halves(state["state"]), np.uint64(step), *_halves(state["inc"]))
        outputs.append(int(random_kernels._output(np.uint64(high), np.uint64(low))))  # typed as the kernels type them
    assert outputs == [int(value) for value in expected]
