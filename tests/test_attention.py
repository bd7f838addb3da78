"""Attention (Luong dot / concat): formulas, finite differences, masks, models and bad input."""

import numpy as np
import pytest
from gradcheck import assert_close, numerical_grad

import barenet as bn
from barenet.autodiff import Tensor, backward


def _softmax(s):
    e = np.exp(s - s.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_dot_scores_with_masks_match_the_formula(rng):
    q, v, k = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5, 4)), rng.normal(size=(2, 5, 4))
    value_mask = np.arange(5)[None] < np.array([[5], [2]])
    query_mask = np.array([[1, 1, 0], [1, 1, 1]], bool)
    out, weights = bn.layers.Attention()([q, v, k], mask=[query_mask, value_mask], return_attention_scores=True,
                                         use_causal_mask=True)
    allowed = value_mask[:, None, :] & (np.arange(3)[:, None] >= np.arange(5))[None]
    expected_w = _softmax(np.where(allowed, q @ k.transpose(0, 2, 1), -np.inf))
    np.testing.assert_allclose(weights.value, expected_w, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(out.value, (expected_w @ v) * query_mask[..., None], rtol=1e-6)


@pytest.mark.parametrize("mode", ["dot", "concat"])
def test_finite_differences(mode, rng):
    q, v = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5, 4))
    layer = bn.layers.Attention(use_scale=True, score_mode=mode)
    layer([q, v])
    for value in layer.params.values():
        value[...] = 0.7
    projection = rng.normal(size=(2, 3, 4))
    tq, tv = Tensor(q, requires_grad=True), Tensor(v, requires_grad=True)
    backward([layer([tq, tv], use_causal_mask=True)], [projection])

    def loss():
        return float(np.sum(layer([q, v], use_causal_mask=True).value * projection))

    assert_close(tq.grad, numerical_grad(loss, q))
    assert_close(tv.grad, numerical_grad(loss, v))
    for name, variable in layer._variables.items():
        assert_close(variable.grad, numerical_grad(loss, layer.params[name]))


def test_in_a_functional_model_with_saving(tmp_path, rng):
    bn.utils.set_random_seed(0)
    a, b = bn.Input(shape=(3, 4)), bn.Input(shape=(5, 4))
    h = bn.layers.Attention(use_scale=True, dropout=0.1)([a, b])
    model = bn.Model([a, b], bn.Dense(2)(h))
    model.compile("adam", "mse")
    x = [rng.normal(size=(8, 3, 4)), rng.normal(size=(8, 5, 4))]
    model.fit(x, rng.normal(size=(8, 3, 2)), epochs=1, verbose=0)
    model.save(tmp_path / "a.barenet")
    np.testing.assert_array_equal(bn.load_model(tmp_path / "a.barenet").predict(x), model.predict(x))


def test_bad_input(rng):
    with pytest.raises(ValueError, match="score_mode"):
        bn.layers.Attention(score_mode="add")
    q = rng.normal(size=(2, 3, 4))
    with pytest.raises(ValueError, match=r"list \[query, value\]"):
        bn.layers.Attention()(q)
    with pytest.raises(ValueError, match=r"value_mask.*\(2, 3\)"):
        bn.layers.Attention()([q, q], mask=[None, np.ones((2, 4), bool)])
