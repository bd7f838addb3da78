"""GlobalMaxPooling2D: PyTorch parity, finite differences, keepdims and channels_first."""

import numpy as np
import pytest
from gradcheck import check_layer_gradients

import barenet as bn

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_matches_torch_amax_and_finite_differences(data_format, keepdims, rng):
    layer = bn.GlobalMaxPooling2D(data_format=data_format, keepdims=keepdims)
    shape = (4, 5, 3) if data_format == "channels_last" else (3, 4, 5)
    layer.build(shape, rng, "float64")
    x = rng.normal(size=(2, *shape))
    dims = (1, 2) if data_format == "channels_last" else (2, 3)
    t = torch.tensor(x, requires_grad=True)
    expected = torch.amax(t, dim=dims, keepdim=keepdims)
    out = layer.forward(x)
    assert out.shape == (2, *layer.output_shape)
    np.testing.assert_allclose(out, expected.detach().numpy())
    projection = rng.normal(size=out.shape)
    (expected * torch.tensor(projection)).sum().backward()
    np.testing.assert_allclose(layer.backward(projection), t.grad.numpy())
    check_layer_gradients(layer, x, rng)


def test_bad_input():
    with pytest.raises(ValueError, match="`data_format`"):
        bn.GlobalMaxPooling2D(data_format="nhwc")
    with pytest.raises(ValueError, match="expects images"):
        bn.Sequential([bn.Input((4, 3)), bn.GlobalMaxPooling2D()])
