"""Conv2D's Keras options: dilation_rate, groups, data_format; finite differences and PyTorch parity."""

import numpy as np
import pytest

import barenet as bn
from gradcheck import check_layer_gradients


def _built(layer, input_shape, dtype="float64", seed=0):
    layer.name = layer.name or "conv"
    layer.build(input_shape, np.random.default_rng(seed), dtype)
    return layer


CASES = [  # (kwargs, channels-last input shape)
    ({"dilation_rate": 2}, (9, 8, 2)),
    ({"dilation_rate": (2, 1), "strides": 2, "padding": "same"}, (9, 8, 2)),
    ({"groups": 2, "filters": 4}, (6, 7, 4)),
    ({"groups": 3, "filters": 3, "padding": "same", "dilation_rate": (1, 2)}, (6, 7, 6)),
    ({"data_format": "channels_first"}, (6, 7, 2)),
    ({"data_format": "channels_first", "groups": 2, "filters": 4, "strides": (1, 2), "padding": "same"}, (6, 7, 4)),
]


def _layer(kwargs, activation=None):
    kwargs = {"filters": 2, "kernel_size": 3, **kwargs}
    return bn.Conv2D(activation=activation, **kwargs)


def _sample_shape(kwargs, shape):
    return (shape[2], shape[0], shape[1]) if kwargs.get("data_format") == "channels_first" else shape


@pytest.mark.parametrize("kwargs,shape", CASES)
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_gradients_match_finite_differences(kwargs, shape, activation, rng):
    layer = _built(_layer(kwargs, activation), _sample_shape(kwargs, shape))
    layer.params["biases"][:] = rng.normal(size=layer.filters)
    check_layer_gradients(layer, rng.normal(size=(2, *_sample_shape(kwargs, shape))), rng)


@pytest.mark.parametrize("kwargs,shape", CASES)
def test_matches_pytorch(kwargs, shape, rng):
    torch = pytest.importorskip("torch")
    layer = _built(_layer(kwargs), _sample_shape(kwargs, shape))
    layer.params["biases"][:] = rng.normal(size=layer.filters)
    x = rng.normal(size=(3, *shape))  # channels-last
    channels_first = kwargs.get("data_format") == "channels_first"
    x_layer = x.transpose(0, 3, 1, 2).copy() if channels_first else x
    out = layer.forward(x_layer)
    grad_out = rng.normal(size=out.shape)
    grad_x = layer.backward(grad_out)

    pads = layer._pads
    xt = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    wt = torch.tensor(layer.params["weights"].transpose(3, 2, 0, 1), requires_grad=True)
    bt = torch.tensor(layer.params["biases"], requires_grad=True)
    padded = torch.nn.functional.pad(xt, (pads[1][0], pads[1][1], pads[0][0], pads[0][1]))
    yt = torch.nn.functional.conv2d(padded, wt, bt, stride=layer.strides, dilation=layer.dilation_rate,
                                    groups=layer.groups)
    grad_t = grad_out if channels_first else grad_out.transpose(0, 3, 1, 2)
    yt.backward(torch.tensor(np.ascontiguousarray(grad_t)))
    expected = yt.detach().numpy()
    np.testing.assert_allclose(out if channels_first else out.transpose(0, 3, 1, 2), expected, rtol=1e-10, atol=1e-10)
    expected_gx = xt.grad.numpy()
    np.testing.assert_allclose(grad_x if channels_first else grad_x.transpose(0, 3, 1, 2), expected_gx,
                               rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(layer.grads["weights"], wt.grad.numpy().transpose(2, 3, 1, 0), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(layer.grads["biases"], bt.grad.numpy(), rtol=1e-10, atol=1e-10)


def test_shapes_and_config_round_trip():
    layer = _built(bn.Conv2D(6, 3, data_format="channels_first", dilation_rate=2, groups=3, padding="same"),
                   (3, 10, 12))
    assert layer.output_shape == (6, 10, 12)
    assert layer.params["weights"].shape == (3, 3, 1, 6)
    config = layer.get_config()
    assert (config["data_format"], config["dilation_rate"], config["groups"]) == ("channels_first", [2, 2], 3)
    clone = bn.Conv2D.from_config(config)
    assert (clone.data_format, clone.dilation_rate, clone.groups) == ("channels_first", (2, 2), 3)


@pytest.mark.parametrize("kwargs,message", [
    ({"groups": 0}, "`groups` must be a positive integer"),
    ({"groups": 3}, "`filters` must be a multiple of `groups`"),
    ({"dilation_rate": 0}, "`dilation_rate` must be a positive integer"),
    ({"data_format": "NHWC"}, "`data_format` must be one of"),
])
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        bn.Conv2D(4, 3, **kwargs)


def test_input_channels_not_divisible_by_groups_is_named():
    with pytest.raises(ValueError, match="multiple of `groups`"):
        _built(bn.Conv2D(4, 3, groups=2), (5, 5, 3))


def test_dilated_kernel_larger_than_the_input_is_refused():
    with pytest.raises(ValueError, match="larger than"):
        _built(bn.Conv2D(2, 3, dilation_rate=3), (6, 6, 1))
