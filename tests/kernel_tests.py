"""What tests of the compiled kernels share (`test_conv_pool.py`, `test_norm_pool.py`, `test_adam_kernels.py`,
`test_fast.py`, `test_fast_dense.py`, ...): `require_kernels()` skips the module where the kernels cannot
run (no numba, no NumPy OpenBLAS, `BARENET_FAST=0`), the autouse fixture `kernels_on`, imported into a
module, turns them on around each of its tests, and `layer_passes` runs one layer's forward and backward
(`blas_threads`, which sets NumPy's BLAS thread count inside a test, is in `conftest.py`)."""

import os

import numpy as np
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


def layer_passes(enabled, make, x, seed=0):
    """Forward (training) and backward of a fresh layer from `make()` with the kernels on or off:
    `(output, input gradient, copies of the weight gradients, the layer)`."""
    from barenet import fast

    fast.set_enabled(enabled)
    layer = make()
    layer.name = "layer"
    layer.build(x.shape[1:], np.random.default_rng(seed), "float32")
    if hasattr(layer, "needs_input_grad"):
        layer.needs_input_grad = True
    out = layer.forward(x, training=True)
    grad_x = layer.backward(np.random.default_rng(1).normal(size=out.shape).astype(np.float32))
    return out, grad_x, {key: value.copy() for key, value in layer.grads.items()}, layer


def never_fuses(self, following, x, training=False):
    """A `fuses_with` that declines every pair: the two layers then run apart."""
    return False
