"""Keras 3 loss classes: golden values, finite differences (float64), torch parity, sample
weights and reductions, from_logits / label_smoothing, and custom losses through the engine."""

import warnings

import numpy as np
import pytest
from gradcheck import assert_close, numerical_grad

import barenet as bn
from barenet import losses, ops


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _data(name, rng):
    """`(loss, y_true, y_pred)` in float64 with predictions away from kinks and clipping."""
    n, d = 5, 3
    normal = lambda: rng.normal(size=(n, d))
    cases = {
        "mse": (losses.MeanSquaredError(), normal(), normal()),
        "mae": (losses.MeanAbsoluteError(), normal(), normal()),
        "mape": (losses.MeanAbsolutePercentageError(), rng.uniform(0.5, 2, (n, d)), normal()),
        "msle": (losses.MeanSquaredLogarithmicError(), rng.uniform(0, 3, (n, d)), rng.uniform(0.1, 3, (n, d))),
        "huber": (losses.Huber(delta=0.7), normal(), normal()),
        "log_cosh": (losses.LogCosh(), normal(), normal()),
        "cosine": (losses.CosineSimilarity(), normal(), normal()),
        "cosine_axis0": (losses.CosineSimilarity(axis=0), normal(), normal()),
        "kld": (losses.KLDivergence(), _softmax(normal()), _softmax(normal())),
        "poisson": (losses.Poisson(), rng.poisson(2, (n, d)).astype(float), rng.uniform(0.5, 3, (n, d))),
        "hinge": (losses.Hinge(), rng.integers(0, 2, (n, d)).astype(float), normal()),
        "squared_hinge": (losses.SquaredHinge(), rng.choice([-1.0, 1.0], (n, d)), normal()),
        "categorical_hinge": (losses.CategoricalHinge(), np.eye(d)[rng.integers(0, d, n)], normal()),
        "bce": (losses.BinaryCrossentropy(label_smoothing=0.2), rng.integers(0, 2, (n, d)).astype(float),
                rng.uniform(0.05, 0.95, (n, d))),
        "bce_logits": (losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
                       rng.integers(0, 2, (n, d)).astype(float), 3 * normal()),
        "cce": (losses.CategoricalCrossentropy(label_smoothing=0.1), np.eye(d)[rng.integers(0, d, n)],
                _softmax(normal())),
        "cce_logits": (losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2),
                       np.eye(d)[rng.integers(0, d, n)], 3 * normal()),
        "scce": (losses.SparseCategoricalCrossentropy(), rng.integers(0, d, n), _softmax(normal())),
        "scce_logits": (losses.SparseCategoricalCrossentropy(from_logits=True), rng.integers(0, d, n), 3 * normal()),
    }
    return cases[name]


NAMES = ["mse", "mae", "mape", "msle", "huber", "log_cosh", "cosine", "cosine_axis0", "kld", "poisson", "hinge",
         "squared_hinge", "categorical_hinge", "bce", "bce_logits", "cce", "cce_logits", "scce", "scce_logits"]


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean_with_sample_weight", None])
@pytest.mark.parametrize("name", NAMES)
def test_gradient_with_sample_weights_matches_finite_differences(name, reduction, rng):
    loss, y, p = _data(name, rng)
    loss.reduction = reduction
    w = rng.uniform(0.2, 2.0, len(p))
    if name == "cosine_axis0":
        w = rng.uniform(0.2, 2.0, p.shape[1])  # one value per column along axis 0

    def value():
        out = loss(y, p, sample_weight=w)
        return float(np.mean(out)) if reduction is None else out

    assert_close(loss.gradient(y, p, sample_weight=w), numerical_grad(value, p), rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("name", NAMES)
def test_weighted_reductions_follow_keras(name, rng):
    loss, y, p = _data(name, rng)
    per_sample = loss.call(y, p)
    w = rng.uniform(0.0, 2.0, per_sample.shape)
    assert loss(y, p, sample_weight=w) == pytest.approx(np.sum(w * per_sample) / per_sample.size, rel=1e-12)
    assert loss(y, p) == pytest.approx(np.mean(per_sample), rel=1e-12)
    loss.reduction = "sum"
    assert loss(y, p, sample_weight=w) == pytest.approx(np.sum(w * per_sample), rel=1e-12)
    loss.reduction = "mean_with_sample_weight"
    assert loss(y, p, sample_weight=w) == pytest.approx(np.sum(w * per_sample) / w.sum(), rel=1e-12)
    loss.reduction = "none"
    np.testing.assert_allclose(loss(y, p, sample_weight=w), w * per_sample, rtol=1e-12)


def test_golden_values_from_formulas():
    y, p = np.array([[0.0, 2.0]]), np.array([[0.5, 0.0]])  # errors 0.5 and -2
    assert losses.Huber(delta=1.0)(y, p) == pytest.approx((0.5 * 0.25 + (2 - 0.5)) / 2)
    assert losses.LogCosh()(y, p) == pytest.approx((np.log(np.cosh(0.5)) + np.log(np.cosh(2.0))) / 2)
    assert losses.MeanAbsolutePercentageError()(np.array([[2.0, 4.0]]), np.array([[1.0, 5.0]])) == \
        pytest.approx(100 * (0.5 + 0.25) / 2)
    assert losses.Hinge()(np.array([[1.0, 0.0]]), np.array([[0.3, 0.4]])) == pytest.approx((0.7 + 1.4) / 2)
    assert losses.SquaredHinge()(np.array([[1.0, 0.0]]), np.array([[0.3, 0.4]])) == \
        pytest.approx((0.49 + 1.96) / 2)
    assert losses.CategoricalHinge()(np.array([[0.0, 1.0, 0.0]]), np.array([[0.5, 0.2, 0.1]])) == \
        pytest.approx(1 + 0.5 - 0.2)
    assert losses.KLDivergence()(np.array([[0.5, 0.5]]), np.array([[0.25, 0.75]])) == \
        pytest.approx(0.5 * np.log(2) + 0.5 * np.log(2 / 3))
    assert losses.Poisson()(np.array([[1.0, 3.0]]), np.array([[2.0, 1.0]])) == \
        pytest.approx((2 - np.log(2 + 1e-7) + 1 - 3 * np.log(1 + 1e-7)) / 2)
    assert losses.CosineSimilarity()(np.array([[1.0, 0.0], [1.0, 1.0]]), np.array([[2.0, 0.0], [-1.0, -1.0]])) == \
        pytest.approx((-1 + 1) / 2)
    # label smoothing 0.2 on two classes: targets (0.9, 0.1)
    assert losses.CategoricalCrossentropy(label_smoothing=0.2)(np.array([[1.0, 0.0]]), np.array([[0.8, 0.2]])) == \
        pytest.approx(-(0.9 * np.log(0.8) + 0.1 * np.log(0.2)))
    assert losses.BinaryCrossentropy(label_smoothing=0.2)(np.array([[1.0]]), np.array([[0.8]])) == \
        pytest.approx(-(0.9 * np.log(0.8) + 0.1 * np.log(0.2)))


def test_from_logits_is_stable_for_extreme_logits():
    z = np.array([[1000.0, -1000.0, 0.0]])
    assert losses.CategoricalCrossentropy(from_logits=True)(np.array([[0.0, 1.0, 0.0]]), z) == pytest.approx(2000.0)
    assert losses.SparseCategoricalCrossentropy(from_logits=True)(np.array([0]), z) == pytest.approx(0.0)
    bce = losses.BinaryCrossentropy(from_logits=True)
    assert bce(np.array([[0.0, 1.0]]), np.array([[1000.0, -1000.0]])) == pytest.approx(1000.0)
    assert np.all(np.isfinite(bce.gradient(np.array([[0.0, 1.0]]), np.array([[1000.0, -1000.0]]))))


@pytest.mark.parametrize("name", ["bce", "cce", "scce"])
def test_fused_logits_gradient_respects_weights_and_smoothing(name, rng):
    loss, y, _ = _data(name, rng)
    z = rng.normal(size=(5, 3))
    probs = (lambda a: 1 / (1 + np.exp(-a))) if name == "bce" else _softmax
    w = rng.uniform(0.1, 2, 5)
    numeric = numerical_grad(lambda: loss(y, probs(z), sample_weight=w), z)
    assert_close(loss.logits_gradient(y, probs(z), sample_weight=w), numeric)


def test_matches_torch_values_and_gradients(rng):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    n, d = 6, 4
    y, p = rng.normal(size=(n, d)), rng.normal(size=(n, d))
    labels = rng.integers(0, d, n)
    onehot = np.eye(d)[labels]
    bits = rng.integers(0, 2, (n, d)).astype(float)
    probs = rng.uniform(0.05, 0.95, (n, d))
    positive = rng.uniform(0.5, 3, (n, d))
    dist_true, dist_pred = _softmax(rng.normal(size=(n, d))), _softmax(rng.normal(size=(n, d)))
    smooth = bits * 0.85 + 0.5 * 0.15
    cases = [
        (losses.MeanSquaredError(), y, p, lambda t, q: F.mse_loss(q, t)),
        (losses.MeanAbsoluteError(), y, p, lambda t, q: F.l1_loss(q, t)),
        (losses.Huber(delta=0.5), y, p, lambda t, q: F.huber_loss(q, t, delta=0.5)),
        (losses.BinaryCrossentropy(), bits, probs, lambda t, q: F.binary_cross_entropy(q, t)),
        (losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.15), bits, p,
         lambda t, q: F.binary_cross_entropy_with_logits(q, torch.tensor(smooth))),
        (losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1), onehot, p,
         lambda t, q: F.cross_entropy(q, torch.tensor(labels), label_smoothing=0.1)),
        (losses.SparseCategoricalCrossentropy(from_logits=True), labels, p,
         lambda t, q: F.cross_entropy(q, torch.tensor(labels))),
        (losses.KLDivergence(), dist_true, dist_pred,
         lambda t, q: F.kl_div(torch.log(q), t, reduction="batchmean")),
        (losses.Poisson(), bits, positive, lambda t, q: F.poisson_nll_loss(q, t, log_input=False, eps=1e-7)),
        (losses.CosineSimilarity(), y, p, lambda t, q: -F.cosine_similarity(q, t, dim=-1).mean()),
    ]
    for loss, t, q, reference in cases:
        q_torch = torch.tensor(q, requires_grad=True)
        expected = reference(torch.tensor(t), q_torch)
        expected.backward()
        assert loss(t, q) == pytest.approx(expected.item(), rel=1e-10), loss
        assert_close(loss.gradient(t, q), q_torch.grad.numpy(), rtol=1e-8, atol=1e-12)


class OpsMSE(losses.Loss):
    def call(self, y_true, y_pred):
        return ops.mean(ops.square(y_pred - y_true), axis=-1)


def _regressor(loss, seed=3):
    model = bn.Sequential([bn.Input((4,)), bn.layers.Dense(5, activation="tanh"), bn.layers.Dense(2)], seed=seed,
                          dtype="float64")
    model.compile(optimizer=bn.optimizers.SGD(0.1), loss=loss)
    return model


@pytest.mark.parametrize("loss", [OpsMSE(), lambda y_true, y_pred: ops.mean(ops.square(y_pred - y_true), axis=-1)])
def test_custom_losses_train_through_the_engine_with_sample_weights(loss, rng):
    x, y, w = rng.normal(size=(8, 4)), rng.normal(size=(8, 2)), rng.uniform(0, 2, 8)
    custom, builtin = _regressor(loss), _regressor("mse")
    got = custom.compute_gradients(x, y, sample_weight=w)
    expected = builtin.compute_gradients(x, y, sample_weight=w)
    assert got.keys() == expected.keys()
    for key in got:
        assert_close(got[key], expected[key], rtol=1e-10, atol=1e-14)
    assert custom.evaluate(x, y, sample_weight=w) == pytest.approx(builtin.evaluate(x, y, sample_weight=w), rel=1e-12)
    before = custom.evaluate(x, y)
    custom.fit(x, y, epochs=5, batch_size=8, verbose=0)
    assert custom.evaluate(x, y) < before


def test_builtin_loss_on_engine_tensors_gives_its_gradient(rng):
    loss = losses.Huber(delta=0.3)
    y, p = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    w = rng.uniform(0, 1, 4)
    tensor = bn.autodiff.Tensor(p.copy(), requires_grad=True)
    out = loss(y, tensor, sample_weight=w)
    out.backward()
    assert float(out.value) == pytest.approx(loss(y, p, sample_weight=w))
    assert_close(tensor.grad, loss.gradient(y, p, sample_weight=w))


def test_from_logits_on_a_softmax_output_warns_like_keras():
    model = bn.Sequential([bn.Input((3,)), bn.layers.Dense(4, activation="softmax")], seed=0)
    model.compile("sgd", bn.losses.SparseCategoricalCrossentropy(from_logits=True))
    with pytest.warns(UserWarning, match="from_logits=True.*softmax"):
        model.train_on_batch(np.ones((2, 3), "float32"), np.array([0, 1]))
    linear = bn.Sequential([bn.Input((3,)), bn.layers.Dense(4)], seed=0)
    linear.compile("sgd", bn.losses.SparseCategoricalCrossentropy(from_logits=True))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        linear.train_on_batch(np.ones((2, 3), "float32"), np.array([0, 1]))


def test_from_logits_gradient_equals_the_fused_softmax_one(rng):
    x, labels, w = rng.normal(size=(6, 3)), rng.integers(0, 4, 6), rng.uniform(0.5, 2, 6)

    def model(activation, loss):
        m = bn.Sequential([bn.Input((3,)), bn.layers.Dense(4, activation=activation)], seed=7, dtype="float64")
        m.compile("sgd", loss)
        return m

    logits = model(None, bn.losses.SparseCategoricalCrossentropy(from_logits=True)).compute_gradients(x, labels, w)
    fused = model("softmax", "sparse_categorical_crossentropy").compute_gradients(x, labels, w)
    for key in logits:
        assert_close(logits[key], fused[key], rtol=1e-10, atol=1e-14)


def test_bad_arguments_name_what_was_expected():
    with pytest.raises(ValueError, match="Unknown loss 'l3'.*huber.*hinge"):
        losses.get("l3")
    with pytest.raises(ValueError, match="`reduction` must be one of"):
        losses.MeanSquaredError(reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing"):
        losses.CategoricalCrossentropy(label_smoothing=1.5)
    with pytest.raises(ValueError, match="delta"):
        losses.Huber(delta=0)
    assert isinstance(losses.get("BinaryCrossentropy"), losses.BinaryCrossentropy)
    assert losses.get(losses.Huber).delta == 1.0
