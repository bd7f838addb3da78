"""1-D pooling: values and gradients against PyTorch and finite differences, sizes, configs, errors."""

import numpy as np
import pytest

import barenet as bn
from gradcheck import check_layer_gradients


def _built(layer, input_shape, dtype="float64"):
    layer.name = layer.name or "pool"
    layer.build(input_shape, np.random.default_rng(0), dtype)
    return layer


def _distinct(rng, shape):
    """Values without ties, so that max pooling's gradient is well defined for differencing."""
    return rng.permutation(int(np.prod(shape))).reshape(shape) * 0.1


WINDOWED = [(2, None, "valid"), (3, 1, "valid"), (3, 2, "valid"), (2, None, "same"), (3, 2, "same")]


@pytest.mark.parametrize("cls", [bn.MaxPooling1D, bn.AveragePooling1D])
@pytest.mark.parametrize("pool, strides, padding", WINDOWED)
def test_windowed_pooling_gradients_match_finite_differences(cls, pool, strides, padding, rng):
    layer = _built(cls(pool, strides, padding), (7, 2))
    check_layer_gradients(layer, _distinct(rng, (2, 7, 2)), rng)


@pytest.mark.parametrize("cls", [bn.MaxPooling1D, bn.AveragePooling1D])
@pytest.mark.parametrize("pool, strides", [(2, None), (3, 1), (3, 2)])
def test_windowed_pooling_matches_torch(cls, pool, strides, rng):
    torch = pytest.importorskip("torch")
    layer = _built(cls(pool, strides), (9, 3))
    x = _distinct(rng, (2, 9, 3))
    out = layer.forward(x)
    upstream = rng.normal(size=out.shape)
    grad_x = layer.backward(upstream)
    tx = torch.tensor(x.transpose(0, 2, 1).copy(), requires_grad=True)
    function = torch.nn.functional.max_pool1d if cls is bn.MaxPooling1D else torch.nn.functional.avg_pool1d
    tout = function(tx, pool, strides or pool)
    tout.backward(torch.tensor(upstream.transpose(0, 2, 1).copy()))
    np.testing.assert_allclose(out, tout.detach().numpy().transpose(0, 2, 1), rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(grad_x, tx.grad.numpy().transpose(0, 2, 1), rtol=1e-6, atol=1e-10)


def test_same_padding_sizes_and_average_excludes_padding():
    layer = _built(bn.AveragePooling1D(2, padding="same"), (5, 1))
    x = np.arange(5.0).reshape(1, 5, 1)
    np.testing.assert_allclose(layer.forward(x)[0, :, 0], [0.5, 2.5, 4.0])  # last window holds one real step
    assert _built(bn.MaxPooling1D(3, 2, "same"), (8, 2)).output_shape == (4, 2)
    assert _built(bn.MaxPooling1D(3, 2), (8, 2)).output_shape == (3, 2)


@pytest.mark.parametrize("cls", [bn.GlobalAveragePooling1D, bn.GlobalMaxPooling1D])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling_values_and_gradients(cls, keepdims, rng):
    layer = _built(cls(keepdims=keepdims), (5, 3))
    x = _distinct(rng, (2, 5, 3))
    out = layer.forward(x)
    expected = x.max(axis=1, keepdims=keepdims) if cls is bn.GlobalMaxPooling1D else x.mean(axis=1, keepdims=keepdims)
    np.testing.assert_allclose(out, expected)
    assert out.shape == (2, *layer.output_shape)
    check_layer_gradients(layer, x, rng)
    assert cls.from_config(layer.get_config()).get_config() == layer.get_config()


def test_global_max_pooling_gradient_goes_to_the_first_maximum():
    layer = _built(bn.GlobalMaxPooling1D(), (4, 1))
    layer.forward(np.array([[[1.0], [3.0], [3.0], [0.0]]]))
    np.testing.assert_array_equal(layer.backward(np.array([[2.0]]))[0, :, 0], [0, 2, 0, 0])


def test_configs_and_errors():
    layer = bn.MaxPooling1D(3, 2, "same")
    assert bn.MaxPooling1D.from_config(layer.get_config()).get_config() == layer.get_config()
    with pytest.raises(ValueError, match=r"`pool_size` 4 of layer 'p' .* larger than its input of 3 steps"):
        bn.MaxPooling1D(4, name="p").build((3, 2), np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"'p' \(AveragePooling1D\) expects sequences of shape \(steps, channels\)"):
        bn.AveragePooling1D(name="p").build((3, 2, 1), np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"'g' \(GlobalMaxPooling1D\) expects sequences"):
        bn.GlobalMaxPooling1D(name="g").build((3,), np.random.default_rng(0))
    with pytest.raises(ValueError, match="`padding` must be one of 'valid', 'same'"):
        bn.MaxPooling1D(padding="causal")
