"""barenet.fast: the compiled kernels against the NumPy layers they stand in for (float32 rounding;
ties in max pooling resolved the same way), bit-identical training at 1 and 2 threads, the
switch `BARENET_FAST=0`, and NumPy's BLAS thread count given back after `fit`."""

import os

import numpy as np
import pytest

pytest.importorskip("numba")

import barenet as bn  # noqa: E402
from barenet import fast  # noqa: E402
from barenet.fast import blas  # noqa: E402
from kernel_tests import layer_passes  # noqa: E402

if blas.load() is None:
    pytest.skip("NumPy's OpenBLAS was not found: the kernels are off", allow_module_level=True)
if os.environ.get(fast.ENVIRONMENT_VARIABLE, "1").strip().lower() in ("0", "false", "no", "off"):
    pytest.skip("BARENET_FAST turns the kernels off in this run", allow_module_level=True)
fast.set_enabled(True)  # numba and the BLAS are here: a kernel module that fails to load is a failure
assert fast.get_kernels() is not None, "numba and NumPy's OpenBLAS are here, yet barenet.fast did not load"


@pytest.fixture(autouse=True)
def _kernels_back_on():
    yield
    fast.set_enabled(True)


def _passes(enabled, make, x, seed=0):
    """Forward (training) and backward of a fresh layer, with the kernels on or off (and used when on)."""
    *passes, layer = layer_passes(enabled, make, x, seed)
    assert layer._fast is enabled
    return tuple(passes)


def _close(ours, reference):
    assert ours.dtype == reference.dtype == np.float32
    scale = float(np.abs(reference).max()) or 1.0
    np.testing.assert_allclose(ours, reference, rtol=1e-5, atol=2e-6 * scale)


CONVOLUTIONS = {
    "relu": lambda: bn.Conv2D(4, 3, activation="relu"),
    "same-strides": lambda: bn.Conv2D(5, 3, strides=(2, 1), padding="same"),
    "dilation-tanh-no-bias": lambda: bn.Conv2D(4, (3, 2), dilation_rate=2, activation="tanh", use_bias=False),
    "pointwise": lambda: bn.Conv2D(6, 1, activation="relu"),
    "same-even-kernel": lambda: bn.Conv2D(3, 4, strides=2, padding="same", activation="relu"),
}


@pytest.mark.parametrize("channels", [1, 2, 3])  # one and three channels have their own im2col loops
@pytest.mark.parametrize("name", sorted(CONVOLUTIONS))
def test_conv2d_kernels_match_the_numpy_layer(name, channels):
    x = np.random.default_rng(0).normal(size=(7, 9, 8, channels)).astype(np.float32)
    ours, reference = (_passes(enabled, CONVOLUTIONS[name], x) for enabled in (True, False))
    _close(ours[0], reference[0])
    _close(ours[1], reference[1])
    assert ours[2].keys() == reference[2].keys()
    for key in reference[2]:
        _close(ours[2][key], reference[2][key])


def test_conv_forward_blocks_hold_whole_samples_whose_columns_fit_and_follow_the_shapes_alone():
    for n, rows, width in [(64, 676, 9), (64, 121, 288), (64, 900, 576), (5, 900, 576), (1000, 4, 9), (3, 1, 1)]:
        blocks = fast.conv_forward_blocks(n, rows, width)
        largest = -(-n // blocks)  # samples in the largest block (block_bounds: sizes differ by at most one)
        assert max(min(n, 8), 1) <= blocks <= max(n, 1)
        assert largest == 1 or largest * rows * width * 4 <= fast.CONV_BLOCK_BYTES
    assert fast.conv_forward_blocks(64, 676, 9) == 8  # the benchmark CNN's first convolution, as before
    assert fast.conv_forward_blocks(64, 900, 576) == 64  # 2 MiB of columns a sample: one per block
    bn.config.set_num_threads(2)
    try:
        assert fast.conv_forward_blocks(64, 121, 288) == 22
    finally:
        bn.config.set_num_threads(1)
    assert fast.conv_forward_blocks(64, 121, 288) == 22


@pytest.mark.parametrize("block_bytes", [1024, 15_000, 10**9])  # a sample, two, a whole block at a time
def test_conv2d_kernels_match_the_numpy_layer_whatever_fits_in_cache(block_bytes, monkeypatch):
    monkeypatch.setattr(fast, "CONV_BLOCK_BYTES", block_bytes)
    x = np.random.default_rng(0).normal(size=(21, 9, 8, 5)).astype(np.float32)
    ours, reference = (_passes(enabled, CONVOLUTIONS["same-strides"], x) for enabled in (True, False))
    for got, want in zip(ours[:2] + (ours[2]["weights"], ours[2]["biases"]),
                         reference[:2] + (reference[2]["weights"], reference[2]["biases"])):
        _close(got, want)


def test_conv2d_channels_first_and_first_layer_without_input_gradient():
    x = np.random.default_rng(2).normal(size=(4, 2, 7, 6)).astype(np.float32)
    make = lambda: bn.Conv2D(3, 3, data_format="channels_first", activation="relu")  # noqa: E731
    ours, reference = (_passes(enabled, make, x) for enabled in (True, False))
    _close(ours[0], reference[0])
    _close(ours[1], reference[1])
    fast.set_enabled(True)
    layer = make()
    layer.name = "first"
    layer.build(x.shape[1:], np.random.default_rng(0), "float32")
    layer.needs_input_grad = False
    out = layer.forward(x, training=True)
    assert layer.backward(np.random.default_rng(1).normal(size=out.shape).astype(np.float32)) is None
    assert layer._fast
    _close(layer.grads["weights"], ours[2]["weights"])  # the same weights, data and gradient as above


@pytest.mark.parametrize("height,width", [(8, 6), (9, 7)])
def test_max_pooling_kernels_match_the_numpy_layer_ties_included(height, width):
    """Small integers make many ties: the same entry (the first maximum) must get each gradient;
    an odd last row or column (in no window) gets zeros."""
    x = np.random.default_rng(3).integers(-2, 3, size=(5, height, width, 4)).astype(np.float32)
    ours, reference = (_passes(enabled, lambda: bn.MaxPooling2D(2), x) for enabled in (True, False))
    np.testing.assert_array_equal(ours[0], reference[0])
    np.testing.assert_array_equal(ours[1], reference[1])


@pytest.mark.parametrize("make", [lambda: bn.MaxPooling2D(3, strides=2, padding="same"),
                                  lambda: bn.MaxPooling2D(2, strides=1), lambda: bn.AveragePooling2D(2)])
def test_other_pools_keep_the_numpy_code(make):
    fast.set_enabled(True)
    layer = make()
    layer.name = "pool"
    layer.build((6, 6, 2), np.random.default_rng(0), "float32")
    layer.forward(np.ones((2, 6, 6, 2), np.float32), training=True)
    assert not layer.__dict__.get("_fast", False)


@pytest.mark.parametrize("options", [{}, {"center": False, "scale": False}, {"momentum": 0.5, "epsilon": 0.1}])
def test_batch_normalization_kernels_match_the_numpy_layer(options):
    x = (np.random.default_rng(4).normal(size=(6, 5, 4, 7)) * 3 + 1).astype(np.float32)
    make = lambda: bn.BatchNormalization(**options)  # noqa: E731
    ours, reference = (_passes(enabled, make, x) for enabled in (True, False))
    _close(ours[0], reference[0])
    _close(ours[1], reference[1])
    for key in reference[2]:
        _close(ours[2][key], reference[2][key])


def test_batch_normalization_kernels_take_the_deviations_where_they_use_them():
    """The kernels keep the input rows, not a centered copy of them, and normalize `x - mean` in
    float32 as the NumPy code does with its stored copy: the output is `(x - mean) * scale + beta`
    to the bit, and the input gradient is the standard formula to float32 rounding."""
    rng = np.random.default_rng(6)
    x = (rng.normal(size=(8, 5, 5, 6)) * 3 + 1).astype(np.float32)
    grad = rng.normal(size=x.shape).astype(np.float32)
    layer = bn.BatchNormalization()
    layer.build(x.shape[1:], np.random.default_rng(0), "float32")
    layer.params["gamma"][:] = rng.normal(size=6)
    layer.params["beta"][:] = rng.normal(size=6)
    layer.needs_input_grad = True
    out = layer.forward(x, training=True)
    assert layer._fast and layer._centered is None and layer._x.base is not None  # a view of x, no copy
    rows = x.reshape(-1, 6)
    want = (rows - layer._mean) * (layer.params["gamma"] * layer._inv_std) + layer.params["beta"]
    np.testing.assert_array_equal(out.reshape(-1, 6), want)
    dx = layer.backward(grad).reshape(-1, 6)
    g, xhat = grad.reshape(-1, 6), (rows - rows.mean(axis=0)) / np.sqrt(rows.var(axis=0) + layer.epsilon)
    want = layer.params["gamma"] / np.sqrt(rows.var(axis=0) + layer.epsilon) * (
        g - g.mean(axis=0) - xhat * (g * xhat).mean(axis=0))
    np.testing.assert_allclose(dx, want, rtol=1e-4, atol=1e-5)


def test_batch_normalization_kernels_update_the_moving_statistics_and_infer_alike():
    x = (np.random.default_rng(5).normal(size=(16, 3, 3, 4)) * 2 - 1).astype(np.float32)
    layers = []
    for enabled in (True, False):
        fast.set_enabled(enabled)
        layer = bn.BatchNormalization(momentum=0.9)
        layer.name = "bn"
        layer.build(x.shape[1:], np.random.default_rng(0), "float32")
        for _ in range(3):
            layer.forward(x, training=True)
        layers.append(layer)
    for key in ("moving_mean", "moving_variance"):
        _close(layers[0].state[key], layers[1].state[key])
    _close(layers[0].forward(x), layers[1].forward(x))


def _cnn_weights(threads):
    bn.config.set_num_threads(threads)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 12, 12, 1)).astype(np.float32), rng.integers(0, 3, 40)
    model = bn.Sequential([bn.Input((12, 12, 1)), bn.Conv2D(4, 3, activation="relu"), bn.MaxPooling2D(2),
                           bn.Conv2D(6, 3, padding="same", activation="relu"), bn.BatchNormalization(),
                           bn.MaxPooling2D(2), bn.Flatten(), bn.Dense(3, "softmax")], seed=1)
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    return model.get_weights()


@pytest.mark.parametrize("block_bytes", [fast.CONV_BLOCK_BYTES, 1024])  # 1024: a sample per forward block
def test_training_is_bit_identical_at_one_and_two_threads(block_bytes, monkeypatch):
    monkeypatch.setattr(fast, "CONV_BLOCK_BYTES", block_bytes)
    try:
        one, two = _cnn_weights(1), _cnn_weights(2)
    finally:
        bn.config.set_num_threads(1)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


def test_environment_variable_turns_the_kernels_off(monkeypatch):
    monkeypatch.setenv(fast.ENVIRONMENT_VARIABLE, "0")
    fast.set_enabled(True)  # forget the cached choice: the variable is read again
    assert fast.get_kernels() is None and not fast.enabled("float32")
    monkeypatch.setenv(fast.ENVIRONMENT_VARIABLE, "1")
    fast.set_enabled(True)
    assert fast.enabled("float32") and not fast.enabled("float64")


def test_dense_split_products_in_a_held_session_are_bit_identical_at_any_thread_count(blas_threads, monkeypatch):
    """`fit` holds BLAS to one thread from the convolution's first kernel on (whatever its own count
    was); the products of a Dense too small to split by its inputs (`test_fast_dense.py`) are then
    split by rows into blocks fixed by the shapes: the same weights at one and two threads of
    barenet's, and with BLAS set to one or two threads before."""
    kernels, calls = fast.get_kernels(), []
    split = kernels.matmul_by_rows

    def counted(*args):
        calls.append(args[-1])
        return split(*args)

    monkeypatch.setattr(kernels, "matmul_by_rows", counted)
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(128, 16, 16, 1)).astype(np.float32), rng.integers(0, 3, 128)
    weights = []
    for blas_count, threads in ((2, 1), (2, 2), (1, 1), (1, 2)):
        blas_threads(blas_count)
        bn.config.set_num_threads(threads)
        try:
            model = bn.Sequential([bn.Input((16, 16, 1)), bn.Conv2D(8, 3, padding="same", activation="relu"),
                                   bn.Flatten(), bn.Dense(8, "relu"), bn.Dense(3, "softmax")], seed=2)
            model.compile("adam", "sparse_categorical_crossentropy")
            model.fit(x, y, batch_size=64, epochs=2, verbose=0)
        finally:
            bn.config.set_num_threads(1)
        weights.append(model.get_weights())
    assert len(calls) == 4 * 2 * 2 * 2 and set(calls) == {2}  # 64 x 2048 x 8 = 2^20 multiply-adds: two blocks
    for other in weights[1:]:
        for a, b in zip(weights[0], other):
            np.testing.assert_array_equal(a, b)


def test_fit_gives_numpys_blas_its_thread_count_back():
    _, setter, getter, _ = blas.load()
    before = getter()
    setter(2)
    try:
        _cnn_weights(1)
        assert getter() == 2
    finally:
        setter(before)


# --- Adam, Dropout and Dense: kernels only while NumPy's BLAS is on one thread -------------------

def _adam_run(enabled, shape):
    fast.set_enabled(enabled)
    rng = np.random.default_rng(7)
    params = {"w": rng.normal(size=shape).astype(np.float32)}
    optimizer = bn.optimizers.Adam(1e-2)
    for _ in range(4):
        optimizer.apply_gradients(params, {"w": rng.normal(size=shape).astype(np.float32)})
    return params["w"], optimizer.slots["w"]["m"], optimizer.slots["w"]["v"]


@pytest.mark.parametrize("shape", [(300, 200), (128, 10), (7,)])
@pytest.mark.parametrize("threads", [1, 2])
def test_adam_kernels_give_numpys_bits(shape, threads, blas_threads):
    """Large arrays beside a one-thread BLAS take the kernel over the cores; small ones, or any
    beside BLAS's threads, the one-thread kernel: NumPy's bits either way."""
    blas_threads(threads)
    big = shape == (300, 200) and threads == 1
    assert (fast.elementwise_blocks(np.empty(shape, np.float32)) > 1) == (big and fast.threads() > 1)
    for ours, reference in zip(_adam_run(True, shape), _adam_run(False, shape)):
        np.testing.assert_array_equal(ours, reference)


def test_adams_kept_views_follow_new_arrays_and_the_switch():
    """Adam keeps the kernels' flat views of each weight between steps only while the weight, its
    gradient and its slots are the same arrays and the kernels stay on: new gradient arrays, slots
    put back by `set_state`, and the kernels turned off all take effect at the next step."""

    def run(switch_off_at):
        fast.set_enabled(True)
        rng = np.random.default_rng(11)
        params = {"w": rng.normal(size=(300, 200)).astype(np.float32), "b": np.zeros(7, np.float32)}
        grads = {key: np.empty_like(value) for key, value in params.items()}
        optimizer = bn.optimizers.Adam(1e-2)
        for step in range(7):
            if step == 2:
                grads = {key: np.empty_like(value) for key, value in params.items()}  # new arrays
            for grad in grads.values():
                grad[...] = rng.normal(size=grad.shape)
            if step == 4:
                optimizer.set_state(optimizer.get_state())  # the slots become copies
            if step == switch_off_at:
                fast.set_enabled(False)  # the kept views name the kernels: they must not be used now
            optimizer.apply_gradients(params, grads)
        return [*params.values(), *(slot for slots in optimizer.slots.values() for slot in slots.values())]

    for ours, reference in zip(run(switch_off_at=5), run(switch_off_at=0)):
        np.testing.assert_array_equal(ours, reference)


def test_adam_kernel_divides_as_numpy_does():
    """NumPy's rules for x / 0 and 0 / 0 (inf and NaN, no exception): the error model that lets
    the compiler vectorize the loop, checked on the kernel itself with epsilon = 0."""
    grad = np.array([0.0, 1.0, -2.0, np.inf, np.nan, 0.0, -0.0, 3e38], np.float32)
    f32 = np.float32
    constants = (f32(0.9), f32(0.1), f32(0.999), f32(0.001), f32(0.0), f32(0.01))
    param, m, v = np.ones_like(grad), np.zeros_like(grad), np.zeros_like(grad)
    fast.get_elementwise_kernels().adam_block(param, grad, m, v, *constants)
    b1, one_b1, b2, one_b2, epsilon, step = constants
    with np.errstate(all="ignore"):
        m_ref = np.zeros_like(grad) * b1 + grad * one_b1
        v_ref = np.zeros_like(grad) * b2 + (grad * grad) * one_b2
        param_ref = np.ones_like(grad) - m_ref / (np.sqrt(v_ref) + epsilon) * step
    for ours, reference in ((param, param_ref), (m, m_ref), (v, v_ref)):
        np.testing.assert_array_equal(ours, reference)
        np.testing.assert_array_equal(np.signbit(ours), np.signbit(reference))


def test_the_squares_and_finite_kernel_against_numpy():
    rng = np.random.default_rng(4)
    grad, param = rng.normal(size=100_003).astype(np.float32), rng.normal(size=513).astype(np.float32)
    kernel = fast.get_elementwise_kernels().squares_and_finite
    squares, finite = kernel(grad, param)
    assert finite and squares == pytest.approx(float(np.sum(grad.astype(np.float64) ** 2)), rel=1e-12)
    for bad in (np.nan, np.inf, -np.inf):
        broken = param.copy()
        broken[-1] = bad
        assert not kernel(grad, broken)[1]
        assert not np.isfinite(kernel(broken, param)[0])
    assert kernel(np.full(4, 3e38, np.float32), param)[0] == pytest.approx(4 * 9e76, rel=1e-6)  # float64: no overflow


@pytest.mark.parametrize("case", ["finite", "huge gradient", "nan gradient", "inf parameter", "nan parameter"])
def test_adams_proof_decides_alike_with_the_kernel_and_with_numpy(case):
    rng = np.random.default_rng(3)
    params = {"w": rng.normal(size=(300, 200)).astype(np.float32), "b": np.zeros(7, np.float32)}
    grads = {key: rng.normal(size=value.shape).astype(np.float32) for key, value in params.items()}
    if case == "huge gradient":
        grads["w"][5, 5] = 1e30
    if case == "nan gradient":
        grads["b"][0] = np.nan
    if case in ("inf parameter", "nan parameter"):
        params["w"][1, 2] = np.inf if case == "inf parameter" else np.nan
    decisions = []
    for enabled in (True, False):
        fast.set_enabled(enabled)
        decisions.append(bn.optimizers.Adam(0.01)._step_is_finite(params, grads, 0.01))
    assert decisions == [case == "finite"] * 2


@pytest.mark.parametrize("case", ["finite", "nan", "inf", "sum overflows", "one huge value"])
def test_adams_gradient_check_decides_as_the_sums_do(case):
    """Adam checks the gradients through their sums of squares (kept for its proof); its answer is
    `Optimizer`'s, whose check is the plain float32 sum, including when that sum overflows."""
    rng = np.random.default_rng(8)
    params = {"w": rng.normal(size=(300, 200)).astype(np.float32), "b": np.zeros(7, np.float32)}
    grads = {key: rng.normal(size=value.shape).astype(np.float32) for key, value in params.items()}
    if case in ("nan", "inf"):
        grads["w"][3, 4] = np.nan if case == "nan" else -np.inf
    if case == "sum overflows":
        grads["w"][:] = 3e38
    if case == "one huge value":
        grads["w"][0, 0] = 3e38  # beyond the bound of the squares: the sum is taken, and is finite
    with np.errstate(over="ignore"):
        want = bn.optimizers.Optimizer._first_non_finite_gradient(bn.optimizers.SGD(), params, grads)
        got = bn.optimizers.Adam()._first_non_finite_gradient(params, grads)
    assert got == want == (None if case in ("finite", "one huge value") else "w")


def test_adams_proof_reuses_the_sums_of_the_gradient_check(monkeypatch):
    kernels = fast.get_elementwise_kernels()
    calls = []
    original = kernels.squares_and_finite
    monkeypatch.setattr(kernels, "squares_and_finite",
                        lambda grad, param: calls.append(grad.size) or original(grad, param))
    rng = np.random.default_rng(9)
    params = {"w": rng.normal(size=(300, 200)).astype(np.float32)}
    grads = {"w": rng.normal(size=(300, 200)).astype(np.float32)}
    optimizer = bn.optimizers.Adam()
    assert optimizer._first_non_finite_gradient(params, grads) is None
    optimizer.apply_gradients(params, grads)
    assert calls == [60_000]  # once, in the check
    assert optimizer._first_non_finite_gradient(params, grads) is None
    optimizer.apply_gradients(params, {"w": grads["w"].copy()})  # other arrays: their sums are taken again
    assert calls == [60_000] * 3


@pytest.mark.parametrize("shape", [(64, 30, 30), (3, 5)])
@pytest.mark.parametrize("threads", [1, 2])
def test_dropout_kernel_gives_numpys_bits_nan_and_signed_zeros_included(shape, threads, blas_threads):
    blas_threads(threads)
    x = np.random.default_rng(8).normal(size=shape).astype(np.float32)
    x[0, :2] = np.nan
    x[1, :2] = -0.0
    results = []
    for enabled in (True, False):
        fast.set_enabled(enabled)
        layer = bn.Dropout(0.3, seed=3)
        layer.name = "dropout"
        layer.build(x.shape[1:], np.random.default_rng(0), "float32")
        out = layer.forward(x, training=True)
        results.append((out, layer.backward(out)))
    for ours, reference in zip(*results):
        np.testing.assert_array_equal(ours, reference)
        np.testing.assert_array_equal(np.signbit(ours), np.signbit(reference))


def test_product_blocks_follow_the_size_of_the_product_alone():
    assert [fast.product_blocks(64, work) for work in (2**20 - 1, 2**20, 2**25, 2**27)] == [1, 2, 4, 8]
    assert fast.product_blocks(3, 2**30) == 3  # never more blocks than rows (or columns)


@pytest.fixture
def held_blas(blas_threads):
    """Inside a session that holds a two-thread BLAS to one thread, as `fit` does once a
    convolution's kernel has run: Dense's split products stand in for BLAS's threads there."""
    blas_threads(2)
    with fast.session():
        fast._hold_blas()
        assert fast.blas_held() and blas.load()[2]() == 1
        yield
    assert not fast.blas_held() and blas.load()[2]() == 2


def test_a_dense_product_of_one_block_is_numpys_own(held_blas):
    """Under a million multiply-adds the split is one block: NumPy's product, to the bit."""
    layer = bn.Dense(16)
    layer.name = "dense"
    layer.build((256,), np.random.default_rng(0), "float32")
    x = np.random.default_rng(1).normal(size=(128, 256)).astype(np.float32)
    assert fast.product_blocks(len(x), x.size * 16) == 1
    out = layer.forward(x)
    assert layer._fast
    np.testing.assert_array_equal(out, x @ layer.params["weights"] + layer.params["biases"])


def test_without_a_hold_dense_products_stay_whole_and_adams_passes_over_the_cores_start_none(blas_threads,
                                                                                             monkeypatch):
    """Where no kernel holds BLAS (an MLP whose products are too small to split: 8 x 784 x 128
    multiply-adds), Dense's products are one BLAS call each, here with BLAS on one thread by the
    user's setting. Adam's update over the cores (two threads only) starts no hold, which would
    split the products from then on: the weights are the same at one and two threads."""
    blas_threads(1)
    kernels, dense, elementwise = fast.get_kernels(), fast.get_dense_kernels(), fast.get_elementwise_kernels()
    splits, spread = [], []
    for module, name in ((kernels, "matmul_by_rows"), (kernels, "matmul_by_columns"), (dense, "forward_by_inputs")):
        monkeypatch.setattr(module, name, lambda *args, name=name: splits.append(name))
    update = elementwise.adam_update
    monkeypatch.setattr(elementwise, "adam_update", lambda *args: (spread.append(args[-1]), update(*args)))
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(64, 784)).astype(np.float32), rng.integers(0, 10, 64)
    weights = []
    for threads in (1, 2):
        bn.config.set_num_threads(threads)
        try:
            model = bn.Sequential([bn.Dense(128, "relu", input_dim=784), bn.Dropout(0.2), bn.Dense(10, "softmax")],
                                  seed=3)
            model.compile("adam", "sparse_categorical_crossentropy")
            model.fit(x, y, batch_size=8, epochs=2, verbose=0)
        finally:
            bn.config.set_num_threads(1)
        weights.append(model.get_weights())
        if threads == 1:
            assert spread == []
    assert splits == [] and spread and not fast.blas_held()
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("make", [lambda: bn.Dense(16, "relu"), lambda: bn.Dense(12, use_bias=False)])
def test_dense_kernels_match_the_numpy_layer(make, held_blas):
    """The split by rows of a Dense whose weights are too few to split by its inputs."""
    x = np.random.default_rng(9).normal(size=(256, 600)).astype(np.float32)
    ours, reference = (_passes(enabled, make, x) for enabled in (True, False))
    for a, b in zip(ours[:2], reference[:2]):
        _close(a, b)
    for key in reference[2]:
        _close(ours[2][key], reference[2][key])


def test_dense_and_adam_leave_a_multithreaded_blas_alone(blas_threads):
    """Beside BLAS's own threads the kernels would fight them for the cores: outside training (which
    splits large Dense products by their inputs, holding BLAS) Dense's products are NumPy's, and
    Adam's and Dropout's passes stay on this thread."""
    blas_threads(2)
    fast.set_enabled(True)
    assert not fast.worth_it(np.empty((300, 200), np.float32))
    assert fast.elementwise_blocks(np.empty((3000, 2000), np.float32)) == 1
    layer = bn.Dense(128)
    layer.name = "dense"
    layer.build((300,), np.random.default_rng(0), "float32")
    layer.forward(np.ones((40, 300), np.float32))
    assert layer._fast is False


def test_the_kernels_thread_count_follows_set_num_threads_within_numbas_pool():
    import numba

    from barenet import parallel

    before = parallel.requested_threads()
    try:
        bn.config.set_num_threads(1)
        assert fast.threads() == 1
        bn.config.set_num_threads(64)
        assert fast.threads() == numba.config.NUMBA_NUM_THREADS
    finally:  # back to the state before, "not set" included (then the kernels use every core)
        parallel.set_num_threads(before or 1)
        parallel._state["requested"] = before


def test_kernels_called_from_two_python_threads_at_once_give_the_same_results():
    from concurrent.futures import ThreadPoolExecutor

    fast.set_enabled(True)
    x = np.random.default_rng(10).normal(size=(16, 12, 12, 3)).astype(np.float32)
    layers = []
    for seed in (0, 1):
        layer = bn.Conv2D(8, 3, activation="relu")
        layer.name = f"conv{seed}"
        layer.build(x.shape[1:], np.random.default_rng(seed), "float32")
        layers.append(layer)
    alone = [layer.forward(x).copy() for layer in layers]
    with ThreadPoolExecutor(2) as pool:
        together = list(pool.map(lambda layer: [layer.forward(x).copy() for _ in range(20)][-1], layers))
    for a, b in zip(alone, together):
        np.testing.assert_array_equal(a, b)


def test_a_small_float32_model_trains_without_importing_numba():
    """numba's import costs about a second and 100 MiB: a model whose arrays are all too small for
    a kernel to pay (and no convolution) trains on NumPy's code without it."""
    import subprocess
    import sys

    code = ("import sys, numpy as np, barenet as bn\n"
            "model = bn.Sequential([bn.Dense(16, 'relu', input_dim=8), bn.Dropout(0.2), bn.Dense(3, 'softmax')], seed=0)\n"
            "model.compile(bn.optimizers.Adam(), 'sparse_categorical_crossentropy')\n"
            "rng = np.random.default_rng(0)\n"
            "model.fit(rng.random((64, 8), dtype=np.float32), rng.integers(0, 3, 64), epochs=2, verbose=0)\n"
            "print('numba' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
