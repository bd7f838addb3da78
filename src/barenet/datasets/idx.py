"""Reader for the IDX format of MNIST and Fashion-MNIST (plain or gzip-compressed).

An IDX file is a big-endian header `0x00 0x00 <type> <ndim>`, `ndim` uint32
dimension sizes, then the data. Only unsigned bytes (type 0x08) occur in these
datasets. The reader reads the header first, refuses a declared size above
`MAX_IDX_BYTES`, then decompresses exactly the declared number of bytes (plus one,
to see that nothing follows): a gzip bomb behind a valid header is never inflated
past its declared size. Every problem raises `ValueError` naming the file.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib

import numpy as np

_UBYTE = 0x08
MAX_IDX_BYTES = 2**28  # 256 MiB; Fashion-MNIST's largest file holds 47 MB


def read_idx(path: str | os.PathLike, max_bytes: int = MAX_IDX_BYTES) -> np.ndarray:
    """Return the array stored in the IDX file at `path` (`.gz` is decompressed).

    Args:
        path: The file.
        max_bytes: Most data bytes the header may declare. Defaults to `MAX_IDX_BYTES`.
    """
    path = os.fspath(path)
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            return _read(f, path, max_bytes)
    except (OSError, EOFError, zlib.error) as error:
        raise ValueError(f"Cannot read IDX file {path!r}: {error}") from None


def _read(f, path: str, max_bytes: int) -> np.ndarray:
    magic = f.read(4)
    if len(magic) < 4 or magic[0] != 0 or magic[1] != 0 or magic[2] != _UBYTE or not 1 <= magic[3] <= 4:
        raise ValueError(f"{path!r} is not an unsigned-byte IDX file (bad magic number {magic.hex() or 'empty'}).")
    ndim = magic[3]
    dims = f.read(4 * ndim)
    if len(dims) < 4 * ndim:
        raise ValueError(f"IDX file {path!r} is truncated: its header needs {4 + 4 * ndim} bytes, it has {4 + len(dims)}.")
    shape = tuple(int(d) for d in np.frombuffer(dims, ">u4"))
    size = math.prod(shape)
    if size > max_bytes:
        raise ValueError(f"IDX file {path!r} declares an array of shape {shape} ({size} bytes); "
                         f"at most {max_bytes} bytes are allowed.")
    array = np.empty(shape, np.uint8)
    view, filled = memoryview(array.reshape(-1)), 0
    while filled < size:
        count = f.readinto(view[filled:])
        if not count:
            raise ValueError(f"IDX file {path!r} is truncated: its dimensions {shape} need "
                             f"{size} bytes of data, it has {filled}.")
        filled += count
    if f.read(1):
        raise ValueError(f"IDX file {path!r} holds more data than its dimensions {shape} declare ({size} bytes).")
    return array
