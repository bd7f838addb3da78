"""Convolutional networks end to end: saving and exact resume, the CLI, and Fashion-MNIST."""

import time

import numpy as np
import pytest

import barenet as bn
from barenet import cli
from conftest import FASHION_DIR


def _cnn(seed=0, dtype="float32"):
    return bn.Sequential([
        bn.Conv2D(4, 3, padding="same", activation="relu", input_shape=(8, 8, 1)),
        bn.BatchNormalization(),
        bn.MaxPooling2D(2),
        bn.Conv2d(filters=6, kernel_size=3, stride=1, padding="valid", activation="relu"),
        bn.Pool2d(kernel_size=2, kind="average"),
        bn.Dropout(0.25),
        bn.Flatten(),
        bn.Dense(10, "softmax"),
    ], seed=seed, dtype=dtype)


def _digits(n=200):
    (x, y), _ = bn.datasets.digits.load_data()
    return (x[:n, :, :, None] / 16).astype(np.float32), y[:n]


def test_digits_are_8x8_images():
    x, y = _digits()
    assert x.shape == (200, 8, 8, 1) and y.shape == (200,)


def test_save_load_predicts_identically_with_every_layer_kind(tmp_path):
    x, y = _digits()
    model = _cnn()
    model.compile(bn.optimizers.Adam(0.01), "sparse_categorical_crossentropy", ["accuracy"])
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    batch_norm = model.layers[1]
    assert not np.array_equal(batch_norm.state["moving_mean"], 0)  # training moved them
    model.save(tmp_path / "cnn.barenet")
    loaded = bn.load_model(tmp_path / "cnn.barenet")
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    assert [layer.get_config() for layer in loaded.layers] == [layer.get_config() for layer in model.layers]
    for key, value in batch_norm.state.items():
        np.testing.assert_array_equal(loaded.layers[1].state[key], value)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_resume_is_bit_identical_including_dropout_masks_and_moving_statistics(tmp_path):
    x, y = _digits(120)

    def fresh():
        model = _cnn(seed=5)
        model.compile(bn.optimizers.Adam(0.01), "sparse_categorical_crossentropy")
        return model

    straight = fresh()
    straight.fit(x, y, epochs=2, batch_size=16, verbose=0)
    first = fresh()
    first.fit(x, y, epochs=1, batch_size=16, verbose=0)
    first.save(tmp_path / "half.barenet")
    resumed = bn.load_model(tmp_path / "half.barenet")
    resumed.fit(x, y, epochs=1, batch_size=16, verbose=0)
    for a, b in zip(straight.get_weights(), resumed.get_weights()):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    for key in ("moving_mean", "moving_variance"):
        assert np.array_equal(straight.layers[1].state[key], resumed.layers[1].state[key])
    assert not np.array_equal(first.get_weights()[0], straight.get_weights()[0])


def test_save_weights_restores_state_arrays(tmp_path):
    x, y = _digits(64)
    model = _cnn()
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    model.save_weights(tmp_path / "w.barenet")
    other = _cnn(seed=9)
    other.load_weights(tmp_path / "w.barenet")
    np.testing.assert_array_equal(other.layers[1].state["moving_variance"], model.layers[1].state["moving_variance"])
    np.testing.assert_array_equal(other.predict(x), model.predict(x))


def test_summary_shows_shapes_and_parameter_counts():
    lines = []
    _cnn().summary(print_fn=lines.append)
    text = "\n".join(lines)
    for cell in ("conv2d", "(None, 8, 8, 4)", "batch_normalization", "max_pooling2d", "(None, 4, 4, 4)",
                 "(None, 2, 2, 6)", "pool2d", "(None, 1, 1, 6)", "flatten", "(None, 6)", "40", "222", "70"):
        assert cell in text, cell


def test_cli_trains_the_cnn_on_digits(tmp_path, capsys):
    output = tmp_path / "cnn.barenet"
    assert cli.main(["train", "--model", "cnn", "--epochs", "1", "--verbose", "0", "--output", str(output)]) == 0
    model = bn.load_model(output)
    assert isinstance(model.layers[0], bn.Conv2D) and model.input_shape == (8, 8, 1)
    assert "accuracy" in capsys.readouterr().out.lower()


def test_fashion_mnist_two_conv_blocks_reach_90_percent():
    """Two conv+pool blocks and a dense head, 4 epochs of Adam with cosine decay, all 60k images.

    Measured on 2 cores: test accuracy 0.9137 for seed 0 after 4 epochs in 48 s of training
    (0.912 for seeds 0 and 1 with earlier code). Three epochs gave 0.905-0.910 over seeds
    0-2 (too little margin), two epochs 0.898-0.904.
    """
    if not (FASHION_DIR / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip(f"Fashion-MNIST IDX files not found in {FASHION_DIR}")
    (x_train, y_train), (x_test, y_test) = bn.datasets.fashion_mnist.load_data(data_dir=FASHION_DIR, download=False)
    x_train = (x_train[:, :, :, None] / 255).astype(np.float32)
    x_test = (x_test[:, :, :, None] / 255).astype(np.float32)
    model = bn.Sequential([
        bn.Conv2D(16, 3, activation="relu", input_shape=(28, 28, 1)), bn.MaxPooling2D(2),
        bn.Conv2D(32, 3, activation="relu"), bn.BatchNormalization(), bn.MaxPooling2D(2),
        bn.Flatten(), bn.Dense(128, "relu"), bn.Dense(10, "softmax"),
    ], seed=0)
    epochs, batch_size = 4, 64
    schedule = bn.optimizers.schedules.CosineDecay(3e-3, epochs * -(-len(x_train) // batch_size), alpha=0.05)
    model.compile(bn.optimizers.Adam(schedule), "sparse_categorical_crossentropy", ["accuracy"])
    start = time.perf_counter()
    model.fit(x_train, y_train, epochs=epochs, batch_size=batch_size, verbose=0)
    accuracy = model.evaluate(x_test, y_test, return_dict=True)["accuracy"]
    print(f"Fashion-MNIST CNN: test accuracy {accuracy:.4f} in {time.perf_counter() - start:.0f} s")
    assert accuracy >= 0.90, accuracy
