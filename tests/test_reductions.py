import math

import numpy as np
import pytest

from barenet.reductions import column_sums, ones, total


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(1, 1), (7, 3), (43264 // 16, 32), (64, 1)])
def test_column_sums_and_total_match_numpy(dtype, shape):
    matrix = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    out = np.empty(shape[1], dtype)
    assert column_sums(matrix, out=out) is out
    rtol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(out, matrix.sum(axis=0, dtype="float64"), rtol=rtol, atol=rtol * shape[0])
    np.testing.assert_allclose(total(matrix), matrix.sum(dtype="float64"), rtol=rtol, atol=rtol * matrix.size)


@pytest.mark.parametrize("bad, finite", [(np.nan, False), (np.inf, False), (-np.inf, False), (3.0, True)])
def test_total_is_finite_exactly_when_the_entries_are(bad, finite):
    array = np.ones((50, 40), np.float32)
    array[17, 3] = bad
    assert math.isfinite(total(array)) is finite


def test_ones_is_shared_and_read_only():
    assert ones(5, np.dtype("float32")) is ones(5, np.dtype("float32"))
    with pytest.raises(ValueError):
        ones(5, np.dtype("float32"))[0] = 2
