"""The fit / evaluate / predict loops: every callback hook, in Keras 3's order, with Keras's
arguments, logs and params; initial_epoch, validation_freq, stop_training, verbose."""

import numpy as np
import pytest

import barenet as bn
from barenet import callbacks as cb
from barenet.callbacks.base import HOOKS


def make_data(n=48, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    labels = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0).astype(int)
    return x, bn.to_categorical(labels, 3)


def make_model(seed=0):
    model = bn.Sequential([bn.Dense(8, "relu", input_dim=4), bn.Dense(3, "softmax")], seed=seed)
    model.compile(bn.optimizers.SGD(0.1), "categorical_crossentropy", ["accuracy"])
    return model


class Recorder(cb.Callback):
    """Records every hook (but the legacy on_batch_*, which the on_train_batch_* it overrides would call)."""

    def __init__(self):
        super().__init__()
        self.calls, self.logs = [], []

    def __getattribute__(self, name):
        if name in HOOKS and name not in ("on_batch_begin", "on_batch_end"):
            def hook(*args):
                *index, logs = args
                self.calls.append(name + "".join(f"({i})" for i in index))
                self.logs.append((name, dict(logs) if logs is not None else None))
            return hook
        return super().__getattribute__(name)


# Keras 3's order (keras/src/backend/*/trainer.py: fit -> evaluate(callbacks=callbacks) before on_epoch_end).
def expected_fit(epochs, steps, val_steps, first=0):
    calls = ["on_train_begin"]
    for epoch in range(first, epochs):
        calls.append(f"on_epoch_begin({epoch})")
        for step in range(steps):
            calls += [f"on_train_batch_begin({step})", f"on_train_batch_end({step})"]
        calls.append("on_test_begin")
        for step in range(val_steps):
            calls += [f"on_test_batch_begin({step})", f"on_test_batch_end({step})"]
        calls += ["on_test_end", f"on_epoch_end({epoch})"]
    return calls + ["on_train_end"]


def test_fit_with_validation_calls_every_hook_in_keras_order():
    x, y = make_data()
    model = make_model()
    recorder = Recorder()
    model.fit(x, y, epochs=2, batch_size=16, validation_data=(x[:20], y[:20]), validation_batch_size=10,
              callbacks=[recorder], verbose=0)
    assert recorder.calls == expected_fit(2, 3, 2)
    assert recorder.params == {"verbose": 0, "epochs": 2, "steps": 3}
    assert recorder.model is model
    logs = dict(recorder.logs)
    assert logs["on_train_begin"] == {} and logs["on_epoch_begin"] == {} and logs["on_train_batch_begin"] == {}
    assert set(logs["on_train_batch_end"]) == {"loss", "accuracy"}
    assert set(logs["on_test_end"]) == {"loss", "accuracy"}
    assert set(logs["on_epoch_end"]) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert logs["on_train_end"] == logs["on_epoch_end"]  # the last epoch's logs
    assert logs["on_test_end"]["loss"] == logs["on_epoch_end"]["val_loss"]


def test_epoch_logs_are_the_last_running_batch_logs():
    x, y = make_data()
    recorder = Recorder()
    history = make_model().fit(x, y, epochs=1, batch_size=16, callbacks=[recorder], verbose=0)
    batch_logs = [logs for name, logs in recorder.logs if name == "on_train_batch_end"]
    assert batch_logs[-1] == {key: values[0] for key, values in history.history.items()}


def test_evaluate_and_predict_hooks_in_keras_order():
    x, y = make_data(n=20)
    model = make_model()
    recorder = Recorder()
    model.evaluate(x, y, batch_size=8, callbacks=[recorder], verbose=0)
    assert recorder.calls == ["on_test_begin", "on_test_batch_begin(0)", "on_test_batch_end(0)",
                              "on_test_batch_begin(1)", "on_test_batch_end(1)", "on_test_batch_begin(2)",
                              "on_test_batch_end(2)", "on_test_end"]
    assert recorder.params == {"verbose": 0, "epochs": 1, "steps": 3}
    recorder = Recorder()
    out = model.predict(x, batch_size=8, callbacks=[recorder], verbose=0)
    assert recorder.calls == ["on_predict_begin", "on_predict_batch_begin(0)", "on_predict_batch_end(0)",
                              "on_predict_batch_begin(1)", "on_predict_batch_end(1)", "on_predict_batch_begin(2)",
                              "on_predict_batch_end(2)", "on_predict_end"]
    outputs = [logs["outputs"] for name, logs in recorder.logs if name == "on_predict_batch_end"]
    np.testing.assert_array_equal(np.concatenate(outputs), out)
    assert [len(o) for o in outputs] == [8, 8, 4]


def test_legacy_batch_hooks_fire_through_the_train_batch_hooks():
    x, y = make_data()
    calls = []
    legacy = cb.LambdaCallback(on_batch_begin=lambda b, logs: calls.append(("begin", b)),
                               on_batch_end=lambda b, logs: calls.append(("end", b, sorted(logs))))
    make_model().fit(x, y, epochs=1, batch_size=24, callbacks=[legacy], validation_data=(x, y), verbose=0)
    assert calls == [("begin", 0), ("end", 0, ["accuracy", "loss"]), ("begin", 1), ("end", 1, ["accuracy", "loss"])]


def test_initial_epoch_and_validation_freq():
    x, y = make_data()
    recorder = Recorder()
    history = make_model().fit(x, y, epochs=5, initial_epoch=2, batch_size=48, validation_data=(x, y),
                               validation_freq=2, callbacks=[recorder], verbose=0)
    assert history.epoch == [2, 3, 4]
    epochs_validated = [logs for name, logs in recorder.logs if name == "on_epoch_end"]
    assert ["val_loss" in logs for logs in epochs_validated] == [False, True, False]  # epoch 4 (from 1) only
    history = make_model().fit(x, y, epochs=3, validation_data=(x, y), validation_freq=[1, 3], verbose=0)
    assert len(history.history["val_loss"]) == 2


def test_stop_training_in_a_batch_hook_finishes_the_epoch_as_keras():
    x, y = make_data()
    recorder = Recorder()

    def stop(batch, logs):
        if batch == 0:
            model.stop_training = True

    model = make_model()
    history = model.fit(x, y, epochs=3, batch_size=16, validation_data=(x, y),
                        callbacks=[cb.LambdaCallback(on_train_batch_end=stop), recorder], verbose=0)
    assert history.epoch == [0] and "val_loss" in history.history
    assert recorder.calls.count("on_train_batch_end(0)") == 1 and "on_train_batch_begin(1)" not in recorder.calls


def test_history_is_added_once_and_returned():
    x, y = make_data()
    mine = cb.History()
    model = make_model()
    returned = model.fit(x, y, epochs=2, callbacks=[mine], verbose=0)
    assert returned is mine is model.history and mine.epoch == [0, 1]


def test_verbose_auto_is_one_and_bad_values_refused(capsys):
    x, y = make_data()
    model = make_model()
    model.fit(x, y, epochs=2)  # "auto": a line per epoch off a terminal
    assert capsys.readouterr().out.count("Epoch ") == 2
    for method, args in ((model.fit, (x, y)), (model.evaluate, (x, y)), (model.predict, (x,))):
        with pytest.raises(ValueError, match="`verbose` must be 'auto', 0, 1 or 2"):
            method(*args, verbose=3)
    with pytest.raises(TypeError, match="wrap it in a list"):
        model.fit(x, y, callbacks=cb.History(), verbose=0)


def test_a_progress_logger_of_ones_own_replaces_the_default(capsys):
    import io

    from barenet import progress

    x, y = make_data()
    stream = io.StringIO()
    make_model().fit(x, y, epochs=2, verbose=1, callbacks=[progress.ProgressLogger(verbose=2, stream=stream)])
    assert capsys.readouterr().out == "" and stream.getvalue().count("Epoch ") == 2
