"""Masks from Embedding(mask_zero=True) and Masking: propagation through the graph, masked RNN
steps (carried state, exact gradients), masked attention keys, masked mean pooling, saving."""

import numpy as np
import pytest
from gradcheck import assert_close, check_layer_gradients, numerical_grad
from resume import assert_resumes_exactly
from test_recurrent import RNNS, _built

import barenet as bn
from barenet.autodiff import Tensor, backward

LENGTHS = np.array([5, 2, 4])


def _padded(rng, features=2):
    x = rng.normal(size=(3, 5, features))
    mask = np.arange(5)[None] < LENGTHS[:, None]
    return np.where(mask[..., None], x, 0.0), mask


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU", "GRU_reset_before"])
def test_masked_steps_carry_state_and_output(kind, rng):
    layer = _built(RNNS[kind](return_sequences=True), (5, 2), rng=rng)
    x, mask = _padded(rng)
    out = layer(Tensor(x), mask=mask).value
    for i, length in enumerate(LENGTHS):
        alone = layer(Tensor(x[i:i + 1, :length])) if length == 5 else None
        short = _built(RNNS[kind](return_sequences=True), (length, 2))
        for key in layer.params:
            short.params[key][...] = layer.params[key]
        expected = short.forward(x[i:i + 1, :length])[0]
        np.testing.assert_allclose(out[i, :length], expected, rtol=1e-10)
        np.testing.assert_allclose(out[i, length:], np.broadcast_to(expected[-1], (5 - length, 3)), rtol=1e-10)
        if alone is not None:
            np.testing.assert_allclose(out[i], alone.value[0], rtol=1e-10)


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_masked_gradients_match_finite_differences(kind, return_sequences, rng):
    layer = _built(RNNS[kind](return_sequences=return_sequences, go_backwards=kind == "GRU"), (5, 2), rng=rng)
    x, mask = _padded(rng)
    x = x + rng.normal(size=x.shape) * ~mask[..., None]  # padding values must not matter
    projection = rng.normal(size=layer(Tensor(x), mask=mask).shape)
    tx = Tensor(x, requires_grad=True)
    backward([layer(tx, mask=mask)], [projection])
    grads = {key: value.copy() for key, value in layer.grads.items()}

    def loss():
        return float(np.sum(layer(Tensor(x), mask=mask).value * projection))

    assert_close(tx.grad, numerical_grad(loss, x), atol=1e-8)
    assert np.all(tx.grad[~mask] == 0)
    for key in layer.params:
        assert_close(grads[key], numerical_grad(loss, layer.params[key]), atol=1e-8)


def _embedded_model(head, seed=0):
    bn.utils.set_random_seed(seed)
    tokens = bn.Input(shape=(5,), dtype="int32")
    h = bn.Embedding(10, 4, mask_zero=True)(tokens)
    return bn.Model(tokens, head(h), seed=seed)


def test_embedding_mask_reaches_lstm_pooling_and_attention(rng):
    tokens = np.array([[3, 4, 0, 0, 0], [5, 1, 2, 6, 7], [0, 0, 0, 0, 0]])

    def head(h):
        h = bn.LSTM(6, return_sequences=True)(h)
        h = h + bn.layers.MultiHeadAttention(2, 3)(h, h)  # a residual connection keeps the mask
        return bn.Dense(1)(bn.GlobalAveragePooling1D()(bn.LSTM(6, return_sequences=True)(h)))

    model = _embedded_model(head)
    before = model.predict(tokens)
    embedding = model.layers[1]
    embedding.params["embeddings"][0] = 100  # the padding row: no output may depend on it
    np.testing.assert_allclose(model.predict(tokens), before, rtol=1e-6)
    lstm_nodes = [node for node in model._nodes if node.is_layer and isinstance(node.operation, bn.LSTM)]
    assert len(lstm_nodes) == 2 and all("mask" in node.kwargs for node in lstm_nodes)
    attention = next(node for node in model._nodes if isinstance(node.operation, bn.layers.MultiHeadAttention))
    assert {"query_mask", "value_mask", "key_mask"} <= set(attention.kwargs)


def test_masked_mean_and_masked_keys_ignore_padding(rng):
    x, mask = _padded(rng, 4)
    pooled = bn.GlobalAveragePooling1D()(x, mask=mask).value
    np.testing.assert_allclose(pooled[1], x[1, :2].mean(axis=0))
    attention = bn.layers.MultiHeadAttention(2, 2)
    out = attention(x, x, value_mask=mask).value
    alone = attention(x[1:2, :2], x[1:2, :2]).value
    np.testing.assert_allclose(out[1, :2], alone[0], rtol=1e-6)


def test_masking_layer_in_sequential_and_saving(tmp_path, rng):
    x, _ = _padded(rng)
    y = rng.normal(size=(3, 1))
    model = bn.Sequential([bn.Input(shape=(5, 2)), bn.Masking(0.0), bn.GRU(4), bn.Dense(1)], seed=1)
    model.compile("adam", "mse")
    model.fit(x, y, epochs=2, verbose=0)
    noisy = x.copy()
    noisy[0, 2:] = 0  # sample 0 has 5 real steps: zeroing 3 shortens it, so its prediction changes
    assert not np.allclose(model.predict(noisy)[0], model.predict(x)[0])
    short = x[1:2].copy()
    np.testing.assert_allclose(model.predict(short), model.predict(x)[1:2], rtol=1e-6)
    model.save(tmp_path / "m.barenet")
    np.testing.assert_array_equal(bn.load_model(tmp_path / "m.barenet").predict(x), model.predict(x))


def test_functional_masked_model_trains_and_resumes_exactly(tmp_path, rng):
    tokens = rng.integers(1, 10, size=(16, 5))
    tokens[rng.random((16, 5)) < 0.3] = 0
    y = rng.normal(size=(16, 1))

    def model():
        m = _embedded_model(lambda h: bn.Dense(1)(bn.Bidirectional(bn.LSTM(3, return_sequences=True))(h)[:, -1]))
        m.compile(bn.optimizers.Adam(0.01), "mse")
        return m

    assert_resumes_exactly(model, tokens, y, tmp_path, compare_predictions=False)


def test_masks_of_the_wrong_shape_are_refused(rng):
    x, mask = _padded(rng)
    with pytest.raises(ValueError, match=r"`mask` must have shape \(batch, timesteps\) = \(3, 5\). Received: shape \(3, 4\)"):
        _built(bn.LSTM(3), (5, 2))(x, mask=mask[:, :4])
    with pytest.raises(ValueError, match=r"GlobalAveragePooling1D.*\(3, 5\)"):
        bn.GlobalAveragePooling1D()(x, mask=mask[:2])
    with pytest.raises(TypeError, match="mask_value"):
        bn.Masking("zero")


def test_bidirectional_passes_the_mask_to_both_directions(rng):
    layer = _built(bn.Bidirectional(bn.GRU(3)), (5, 2), rng=rng)
    x, mask = _padded(rng)
    out = layer(Tensor(x), mask=mask).value
    single = _built(bn.Bidirectional(bn.GRU(3)), (2, 2))
    for key in layer.params:
        single.params[key][...] = layer.params[key]
    np.testing.assert_allclose(out[1], single.forward(x[1:2, :2])[0], rtol=1e-10)
    masked = bn.Bidirectional(bn.GRU(3))
    _built(masked, (5, 2), rng=rng)
    original = masked.forward
    masked.forward = lambda values, training=False: original([values, mask], training)
    backward_original = masked.backward
    masked.backward = lambda grad: backward_original(grad)[0]
    check_layer_gradients(masked, x, rng)


class _Tagger(bn.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.embedding = bn.Embedding(10, 4, mask_zero=True)
        self.lstm = bn.LSTM(3, return_sequences=True)
        self.dense = bn.Dense(3)
        self.pool = bn.GlobalAveragePooling1D()

    def call(self, inputs, training=False):
        return self.pool(self.dense(self.lstm(self.embedding(inputs))))


def test_subclassed_models_get_masks_from_real_tensors(rng):
    model = _Tagger(seed=0)
    tokens = np.array([[3, 4, 0, 0, 0], [5, 1, 2, 6, 7]])
    model.compile("adam", "mse")
    model.fit(tokens, rng.normal(size=(2, 3)), epochs=1, verbose=0)
    before = model.predict(tokens)
    model.embedding.params["embeddings"][0] = 50  # the padding row: nothing may depend on it
    np.testing.assert_allclose(model.predict(tokens), before, rtol=1e-6)
    out = model.embedding(tokens)
    np.testing.assert_array_equal(out._keras_mask.value, tokens != 0)
    np.testing.assert_array_equal(model.dense(model.lstm(out))._keras_mask.value, tokens != 0)


def test_an_output_mask_weighs_the_loss_and_metrics_as_keras(rng):
    """Padded steps (token 0 with mask_zero) leave the loss, its gradients and the metrics alone:
    the loss is the mean over the real steps (Keras 3 scales the mask by all/valid)."""
    x = rng.integers(1, 10, size=(6, 5))
    x[0, 3:], x[1, 2:], x[4, 4:] = 0, 0, 0
    real = x != 0
    y = rng.integers(0, 4, size=(6, 5))
    model = bn.Sequential([bn.Input((5,)), bn.Embedding(10, 3, mask_zero=True),
                           bn.LSTM(5, return_sequences=True), bn.Dense(4, activation="softmax")], seed=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    probabilities = model.predict(x, verbose=0)
    cross_entropy = -np.log(np.take_along_axis(probabilities, y[..., None], -1)[..., 0])
    loss, accuracy = model.evaluate(x, y, verbose=0)
    assert loss == pytest.approx(cross_entropy[real].mean(), rel=1e-5)
    assert abs(cross_entropy[real].mean() - cross_entropy.mean()) > 1e-6   # the mask matters here
    assert accuracy == pytest.approx((probabilities.argmax(-1) == y)[real].mean())
    changed = y.copy()
    changed[~real] = (changed[~real] + 1) % 4   # other targets at the padded steps only
    grads, same = model.compute_gradients(x, y), model.compute_gradients(x, changed)
    for key in grads:
        np.testing.assert_array_equal(grads[key], same[key])
    assert model.evaluate(x, changed, verbose=0) == pytest.approx([loss, accuracy])
