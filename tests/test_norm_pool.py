"""layers.norm_pool: a BatchNormalization and its MaxPooling2D as one pass in training give the two layers'
own bits (output, moving statistics, gradients, ties and odd sizes included), and models fuse the pair only
in training and where the kernels apply."""

import numpy as np
import pytest
from kernel_tests import kernels_on, never_fuses, require_kernels  # noqa: F401 - kernels_on: autouse

require_kernels()

import barenet as bn  # noqa: E402
from barenet import fast  # noqa: E402
from barenet.autodiff import no_grad  # noqa: E402
from barenet.layers import norm_pool  # noqa: E402
from barenet.layers.normalization import BatchNormalization  # noqa: E402


def _both_ways(make_norm, x, fused, needs_input_grad=True):
    """Output, moving statistics, input gradient and parameter gradients of the pair, fused or not."""
    norm, pool = make_norm(), bn.MaxPooling2D(2)
    norm.name, pool.name = "norm", "pool"
    norm.build(x.shape[1:], np.random.default_rng(0), "float32")
    pool.build(x.shape[1:], np.random.default_rng(0), "float32")
    for key, value in norm.params.items():  # not the ones and zeros they start as
        value[...] = np.random.default_rng(len(key)).normal(size=value.shape)
    norm.needs_input_grad, pool.needs_input_grad = needs_input_grad, True
    if fused:
        assert norm.fuses_with(pool, x, True)
        out = norm.fused_forward(pool, x, training=True)
    else:
        out = pool.forward(norm.forward(x, training=True), training=True)
    grad = np.random.default_rng(1).normal(size=out.shape).astype(np.float32)
    grad_x = norm.fused_backward(pool, grad) if fused else norm.backward(pool.backward(grad))
    return (out, grad_x, *(value.copy() for value in norm.state.values()),
            *(value.copy() for value in norm.grads.values()))


NORMS = {
    "default": lambda: bn.BatchNormalization(),
    "no-center": lambda: bn.BatchNormalization(center=False, momentum=0.5),
    "no-scale": lambda: bn.BatchNormalization(scale=False, epsilon=0.1),
}


@pytest.mark.parametrize("size", [(8, 6), (9, 7)])  # an odd last row and column are in no window
@pytest.mark.parametrize("name", sorted(NORMS))
def test_the_fused_pair_gives_the_two_layers_bits(name, size):
    """Small integers: many ties in the pool."""
    x = np.random.default_rng(0).integers(-2, 3, size=(13, *size, 5)).astype(np.float32)
    fused, apart = (_both_ways(NORMS[name], x, way) for way in (True, False))
    assert len(fused) == len(apart)
    for ours, reference in zip(fused, apart):
        np.testing.assert_array_equal(ours, reference)


def test_the_fused_pair_matches_the_numpy_layers():
    x = np.random.default_rng(2).normal(size=(10, 12, 10, 3)).astype(np.float32)
    fused = _both_ways(NORMS["default"], x, True)
    fast.set_enabled(False)  # the two layers' NumPy code, the kernels' tested reference
    reference = _both_ways(NORMS["default"], x, False)
    for ours, theirs in zip(fused, reference):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=2e-6 * (float(np.abs(theirs).max()) or 1.0))


def test_a_pair_without_input_gradient_gives_only_the_parameter_gradients():
    x = np.random.default_rng(3).normal(size=(6, 8, 8, 2)).astype(np.float32)
    fused = _both_ways(NORMS["default"], x, True, needs_input_grad=False)
    apart = _both_ways(NORMS["default"], x, False, needs_input_grad=False)
    assert fused[1] is None and apart[1] is None
    for ours, reference in zip(fused[2:], apart[2:]):
        np.testing.assert_array_equal(ours, reference)


def _inference_both_ways(make_norm, x, fused):
    """The pair's output at inference (no gradients), from random parameters and moving statistics."""
    norm, pool = make_norm(), bn.MaxPooling2D(2)
    norm.build(x.shape[1:], np.random.default_rng(0), "float32")
    pool.build(x.shape[1:], np.random.default_rng(0), "float32")
    for key, value in (*norm.params.items(), *norm.state.items()):  # gammas of both signs
        value[...] = np.random.default_rng(len(key)).normal(size=value.shape)
    norm.state["moving_variance"][...] = np.abs(norm.state["moving_variance"])
    with no_grad():
        if fused:
            assert norm.fuses_with(pool, x, False)
            return norm.fused_forward(pool, x, training=False)
        return pool.forward(norm.forward(x, training=False), training=False)


@pytest.mark.parametrize("size", [(8, 6), (9, 7)])
@pytest.mark.parametrize("name", sorted(NORMS))
def test_at_inference_the_fused_pair_gives_the_two_layers_bits(name, size):
    x = np.random.default_rng(4).integers(-2, 3, size=(7, *size, 5)).astype(np.float32)
    fused = _inference_both_ways(NORMS[name], x, True)
    np.testing.assert_array_equal(fused, _inference_both_ways(NORMS[name], x, False), strict=True)
    x = np.random.default_rng(5).normal(size=(3, *size, 5)).astype(np.float32)[:, ::-1]  # not contiguous
    fused = _inference_both_ways(NORMS[name], x, True)
    np.testing.assert_array_equal(fused, _inference_both_ways(NORMS[name], x, False))


def test_at_inference_the_fused_pair_matches_the_numpy_layers():
    x = np.random.default_rng(6).normal(size=(4, 10, 12, 3)).astype(np.float32)
    fused = _inference_both_ways(NORMS["default"], x, True)
    fast.set_enabled(False)
    np.testing.assert_allclose(fused, _inference_both_ways(NORMS["default"], x, False), rtol=1e-6, atol=1e-6)


def test_at_inference_the_pair_is_fused_only_where_no_gradient_is_taken():
    norm, pool = bn.BatchNormalization(synchronized=True), bn.MaxPooling2D(2)
    x = np.zeros((2, 8, 8, 3), np.float32)
    norm.build(x.shape[1:], np.random.default_rng(0), "float32")
    pool.build(x.shape[1:], np.random.default_rng(0), "float32")
    assert not norm.fuses_with(pool, x, False)  # a gradient may be taken (an input's, say)
    with no_grad():
        assert norm.fuses_with(pool, x, False)  # synchronized or not: inference reads the moving statistics
        assert not norm.fuses_with(pool, x, True)  # a synchronized pass in training
        fast.set_enabled(False)
        assert not norm.fuses_with(pool, x, False)


@pytest.mark.parametrize("norm, pool, training, shape, dtype", [
    (lambda: bn.BatchNormalization(), lambda: bn.MaxPooling2D(2), False, (2, 8, 8, 3), "float32"),
    (lambda: bn.BatchNormalization(synchronized=True), lambda: bn.MaxPooling2D(2), True, (2, 8, 8, 3), "float32"),
    (lambda: bn.BatchNormalization(), lambda: bn.AveragePooling2D(2), True, (2, 8, 8, 3), "float32"),
    (lambda: bn.BatchNormalization(), lambda: bn.MaxPooling2D(2, padding="same"), True, (2, 8, 8, 3), "float32"),
    (lambda: bn.BatchNormalization(), lambda: bn.Dropout(0.5), True, (2, 8, 8, 3), "float32"),
    (lambda: bn.BatchNormalization(), lambda: bn.MaxPooling2D(2), True, (2, 8, 8, 3), "float64"),
])
def test_only_training_pairs_the_kernels_cover_are_fused(norm, pool, training, shape, dtype):
    norm, pool = norm(), pool()
    norm.name, pool.name = "norm", "pool"
    norm.build(shape[1:], np.random.default_rng(0), dtype)
    pool.build(shape[1:], np.random.default_rng(0), dtype)
    assert not norm.fuses_with(pool, np.zeros(shape, dtype), training)


def _cnn():
    model = bn.Sequential([bn.Input((14, 14, 1)), bn.Conv2D(4, 3, activation="relu"), bn.BatchNormalization(),
                           bn.MaxPooling2D(2), bn.Dropout(0.25), bn.Conv2D(6, 3, padding="same", activation="relu"),
                           bn.BatchNormalization(), bn.MaxPooling2D(2), bn.Flatten(), bn.Dense(3, "softmax")], seed=1)
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    return model


def test_a_cnn_with_batch_normalization_fuses_its_pairs_in_training_and_prediction_to_the_same_bits(monkeypatch):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(48, 14, 14, 1)).astype(np.float32), rng.integers(0, 3, 48)
    calls, inferred = [], []
    forward, infer = norm_pool.forward, norm_pool.infer
    monkeypatch.setattr(norm_pool, "forward", lambda *args: calls.append(args[0].name) or forward(*args))
    monkeypatch.setattr(norm_pool, "infer", lambda *args: inferred.append(args[0].name) or infer(*args))
    fused = _cnn()
    history = fused.fit(x, y, batch_size=16, epochs=2, verbose=0).history
    assert set(calls) == {"batch_normalization", "batch_normalization_1"} and len(calls) == 2 * 2 * 3
    assert not inferred
    predictions = fused.predict(x, batch_size=16, verbose=0)
    evaluation = fused.evaluate(x, y, batch_size=16, verbose=0)
    assert len(calls) == 2 * 2 * 3 and len(inferred) == 2 * 3 * 2  # inference: the inference pass
    monkeypatch.setattr(BatchNormalization, "fuses_with", never_fuses)
    apart = _cnn()
    assert apart.fit(x, y, batch_size=16, epochs=2, verbose=0).history == history
    np.testing.assert_array_equal(apart.predict(x, batch_size=16, verbose=0), predictions)
    assert apart.evaluate(x, y, batch_size=16, verbose=0) == evaluation
    for ours, reference in zip(fused.get_weights(), apart.get_weights()):
        np.testing.assert_array_equal(ours, reference)
