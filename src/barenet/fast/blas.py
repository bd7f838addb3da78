"""NumPy's own BLAS, reached from compiled kernels: `sgemm`, and its thread count.

The kernels in this package multiply matrices inside their parallel loops, one product
per thread, so they call the very BLAS that NumPy's `matmul` uses (the OpenBLAS that NumPy's
wheels ship), through ctypes: `cblas_sgemm` on row-major float32 matrices. While they run,
that BLAS must be single-threaded, or its own threads would run beside the kernels' and
fight them for the cores: `barenet.fast.running` holds it to one thread through the thread
count functions found here, and gives the count back afterwards.

`load()` finds the library (the one `numpy.show_runtime()` names) and its symbols; NumPy
builds on another BLAS (MKL, Accelerate) have no such library, and the package then leaves
the kernels off (`barenet.fast.get_kernels()` is None), which changes speed only.
"""

from __future__ import annotations

import ctypes
import glob
import os

import numpy as np

ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112
# Symbol prefixes, newest first: NumPy 2 wheels (scipy-openblas, 64-bit ints), then a
# system OpenBLAS with 32-bit ints.
_FLAVOURS = (("scipy_cblas_sgemm64_", "scipy_openblas_set_num_threads64_", "scipy_openblas_get_num_threads64_",
              ctypes.c_int64),
             ("cblas_sgemm", "openblas_set_num_threads", "openblas_get_num_threads", ctypes.c_int))
_state: dict = {}


def _candidates():
    numpy_dir = os.path.dirname(np.__file__)
    for folder in (os.path.join(numpy_dir, "..", "numpy.libs"), os.path.join(numpy_dir, ".libs")):
        yield from sorted(glob.glob(os.path.join(folder, "*openblas*.so*")))


def load():
    """`(sgemm, set_num_threads, get_num_threads, blas integer type)` of NumPy's OpenBLAS (ctypes), or None."""
    if "functions" in _state:
        return _state["functions"]
    found = None
    for path in _candidates():
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for gemm_name, set_name, get_name, integer in _FLAVOURS:
            if all(hasattr(library, name) for name in (gemm_name, set_name, get_name)):
                gemm = getattr(library, gemm_name)
                gemm.restype = None
                c_int, c_float, pointer = ctypes.c_int, ctypes.c_float, ctypes.c_void_p
                gemm.argtypes = [c_int, c_int, c_int, integer, integer, integer, c_float, pointer, integer,
                                 pointer, integer, c_float, pointer, integer]
                setter, getter = getattr(library, set_name), getattr(library, get_name)
                setter.argtypes, setter.restype = [c_int], None
                getter.argtypes, getter.restype = [], c_int
                found = (gemm, setter, getter, integer)
                break
        if found:
            break
    _state["functions"] = found
    return found
