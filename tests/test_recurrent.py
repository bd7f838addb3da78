"""SimpleRNN / LSTM / GRU / RepeatVector: gradients against finite differences, parity with
PyTorch's `nn.RNN` / `nn.LSTM` / `nn.GRU` (float64, 1e-6 relative), shapes, configs, errors,
and an LSTM learning a toy task inside `Sequential`."""

import numpy as np
import pytest

import barenet as bn
from barenet import initializers
from gradcheck import check_layer_gradients

RNNS = {
    "SimpleRNN": lambda **kwargs: bn.SimpleRNN(3, **kwargs),
    "LSTM": lambda **kwargs: bn.LSTM(3, **kwargs),
    "GRU": lambda **kwargs: bn.GRU(3, **kwargs),
    "GRU_reset_before": lambda **kwargs: bn.GRU(3, reset_after=False, **kwargs),
}


def _built(layer, input_shape, dtype="float64", rng=None):
    layer.name = layer.name or "rnn"
    layer.build(input_shape, np.random.default_rng(0), dtype)
    if rng is not None:  # random weights everywhere, biases included, so that every path matters
        for value in layer.params.values():
            value[...] = rng.normal(scale=0.5, size=value.shape)
    return layer


# --- finite differences ----------------------------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(RNNS))
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_gradients_match_finite_differences(kind, return_sequences, go_backwards, rng):
    layer = _built(RNNS[kind](return_sequences=return_sequences, go_backwards=go_backwards), (4, 2), rng=rng)
    check_layer_gradients(layer, rng.normal(size=(3, 4, 2)), rng)


@pytest.mark.parametrize("kind", sorted(RNNS))
def test_gradients_without_bias_other_activations_and_regularizers(kind, rng):
    kwargs = dict(use_bias=False, activation="relu", kernel_regularizer="l2", recurrent_regularizer="l1_l2")
    if kind != "SimpleRNN":
        kwargs["recurrent_activation"] = "tanh"
    layer = _built(RNNS[kind](**kwargs), (3, 2), rng=rng)
    assert "bias" not in layer.params
    check_layer_gradients(layer, rng.normal(size=(2, 3, 2)), rng)


def test_repeat_vector_shapes_and_gradient(rng):
    layer = _built(bn.RepeatVector(3), (4,))
    x = rng.normal(size=(2, 4))
    out = layer.forward(x)
    assert out.shape == (2, 3, 4) == (2, *layer.output_shape)
    np.testing.assert_array_equal(out[:, 2], x)
    check_layer_gradients(layer, x, rng)


# --- parity with PyTorch ----------------------------------------------------------------------------
def _close(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-10)


def _torch_module(torch, kind, layer, features):
    """The torch module holding `layer`'s weights; torch's layouts are `(gates * units, inputs)`."""
    u = layer.units
    order = {"GRU": [1, 0, 2]}.get(kind, list(range(layer.gates)))  # torch's GRU gates are r, z, n

    def torch_layout(matrix):  # keras (inputs, gates * units) -> torch (gates * units, inputs)
        return np.concatenate([matrix[..., g * u:(g + 1) * u] for g in order], axis=-1).T.copy()

    module = {"SimpleRNN": torch.nn.RNN, "LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU}[kind](
        features, u, batch_first=True).double()
    bias = layer.params["bias"]
    input_bias, recurrent_bias = (bias[0], bias[1]) if kind == "GRU" else (bias, np.zeros_like(bias))
    with torch.no_grad():
        module.weight_ih_l0[...] = torch.tensor(torch_layout(layer.params["kernel"]))
        module.weight_hh_l0[...] = torch.tensor(torch_layout(layer.params["recurrent_kernel"]))
        module.bias_ih_l0[...] = torch.tensor(torch_layout(input_bias))
        module.bias_hh_l0[...] = torch.tensor(torch_layout(recurrent_bias))
    return module, torch_layout


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_forward_and_every_gradient_match_torch(kind, return_sequences, go_backwards, rng):
    torch = pytest.importorskip("torch")
    steps, features = 5, 3
    layer = _built(RNNS[kind](return_sequences=return_sequences, go_backwards=go_backwards), (steps, features),
                   rng=rng)
    x = rng.normal(size=(4, steps, features))
    out = layer.forward(x)
    upstream = rng.normal(size=out.shape)
    grad_x = layer.backward(upstream)

    module, torch_layout = _torch_module(torch, kind, layer, features)
    tx = torch.tensor(x, requires_grad=True)
    sequence, _ = module(tx.flip(1) if go_backwards else tx)  # Keras's go_backwards: outputs in reversed order
    tout = sequence if return_sequences else sequence[:, -1]
    tout.backward(torch.tensor(upstream))
    _close(out, tout.detach().numpy())
    _close(grad_x, tx.grad.numpy())
    _close(torch_layout(layer.grads["kernel"]), module.weight_ih_l0.grad.numpy())
    _close(torch_layout(layer.grads["recurrent_kernel"]), module.weight_hh_l0.grad.numpy())
    if kind == "GRU":
        _close(torch_layout(layer.grads["bias"][0]), module.bias_ih_l0.grad.numpy())
        _close(torch_layout(layer.grads["bias"][1]), module.bias_hh_l0.grad.numpy())
    else:  # torch's two biases receive the same gradient, barenet's one bias
        _close(torch_layout(layer.grads["bias"]), module.bias_ih_l0.grad.numpy())
        _close(torch_layout(layer.grads["bias"]), module.bias_hh_l0.grad.numpy())


def test_gru_reset_before_matches_keras_formula_in_torch_autograd(rng):
    """torch has no `reset_after=False` GRU: the Keras formula written with torch ops instead."""
    torch = pytest.importorskip("torch")
    layer = _built(bn.GRU(3, reset_after=False, return_sequences=True), (4, 2), rng=rng)
    x = rng.normal(size=(2, 4, 2))
    out = layer.forward(x)
    upstream = rng.normal(size=out.shape)
    grad_x = layer.backward(upstream)

    tx = torch.tensor(x, requires_grad=True)
    kernel, recurrent, bias = (torch.tensor(layer.params[k], requires_grad=True)
                               for k in ("kernel", "recurrent_kernel", "bias"))
    u, h, outputs = 3, torch.zeros(2, 3, dtype=torch.float64), []
    for t in range(4):
        x_part = tx[:, t] @ kernel + bias
        z = torch.sigmoid(x_part[:, :u] + h @ recurrent[:, :u])
        r = torch.sigmoid(x_part[:, u:2 * u] + h @ recurrent[:, u:2 * u])
        candidate = torch.tanh(x_part[:, 2 * u:] + (r * h) @ recurrent[:, 2 * u:])
        h = z * h + (1 - z) * candidate
        outputs.append(h)
    tout = torch.stack(outputs, 1)
    tout.backward(torch.tensor(upstream))
    _close(out, tout.detach().numpy())
    _close(grad_x, tx.grad.numpy())
    for key, tensor in zip(("kernel", "recurrent_kernel", "bias"), (kernel, recurrent, bias)):
        _close(layer.grads[key], tensor.grad.numpy())


# --- weights, shapes, configs -----------------------------------------------------------------------------
@pytest.mark.parametrize("kind, shapes", [
    ("SimpleRNN", {"kernel": (2, 3), "recurrent_kernel": (3, 3), "bias": (3,)}),
    ("LSTM", {"kernel": (2, 12), "recurrent_kernel": (3, 12), "bias": (12,)}),
    ("GRU", {"kernel": (2, 9), "recurrent_kernel": (3, 9), "bias": (2, 9)}),
    ("GRU_reset_before", {"kernel": (2, 9), "recurrent_kernel": (3, 9), "bias": (9,)}),
])
def test_weight_shapes_and_initial_values_follow_keras(kind, shapes):
    layer = _built(RNNS[kind](), (5, 2))
    assert {key: value.shape for key, value in layer.params.items()} == shapes
    recurrent = layer.params["recurrent_kernel"]
    np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(3), atol=1e-12)  # orthogonal rows
    expected_bias = np.zeros(shapes["bias"])
    if kind == "LSTM":
        expected_bias[3:6] = 1  # unit_forget_bias
    np.testing.assert_array_equal(layer.params["bias"], expected_bias)
    assert not _built(bn.LSTM(3, unit_forget_bias=False), (5, 2)).params["bias"].any()


def test_orthogonal_initializer_is_orthogonal_for_every_aspect():
    rng = np.random.default_rng(0)
    for shape in [(4, 4), (3, 7), (7, 3), (2, 3, 4)]:
        q = initializers.orthogonal(shape, rng, "float64")
        assert q.shape == shape and q.flags.c_contiguous
        q = q.reshape(-1, shape[-1])
        small = q.T @ q if q.shape[0] >= q.shape[1] else q @ q.T
        np.testing.assert_allclose(small, np.eye(min(q.shape)), atol=1e-12)
    values = initializers.get("uniform")((1000,), rng, "float32")
    assert values.dtype == np.float32 and -0.05 <= values.min() < -0.04 and 0.04 < values.max() <= 0.05


@pytest.mark.parametrize("kind", sorted(RNNS))
def test_output_shapes_and_config_round_trip(kind, rng):
    for return_sequences in (False, True):
        layer = _built(RNNS[kind](return_sequences=return_sequences, go_backwards=True), (6, 2))
        out = layer.forward(rng.normal(size=(4, 6, 2)))
        assert out.shape == ((4, 6, 3) if return_sequences else (4, 3)) == (4, *layer.output_shape)
        config = layer.get_config()
        assert type(layer).from_config(config).get_config() == config
    assert "recurrent_activation" not in bn.SimpleRNN(2).get_config()
    assert bn.GRU(2, reset_after=False).get_config()["reset_after"] is False


def test_last_output_equals_last_step_of_the_sequence(rng):
    x = rng.normal(size=(2, 5, 3))
    last, sequence = (_built(bn.LSTM(4, return_sequences=flag), (5, 3)) for flag in (False, True))
    np.testing.assert_array_equal(last.forward(x), sequence.forward(x)[:, -1])


def test_float32_stays_float32(rng):
    layer = _built(bn.GRU(3, return_sequences=True), (4, 2), dtype="float32")
    out = layer.forward(rng.normal(size=(2, 4, 2)).astype(np.float32))
    assert out.dtype == np.float32
    assert layer.backward(np.ones_like(out)).dtype == np.float32
    assert all(grad.dtype == np.float32 for grad in layer.grads.values())


def test_called_twice_keeps_each_call_cache_separate(rng):
    """forward rebinds its caches: the arrays of a first call stay intact after a second."""
    layer = _built(bn.LSTM(3), (4, 2), rng=rng)
    x1, x2 = rng.normal(size=(2, 4, 2)), rng.normal(size=(2, 4, 2))
    layer.forward(x1)
    first_h, first_c = layer._h, layer._c
    snapshot = first_h.copy(), first_c.copy()
    layer.forward(x2)
    np.testing.assert_array_equal(first_h, snapshot[0])
    np.testing.assert_array_equal(first_c, snapshot[1])


# --- bad input ------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(RNNS))
def test_two_dimensional_input_is_refused_with_the_layer_and_shape(kind):
    layer = RNNS[kind]()
    layer.name = "encoder"
    with pytest.raises(ValueError, match=r"'encoder'.*\(timesteps, features\).*input_shape=\(8,\).*no time axis"):
        layer.build((8,), np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"input_shape=\(4, 8, 2\)"):
        layer.build((4, 8, 2), np.random.default_rng(0))


def test_bad_arguments():
    with pytest.raises(ValueError, match="`units` must be a positive integer"):
        bn.LSTM(0)
    with pytest.raises(ValueError, match="Unknown activation"):
        bn.GRU(2, recurrent_activation="nope")
    with pytest.raises(ValueError, match="`n` must be a positive integer"):
        bn.RepeatVector(0)
    with pytest.raises(ValueError, match=r"RepeatVector.*\(features,\)"):
        _built(bn.RepeatVector(2), (3, 4))


# --- end to end ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [lambda: bn.LSTM(8), lambda: bn.GRU(8), lambda: bn.SimpleRNN(8)],
                         ids=["LSTM", "GRU", "SimpleRNN"])
def test_recurrent_model_learns_to_remember_the_first_value(make):
    """Target: the first value of the sequence, so the layer must carry it across 6 steps."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(256, 6, 1)).astype(np.float32)
    y = x[:, 0]
    model = bn.Sequential([make(), bn.Dense(1)], seed=0)
    model.compile(bn.optimizers.Adam(0.01), "mse")
    history = model.fit(x, y, epochs=15, batch_size=32, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.2 * losses[0], losses


def test_repeat_vector_feeds_a_sequence_model_that_trains():
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, size=(128, 3)).astype(np.float32)
    y = np.cumsum(x[:, [0, 1, 2, 0]], axis=1)  # (128, 4): one target per step
    model = bn.Sequential([bn.RepeatVector(4, input_shape=(3,)), bn.GRU(8, return_sequences=True),
                           bn.Reshape((32,)), bn.Dense(4)], seed=0)
    model.compile(bn.optimizers.Adam(0.01), "mse")
    history = model.fit(x, y, epochs=10, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 0.2 * history.history["loss"][0], history.history["loss"]


def test_sequence_model_saves_and_loads_identically(tmp_path):
    """Every new layer kind in one model, saved with its optimizer state and reloaded."""
    rng = np.random.default_rng(2)
    x = rng.integers(0, 8, size=(32, 6)).astype(np.float32)
    y = rng.normal(size=(32, 1)).astype(np.float32)
    model = bn.Sequential([
        bn.Embedding(8, 4, mask_zero=True, input_shape=(6,)), bn.Conv1D(4, 2, padding="causal", dilation_rate=2),
        bn.LayerNormalization(), bn.ZeroPadding1D(1), bn.Cropping1D((0, 1)), bn.UpSampling1D(2),
        bn.MaxPooling1D(2), bn.GRU(5, return_sequences=True, reset_after=False), bn.LSTM(5, go_backwards=True),
        bn.RepeatVector(3), bn.SimpleRNN(4), bn.Dense(1)], seed=0)
    model.compile(bn.optimizers.Adam(0.01), "mse")
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    model.save(tmp_path / "seq.barenet")
    loaded = bn.load_model(tmp_path / "seq.barenet")
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    loaded.fit(x, y, epochs=1, batch_size=8, verbose=0)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))  # exact resume
