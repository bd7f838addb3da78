"""Optional compiled kernels (numba): Conv2D, MaxPooling2D, BatchNormalization, and then Dense,
Dropout and Adam, fused and spread over every core.

`pip install barenet[fast]` installs numba; barenet then uses the kernels on its own:
`kernels.py` for float32 `Conv2D` (channels-last or first, any stride, padding and dilation,
`groups=1`), `MaxPooling2D(2)` and Dense's products; `normalization_kernels.py` for
BatchNormalization in training; `elementwise_kernels.py` for Adam's update and Dropout's
mask. The NumPy code in `barenet.layers` and `barenet.optimizers` stays the reference: every
kernel is tested against it, and it runs wherever the kernels do not apply (float64, groups,
other pooling) or are missing.

Why: on the 2-core benchmark machine NumPy's passes over arrays of a megabyte or more do
not get faster with a second thread (memory bandwidth, not arithmetic, is their limit),
while a loop that finishes one sample at a time keeps the sample in its core's cache;
so the kernels loop over samples in parallel, each sample's columns, product, bias and
ReLU (or its gradients) done before the next. Results are bit-identical at every thread
count: each sample is computed alone, and every sum over the batch is taken over a fixed
split of it (`blocks.py`), added in order.

Threads: `barenet.config.set_num_threads(n)` (or `BARENET_NUM_THREADS`) sets how many;
by default the kernels use every core this process may run on (`NUMBA_NUM_THREADS` caps
it). While a kernel runs, NumPy's BLAS is held to one thread; inside `fit`/`evaluate`/
`predict` (a `session`) it stays so from the first convolution kernel to the end of the
loop. Dense's, Dropout's and Adam's kernels run only while BLAS is on one thread
(`worth_it`), so models without convolutions keep a multi-threaded BLAS. `BARENET_FAST=0`
turns the kernels off (read when they are first needed). The first use compiles them
(about 25 s on the test machine); numba caches them on disk for later processes.
"""

from __future__ import annotations

import contextlib
import os
import threading

import numpy as np

from .. import parallel

ENVIRONMENT_VARIABLE = "BARENET_FAST"
# Below this many values an elementwise pass stays NumPy's (a kernel's start costs more).
MIN_ELEMENTWISE = 32_768
_state: dict = {"sessions": 0}
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
        _state["kernels"] = _state["normalization"] = _state["elementwise"] = None
        if os.environ.get(ENVIRONMENT_VARIABLE, "1").strip().lower() not in ("0", "false", "no", "off"):
            try:
                from . import elementwise_kernels, kernels, normalization_kernels
            except Exception:  # noqa: BLE001 - numba missing, or unable to load (e.g. under a memory limit)
                return None
            _state.update(kernels=kernels, normalization=normalization_kernels, elementwise=elementwise_kernels)
    return _state["kernels"]


def get_normalization_kernels():
    """BatchNormalization's kernels (`barenet.fast.normalization_kernels`), or None as `get_kernels`."""
    get_kernels()
    return _state["normalization"]


def get_elementwise_kernels():
    """Adam's and Dropout's kernels (`barenet.fast.elementwise_kernels`), or None as `get_kernels`."""
    get_kernels()
    return _state["elementwise"]


def blas_is_quiet() -> bool:
    """Whether NumPy's BLAS runs on one thread now (set so by the user, or held so by a `session`
    since a convolution kernel ran): only then do the kernels that do not need it, or that replace
    its multi-threaded products (Adam, Dropout, Dense), run, so that they never run beside
    BLAS's spinning threads (which slows both, by milliseconds a step on two cores)."""
    from . import blas

    functions = blas.load()
    return functions is not None and functions[2]() == 1


def worth_it(array) -> bool:
    """Whether a kernel of Adam, Dropout or Dense pays on `array`: float32, contiguous, at least
    `MIN_ELEMENTWISE` values (a kernel's start costs about 10 microseconds), and BLAS quiet."""
    return (array.dtype == np.float32 and array.size >= MIN_ELEMENTWISE and array.flags.c_contiguous
            and blas_is_quiet() and get_kernels() is not None)


def enabled(dtype) -> bool:
    """Whether the kernels run for arrays of `dtype` (float32 only)."""
    return np.dtype(dtype) == np.float32 and get_kernels() is not None


def threads() -> int:
    """The kernels' thread count: `set_num_threads`'s, else every core (at most numba's pool size)."""
    import numba

    if "machine" not in _state:
        _state["machine"] = parallel.machine_threads()
    wanted = parallel.requested_threads() or _state["machine"]
    return max(1, min(wanted, numba.config.NUMBA_NUM_THREADS))


@contextlib.contextmanager
def running():
    """Around a kernel call: numba's thread count set, NumPy's BLAS held to one thread (until the
    end of the enclosing `session`, if any, else of this call)."""
    import numba

    from . import blas

    with _launch:
        count = threads()
        if getattr(_thread_counts, "numba", None) != count:
            numba.set_num_threads(count)
            _thread_counts.numba = count
        if _state["sessions"] and blas.load() is not None:
            if "blas_threads" not in _state:
                _, setter, getter, _ = blas.load()
                _state["blas_threads"] = getter()
                setter(1)
            yield
            return
        with blas.one_thread():
            yield


@contextlib.contextmanager
def session():
    """Around `fit`, `evaluate` and `predict` (`barenet.loops`): once a kernel has run, NumPy's BLAS
    stays at one thread until the loop ends, so that its threads (which spin for a while after
    each product) never compete with the kernels' for the cores between two layers."""
    _state["sessions"] += 1
    try:
        yield
    finally:
        _state["sessions"] -= 1
        if not _state["sessions"] and "blas_threads" in _state:
            from . import blas

            blas.load()[1](_state.pop("blas_threads"))


def set_enabled(value: bool) -> None:
    """Turn the kernels on (when installed) or off for this process; for tests and comparisons."""
    _state.pop("kernels", None)
    if not value:
        _state["kernels"] = _state["normalization"] = _state["elementwise"] = None
