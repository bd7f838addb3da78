"""The same networks, losses and gradients as PyTorch autograd (float64, 1e-6 relative)."""

import numpy as np
import pytest

import barenet as bn
from barenet import activations, losses

torch = pytest.importorskip("torch")
F = torch.nn.functional

TORCH_ACTIVATIONS = {
    "linear": lambda t: t,
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "softmax": lambda t: torch.softmax(t, dim=-1),
    "leaky_relu": lambda t: F.leaky_relu(t, 0.2),
    "elu": F.elu,
    "gelu": lambda t: F.gelu(t, approximate="tanh"),
    "softplus": F.softplus,
    "swish": F.silu,
}


@pytest.mark.parametrize("name", sorted(TORCH_ACTIVATIONS))
def test_activation_forward_and_backward(name, rng):
    x = rng.normal(size=(6, 5)) * 3
    upstream = rng.normal(size=(6, 5))
    act = activations.get(name)
    out = act.forward(x)
    grad = act.backward(upstream)
    tx = torch.tensor(x, requires_grad=True)
    tout = TORCH_ACTIVATIONS[name](tx)
    tout.backward(torch.tensor(upstream))
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(grad, tx.grad.numpy(), rtol=1e-6, atol=1e-12)


def _torch_loss(name, y, p):
    if name == "mean_squared_error":
        return F.mse_loss(p, y)
    if name == "mean_absolute_error":
        return F.l1_loss(p, y)
    if name == "binary_crossentropy":
        return F.binary_cross_entropy(p, y)
    if name == "categorical_crossentropy":
        return -(y * torch.log(p)).sum(dim=1).mean()
    return F.nll_loss(torch.log(p), y)


@pytest.mark.parametrize("name", ["mean_squared_error", "mean_absolute_error", "binary_crossentropy",
                                  "categorical_crossentropy", "sparse_categorical_crossentropy"])
def test_loss_value_and_gradient(name, rng):
    if name == "sparse_categorical_crossentropy":
        y = rng.integers(0, 4, 8)
        ty = torch.tensor(y)
    elif name in ("binary_crossentropy", "categorical_crossentropy"):
        y = np.eye(4)[rng.integers(0, 4, 8)]
        ty = torch.tensor(y)
    else:
        y = rng.normal(size=(8, 4))
        ty = torch.tensor(y)
    p = activations.softmax(rng.normal(size=(8, 4)))
    loss = losses.get(name)
    tp = torch.tensor(p, requires_grad=True)
    tvalue = _torch_loss(name, ty, tp)
    tvalue.backward()
    assert loss(y, p) == pytest.approx(tvalue.item(), rel=1e-6)
    np.testing.assert_allclose(loss.gradient(y, p), tp.grad.numpy(), rtol=1e-6, atol=1e-12)


def _torch_mlp(model):
    """Torch parameters holding copies of the barenet model's weights."""
    return [(torch.tensor(layer.weights.copy(), requires_grad=True),
             torch.tensor(layer.biases.copy(), requires_grad=True),
             TORCH_ACTIVATIONS[layer.activation.name]) for layer in model.layers]


def _torch_forward(tlayers, x):
    out = torch.tensor(x)
    for w, b, act in tlayers:
        out = act(out @ w + b)
    return out


@pytest.mark.parametrize("loss, out_activation, activations_hidden", [
    ("categorical_crossentropy", "softmax", ("relu", "tanh")),
    ("sparse_categorical_crossentropy", "softmax", ("gelu", "swish")),
    ("mean_squared_error", "linear", ("elu", "sigmoid")),
    ("binary_crossentropy", "sigmoid", ("leaky_relu", "softplus")),
])
def test_three_layer_network_matches_autograd(loss, out_activation, activations_hidden, rng):
    units = 1 if loss == "binary_crossentropy" else 3
    model = bn.Sequential([bn.Dense(7, activations_hidden[0], input_dim=5), bn.Dense(6, activations_hidden[1]),
                           bn.Dense(units, out_activation)], seed=0, dtype="float64")
    model.compile(bn.optimizers.SGD(1.0), loss)
    x = rng.normal(size=(11, 5))
    labels = rng.integers(0, 3, 11)
    if loss == "sparse_categorical_crossentropy":
        y, ty = labels, torch.tensor(labels)
    elif loss == "binary_crossentropy":
        y = (labels > 0).astype(float)[:, None]
        ty = torch.tensor(y)
    elif loss == "categorical_crossentropy":
        y = np.eye(3)[labels]
        ty = torch.tensor(y)
    else:
        y = rng.normal(size=(11, 3))
        ty = torch.tensor(y)
    tlayers = _torch_mlp(model)
    tout = _torch_forward(tlayers, x)
    tloss = _torch_loss(loss, ty, tout)
    tloss.backward()

    np.testing.assert_allclose(model.predict(x), tout.detach().numpy(), rtol=1e-6, atol=1e-12)
    before = model.get_weights()
    logs = model.train_on_batch(x, y, return_dict=True)
    assert logs["loss"] == pytest.approx(tloss.item(), rel=1e-6)
    grads = [b - a for b, a in zip(before, model.get_weights())]
    expected = [t.grad.numpy() for w, b, _ in tlayers for t in (w, b)]
    for ours, theirs in zip(grads, expected):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-10)


def test_adam_training_matches_torch_step_for_step(rng):
    """Ten Adam steps on a 3-layer network: the same weights as torch.optim.Adam."""
    model = bn.Sequential([bn.Dense(8, "relu", input_dim=4), bn.Dense(8, "tanh"), bn.Dense(3, "softmax")],
                          seed=1, dtype="float64")
    model.compile(bn.optimizers.Adam(learning_rate=0.01, epsilon=0.0), "categorical_crossentropy")
    tlayers = _torch_mlp(model)
    params = [t for w, b, _ in tlayers for t in (w, b)]
    topt = torch.optim.Adam(params, lr=0.01, eps=0.0)
    for _ in range(10):
        x = rng.normal(size=(16, 4))
        y = np.eye(3)[rng.integers(0, 3, 16)]
        model.train_on_batch(x, y, return_dict=True)
        topt.zero_grad()
        _torch_loss("categorical_crossentropy", torch.tensor(y), _torch_forward(tlayers, x)).backward()
        topt.step()
    for ours, theirs in zip(model.get_weights(), params):
        np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-6, atol=1e-10)
