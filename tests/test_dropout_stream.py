"""barenet.fast.dropout_stream: Dropout's mask drawn in compiled blocks from a PCG64 stream is
NumPy's own draw, to the bit, and leaves the generator in the state NumPy's draw leaves it in,
whatever the number of blocks and whatever half-used output an earlier draw left behind."""

import os

import numpy as np
import pytest

pytest.importorskip("numba")

import barenet as bn  # noqa: E402
from barenet import fast  # noqa: E402
from barenet.fast import blas, dropout_stream  # noqa: E402

if blas.load() is None:
    pytest.skip("NumPy's OpenBLAS was not found: the kernels are off", allow_module_level=True)
if os.environ.get(fast.ENVIRONMENT_VARIABLE, "1").strip().lower() in ("0", "false", "no", "off"):
    pytest.skip("BARENET_FAST turns the kernels off in this run", allow_module_level=True)
fast.set_enabled(True)


def _reference(rng, x, rate):
    """The NumPy code of `Dropout.forward` and `Dropout._apply`, written out."""
    keep = rng.random(x.shape, dtype=np.float32) >= rate
    with np.errstate(invalid="ignore"):  # -inf * 0 is NaN, on both sides
        out = x * keep
    out *= np.float32(1 / (1 - rate))
    return keep, out


def _inputs(shape):
    x = np.random.default_rng(11).normal(size=shape).astype(np.float32)
    flat = x.reshape(-1)
    flat[::17] = np.nan
    flat[1::17] = -0.0
    flat[2::17] = -np.inf
    return x


@pytest.mark.parametrize("size", [2, 3, 8, 1001, 40_000, 65_537])
@pytest.mark.parametrize("earlier", [0, 1, 2, 5])  # float32 values drawn before: odd leaves a half kept
@pytest.mark.parametrize("blocks", [1, 2, 3, 8])
def test_draw_is_numpys_and_leaves_the_generator_where_numpy_does(size, earlier, blocks):
    ours, theirs = np.random.default_rng(size), np.random.default_rng(size)
    ours.random(earlier, dtype=np.float32)
    theirs.random(earlier, dtype=np.float32)
    assert ours.bit_generator.state == theirs.bit_generator.state
    x = _inputs((size,))
    keep, out = dropout_stream.draw_and_apply(ours, x, 0.3, blocks)
    expected_keep, expected_out = _reference(theirs, x, 0.3)
    np.testing.assert_array_equal(keep, expected_keep)
    np.testing.assert_array_equal(out.view(np.uint32), expected_out.view(np.uint32))  # NaN, -0 and -inf too
    assert ours.bit_generator.state == theirs.bit_generator.state  # the kept half and its flag included
    np.testing.assert_array_equal(ours.random(5, dtype=np.float32), theirs.random(5, dtype=np.float32))
    np.testing.assert_array_equal(ours.random(3), theirs.random(3))


@pytest.mark.parametrize("rate", [0.0, 0.1, 0.5, 0.9, 1 / 3])
def test_every_rate_compares_as_numpy_does(rate):
    x = _inputs((64, 13, 13, 4))
    ours, theirs = np.random.default_rng(3), np.random.default_rng(3)
    keep, out = dropout_stream.draw_and_apply(ours, x, rate, 2)
    expected_keep, expected_out = _reference(theirs, x, rate)
    assert keep.shape == x.shape and out.shape == x.shape and out.dtype == np.float32
    np.testing.assert_array_equal(keep, expected_keep)
    np.testing.assert_array_equal(out.view(np.uint32), expected_out.view(np.uint32))


def test_a_generator_other_than_pcg64_is_left_to_numpy():
    rng = np.random.Generator(np.random.MT19937(0))
    before = rng.bit_generator.state["state"]["key"].copy()
    assert dropout_stream.draw_and_apply(rng, np.ones(100, np.float32), 0.5, 2) is None
    np.testing.assert_array_equal(rng.bit_generator.state["state"]["key"], before)


def test_block_bounds_begin_on_an_output_of_their_own():
    for count in (1, 2, 3, 7, 100, 101):
        for blocks in (1, 2, 3, 8):
            bounds = dropout_stream._bounds(count, blocks)
            assert bounds[0] == 0 and bounds[-1] == count
            assert np.all(np.diff(bounds) > 0) and np.all(bounds[:-1] % 2 == 0)
            assert len(bounds) - 1 <= blocks


@pytest.mark.parametrize("threads", [1, 2])
def test_a_seeded_dropout_model_trains_to_the_same_bits_with_and_without_the_kernel(threads, monkeypatch):
    """The layer takes the kernel for a float32 mask of the input's shape; turned off, the NumPy
    code draws the same masks from the same stream, so training gives the very same weights."""
    from barenet import parallel

    before = parallel.requested_threads()
    x = np.random.default_rng(0).normal(size=(256, 400)).astype(np.float32)
    y = np.random.default_rng(1).integers(0, 3, 256)
    weights, drawn = [], []
    original = dropout_stream.draw_and_apply
    try:
        bn.config.set_num_threads(threads)
        for use in (True, False):
            monkeypatch.setattr(dropout_stream, "draw_and_apply", lambda *args: drawn.append(use) or (
                original(*args) if use else None))
            model = bn.Sequential([bn.Dense(300, "relu", input_dim=400), bn.Dropout(0.4), bn.Dense(3, "softmax")],
                                  seed=5)
            model.compile("adam", "sparse_categorical_crossentropy")
            model.fit(x, y, epochs=2, batch_size=128, verbose=0)
            weights.append(model.get_weights())
    finally:
        parallel.set_num_threads(before or 1)
        parallel._state["requested"] = before
    assert drawn == [True] * 4 + [False] * 4  # two epochs of two batches, each way
    for ours, reference in zip(*weights):
        np.testing.assert_array_equal(ours, reference)


def test_threads_drawing_from_their_own_generators_at_once_each_get_numpys_draw():
    """Nothing is shared between draws but a generator's own state (under its lock): two threads,
    each with its own generator, draw at the same time and each gets NumPy's stream."""
    import threading

    x = _inputs((20_001,))
    results, errors = {}, []

    def draw(seed):
        try:
            rng = np.random.default_rng(seed)
            results[seed] = [dropout_stream.draw_and_apply(rng, x, 0.25, 2)[0] for _ in range(20)]
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=draw, args=(seed,)) for seed in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    for seed in (1, 2):
        reference = np.random.default_rng(seed)
        for keep in results[seed]:
            np.testing.assert_array_equal(keep, _reference(reference, x, 0.25)[0])
