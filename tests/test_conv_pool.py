"""layers.conv_pool: a Conv2D and its MaxPooling2D as one pass give the two layers' own bits (forward,
gradients, ties and the ReLU's zeros included), and models fuse the pair only where the kernels apply."""

import numpy as np
import pytest
from kernel_tests import kernels_on, never_fuses, require_kernels  # noqa: F401 - kernels_on: autouse

require_kernels()

import barenet as bn  # noqa: E402
from barenet import fast  # noqa: E402
from barenet.layers import conv_pool  # noqa: E402
from barenet.layers.conv import Conv2D  # noqa: E402


def _pair(make_conv, x, seed=0):
    conv, pool = make_conv(), bn.MaxPooling2D(2)
    conv.name, pool.name = "conv", "pool"
    conv.build(x.shape[1:], np.random.default_rng(seed), "float32")
    pool.build(conv.compute_output_shape(x.shape[1:]), np.random.default_rng(seed), "float32")
    conv.needs_input_grad = pool.needs_input_grad = True
    return conv, pool


def _both_ways(make_conv, x, fused, needs_input_grad=True):
    """Output, input gradient and weight gradients of the pair, fused or as two layers."""
    conv, pool = _pair(make_conv, x)
    conv.needs_input_grad = needs_input_grad
    if fused:
        assert conv.fuses_with(pool, x)
        out = conv.fused_forward(pool, x, training=True)
    else:
        out = pool.forward(conv.forward(x, training=True), training=True)
    grad = np.random.default_rng(1).normal(size=out.shape).astype(np.float32)
    grad_x = conv.fused_backward(pool, grad) if fused else conv.backward(pool.backward(grad))
    return out, grad_x, {key: value.copy() for key, value in conv.grads.items()}


PAIRS = {  # 9 x 7 images: odd outputs, whose last row or column is in no window
    "relu": lambda: bn.Conv2D(4, 3, activation="relu"),
    "same-no-bias": lambda: bn.Conv2D(5, 3, padding="same", activation="relu", use_bias=False),
    "linear-strides": lambda: bn.Conv2D(3, 2, strides=(1, 2)),
    "dilation": lambda: bn.Conv2D(6, 3, dilation_rate=(2, 1), activation="relu"),
}


@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("name", sorted(PAIRS))
def test_the_fused_pair_gives_the_two_layers_bits(name, channels):
    """Small integers: many ties in the pool and many zeros after the ReLU."""
    x = np.random.default_rng(0).integers(-2, 3, size=(11, 9, 7, channels)).astype(np.float32)
    fused, apart = (_both_ways(PAIRS[name], x, way) for way in (True, False))
    for ours, reference in zip(fused[:2] + tuple(fused[2].values()), apart[:2] + tuple(apart[2].values())):
        np.testing.assert_array_equal(ours, reference)
    assert fused[2].keys() == apart[2].keys()


@pytest.mark.parametrize("block_bytes", [1024, 10**9])  # a sample at a time, a whole block at a time
def test_the_fused_pair_matches_the_numpy_layers(block_bytes, monkeypatch):
    monkeypatch.setattr(fast, "CONV_BLOCK_BYTES", block_bytes)
    x = np.random.default_rng(2).normal(size=(10, 12, 10, 3)).astype(np.float32)
    make = PAIRS["relu"]
    fused = _both_ways(make, x, True)
    fast.set_enabled(False)  # the two layers' NumPy code, the kernels' tested reference
    numpy_ = _both_ways(make, x, False)
    for ours, reference in zip(fused[:2] + (fused[2]["weights"], fused[2]["biases"]),
                               numpy_[:2] + (numpy_[2]["weights"], numpy_[2]["biases"])):
        np.testing.assert_allclose(ours, reference, rtol=1e-5, atol=2e-6 * (float(np.abs(reference).max()) or 1.0))


def test_a_first_layer_pair_computes_no_input_gradient():
    x = np.random.default_rng(3).normal(size=(6, 8, 8, 1)).astype(np.float32)
    fused = _both_ways(PAIRS["relu"], x, True, needs_input_grad=False)
    apart = _both_ways(PAIRS["relu"], x, False, needs_input_grad=False)
    assert fused[1] is None and apart[1] is None
    np.testing.assert_array_equal(fused[2]["weights"], apart[2]["weights"])


@pytest.mark.parametrize("conv, pool, dtype", [
    (lambda: bn.Conv2D(2, 3, activation="tanh"), lambda: bn.MaxPooling2D(2), "float32"),
    (lambda: bn.Conv2D(2, 3, activation=bn.activations.ReLU(negative_slope=0.5)), lambda: bn.MaxPooling2D(2), "float32"),
    (lambda: bn.Conv2D(2, 3, groups=2, activation="relu"), lambda: bn.MaxPooling2D(2), "float32"),
    (lambda: bn.Conv2D(2, 3, activation="relu"), lambda: bn.AveragePooling2D(2), "float32"),
    (lambda: bn.Conv2D(2, 3, activation="relu"), lambda: bn.MaxPooling2D(3), "float32"),
    (lambda: bn.Conv2D(2, 3, activation="relu"), lambda: bn.MaxPooling2D(2, strides=1), "float32"),
    (lambda: bn.Conv2D(2, 3, activation="relu"), lambda: bn.MaxPooling2D(2, padding="same"), "float32"),
    (lambda: bn.Conv2D(2, 3, activation="relu"), lambda: bn.Flatten(), "float32"),
    (lambda: bn.Conv2D(2, 3, activation="relu"), lambda: bn.MaxPooling2D(2), "float64"),
])
def test_only_pairs_the_kernels_cover_are_fused(conv, pool, dtype):
    conv, pool = conv(), pool()
    conv.name, pool.name = "conv", "pool"
    conv.build((8, 8, 2), np.random.default_rng(0), dtype)
    pool.build(conv.compute_output_shape((8, 8, 2)), np.random.default_rng(0), dtype)
    assert not conv.fuses_with(pool, np.zeros((1, 8, 8, 2), dtype))


def test_nothing_is_fused_with_the_kernels_off():
    conv, pool = _pair(PAIRS["relu"], np.zeros((1, 8, 8, 2), np.float32))
    assert conv.fuses_with(pool, np.zeros((1, 8, 8, 2), np.float32))
    fast.set_enabled(False)
    assert not conv.fuses_with(pool, np.zeros((1, 8, 8, 2), np.float32))


def _cnn(seed=1):
    model = bn.Sequential([bn.Input((14, 14, 1)), bn.Conv2D(4, 3, activation="relu"), bn.MaxPooling2D(2),
                           bn.Conv2D(6, 3, padding="same", activation="relu"), bn.MaxPooling2D(2),
                           bn.Flatten(), bn.Dense(3, "softmax")], seed=seed)
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    return model


def test_a_sequential_cnn_fuses_its_pairs_and_trains_and_predicts_to_the_same_bits(monkeypatch):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(48, 14, 14, 1)).astype(np.float32), rng.integers(0, 3, 48)
    calls = []
    forward = conv_pool.forward
    monkeypatch.setattr(conv_pool, "forward", lambda *args: calls.append(args[0].name) or forward(*args))
    fused = _cnn()
    history = fused.fit(x, y, batch_size=16, epochs=2, verbose=0).history
    predictions = fused.predict(x, verbose=0)
    assert set(calls) == {"conv2d", "conv2d_1"} and len(calls) == 2 * (2 * 3 + 2)  # 2 epochs of 3 steps, predict 2
    monkeypatch.setattr(Conv2D, "fuses_with", never_fuses)
    apart = _cnn()
    assert apart.fit(x, y, batch_size=16, epochs=2, verbose=0).history == history
    np.testing.assert_array_equal(apart.predict(x, verbose=0), predictions)
    for ours, reference in zip(fused.get_weights(), apart.get_weights()):
        np.testing.assert_array_equal(ours, reference)


def _siamese():
    conv, pool = bn.Conv2D(3, 3, activation="relu"), bn.MaxPooling2D(2)
    left, right = bn.Input((8, 8, 2)), bn.Input((8, 8, 2))
    branches = [bn.Flatten()(pool(conv(side))) for side in (left, right)]
    model = bn.Model([left, right], bn.Dense(1, "sigmoid")(bn.layers.Concatenate()(branches)), seed=3)
    model.compile("sgd", "binary_crossentropy")
    return model


def test_a_pair_shared_by_two_branches_keeps_each_calls_state(monkeypatch):
    """One Conv2D and one MaxPooling2D called on two inputs: each call's pooled winners and input are
    put back before its own backward pass, and the two gradients add up as without the fusion."""
    rng = np.random.default_rng(4)
    xs = [rng.normal(size=(12, 8, 8, 2)).astype(np.float32) for _ in range(2)]
    y = rng.integers(0, 2, (12, 1)).astype(np.float32)
    fused = _siamese()
    initial = fused.get_weights()
    fused.fit(xs, y, batch_size=6, epochs=2, verbose=0)
    monkeypatch.setattr(Conv2D, "fuses_with", never_fuses)
    apart = _siamese()
    apart.set_weights(initial)
    apart.fit(xs, y, batch_size=6, epochs=2, verbose=0)
    for ours, reference in zip(fused.get_weights(), apart.get_weights()):
        np.testing.assert_array_equal(ours, reference)
