"""The blog's JSON (`saving.blog_json`, `saving.blog_layers`): the author's MLP and CNN files
read, barenet's models written in the author's format, and bad files refused naming the layer."""

import json

import numpy as np
import pytest

import barenet as bn


# --- the MLP post's file ---------------------------------------------------------------------
def _blog_document(rng):
    """What the MLP post's save_model writes for FFL(4, 5, sigmoid) -> FFL(5, 3, softmax) -> FFL(3, 2)."""
    shapes = [(4, 5, "sigmoid", "Input Layer"), (5, 3, "softmax", "Hidden Layer1"), (3, 2, None, "Output Layer")]
    document = {"model": "NN"}
    for inputs, neurons, activation, name in shapes:
        document[name] = {
            "type": "FFL", "name": name, "input_shape": inputs, "neurons": neurons, "isbias": True,
            "weights": rng.normal(size=(inputs, neurons)).tolist(), "biases": rng.normal(size=neurons).tolist(),
            "activation": activation, "output_shape": neurons, "parameters": inputs * neurons + neurons,
        }
    return document


def _write(path, document):
    path.write_text(json.dumps(document))
    return path


def test_mlp_post_file_loads_and_predicts_like_the_formula(tmp_path, rng):
    document = _blog_document(rng)
    model = bn.load_model(_write(tmp_path / "model.json", document), dtype="float64")
    assert [layer.name for layer in model.layers] == ["Input Layer", "Hidden Layer1", "Output Layer"]
    assert not model.compiled
    x = rng.normal(size=(6, 4))
    h = x
    for name in ("Input Layer", "Hidden Layer1", "Output Layer"):
        spec = document[name]
        z = h @ np.array(spec["weights"]) + np.array(spec["biases"])
        if spec["activation"] == "sigmoid":
            h = 1 / (1 + np.exp(-z))
        elif spec["activation"] == "softmax":
            e = np.exp(z - z.max(axis=1, keepdims=True))
            h = e / e.sum(axis=1, keepdims=True)
        else:
            h = z
    np.testing.assert_allclose(model.predict(x), h, rtol=1e-12, atol=1e-12)
    model.compile_model(lr=0.01, opt="adam", loss="mse")   # trainable once compiled
    model.train_on_batch(x, np.zeros((6, 2)))


# --- the author's CNN file, written by hand in the repository's exact format -----------------------
def _author_cnn(rng):
    """The repository's save_model output for Conv2d(valid) -> Conv2d("zero") -> Pool2d -> Flatten ->
    FFL(relu) -> Dropout -> FFL(softmax) on 6x6x1 images: 4-entry kernel_size, (filters, 1) biases,
    counts written as floats, `"weights": 0.0` on layers without weights, "linear"/null activations."""
    def empty(layer_type, name, inputs, outputs, **extra):
        return {"input_shape": inputs, "output_shape": outputs, "isbias": False, "activation": None,
                "parameters": 0, "weights": 0.0, **extra, "name": name, "type": layer_type}

    def conv(name, inputs, outputs, filters, padding):
        k, b = rng.normal(size=(3, 3, inputs[2], filters)), rng.normal(size=(filters, 1))
        return {"type": "Conv2d", "input_shape": inputs, "filters": filters, "isbias": True, "activation": "relu",
                "stride": [1, 1], "padding": padding, "kernel_size": [3, 3, inputs[2], filters],
                "output_shape": outputs, "weights": k.tolist(), "biases": b.tolist(),
                "parameters": float(k.size + filters), "name": name}

    def ffl(name, inputs, neurons, activation):
        w, b = rng.normal(size=(inputs, neurons)), rng.normal(size=neurons)
        return {"input_shape": inputs, "neurons": neurons, "isbias": True, "name": name, "output_shape": neurons,
                "weights": w.tolist(), "parameters": inputs * neurons + neurons, "biases": b.tolist(),
                "activation": activation, "type": "FFL"}

    return {"model": "Sequential",
            "Input Layer": conv("Input Layer", [6, 6, 1], [4, 4, 2], 2, None),
            "Conv2d1": conv("Conv2d1", [4, 4, 2], [4, 4, 3], 3, "zero"),
            "Pool2d2": empty("Pool2d", "Pool2d2", [4, 4, 3], [2, 2, 3], padding=None, kernel_size=[2, 2],
                             stride=[2, 2], kind="max"),
            "Flatten3": empty("Flatten", "Flatten3", [2, 2, 3], 12),
            "FFL4": ffl("FFL4", 12, 4, "relu"),
            "Dropout5": empty("Dropout", "Dropout5", 4, 4, prob=0.1),
            "Out Layer(FFL)": ffl("Out Layer(FFL)", 4, 3, "softmax")}


def _reference_forward(document, image):
    """One image through the author's layers, written out plainly (HWC, valid windows)."""
    h = image.astype(np.float64)
    for spec in list(document.values())[1:]:
        if spec["type"] == "Conv2d":
            if spec["padding"] == "zero":
                h = np.pad(h, ((1, 1), (1, 1), (0, 0)))
            k, b = np.array(spec["weights"]), np.array(spec["biases"])[:, 0]
            out = np.empty((h.shape[0] - 2, h.shape[1] - 2, k.shape[3]))
            for i in range(out.shape[0]):
                for j in range(out.shape[1]):
                    out[i, j] = np.tensordot(h[i:i + 3, j:j + 3], k, axes=3) + b
            h = np.maximum(out, 0)
        elif spec["type"] == "Pool2d":
            h = h.reshape(h.shape[0] // 2, 2, h.shape[1] // 2, 2, -1).max(axis=(1, 3))
        elif spec["type"] == "Flatten":
            h = h.reshape(-1)
        elif spec["type"] == "FFL":
            z = h @ np.array(spec["weights"]) + np.array(spec["biases"])
            h = np.maximum(z, 0) if spec["activation"] == "relu" else np.exp(z - z.max()) / np.exp(z - z.max()).sum()
        # Dropout: the identity at inference (the author's code divided by `prob` there, a defect).
    return h


def test_author_cnn_file_loads_and_predicts_like_the_author_layers(tmp_path, rng):
    document = _author_cnn(rng)
    model = bn.load_model(_write(tmp_path / "cnn.json", document), dtype="float64")
    assert [type(layer).__name__ for layer in model.layers] == ["Conv2d", "Conv2d", "Pool2d", "Flatten", "FFL",
                                                                 "Dropout", "FFL"]
    assert model.layers[1].padding == "same" and model.layers[0].padding == "valid"
    assert model.layers[5].prob == 0.1 and model.layers[2].kind == "max"
    images = rng.normal(size=(3, 6, 6, 1))
    expected = np.stack([_reference_forward(document, image) for image in images])
    np.testing.assert_allclose(model.predict(images), expected, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(model.predict(images[0]), expected[:1], rtol=1e-13, atol=1e-15)  # the posts' call
    model.compile_model(lr=0.01, opt="adam", loss="cse")   # and it trains further
    history = model.train(images, np.eye(3)[[0, 1, 2]], epochs=2, val_split=0)
    assert len(history.history["loss"]) == 2


def _author_loader_reads(document):
    """Every field the author's repository `load_model` reads, read the way it reads them."""
    assert document["model"] in ("Sequential", "NN", "CNN")
    for name, params in document.items():
        if name == "model":
            continue
        kind = params["type"]
        assert kind in ("FFL", "Conv2d", "Dropout", "Flatten", "Pool2d")
        if kind == "FFL":
            params["neurons"]
        if kind == "Conv2d":
            int(params["filters"]), params["kernel_size"][:2], params["padding"]
            np.zeros(params["output_shape"])
            assert params["padding"] in ("zero", None)
        if kind == "Dropout":
            params["prob"]
        if kind == "Pool2d":
            params["kernel_size"], params["stride"], params["kind"], tuple(params["input_shape"])
        if kind == "Flatten":
            tuple(params["input_shape"])
        params["activation"], params["isbias"], params["input_shape"], params["output_shape"]
        int(params["parameters"])
        if kind in ("FFL", "Conv2d"):
            assert params["activation"] is not None   # neither loader reads null
            assert np.asarray(params["weights"]).ndim == (2 if kind == "FFL" else 4)
            assert params.get("biases")               # falsy biases would leave random ones in the author's code


def _keras_cnn():
    model = bn.Sequential([
        bn.Conv2D(2, 3, activation="relu", input_shape=(6, 6, 1)), bn.Conv2d(filters=3, padding="zero"),
        bn.MaxPooling2D(2), bn.Flatten(), bn.Dense(4, "relu", use_bias=False), bn.Dropout(0.25),
        bn.Dense(3, "softmax")], seed=3)
    return model


def test_cnn_is_written_in_the_author_format_and_read_back(tmp_path, rng):
    model = _keras_cnn()
    model.save_model(tmp_path / "cnn.json")
    document = json.loads((tmp_path / "cnn.json").read_text())
    _author_loader_reads(document)
    conv, conv_1, pool, flat, dense, drop, out = list(document.values())[1:]
    assert document["model"] == "Sequential"
    assert conv["type"] == "Conv2d" and conv["kernel_size"] == [3, 3, 1, 2] and conv["padding"] is None
    assert conv_1["padding"] == "zero" and np.shape(conv_1["biases"]) == (3, 1) and conv_1["stride"] == [1, 1]
    assert conv["input_shape"] == [6, 6, 1] and conv["output_shape"] == [4, 4, 2] and conv["activation"] == "relu"
    assert pool == {"type": "Pool2d", "name": "max_pooling2d", "isbias": False, "input_shape": [4, 4, 3],
                    "output_shape": [2, 2, 3], "activation": None, "parameters": 0, "weights": 0.0,
                    "kernel_size": [2, 2], "stride": [2, 2], "kind": "max", "padding": None}
    assert flat["output_shape"] == 12 and dense["input_shape"] == 12 and drop["prob"] == 0.25
    assert dense["isbias"] is False and dense["biases"] == [0.0] * 4 and out["activation"] == "softmax"
    loaded = bn.load_model(tmp_path / "cnn.json")
    x = rng.normal(size=(5, 6, 6, 1)).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert not loaded.layers[4].use_bias   # zero biases with isbias false: no biases


def test_linear_activation_is_written_as_linear_and_model_class_is_an_option(tmp_path):
    model = bn.NN(seed=2)
    model.add(bn.FFL(input_shape=4, neurons=5, activation="relu"))
    model.add(bn.FFL(neurons=2, is_bias=False))
    model.save_model(tmp_path / "nn.json", model_class="NN")
    document = json.loads((tmp_path / "nn.json").read_text())
    assert document["model"] == "NN" and list(document)[1:] == ["ffl", "ffl_1"]
    assert document["ffl_1"]["activation"] == "linear" and document["ffl_1"]["isbias"] is False
    assert document["ffl"]["neurons"] == 5 and document["ffl"]["input_shape"] == 4
    loaded = bn.load_model(tmp_path / "nn.json")
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        assert a.dtype == b.dtype and np.array_equal(a, b)   # float32 -> JSON -> float32 is exact
    bn.save_model(model, tmp_path / "cnn.json", model_class="CNN")
    assert json.loads((tmp_path / "cnn.json").read_text())["model"] == "CNN"
    with pytest.raises(ValueError, match="`model_class` must be one of 'Sequential', 'NN', 'CNN'"):
        model.save_model(tmp_path / "x.json", model_class="Keras")
    with pytest.raises(ValueError, match="a '.json' path\\) only"):
        model.save_model(tmp_path / "x.barenet", model_class="NN")


def test_upsample_round_trips(tmp_path, rng):
    model = bn.CNN(seed=0)
    model.add(bn.Conv2d(input_shape=(3, 3, 2), filters=2, padding=None))
    model.add(bn.Upsample(kernel_size=(2, 3)))
    model.save_model(tmp_path / "up.json")
    entry = json.loads((tmp_path / "up.json").read_text())["upsample"]
    assert entry["type"] == "Upsample" and entry["kernel_size"] == [2, 3] and entry["output_shape"] == [2, 3, 2]
    loaded = bn.load_model(tmp_path / "up.json")
    x = rng.normal(size=(2, 3, 3, 2)).astype(np.float32)
    assert loaded.predict(x).shape == (2, 2, 3, 2)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


@pytest.mark.parametrize("layer, match", [
    (bn.Conv2D(2, 5, padding="same"), "Layer 'bad' \\(Conv2D\\).*one pixel"),
    (bn.MaxPooling2D(2, padding="same"), "Layer 'bad' \\(MaxPooling2D\\).*does not pad"),
    (bn.BatchNormalization(), "Layer 'bad' \\(BatchNormalization\\).*FFL, Conv2d"),
])
def test_layers_without_an_author_equivalent_are_refused(tmp_path, layer, match):
    layer.name = "bad"
    model = bn.Sequential([bn.Conv2D(2, 3, input_shape=(8, 8, 1)), layer], seed=0)
    with pytest.raises(ValueError, match=match):
        model.save_model(tmp_path / "m.json")
    assert not (tmp_path / "m.json").exists()


def test_biases_of_a_layer_that_says_isbias_false_are_still_added(tmp_path, rng):
    """The author's Conv2d adds its biases whatever isbias says: so does the loaded model."""
    document = _author_cnn(rng)
    document["Input Layer"]["isbias"] = False
    model = bn.load_model(_write(tmp_path / "m.json", document), dtype="float64")
    assert model.layers[0].use_bias
    image = rng.normal(size=(6, 6, 1))
    np.testing.assert_allclose(model.predict(image)[0], _reference_forward(document, image), rtol=1e-13, atol=1e-15)


def test_save_and_load_default_to_model_json(tmp_path, monkeypatch, rng):
    monkeypatch.chdir(tmp_path)
    model = bn.NN(seed=1)
    model.add(bn.FFL(input_shape=3, neurons=2, activation="softmax"))
    bn.save_model(model)                      # the post's save_model(m)
    assert (tmp_path / "model.json").exists()
    loaded = bn.load_model()                  # the post's m = load_model()
    x = rng.normal(size=(4, 3)).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    model.save_model("m.keras")               # any other suffix: barenet's zip
    assert (tmp_path / "m.keras").read_bytes()[:2] == b"PK"


# --- bad files -------------------------------------------------------------------------------
@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.update(model="Net"), "'model' must be one of 'Sequential', 'NN', 'CNN'"),
    (lambda d: d["Input Layer"].update(type="Conv3d"), "layer 'Input Layer' has unknown type 'Conv3d'"),
    (lambda d: d["Input Layer"].update(output_shape=4), "layer 'Input Layer': output_shape 4 disagrees with \\(5,\\)"),
    (lambda d: d["Input Layer"].update(neurons=4, output_shape=4), r"weights must have shape \(4, 4\)"),
    (lambda d: d["Hidden Layer1"].update(input_shape=7), "layer 'Hidden Layer1' takes input_shape \\(7,\\).*do not chain"),
    (lambda d: d["Input Layer"].update(activation="swishy"), "unknown activation"),
    (lambda d: d["Input Layer"].update(weights=[[1, 2], [3]]), "rectangular|shape"),
    (lambda d: d["Input Layer"].update(weights="abc"), "list of numbers"),
    (lambda d: d["Input Layer"].pop("weights"), "layer 'Input Layer': 'weights' .*missing"),
    (lambda d: d["Output Layer"].pop("biases"), "layer 'Output Layer': isbias is true but its 'biases' are missing"),
    (lambda d: d["Output Layer"].update(biases=["a", "b"]), "numbers only"),
    (lambda d: d["Output Layer"].update(isbias="yes"), "isbias"),
    (lambda d: d["Input Layer"].pop("input_shape"), "layer 'Input Layer' is the first layer and needs"),
    (lambda d: [d.pop(k) for k in list(d) if k != "model"], "no layers"),
])
def test_bad_mlp_file(tmp_path, rng, mutate, message):
    document = _blog_document(rng)
    mutate(document)
    with pytest.raises(bn.ModelFileError, match=message):
        bn.load_model(_write(tmp_path / "bad.json", document))


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["Conv2d1"].pop("weights"), "layer 'Conv2d1': 'weights' .*missing"),
    (lambda d: d["Conv2d1"].update(padding="same"), "layer 'Conv2d1': padding 'same' is not readable .*edge"),
    (lambda d: d["Conv2d1"].update(stride=[2, 2]), "layer 'Conv2d1': padding 'zero' pads one pixel"),
    (lambda d: d["Conv2d1"].update(kernel_size=[3, 3, 5, 3]), "layer 'Conv2d1': kernel_size .*channels"),
    (lambda d: d["Conv2d1"].update(output_shape=[6, 6, 3]), "layer 'Conv2d1': output_shape .*do not chain"),
    (lambda d: d["Pool2d2"].update(padding="zero"), "layer 'Pool2d2': the author's Pool2d never pads"),
    (lambda d: d["Pool2d2"].update(kind="median"), "layer 'Pool2d2': 'kind' must be one of"),
    (lambda d: d.pop("Flatten3"), "layer 'FFL4' takes input_shape \\(12,\\) but the layer before outputs \\(2, 2, 3\\)"),
    (lambda d: [d.pop("Flatten3"), d["FFL4"].pop("input_shape")], "layer 'FFL4' \\(FFL\\) takes flat inputs"),
    (lambda d: d["Dropout5"].update(prob=1.5), "layer 'Dropout5': 'prob' must be a number in \\[0, 1\\)"),
    (lambda d: d["FFL4"].update(neurons=2.5), "layer 'FFL4': 'neurons' must be a positive integer"),
])
def test_bad_cnn_file(tmp_path, rng, mutate, message):
    document = _author_cnn(rng)
    mutate(document)
    with pytest.raises(bn.ModelFileError, match=message):
        bn.load_model(_write(tmp_path / "bad.json", document))


def test_an_activation_with_arguments_is_refused_by_the_blogs_json(tmp_path):
    """The blog's JSON stores an activation by name; a leaky ReLU object would come back plain."""
    model = bn.Sequential([bn.Dense(3, bn.activations.ReLU(negative_slope=0.5), input_dim=4)], seed=0)
    with pytest.raises(ValueError, match="stores an activation by its name"):
        model.save_model(tmp_path / "m.json")
    assert not (tmp_path / "m.json").exists()
