"""Keras's activation functions (`barenet.activations.relu(x)`, ...) on arrays, engine and symbolic
tensors; new hand-derived activation objects; one activation object shared by two layers."""

import numpy as np
import pytest
from gradcheck import assert_close, numerical_grad

import barenet as bn
from barenet import activations, ops
from barenet.autodiff import Tensor

torch = pytest.importorskip("torch")
F = torch.nn.functional

# Keras function -> the same function in torch (float64).
TORCH = {
    "relu": (lambda x: activations.relu(x), F.relu),
    "relu_args": (lambda x: activations.relu(x, negative_slope=0.1, max_value=1.2, threshold=-0.3),
                  lambda t: torch.clamp(torch.where(t >= -0.3, t, 0.1 * (t + 0.3)), max=1.2)),
    "leaky_relu": (activations.leaky_relu, lambda t: F.leaky_relu(t, 0.2)),
    "relu6": (activations.relu6, F.relu6),
    "elu": (lambda x: activations.elu(x, 0.5), lambda t: F.elu(t, 0.5)),
    "selu": (activations.selu, F.selu),
    "softplus": (activations.softplus, F.softplus),
    "softsign": (activations.softsign, F.softsign),
    "silu": (activations.silu, F.silu),
    "swish": (activations.swish, F.silu),
    "gelu": (activations.gelu, F.gelu),
    "gelu_tanh": (lambda x: activations.gelu(x, approximate=True), lambda t: F.gelu(t, approximate="tanh")),
    "tanh": (activations.tanh, torch.tanh),
    "sigmoid": (activations.sigmoid, torch.sigmoid),
    "exponential": (activations.exponential, torch.exp),
    "hard_sigmoid": (activations.hard_sigmoid, F.hardsigmoid),
    "hard_silu": (activations.hard_silu, F.hardswish),
    "linear": (activations.linear, lambda t: t),
    "softmax": (lambda x: activations.softmax(x, axis=1), lambda t: torch.softmax(t, 1)),
    "log_softmax": (activations.log_softmax, lambda t: F.log_softmax(t, -1)),
    "mish": (activations.mish, F.mish),
}


@pytest.mark.parametrize("name", sorted(TORCH))
def test_functions_match_torch_on_arrays_and_differentiate_on_tensors(name, rng):
    ours, theirs = TORCH[name]
    x = rng.normal(size=(4, 5)) * 3
    out = ours(x)
    assert isinstance(out, np.ndarray) and out.dtype == np.float64
    t = torch.tensor(x, requires_grad=True)
    expected = theirs(t)
    np.testing.assert_allclose(out, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    # On an engine tensor the engine differentiates it: gradient equals torch's.
    projection = rng.normal(size=x.shape)
    tensor = Tensor(x.copy(), requires_grad=True)
    result = ours(tensor)
    assert isinstance(result, Tensor)
    if name != "linear":
        ops.sum(result * projection).backward()
        (expected * torch.tensor(projection)).sum().backward()
        np.testing.assert_allclose(tensor.grad, t.grad.numpy(), rtol=1e-6, atol=1e-10)


def test_functions_build_graphs_on_symbolic_tensors(rng):
    inputs = bn.Input(shape=(4,))
    outputs = activations.mish(activations.relu(inputs, max_value=1.0, negative_slope=0.2))
    model = bn.Model(inputs, outputs)
    x = rng.normal(size=(3, 4)).astype(np.float32)
    np.testing.assert_allclose(model.predict(x), activations.mish(activations.relu(x, max_value=1.0, negative_slope=0.2)), rtol=1e-6)


NEW_OBJECTS = ["selu", "softsign", "relu6", "hard_sigmoid", "hard_silu", "exponential", "log_softmax", "mish", "silu"]


@pytest.mark.parametrize("name", NEW_OBJECTS)
def test_hand_derived_objects_agree_with_the_functions_and_finite_differences(name, rng):
    activation = activations.get(name)
    x = rng.normal(size=(3, 6)) * 2
    x[np.abs(np.abs(x) - 3) < 1e-3] += 0.01  # keep off the kinks of hard_sigmoid / relu6
    np.testing.assert_allclose(activation.forward(x), getattr(activations, name)(x), rtol=1e-10, atol=1e-12)
    projection = rng.normal(size=x.shape)
    activation.forward(x)
    analytic = activation.backward(projection)
    assert_close(analytic, numerical_grad(lambda: float(np.sum(activation.forward(x) * projection)), x))


@pytest.mark.parametrize("kwargs", [{"negative_slope": 0.1}, {"max_value": 1.0}, {"threshold": 0.5},
                                    {"negative_slope": 0.2, "max_value": 2.0, "threshold": -0.5}])
def test_relu_object_with_keras_arguments(kwargs, rng):
    activation = activations.ReLU(**kwargs)
    x = rng.normal(size=(4, 5)) * 2
    np.testing.assert_allclose(activation.forward(x), activations.relu(x, **kwargs))
    projection = rng.normal(size=x.shape)
    activation.forward(x)
    assert_close(activation.backward(projection),
                 numerical_grad(lambda: float(np.sum(activation.forward(x) * projection)), x))


def test_exact_gelu_object(rng):
    activation = activations.GELU(approximate=False)
    x = rng.normal(size=(3, 4))
    np.testing.assert_allclose(activation.forward(x), activations.gelu(x), rtol=1e-12)
    projection = rng.normal(size=x.shape)
    activation.forward(x)
    assert_close(activation.backward(projection),
                 numerical_grad(lambda: float(np.sum(activation.forward(x) * projection)), x))


def test_a_function_as_activation_argument():
    assert isinstance(bn.Dense(3, activation=activations.relu).activation, activations.ReLU)
    assert isinstance(bn.Dense(3, activation=activations.softmax).activation, activations.Softmax)
    custom = bn.Dense(3, activation=lambda x: ops.square(ops.tanh(x)))
    assert isinstance(custom.activation, activations.FunctionActivation)


def test_a_custom_function_activation_trains_with_the_right_gradient(rng):
    model = bn.Sequential([bn.Input((4,)), bn.Dense(3, activation=lambda x: ops.square(ops.tanh(x))), bn.Dense(1)],
                          dtype="float64", seed=0)
    model.compile("sgd", "mse")
    x, y = rng.normal(size=(6, 4)), rng.normal(size=(6, 1))
    grads = model.compute_gradients(x, y)
    first = model.layers[0].params["weights"]

    def loss():
        return float(np.mean((model.predict(x) - y) ** 2))
    assert_close(grads[f"{model.layers[0].name}/weights"], numerical_grad(loss, first), rtol=1e-5, atol=1e-8)


def test_one_activation_object_in_two_layers_keeps_each_gradient(rng):
    """The bug: activations cache forward values, and `activations.get` handed the same object to
    both layers, so the second layer's forward overwrote what the first layer's backward needs."""
    shared = activations.Tanh()
    model = bn.Sequential([bn.Input((4,)), bn.Dense(5, activation=shared), bn.Dense(3, activation=shared),
                           bn.Dense(1)], dtype="float64", seed=0)
    model.compile("sgd", "mse")
    x, y = rng.normal(size=(8, 4)), rng.normal(size=(8, 1))
    grads = model.compute_gradients(x, y)
    for layer in model.layers:
        weights = layer.params["weights"]

        def loss():
            return float(np.mean((model.predict(x) - y) ** 2))
        assert_close(grads[f"{layer.name}/weights"], numerical_grad(loss, weights), rtol=1e-5, atol=1e-8)
    assert model.layers[0].activation is not model.layers[1].activation


def test_unknown_activation_lists_the_names():
    with pytest.raises(ValueError, match="Unknown activation 'relux'.*mish"):
        activations.get("relux")
