"""What tests of the compiled kernels share (`test_conv_pool.py`, `test_norm_pool.py`, `test_adam_kernels.py`):
`require_kernels()` skips the module where the kernels cannot run (no numba, no NumPy OpenBLAS,
`BARENET_FAST=0`), and the autouse fixture `kernels_on`, imported into a module, turns them on
around each of its tests."""

import os

import pytest


def require_kernels():
    pytest.importorskip("numba")
    from barenet import fast
    from barenet.fast import blas

    if blas.load() is None or os.environ.get(fast.ENVIRONMENT_VARIABLE, "1").strip().lower() in ("0", "false", "no",
                                                                                                   "off"):
        pytest.skip("the compiled kernels are off in this run", allow_module_level=True)


@pytest.fixture(autouse=True)
def kernels_on():
    from barenet import fast

    fast.set_enabled(True)
    yield
    fast.set_enabled(True)


def never_fuses(self, following, x, training=False):
    """A `fuses_with` that declines every pair: the two layers then run apart."""
    return False
