"""`barenet.config`: floatx (wired into new models and layers), epsilon, image data format, backend."""

import numpy as np
import pytest

import barenet as bn


@pytest.fixture
def restore_config():
    saved = bn.config.floatx(), bn.config.epsilon(), bn.config.image_data_format()
    yield
    bn.config.set_floatx(saved[0])
    bn.config.set_epsilon(saved[1])
    bn.config.set_image_data_format(saved[2])


def test_defaults():
    assert bn.config.floatx() == "float32"
    assert bn.config.epsilon() == 1e-7
    assert bn.config.image_data_format() == "channels_last"
    assert bn.config.backend() == "numpy"


def test_set_floatx_changes_new_models_and_layers(restore_config):
    bn.config.set_floatx("float64")
    model = bn.Sequential([bn.Input((3,)), bn.Dense(2)])
    assert model.dtype == np.float64 and model.layers[0].params["weights"].dtype == np.float64
    layer = bn.Dense(2)
    layer.build((3,))
    assert layer.params["weights"].dtype == np.float64
    assert bn.initializers.HeNormal()((2, 2)).dtype == np.float64


def test_set_epsilon_is_used_by_normalization(restore_config):
    bn.config.set_epsilon(0.5)
    layer = bn.Normalization(mean=0.0, variance=0.0)
    layer.build((2,))
    np.testing.assert_allclose(layer.forward(np.ones((1, 2), np.float32)), [[2.0, 2.0]])


@pytest.mark.parametrize("call, match", [
    (lambda: bn.config.set_floatx("float16"), "`value` must be one of float32, float64"),
    (lambda: bn.config.set_epsilon(0), "`value` must be a positive number"),
    (lambda: bn.config.set_image_data_format("nhwc"), "`data_format`"),
])
def test_bad_values(call, match, restore_config):
    with pytest.raises(ValueError, match=match):
        call()
