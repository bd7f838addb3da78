"""Threads for the memory-bound passes: a fixed split of the batch, run on a thread pool (opt-in).

Convolution, pooling, batch normalization and dropout split each batch into the same
pieces whatever the thread count (`batch_pieces`: a number of pieces that depends on
the batch size only), run one piece per task on a thread pool (NumPy and BLAS release
the GIL on arrays), and add per-piece partial sums (weight gradients, batch
statistics) in piece order. So the thread count changes the speed, never a bit of
the result: one thread runs the very same pieces one after another.

With numba installed, the passes that matter run as compiled kernels instead (`barenet.fast`,
which uses every core by default and reads the count set here when one is); this pool is
what runs them over threads without numba.

The thread count defaults to 1 and is set with the environment variable
`BARENET_NUM_THREADS` (read at import) or `set_num_threads(n)` (`machine_threads()` says
how many CPUs this process may use); `get_num_threads()` reads it back. It is opt-in
because it does not pay yet: on the 2-core test machine the benchmark-style CNN step took
22.8 ms at 1 thread against 37.4 ms with 2 pool threads beside a 2-thread OpenBLAS (whose
spinning threads compete with the pool) and 28.4 ms with 2 pool threads over a 1-thread
BLAS, equal to 1 pool thread over that BLAS (28.0 ms): the pieces' passes do not scale
here (see benchmarks/RESULTS.md).

BLAS inside the pool: matrix products inside the pieces run while other pieces run,
so a multi-threaded BLAS would oversubscribe the cores. When `threadpoolctl` is
installed (`pip install barenet[threads]`) BLAS is held to one thread while the pool
works, and restored afterwards. It is optional because results do not depend on it
(the pieces and their products are the same at every thread count); only the speed
of a machine whose BLAS was left multi-threaded does (set `OPENBLAS_NUM_THREADS=1`
there instead).
"""

from __future__ import annotations

import contextlib
import numbers
import os
import threading
from concurrent.futures import ThreadPoolExecutor

ENVIRONMENT_VARIABLE = "BARENET_NUM_THREADS"
# A batch is cut into at most this many pieces (fewer for small batches): enough for the
# cores of a workstation, few enough that each piece stays a sizeable array.
MAX_PIECES = 8
# A piece holds at least this many values (when the batch allows): smaller arrays are cut
# into fewer pieces, and an array below it is one piece, run on the calling thread.
MIN_PIECE_SIZE = 16_384

_THREAD_PREFIX = "barenet-piece"
_lock = threading.Lock()
_state = {"threads": None, "requested": None, "pool": None, "pool_size": 0, "blas": None}


def _check(value, source: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"The number of threads must be a positive integer. Received: {source}={value!r}")
    return int(value)


def machine_threads() -> int:
    """How many CPUs this process may run on (its affinity mask), else `os.cpu_count()`."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _from_environment() -> int | None:
    raw = os.environ.get(ENVIRONMENT_VARIABLE)
    if raw is None or not raw.strip():
        return None
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"The environment variable {ENVIRONMENT_VARIABLE} must be a positive integer "
                         f"(a number of threads). Received: {ENVIRONMENT_VARIABLE}={raw!r}")
    return value


def set_num_threads(n: int) -> None:
    """Use `n` threads (a positive int) in barenet's parallel passes; results do not depend on it.

    Args:
        n: Number of threads. 1 runs everything on the calling thread.
    """
    n = _check(n, "n")
    with _lock:
        _state["threads"] = _state["requested"] = n


def requested_threads() -> int | None:
    """The count set by `set_num_threads` or `BARENET_NUM_THREADS`, or None when neither was
    (then the thread pool uses 1 thread and the compiled kernels of `barenet.fast` every core)."""
    return _state["requested"]


def get_num_threads() -> int:
    """The number of threads barenet's parallel passes use now (1 unless set: see the module docstring)."""
    if _state["threads"] is None:
        with _lock:
            if _state["threads"] is None:
                _state["threads"] = _from_environment() or 1
    return _state["threads"]


def piece_count(n: int, size: int | None = None) -> int:
    """How many pieces `batch_pieces(n, size)` makes (the compiled kernels' fixed block count too)."""
    count = min(n, MAX_PIECES) if size is None else min(n, MAX_PIECES, size // MIN_PIECE_SIZE)
    return max(count, 1)


def batch_pieces(n: int, size: int | None = None) -> list[slice]:
    """The fixed split of `n` samples (an array of `size` values, if given): up to `MAX_PIECES`
    contiguous slices of at least `MIN_PIECE_SIZE` values, sizes differing by at most one sample.
    Depends on the shapes only, never on the thread count."""
    count = piece_count(n, size)
    base, extra = divmod(n, count)
    bounds = [0]
    for k in range(count):
        bounds.append(bounds[-1] + base + (k < extra))
    return [slice(bounds[k], bounds[k + 1]) for k in range(count)]


def _pool(threads: int) -> ThreadPoolExecutor:
    with _lock:
        if _state["pool"] is None or _state["pool_size"] != threads:
            if _state["pool"] is not None:
                _state["pool"].shutdown(wait=False)
            _state["pool"] = ThreadPoolExecutor(threads, thread_name_prefix=_THREAD_PREFIX)
            _state["pool_size"] = threads
        return _state["pool"]


def _blas_one_thread():
    """A context holding BLAS to one thread (threadpoolctl, when installed), else a no-op."""
    controller = _state["blas"]
    if controller is None:
        try:
            from threadpoolctl import ThreadpoolController
            controller = ThreadpoolController()
        except ImportError:
            controller = False
        _state["blas"] = controller
    return controller.limit(limits=1, user_api="blas") if controller else contextlib.nullcontext()


def run_pieces(work, n: int, size: int | None = None) -> list:
    """`[work(piece) for piece in batch_pieces(n)]`, the pieces spread over the threads.

    Args:
        work: A function of one slice of the batch; pieces must not write to shared memory
            outside their own slice (return partial sums instead).
        n: Batch size.
        size: Values of the largest array the call touches (small arrays get fewer pieces).
    """
    pieces = batch_pieces(n, size)
    threads = min(get_num_threads(), len(pieces))
    if threads == 1 or threading.current_thread().name.startswith(_THREAD_PREFIX):  # no nesting in the pool
        return [work(piece) for piece in pieces]
    with _blas_one_thread():
        return list(_pool(threads).map(work, pieces))


def add_in_order(parts: list, out=None):
    """The sum of the arrays `parts`, added left to right (so the rounding never depends on timing)."""
    if out is None:
        out = parts[0].copy()
    else:
        out[...] = parts[0]
    for part in parts[1:]:
        out += part
    return out


_initial = _from_environment()
if _initial is not None:
    _state["threads"] = _state["requested"] = _initial
