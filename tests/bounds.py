"""`within(seconds, megabytes)`: assert a block's wall time and peak traced memory (NumPy's
allocations included) stay under generous bounds, for the hardening tests. With
`megabytes=None` only the time is checked (tracemalloc slows pure-Python code 2-3x)."""

from __future__ import annotations

import contextlib
import time
import tracemalloc


@contextlib.contextmanager
def within(seconds: float = 5.0, megabytes: float | None = 300.0):
    tracing = tracemalloc.is_tracing()
    if not tracing and megabytes is not None:
        tracemalloc.start()
    tracemalloc.reset_peak()
    start = time.perf_counter()
    try:
        yield
    finally:
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        if not tracing and megabytes is not None:
            tracemalloc.stop()
    assert elapsed < seconds, f"took {elapsed:.1f} s, more than {seconds} s"
    assert megabytes is None or peak < megabytes, f"peak memory {peak:.0f} MB, more than {megabytes} MB"
