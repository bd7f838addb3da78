"""Functional models: Input, layers called on tensors, Model(inputs, outputs), merge layers, ops nodes."""

import numpy as np
import pytest

import barenet as bn
from barenet import ops


def residual(seed=0):
    bn.utils.set_random_seed(seed)
    x = bn.Input(shape=(4,), name="features")
    h = bn.Dense(8, activation="relu")(x)
    y = bn.Dense(3, activation="softmax")(h + bn.Dense(8)(h))
    return bn.Model(inputs=x, outputs=y, seed=seed)


def test_layers_names_inputs_outputs_and_get_layer():
    model = residual()
    assert [layer.name for layer in model.layers] == ["features", "dense", "dense_1", "dense_2"]
    assert isinstance(model.layers[0], bn.InputLayer)
    assert model.get_layer("dense_1") is model.layers[2]
    assert model.inputs[0].shape == (None, 4) and model.outputs[0].shape == (None, 3)
    with pytest.raises(ValueError, match="No layer named 'nope'"):
        model.get_layer("nope")


def test_summary_lists_connections():
    lines = []
    residual().summary(print_fn=lines.append)
    text = lines[0]
    assert "Connected to" in text and "Total params: 139" in text
    row = next(line for line in text.splitlines() if line.strip().startswith("dense_2"))
    assert row.rstrip().endswith("add")  # the `h + ...` op node feeds dense_2


def test_fit_learns_and_predict_matches_a_manual_forward(rng):
    model = residual()
    model.compile(bn.optimizers.Adam(0.02), "sparse_categorical_crossentropy", ["accuracy"])
    x = rng.normal(size=(300, 4)).astype("float32")
    y = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0)
    history = model.fit(x, y, epochs=30, batch_size=32, verbose=0)
    assert history.history["accuracy"][-1] > 0.9
    d, d1, d2 = (model.get_layer(n) for n in ("dense", "dense_1", "dense_2"))
    h = np.maximum(x @ d.params["weights"] + d.params["biases"], 0)
    z = (h + h @ d1.params["weights"] + d1.params["biases"]) @ d2.params["weights"] + d2.params["biases"]
    expected = np.exp(z - z.max(1, keepdims=True))
    expected /= expected.sum(1, keepdims=True)
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-4, atol=1e-6)


def test_ops_on_symbolic_tensors_become_nodes(rng):
    x = bn.Input(shape=(6,))
    y = 2 * x[:, :3] - ops.exp(x[:, 3:]) / 4
    model = bn.Model(x, y)
    data = rng.normal(size=(5, 6)).astype("float32")
    np.testing.assert_allclose(model.predict(data), 2 * data[:, :3] - np.exp(data[:, 3:]) / 4, rtol=1e-6)
    assert model.outputs[0].shape == (None, 3)


@pytest.mark.parametrize("layer, numpy_fn", [
    (bn.Add(), lambda a, b: a + b), (bn.Subtract(), lambda a, b: a - b), (bn.Multiply(), lambda a, b: a * b),
    (bn.Average(), lambda a, b: (a + b) / 2), (bn.Maximum(), np.maximum), (bn.Minimum(), np.minimum),
    (bn.Concatenate(), lambda a, b: np.concatenate([a, b], -1)),
    (bn.Dot(axes=1), lambda a, b: (a * b).sum(1, keepdims=True)),
])
def test_merge_layers_values_and_finite_difference_gradients(layer, numpy_fn, rng):
    from gradcheck import assert_close, numerical_grad

    a, b = bn.Input(shape=(3,), dtype="float64"), bn.Input(shape=(3,), dtype="float64")
    model = bn.Model([a, b], bn.Dense(2, name="head")(layer([a, b])))
    xa, xb = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    head = model.get_layer("head")
    hidden = numpy_fn(xa, xb)
    np.testing.assert_allclose(model.predict([xa, xb]), hidden @ head.params["weights"] + head.params["biases"])
    model.compile("sgd", "mse")
    y = rng.normal(size=(4, 2))
    grads = model.compute_gradients([xa, xb], y)
    for key in ("weights", "biases"):
        numeric = numerical_grad(lambda: model.evaluate([xa, xb], y, return_dict=True)["loss"], head.params[key])
        assert_close(grads[f"head/{key}"], numeric)


def test_dot_of_sequences_and_normalize(rng):
    a, b = bn.Input(shape=(2, 3), dtype="float64"), bn.Input(shape=(4, 3), dtype="float64")
    model = bn.Model([a, b], bn.Dot(axes=2)([a, b]))
    xa, xb = rng.normal(size=(5, 2, 3)), rng.normal(size=(5, 4, 3))
    np.testing.assert_allclose(model.predict([xa, xb]), xa @ xb.transpose(0, 2, 1))
    p, q = bn.Input(shape=(3,), dtype="float64"), bn.Input(shape=(3,), dtype="float64")
    cosine = bn.Model([p, q], bn.Dot(axes=1, normalize=True)([p, q]))
    expected = (xa[:, 0] * xb[:, 0]).sum(1) / np.linalg.norm(xa[:, 0], axis=1) / np.linalg.norm(xb[:, 0], axis=1)
    np.testing.assert_allclose(cosine.predict([xa[:, 0], xb[:, 0]])[:, 0], expected, rtol=1e-9)


def test_model_used_as_a_layer_inside_another(rng):
    inner = residual()
    x = bn.Input(shape=(4,))
    outer = bn.Model(x, bn.Dense(1, name="score")(inner(x)))
    data = rng.normal(size=(3, 4)).astype("float32")
    score = outer.get_layer("score")
    expected = inner.predict(data) @ score.params["weights"] + score.params["biases"]
    np.testing.assert_allclose(outer.predict(data), expected, rtol=1e-5)
    outer.compile("sgd", "mse")
    grads = outer.compute_gradients(data, np.ones((3, 1)))
    assert "functional/dense/weights" in grads and "score/weights" in grads


def test_dict_outputs_and_per_output_metrics(rng):
    x = bn.Input(shape=(4,))
    h = bn.Dense(5, activation="relu")(x)
    model = bn.Model(x, {"kind": bn.Dense(3, activation="softmax")(h), "size": bn.Dense(1)(h)})
    model.compile("adam", {"kind": "sparse_categorical_crossentropy", "size": "mse"},
                  metrics={"kind": ["accuracy"]})
    data = rng.normal(size=(20, 4))
    history = model.fit(data, {"kind": rng.integers(0, 3, 20), "size": rng.normal(size=20)}, epochs=2, verbose=0)
    assert set(history.history) == {"loss", "kind_loss", "size_loss", "kind_accuracy"}
    prediction = model.predict(data)
    assert set(prediction) == {"kind", "size"} and prediction["kind"].shape == (20, 3)


# --- bad input ---------------------------------------------------------------------------------------
def test_calling_a_layer_on_the_wrong_size_names_layer_and_shapes():
    dense = bn.Dense(3, name="proj")
    dense(bn.Input(shape=(4,)))
    with pytest.raises(ValueError, match=r"Layer 'proj' \(Dense\) expects inputs of shape \(None, 4\)\. "
                                         r"Received: a tensor of shape \(None, 5\)"):
        dense(bn.Input(shape=(5,)))
    with pytest.raises(ValueError, match="expects inputs with a feature axis"):
        bn.Dense(3).compute_output_shape(())


def test_disconnected_unused_inputs_and_non_tensors_are_errors():
    a, b = bn.Input(shape=(3,)), bn.Input(shape=(3,))
    y = bn.Dense(2)(a)
    with pytest.raises(ValueError, match="Graph disconnected"):
        bn.Model(b, y)
    with pytest.raises(ValueError, match="Input 1 .* not used"):
        bn.Model([a, b], y)
    with pytest.raises(TypeError, match="symbolic tensors"):
        bn.Model(a, np.zeros(3))


def test_merge_shape_mismatch_is_a_clear_error():
    a, b = bn.Input(shape=(3,)), bn.Input(shape=(4,))
    with pytest.raises(ValueError, match=r"Layer 'add' \(Add\) needs inputs of the same shape.*\(None, 3\), \(None, 4\)"):
        bn.Add()([a, b])
    with pytest.raises(ValueError, match="must be called on a list"):
        bn.Concatenate()(a)
    with pytest.raises(ValueError, match="match except on axis -1"):
        bn.Concatenate()([bn.Input(shape=(2, 3)), bn.Input(shape=(4, 3))])
    with pytest.raises(ValueError, match="needs 2 inputs"):
        bn.Subtract()([a, a, a])


def test_wrong_input_count_or_names_at_fit(rng):
    a, b = bn.Input(shape=(3,), name="a"), bn.Input(shape=(2,), name="b")
    model = bn.Model([a, b], bn.Dense(1)(bn.Concatenate()([a, b])))
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="list of 2 arrays"):
        model.fit(rng.normal(size=(4, 3)), np.zeros(4), verbose=0)
    with pytest.raises(ValueError, match=r"dict with keys \['a', 'b'\]"):
        model.predict({"a": np.zeros((2, 3))})
    with pytest.raises(ValueError, match=r"`x\[1\]` has samples of shape \(3,\), but input 'b' expects \(2,\)"):
        model.predict([np.zeros((2, 3)), np.zeros((2, 3))])


def test_sequential_takes_an_input_pops_and_is_callable(rng):
    model = bn.Sequential([bn.Input(shape=(4,)), bn.Dense(5, activation="relu"), bn.Dense(2)], seed=0)
    assert model.built and model.input_shape == (4,)
    x = rng.normal(size=(3, 4)).astype("float32")
    out = model(x)  # a Tensor, as Keras returns a backend tensor
    np.testing.assert_allclose(out.numpy(), model.predict(x), rtol=1e-6)
    first = model.layers[0]
    np.testing.assert_allclose(first(x).numpy(), np.maximum(x @ first.params["weights"] + first.params["biases"], 0),
                               rtol=1e-6)
    popped = model.pop()
    assert popped.units == 2 and len(model.layers) == 1 and model.output_shape == (5,)
    assert model.predict(x).shape == (3, 5)


def test_a_cycle_in_a_hand_edited_graph_is_reported():
    x = bn.Input(shape=(3,))
    a = bn.Dense(3)(x)
    b = bn.Dense(3)(a)
    a.node.inputs.append(b)  # impossible through the API: make b feed the layer that made a
    with pytest.raises(ValueError, match="cycle"):
        bn.Model(x, b)


# --- chains: direct layers that feed only one another run as one graph node ----------------------
def _gradients(model, x, y, chained: bool):
    """The training step's gradients and outputs, the graph replayed with its chains or node by node."""
    from barenet import training

    saved = model._steps
    if not chained:
        model._steps = list(model._nodes)
    try:
        result, params, grads = training.forward_backward(model, [x], [y], track=False)
        outputs = model.predict(x, verbose=0)
    finally:
        model._steps = saved
    return result.logs["loss"], {key: grad.copy() for key, grad in grads.items()}, outputs


def _same_step_both_ways(model, x, y):
    model.compile(bn.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    model.predict(x, verbose=0)  # builds a Sequential's graph
    loss, grads, outputs = _gradients(model, x, y, chained=True)
    reference_loss, reference, reference_outputs = _gradients(model, x, y, chained=False)
    assert loss == reference_loss and grads.keys() == reference.keys() and grads
    for key in grads:
        np.testing.assert_array_equal(grads[key], reference[key], err_msg=key)
    np.testing.assert_array_equal(outputs, reference_outputs)
    return grads


def test_a_sequential_is_one_chain_with_the_node_by_node_gradients(rng):
    from barenet.models.functional import _Chain

    model = bn.Sequential([bn.Dense(6, "tanh", input_dim=5), bn.Dense(4, "relu"), bn.Dense(3, "softmax")],
                          seed=2, dtype="float64")
    _same_step_both_ways(model, rng.normal(size=(7, 5)), rng.integers(0, 3, 7))
    assert len(model._steps) == 1 and type(model._steps[0]) is _Chain and len(model._steps[0].layers) == 3


def test_a_chain_with_a_frozen_first_layer_and_a_dropout(rng):
    model = bn.Sequential([bn.Dense(6, "relu", input_dim=5), bn.Dropout(0.0), bn.Dense(3, "softmax")], seed=3,
                          dtype="float64")
    model.layers[0].trainable = False
    grads = _same_step_both_ways(model, rng.normal(size=(8, 5)), rng.integers(0, 3, 8))
    assert not any(key.startswith(model.layers[0].name + "/") for key in grads) and len(grads) == 2


def test_a_layer_called_twice_splits_the_chains_and_sums_its_gradients(rng):
    from barenet.models.functional import _Chain

    bn.utils.set_random_seed(4)
    shared, middle = bn.Dense(4, "tanh"), bn.Dense(4, "relu")
    x = bn.Input(shape=(4,), dtype="float64")
    y = bn.Dense(3, "softmax")(shared(middle(shared(x))))
    model = bn.Model(x, y, seed=4, dtype="float64")
    chains = [step.layers for step in model._steps if type(step) is _Chain]
    assert all(len({id(layer) for layer in layers}) == len(layers) for layers in chains) and chains
    x, y = rng.normal(size=(6, 4)), rng.integers(0, 3, 6)
    grads = _same_step_both_ways(model, x, y)
    from gradcheck import assert_close, numerical_grad

    weights = shared.params["weights"]
    numeric = numerical_grad(lambda: _gradients(model, x, y, True)[0], weights)
    assert_close(grads[f"{shared.name}/weights"], numeric, rtol=1e-6)


def test_a_branch_point_ends_a_chain():
    model = residual()
    from barenet.models.functional import _Chain

    for step in model._steps:  # h feeds two layers: it is not inside a chain
        assert type(step) is not _Chain or all(node.outputs[0] is not model._nodes[0].outputs[0]
                                               for node in step.nodes[:-1])


def test_an_activity_penalty_in_a_chain_is_still_added(rng):
    model = bn.Sequential([bn.Dense(6, "relu", input_dim=5, activity_regularizer="l2"), bn.Dense(3, "softmax")],
                          seed=5, dtype="float64")
    x, y = rng.normal(size=(8, 5)), rng.integers(0, 3, 8)
    _same_step_both_ways(model, x, y)
    plain = bn.Sequential([bn.Dense(6, "relu", input_dim=5), bn.Dense(3, "softmax")], seed=5, dtype="float64")
    plain.compile(bn.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    plain.predict(x, verbose=0)
    assert _gradients(model, x, y, True)[0] > _gradients(plain, x, y, True)[0]
