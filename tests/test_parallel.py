"""barenet.parallel: the thread count (machine, argument, environment), the fixed batch pieces,
and training that gives bit-identical weights whatever the thread count."""

import itertools
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import barenet as bn
from barenet import parallel


@pytest.fixture
def threads():
    """Set the thread count inside a test; restores the previous one afterwards."""
    before = parallel.get_num_threads()
    yield parallel.set_num_threads
    parallel.set_num_threads(before)


@pytest.mark.parametrize("bad", [0, -1, -8, 1.5, "2", True, None])
def test_a_thread_count_that_is_not_a_positive_integer_is_a_clear_error(bad, threads):
    before = parallel.get_num_threads()
    with pytest.raises(ValueError, match=r"positive integer\. Received: n="):
        threads(bad)
    assert parallel.get_num_threads() == before


def test_the_default_follows_the_machine(monkeypatch):
    monkeypatch.delenv(parallel.ENVIRONMENT_VARIABLE, raising=False)
    assert parallel._from_environment() is None
    assert parallel.machine_threads() >= 1


@pytest.mark.parametrize("value,expected", [("3", 3), (" 1 ", 1), ("", None)])
def test_the_environment_variable_sets_it(monkeypatch, value, expected):
    monkeypatch.setenv(parallel.ENVIRONMENT_VARIABLE, value)
    assert parallel._from_environment() == expected


@pytest.mark.parametrize("value", ["0", "-2", "two"])
def test_a_bad_environment_variable_is_a_clear_error_at_import(value):
    src = Path(__file__).resolve().parents[1] / "src"
    proc = subprocess.run([sys.executable, "-c", "import barenet"], capture_output=True, text=True, check=False,
                          env={"PYTHONPATH": str(src), "BARENET_NUM_THREADS": value})
    assert proc.returncode != 0
    assert f"BARENET_NUM_THREADS={value!r}" in proc.stderr and "positive integer" in proc.stderr


@pytest.mark.parametrize("n,size", [(1, None), (7, None), (64, None), (1000, None), (64, 10), (64, 50_000),
                                    (64, 10**7)])
def test_batch_pieces_cover_the_batch_in_order_and_ignore_the_thread_count(n, size, threads):
    pieces = parallel.batch_pieces(n, size)
    assert pieces[0].start == 0 and pieces[-1].stop == n
    assert all(a.stop == b.start for a, b in itertools.pairwise(pieces))
    sizes = [p.stop - p.start for p in pieces]
    assert max(sizes) - min(sizes) <= 1 and min(sizes) >= 1 and len(pieces) <= parallel.MAX_PIECES
    for count in (1, 2, 5):
        threads(count)
        assert parallel.batch_pieces(n, size) == pieces


def test_run_pieces_keeps_piece_order_and_uses_the_pool(threads):
    threads(3)
    names = []

    def work(rows):
        names.append(threading.current_thread().name)
        return rows.start

    starts = parallel.run_pieces(work, 64)
    assert starts == [p.start for p in parallel.batch_pieces(64)]
    assert any(name.startswith("barenet") for name in names)
    threads(1)
    names.clear()
    parallel.run_pieces(work, 64)
    assert set(names) == {threading.current_thread().name}


# --- bit-identical training -----------------------------------------------------------------------
def _mlp():
    return bn.Sequential([bn.Dense(32, "relu", input_dim=20), bn.BatchNormalization(), bn.Dropout(0.3),
                          bn.Dense(3, "softmax")], seed=5)


def _cnn():
    return bn.Sequential([
        bn.Conv2D(8, 3, activation="relu", input_shape=(10, 10, 2)), bn.BatchNormalization(),
        bn.MaxPooling2D(2), bn.Dropout(0.25),
        bn.Conv2D(8, 3, padding="same", activation="relu", groups=2), bn.BatchNormalization(),
        bn.SpatialDropout2D(0.2), bn.AveragePooling2D(2), bn.Flatten(), bn.Dense(3, "softmax")], seed=5)


def _functional():
    bn.utils.set_random_seed(5)  # layers are built as they are called, from the seeded generator
    inputs = bn.Input(shape=(10, 10, 2))
    x = bn.Conv2D(6, 3, activation="relu", dilation_rate=2)(inputs)
    x = bn.BatchNormalization()(x)
    left = bn.MaxPooling2D(2, strides=1)(x)
    right = bn.Conv2D(6, 2, activation="tanh")(x)
    x = bn.Flatten()(bn.Dropout(0.2, noise_shape=(None, 1, 1, 6))(left + right))
    return bn.Model(inputs, bn.Dense(3, "softmax")(x), seed=5)


@pytest.mark.parametrize("make", [_mlp, _cnn, _functional])
def test_training_gives_bit_identical_weights_at_any_thread_count(make, threads, monkeypatch):
    # Small pieces, so these small arrays are really cut into several pieces and spread out.
    monkeypatch.setattr(parallel, "MIN_PIECE_SIZE", 64)
    rng = np.random.default_rng(0)
    shape = (20,) if make is _mlp else (10, 10, 2)
    x = rng.normal(size=(96, *shape)).astype("float32")
    y = rng.integers(0, 3, 96)
    weights = []
    for count in (1, 2, 3):
        threads(count)
        model = make()
        model.compile(bn.optimizers.Adam(1e-2), "sparse_categorical_crossentropy")
        model.fit(x, y, epochs=2, batch_size=32, verbose=0)
        weights.append([w.copy() for layer in model.weight_layers() for w in (*layer.params.values(),
                                                                                *layer.state.values())])
    assert len(weights[0]) > 4
    for other in weights[1:]:
        for a, b in zip(weights[0], other):
            np.testing.assert_array_equal(a, b)


def test_pieces_run_inside_a_piece_stay_on_that_thread(threads):
    threads(2)

    def outer(rows):
        return parallel.run_pieces(lambda inner: threading.current_thread().name, 16)

    names = parallel.run_pieces(outer, 16)
    assert all(len(set(inner)) == 1 for inner in names)  # no nested hand-off, hence no deadlock
