"""The shuffled batch's gather (`fast/gather_kernels.py`, `fast.take_rows`, `ArrayAdapter.take`):
NumPy's `array[rows]` cast to float32, to the bit, and only where it applies."""

import numpy as np
import pytest
from kernel_tests import kernels_on, require_kernels  # noqa: F401 - kernels_on: autouse

require_kernels()

import barenet as bn  # noqa: E402
from barenet import fast  # noqa: E402

FLOAT32 = np.dtype(np.float32)


def _source(dtype, shape, seed=0):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "u":
        return rng.integers(0, 256, size=shape).astype(dtype)
    return (rng.normal(size=shape) * 1e3).astype(dtype)  # float64 values that round when cast


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8])
@pytest.mark.parametrize("count", [1, 3, 4, 5, 7, 64, 130])
def test_the_kernel_copies_numpys_rows_cast_to_float32(dtype, count):
    source = _source(dtype, (300, 2, 3, 5))
    rows = np.random.default_rng(count).permutation(300)[:count]
    out = np.empty((count, 30), np.float32)
    assert fast.get_kernels() is not None
    assert fast._state["gather"].take_rows(source.reshape(300, -1), rows, out)
    np.testing.assert_array_equal(out.reshape(count, 2, 3, 5), source[rows].astype(np.float32), strict=True)


def test_the_kernel_takes_negative_and_repeated_rows_as_numpy_does_and_refuses_out_of_range_ones():
    source = _source(np.float64, (50, 9))
    rows = np.array([-1, 0, 49, -50, 3, 3, 3, -1, 7])
    out = np.full((9, 9), np.nan, np.float32)
    kernel = fast._state["gather"] if fast.get_kernels() else None
    assert kernel.take_rows(source, rows, out)
    np.testing.assert_array_equal(out, source[rows].astype(np.float32))
    for bad in (50, -51):
        out[:] = -7
        assert not kernel.take_rows(source, np.array([0, 1, bad, 2, 3]), out)
        assert (out == -7).all()  # nothing copied


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8])
def test_take_rows_gives_numpys_batch_for_a_large_enough_one(dtype):
    source = _source(dtype, (1000, 784))
    rows = np.random.default_rng(1).permutation(1000)[:37]
    assert fast.take_rows(source, rows, FLOAT32) is None  # 29,008 values: no reason to load numba
    assert fast.get_kernels() is not None
    batch = fast.take_rows(source, rows, FLOAT32)
    assert batch is not None and batch.flags.c_contiguous
    np.testing.assert_array_equal(batch, source[rows].astype(np.float32), strict=True)
    assert fast.take_rows(source[:, :100], rows[:5], FLOAT32) is None  # not C-contiguous
    assert fast.take_rows(source, rows[:5], FLOAT32) is None  # 3,920 values: NumPy's indexing


def test_take_rows_leaves_other_cases_to_numpy():
    source = _source(np.float32, (1000, 784))
    rows = np.arange(100)
    assert fast.take_rows(source, slice(0, 100), FLOAT32) is None  # NumPy gives a view
    assert fast.take_rows(source, rows, np.dtype(np.float64)) is None  # a float64 model
    assert fast.take_rows(source.astype(np.int16), rows, FLOAT32) is None
    assert fast.take_rows(source, rows.astype(np.float64), FLOAT32) is None
    assert fast.take_rows(source, rows.reshape(10, 10), FLOAT32) is None
    assert fast.take_rows(source, np.array([0, 1000] * 50), FLOAT32) is None  # out of range: NumPy raises
    fast.set_enabled(False)
    assert fast.take_rows(source, rows, FLOAT32) is None


def test_take_rows_reads_a_read_only_memmap(tmp_path):
    np.save(tmp_path / "x.npy", _source(np.float64, (400, 300)))
    source = np.load(tmp_path / "x.npy", mmap_mode="r")  # data larger than memory come so
    rows = np.random.default_rng(2).permutation(400)[:64]
    assert fast.get_kernels() is not None
    np.testing.assert_array_equal(fast.take_rows(source, rows, FLOAT32), np.asarray(source)[rows].astype(np.float32))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8])
def test_fit_with_the_gather_kernel_trains_to_the_same_bits(monkeypatch, dtype):
    x = _source(dtype, (640, 784), seed=3)
    if x.dtype.kind == "f":
        x /= 1e3
    y = np.random.default_rng(4).integers(0, 10, 640)
    calls = []
    kernel_take = fast.take_rows

    def counted(*args):
        batch = kernel_take(*args)
        calls.append(batch is not None)
        return batch

    def train():
        model = bn.Sequential([bn.Dense(32, "relu", input_dim=784), bn.Dense(10, "softmax")], seed=5)
        model.compile(bn.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", ["accuracy"])
        history = model.fit(x, y, batch_size=64, epochs=2, verbose=0)
        return model.get_weights(), history.history["loss"]

    monkeypatch.setattr(fast, "take_rows", counted)
    gathered = train()
    assert len(calls) == 20 and all(calls)
    monkeypatch.setattr(fast, "take_rows", lambda *args: None)
    reference = train()
    for a, b in zip(gathered[0], reference[0]):
        np.testing.assert_array_equal(a, b)
    assert gathered[1] == reference[1]
