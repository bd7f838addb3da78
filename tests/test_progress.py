"""Progress output: Keras's bar in a terminal (rich or plain), one line per epoch elsewhere,
and the same for evaluate and predict."""

import io
import re

import numpy as np

import barenet as bn
from barenet import progress


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def make_model():
    model = bn.Sequential([bn.Dense(3, "softmax", input_dim=4)], seed=0)
    model.compile(bn.optimizers.SGD(0.1), "categorical_crossentropy", ["accuracy"])
    return model


def make_data(n=40):
    x = np.random.default_rng(0).normal(size=(n, 4)).astype("float32")
    return x, bn.to_categorical((x[:, 0] > 0).astype(int), 3)


def test_plain_bar_redraws_steps_time_per_step_and_running_logs(monkeypatch):
    monkeypatch.setattr(progress, "rich", None)
    monkeypatch.setattr(progress, "REDRAW_INTERVAL", 0.0)  # every batch
    x, y = make_data()
    stream = FakeTerminal()
    logger = progress.ProgressLogger(verbose=1, stream=stream)
    make_model().fit(x, y, epochs=1, batch_size=10, validation_data=(x, y), callbacks=[logger], verbose=0)
    out = stream.getvalue()
    header, bar = out.split("\n")[:2]
    assert header == "Epoch 1/1"
    frames = bar.split("\r")[1:]
    assert [f.split("/")[0].strip() for f in frames] == ["1", "2", "3", "4", "4"]
    assert re.match(r"4/4 ━{20} \d+\.\ds \d+(us|ms|s)/step - loss: \d\.\d{4} - accuracy: ", frames[-1])
    assert "val_loss: " in frames[-1] and "val_loss" not in frames[-2]  # validation joins the final line


def test_plain_bar_is_drawn_at_most_every_interval_and_after_the_last_batch(monkeypatch):
    """As Keras's Progbar (`interval=0.05`): quick batches are not each drawn; the first and the
    last are, and the epoch's final line."""
    monkeypatch.setattr(progress, "rich", None)
    monkeypatch.setattr(progress, "REDRAW_INTERVAL", 3600.0)
    x, y = make_data()
    stream = FakeTerminal()
    logger = progress.ProgressLogger(verbose=1, stream=stream)
    make_model().fit(x, y, epochs=1, batch_size=10, callbacks=[logger], verbose=0)
    frames = stream.getvalue().split("\n")[1].split("\r")[1:]
    assert [f.split("/")[0].strip() for f in frames] == ["1", "4", "4"]


def test_bar_half_filled_and_unknown_total():
    assert progress._bar(1, 2) == "━" * 10 + " " * 10
    assert progress._bar(1, 40) == "╸" + " " * 19
    assert progress._bar(3, None) == ""
    assert progress._per_step(0.0021) == "2ms/step" and progress._per_step(2e-5) == "20us/step"


def test_verbose_2_prints_one_line_per_epoch_with_validation(capsys):
    x, y = make_data()
    make_model().fit(x, y, epochs=3, batch_size=10, validation_split=0.25, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and all(line.startswith(f"Epoch {i + 1}/3 - 3/3 - ") for i, line in enumerate(lines))
    assert "/step - loss: " in lines[0] and "val_accuracy: " in lines[0]


def test_evaluate_and_predict_print_one_line_off_a_terminal(capsys):
    x, y = make_data()
    model = make_model()
    model.evaluate(x, y, batch_size=16)
    model.predict(x, batch_size=16, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[0].startswith("3/3 - ") and "loss: " in lines[0]
    assert lines[1].startswith("3/3 - ") and "loss" not in lines[1]
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
    assert capsys.readouterr().out == ""


def test_evaluate_draws_a_bar_in_a_terminal(monkeypatch):
    monkeypatch.setattr(progress, "rich", None)
    x, y = make_data()
    stream = FakeTerminal()
    model = make_model()
    logger = progress.ProgressLogger(verbose=1, stream=stream, mode="evaluate")
    model.evaluate(x, y, batch_size=16, callbacks=[logger], verbose=0)
    assert stream.getvalue().startswith("\r1/3 ") and stream.getvalue().endswith("\n")
