"""A dataset on disk as a folder of `.npy` shards plus a small JSON index, read in constant memory.

    barenet.datasets.write_shards("train-shards", x, y, rows_per_shard=10_000)   # arrays or memmaps
    barenet.datasets.write_shards_from_idx("train-shards", "train-images-idx3-ubyte", "train-labels-idx1-ubyte")
    data = barenet.datasets.ShardedDataset("train-shards", batch_size=64, seed=0)
    for x_batch, y_batch in data: ...                                           # one epoch

The folder holds `index.json` ({"format": "barenet-shards", "rows", "arrays": {name: {"shape",
"dtype"}}, "shards": [{"rows", "files": {name: file}, "crc32": {name: checksum}}]}) and one
`.npy` file per array and shard. Reading never holds more than `buffer_shards` shards (plus
one batch) in memory, whatever the dataset's size: shuffling permutes the shards' order, then
the rows inside a buffer of `buffer_shards` shards. Under data-parallel training each process
reads only its own shards (every `size`-th of the epoch's shard order) and every process makes
the same number of steps: the smallest number of full batches any process's shards hold.
A missing, truncated or altered shard raises `ValueError` naming its file.
"""

from __future__ import annotations

import json
import math
import os
import zlib

import numpy as np

from .idx import MAX_IDX_BYTES, read_idx

INDEX = "index.json"
FORMAT = "barenet-shards"


def write_shards(folder, x, y=None, rows_per_shard: int = 10_000) -> str:
    """Write `x` (and `y`) as shards of `rows_per_shard` rows under `folder` (created; must be empty).

    Args:
        folder: Where to write; created if missing, refused if it holds files.
        x: Inputs `(samples, ...)`: an array, a `numpy.memmap`, or anything sliceable by rows
            with `len` (read one shard at a time, so it may be larger than memory).
        y: Targets with as many rows, or None.
        rows_per_shard: Rows per shard (the last may hold fewer). Defaults to 10,000.

    Returns:
        The folder's path.
    """
    arrays = {"x": x} if y is None else {"x": x, "y": y}
    if isinstance(rows_per_shard, bool) or not isinstance(rows_per_shard, int) or rows_per_shard < 1:
        raise ValueError(f"`rows_per_shard` must be a positive integer. Received: rows_per_shard={rows_per_shard!r}")
    rows = {name: len(array) for name, array in arrays.items()}
    if len(set(rows.values())) != 1 or not rows["x"]:
        raise ValueError(f"`x` and `y` must hold the same positive number of rows. Received: {rows}")
    folder = os.fspath(folder)
    os.makedirs(folder, exist_ok=True)
    if os.listdir(folder):
        raise ValueError(f"`folder` {folder!r} is not empty; write shards into a new or empty folder.")
    total = rows["x"]
    index = {"format": FORMAT, "version": 1, "rows": total, "arrays": {}, "shards": []}
    for number, start in enumerate(range(0, total, rows_per_shard)):
        shard = {"rows": min(rows_per_shard, total - start), "files": {}, "crc32": {}}
        for name, array in arrays.items():
            part = np.ascontiguousarray(array[start:start + rows_per_shard])
            index["arrays"].setdefault(name, {"shape": list(part.shape[1:]), "dtype": part.dtype.str})
            file = f"shard-{number:05d}-{name}.npy"
            np.save(os.path.join(folder, file), part, allow_pickle=False)
            shard["files"][name], shard["crc32"][name] = file, zlib.crc32(part.data)
        index["shards"].append(shard)
    with open(os.path.join(folder, INDEX), "w") as f:
        json.dump(index, f, indent=1)
    return folder


def write_shards_from_idx(folder, images, labels=None, rows_per_shard: int = 10_000, scale: float | None = None) -> str:
    """Write shards from IDX files (MNIST's format, `.gz` too): images `(n, h, w)`, labels `(n,)`.

    Args:
        scale: Divide the images by this and store float32 (e.g. 255.0); None keeps uint8. Defaults to None.
    """
    x = read_idx(images, MAX_IDX_BYTES * 4)
    if scale is not None:
        x = x.astype(np.float32) / np.float32(scale)
    return write_shards(folder, x, None if labels is None else read_idx(labels), rows_per_shard)


class ShardedDataset:
    """Batches `(x, y)` (or `x` alone) streamed from a shard folder; iterate once per epoch.

    Args:
        folder: A folder written by `write_shards`.
        batch_size: Rows per batch (per process under data-parallel training). Defaults to 32.
        shuffle: Shuffle the shards' order and the rows within each buffer every epoch. Defaults to True.
        buffer_shards: Shards loaded (and mixed) at a time: memory is about this many shards. Defaults to 2.
        seed: Seed of the shuffling generator (the same on every process). Defaults to 0.
        rank: This process's index among `size` readers. Defaults to `barenet.distributed`'s, else 0.
        size: Number of readers. Defaults to `barenet.distributed`'s, else 1.

    The index and every shard's header are checked when the dataset is opened; each shard's
    checksum when it is read. `len(dataset)` is the number of batches per epoch.
    """

    def __init__(self, folder, batch_size: int = 32, shuffle: bool = True, buffer_shards: int = 2, seed: int = 0,
                 rank: int | None = None, size: int | None = None):
        for name, value in (("batch_size", batch_size), ("buffer_shards", buffer_shards)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
        if rank is None or size is None:
            from .. import distributed

            strategy = distributed.current()
            rank, size = (strategy.rank, strategy.size) if strategy is not None else (0, 1)
        if not 0 <= rank < size:
            raise ValueError(f"`rank` must be in [0, size). Received: rank={rank}, size={size}")
        self.folder, self.batch_size, self.shuffle = os.fspath(folder), batch_size, bool(shuffle)
        self.buffer_shards, self.rank, self.size = buffer_shards, rank, size
        # The shard order must agree across processes; the row order is each process's own.
        self._order_rng, self._row_rng = np.random.default_rng(seed), np.random.default_rng([seed, rank])
        self.index = _read_index(self.folder)
        self.names = list(self.index["arrays"])
        for shard in self.index["shards"]:
            for name in self.names:
                _check_header(self.folder, shard, name, self.index["arrays"][name])
        if len(self.index["shards"]) < size:
            raise ValueError(f"{self.folder!r} holds {len(self.index['shards'])} shards for {size} processes; "
                             "write at least one shard per process (a smaller rows_per_shard).")
        self._order = self._shard_order()

    def _shard_order(self) -> np.ndarray:
        count = len(self.index["shards"])
        return self._order_rng.permutation(count) if self.shuffle else np.arange(count)

    def __len__(self) -> int:
        """Batches per epoch: the same on every process (the fewest full batches any process holds)."""
        rows = [sum(self.index["shards"][i]["rows"] for i in self._order[r::self.size]) for r in range(self.size)]
        return min(rows) // self.batch_size

    def __iter__(self):
        steps, mine = len(self), self._order[self.rank::self.size]
        rng = self._row_rng
        carry, done = None, 0
        for start in range(0, len(mine), self.buffer_shards):
            if done == steps:
                break
            pool = self._fill_buffer([self.index["shards"][i] for i in mine[start:start + self.buffer_shards]], carry)
            order = rng.permutation(len(pool[0])) if self.shuffle else np.arange(len(pool[0]))
            full = len(order) // self.batch_size * self.batch_size
            for begin in range(0, full, self.batch_size):
                if done == steps:
                    break
                rows = order[begin:begin + self.batch_size]
                batch = tuple(array[rows] for array in pool)
                done += 1
                yield batch if len(batch) > 1 else batch[0]
            carry, pool = [array[order[full:]] for array in pool], None  # free the buffer before the next fill
        self._order = self._shard_order()  # the next epoch's shard order (the same on every process)

    def _fill_buffer(self, shards, carry) -> list:
        """One array per name: the rows carried over, then `shards` read straight into place."""
        kept = 0 if carry is None else len(carry[0])
        rows = kept + sum(shard["rows"] for shard in shards)
        pool = []
        for j, name in enumerate(self.names):
            spec = self.index["arrays"][name]
            array = np.empty((rows, *spec["shape"]), np.dtype(spec["dtype"]))
            if kept:
                array[:kept] = carry[j]
            offset = kept
            for shard in shards:
                part = array[offset:offset + shard["rows"]]
                _read_into(os.path.join(self.folder, shard["files"][name]), part, shard["crc32"][name])
                offset += shard["rows"]
            pool.append(array)
        return pool


def _read_index(folder: str) -> dict:
    path = os.path.join(folder, INDEX)
    try:
        with open(path) as f:
            index = json.load(f)
    except FileNotFoundError:
        raise ValueError(f"{folder!r} is not a shard folder: it has no {INDEX} (write one with write_shards).") from None
    except (OSError, ValueError) as error:
        raise ValueError(f"The shard index {path!r} cannot be read: {error}") from None
    if not isinstance(index, dict) or index.get("format") != FORMAT or not index.get("shards"):
        raise ValueError(f"{path!r} is not a barenet shard index (format {FORMAT!r} with a list of shards).")
    return index


def _read_into(path: str, out: np.ndarray, crc32: int) -> None:
    """Read the `.npy` file at `path` (checked when the dataset opened) into `out`, then verify its checksum."""
    try:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            read = np.lib.format.read_array_header_2_0 if version >= (2, 0) else np.lib.format.read_array_header_1_0
            shape, fortran, _ = read(f)
            view = memoryview(out.reshape(-1).view(np.uint8))
            if fortran or tuple(shape) != out.shape or f.readinto(view) != out.nbytes:
                raise ValueError("its header or length changed since the dataset was opened")
    except (OSError, ValueError) as error:
        raise ValueError(f"Shard {path!r} cannot be read: {error}") from None
    if zlib.crc32(view) != crc32:
        raise ValueError(f"Shard {path!r} is corrupt: its checksum differs from the one in {INDEX}.")


def _check_header(folder: str, shard: dict, name: str, spec: dict) -> None:
    """The file exists and its `.npy` header declares the rows, shape and dtype the index says, with
    as many bytes as that needs (no data is read)."""
    path = os.path.join(folder, shard["files"][name])
    try:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            read = np.lib.format.read_array_header_2_0 if version >= (2, 0) else np.lib.format.read_array_header_1_0
            shape, _, dtype = read(f)
            data_bytes = os.fstat(f.fileno()).st_size - f.tell()
    except FileNotFoundError:
        raise ValueError(f"Shard {path!r} is missing (listed in {INDEX}).") from None
    except (OSError, ValueError) as error:
        raise ValueError(f"Shard {path!r} is corrupt: {error}") from None
    expected = (shard["rows"], *spec["shape"])
    if tuple(shape) != expected or dtype.str != spec["dtype"] or data_bytes != math.prod(shape) * dtype.itemsize:
        raise ValueError(f"Shard {path!r} is corrupt: it declares {dtype} {tuple(shape)} with {data_bytes} data bytes; "
                         f"the index expects {np.dtype(spec['dtype'])} {expected}.")
