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
