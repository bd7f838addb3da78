"""Embedding: lookups, the scatter-add gradient (finite differences and PyTorch), index
checks, configs, and training inside `Sequential` (which passes indices as floats)."""

import numpy as np
import pytest

import barenet as bn
from gradcheck import assert_close, numerical_grad


def _built(layer, input_shape, dtype="float64"):
    layer.name = layer.name or "embedding"
    layer.build(input_shape, np.random.default_rng(0), dtype)
    return layer


@pytest.mark.parametrize("input_shape", [(5,), (2, 3)])
def test_forward_looks_up_rows(input_shape, rng):
    layer = _built(bn.Embedding(7, 4), input_shape)
    x = rng.integers(0, 7, size=(3, *input_shape))
    out = layer.forward(x)
    assert out.shape == (3, *input_shape, 4) == (3, *layer.output_shape)
    np.testing.assert_array_equal(out, layer.params["embeddings"][x])
    assert layer.backward(np.ones_like(out)) is None


def test_initial_table_is_keras_uniform():
    table = _built(bn.Embedding(500, 8), (3,), "float32").params["embeddings"]
    assert table.shape == (500, 8) and table.dtype == np.float32
    assert -0.05 <= table.min() < -0.049 and 0.049 < table.max() <= 0.05


@pytest.mark.parametrize("input_shape", [(6,), (2, 3)])
def test_gradient_matches_finite_differences_with_repeated_indices(input_shape, rng):
    layer = _built(bn.Embedding(5, 3, embeddings_regularizer="l2"), input_shape)
    x = rng.integers(0, 4, size=(4, *input_shape))  # index 4 unused: its gradient must be 0
    projection = rng.normal(size=(4, *input_shape, 3))

    def loss():
        return float(np.sum(layer.forward(x) * projection)) + layer.regularization_loss()

    layer.forward(x)
    layer.backward(projection)
    analytic = layer.grads["embeddings"].copy()
    assert_close(analytic, numerical_grad(loss, layer.params["embeddings"]))
    expected = np.zeros((5, 3))
    np.add.at(expected, x.reshape(-1), projection.reshape(-1, 3))
    np.testing.assert_allclose(analytic - layer.regularizers["embeddings"].gradient(layer.params["embeddings"]),
                               expected, rtol=1e-12)


def test_gradient_is_rewritten_each_step_not_accumulated(rng):
    layer = _built(bn.Embedding(4, 2), (3,))
    x = np.array([[0, 1, 1]])
    layer.forward(x)
    layer.backward(np.ones((1, 3, 2)))
    grads = layer.grads["embeddings"]
    layer.forward(np.array([[3, 3, 3]]))
    layer.backward(np.ones((1, 3, 2)))
    assert layer.grads["embeddings"] is grads  # same array, filled in place
    np.testing.assert_array_equal(grads, [[0, 0], [0, 0], [0, 0], [3, 3]])


def test_forward_and_gradient_match_torch(rng):
    torch = pytest.importorskip("torch")
    layer = _built(bn.Embedding(9, 4), (2, 5))
    x = rng.integers(0, 9, size=(3, 2, 5))
    out = layer.forward(x)
    upstream = rng.normal(size=out.shape)
    layer.backward(upstream)
    weight = torch.tensor(layer.params["embeddings"], requires_grad=True)
    tout = torch.nn.functional.embedding(torch.tensor(x), weight)
    tout.backward(torch.tensor(upstream))
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(layer.grads["embeddings"], weight.grad.numpy(), rtol=1e-6, atol=1e-10)


def test_whole_floats_are_accepted_as_indices(rng):
    layer = _built(bn.Embedding(6, 2), (4,))
    x = rng.integers(0, 6, size=(2, 4))
    np.testing.assert_array_equal(layer.forward(x.astype(np.float32)), layer.forward(x))


@pytest.mark.parametrize("x, message", [
    (np.array([[1, 2, 7]]), r"'words' \(Embedding\) received index 7 at position \(0, 2\); indices must lie "
                            r"in \[0, 7\) \(input_dim=7\)"),
    (np.array([[1, -1, 2]]), r"received index -1 at position \(0, 1\); indices must lie in \[0, 7\)"),
    (np.array([[1.0, 2.5, 3.0]]), r"'words' \(Embedding\) expects integer indices. Received: 2.5 at position \(0, 1\)"),
    (np.array([[1.0, np.nan, 3.0]]), r"expects integer indices. Received: nan at position \(0, 1\)"),
    (np.array([["a", "b", "c"]]), r"expects integer indices. Received: an array of dtype <U1"),
])
def test_bad_indices_name_the_layer_the_index_and_the_range(x, message):
    layer = bn.Embedding(7, 2, name="words")
    layer.build((3,), np.random.default_rng(0))
    with pytest.raises(ValueError, match=message):
        layer.forward(x)


def test_bad_arguments_and_config_round_trip():
    with pytest.raises(ValueError, match="`input_dim` must be a positive integer"):
        bn.Embedding(0, 3)
    with pytest.raises(ValueError, match="`output_dim` must be a positive integer"):
        bn.Embedding(3, 2.5)
    layer = bn.Embedding(10, 3, mask_zero=True, embeddings_initializer="glorot_uniform", name="e")
    config = layer.get_config()
    assert config["mask_zero"] is True and config["embeddings_initializer"] == "glorot_uniform"
    assert bn.Embedding.from_config(config).get_config() == config


def test_embedding_model_learns_inside_sequential():
    """Sequential casts inputs to float; Embedding takes the whole-number floats as indices."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 6, size=(256, 5))
    y = (x == 3).sum(axis=1, keepdims=True).astype(np.float32)  # count of token 3: needs the table
    model = bn.Sequential([bn.Embedding(6, 4, input_shape=(5,)), bn.Flatten(), bn.Dense(8, "relu"), bn.Dense(1)],
                          seed=0)
    model.compile(bn.optimizers.Adam(0.02), "mse")
    history = model.fit(x, y, epochs=15, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 0.1 * history.history["loss"][0], history.history["loss"]
    assert model.layers[0].params["embeddings"].dtype == np.float32
