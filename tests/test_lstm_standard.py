"""The LSTM's fewer-pass path (sigmoid gates, tanh; `layers/lstm_standard.py`) against the general
path in `recurrent.py` with the same weights: every output and gradient, with every option that
touches the recurrence (masks, initial and final states, dropout, going backwards), float64."""

import numpy as np
import pytest

import barenet as bn
from barenet.activations import Sigmoid


class PlainSigmoid(Sigmoid):
    """The same function as a different class, so that `LSTM` takes its general path."""


def _pair(rng, **kwargs):
    standard = bn.LSTM(5, **kwargs)
    general = bn.LSTM(5, recurrent_activation=PlainSigmoid(), **kwargs)
    for layer in (standard, general):
        layer.name = "lstm"
        layer.build((6, 3), np.random.default_rng(0), "float64")
    for key, value in standard.params.items():
        value[...] = rng.normal(scale=0.7, size=value.shape)
        general.params[key][...] = value
    assert standard._standard and not general._standard
    return standard, general


def _run(layer, inputs, grad, seed):
    layer._rng = np.random.default_rng(seed)  # the same dropout masks for both layers
    out = layer.forward(inputs, training=True)
    grads_in = layer.backward(grad)
    return out, grads_in, {key: value.copy() for key, value in layer.grads.items()}


@pytest.mark.parametrize("options", [
    {},
    {"return_sequences": True},
    {"return_sequences": True, "go_backwards": True, "dropout": 0.3, "recurrent_dropout": 0.4},
    {"return_state": True, "with_states": True},
    {"return_sequences": True, "return_state": True, "with_states": True, "masked": True},
    {"masked": True, "recurrent_dropout": 0.5},
], ids=["last", "sequences", "backwards-dropout", "states", "sequences-states-mask", "mask-recurrent-dropout"])
def test_standard_path_matches_general_path(options, rng):
    options = dict(options)
    with_states, masked = options.pop("with_states", False), options.pop("masked", False)
    standard, general = _pair(rng, **options)
    x = rng.normal(size=(4, 6, 3))
    inputs = [x]
    if with_states:
        inputs += [rng.normal(size=(4, 5)), rng.normal(size=(4, 5))]
    if masked:
        mask = np.ones((4, 6), bool)
        mask[0, 4:], mask[2, :2], mask[3, 3] = False, False, False
        inputs.append(mask)
    inputs = inputs if len(inputs) > 1 else x
    out = standard.forward(inputs, training=True)
    grad = rng.normal(size=out.shape)
    results = [_run(layer, inputs, grad, seed=3) for layer in (standard, general)]
    (out_s, in_s, grads_s), (out_g, in_g, grads_g) = results
    np.testing.assert_allclose(out_s, out_g, rtol=1e-12, atol=1e-13)
    for key in grads_g:
        np.testing.assert_allclose(grads_s[key], grads_g[key], rtol=1e-11, atol=1e-12, err_msg=key)
    for a, b in zip(in_s if isinstance(in_s, list) else [in_s], in_g if isinstance(in_g, list) else [in_g]):
        if b is None:
            assert a is None
        else:
            np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-12)


def test_standard_path_in_float32_stays_close_to_float64(rng):
    """sigmoid through tanh in float32: outputs within float32 rounding of the float64 result."""
    layer64, _ = _pair(rng)
    layer32 = bn.LSTM(5)
    layer32.name = "lstm"
    layer32.build((6, 3), np.random.default_rng(0), "float32")
    for key, value in layer64.params.items():
        layer32.params[key][...] = value
    x = rng.normal(size=(4, 6, 3))
    out32 = layer32.forward(x.astype(np.float32))
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32, layer64.forward(x), rtol=1e-5, atol=1e-6)
