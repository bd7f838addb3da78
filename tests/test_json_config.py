"""Model configs: get_config/from_config, to_json/model_from_json round trips, clone_model,
keras.models / keras.saving names and custom objects."""

import json

import numpy as np
import pytest

import barenet as bn


def _sequential():
    return bn.Sequential([bn.Input((6,)), bn.Rescaling(0.5), bn.Dense(5, kernel_initializer=bn.initializers.HeNormal()),
                          bn.LeakyReLU(0.2), bn.Dense(3, "softmax", activity_regularizer="l1")], seed=0, name="seq")


def _functional():
    inputs = bn.Input((6,), name="x")
    inner_in = bn.Input((6,))
    inner = bn.Model(inner_in, bn.Dense(4, "relu")(inner_in), name="inner")
    a = inner(inputs)
    b = bn.Dense(4, "tanh")(inputs)
    merged = bn.Add()([a, b])
    return bn.Model(inputs, bn.Softmax()(bn.Dense(3)(merged)), name="fun", seed=1)


@pytest.mark.parametrize("make", [_sequential, _functional])
def test_to_json_round_trip_gives_the_same_architecture(make, rng):
    model = make()
    text = model.to_json()
    data = json.loads(text)
    assert data["class_name"] in ("Sequential", "Functional")
    rebuilt = bn.models.model_from_json(text)
    assert type(rebuilt) is type(model) and rebuilt.name == model.name
    assert rebuilt.to_json() == text
    assert [type(layer) for layer in rebuilt.layers] == [type(layer) for layer in model.layers]
    assert [w.shape for w in rebuilt.get_weights()] == [w.shape for w in model.get_weights()]
    rebuilt.set_weights(model.get_weights())
    x = rng.normal(size=(4, 6)).astype(np.float32)
    np.testing.assert_allclose(rebuilt.predict(x), model.predict(x), rtol=1e-6)


@pytest.mark.parametrize("make", [_sequential, _functional])
def test_from_config_and_clone_model_draw_new_weights(make):
    model = make()
    again = type(model).from_config(model.get_config())
    assert again.get_config() == model.get_config()
    clone = bn.models.clone_model(model)
    assert {**clone.get_config(), "seed": None} == {**model.get_config(), "seed": None}
    assert [w.shape for w in clone.get_weights()] == [w.shape for w in model.get_weights()]
    trained = [w for w in model.get_weights() if w.ndim == 2]
    assert not any(np.array_equal(a, b) for a, b in zip(trained, [w for w in clone.get_weights() if w.ndim == 2]))
    assert all(layer is not original for layer, original in zip(clone.layers, model.layers))


def test_clone_function_is_applied_to_each_layer():
    model = _sequential()
    seen = []

    def clone(layer):
        seen.append(layer.name)
        return type(layer).from_config(layer.get_config())

    bn.models.clone_model(model, clone_function=clone)
    assert seen == [layer.name for layer in model.layers]


def test_frozen_state_is_in_the_config():
    model = _sequential()
    model.trainable = False
    assert bn.models.model_from_json(model.to_json()).trainable is False


@bn.saving.register_keras_serializable(package="tests")
class Twice(bn.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, inputs):
        return inputs * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


class Thrice(Twice):
    pass


def test_custom_layers_in_json_registered_or_passed_as_custom_objects():
    inputs = bn.Input((3,))
    model = bn.Model(inputs, bn.Dense(1)(Twice(3.0)(inputs)))
    assert bn.models.model_from_json(model.to_json()).layers[1].factor == 3.0
    with bn.saving.custom_object_scope({"Thrice": Thrice}):
        text = bn.Model(inputs, Thrice()(inputs)).to_json()
    with pytest.raises(LookupError, match="Thrice"):
        bn.models.model_from_json(text)
    assert isinstance(bn.models.model_from_json(text, custom_objects={"Thrice": Thrice}).layers[1], Thrice)
    assert "Thrice" not in bn.saving.get_custom_objects()


def test_models_namespace_save_and_load(tmp_path, rng):
    model = _sequential()
    model.compile("adam", "categorical_crossentropy")
    bn.models.save_model(model, tmp_path / "m.barenet")
    with pytest.raises(FileExistsError, match="overwrite=False"):
        bn.models.save_model(model, tmp_path / "m.barenet", overwrite=False)
    loaded = bn.models.load_model(tmp_path / "m.barenet", compile=True)
    x = rng.normal(size=(2, 6)).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert bn.saving.load_model(tmp_path / "m.barenet", custom_objects={}).count_params() == model.count_params()


def test_model_from_json_bad_input():
    with pytest.raises(ValueError, match="not valid JSON"):
        bn.models.model_from_json("{nope")
    with pytest.raises(ValueError, match="'class_name' and 'config'"):
        bn.models.model_from_json("[1, 2]")
