"""MultiHeadAttention: PyTorch parity (forward and every gradient, float64), finite differences,
masks, dropout, the three model styles, saving and bad input."""

import numpy as np
import pytest
from gradcheck import assert_close, numerical_grad
from resume import assert_resumes_exactly

import barenet as bn
from barenet.autodiff import Tensor, backward

B, T, S, E, H = 2, 4, 5, 8, 2


def _layer(rng, **kwargs):
    layer = bn.layers.MultiHeadAttention(H, kwargs.pop("key_dim", E // H), name="mha", **kwargs)
    return layer


def _run(layer, q, v, k=None, projection=None, **kwargs):
    """Output value, and (with `projection`) the gradients of sum(out * projection)."""
    tensors = [Tensor(a, requires_grad=True) for a in (q, v) + (() if k is None else (k,))]
    out = layer(*tensors, **kwargs)
    if projection is None:
        return out.value
    backward([out], [projection])
    grads = {name: var.grad for name, var in layer._variables.items()}
    for var in layer._variables.values():
        var.grad = None
    return out.value, [t.grad for t in tensors], grads


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("cross", [False, True])
def test_matches_torch_multihead_attention(causal, cross, rng):
    torch = pytest.importorskip("torch")
    q = rng.normal(size=(B, T, E))
    v = rng.normal(size=(B, S if cross else T, E)) if cross else q
    layer = _layer(rng)
    layer(Tensor(q), Tensor(v))  # build (float64 from the inputs)
    for value in layer.params.values():
        value[...] = rng.normal(size=value.shape) * 0.5
    projection = rng.normal(size=(B, T, E))
    if cross:
        out, (gq, gv), grads = _run(layer, q, v, projection=projection, use_causal_mask=causal)
    else:
        x = Tensor(q, requires_grad=True)
        result = layer(x, x, use_causal_mask=causal)
        backward([result], [projection])
        out, gq, gv = result.value, x.grad, None
        grads = {name: var.grad for name, var in layer._variables.items()}

    p = layer.params
    mha = torch.nn.MultiheadAttention(E, H, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.tensor(np.concatenate(
            [p[f"{part}_kernel"].reshape(E, E).T for part in ("query", "key", "value")])))
        mha.in_proj_bias.copy_(torch.tensor(np.concatenate(
            [p[f"{part}_bias"].reshape(E) for part in ("query", "key", "value")])))
        mha.out_proj.weight.copy_(torch.tensor(p["output_kernel"].reshape(E, E).T))
        mha.out_proj.bias.copy_(torch.tensor(p["output_bias"]))
    tq = torch.tensor(q, requires_grad=True)
    tv = torch.tensor(v, requires_grad=True) if cross else tq
    mask = torch.triu(torch.ones(T, tv.shape[1], dtype=torch.bool), 1) if causal else None
    expected, _ = mha(tq, tv, tv, attn_mask=mask, need_weights=False)
    (expected * torch.tensor(projection)).sum().backward()

    np.testing.assert_allclose(out, expected.detach().numpy(), rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(gq, tq.grad.numpy(), rtol=1e-6, atol=1e-10)
    if cross:
        np.testing.assert_allclose(gv, tv.grad.numpy(), rtol=1e-6, atol=1e-10)
    w_in, b_in = mha.in_proj_weight.grad.numpy(), mha.in_proj_bias.grad.numpy()
    for i, part in enumerate(("query", "key", "value")):
        np.testing.assert_allclose(grads[f"{part}_kernel"].reshape(E, E).T, w_in[i * E:(i + 1) * E], rtol=1e-6,
                                   atol=1e-10)
        np.testing.assert_allclose(grads[f"{part}_bias"].reshape(E), b_in[i * E:(i + 1) * E], rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(grads["output_kernel"].reshape(E, E).T, mha.out_proj.weight.grad.numpy(), rtol=1e-6,
                               atol=1e-10)
    np.testing.assert_allclose(grads["output_bias"], mha.out_proj.bias.grad.numpy(), rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("options, call", [
    ({}, {}),
    ({"value_dim": 3, "output_shape": 6, "use_bias": False}, {"use_causal_mask": True}),
    ({}, {"attention_mask": "random", "value_mask": "padding"}),
])
def test_finite_differences_with_a_separate_key(options, call, rng):
    q, v, k = rng.normal(size=(B, T, E)), rng.normal(size=(B, S, 3)), rng.normal(size=(B, S, 5))
    if call.get("attention_mask") == "random":
        call = {"attention_mask": rng.random((B, T, S)) > 0.3, "value_mask": np.arange(S)[None] < np.array([[3], [5]])}
        call["attention_mask"][..., 0] = True  # every query keeps a key
    layer = _layer(rng, **options)
    projection = rng.normal(size=_run(layer, q, v, k, **call).shape)
    _, inputs, grads = _run(layer, q, v, k, projection, **call)

    def loss():
        return float(np.sum(_run(layer, q, v, k, **call) * projection))

    for name, value in layer.params.items():
        assert_close(grads[name], numerical_grad(loss, value), rtol=1e-5, atol=1e-8)
    for array, grad in zip((q, v, k), inputs):
        assert_close(grad, numerical_grad(loss, array), rtol=1e-5, atol=1e-8)


def test_masks_block_attention_and_scores_are_probabilities(rng):
    q, v = rng.normal(size=(B, T, E)), rng.normal(size=(B, S, E))
    layer = _layer(rng)
    value_mask = np.ones((B, S), bool)
    value_mask[:, 3:] = False
    out, scores = layer(q, v, value_mask=value_mask, use_causal_mask=True, return_attention_scores=True)
    assert scores.shape == (B, H, T, S)
    np.testing.assert_allclose(scores.value.sum(axis=-1), 1, rtol=1e-6)
    assert np.all(scores.value[..., 3:] < 1e-30)
    assert np.all(scores.value[:, :, 0, 1:] < 1e-30)  # causal: step 0 sees only key 0
    # Changing a masked value changes nothing.
    v2 = v.copy()
    v2[:, 3:] = 100
    np.testing.assert_allclose(layer(q, v2, value_mask=value_mask, use_causal_mask=True).value, out.value, rtol=1e-6)


def test_dropout_acts_in_training_only_and_its_gradient_is_exact(rng):
    q = rng.normal(size=(B, T, E))
    layer = _layer(rng, dropout=0.5)
    inference = layer(q, q).value
    np.testing.assert_array_equal(layer(q, q, training=False).value, inference)
    assert not np.allclose(layer(q, q, training=True).value, inference)
    projection = rng.normal(size=inference.shape)

    def run(grad=False):
        layer._rng = np.random.default_rng(7)  # the same dropout mask on every call
        return _run(layer, q, q + 1, projection=projection if grad else None, training=True)

    _, _, grads = run(True)

    def loss():
        return float(np.sum(run() * projection))

    for name in ("query_kernel", "value_bias", "output_kernel"):
        assert_close(grads[name], numerical_grad(loss, layer.params[name]), rtol=1e-5, atol=1e-8)


def _transformer_block(x, width=8):
    h = bn.layers.MultiHeadAttention(2, width // 2, name="attention")(x, x, use_causal_mask=True)
    x = bn.LayerNormalization()(x + h)
    return bn.LayerNormalization()(x + bn.Dense(width)(x))


def test_functional_model_trains_saves_and_resumes_exactly(tmp_path, rng):
    x, y = rng.normal(size=(32, 6, 8)).astype("float32"), rng.normal(size=(32, 6, 8)).astype("float32")

    def model():
        bn.utils.set_random_seed(3)  # layers called on Inputs are built at once, from the global seed
        inputs = bn.Input(shape=(6, 8))
        m = bn.Model(inputs, _transformer_block(inputs), seed=3)
        m.compile(bn.optimizers.Adam(0.01), "mse")
        return m

    history = assert_resumes_exactly(model, x, y, tmp_path)
    assert history[-1] < history[0]


class Encoder(bn.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.attention = bn.layers.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=2)
        self.out = bn.Dense(1)

    def call(self, inputs, training=False):
        return self.out(self.attention(query=inputs, value=inputs, training=training))


def test_subclassed_model_and_keyword_call(rng):
    x = rng.normal(size=(16, 5, 4)).astype("float32")
    model = Encoder(seed=0)
    model.compile("adam", "mse")
    model.fit(x, rng.normal(size=(16, 5, 1)), epochs=1, verbose=0)
    assert model.predict(x).shape == (16, 5, 1)
    assert model.attention.params["value_kernel"].shape == (4, 2, 2)
    assert model.attention.params["output_kernel"].shape == (2, 2, 4)


def test_config_round_trip():
    layer = bn.layers.MultiHeadAttention(4, 16, value_dim=8, dropout=0.1, output_shape=32, use_bias=False)
    clone = bn.layers.MultiHeadAttention.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()


@pytest.mark.parametrize("make, message", [
    (lambda: bn.layers.MultiHeadAttention(2), "key_dim"),
    (lambda: bn.layers.MultiHeadAttention(0, 4), "num_heads"),
    (lambda: bn.layers.MultiHeadAttention(2, 4, dropout=1.0), "dropout"),
    (lambda: bn.layers.MultiHeadAttention(2, 4, attention_axes=(0,)), "attention_axes.*batch"),
])
def test_bad_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_bad_inputs_and_masks(rng):
    layer = _layer(rng)
    q = rng.normal(size=(B, T, E))
    with pytest.raises(ValueError, match=r"query.*\(batch, steps, features\)"):
        _layer(rng)(q[:, 0], q[:, 0])
    with pytest.raises(ValueError, match=r"attention_mask.*\(2, 4, 4\).*\(2, 3, 4\)"):
        layer(q, q, attention_mask=np.ones((B, 3, T), bool))
    with pytest.raises(ValueError, match=r"value_mask.*\(2, 4\)"):
        layer(q, q, value_mask=np.ones((B, 5), bool))
    with pytest.raises(ValueError, match=r"query.*\(batch, steps, 8\).*\(2, 4, 3\)"):
        layer(q[..., :3], q)
    with pytest.raises(TypeError, match="value"):
        layer(q)
