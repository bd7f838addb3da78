"""barenet.fast.dense_kernels: Dense's training step split over the weights' rows (its inputs),
against the NumPy layer (float32 rounding), with blocks fixed by the shapes, and the same weights
at one and two threads whatever NumPy's BLAS was set to."""

import numpy as np
import pytest
from kernel_tests import kernels_on, layer_passes, require_kernels  # noqa: F401 - kernels_on: autouse

require_kernels()

import barenet as bn  # noqa: E402
from barenet import fast  # noqa: E402
from barenet.fast import blas  # noqa: E402


@pytest.fixture(autouse=True)
def _one_thread_afterwards():
    yield
    bn.config.set_num_threads(1)


def _close(ours, reference):
    assert ours.dtype == reference.dtype == np.float32
    scale = float(np.abs(reference).max()) or 1.0
    np.testing.assert_allclose(ours, reference, rtol=1e-5, atol=2e-6 * scale)


@pytest.mark.parametrize("make, shape, blocks", [
    (lambda: bn.Dense(128, "relu"), (32, 784), 2),        # the benchmark MLP's first layer
    (lambda: bn.Dense(100, use_bias=False), (64, 601), 2),  # inputs that do not split evenly
    (lambda: bn.Dense(64, "tanh"), (256, 2048), 4),       # 2^25 multiply-adds: four blocks
    (lambda: bn.Dense(40), (8, 20, 900), 2),              # a higher-rank input, folded into rows
])
@pytest.mark.parametrize("threads", [1, 2])
def test_dense_split_by_inputs_matches_the_numpy_layer(make, shape, blocks, threads):
    bn.config.set_num_threads(threads)
    x = np.random.default_rng(9).normal(size=shape).astype(np.float32)
    *ours, split = layer_passes(True, make, x)
    *reference, whole = layer_passes(False, make, x)
    assert (split._by_inputs, whole._by_inputs) == (blocks, 1)
    for a, b in zip(ours[:2], reference[:2]):
        assert a.shape == b.shape
        _close(a, b)
    assert set(ours[2]) == set(reference[2])
    for key in reference[2]:
        _close(ours[2][key], reference[2][key])


@pytest.mark.parametrize("blocks", [2, 3])
@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.parametrize("relu", [True, False])
def test_finish_forward_gives_numpys_bits(blocks, with_bias, relu):
    """The shares added in block order, the biases and a plain ReLU in one pass: the bits of NumPy's
    three passes, with NaN (of either sign), infinities, -0.0 and shares that cancel included."""
    rng = np.random.default_rng(blocks)
    parts = rng.normal(size=(blocks, 7, 33)).astype(np.float32)
    parts[:, 0, :7] = -0.0
    parts[0, 0, :7] = [np.nan, -np.nan, np.inf, -np.inf, -0.0, 0.0, -1.0]
    parts[1, 0, :7] = [1.0, 1.0, 1.0, 2.0, -0.0, -0.0, 1.0]
    parts[1, 1] = -parts[0, 1]
    biases = rng.normal(size=33).astype(np.float32)
    biases[:7] = -0.0
    reference = np.add(parts[0], parts[1])
    for part in parts[2:]:
        reference += part
    if with_bias:
        reference += biases
    if relu:
        np.maximum(reference, 0, out=reference)
    z = np.empty_like(reference)
    fast.get_dense_kernels().finish_forward(parts, biases if with_bias else parts[0, 0], with_bias, relu, z)
    np.testing.assert_array_equal(z.view(np.uint32), reference.view(np.uint32))
    assert np.signbit(z[0, 4]) == (not relu)  # -0.0 + -0.0 stays -0.0, the ReLU makes it +0.0


def test_relu_gradient_gives_numpys_bits():
    """The gradient through a ReLU from its output: NumPy's `grad * (out > 0)` to the bit, NaN and
    infinities under a 0 included."""
    rng = np.random.default_rng(14)
    grad = rng.normal(size=(9, 40)).astype(np.float32)
    out = np.maximum(rng.normal(size=(9, 40)), 0).astype(np.float32)
    grad[0, :4], out[0, :4] = [np.nan, np.inf, -np.inf, -0.0], [0.0, 0.0, 1.0, 0.0]
    dz = np.empty_like(grad)
    fast.get_dense_kernels().relu_gradient(grad, out, dz)
    with np.errstate(invalid="ignore"):
        reference = grad * (out > 0)
    np.testing.assert_array_equal(dz.view(np.uint32), reference.view(np.uint32))


def test_the_relu_in_the_split_forward_pass_changes_no_bit(monkeypatch):
    """Split over the cores, Dense applies a plain ReLU in the pass that adds its shares (and keeps
    the output for the derivative): training ends at the very weights that applying the ReLU object
    apart gives."""
    from barenet.layers import dense

    rng = np.random.default_rng(12)
    x, y = rng.normal(size=(192, 784)).astype(np.float32), rng.integers(0, 10, 192)
    weights = []
    for fused in (True, False):
        if not fused:
            monkeypatch.setattr(dense, "is_plain_relu", lambda activation: False)
        model = _mlp("sequential")
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(x, y, batch_size=64, epochs=2, verbose=0)
        assert model.layers[0]._by_inputs == 2 and (model.layers[0]._relu_out is not None) == fused
        weights.append(model.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)


def test_a_relu_with_keras_arguments_runs_apart():
    """A ReLU object with a slope, a ceiling or a threshold is never taken for the plain one."""
    relu = bn.activations.ReLU(negative_slope=0.5, max_value=3.0)
    x = np.random.default_rng(13).normal(size=(32, 784)).astype(np.float32)
    out, _, _, layer = layer_passes(True, lambda: bn.Dense(128, relu), x)
    assert layer._by_inputs == 2 and layer._relu_out is None
    z = x.astype(np.float64) @ layer.params["weights"] + layer.params["biases"]
    _close(out, np.minimum(np.where(z < 0, 0.5 * z, z), 3.0).astype(np.float32))


def test_the_blocks_follow_the_shapes_alone():
    def blocks(rows, inputs, units, dtype=np.float32):
        return fast.input_blocks(np.empty((rows, inputs), dtype), np.empty((inputs, units), dtype))

    assert blocks(32, 784, 128) == 2  # 3.2 million multiply-adds
    assert blocks(4, 784, 128) == 1  # under a million: NumPy's product
    assert blocks(256, 1000, 64) == 2
    assert blocks(256, 2048, 64) == 4
    assert blocks(512, 128, 32) == 1  # 4,096 weights: too few to share out
    assert blocks(32, 784, 128, np.float64) == 1
    assert blocks(1024, 4096, 1024) == 4  # eight by the work, four by the shares' memory (4 x 2^20 values)
    assert blocks(8192, 1024, 1024) == 1  # one share is past MAX_PARTIAL_VALUES already
    for threads in (1, 2):
        bn.config.set_num_threads(threads)
        assert blocks(32, 784, 128) == 2


def test_inference_keeps_numpys_product():
    """`predict` and a call outside training multiply as NumPy does, to the bit."""
    layer = bn.Dense(128)
    layer.name = "dense"
    layer.build((784,), np.random.default_rng(0), "float32")
    x = np.random.default_rng(1).normal(size=(32, 784)).astype(np.float32)
    out = layer.forward(x)
    assert layer._by_inputs == 1
    np.testing.assert_array_equal(out, x @ layer.params["weights"] + layer.params["biases"])


def _mlp(kind):
    if kind == "functional":  # a residual MLP, the layers called through the graph
        bn.utils.set_random_seed(3)
        inputs = bn.Input((784,))
        hidden = bn.Dense(128, "relu")(inputs)
        outputs = bn.Dense(10, "softmax")(hidden + bn.Dense(128, "relu")(hidden))
        return bn.Model(inputs, outputs, seed=3)
    return bn.Sequential([bn.Dense(128, "relu", input_dim=784), bn.Dropout(0.2), bn.Dense(256, "relu"),
                          bn.Dense(10, "softmax")], seed=3)


@pytest.mark.parametrize("kind", ["sequential", "functional"])
def test_an_mlp_trains_to_the_same_weights_at_one_and_two_threads(kind, blas_threads, monkeypatch):
    """The split depends on the shapes alone, never on barenet's thread count or BLAS's: the same
    weights at one and two threads, with BLAS set to one or two threads before `fit` (which holds
    it to one from the first split product on, and gives it back). At two threads Adam's update
    then runs over the cores too, on the blocks of the weights' rows each core multiplied."""
    kernels, elementwise = fast.get_dense_kernels(), fast.get_elementwise_kernels()
    splits, spread = [], []
    forward = kernels.forward_by_inputs
    monkeypatch.setattr(kernels, "forward_by_inputs", lambda *args: (splits.append(args[-1]), forward(*args)))
    update = elementwise.adam_update
    monkeypatch.setattr(elementwise, "adam_update", lambda *args: (spread.append(args[-1]), update(*args)))
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(192, 784)).astype(np.float32), rng.integers(0, 10, 192)
    weights = []
    for blas_count, threads in ((2, 1), (2, 2), (1, 1), (1, 2)):
        blas_threads(blas_count)
        bn.config.set_num_threads(threads)
        spread.clear()
        model = _mlp(kind)
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(x, y, batch_size=64, epochs=2, verbose=0)
        assert blas.load()[2]() == blas_count and not fast.blas_held()
        assert bool(spread) == (threads == 2)
        weights.append(model.get_weights())
    assert splits and set(splits) == {2}
    for other in weights[1:]:
        for a, b in zip(weights[0], other):
            np.testing.assert_array_equal(a, b)


def test_the_split_trains_as_the_numpy_layers_do():
    """A few steps with the kernels on and off end at weights equal to float32's rounding."""
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(128, 784)).astype(np.float32), rng.integers(0, 10, 128)
    results = []
    for enabled in (True, False):
        fast.set_enabled(enabled)
        model = _mlp("sequential")
        model.compile(bn.optimizers.SGD(0.01), "sparse_categorical_crossentropy")
        model.fit(x, y, batch_size=32, epochs=1, verbose=0, shuffle=False)
        results.append(model.get_weights())
    for ours, reference in zip(*results):
        np.testing.assert_allclose(ours, reference, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("bad", [None, ("grad", 70_000, np.nan), ("param", 3, np.inf), ("grad", 99_999, -np.inf)])
def test_adams_check_sums_each_large_gradient_in_the_blocks_its_update_takes(bad, blas_threads, monkeypatch):
    """At two threads beside a one-thread BLAS, a large weight's sums of squares are taken in the
    blocks of its update, over the cores: the same sum to float64's rounding as in one pass, and a
    NaN or inf in any block, of the gradient or of the weight, found."""
    from barenet.optimizers.adam_kernels import KernelPlan

    blas_threads(1)
    bn.config.set_num_threads(2)
    rng = np.random.default_rng(6)
    param, grad = rng.normal(size=(784, 128)).astype(np.float32), rng.normal(size=(784, 128)).astype(np.float32)
    if bad is not None:
        name, index, value = bad
        (grad if name == "grad" else param).reshape(-1)[index] = value
    plan = KernelPlan.make({"w": param}, {"w": grad})
    assert fast.elementwise_blocks(param) == 6
    calls = []
    blocks = plan.kernels.squares_and_finite_blocks
    monkeypatch.setattr(plan.kernels, "squares_and_finite_blocks",
                        lambda *args: calls.append(args[-1]) or blocks(*args))
    [(squares, finite)] = plan.sums()
    reference = plan.kernels.squares_and_finite(grad.reshape(-1), param.reshape(-1))
    assert calls == [6]
    assert finite == reference[1] == (bad is None or bad[0] == "grad")
    if bad is not None and bad[0] == "grad":
        assert not np.isfinite(squares) and not np.isfinite(reference[0])
    else:
        assert squares == pytest.approx(reference[0], rel=1e-12)
        assert squares == pytest.approx(float(np.sum(grad.astype(np.float64) ** 2)), rel=1e-12)


def test_a_shared_layer_called_twice_keeps_each_calls_split():
    """A Siamese Dense (one layer object called on two inputs) keeps each call's split for its own
    backward and gets the sum of both calls' gradients, as with the kernels off."""
    def gradients(enabled):
        fast.set_enabled(enabled)
        bn.utils.set_random_seed(4)
        left, right = bn.Input((784,)), bn.Input((784,))
        shared = bn.Dense(64, "relu")
        merged = bn.Concatenate()([shared(left), shared(right)])
        model = bn.Model([left, right], bn.Dense(3, "softmax")(merged), seed=4)
        model.compile("adam", "sparse_categorical_crossentropy")
        rng = np.random.default_rng(8)
        xs = [rng.normal(size=(48, 784)).astype(np.float32) for _ in range(2)]
        return model.compute_gradients(xs, rng.integers(0, 3, 48)), shared

    ours, layer = gradients(True)
    assert layer._by_inputs == 2  # 48 x 784 x 64 = 2.4 million multiply-adds
    reference, _ = gradients(False)
    assert set(ours) == set(reference)
    for key in reference:
        _close(ours[key], reference[key])
