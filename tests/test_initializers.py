"""Initializer classes as Keras 3: variance formulas (statistics on large draws), shapes, seeds,
names and instances as layer arguments, configs."""

import math

import numpy as np
import pytest

import barenet as bn
from barenet import initializers as init

SHAPE = (300, 200)  # fan_in 300, fan_out 200
CONV = (3, 3, 40, 60)  # fans 360 and 540


@pytest.mark.parametrize("cls, variance", [
    (init.GlorotUniform, 2 / (300 + 200)), (init.GlorotNormal, 2 / (300 + 200)),
    (init.HeUniform, 2 / 300), (init.HeNormal, 2 / 300),
    (init.LecunUniform, 1 / 300), (init.LecunNormal, 1 / 300),
])
def test_variance_scaling_presets_have_their_variance(cls, variance):
    values = cls()(SHAPE, np.random.default_rng(0))
    assert values.shape == SHAPE and values.dtype == np.float32
    assert abs(values.mean()) < 0.02 * math.sqrt(variance) * 10
    assert values.var() == pytest.approx(variance, rel=0.03)
    if "Uniform" in cls.__name__:
        assert np.abs(values).max() <= math.sqrt(3 * variance)
    else:  # truncated at two standard deviations of the underlying normal
        assert np.abs(values).max() <= 2 * math.sqrt(variance) / 0.87962566103423978 + 1e-6


@pytest.mark.parametrize("mode, n", [("fan_in", 360), ("fan_out", 540), ("fan_avg", 450)])
@pytest.mark.parametrize("distribution", ["truncated_normal", "untruncated_normal", "uniform"])
def test_variance_scaling_modes_on_a_conv_kernel(mode, n, distribution):
    values = init.VarianceScaling(scale=3.0, mode=mode, distribution=distribution)(CONV, np.random.default_rng(1))
    assert values.var() == pytest.approx(3.0 / n, rel=0.03)


def test_random_truncated_constant_ones_zeros_identity():
    rng = np.random.default_rng(2)
    normal = init.RandomNormal(mean=1.0, stddev=0.2)(SHAPE, rng)
    assert normal.mean() == pytest.approx(1.0, abs=0.005) and normal.std() == pytest.approx(0.2, rel=0.02)
    uniform = init.RandomUniform(-1.0, 3.0)(SHAPE, rng)
    assert uniform.min() >= -1 and uniform.max() <= 3 and uniform.mean() == pytest.approx(1.0, abs=0.02)
    truncated = init.TruncatedNormal(stddev=0.1)(SHAPE, rng)
    assert np.abs(truncated).max() <= 0.2 and truncated.std() == pytest.approx(0.1 * 0.8796, rel=0.02)
    np.testing.assert_array_equal(init.Constant(0.5)((2, 3)), np.full((2, 3), 0.5, np.float32))
    np.testing.assert_array_equal(init.Ones()((2,)), np.ones(2, np.float32))
    np.testing.assert_array_equal(init.Zeros()((2,), "float64"), np.zeros(2))
    np.testing.assert_array_equal(init.Identity(gain=2.0)((2, 3)), 2 * np.eye(2, 3))


def test_orthogonal_is_orthogonal_with_gain():
    q = init.Orthogonal(gain=1.5)((6, 4), np.random.default_rng(3), "float64")
    np.testing.assert_allclose(q.T @ q, 2.25 * np.eye(4), atol=1e-10)
    wide = init.Orthogonal()((3, 8), np.random.default_rng(3), "float64")
    np.testing.assert_allclose(wide @ wide.T, np.eye(3), atol=1e-10)


def test_own_seed_repeats_and_keras_call_signature():
    a = init.HeNormal(seed=4)((5, 5))
    b = init.HeNormal(seed=4)((5, 5), np.random.default_rng(99))  # its own seed wins
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, init.HeNormal(seed=4)(shape=(5, 5), dtype="float32"))
    assert init.HeNormal(seed=4)((5, 5), dtype="float64").dtype == np.float64


def test_layers_take_names_instances_and_classes_and_draw_from_the_model_generator():
    def build(initializer):
        model = bn.Sequential([bn.Input((300,)), bn.Dense(200, kernel_initializer=initializer)], seed=7)
        return model.layers[0].params["weights"]
    by_name, by_instance = build("he_normal"), build(init.HeNormal())
    np.testing.assert_array_equal(by_name, by_instance)  # both from the model's seeded generator
    np.testing.assert_array_equal(by_name, build(init.HeNormal))
    assert by_name.var() == pytest.approx(2 / 300, rel=0.03)
    constant = bn.Dense(2, bias_initializer=init.Constant(0.1))
    constant.build((3,))
    np.testing.assert_allclose(constant.params["biases"], [0.1, 0.1])


def test_initializer_instances_survive_layer_configs_and_saving(tmp_path):
    layer = bn.Dense(4, kernel_initializer=init.VarianceScaling(2.0, "fan_out", "uniform", seed=3))
    config = layer.get_config()
    assert config["kernel_initializer"] == {"class_name": "VarianceScaling", "config": {
        "scale": 2.0, "mode": "fan_out", "distribution": "uniform", "seed": 3}}
    clone = bn.Dense.from_config(config)
    assert clone.get_config() == config
    model = bn.Sequential([bn.Input((3,)), layer])
    model.save(tmp_path / "m.barenet")
    assert bn.load_model(tmp_path / "m.barenet").layers[0].get_config()["kernel_initializer"] == \
        config["kernel_initializer"]


def test_lowercase_names_are_initializers_or_draw():
    assert isinstance(init.glorot_uniform(), init.GlorotUniform)
    assert init.glorot_uniform((2, 3), np.random.default_rng(0)).shape == (2, 3)
    assert isinstance(init.get("GlorotNormal"), init.GlorotNormal)
    assert isinstance(init.get("truncated_normal"), init.TruncatedNormal)


@pytest.mark.parametrize("make, match", [
    (lambda: init.VarianceScaling(mode="fan"), "`mode`"),
    (lambda: init.VarianceScaling(distribution="cauchy"), "`distribution`"),
    (lambda: init.VarianceScaling(scale=0), "`scale` must be a positive number"),
    (lambda: init.RandomUniform(1.0, 0.0), "`maxval` must be >= `minval`"),
    (lambda: init.RandomNormal(seed=-1), "`seed`"),
    (lambda: init.get("glorot"), "Unknown initializer 'glorot'"),
    (lambda: init.Identity()((2, 2, 2)), "2-D shape"),
])
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()
