import numpy as np
import pytest

from barenet import activations, losses
from gradcheck import assert_close, numerical_grad


def _probs(rng, shape):
    return activations.softmax(rng.normal(size=shape))


CASES = {
    "mean_squared_error": lambda rng: (rng.normal(size=(6, 3)), rng.normal(size=(6, 3))),
    "mean_absolute_error": lambda rng: (rng.normal(size=(6, 3)), rng.normal(size=(6, 3))),
    "binary_crossentropy": lambda rng: (
        rng.integers(0, 2, size=(6, 2)).astype(float), rng.uniform(0.05, 0.95, size=(6, 2))),
    "categorical_crossentropy": lambda rng: (np.eye(4)[rng.integers(0, 4, 6)], _probs(rng, (6, 4))),
    "sparse_categorical_crossentropy": lambda rng: (rng.integers(0, 4, 6), _probs(rng, (6, 4))),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradient_matches_finite_differences(name, rng):
    loss = losses.get(name)
    y, p = CASES[name](rng)
    assert_close(loss.gradient(y, p), numerical_grad(lambda: loss(y, p), p))


@pytest.mark.parametrize("name", ["categorical_crossentropy", "sparse_categorical_crossentropy"])
def test_fused_softmax_gradient_matches_finite_differences(name, rng):
    loss = losses.get(name)
    y, _ = CASES[name](rng)
    z = rng.normal(size=(6, 4))
    numeric = numerical_grad(lambda: loss(y, activations.softmax(z)), z)
    assert_close(loss.logits_gradient(y, activations.softmax(z)), numeric)


def test_fused_sigmoid_gradient_matches_finite_differences(rng):
    loss = losses.get("binary_crossentropy")
    y = rng.integers(0, 2, size=(6, 2)).astype(float)
    z = rng.normal(size=(6, 2))
    numeric = numerical_grad(lambda: loss(y, activations.sigmoid(z)), z)
    assert_close(loss.logits_gradient(y, activations.sigmoid(z)), numeric)


def test_golden_values():
    y = np.array([[1.0, 0.0], [0.0, 1.0]])
    p = np.array([[0.8, 0.2], [0.4, 0.6]])
    # MSE: mean over all four entries of (0.2^2, 0.2^2, 0.4^2, 0.4^2) = 0.1
    assert losses.get("mse")(y, p) == pytest.approx(0.1)
    assert losses.get("mae")(y, p) == pytest.approx(0.3)
    assert losses.get("cse")(y, p) == pytest.approx(-(np.log(0.8) + np.log(0.6)) / 2)
    assert losses.get("sparse_categorical_crossentropy")(np.array([0, 1]), p) == pytest.approx(
        -(np.log(0.8) + np.log(0.6)) / 2)
    yb, pb = np.array([[1.0], [0.0]]), np.array([[0.9], [0.3]])
    assert losses.get("binary_crossentropy")(yb, pb) == pytest.approx(-(np.log(0.9) + np.log(0.7)) / 2)


def test_logs_never_see_zero():
    y = np.array([[1.0, 0.0]])
    p = np.array([[0.0, 1.0]])
    value = losses.get("categorical_crossentropy")(y, p)
    assert np.isfinite(value) and value == pytest.approx(-np.log(1e-7))
    assert np.all(np.isfinite(losses.get("categorical_crossentropy").gradient(y, p)))
    assert np.isfinite(losses.get("binary_crossentropy")(np.array([[1.0]]), np.array([[0.0]])))


def test_unknown_name_lists_valid_ones():
    with pytest.raises(ValueError, match="Unknown loss 'hinge2'.*categorical_crossentropy"):
        losses.get("hinge2")


@pytest.mark.parametrize("shape", [(6, 4), (3, 5, 4)])
@pytest.mark.parametrize("trailing_axis", [False, True])
def test_sparse_crossentropy_picks_each_label_as_take_along_axis_does(shape, trailing_axis, rng):
    """The label entries found by one fancy index on the rows (values, both fused gradients), on
    rank-2 and sequence outputs, labels with or without a trailing axis of 1, and predictions
    that are not contiguous (a strided view)."""
    wide = rng.normal(size=(*shape[:-1], 2 * shape[-1])).astype(np.float32)
    logits = wide[..., ::2]  # a strided view
    probabilities = activations.softmax(logits)
    labels = rng.integers(0, shape[-1], size=shape[:-1])
    given = labels[..., None] if trailing_axis else labels
    index = labels[..., None]
    loss = losses.SparseCategoricalCrossentropy()
    expected = -np.log(np.clip(np.take_along_axis(probabilities, index, -1)[..., 0], 1e-7, 1.0))
    np.testing.assert_array_equal(loss.call(given, probabilities), expected)
    from_logits = losses.SparseCategoricalCrossentropy(from_logits=True)
    log_softmax = logits - logits.max(-1, keepdims=True)
    log_softmax = log_softmax - np.log(np.exp(log_softmax).sum(-1, keepdims=True))
    np.testing.assert_allclose(from_logits.call(given, logits), -np.take_along_axis(log_softmax, index, -1)[..., 0],
                               rtol=1e-6)
    upstream = np.full(shape[:-1], 0.25, np.float32)
    one_hot = (np.arange(shape[-1]) == index).astype(np.float32)
    for gradient in (loss.logits_gradient(given, probabilities, upstream=upstream),
                     from_logits.call_gradient(given, logits, upstream)):
        np.testing.assert_allclose(gradient, (probabilities - one_hot) * 0.25, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("size", [1, 3, 7, 32, 100, 1000, 4097])
def test_the_unweighted_mean_reduction_is_the_weighted_formula_with_weights_of_one(size, rng):
    """The shortcut for no sample weights gives the general formula's numbers (weights of one in
    the values' dtype: `sum(v * w) / n` and `w / n`) to the bit."""
    loss = losses.SparseCategoricalCrossentropy()
    values = rng.random(size).astype(np.float32)
    reduced, upstream = loss.reduce(values)
    ones = np.ones_like(values)
    assert reduced == (values * ones).sum() / size
    assert upstream.dtype == np.float32
    np.testing.assert_array_equal(upstream, (ones / size).astype(np.float32))


@pytest.fixture(params=[False, True], ids=["numpy", "kernel"])
def loss_kernel(request):
    """Sparse cross-entropy's compiled kernel (`barenet.fast.loss_kernels`) loaded, or the kernels off."""
    from barenet import fast

    if request.param:
        pytest.importorskip("numba")
        fast.set_enabled(True)
        if fast.get_kernels() is None or fast.loaded_loss_kernels() is None:
            pytest.skip("the kernels are off in this run")
    else:
        fast.set_enabled(False)
    yield request.param
    fast.set_enabled(True)


@pytest.mark.parametrize("shape, trailing_axis", [((32, 10), False), ((32, 10), True), ((4, 6, 5), False)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sparse_crossentropys_value_and_logits_gradient_in_one_call_are_the_two_calls(shape, trailing_axis, dtype, rng,
                                                                                    loss_kernel):
    """The training step's single call gives the bits of `training_scale(call(...))` and
    `logits_gradient` (the general path, `Loss.value_and_logits_gradient`), a probability of 0
    (clipped) included, with the compiled kernel (float32) and without; weighted or `from_logits`
    losses take the general path."""
    probabilities = activations.get("softmax").forward(rng.normal(size=shape)).astype(dtype)
    probabilities[0, 0] = 0
    labels = rng.integers(0, shape[-1], size=shape[:-1])
    labels = labels[..., None] if trailing_axis else labels
    loss = losses.SparseCategoricalCrossentropy()
    value, grad = loss.value_and_logits_gradient(labels, probabilities)
    want_value, want_grad = losses.Loss.value_and_logits_gradient(loss, labels, probabilities)
    assert value == want_value and grad.dtype == want_grad.dtype == probabilities.dtype
    np.testing.assert_array_equal(grad, want_grad)
    weights = rng.random(shape[0])
    for other, sample_weight in ((loss, weights), (losses.SparseCategoricalCrossentropy(reduction="sum"), None)):
        value, grad = other.value_and_logits_gradient(labels, probabilities, sample_weight)
        want_value, want_grad = losses.Loss.value_and_logits_gradient(other, labels, probabilities, sample_weight)
        assert value == want_value
        np.testing.assert_array_equal(grad, want_grad)


def test_sparse_crossentropys_one_call_on_nan_negative_and_bad_labels(rng, loss_kernel):
    """A NaN probability stays NaN, a label of -1 counts from the end (as NumPy's indexing does, in
    both calls), and a label past the classes is NumPy's IndexError, kernel or not."""
    probabilities = activations.get("softmax").forward(rng.normal(size=(6, 4)).astype(np.float32))
    probabilities[1, 2] = np.nan
    labels = np.array([0, 2, 3, -1, 1, 0])
    loss = losses.SparseCategoricalCrossentropy()
    value, grad = loss.value_and_logits_gradient(labels, probabilities)
    want_value, want_grad = losses.Loss.value_and_logits_gradient(loss, labels, probabilities)
    assert np.isnan(value) and np.isnan(want_value)
    np.testing.assert_array_equal(grad, want_grad)
    with pytest.raises(IndexError):
        loss.value_and_logits_gradient(np.array([0, 1, 2, 3, 4, 0]), probabilities)

