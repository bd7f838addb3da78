"""Activation layers: finite differences (float64), PyTorch parity, Keras defaults and bad input."""

import numpy as np
import pytest
from gradcheck import check_layer_gradients

import barenet as bn

torch = pytest.importorskip("torch")
F = torch.nn.functional

CASES = {
    "relu": (lambda: bn.ReLU(), F.relu),
    "relu_options": (lambda: bn.ReLU(max_value=1.0, negative_slope=0.1, threshold=0.2),
                     lambda t: torch.clamp(torch.where(t >= 0.2, t, 0.1 * (t - 0.2)), max=1.0)),
    "leaky_relu": (lambda: bn.LeakyReLU(), lambda t: F.leaky_relu(t, 0.3)),
    "elu": (lambda: bn.ELU(alpha=0.5), lambda t: F.elu(t, 0.5)),
    "softmax_axis1": (lambda: bn.Softmax(axis=1), lambda t: torch.softmax(t, 1)),
    "softmax_last": (lambda: bn.Softmax(), lambda t: torch.softmax(t, -1)),
    "activation_tanh": (lambda: bn.Activation("tanh"), torch.tanh),
    "activation_function": (lambda: bn.Activation(bn.activations.selu), F.selu),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_forward_and_backward_match_torch_and_finite_differences(name, rng):
    make, reference = CASES[name]
    layer = make()
    layer.build((3, 4), rng, "float64")
    x = rng.normal(size=(2, 3, 4)) * 2
    x[np.abs(x - 0.2) < 1e-3] += 0.01  # off the kinks
    t = torch.tensor(x, requires_grad=True)
    expected = reference(t)
    np.testing.assert_allclose(layer.forward(x), expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    projection = rng.normal(size=x.shape)
    (expected * torch.tensor(projection)).sum().backward()
    layer.forward(x)
    np.testing.assert_allclose(layer.backward(projection), t.grad.numpy(), rtol=1e-10, atol=1e-12)
    check_layer_gradients(layer, x, rng)


def test_keras_defaults_and_configs():
    assert bn.LeakyReLU().negative_slope == 0.3
    assert bn.ReLU().get_config()["max_value"] is None
    layer = bn.ReLU(max_value=6.0, name="r")
    assert bn.ReLU.from_config(layer.get_config()).get_config() == layer.get_config()
    assert bn.Activation("softmax").get_config()["activation"] == "softmax"


@pytest.mark.parametrize("make, match", [
    (lambda: bn.ReLU(max_value=-1), "`max_value` must be a number >= 0"),
    (lambda: bn.LeakyReLU(negative_slope="a"), "`negative_slope`"),
    (lambda: bn.Softmax(axis=0), "`axis` must be a non-zero integer"),
    (lambda: bn.Activation("nope"), "Unknown activation 'nope'"),
])
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_softmax_axis_out_of_range():
    with pytest.raises(ValueError, match="out of range"):
        bn.Sequential([bn.Input((3,)), bn.Softmax(axis=3)])


def test_activation_layers_in_a_model_train(rng):
    x = rng.normal(size=(64, 4)).astype(np.float32)
    y = (x[:, :1] > 0).astype(np.float32)
    model = bn.Sequential([bn.Input((4,)), bn.Dense(8), bn.LeakyReLU(0.1), bn.Dense(8), bn.ELU(), bn.Dense(1),
                           bn.Activation("sigmoid")], seed=0)
    model.compile(bn.optimizers.Adam(0.05), "binary_crossentropy")
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0]
