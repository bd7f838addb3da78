"""Reader for the IDX format of MNIST and Fashion-MNIST (plain or gzip-compressed).

An IDX file is a big-endian header `0x00 0x00 <type> <ndim>`, `ndim` uint32
dimension sizes, then the data. Only unsigned bytes (type 0x08) occur in these
datasets; the reader checks the magic number, the dimensions and the length and
raises `ValueError` naming the file when any is wrong.
"""

from __future__ import annotations

import gzip
import os
import zlib

import numpy as np

_UBYTE = 0x08


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Return the array stored in the IDX file at `path` (`.gz` is decompressed)."""
    path = os.fspath(path)
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError, zlib.error) as error:
        raise ValueError(f"Cannot read IDX file {path!r}: {error}") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != _UBYTE or not 1 <= data[3] <= 4:
        raise ValueError(f"{path!r} is not an unsigned-byte IDX file (bad magic number {data[:4].hex() or 'empty'}).")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"IDX file {path!r} is truncated: its header needs {header} bytes, it has {len(data)}.")
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", count=ndim, offset=4))
    expected = header + int(np.prod(shape))
    if len(data) != expected:
        raise ValueError(f"IDX file {path!r} has {len(data)} bytes; its dimensions {shape} need {expected}.")
    # A copy, so the caller gets an ordinary writable array.
    return np.frombuffer(data, np.uint8, offset=header).reshape(shape).copy()
