"""MultiHeadAttention(attention_axes=...): finite differences (float64), parity with the rank-3 path
and with torch's scaled_dot_product_attention, masks, the scores' layout, bad axes, config and saving."""

import numpy as np
import pytest
from gradcheck import assert_close, numerical_grad
from test_multi_head_attention import _run as _run_attention

import barenet as bn

B, D1, D2, E, HEADS, KEY_DIM = 2, 3, 4, 6, 2, 3


def _mha(**kwargs):
    return bn.layers.MultiHeadAttention(HEADS, KEY_DIM, name="mha", **kwargs)


def _run(layer, q, v, projection=None, **kwargs):
    """Output value, and (with `projection`) the input and weight gradients of sum(out * projection)."""
    return _run_attention(layer, q, v, None, projection, **kwargs)


def _randomize(layer, rng):
    for value in layer.params.values():
        value[...] = rng.normal(size=value.shape) * 0.5


def _mask(rng, shape):
    mask = rng.random(shape) > 0.3
    mask[..., 0] = True  # every query keeps a key
    return mask


@pytest.mark.parametrize("axes, mask_shape", [
    ((1, 2), None), ((1, 2), (B, D1, D2, D1, D2)), ((2,), None), ((2,), (B, D1, D2, D2)), ((-2,), (D2, D2)),
])
def test_finite_differences(axes, mask_shape, rng):
    q, v = rng.normal(size=(B, D1, D2, E)), rng.normal(size=(B, D1, D2, 5))
    call = {} if mask_shape is None else {"attention_mask": _mask(rng, mask_shape)}
    layer = _mha(attention_axes=axes, value_dim=2, output_shape=4)
    projection = rng.normal(size=_run(layer, q, v, **call).shape)
    assert projection.shape == (B, D1, D2, 4)
    _randomize(layer, rng)
    _, inputs, grads = _run(layer, q, v, projection, **call)

    def loss():
        return float(np.sum(_run(layer, q, v, **call) * projection))

    for name, value in layer.params.items():
        assert_close(grads[name], numerical_grad(loss, value), rtol=1e-5, atol=1e-8)
    for array, grad in zip((q, v), inputs):
        assert_close(grad, numerical_grad(loss, array), rtol=1e-5, atol=1e-8)


def _same_weights(layer, other):
    for name, value in layer.params.items():
        other.params[name][...] = value


@pytest.mark.parametrize("axes", [(1, 2), (2,), (1,)])
def test_equals_the_rank3_attention_on_moved_axes(axes, rng):
    """The layer equals the plain (batch, steps, features) attention after moving the non-attention axes
    into the batch and flattening the attention axes: outputs, scores, masks and every gradient."""
    q, v = rng.normal(size=(B, D1, D2, E)), rng.normal(size=(B, D1, D2, E))
    query_mask = rng.random((B, D1, D2)) > 0.2
    value_mask = rng.random((B, D1, D2)) > 0.2
    value_mask[..., 0] = value_mask[:, 0, :] = True  # under the causal mask every query keeps a key
    layer, flat = _mha(attention_axes=axes), _mha()
    call = {"query_mask": query_mask, "value_mask": value_mask, "use_causal_mask": True}
    layer(q, v, **call)
    _randomize(layer, rng)
    flat(q.reshape(B, -1, E), v.reshape(B, -1, E))
    _same_weights(layer, flat)
    perm = {(1, 2): (0, 1, 2, 3), (2,): (0, 1, 2, 3), (1,): (0, 2, 1, 3)}[axes]
    lead, steps = (B, D1 * D2) if axes == (1, 2) else (B * (D2 if axes == (1,) else D1), D1 if axes == (1,) else D2)

    def move(a):
        return np.transpose(a, perm[:a.ndim]).reshape(lead, steps, *a.shape[3:])

    projection = rng.normal(size=(B, D1, D2, E))
    out, (gq, gv), grads = _run(layer, q, v, projection, **call)
    flat_call = {"query_mask": move(query_mask), "value_mask": move(value_mask), "use_causal_mask": True}
    expected, (eq, ev), expected_grads = _run(flat, move(q), move(v), move(projection), **flat_call)
    np.testing.assert_allclose(move(out), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(move(gq), eq, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(move(gv), ev, rtol=1e-12, atol=1e-12)
    for name in grads:
        np.testing.assert_allclose(grads[name], expected_grads[name], rtol=1e-10, atol=1e-12)

    _, scores = layer(q, v, return_attention_scores=True, **call)
    _, flat_scores = flat(move(q), move(v), return_attention_scores=True, **flat_call)
    if axes == (1, 2):  # Keras's layout: (batch, heads, d1, d2, d1', d2')
        assert scores.shape == (B, HEADS, D1, D2, D1, D2)
        np.testing.assert_allclose(scores.value.reshape(flat_scores.shape), flat_scores.value, atol=1e-12)
    else:  # (batch, other axis, heads, steps, steps)
        other = D2 if axes == (1,) else D1
        assert scores.shape == (B, other, HEADS, steps, steps)
        np.testing.assert_allclose(scores.value.reshape(flat_scores.shape), flat_scores.value, atol=1e-12)
        np.testing.assert_allclose(scores.value.sum(axis=-1), 1, rtol=1e-12)


def test_matches_torch_scaled_dot_product_attention(rng):
    """Attention over (d1, d2) of a (batch, d1, d2, features) input, with a mask, against torch's
    scaled_dot_product_attention on the projected heads (forward and every gradient)."""
    torch = pytest.importorskip("torch")
    q, v = rng.normal(size=(B, D1, D2, E)), rng.normal(size=(B, D1, D2, E))
    mask = _mask(rng, (B, D1, D2, D1, D2))
    layer = _mha(attention_axes=(1, 2))
    layer(q, v)
    _randomize(layer, rng)
    projection = rng.normal(size=(B, D1, D2, E))
    out, (gq, gv), grads = _run(layer, q, v, projection, attention_mask=mask)

    weights = {name: torch.tensor(value, requires_grad=True) for name, value in layer.params.items()}
    tq, tv = torch.tensor(q, requires_grad=True), torch.tensor(v, requires_grad=True)

    def heads(x, part):  # (B, D1, D2, E) -> (B, heads, D1 * D2, size)
        z = torch.einsum("bije,ehk->bijhk", x, weights[f"{part}_kernel"]) + weights[f"{part}_bias"]
        return z.reshape(B, D1 * D2, HEADS, -1).transpose(1, 2)

    attended = torch.nn.functional.scaled_dot_product_attention(
        heads(tq, "query"), heads(tv, "key"), heads(tv, "value"),
        attn_mask=torch.tensor(mask.reshape(B, 1, D1 * D2, D1 * D2)))
    merged = attended.transpose(1, 2).reshape(B, D1, D2, HEADS, -1)
    expected = torch.einsum("bijhk,hko->bijo", merged, weights["output_kernel"]) + weights["output_bias"]
    (expected * torch.tensor(projection)).sum().backward()
    np.testing.assert_allclose(out, expected.detach().numpy(), rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(gq, tq.grad.numpy(), rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(gv, tv.grad.numpy(), rtol=1e-6, atol=1e-10)
    for name, tensor in weights.items():
        np.testing.assert_allclose(grads[name], tensor.grad.numpy(), rtol=1e-6, atol=1e-10)


def test_default_and_negative_axes(rng):
    q = rng.normal(size=(B, D1, D2, E))
    layers = {axes: _mha(attention_axes=axes) for axes in (None, (1, 2), (-3, -2), 2, -2, (2,))}
    reference = layers[(1, 2)]
    reference(q, q)
    for layer in layers.values():
        layer(q, q)
        _same_weights(reference, layer)
    expected = reference(q, q).value
    for axes in (None, (-3, -2)):  # Keras's default: every axis but batch and features
        np.testing.assert_array_equal(layers[axes](q, q).value, expected)
    along = layers[(2,)](q, q).value
    assert not np.allclose(along, expected)
    for axes in (2, -2):
        np.testing.assert_array_equal(layers[axes](q, q).value, along)


def test_rank5_with_separate_query_and_key_positions(rng):
    """Query and value may differ in length along the attention axes, not along the others."""
    q, v = rng.normal(size=(B, 2, 3, 2, E)), rng.normal(size=(B, 2, 3, 5, E))
    layer = _mha(attention_axes=(1, 3))
    out, scores = layer(q, q, return_attention_scores=True)
    assert out.shape == q.shape and scores.shape == (B, 3, HEADS, 2, 2, 2, 2)
    out, scores = layer(q, v, return_attention_scores=True)
    assert out.shape == q.shape and scores.shape == (B, 3, HEADS, 2, 2, 2, 5)
    with pytest.raises(ValueError, match=r"non-attention axes \(2,\).*query \(2, 2, 3, 2, 6\), value \(2, 2, 4, 5"):
        layer(q, rng.normal(size=(B, 2, 4, 5, E)))
    layer2 = _mha(attention_axes=(3,))
    out, scores = layer2(q, v, return_attention_scores=True)
    assert out.shape == q.shape and scores.shape == (B, 2, 3, HEADS, 2, 5)


@pytest.mark.parametrize("axes, message", [
    ((3,), r"axis 3 is the last \(features\) axis"),
    ((-1,), r"axis -1 is the last \(features\) axis"),
    ((5,), "axis 5 is out of range"),
    ((-4,), "axis -4 is the batch axis"),
    ((1, -3), "names one axis twice"),
])
def test_bad_axes_for_the_inputs_rank(axes, message, rng):
    q = rng.normal(size=(B, D1, D2, E))
    with pytest.raises(ValueError, match=r"`attention_axes` .*" + message + r".*Received: attention_axes="):
        _mha(attention_axes=axes)(q, q)


@pytest.mark.parametrize("axes, message", [
    ((1, 1), "repeat"), (0, "batch axis"), ((), "non-empty"), ("1", "int"), (True, "int"), ((1.5,), "int"),
])
def test_bad_axes_arguments(axes, message):
    with pytest.raises(ValueError, match=f"attention_axes.*{message}.*Received: attention_axes="):
        _mha(attention_axes=axes)


def test_bad_masks_and_ranks(rng):
    q = rng.normal(size=(B, D1, D2, E))
    layer = _mha(attention_axes=(1, 2))
    with pytest.raises(ValueError, match=r"attention_mask.*\(2, 3, 4, 3, 4\).*Received: shape \(2, 3, 4, 4\)"):
        layer(q, q, attention_mask=np.ones((B, D1, D2, D2), bool))
    with pytest.raises(ValueError, match=r"value_mask.*\(2, 3, 4\).*Received: shape \(2, 12\)"):
        layer(q, q, value_mask=np.ones((B, D1 * D2), bool))
    with pytest.raises(ValueError, match=r"value.*rank >= 3.*\(None, 12, 6\)"):
        _mha(attention_axes=(1, 2))(q, q.reshape(B, -1, E))
    with pytest.raises(ValueError, match=r"built for `value` of shape \(batch, \.\.\., \.\.\., 6\).*\(2, 12, 6\)"):
        layer(q, q.reshape(B, -1, E))


def test_config_round_trip_and_saving(tmp_path, rng):
    layer = _mha(attention_axes=(1, -2), dropout=0.1)
    config = layer.get_config()
    assert config["attention_axes"] == [1, -2]
    assert bn.layers.MultiHeadAttention.from_config(config).get_config() == config

    bn.utils.set_random_seed(0)
    inputs = bn.Input(shape=(D1, D2, E))
    x = bn.layers.MultiHeadAttention(2, 3, attention_axes=(1, 2))(inputs, inputs)
    x = bn.layers.MultiHeadAttention(2, 3, attention_axes=-2)(x, x)
    model = bn.Model(inputs, bn.Dense(1)(bn.layers.Flatten()(x)), seed=0)
    model.compile(bn.optimizers.Adam(0.01), "mse")
    data, target = rng.normal(size=(16, D1, D2, E)).astype("float32"), rng.normal(size=(16, 1)).astype("float32")
    history = model.fit(data, target, epochs=4, batch_size=8, verbose=0).history["loss"]
    assert history[-1] < history[0]
    model.save(tmp_path / "axes.barenet")
    loaded = bn.load_model(tmp_path / "axes.barenet")
    np.testing.assert_array_equal(loaded.predict(data, verbose=0), model.predict(data, verbose=0))
    assert [layer.get_config().get("attention_axes") for layer in loaded.layers if "attention" in layer.name] \
        == [[1, 2], [-2]]
