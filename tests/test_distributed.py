"""barenet.distributed under `mpiexec -n 2`: the same weights, metrics and History as one process with the
same global batch; faults end every process; bad input is refused on every process before training.

The scripts in tests/distributed_scripts/ run as separate processes (MPI cannot start inside pytest).
Skipped when mpi4py or an `mpiexec` is missing (`pip install ".[distributed]"` installs both).
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import barenet as bn
from barenet.distributed import local_rows
from barenet.distributed.comm import launched_size

SCRIPTS = Path(__file__).parent / "distributed_scripts"
SRC = Path(__file__).parent.parent / "src"


def find_mpiexec():
    """`mpiexec` beside this Python first (the MPICH wheel puts it there), then on PATH."""
    beside = Path(sys.executable).parent / "mpiexec"
    return str(beside) if beside.exists() else shutil.which("mpiexec")


def _have_mpi() -> bool:
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return find_mpiexec() is not None


needs_mpi = pytest.mark.skipif(not _have_mpi(), reason="needs mpi4py and mpiexec (pip install '.[distributed]')")


def run(script: str, *args, processes: int = 2, timeout: float = 60, environment: dict | None = None):
    """Run a test script (under `mpiexec -n processes` when processes > 1); (returncode, output, seconds).
    `environment`: variables to set (a value of None removes the variable)."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    for name in ("PMI_SIZE", "PMI_RANK", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS"):  # pytest itself may run under MPI
        env.pop(name, None)
    for name, value in (environment or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    command = [sys.executable, str(SCRIPTS / script), *map(str, args)]
    if processes > 1:
        command = [find_mpiexec(), "-n", str(processes), *command]
    start = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    return done.returncode, done.stdout + done.stderr, time.monotonic() - start


# --- no MPI needed -----------------------------------------------------------------------------
def test_local_rows_split_a_batch_into_contiguous_near_equal_shares():
    for rows, size in [(16, 2), (5, 2), (7, 3), (2, 4), (64, 64)]:
        shares = [local_rows(rows, rank, size) for rank in range(size)]
        lengths = [share.stop - share.start for share in shares]
        assert shares[0].start == 0 and shares[-1].stop == rows
        assert all(a.stop == b.start for a, b in itertools.pairwise(shares))
        assert max(lengths) - min(lengths) <= 1 and sum(lengths) == rows


def test_launched_size_reads_the_launchers_environment(monkeypatch):
    for name in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS"):
        monkeypatch.delenv(name, raising=False)
    assert launched_size() == 1
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "8")
    assert launched_size() == 8


def test_one_process_trains_as_usual_with_a_notice(capsys, monkeypatch):
    for name in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(bn.distributed, "_CURRENT", None)
    strategy = bn.distributed.initialize()
    assert (strategy.rank, strategy.size, strategy.is_chief) == (0, 1, True)
    assert bn.distributed.current() is None  # fit is untouched
    assert "training in this process alone" in capsys.readouterr().err
    bn.distributed.shutdown()


def test_synchronized_batch_normalization_is_ordinary_alone_and_round_trips():
    layer = bn.BatchNormalization(synchronized=True)
    plain = bn.BatchNormalization()
    x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
    for each in (layer, plain):
        each.build((3,))
    np.testing.assert_array_equal(layer.forward(x, training=True), plain.forward(x, training=True))
    assert bn.BatchNormalization.from_config(layer.get_config()).synchronized is True


def test_synchronized_batch_normalization_sums_over_replicas():
    """With a `replica_sum` that doubles (two identical processes), the statistics are unchanged and the
    backward pass's sums are doubled: the input gradient equals one process's, times the loss scale."""
    from barenet.layers.context import call_context

    x = np.random.default_rng(1).normal(size=(6, 4))
    grad = np.random.default_rng(2).normal(size=(6, 4))
    alone, synced = bn.BatchNormalization(synchronized=True), bn.BatchNormalization(synchronized=True)
    for layer in (alone, synced):
        layer.build((4,), dtype="float64")
    expected_out = alone.forward(x, training=True)
    expected_dx = alone.backward(grad)
    with call_context(replica_sum=lambda a: 2 * np.asarray(a)):
        out = synced.forward(x, training=True)
        dx = synced.backward(grad)
    np.testing.assert_allclose(out, expected_out, rtol=1e-12)
    np.testing.assert_allclose(dx, expected_dx, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(synced.grads["gamma"], alone.grads["gamma"], rtol=1e-12)


# --- under mpiexec -------------------------------------------------------------------------------
@needs_mpi
def test_two_processes_match_one_process_with_the_same_global_batch(tmp_path):
    """MLP (SGD with momentum and validation; Adam; SGD with sample weights; with Dropout), CNN with synchronized
    BatchNormalization (Adam) and a functional model, float64: weights, BN statistics and History agree to 1e-10 (relative to each array's
    largest entry); the float32 MLP (Adam) to 1e-5."""
    code, output, _ = run("equivalence.py", tmp_path / "one.npz", processes=1)
    assert code == 0, output
    code, output, _ = run("equivalence.py", tmp_path / "two.npz", processes=2)
    assert code == 0, output
    one, two = np.load(tmp_path / "one.npz"), np.load(tmp_path / "two.npz")
    assert sorted(one) == sorted(two)
    names = {key.split("/")[0] for key in one}
    assert names == {"mlp_sgd", "mlp_adam", "cnn_bn_adam", "functional_sgd", "float32_mlp_adam", "weighted_mlp_sgd",
                     "dropout_mlp_sgd"}
    assert "mlp_sgd/history/val_loss" in one and "cnn_bn_adam/batch_normalization/moving_mean" in one
    for key in one:
        scale = max(float(np.max(np.abs(one[key]))), 1e-300)
        tolerance = 1e-5 if key.startswith("float32") else 1e-10  # float32: within rounding (about 3e-7 seen)
        assert np.max(np.abs(one[key] - two[key])) <= tolerance * scale, key
    assert all(float(two[f"{name}/replica_gap"]) == 0.0 for name in names)  # replicas identical, bit for bit
    # ReduceLROnPlateau decided alike on one and on two processes (the lr each epoch trained with)
    np.testing.assert_allclose(two["mlp_adam/history/learning_rate"], [0.01, 0.01, 0.005], rtol=1e-7)
    # and training did move the weights (the comparison is not of two untouched initial states)
    assert one["mlp_adam/history/loss"][-1] < one["mlp_adam/history/loss"][0]


@needs_mpi
@pytest.mark.parametrize("requested", [None, "1"])
def test_processes_on_one_machine_share_its_cores_unless_a_thread_count_is_set(requested):
    """Under `mpiexec -n 2` each process's compiled kernels default to half the cores (not all of
    them in each process); `BARENET_NUM_THREADS` still decides."""
    pytest.importorskip("numba")
    code, output, _ = run("threads.py", environment={"BARENET_NUM_THREADS": requested, "NUMBA_NUM_THREADS": None})
    assert code == 0, output
    # Found anywhere in the output: mpiexec may forward the two processes' lines run together.
    lines = sorted(re.findall(r"rank (\d+) threads (\d+) cores (\d+)", output))
    assert [line[0] for line in lines] == ["0", "1"], output
    for _, threads, cores in lines:
        assert int(threads) == (1 if requested else max(1, int(cores) // 2)), output


@needs_mpi
def test_refused_and_failed_fits_raise_on_every_process_which_then_go_on_together(tmp_path):
    """One job, four fits: different models (refused before training), unseeded models with a validation
    split (rank 0's weights and generator are broadcast), rank 0 alone holding optimizer state (broadcast),
    a step raising on process 1 (raised everywhere)."""
    code, output, seconds = run("faults.py", "mismatch,unseeded,resume,raise-in-step", tmp_path / "state")
    assert code == 3, output
    for rank in (0, 1):
        assert f"rank {rank}: ValueError: Every process must build the same model" in output
        assert f"rank {rank}: DistributedStepError: process 1 of 2 raised in a training step: ValueError: bad batch " \
               "on purpose" in output
    assert "the model's weights (names, shapes, dtypes) differs on process(es) 1" in output
    states = [(tmp_path / f"state.unseeded.{rank}").read_text().split() for rank in (0, 1)]
    assert states[0] == states[1] and states[0][:3] == ["24", "2", "False"]  # 192 rows / 16 per step * 2 epochs
    # rank 0's optimizer state (1 step of Adam) is broadcast, so both continue from step 1 alike
    resumed = [(tmp_path / f"state.resume.{rank}").read_text().split() for rank in (0, 1)]
    assert resumed[0] == resumed[1] and resumed[0][0] == "33"
    assert seconds < 30


@needs_mpi
def test_an_error_outside_the_step_aborts_every_process_with_its_message():
    code, output, seconds = run("faults.py", "raise-in-callback", "unused")
    assert code != 0 and "process 1 of 2 raised RuntimeError: callback failed on purpose" in output
    assert seconds < 30


@needs_mpi
def test_a_killed_process_ends_the_others_within_30_seconds():
    code, output, seconds = run("faults.py", "kill", "unused", timeout=60)
    assert code != 0, output
    assert seconds < 30


@needs_mpi
def test_ctrl_c_on_one_process_stops_every_process_after_the_same_batch(tmp_path):
    code, output, _ = run("faults.py", "interrupt", tmp_path / "state")
    assert code == 0, output
    states = [(tmp_path / f"state.interrupt.{rank}").read_text().split() for rank in (0, 1)]
    assert states[0] == states[1]  # same optimizer step count, epochs and stop reason on both
    iterations, epochs, stopped = states[0][:3]
    assert int(iterations) < 32 and epochs == "0" and stopped == "True"
    assert "Training interrupted (Ctrl-C)" in output


@needs_mpi
def test_cli_trains_across_processes_and_rank_0_alone_reports_and_saves(tmp_path):
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONPATH": str(SRC)}
    output_file = tmp_path / "model.barenet"
    done = subprocess.run([find_mpiexec(), "-n", "2", sys.executable, "-m", "barenet", "train", "--distributed",
                           "--epochs", "1", "--model", "32", "--verbose", "0", "--output", str(output_file)],
                          capture_output=True, text=True, timeout=120, env=env, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert output.count("test accuracy") == 1 and output.count("Training on digits") == 1
    assert "data-parallel training on 2 processes" in output
    accuracy = float(output.split("test accuracy: ")[1].split()[0])
    assert accuracy > 0.5 and bn.load_model(output_file).count_params() > 0


@needs_mpi
def test_fit_on_a_sharded_dataset_streams_each_process_its_own_shards(tmp_path):
    pytest.importorskip("barenet.data_adapters", reason="fit on batch sources comes with issue 12's data adapters")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(700, 4)).astype(np.float32)
    y = x @ np.array([[1.0], [-2.0], [0.5], [0.0]], np.float32)
    bn.datasets.write_shards(tmp_path / "shards", x, y, rows_per_shard=100)
    code, output, _ = run("sharded_fit.py", tmp_path / "shards", tmp_path / "out")
    assert code == 0, output
    ranks = [np.load(tmp_path / f"out.{rank}.npy") for rank in (0, 1)]
    np.testing.assert_array_equal(ranks[0], ranks[1])  # identical replicas and epoch logs
    losses = ranks[0][-3:]
    assert losses[-1] < losses[0]
