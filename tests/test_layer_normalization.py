"""LayerNormalization: per-sample statistics, gradients (finite differences and PyTorch),
axes, configs, errors, and training inside `Sequential`."""

import numpy as np
import pytest

import barenet as bn
from gradcheck import check_layer_gradients


def _built(layer, input_shape, dtype="float64", rng=None):
    layer.name = layer.name or "ln"
    layer.build(input_shape, np.random.default_rng(0), dtype)
    if rng is not None:
        for value in layer.params.values():
            value[...] = rng.normal(size=value.shape)
    return layer


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4)])
def test_each_sample_is_normalized_over_its_last_axis(shape, rng):
    layer = _built(bn.LayerNormalization(), shape)
    x = rng.normal(3.0, 2.0, size=(4, *shape))
    out = layer.forward(x)
    expected = (x - x.mean(axis=-1, keepdims=True)) / np.sqrt(x.var(axis=-1, keepdims=True) + 1e-3)
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    np.testing.assert_allclose(layer.forward(x, training=True), out)  # no train/inference difference
    assert layer.params["gamma"].shape == layer.params["beta"].shape == (shape[-1],)


@pytest.mark.parametrize("shape, axis", [((5,), -1), ((3, 4), -1), ((2, 3, 4), -1), ((3, 4), [1, 2]),
                                         ((2, 3, 4), [-2, -1]), ((3, 4), 1), ((2, 3, 4), [1, 3])])
@pytest.mark.parametrize("center, scale", [(True, True), (False, True), (True, False)])
def test_gradients_match_finite_differences(shape, axis, center, scale, rng):
    layer = _built(bn.LayerNormalization(axis=axis, center=center, scale=scale), shape, rng=rng)
    check_layer_gradients(layer, rng.normal(size=(3, *shape)), rng)
    assert set(layer.params) == {k for k, on in (("gamma", scale), ("beta", center)) if on}


@pytest.mark.parametrize("shape, axis", [((6,), -1), ((3, 5), -1), ((3, 5), [-2, -1]), ((2, 3, 4), [2, 3])])
def test_forward_and_every_gradient_match_torch(shape, axis, rng):
    torch = pytest.importorskip("torch")
    layer = _built(bn.LayerNormalization(axis=axis, epsilon=1e-5), shape, rng=rng)
    x = rng.normal(1.0, 2.0, size=(4, *shape))
    out = layer.forward(x)
    upstream = rng.normal(size=out.shape)
    grad_x = layer.backward(upstream)
    normalized_shape = layer.params["gamma"].shape
    tx, gamma, beta = (torch.tensor(a, requires_grad=True) for a in (x, layer.params["gamma"], layer.params["beta"]))
    tout = torch.nn.functional.layer_norm(tx, normalized_shape, gamma, beta, eps=1e-5)
    tout.backward(torch.tensor(upstream))
    for actual, expected in ((out, tout), (grad_x, tx.grad), (layer.grads["gamma"], gamma.grad),
                             (layer.grads["beta"], beta.grad)):
        np.testing.assert_allclose(actual, expected.detach().numpy(), rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("axis", [0, 3, -3, [1, -1]])
def test_bad_axes_name_the_layer(axis):
    layer = bn.LayerNormalization(axis=axis, name="norm")
    with pytest.raises(ValueError, match=r"'norm' \(LayerNormalization\) got axis=.*batch axis 0 cannot"):
        layer.build((3,), np.random.default_rng(0))


def test_bad_arguments_and_config_round_trip():
    with pytest.raises(ValueError, match="`axis` must be an integer or a list"):
        bn.LayerNormalization(axis="last")
    with pytest.raises(ValueError, match="`epsilon` must be a positive number"):
        bn.LayerNormalization(epsilon=0)
    for layer in (bn.LayerNormalization(), bn.LayerNormalization(axis=[1, 2], epsilon=1e-5, center=False)):
        config = layer.get_config()
        assert bn.LayerNormalization.from_config(config).get_config() == config


def test_float32_stays_float32(rng):
    layer = _built(bn.LayerNormalization(), (3, 4), "float32")
    out = layer.forward(rng.normal(size=(2, 3, 4)).astype(np.float32))
    assert out.dtype == np.float32 and layer.backward(np.ones_like(out)).dtype == np.float32


def test_model_with_layer_normalization_trains():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 6)).astype(np.float32) * [1, 10, 0.1, 1, 5, 1]
    y = (x[:, :1] > 0).astype(np.float32)
    model = bn.Sequential([bn.Dense(16, input_dim=6), bn.LayerNormalization(), bn.Dense(8, "relu"),
                           bn.Dense(1, "sigmoid")], seed=0)
    model.compile(bn.optimizers.Adam(0.01), "binary_crossentropy", ["accuracy"])
    history = model.fit(x, y, epochs=10, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0], history.history["loss"]
