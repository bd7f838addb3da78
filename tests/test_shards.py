"""barenet.datasets.shards: writing a shard folder, streaming it in constant memory, shuffling, per-process
parts with equal step counts, and clear errors for a missing or corrupt shard."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import barenet as bn
from barenet.datasets import ShardedDataset, write_shards, write_shards_from_idx

SCRIPTS = Path(__file__).parent / "distributed_scripts"
SRC = Path(__file__).parent.parent / "src"


@pytest.fixture
def folder(tmp_path):
    x = np.arange(1000 * 3, dtype=np.float32).reshape(1000, 3)
    return write_shards(tmp_path / "shards", x, np.arange(1000), rows_per_shard=130), x


def labels_of(dataset):
    return np.concatenate([y for _, y in dataset])


def test_unshuffled_batches_are_the_rows_in_order(folder):
    path, x = folder
    batches = list(ShardedDataset(path, batch_size=32, shuffle=False))
    assert len(batches) == 1000 // 32
    xs = np.concatenate([b[0] for b in batches])
    np.testing.assert_array_equal(xs, x[:len(xs)])


def test_shuffling_visits_each_row_once_in_a_new_order_every_epoch(folder):
    path, _ = folder
    data = ShardedDataset(path, batch_size=32, seed=3)
    first, second = labels_of(data), labels_of(data)
    assert len(first) == len(set(first)) == 992 and len(second) == len(set(second)) == 992
    assert not np.array_equal(first, second) and not np.array_equal(first, np.sort(first))
    # rows from different shards meet in one batch (the buffer mixes two shards)
    assert len({int(label) // 130 for label in next(iter(ShardedDataset(path, batch_size=32, seed=3)))[1]}) == 2


def test_each_process_reads_its_own_shards_and_all_make_the_same_steps(folder):
    path, _ = folder
    parts = [ShardedDataset(path, batch_size=32, seed=5, rank=rank, size=3) for rank in range(3)]
    steps = {len(part) for part in parts}
    assert len(steps) == 1
    labels = [labels_of(part) for part in parts]
    assert all(len(mine) == steps.pop() * 32 for mine in labels[:1]) and len({len(mine) for mine in labels}) == 1
    seen = [set(mine // 130) for mine in labels]  # which shards each read
    assert not (seen[0] & seen[1]) and not (seen[1] & seen[2]) and not (seen[0] & seen[2])


def test_missing_or_corrupt_shards_are_named(folder):
    path, _ = folder
    os.remove(os.path.join(path, "shard-00002-y.npy"))
    with pytest.raises(ValueError, match="shard-00002-y.npy' is missing"):
        ShardedDataset(path)
    np.save(os.path.join(path, "shard-00002-y.npy"), np.arange(129))
    with pytest.raises(ValueError, match="shard-00002-y.npy' is corrupt"):
        ShardedDataset(path)
    np.save(os.path.join(path, "shard-00002-y.npy"), np.arange(130) + 1)  # right shape, altered values
    data = ShardedDataset(path, batch_size=10, shuffle=False)
    with pytest.raises(ValueError, match="shard-00002-y.npy' is corrupt: its checksum"):
        list(data)


def test_bad_folders_and_arguments(tmp_path, folder):
    with pytest.raises(ValueError, match="no index.json"):
        ShardedDataset(tmp_path)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "index.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(ValueError, match="not a barenet shard index"):
        ShardedDataset(tmp_path / "bad")
    with pytest.raises(ValueError, match="not empty"):
        write_shards(folder[0], np.zeros((3, 2)))
    with pytest.raises(ValueError, match="same positive number of rows"):
        write_shards(tmp_path / "new", np.zeros((3, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="batch_size"):
        ShardedDataset(folder[0], batch_size=0)
    with pytest.raises(ValueError, match="8 shards for 9 processes"):
        ShardedDataset(folder[0], rank=0, size=9)


def test_shards_from_idx_files(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, size=(50, 4, 4), dtype=np.uint8)
    header = bytes([0, 0, 8, 3]) + np.array(images.shape, ">u4").tobytes()
    with gzip.open(tmp_path / "images.gz", "wb") as f:
        f.write(header + images.tobytes())
    (tmp_path / "labels").write_bytes(bytes([0, 0, 8, 1]) + np.array([50], ">u4").tobytes() + bytes(range(50)))
    path = write_shards_from_idx(tmp_path / "s", tmp_path / "images.gz", tmp_path / "labels", rows_per_shard=20,
                                 scale=255.0)
    x, y = next(iter(ShardedDataset(path, batch_size=50, shuffle=False, buffer_shards=3)))
    np.testing.assert_allclose(x, images / np.float32(255), rtol=1e-6)
    np.testing.assert_array_equal(y, np.arange(50))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc and RLIMIT_AS")
def test_training_on_data_larger_than_the_memory_limit_matches_training_in_memory(tmp_path):
    """A child process limited to its start-up size + 32 MiB of address space streams 128 MiB of shards
    (4x the headroom) through `fit`; its weights equal those of `fit` on the same rows held in memory."""
    headroom, rows, batch = 32 << 20, 128 << 20 >> 10, 4096  # 256 float32 features = 1 KiB per row
    rng = np.random.default_rng(0)
    x = rng.random((rows, 256), dtype=np.float32)
    y = (x[:, :8].sum(axis=1, keepdims=True) - 4).astype(np.float32)
    write_shards(tmp_path / "big", x, y, rows_per_shard=8192)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONPATH": str(SRC)}
    done = subprocess.run([sys.executable, str(SCRIPTS / "out_of_core.py"), str(tmp_path / "big"), str(headroom),
                           str(batch), str(tmp_path / "w.npy")], capture_output=True, text=True, env=env, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    model = bn.Sequential([bn.Dense(1, input_dim=256)], seed=0)
    model.compile(bn.optimizers.SGD(0.01), "mse")
    model.fit(x, y, batch_size=batch, shuffle=False, verbose=0)
    expected = np.concatenate([w.ravel() for w in model.get_weights()])
    np.testing.assert_array_equal(np.load(tmp_path / "w.npy"), expected)
    assert x.nbytes >= 4 * headroom
