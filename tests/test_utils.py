"""`barenet.utils`: Keras's `normalize` (L2 along an axis) and `plot_model` (pydot and Graphviz)."""

import sys

import numpy as np
import pytest

import barenet as bn


def test_normalize_is_keras_l2_along_an_axis(rng):
    x = rng.normal(size=(4, 3))
    out = bn.utils.normalize(x)
    np.testing.assert_allclose(np.linalg.norm(out, axis=-1), 1.0)
    np.testing.assert_allclose(out, x / np.linalg.norm(x, axis=-1, keepdims=True))
    np.testing.assert_allclose(bn.utils.normalize(x, axis=0), x / np.linalg.norm(x, axis=0, keepdims=True))
    np.testing.assert_array_equal(bn.utils.normalize(np.zeros((2, 3))), np.zeros((2, 3)))  # zero rows stay zero
    np.testing.assert_allclose(bn.utils.normalize(np.array([[3.0, -4.0]]), order=1), [[3 / 7, -4 / 7]])
    # The blog's barenet.normalize (min-max) is unchanged.
    assert bn.normalize is not bn.utils.normalize


def _graph():
    inputs = bn.Input((5,))
    a = bn.Dense(3, "relu", name="left")(inputs)
    b = bn.Dense(3, name="right")(inputs)
    return bn.Model(inputs, bn.Add(name="sum")([a, b]))


def test_plot_model_without_pydot_names_the_package(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "pydot", None)
    with pytest.raises(ImportError, match=r"install pydot \(`pip install pydot`\)"):
        bn.utils.plot_model(_graph(), tmp_path / "m.png")


def test_model_to_dot_draws_every_layer_and_connection(tmp_path):
    pytest.importorskip("pydot")
    model = _graph()
    dot = bn.utils.model_to_dot(model, show_shapes=True, show_layer_activations=True, show_trainable=True)
    text = dot.to_string()
    for label in ("left (Dense)", "right (Dense)", "sum (Add)", "output shape: (None, 3)", "activation: relu",
                  "trainable: True"):
        assert label in text
    ids = {layer.name: str(id(layer)) for layer in model.layers}
    edges = {(e.get_source(), e.get_destination()) for e in dot.get_edges()}
    assert edges == {(ids[model.layers[0].name], ids["left"]), (ids[model.layers[0].name], ids["right"]),
                     (ids["left"], ids["sum"]), (ids["right"], ids["sum"])}
    bn.utils.plot_model(model, tmp_path / "m.dot", rankdir="LR")
    assert "rankdir=LR" in (tmp_path / "m.dot").read_text()


def test_plot_model_needs_graphviz_for_images(tmp_path, monkeypatch):
    pytest.importorskip("pydot")
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` program to be found
    with pytest.raises(ImportError, match="install Graphviz"):
        bn.utils.plot_model(_graph(), tmp_path / "m.png")
    assert not (tmp_path / "m.png").exists()


def test_sequential_chain_and_bad_rankdir():
    pytest.importorskip("pydot")
    model = bn.Sequential([bn.Input((3,)), bn.Dense(2), bn.Dense(1)])
    assert len(bn.utils.model_to_dot(model).get_edges()) == 1
    with pytest.raises(ValueError, match="`rankdir`"):
        bn.utils.model_to_dot(model, rankdir="XY")
