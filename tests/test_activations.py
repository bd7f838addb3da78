import numpy as np
import pytest

from barenet import activations
from gradcheck import assert_close, numerical_grad

NAMES = sorted(activations.ACTIVATIONS)


def _input(name, rng):
    x = rng.normal(size=(5, 4)) * 2
    # Keep kinks out of the finite-difference stencil.
    if name in ("relu", "leaky_relu", "elu"):
        x[np.abs(x) < 1e-3] = 0.5
    return x


@pytest.mark.parametrize("name", NAMES)
def test_backward_matches_finite_differences(name, rng):
    act = activations.get(name)
    x = _input(name, rng)
    weights = rng.normal(size=x.shape)  # a random upstream gradient via a linear functional

    def f():
        return float(np.sum(activations.get(name).forward(x) * weights))

    act.forward(x)
    assert_close(act.backward(weights), numerical_grad(f, x))


@pytest.mark.parametrize("name", NAMES)
def test_keeps_float32(name, rng):
    act = activations.get(name)
    x = rng.normal(size=(3, 4)).astype(np.float32)
    out = act.forward(x)
    assert out.dtype == np.float32
    assert act.backward(np.ones_like(out)).dtype == np.float32


def test_golden_values():
    x = np.array([[-2.0, 0.0, 3.0]])
    np.testing.assert_allclose(activations.get("relu").forward(x), [[0, 0, 3]])
    np.testing.assert_allclose(activations.get("sigmoid").forward(x), 1 / (1 + np.exp(-x)))
    np.testing.assert_allclose(activations.get("tanh").forward(x), np.tanh(x))
    np.testing.assert_allclose(activations.get("leaky_relu").forward(x), [[-0.4, 0, 3]])
    np.testing.assert_allclose(activations.get("elu").forward(x), [[np.exp(-2) - 1, 0, 3]])
    np.testing.assert_allclose(activations.get("softplus").forward(x), np.log1p(np.exp(x)))
    np.testing.assert_allclose(activations.get("swish").forward(x), x / (1 + np.exp(-x)))
    # GELU (tanh form) at 1.0: 0.5 * (1 + tanh(sqrt(2/pi) * 1.044715)) = 0.8411919906
    np.testing.assert_allclose(activations.get("gelu").forward(np.array([[1.0]])), [[0.8411919906]], rtol=1e-9)


def test_softmax_is_per_row_and_stable():
    x = np.array([[1.0, 2.0, 3.0], [1000.0, 1000.0, 1000.0]])
    s = activations.get("softmax").forward(x)
    np.testing.assert_allclose(s.sum(axis=1), [1, 1])
    np.testing.assert_allclose(s[0], np.exp([1, 2, 3]) / np.exp([1, 2, 3]).sum())
    np.testing.assert_allclose(s[1], [1 / 3] * 3)


def test_sigmoid_no_overflow_warning():
    with np.errstate(over="raise"):
        s = activations.get("sigmoid").forward(np.array([[-1000.0, 1000.0]]))
    np.testing.assert_allclose(s, [[0, 1]])


def test_unknown_name_lists_valid_ones():
    with pytest.raises(ValueError, match="Unknown activation 'relux'.*relu.*swish"):
        activations.get("relux")


@pytest.mark.parametrize("name", NAMES)
def test_forward_in_place_gives_the_same_values_and_gradient(name, rng):
    x = _input(name, rng).astype(np.float32)
    grad = rng.normal(size=x.shape).astype(np.float32)
    fresh, in_place = activations.get(name), activations.get(name)
    expected = fresh.forward(x)
    buffer = x.copy()
    got = in_place.forward_in_place(buffer)
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(in_place.backward(grad), fresh.backward(grad))
    if name == "relu":
        assert got is buffer  # no second array


def test_is_plain_relu_only_for_max_x_0():
    assert activations.is_plain_relu(activations.get("relu"))
    assert activations.is_plain_relu(activations.ReLU(threshold=0.0))
    assert not activations.is_plain_relu(activations.ReLU(negative_slope=0.1))
    assert not activations.is_plain_relu(activations.ReLU(max_value=6.0))
    assert not activations.is_plain_relu(activations.ReLU(threshold=0.5))
    assert not activations.is_plain_relu(activations.get("relu6"))
    assert not activations.is_plain_relu(activations.get("leaky_relu"))


@pytest.mark.parametrize("make, config", [
    (lambda: activations.ReLU(negative_slope=0.5, max_value=3.0),
     {"class_name": "ReLU", "config": {"negative_slope": 0.5, "max_value": 3.0}}),
    (lambda: activations.ReLU(threshold=np.float32(0.25)), {"class_name": "ReLU", "config": {"threshold": 0.25}}),
    (lambda: activations.LeakyReLU(negative_slope=0.3), {"class_name": "LeakyReLU", "config": {"alpha": 0.3}}),
    (lambda: activations.ELU(0.5), {"class_name": "ELU", "config": {"alpha": 0.5}}),
    (lambda: activations.Softmax(axis=1), {"class_name": "Softmax", "config": {"axis": 1}}),
    (lambda: activations.get("gelu").__class__(approximate=False), {"class_name": "GELU", "config": {"approximate": False}}),
])
def test_an_activation_with_arguments_keeps_them_in_its_config(make, config, rng):
    """An object whose arguments are not the defaults is written as its class and arguments (its
    name alone would lose them), and `get` makes the same activation back."""
    activation = make()
    assert activation.get_config() == config == activations.serialize(activation)
    again = activations.get(config)
    assert type(again) is type(activation) and again.get_config() == config
    x = rng.normal(size=(4, 6)).astype(np.float32)
    np.testing.assert_array_equal(again.forward(x), activation.forward(x))


def test_default_arguments_keep_the_name():
    for name in ("relu", "leaky_relu", "elu", "softmax", "gelu", "log_softmax"):
        assert activations.get(name).get_config() == name
    assert activations.ReLU(negative_slope=0.0, threshold=0).get_config() == "relu"


@pytest.mark.parametrize("config, match", [
    ({"class_name": "Evil", "config": {}}, "must be"),
    ({"class_name": "ReLU"}, "must be"),
    ({"class_name": "ReLU", "config": {}, "module": "os"}, "must be"),
    ({"class_name": "ReLU", "config": [1]}, "must be"),
    ({"class_name": "ReLU", "config": {"slope": 0.5}}, "arguments are"),
    ({"class_name": "ReLU", "config": {"negative_slope": "0.5"}}, "arguments are"),
    ({"class_name": "Softmax", "config": {"axis": [0, 1]}}, "arguments are"),
])
def test_a_bad_activation_dict_is_a_clear_error(config, match):
    with pytest.raises(ValueError, match=match):
        activations.get(config)
