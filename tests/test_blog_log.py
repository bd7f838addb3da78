"""The post's training lines (`compat.blog_log`), printed by the blog's `train`."""

import re

import numpy as np
import pytest

import barenet as bn
from barenet.compat.blog_log import BlogLogger


def _model(activation="softmax", units=2):
    model = bn.NN(seed=0)
    model.add(bn.FFL(input_shape=2, neurons=8, activation="tanh"))
    model.add(bn.FFL(neurons=units, activation=activation))
    return model


def _data(rng, n=100):
    x = rng.uniform(-1, 1, size=(n, 2))
    return x, bn.one_hot_encoding((x[:, 0] > 0).astype(int), 2)


def test_train_prints_the_posts_header_and_lines(rng, capsys):
    x, y = _data(rng)
    model = _model()
    model.compile_model(lr=0.01, opt="adam", loss="cse")
    history = model.train(x, y, epochs=5, show_every=2, batch_size=16, val_split=0.2)
    out = capsys.readouterr().out
    epochs = out.split("Epoch: ")[1:]
    assert out.startswith("\nTotal 100 samples.\nTraining samples: 80 Validation samples: 20.\n"
                          "Total 5 batches, most batch has 16 samples.\n\n")
    assert len(epochs) == 3   # epochs 0, 2, 4, as the post's `e % show_every == 0`
    logs = history.history
    for block, e in zip(epochs, (0, 2, 4)):
        lines = ("Epoch: " + block).split("\n")
        assert re.fullmatch(rf"Epoch: {e}, Time: \d+(\.\d+)?sec", lines[0])
        assert lines[1] == (f"Train Loss: {round(logs['loss'][e], 4)} "
                            f"Train Accuracy: {round(logs['accuracy'][e] * 100, 4)}%")
        assert lines[2] == (f"Val Loss: {round(logs['val_loss'][e], 4)} "
                            f"Val Accuracy: {round(logs['val_accuracy'][e] * 100, 4)}% ")
        assert lines[3:] in ([""], ["", ""])  # the post's blank line after each epoch


def test_given_validation_data_and_no_accuracy_for_regression(rng, capsys):
    x, y = _data(rng, n=40)
    model = _model(activation=None, units=2)
    model.compile_model(lr=0.01, opt="sgd", loss="mse")
    model.train(x, y, epochs=1, batch_size=64, val_x=x[:10], val_y=y[:10])
    out = capsys.readouterr().out
    assert out.startswith("\nValidation data found.\n\n\nTotal 40 samples.\nTraining samples: 40 "
                          "Validation samples: 10.\nTotal 1 batches, most batch has 64 samples.\n")
    assert re.search(r"\nTrain Loss: [\d.e-]+\nVal Loss: [\d.e-]+ \n", out) and "Accuracy" not in out


def test_without_validation_there_is_no_val_line(rng, capsys):
    x, y = _data(rng, n=20)
    model = _model()
    model.compile_model(loss="cse")
    model.train(x, y, epochs=1, val_split=0)
    out = capsys.readouterr().out
    assert "Validation samples: 0." in out and "Val Loss" not in out and "Train Accuracy" in out


def test_logger_times_since_the_last_shown_epoch(monkeypatch):
    clock = iter([10.0, 11.5, 12.0, 14.25])
    monkeypatch.setattr("barenet.compat.blog_log.time.perf_counter", lambda: next(clock))
    lines = []
    logger = BlogLogger(show_every=2, stream=None)
    logger.set_params({"samples": 4, "epochs": 3})
    logger._print = lines.append
    logger.on_train_begin()
    for epoch in range(3):
        if epoch != 1:
            logger.on_epoch_end(epoch, {"loss": 0.123456, "acc": 0.5})
    assert lines == ["Epoch: 0, Time: 1.5sec\nTrain Loss: 0.1235 Train Accuracy: 50.0%\n",
                     "Epoch: 2, Time: 0.5sec\nTrain Loss: 0.1235 Train Accuracy: 50.0%\n"]


@pytest.mark.parametrize("show_every", [0, 1.5, "2"])
def test_show_every_is_checked(rng, show_every):
    x, y = _data(rng, n=10)
    model = _model()
    model.compile_model(loss="cse")
    with pytest.raises(ValueError, match="`show_every` must be a positive integer"):
        model.train(x, y, epochs=1, show_every=show_every)
    assert np.isfinite(model.predict(x)).all()
