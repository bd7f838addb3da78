"""Recurrent options shared by SimpleRNN/LSTM/GRU (`rnn_base`): initial_state, return_state,
dropout / recurrent_dropout, and Bidirectional: PyTorch parity, finite differences, models."""

import numpy as np
import pytest
from gradcheck import assert_close, check_layer_gradients, numerical_grad
from resume import assert_resumes_exactly
from test_recurrent import RNNS, _built, _close, _torch_module

import barenet as bn
from barenet.autodiff import Tensor, backward


def _states(layer, rng, n):
    return [rng.normal(size=(n, layer.units)) for _ in range(layer.state_count)]


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_initial_and_final_states_match_torch(kind, return_sequences, rng):
    torch = pytest.importorskip("torch")
    steps, features, n = 5, 3, 4
    layer = _built(RNNS[kind](return_sequences=return_sequences, return_state=True), (steps, features), rng=rng)
    x, states = rng.normal(size=(n, steps, features)), _states(layer, rng, n)
    tensors = [Tensor(a, requires_grad=True) for a in (x, *states)]
    outputs = layer(tensors[0], initial_state=tensors[1:])
    assert len(outputs) == 1 + layer.state_count
    upstream = [rng.normal(size=o.shape) for o in outputs]
    backward(outputs, upstream)

    module, torch_layout = _torch_module(torch, kind, layer, features)
    tx = torch.tensor(x, requires_grad=True)
    ts = [torch.tensor(s[None], requires_grad=True) for s in states]
    sequence, final = module(tx, tuple(ts) if kind == "LSTM" else ts[0])
    finals = list(final) if kind == "LSTM" else [final]
    touts = [sequence if return_sequences else sequence[:, -1], *(f[0] for f in finals)]
    torch.autograd.backward(touts, [torch.tensor(u) for u in upstream])
    for ours, theirs in zip(outputs, touts):
        _close(ours.value, theirs.detach().numpy())
    _close(tensors[0].grad, tx.grad.numpy())
    for ours, theirs in zip(tensors[1:], ts):
        _close(ours.grad, theirs.grad.numpy()[0])
    _close(torch_layout(layer.grads["recurrent_kernel"]), module.weight_hh_l0.grad.numpy())


@pytest.mark.parametrize("kind", sorted(RNNS))
def test_dropout_gradients_match_finite_differences(kind, rng):
    layer = _built(RNNS[kind](return_sequences=True, dropout=0.3, recurrent_dropout=0.4, go_backwards=True),
                   (4, 2), rng=rng)
    layer._rng = np.random.default_rng(5)
    x = rng.normal(size=(3, 4, 2))
    out = layer.forward(x, training=True)
    assert layer._input_mask is not None and layer._recurrent_mask is not None
    assert not np.allclose(out, layer.forward(x, training=False))

    original = layer.forward  # the same masks on every forward pass, so finite differences see one function

    def forward(x, training=False):
        layer._rng = np.random.default_rng(11)
        return original(x, training)

    layer.forward = forward
    check_layer_gradients(layer, x, rng, training=True)


def test_lstm_initial_state_gradient_by_finite_differences(rng):
    layer = _built(bn.LSTM(3, return_state=True, recurrent_dropout=0.0), (4, 2), rng=rng)
    x, (h, c) = rng.normal(size=(2, 4, 2)), _states(layer, rng, 2)
    projections = [rng.normal(size=(2, 3)) for _ in range(3)]
    th, tc = Tensor(h, requires_grad=True), Tensor(c, requires_grad=True)
    backward(layer(Tensor(x), initial_state=[th, tc]), projections)

    def loss():
        return float(sum(np.sum(o.value * p) for o, p in zip(layer(x, initial_state=[h, c]), projections)))

    assert_close(th.grad, numerical_grad(loss, h))
    assert_close(tc.grad, numerical_grad(loss, c))


def test_encoder_decoder_with_states_in_a_functional_model_saves_and_resumes(tmp_path, rng):
    def model():
        bn.utils.set_random_seed(2)
        source, target = bn.Input(shape=(6, 3)), bn.Input(shape=(4, 2))
        _, h, c = bn.LSTM(5, return_state=True, dropout=0.1, recurrent_dropout=0.1)(source)
        decoded = bn.LSTM(5, return_sequences=True)(target, initial_state=[h, c])
        m = bn.Model([source, target], bn.Dense(2)(decoded), seed=2)
        m.compile(bn.optimizers.Adam(0.01), "mse")
        return m

    x, y = [rng.normal(size=(16, 6, 3)), rng.normal(size=(16, 4, 2))], rng.normal(size=(16, 4, 2))
    losses = assert_resumes_exactly(model, x, y, tmp_path)
    assert losses[-1] < losses[0]


# --- Bidirectional ------------------------------------------------------------------------------------
def _torch_bidirectional_lstm(torch, layer):
    """`torch.nn.LSTM(2, 3, bidirectional=True)` (float64) holding the weights of `layer`, a
    `Bidirectional(LSTM(3))` on 2 features."""
    module = torch.nn.LSTM(2, 3, batch_first=True, bidirectional=True).double()
    for suffix, inner in (("", layer.forward_layer), ("_reverse", layer.backward_layer)):
        single, _ = _torch_module(torch, "LSTM", inner, 2)
        with torch.no_grad():
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(module, f"{name}_l0{suffix}")[...] = getattr(single, f"{name}_l0")
    return module


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave"])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_gradients(merge_mode, return_sequences, rng):
    layer = _built(bn.Bidirectional(bn.GRU(3, return_sequences=return_sequences), merge_mode=merge_mode), (4, 2),
                   rng=rng)
    check_layer_gradients(layer, rng.normal(size=(2, 4, 2)), rng)


def test_bidirectional_concat_matches_torch(rng):
    torch = pytest.importorskip("torch")
    layer = _built(bn.Bidirectional(bn.LSTM(3, return_sequences=True)), (5, 2), rng=rng)
    x = rng.normal(size=(2, 5, 2))
    out = layer.forward(x)
    module = _torch_bidirectional_lstm(torch, layer)
    expected, _ = module(torch.tensor(x))
    _close(out, expected.detach().numpy())


def test_bidirectional_in_sequential_trains_and_saves(tmp_path, rng):
    x = rng.normal(size=(32, 6, 2)).astype("float32")
    y = x[:, ::-1, :1].sum(axis=1)
    model = bn.Sequential([bn.Input(shape=(6, 2)), bn.Bidirectional(bn.SimpleRNN(4), merge_mode="sum"),
                           bn.Dense(1)], seed=0)
    model.compile(bn.optimizers.Adam(0.02), "mse")
    losses = model.fit(x, y, epochs=5, batch_size=8, verbose=0).history["loss"]
    assert losses[-1] < losses[0]
    model.save(tmp_path / "b.barenet")
    np.testing.assert_array_equal(bn.load_model(tmp_path / "b.barenet").predict(x), model.predict(x))


def test_bad_input():
    with pytest.raises(TypeError, match=r"recurrent layer.*Dense"):
        bn.Bidirectional(bn.Dense(3))
    with pytest.raises(ValueError, match="merge_mode"):
        bn.Bidirectional(bn.LSTM(3), merge_mode="max")
    with pytest.raises(ValueError, match="dropout"):
        bn.LSTM(3, dropout=1.5)
    layer = bn.LSTM(3)
    with pytest.raises(ValueError, match=r"2 state\(s\)"):
        layer(np.zeros((2, 4, 1)), initial_state=[np.zeros((2, 3))])
    with pytest.raises(ValueError, match=r"initial state 0 must have shape \(2, 3\)"):
        layer(np.zeros((2, 4, 1)), initial_state=[np.zeros((2, 4)), np.zeros((2, 3))])
    with pytest.raises(ValueError, match=r"\(timesteps, features\)"):
        bn.GRU(3)(bn.Input(shape=(4,)))


@pytest.mark.parametrize("merge_mode", ["concat", None])
def test_bidirectional_return_state_matches_torch_with_gradients(merge_mode, rng):
    torch = pytest.importorskip("torch")
    layer = _built(bn.Bidirectional(bn.LSTM(3, return_sequences=True, return_state=True), merge_mode=merge_mode),
                   (5, 2), rng=rng)
    x = rng.normal(size=(2, 5, 2))
    tx = Tensor(x, requires_grad=True)
    outputs = layer(tx)
    assert len(outputs) == (6 if merge_mode is None else 5)
    upstream = [rng.normal(size=o.shape) for o in outputs]
    backward(outputs, upstream)

    module = _torch_bidirectional_lstm(torch, layer)
    t = torch.tensor(x, requires_grad=True)
    sequence, (h, c) = module(t)
    seq_parts = [sequence] if merge_mode == "concat" else [sequence[..., :3], sequence[..., 3:]]
    expected = [*seq_parts, h[0], c[0], h[1], c[1]]
    torch.autograd.backward(expected, [torch.tensor(u) for u in upstream])
    for ours, theirs in zip(outputs, expected):
        _close(ours.value, theirs.detach().numpy())
    _close(tx.grad, t.grad.numpy())


def test_bidirectional_with_several_outputs_in_a_functional_model_saves(tmp_path, rng):
    bn.utils.set_random_seed(0)
    inputs = bn.Input(shape=(4, 2))
    forward_out, backward_out, h, bh = bn.Bidirectional(bn.GRU(3, return_state=True), merge_mode=None)(inputs)
    model = bn.Model(inputs, bn.Dense(1)(bn.Concatenate()([forward_out, backward_out, h + bh])))
    model.compile("adam", "mse")
    x = rng.normal(size=(8, 4, 2))
    model.fit(x, rng.normal(size=(8, 1)), epochs=1, verbose=0)
    assert forward_out.shape == h.shape == (None, 3)
    model.save(tmp_path / "b.barenet")
    np.testing.assert_array_equal(bn.load_model(tmp_path / "b.barenet").predict(x), model.predict(x))
