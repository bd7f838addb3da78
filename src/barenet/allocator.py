"""Reusing freed memory from one training step to the next: glibc's malloc thresholds.

A training step allocates and frees the same large arrays each time (a layer's output, its
input gradient, a convolution's columns). glibc's malloc takes an array above its mmap
threshold from fresh pages of the kernel and gives them back when the array is freed, and
gives back the free top of its heap once that exceeds its trim threshold; both start at
128 KiB and adapt as large blocks are freed, but not to this pattern. So every step's large
arrays were fresh pages, which the kernel zeroes as they are first touched: on the benchmark
CNN with BatchNormalization, about 1,400 page faults and 5-7 ms of kernel time a step (about
a sixth of the step at two threads), and none with the thresholds below.

`hold()`, when `fit`, `evaluate` or `predict` starts (`barenet.fast.session`), sets the mmap
threshold to 32 MiB (the largest glibc takes) and the trim threshold to 1 GiB, so freed arrays
stay in the heap for the next step; `release()`, when the outermost one ends, gives the heap's
free memory back to the system (`malloc_trim(0)`) if the loop ran for `TRIM_AFTER` seconds or
more (a short `predict`, called in a loop, should not pay for a trim each time: 17 us measured).
glibc cannot report its thresholds, so they are set once and stay as set afterwards (freed
memory is reused; the next long loop's `release` returns it).

Nothing is changed where the C library is not glibc, where the process sets malloc's tuning
itself (`MALLOC_*_` or `GLIBC_TUNABLES` environment variables), or with `BARENET_MALLOC=0`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import time

ENVIRONMENT_VARIABLE = "BARENET_MALLOC"
MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's ceiling for M_MMAP_THRESHOLD on 64-bit systems
TRIM_THRESHOLD = 1024 * 1024 * 1024
TRIM_AFTER = 0.5  # seconds a loop must run before its end trims the heap
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers (malloc.h)
_USER_TUNING = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_",
                "GLIBC_TUNABLES")
_state: dict = {}


def _libc():
    """glibc's `mallopt` and `malloc_trim` (ctypes), or None: another C library, the tuning left to
    the user, or turned off."""
    if "libc" not in _state:
        _state["libc"] = None
        off = os.environ.get(ENVIRONMENT_VARIABLE, "1").strip().lower() in ("0", "false", "no", "off")
        if not off and not any(name in os.environ for name in _USER_TUNING):
            try:
                library = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
                functions = library.mallopt, library.malloc_trim, library.gnu_get_libc_version
            except (OSError, AttributeError):  # not glibc (musl, macOS, Windows)
                functions = None
            if functions is not None:
                for function in functions[:2]:
                    function.restype = ctypes.c_int
                functions[0].argtypes = [ctypes.c_int, ctypes.c_int]
                functions[1].argtypes = [ctypes.c_size_t]
                _state["libc"] = functions[:2]
    return _state["libc"]


def hold() -> bool:
    """Keep freed memory in the heap (see the module docstring). True if the thresholds are set."""
    functions = _libc()
    if functions is None:
        return False
    if "set" not in _state:
        mallopt = functions[0]
        mmap_set = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)  # mallopt returns 1 on success
        trim_set = mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
        _state["set"] = bool(mmap_set and trim_set)
    if _state["set"]:
        _state["since"] = time.monotonic()
    return _state["set"]


def release() -> None:
    """After a `hold`: give the heap's free memory back to the system if the loop was long."""
    since = _state.pop("since", None)
    if since is not None and time.monotonic() - since >= TRIM_AFTER:
        _libc()[1](0)
