"""Figures: visualize(path) writes PNGs without a display; a clear message without matplotlib."""


import numpy as np
import pytest

import barenet as bn
from barenet import cli, plotting


def trained(epochs=3):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 4)).astype("float32")
    labels = (x[:, 0] > 0).astype(int)
    model = bn.Sequential([bn.Dense(8, "relu", input_dim=4), bn.Dense(2, "softmax")], seed=0)
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    model.fit(x, labels, epochs=epochs, validation_split=0.25, verbose=0)
    return model


def is_png(path):
    with open(path, "rb") as f:
        return f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_visualize_saves_a_png_with_both_panels(tmp_path):
    pytest.importorskip("matplotlib")
    model = trained()
    path = model.visualize(tmp_path / "curves.png")
    assert is_png(path)
    import matplotlib.image
    height, width = matplotlib.image.imread(path).shape[:2]
    assert width > 1.5 * height  # loss and accuracy side by side
    assert is_png(plotting.visualize(model.history.history, tmp_path / "dict.png"))


def test_visualize_before_training_is_a_clear_error():
    pytest.importorskip("matplotlib")
    model = bn.Sequential([bn.Dense(2, input_dim=2)])
    with pytest.raises(ValueError, match="train the model first"):
        model.visualize("x.png")


def test_confusion_matrix_counts():
    matrix = plotting.confusion_matrix([0, 1, 1, 2, 2, 2], [0, 1, 2, 2, 2, 0], 3)
    assert matrix.tolist() == [[1, 0, 0], [0, 1, 1], [1, 0, 2]]


def test_cli_plot_writes_three_figures(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    plot = tmp_path / "curves.png"
    assert cli.main(["train", "--epochs", "2", "--verbose", "0", "--plot", str(plot)]) == 0
    for path in (plot, tmp_path / "curves-confusion.png", tmp_path / "curves-samples.png"):
        assert is_png(path), path


def test_missing_matplotlib_says_how_to_install(hide_package, tmp_path, capsys):
    hide_package("matplotlib")
    model = trained(epochs=1)
    with pytest.raises(ImportError, match=r"pip install 'barenet\[plots\]'"):
        model.visualize(tmp_path / "c.png")
    with pytest.raises(ImportError, match="barenet\\[plots\\]"):
        model.visualize()
    code = cli.main(["train", "--plot", str(tmp_path / "c.png")])
    err = capsys.readouterr().err
    assert code == 1 and "barenet[plots]" in err and err.count("\n") == 1
