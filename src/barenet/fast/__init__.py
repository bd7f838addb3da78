"""Optional compiled kernels (numba): Conv2D, MaxPooling2D, BatchNormalization, Dense's products,
Dropout and Adam, fused and spread over every core; sparse cross-entropy's indexing, the softmax's
shift and the accuracy's count; and the shuffled batch's gather.

`pip install barenet[fast]` installs numba; barenet then uses the kernels on its own:
`kernels.py` for float32 `Conv2D` (channels-last or first, any stride, padding and dilation,
`groups=1`), `MaxPooling2D(2)`, the two as one pass (`layers.conv_pool`) and Dense's
products split by rows; `dense_kernels.py` for Dense's training step split by its inputs;
`normalization_kernels.py` for BatchNormalization in training;
`elementwise_kernels.py` for Adam's update and Dropout's mask in backward;
`random_kernels.py` (with `dropout_stream.py`) for Dropout's draw and product in training,
from the generator's own stream; `loss_kernels.py` for sparse categorical cross-entropy's
training value and gradient after a softmax, and `output_kernels.py` for the softmax's shift
and the accuracy's count, once the kernels are loaded; `gather_kernels.py`
for a shuffled batch's rows, gathered from the training arrays and cast to float32 in one
pass. The NumPy code in `barenet.layers`, `barenet.losses`, `barenet.optimizers` and
`barenet.data_adapters` stays the reference: every kernel is tested against it, and it runs
wherever the kernels do not apply (float64, groups, other pooling) or are missing.

Why: on the 2-core benchmark machine NumPy's passes over arrays of a megabyte or more do
not get faster with a second thread (memory bandwidth, not arithmetic, is their limit),
while a loop that finishes a few samples at a time keeps them in its core's cache; so the
kernels loop over blocks of samples in parallel, each block's columns, product, bias and
ReLU (or its gradients) done before the next, a block's columns no larger than a core's
L2 cache (`CONV_BLOCK_BYTES`). Results are bit-identical at every thread count: the
blocks depend on the shapes alone, and every sum over the batch is taken over a fixed
split of it (`blocks.py`), added in order. (On that machine arithmetic gains 2x from the
second core, a pass that streams memory 1.2-1.4x: see benchmarks/RESULTS.md.)

Threads: `barenet.config.set_num_threads(n)` (or `BARENET_NUM_THREADS`) sets how many;
by default the kernels use every core this process may run on (`NUMBA_NUM_THREADS` caps
it; under `barenet.distributed` each process takes its share, `share_cores`). While a
kernel runs, NumPy's BLAS is held to one thread; inside `fit`/`evaluate`/`predict` (a
`session`) it stays so from the first kernel that holds it (a convolution, pooling or
batch-normalization kernel, or a Dense layer's training step split by its inputs) to the end
of the loop. In training, a Dense layer with large weights splits its step by the weights' rows
(`input_blocks`, `dense_kernels`): each core multiplies, differentiates and (with Adam's blocks,
which fall on the same rows) updates its own share, so that no core rewrites weights the other
holds in its cache (as it does after a product on BLAS's own threads: on the 2-core test machine
that made Adam's pass 2-3x slower, and the MLP's step up to twice as slow when the host's cores
are far apart). Elsewhere Dense's products are split by rows only while a session holds BLAS
(`worth_it`, `blas_held`), and are otherwise one BLAS call, as NumPy's, on BLAS's own threads,
or on one thread where you set it so (`OPENBLAS_NUM_THREADS=1`: such a split would pack the
shared matrix once per block for nothing). Adam's and Dropout's passes run the one-thread
kernel beside BLAS's threads, and spread over the cores only beside a one-thread BLAS and on
large arrays (`elementwise_blocks`): numba's worker threads sleep between kernels, and waking
one costs about 40 us after a millisecond of Python (measured), more than a small pass takes.
Small models do not load numba at all (`elementwise_ready`). `BARENET_FAST=0` turns the
kernels off (read when they are first needed). The first use compiles them (about 25 s on
the test machine); numba caches them on disk for later processes.

All kernels follow NumPy's error model (`error_model="numpy"`: x / 0 is inf, no exception
raised), which, with loops that run from 0 over slices, lets the compiler vectorize them.
"""

from __future__ import annotations

import contextlib
import os
import threading

import numpy as np

from .. import allocator, parallel
from . import blas

ENVIRONMENT_VARIABLE = "BARENET_FAST"
# Below this many values an elementwise pass stays on one thread (a parallel start costs more),
# a Dense product stays NumPy's, and an array does not load the kernels on its own.
MIN_ELEMENTWISE = 32_768
# The Conv2D kernels copy and multiply at most this many bytes of columns at a time (when one
# sample's fit): the size of a core's L2 cache on the test machine (AMD EPYC, 512 KiB).
CONV_BLOCK_BYTES = 512 * 1024
_FLOAT32 = np.dtype(np.float32)
# A shuffled batch is gathered by the kernel (`take_rows`) from arrays of these dtypes, when it
# holds at least `MIN_GATHER` values (below, NumPy's indexing costs about as little).
_GATHERED = (np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.uint8))
MIN_GATHER = 4096
_state: dict = {"sessions": 0}
# The keys of `_state` that hold the kernel modules (None while off or missing).
_KERNEL_MODULES = ("kernels", "dense", "normalization", "elementwise", "loss", "output", "random", "gather")
# Dense's split forward pass writes one share of the output per block: at most this many values
# in all (16 MiB), or fewer blocks (`input_blocks`).
MAX_PARTIAL_VALUES = 2**22
# One kernel at a time in this process: numba's fallback thread pool ("workqueue", where no
# OpenMP or TBB is found) aborts the process when two threads start parallel kernels at once.
_launch = threading.RLock()
# numba's thread count is set per calling thread; remember the last one set in each, so that
# a kernel call only pays numba's (tens of microseconds) setter when the count changes.
_thread_counts = threading.local()


def get_kernels():
    """The convolution and pooling kernels (`barenet.fast.kernels`), or None when numba (or NumPy's
    OpenBLAS) is missing or cannot load, or `BARENET_FAST=0`: the NumPy code runs then."""
    if "kernels" not in _state:
        _state.update(dict.fromkeys(_KERNEL_MODULES))
        if os.environ.get(ENVIRONMENT_VARIABLE, "1").strip().lower() not in ("0", "false", "no", "off"):
            try:
                from . import (
                    dense_kernels,
                    elementwise_kernels,
                    gather_kernels,
                    kernels,
                    loss_kernels,
                    normalization_kernels,
                    output_kernels,
                    random_kernels,
                )
            except Exception:  # noqa: BLE001 - numba missing, or unable to load (e.g. under a memory limit)
                return None
            _state.update(kernels=kernels, dense=dense_kernels, normalization=normalization_kernels,
                          elementwise=elementwise_kernels, loss=loss_kernels, output=output_kernels,
                          random=random_kernels, gather=gather_kernels)
    return _state["kernels"]


def get_dense_kernels():
    """Dense's products split over its inputs (`barenet.fast.dense_kernels`), or None as `get_kernels`."""
    get_kernels()
    return _state["dense"]


def get_normalization_kernels():
    """BatchNormalization's kernels (`barenet.fast.normalization_kernels`), or None as `get_kernels`."""
    get_kernels()
    return _state["normalization"]


def get_elementwise_kernels():
    """Adam's and Dropout's kernels (`barenet.fast.elementwise_kernels`), or None as `get_kernels`."""
    get_kernels()
    return _state["elementwise"]


def get_random_kernels():
    """Dropout's drawing kernels (`barenet.fast.random_kernels`), or None as `get_kernels`."""
    get_kernels()
    return _state["random"]


def loaded_loss_kernels():
    """The loss's kernel (`barenet.fast.loss_kernels`) when the kernels are loaded already, else
    None: a small batch's loss is no reason to import numba (its results are NumPy's bits anyway)."""
    return _state.get("loss") if "kernels" in _state else None


def loaded_output_kernels():
    """The softmax's shift and the accuracy's count (`barenet.fast.output_kernels`) when the kernels
    are loaded already, else None (never loads them: NumPy gives the same bits)."""
    return _state.get("output") if "kernels" in _state else None


def loaded_elementwise_kernels():
    """Adam's and Dropout's kernels when they are loaded already, else None (never loads them)."""
    return _state.get("elementwise") if "kernels" in _state else None


def take_rows(array: np.ndarray, rows, dtype):
    """`array[rows]` cast to `dtype`, copied by the gather kernel (`gather_kernels.take_rows`: the
    same values, read once), or None where it does not apply: `rows` a slice (NumPy gives a view)
    or not an array of integers, a `dtype` other than float32, an `array` of another dtype than
    float32, float64 or uint8 or not C-contiguous, fewer than `MIN_GATHER` values, a row out of
    range (NumPy then raises), or the kernels not loaded and the batch under `MIN_ELEMENTWISE`
    values (a small batch is no reason to import numba)."""
    if (dtype != _FLOAT32 or not isinstance(rows, np.ndarray) or rows.ndim != 1 or rows.dtype.kind not in "iu"
            or array.dtype not in _GATHERED or array.ndim == 0):
        return None
    values = len(rows) * (array.size // len(array)) if len(array) else 0
    if values < MIN_GATHER or ("kernels" not in _state and values < MIN_ELEMENTWISE):
        return None
    array = np.asarray(array)  # a memmap as a plain view of its pages
    if not array.flags.c_contiguous or get_kernels() is None:
        return None
    out = np.empty((len(rows), *array.shape[1:]), _FLOAT32)
    if not _state["gather"].take_rows(array.reshape(len(array), -1), rows, out.reshape(len(rows), -1)):
        return None
    return out


def blas_is_quiet() -> bool:
    """Whether NumPy's BLAS runs on one thread now (set so by the user, or held so by a `session`):
    only then do the kernels that spread an elementwise pass over the cores (Adam, Dropout) run,
    so that they never run beside BLAS's spinning threads (which slows both, by milliseconds a
    step on two cores). Dense's split products ask more of it (`blas_held`)."""
    if blas_held():
        return True
    functions = blas.load()
    return functions is not None and functions[2]() == 1


def elementwise_ready(*arrays) -> bool:
    """Whether Adam's and Dropout's kernels apply to `arrays`: float32 and C-contiguous, and the
    kernels loaded, or worth loading for an array of `MIN_ELEMENTWISE` values or more (importing
    numba costs about a second and 100 MiB, which a small model should not pay). (`elementwise_blocks`
    then says whether to spread the pass over the cores.)"""
    if "kernels" not in _state and arrays[0].size < MIN_ELEMENTWISE:
        return False
    for array in arrays:  # a plain loop: this runs several times a step
        if array.dtype != _FLOAT32 or not array.flags.c_contiguous:
            return False
    return get_kernels() is not None


def elementwise_blocks(array) -> int:
    """How many blocks an elementwise kernel splits `array` into: 1 (the one-thread kernel, no
    launch) below `MIN_ELEMENTWISE` values, on one thread, or while BLAS's threads are awake
    (`blas_is_quiet`), else up to 8 of at least 16,384 values. The results do not depend on it."""
    if array.size < MIN_ELEMENTWISE or threads() == 1 or not blas_is_quiet():
        return 1
    return min(8, array.size // 16_384)


def blas_held() -> bool:
    """Whether a `session` holds BLAS to one thread now (a layer's kernel has run in it: Conv2D,
    pooling, BatchNormalization): only then do Dense's split products stand in for BLAS's
    threads. Those kernels run whatever the thread count (Adam's and Dropout's passes over the
    cores start no hold, `running(hold=False)`), so the split, and the results, do not depend on
    it; nor on BLAS's own count, since the hold is taken whether BLAS had one thread or more."""
    return "blas_threads" in _state


def worth_it(array) -> bool:
    """Whether Dense's kernels pay on `array`: float32, contiguous, at least `MIN_ELEMENTWISE`
    values (a kernel's start costs about 10 microseconds), and a session holding BLAS to one
    thread (`blas_held`)."""
    return (array.dtype == np.float32 and array.size >= MIN_ELEMENTWISE and array.flags.c_contiguous
            and blas_held() and get_kernels() is not None)


def product_blocks(parts: int, work: int) -> int:
    """How many fixed blocks (of the `parts` rows or columns) a product of `work` multiply-adds is
    split into: 1 under a million, 2 under 2^25, 4 under 2^27, else 8. Each block is one BLAS call,
    which packs the other matrix again, so fewer blocks cost less on one core (measured on the
    test machine, Dense 784 -> 128: 2 blocks cost 10-15% more than 1 at one thread and save 30-40%
    at two; 8 blocks, the earlier split, cost up to twice as much). Shapes alone decide it."""
    blocks = 1 if work < 2**20 else 2 if work < 2**25 else 4 if work < 2**27 else 8
    return max(1, min(blocks, parts))


def input_blocks(x, weights) -> int:
    """How many fixed blocks of its inputs (the weights' rows) a Dense layer's training step is split
    into (`dense_kernels`), or 1 for NumPy's whole products: float32 `x` (rows x inputs) and
    `weights` (inputs x units), C-contiguous, weights of `MIN_ELEMENTWISE` values or more (smaller
    ones are no reason to load numba, and cost little to share between cores), and the kernels on.
    The count is `product_blocks` of the inputs and the product's multiply-adds, fewer where the
    forward pass's shares would pass `MAX_PARTIAL_VALUES`: the shapes alone decide it."""
    if (x.dtype != _FLOAT32 or weights.dtype != _FLOAT32 or x.ndim != 2 or weights.size < MIN_ELEMENTWISE
            or not x.flags.c_contiguous or not weights.flags.c_contiguous):
        return 1
    rows, (inputs, units) = len(x), weights.shape
    blocks = min(product_blocks(inputs, rows * inputs * units), MAX_PARTIAL_VALUES // max(1, rows * units))
    if blocks < 2 or get_kernels() is None:
        return 1
    return blocks


def conv_samples_in_cache(rows: int, width: int) -> int:
    """How many samples' columns (`rows` x `width` float32 values each) fit in `CONV_BLOCK_BYTES`
    (at least 1): the Conv2D kernels copy and multiply that many at a time, so that the core's cache
    keeps the columns from their copy to the product. The shapes alone decide it, never the thread
    count: OpenBLAS rounds a product differently with another number of rows, so the results depend
    on it."""
    return max(1, CONV_BLOCK_BYTES // (rows * width * 4))


def conv_forward_blocks(n: int, rows: int, width: int) -> int:
    """How many blocks of whole samples `kernels.conv_forward` splits a batch of `n` into: blocks of
    at most `conv_samples_in_cache` samples, and at least `parallel.piece_count(n)` (8 from 8 up)."""
    return max(parallel.piece_count(n), -(-n // conv_samples_in_cache(rows, width)))


def enabled(dtype) -> bool:
    """Whether the kernels run for arrays of `dtype` (float32 only)."""
    return np.dtype(dtype) == np.float32 and get_kernels() is not None


def threads() -> int:
    """The kernels' thread count: `set_num_threads`'s, else every core (at most numba's pool size),
    or this process's share of them (`share_cores`)."""
    if "pool" not in _state:
        import numba

        _state["pool"] = numba.config.NUMBA_NUM_THREADS
    if "machine" not in _state:
        _state["machine"] = parallel.machine_threads()
    wanted = parallel.requested_threads() or max(1, _state["machine"] // _state.get("processes", 1))
    return max(1, min(wanted, _state["pool"]))


def share_cores(processes: int) -> None:
    """`processes` processes (this one included) run on this machine: by default the kernels use
    this process's share of its cores, not all of them (`barenet.distributed` calls this)."""
    _state["processes"] = max(1, int(processes))


class running:  # noqa: N801 - used as `with fast.running():`, like a function
    """Around a kernel call: numba's thread count set, NumPy's BLAS held to one thread (until the
    end of the enclosing `session`, if any, else of this call). A class rather than a generator:
    it runs around every kernel call, several times a step.

    `hold=False` (Adam's and Dropout's passes over the cores, which run only beside a BLAS on one
    thread already, and only at some thread counts) starts no session's hold: a hold decides
    whether Dense splits its products (`blas_held`), and must not depend on the thread count."""

    __slots__ = ("_blas_before", "_hold")

    def __init__(self, hold: bool = True):
        self._hold = hold

    def __enter__(self):
        _launch.acquire()
        self._blas_before = None
        try:
            count = threads()
            if getattr(_thread_counts, "numba", None) != count:
                import numba

                numba.set_num_threads(count)
                _thread_counts.numba = count
            functions = blas.load()
            if functions is not None and "blas_threads" not in _state:  # else a session holds it at 1
                if _state["sessions"] and self._hold:
                    _hold_blas()
                else:
                    before = functions[2]()
                    if before != 1:
                        functions[1](1)
                        self._blas_before = before
        except BaseException:
            _launch.release()
            raise
        return self

    def __exit__(self, *exc_info):
        try:
            if self._blas_before is not None:
                blas.load()[1](self._blas_before)
        finally:
            _launch.release()


@contextlib.contextmanager
def session():
    """Around `fit`, `evaluate` and `predict` (`barenet.loops`): once a kernel has run, NumPy's BLAS
    stays at one thread until the loop ends, so that its threads (which spin for a while after
    each product) never compete with the kernels' for the cores between two layers; and freed
    memory stays in the heap for the next step (`barenet.allocator`), given back at the end."""
    if not _state["sessions"]:
        allocator.hold()
    _state["sessions"] += 1
    try:
        yield
    finally:
        _state["sessions"] -= 1
        if not _state["sessions"]:
            if "blas_threads" in _state:
                blas.load()[1](_state.pop("blas_threads"))
            allocator.release()


def _hold_blas() -> None:
    """Inside a session: BLAS to one thread until the session ends (its count kept to restore)."""
    if "blas_threads" in _state:
        return
    functions = blas.load()
    if functions is not None:
        _state["blas_threads"] = functions[2]()
        functions[1](1)


def set_enabled(value: bool) -> None:
    """Turn the kernels on (when installed) or off for this process; for tests and comparisons."""
    _state.pop("kernels", None)
    if not value:
        _state.update(dict.fromkeys(_KERNEL_MODULES))
