"""barenet.fast.output_kernels: the softmax's shift and the accuracy's count, NumPy's bits, with
NaN, infinities, signed zeros and ties; and the softmax and the accuracy metric taking them once
the kernels are loaded."""

import numpy as np
import pytest
from kernel_tests import kernels_on, require_kernels  # noqa: F401 - kernels_on: autouse

require_kernels()

import barenet as bn  # noqa: E402
from barenet import activation_base, activations, fast  # noqa: E402


def _awkward_rows(rng, rows=64, classes=10):
    x = (rng.normal(size=(rows, classes)) * 6).astype(np.float32)
    x[0, 3] = np.nan  # a NaN in the middle of a row
    x[1, 0] = np.nan  # first
    x[2] = -0.0
    x[3, :2] = [0.0, -0.0]
    x[3, 2:] = -1.0
    x[4, :2] = [-0.0, 0.0]
    x[4, 2:] = -1.0
    x[5, 4] = np.inf
    x[6] = -np.inf
    x[7, 1] = x[7, 6] = 50.0  # a tie for the largest
    x[8, 9] = -np.nan
    return x


def _kernels():
    fast.get_kernels()
    kernels = fast.loaded_output_kernels()
    assert kernels is not None
    return kernels


def test_the_softmax_is_numpys_to_the_bit(rng):
    x = _awkward_rows(rng)
    shifted = np.empty_like(x)
    with np.errstate(invalid="ignore"):
        reference = np.exp(x - x.max(axis=-1, keepdims=True))
        reference /= reference.sum(axis=-1, keepdims=True)
        _kernels().shifted_rows(x, shifted)
        np.exp(shifted, out=shifted)
        shifted /= shifted.sum(axis=-1, keepdims=True)
        assert np.isnan(reference[0]).all() and np.isnan(reference[5, 4])  # the cases are the awkward ones
        np.testing.assert_array_equal(shifted.view(np.uint32), reference.view(np.uint32))
        np.testing.assert_array_equal(activation_base.softmax_array(x).view(np.uint32), reference.view(np.uint32))


def test_the_softmax_takes_the_kernel_on_its_last_axis_only(rng, monkeypatch):
    calls = []
    kernels = _kernels()
    shifted_rows = kernels.shifted_rows
    monkeypatch.setattr(kernels, "shifted_rows", lambda x, out: calls.append(x.shape) or shifted_rows(x, out))
    x = rng.normal(size=(4, 3, 5)).astype(np.float32)
    for axis, expected in ((-1, [(12, 5)]), (2, [(12, 5)]), (1, []), (0, [])):
        calls.clear()
        ours = activations.Softmax(axis).forward(x)
        reference = np.exp(x - x.max(axis=axis, keepdims=True))
        reference /= reference.sum(axis=axis, keepdims=True)
        np.testing.assert_array_equal(ours, reference)
        assert calls == expected
    calls.clear()
    activations.Softmax().forward(x.astype(np.float64))
    activations.Softmax().forward(np.asfortranarray(x[0]))
    assert calls == []


@pytest.mark.parametrize("label_dtype", ["int64", "int32", "uint8"])
def test_argmax_hits_counts_as_numpy_does(rng, label_dtype):
    scores = _awkward_rows(rng, rows=200)
    predicted = np.argmax(scores, axis=-1)
    labels = rng.integers(0, 10, size=200).astype(label_dtype)
    labels[::3] = predicted[::3]  # many hits, the awkward rows among them
    labels[1] = 0  # the NaN row wins at its first NaN
    labels[8] = 9
    assert predicted[1] == 0 and predicted[8] == 9 and predicted[7] == 1 and predicted[2] == 0
    assert _kernels().argmax_hits(labels, scores) == np.count_nonzero(labels == predicted)


def test_the_accuracy_metric_counts_with_the_kernel_or_without(rng, monkeypatch):
    scores = _awkward_rows(rng, rows=100)
    labels = rng.integers(0, 10, size=100)
    labels[::2] = np.argmax(scores, axis=-1)[::2]
    kernels, calls = _kernels(), []
    argmax_hits = kernels.argmax_hits
    monkeypatch.setattr(kernels, "argmax_hits", lambda *args: calls.append(1) or argmax_hits(*args))
    counts = []
    for loaded in (True, False):
        if not loaded:
            monkeypatch.setattr(fast, "loaded_output_kernels", lambda: None)
        metric = bn.metrics.get("accuracy")
        metric.update_state(labels, scores)
        counts.append(float(metric.result()))
    assert calls == [1]
    assert counts[0] == counts[1] == np.mean(labels == np.argmax(scores, axis=-1))
