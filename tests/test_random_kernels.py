"""barenet.fast.random_kernels: the 128-bit arithmetic of the PCG64 stream that Dropout's kernels
draw from, against Python's integers and NumPy's own PCG64 (the masks themselves are checked
against NumPy's draw in test_dropout_stream.py)."""

import numpy as np
import pytest
from kernel_tests import require_kernels

require_kernels()

from barenet.fast import random_kernels  # noqa: E402
from barenet.fast.random_kernels import halves, whole  # noqa: E402

HALF = 2**64 - 1


def test_products_and_sums_wrap_modulo_two_to_the_128():
    rng = np.random.default_rng(0)
    edges = [0, 1, HALF, 2**64, 2**128 - 1, random_kernels.MULTIPLIER]
    values = edges + [int.from_bytes(rng.bytes(16), "little") for _ in range(200)]
    for a, b in zip(values, values[::-1]):
        assert whole(*random_kernels._mul(*halves(a), *halves(b))) == a * b % 2**128
        assert whole(*random_kernels._add(*halves(a), *halves(b))) == (a + b) % 2**128


@pytest.mark.parametrize("steps", [0, 1, 2, 3, 511, 512, 1000, 2**40 + 3, 2**63 + 12345])
def test_moving_ahead_is_pcg64s_advance(steps):
    generator = np.random.PCG64(42)
    state = generator.state["state"]
    generator.advance(steps)
    moved = random_kernels._moved(*halves(state["state"]), np.uint64(steps), *halves(state["inc"]))
    assert whole(*moved) == generator.state["state"]["state"]


def test_an_output_is_pcg64s_next_64_bits():
    generator = np.random.PCG64(7)
    state = generator.state["state"]
    expected = np.random.PCG64(7).random_raw(3)  # the bit generator's next 64-bit outputs
    outputs = []
    for step in (1, 2, 3):
        high, low = random_kernels._moved(*halves(state["state"]), np.uint64(step), *halves(state["inc"]))
        outputs.append(int(random_kernels._output(np.uint64(high), np.uint64(low))))  # typed as the kernels type them
    assert outputs == [int(value) for value in expected]
