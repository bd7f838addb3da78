"""Callbacks, NaN/inf stop, Ctrl-C at a batch boundary, progress output, summary table."""

import csv
import io
import math
import os
import signal

import numpy as np
import pytest

import barenet as bn
from barenet import callbacks as cb
from barenet import progress


def make_data(n=120, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    labels = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0).astype(int)
    return x, bn.to_categorical(labels, 3)


def make_model(lr=0.01, seed=0):
    model = bn.Sequential([bn.Dense(8, "relu", input_dim=4), bn.Dense(3, "softmax")], seed=seed)
    model.compile(bn.optimizers.SGD(lr), "categorical_crossentropy", ["accuracy"])
    return model


class Recorder(cb.Callback):
    """Records val_loss and a copy of the weights after every epoch."""

    def __init__(self):
        super().__init__()
        self.weights, self.values = [], []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())
        self.values.append(logs["val_loss"])


# --- EarlyStopping ----------------------------------------------------------------------------
def test_early_stopping_stops_after_patience_and_restores_best():
    x, y = make_data()
    model = make_model(lr=0.5)
    # val_loss on shuffled labels: it soon stops improving.
    y_val = y[np.random.default_rng(1).permutation(len(y))]
    recorder = Recorder()
    stop = cb.EarlyStopping(patience=2, restore_best_weights=True)
    history = model.fit(x, y, epochs=60, validation_data=(x, y_val), callbacks=[recorder, stop], verbose=0)
    epochs_run = len(history.epoch)
    assert epochs_run < 60 and stop.stopped_epoch == epochs_run - 1
    best = int(np.argmin(recorder.values))
    assert stop.best_epoch == best and epochs_run == best + 3
    for got, want in zip(model.get_weights(), recorder.weights[best]):
        np.testing.assert_array_equal(got, want)


def test_restore_best_weights_even_without_stopping_early():
    x, y = make_data()
    model = make_model(lr=0.5)
    y_val = y[np.random.default_rng(1).permutation(len(y))]
    recorder = Recorder()
    stop = cb.EarlyStopping(patience=100, restore_best_weights=True)
    model.fit(x, y, epochs=8, validation_data=(x, y_val), callbacks=[recorder, stop], verbose=0)
    assert stop.stopped_epoch == 0  # Keras: 0 when it never stopped
    best = int(np.argmin(recorder.values))
    assert best != 7, "the test needs a run whose last epoch is not the best"
    for got, want in zip(model.get_weights(), recorder.weights[best]):
        np.testing.assert_array_equal(got, want)


def test_early_stopping_on_accuracy_uses_max_mode():
    assert cb.EarlyStopping(monitor="val_accuracy").mode == "max"
    assert cb.EarlyStopping(monitor="loss").mode == "min"
    with pytest.raises(ValueError, match="patience"):
        cb.EarlyStopping(patience=-1)
    with pytest.raises(ValueError, match="mode"):
        cb.EarlyStopping(mode="up")


def test_missing_monitor_warns_and_does_nothing():
    x, y = make_data()
    model = make_model()
    with pytest.warns(RuntimeWarning, match="val_loss"):
        history = model.fit(x, y, epochs=3, callbacks=[cb.EarlyStopping(patience=0)], verbose=0)
    assert len(history.epoch) == 3


# --- ModelCheckpoint --------------------------------------------------------------------------
def test_model_checkpoint_save_best_only(tmp_path):
    x, y = make_data()
    model = make_model(lr=0.5)
    y_val = y[np.random.default_rng(1).permutation(len(y))]
    recorder = Recorder()
    path = str(tmp_path / "best-{epoch:02d}-{val_loss:.3f}.barenet")
    model.fit(x, y, epochs=10, validation_data=(x, y_val),
              callbacks=[recorder, cb.ModelCheckpoint(path, save_best_only=True)], verbose=0)
    improving = [i for i, v in enumerate(recorder.values) if v < min(recorder.values[:i], default=math.inf)]
    expected = [path.format(epoch=i + 1, val_loss=recorder.values[i]) for i in improving]
    assert sorted(str(p) for p in tmp_path.iterdir()) == sorted(expected)
    best = bn.load_model(expected[-1])
    for ours, recorded in zip(best.get_weights(), recorder.weights[improving[-1]]):
        np.testing.assert_array_equal(ours, recorded)


def test_model_checkpoint_every_epoch_overwrites_one_file(tmp_path):
    x, y = make_data()
    model = make_model(lr=0.5)
    target = tmp_path / "m.barenet"
    model.fit(x, y, epochs=3, callbacks=[cb.ModelCheckpoint(str(target), monitor="loss")], verbose=0)
    assert [p.name for p in tmp_path.iterdir()] == ["m.barenet"]
    np.testing.assert_array_equal(bn.load_model(target).predict(x), model.predict(x))


# --- learning-rate callbacks ------------------------------------------------------------------
def test_learning_rate_scheduler_sets_the_rate_each_epoch():
    x, y = make_data()
    model = make_model(lr=0.1)
    seen = []
    spy = cb.LambdaCallback(on_epoch_begin=lambda epoch, logs: seen.append(model.optimizer.learning_rate))
    history = model.fit(x, y, epochs=4, verbose=0,
                        callbacks=[cb.LearningRateScheduler(lambda epoch, lr: 0.1 * 0.5 ** epoch), spy])
    assert seen == [0.1, 0.05, 0.025, 0.0125]
    assert history.history["learning_rate"] == seen
    with pytest.raises(ValueError, match="non-negative"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[cb.LearningRateScheduler(lambda e, lr: -1.0)])


def test_reduce_lr_on_plateau_reduces_after_patience():
    model = make_model(lr=1.0)
    reduce = cb.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=2, min_lr=0.2)
    reduce.set_model(model)
    reduce.on_train_begin()
    rates = []
    for epoch, loss in enumerate([1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95]):
        reduce.on_epoch_end(epoch, {"loss": loss})
        rates.append(model.optimizer.learning_rate)
    # Best 0.9 at epoch 1; two epochs without improvement -> halve; then again every 2; floor 0.2.
    assert rates == [1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.2, 0.2, 0.2]
    with pytest.raises(ValueError, match="factor"):
        cb.ReduceLROnPlateau(factor=1.5)


# --- CSVLogger, LambdaCallback ------------------------------------------------------------------
def test_csv_logger_writes_one_row_per_epoch(tmp_path):
    x, y = make_data()
    model = make_model()
    path = tmp_path / "log.csv"
    history = model.fit(x, y, epochs=3, validation_split=0.25, callbacks=[cb.CSVLogger(path)], verbose=0)
    rows = list(csv.DictReader(path.open()))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    assert set(rows[0]) == {"epoch", "loss", "accuracy", "val_loss", "val_accuracy"}
    np.testing.assert_allclose([float(r["val_loss"]) for r in rows], history.history["val_loss"])
    model.fit(x, y, epochs=2, callbacks=[cb.CSVLogger(path, append=True)], verbose=0)
    assert len(list(csv.DictReader(path.open()))) == 5


def test_lambda_callback_calls_each_hook():
    x, y = make_data(n=40)
    model = make_model()
    calls = []
    hooks = cb.LambdaCallback(on_train_begin=lambda logs: calls.append("train_begin"),
                              on_epoch_end=lambda epoch, logs: calls.append(f"epoch{epoch}"),
                              on_batch_end=lambda batch, logs: calls.append("batch"),
                              on_train_end=lambda logs: calls.append("train_end"))
    model.fit(x, y, epochs=2, batch_size=20, callbacks=[hooks], verbose=0)
    assert calls == ["train_begin", "batch", "batch", "epoch0", "batch", "batch", "epoch1", "train_end"]
    with pytest.raises(TypeError, match="Unknown hook"):
        cb.LambdaCallback(on_epoch_finish=print)


# --- NaN / inf ----------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
def test_nan_loss_stops_and_keeps_last_good_weights(capsys):
    x, y = make_data()
    model = make_model(lr=0.01)
    snapshots = []
    keep = cb.LambdaCallback(on_batch_end=lambda batch, logs: snapshots.append(model.get_weights()))
    # Poison the weights' inputs in epoch 2: the loss of batch 3 of epoch 2 becomes inf/NaN.
    x_bad = x.copy()

    def poison(epoch, logs):
        if epoch == 1:
            x_bad[64:96] = 3e38  # batch 3 (batch_size 32, no shuffle)

    history = model.fit(x_bad, y, epochs=5, batch_size=32, shuffle=False, verbose=0,
                        callbacks=[keep, cb.LambdaCallback(on_epoch_begin=poison)])
    err = capsys.readouterr().err
    assert "epoch 2, batch 3" in err and "weights are the last good ones" in err
    assert history.epoch == [0] and history.stop_reason is not None
    assert len(snapshots) == 4 + 2  # 4 batches of epoch 1, 2 good batches of epoch 2
    for got, want in zip(model.get_weights(), snapshots[-1]):
        np.testing.assert_array_equal(got, want)
    assert all(np.isfinite(w).all() for w in model.get_weights())


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
def test_exploding_training_stops_without_callback():
    x, y = make_data()
    model = bn.Sequential([bn.Dense(8, "relu", input_dim=4), bn.Dense(1)], seed=0)
    model.compile(bn.optimizers.SGD(1e6), "mse")
    history = model.fit(x, y[:, :1] * 1e3, epochs=50, verbose=0)
    assert len(history.epoch) < 50
    assert "not finite" in history.stop_reason or "loss is" in history.stop_reason
    assert all(np.isfinite(w).all() for w in model.get_weights())
    assert all(math.isfinite(v) for v in history.history.get("loss", []))


def test_terminate_on_nan_callback():
    model = make_model()
    term = cb.TerminateOnNaN()
    term.set_model(model)
    term.on_batch_end(0, {"loss": 0.5})
    assert not model.stop_training
    term.on_batch_end(1, {"loss": float("nan")})
    assert model.stop_training


# --- Ctrl-C ----------------------------------------------------------------------------------------
@pytest.fixture
def default_sigint():
    """Python's own Ctrl-C handler for the test: a process started in the background by a shell
    without job control inherits SIGINT ignored, and Python then keeps ignoring it."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_sigint_stops_at_a_batch_boundary_and_keeps_history(capsys, default_sigint):
    x, y = make_data()
    model = make_model()
    weights_after_batch = []

    def on_batch_end(batch, logs):
        weights_after_batch.append(model.get_weights())
        if len(weights_after_batch) == 6:  # epoch 2, batch 2
            os.kill(os.getpid(), signal.SIGINT)

    history = model.fit(x, y, epochs=5, batch_size=32, verbose=0,
                        callbacks=[cb.LambdaCallback(on_batch_end=on_batch_end)])
    assert history.epoch == [0] and "interrupted" in history.stop_reason
    assert len(weights_after_batch) == 6
    for got, want in zip(model.get_weights(), weights_after_batch[-1]):
        np.testing.assert_array_equal(got, want)
    assert "Ctrl-C" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored
    model.fit(x, y, epochs=1, verbose=0)  # the model trains on afterwards


def test_keyboard_interrupt_from_a_callback_returns_history():
    x, y = make_data()
    model = make_model()

    def on_epoch_end(epoch, logs):
        if epoch == 2:
            raise KeyboardInterrupt

    history = model.fit(x, y, epochs=10, verbose=0, callbacks=[cb.LambdaCallback(on_epoch_end=on_epoch_end)])
    # The interrupt came before History recorded epoch 3: only complete epochs are kept.
    assert history.epoch == [0, 1] and "interrupted" in history.stop_reason


# --- progress ----------------------------------------------------------------------------------------
class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_non_terminal_gets_one_tidy_line_per_epoch():
    x, y = make_data()
    model = make_model()
    stream = io.StringIO()
    model.fit(x, y, epochs=3, verbose=0, callbacks=[progress.ProgressLogger(verbose=1, stream=stream)])
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3 and "\r" not in stream.getvalue()
    assert lines[0].startswith("Epoch 1/3 - ") and "loss: " in lines[0] and "accuracy: " in lines[0]


def test_terminal_gets_a_live_rich_bar():
    pytest.importorskip("rich")
    x, y = make_data()
    model = make_model()
    stream = FakeTerminal()
    model.fit(x, y, epochs=2, verbose=0, callbacks=[progress.ProgressLogger(verbose=1, stream=stream)])
    out = stream.getvalue()
    assert "\r" in out or "\x1b[" in out  # redrawn in place
    assert "Epoch 2/2" in out and "4/4" in out and "loss: " in out


def test_terminal_without_rich_draws_a_plain_bar(monkeypatch):
    monkeypatch.setattr(progress, "rich", None)
    x, y = make_data()
    model = make_model()
    stream = FakeTerminal()
    model.fit(x, y, epochs=2, verbose=0, callbacks=[progress.ProgressLogger(verbose=1, stream=stream)])
    out = stream.getvalue()
    assert out.count("Epoch ") == 2 and "\x1b[" not in out and "\r" in out
    assert "4/4 ━━━━━━━━━━━━━━━━━━━━" in out and "/step - loss: " in out


def test_verbose_levels(capsys):
    x, y = make_data()
    model = make_model()
    model.fit(x, y, epochs=2, verbose=2)
    assert capsys.readouterr().out.count("Epoch ") == 2
    model.fit(x, y, epochs=2, verbose=0)
    assert capsys.readouterr().out == ""
    with pytest.raises(ValueError, match="verbose"):
        model.fit(x, y, verbose=3)


def test_blog_show_every_keeps_its_meaning(capsys):
    x, y = make_data()
    model = make_model()
    model.train(x, y, epochs=7, show_every=3, val_split=0.1)
    out = capsys.readouterr().out
    assert [line.split(",")[0] for line in out.splitlines() if line.startswith("Epoch")] == [
        "Epoch: 0", "Epoch: 3", "Epoch: 6"]  # the post's lines, every show_every epochs from 0


# --- summary ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("with_rich", [True, False])
def test_summary_table_same_totals_every_call(with_rich, monkeypatch):
    if with_rich:
        pytest.importorskip("rich")
    else:
        monkeypatch.setattr(progress, "rich", None)
    model = make_model()
    outputs = []
    model.summary(print_fn=outputs.append)
    model.summary(print_fn=outputs.append)
    assert outputs[0] == outputs[1]
    text = outputs[0]
    assert "Total params: 67" in text and text.count("Total params") == 1  # (4*8+8) + (8*3+3)
    for cell in ("Layer", "Type", "Output shape", "Activation", "Params", "dense_1", "Dense", "(None, 8)", "softmax", "27"):
        assert cell in text


# --- batch hooks that nobody implements -----------------------------------------------------------
def test_callback_list_knows_which_batch_hooks_are_implemented():
    class OnlyLegacy(cb.Callback):
        def on_batch_end(self, batch, logs=None):
            pass

    class OnlyEpochs(cb.Callback):
        def on_epoch_end(self, epoch, logs=None):
            pass

    quiet = cb.CallbackList([OnlyEpochs(), cb.History()])
    assert not quiet.implements("on_train_batch_begin") and not quiet.implements("on_train_batch_end")
    assert cb.CallbackList([OnlyLegacy()]).implements("on_train_batch_end")
    assert not cb.CallbackList([OnlyLegacy()]).implements("on_train_batch_begin")
    assert cb.CallbackList([cb.LambdaCallback(on_train_batch_begin=print)]).implements("on_train_batch_begin")
    assert cb.CallbackList([cb.LambdaCallback(on_batch_end=print)]).implements("on_train_batch_end")


def test_epoch_logs_are_the_same_with_and_without_batch_hooks():
    """Without a batch hook the step's logs are read once, at the epoch's end: the same values."""
    x, y = make_data()
    histories, seen = [], []
    for callbacks in ([], [cb.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(logs))]):
        model = make_model()
        histories.append(model.fit(x, y, epochs=3, batch_size=32, verbose=0, callbacks=callbacks).history)
    assert histories[0] == histories[1]
    assert seen[-1] == {key: values[-1] for key, values in histories[1].items()}
