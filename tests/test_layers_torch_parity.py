"""Convolution, pooling, batch-norm and dropout against PyTorch (float64, 1e-6 relative).

barenet is channels-last (NHWC, kernels `(kh, kw, in, out)`); torch is NCHW with kernels
`(out, in, kh, kw)`: tensors are transposed on the way in and out.
"""

import numpy as np
import pytest

import barenet as bn

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _nchw(x):
    return torch.tensor(np.ascontiguousarray(x.transpose(0, 3, 1, 2)), requires_grad=True)


def _nhwc(t):
    return t.detach().numpy().transpose(0, 2, 3, 1)


def _close(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-10)


def _built(layer, input_shape):
    layer.name = layer.name or "layer"
    layer.build(input_shape, np.random.default_rng(0), "float64")
    return layer


@pytest.mark.parametrize("kernel, stride, padding", [
    (1, 1, "valid"), (3, 1, "valid"), (5, 1, "valid"), (3, 2, "valid"), ((2, 3), (2, 1), "valid"),
    (3, 1, "same"), (5, 1, "same"), ((3, 1), 1, "same"),
])
def test_conv2d(kernel, stride, padding, rng):
    layer = _built(bn.Conv2D(4, kernel, strides=stride, padding=padding), (7, 9, 3))
    layer.params["biases"][:] = rng.normal(size=4)
    x = rng.normal(size=(2, 7, 9, 3))
    out = layer.forward(x)
    upstream = rng.normal(size=out.shape)
    grad_x = layer.backward(upstream)

    tx = _nchw(x)
    tw = torch.tensor(layer.params["weights"].transpose(3, 2, 0, 1).copy(), requires_grad=True)
    tb = torch.tensor(layer.params["biases"].copy(), requires_grad=True)
    tout = F.conv2d(tx, tw, tb, stride=layer.strides, padding=padding)
    tout.backward(torch.tensor(upstream.transpose(0, 3, 1, 2).copy()))
    _close(out, _nhwc(tout))
    _close(grad_x, _nhwc(tx.grad))
    _close(layer.grads["weights"], tw.grad.numpy().transpose(2, 3, 1, 0))
    _close(layer.grads["biases"], tb.grad.numpy())


def _torch_pool(kind, t, pool, stride):
    if kind == "max":
        return F.max_pool2d(t, pool, stride)
    if kind == "min":
        return -F.max_pool2d(-t, pool, stride)
    return F.avg_pool2d(t, pool, stride)


@pytest.mark.parametrize("kind", ["max", "average", "min"])
@pytest.mark.parametrize("pool, stride", [((2, 2), (2, 2)), ((3, 3), (2, 2)), ((2, 3), (1, 2)), ((3, 3), (3, 3))])
def test_pooling(kind, pool, stride, rng):
    layer = _built(bn.Pool2d(pool, stride, kind=kind), (7, 9, 2))
    x = rng.permutation(2 * 7 * 9 * 2).reshape(2, 7, 9, 2) * 0.01  # no ties
    out = layer.forward(x)
    upstream = rng.normal(size=out.shape)
    grad_x = layer.backward(upstream)
    tx = _nchw(x)
    tout = _torch_pool(kind, tx, pool, stride)
    tout.backward(torch.tensor(upstream.transpose(0, 3, 1, 2).copy()))
    _close(out, _nhwc(tout))
    _close(grad_x, _nhwc(tx.grad))


def test_max_pooling_ties_follow_torch(rng):
    layer = _built(bn.MaxPooling2D(2, strides=1), (6, 6, 1))
    x = rng.integers(0, 3, size=(2, 6, 6, 1)).astype(np.float64)  # many ties
    upstream = rng.normal(size=(2, 5, 5, 1))
    layer.forward(x)
    grad_x = layer.backward(upstream)
    tx = _nchw(x)
    F.max_pool2d(tx, 2, 1).backward(torch.tensor(upstream.transpose(0, 3, 1, 2).copy()))
    _close(grad_x, _nhwc(tx.grad))


@pytest.mark.parametrize("shape", [(5,), (4, 3, 2)])
def test_batch_normalization_train_and_eval(shape, rng):
    momentum, epsilon = 0.9, 1e-3
    layer = _built(bn.BatchNormalization(momentum=momentum, epsilon=epsilon), shape)
    layer.params["gamma"][:] = rng.normal(size=shape[-1])
    layer.params["beta"][:] = rng.normal(size=shape[-1])
    x = rng.normal(2.0, 3.0, size=(8, *shape))
    upstream = rng.normal(size=x.shape)

    conv = len(shape) == 3
    to_torch = (lambda a: _nchw(a)) if conv else (lambda a: torch.tensor(a, requires_grad=True))
    from_torch = _nhwc if conv else (lambda t: t.detach().numpy())
    upstream_t = torch.tensor(upstream.transpose(0, 3, 1, 2).copy() if conv else upstream)
    module = (torch.nn.BatchNorm2d if conv else torch.nn.BatchNorm1d)(shape[-1], eps=epsilon, momentum=1 - momentum)
    module = module.double()
    with torch.no_grad():
        module.weight[:] = torch.tensor(layer.params["gamma"])
        module.bias[:] = torch.tensor(layer.params["beta"])

    for training in (True, False):
        module.train(training)
        out = layer.forward(x, training=training)
        grad_x = layer.backward(upstream)
        module.zero_grad()
        tx = to_torch(x)
        tout = module(tx)
        tout.backward(upstream_t)
        _close(out, from_torch(tout))
        _close(grad_x, from_torch(tx.grad))
        _close(layer.grads["gamma"], module.weight.grad.numpy())
        _close(layer.grads["beta"], module.bias.grad.numpy())
        if training:
            # torch's running mean matches; its running_var uses the UNBIASED batch variance,
            # Keras (and barenet) the biased one: compare with torch's value de-biased.
            m = x.size // shape[-1]
            _close(layer.state["moving_mean"], module.running_mean.numpy())
            torch_batch_var_unbiased = (module.running_var.numpy() - momentum * 1.0) / (1 - momentum)
            _close(layer.state["moving_variance"], momentum + (1 - momentum) * torch_batch_var_unbiased * (m - 1) / m)
            # Make eval mode use the same statistics in both.
            with torch.no_grad():
                module.running_var[:] = torch.tensor(layer.state["moving_variance"])


@pytest.mark.parametrize("rate", [0.2, 0.5])
def test_dropout_scaling_matches_torch(rate, rng):
    layer = _built(bn.Dropout(rate), (200,))
    x = rng.uniform(1.0, 2.0, size=(10, 200))  # never zero
    out = layer.forward(x, training=True)
    kept = out != 0
    _close(out[kept], x[kept] / (1 - rate))
    torch.manual_seed(0)
    tout = F.dropout(torch.tensor(x), rate, training=True).numpy()
    tkept = tout != 0
    _close(tout[tkept], x[tkept] / (1 - rate))  # torch scales kept values the same way
    assert abs(kept.mean() - tkept.mean()) < 0.05
    np.testing.assert_array_equal(layer.forward(x, training=False), x)
    np.testing.assert_array_equal(F.dropout(torch.tensor(x), rate, training=False).numpy(), x)


def test_small_cnn_forward_and_every_gradient_through_the_model(rng):
    model = bn.Sequential([bn.Conv2D(4, 3, activation="relu", input_shape=(8, 9, 2)), bn.MaxPooling2D(2),
                           bn.Conv2D(3, 2, padding="same", activation="tanh"), bn.Flatten(),
                           bn.Dense(5, "softmax")], seed=3, dtype="float64")
    model.compile(bn.optimizers.SGD(0.0), "categorical_crossentropy")
    for layer in model.layers:
        if "biases" in layer.params:
            layer.params["biases"][:] = rng.normal(size=layer.params["biases"].shape) * 0.1
    x = rng.normal(size=(6, 8, 9, 2))
    y = np.eye(5)[rng.integers(0, 5, 6)]
    predictions = model.predict(x)
    model.train_on_batch(x, y, return_dict=True)  # learning rate 0: fills grads, changes nothing
    conv1, _, conv2, _, dense = model.layers

    def t(a):
        return torch.tensor(a, requires_grad=True)

    w1, b1 = t(conv1.params["weights"].transpose(3, 2, 0, 1).copy()), t(conv1.params["biases"].copy())
    w2, b2 = t(conv2.params["weights"].transpose(3, 2, 0, 1).copy()), t(conv2.params["biases"].copy())
    w3, b3 = t(dense.params["weights"].copy()), t(dense.params["biases"].copy())
    h = F.max_pool2d(torch.relu(F.conv2d(torch.tensor(x.transpose(0, 3, 1, 2).copy()), w1, b1)), 2)
    h = torch.tanh(F.conv2d(F.pad(h, (0, 1, 0, 1)), w2, b2))  # "same" for an even kernel pads bottom/right
    logits = h.permute(0, 2, 3, 1).reshape(len(x), -1) @ w3 + b3  # flatten channels-last, as barenet
    loss = F.cross_entropy(logits, torch.tensor(y.argmax(axis=1)))
    loss.backward()
    _close(predictions, torch.softmax(logits, dim=1).detach().numpy())
    _close(conv1.grads["weights"], w1.grad.numpy().transpose(2, 3, 1, 0))
    _close(conv1.grads["biases"], b1.grad.numpy())
    _close(conv2.grads["weights"], w2.grad.numpy().transpose(2, 3, 1, 0))
    _close(conv2.grads["biases"], b2.grad.numpy())
    _close(dense.grads["weights"], w3.grad.numpy())
    _close(dense.grads["biases"], b3.grad.numpy())
