"""Keras 3's callbacks: ModelCheckpoint, BackupAndRestore, TensorBoard, EarlyStopping's baseline
and warm-up, and the learning-rate callbacks with a schedule."""

import os

import numpy as np
import pytest

import barenet as bn
from barenet import callbacks as cb


def make_data(n=48, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    labels = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0).astype(int)
    return x, bn.to_categorical(labels, 3)


def make_model(seed=0, optimizer=None, dropout=False):
    layers = [bn.Dense(8, "relu", input_dim=4)] + ([bn.Dropout(0.3)] if dropout else []) + [bn.Dense(3, "softmax")]
    model = bn.Sequential(layers, seed=seed)
    model.compile(optimizer or bn.optimizers.SGD(0.1), "categorical_crossentropy", ["accuracy"])
    return model


def same_weights(a, b):
    return all(np.array_equal(wa, wb) for wa, wb in zip(a, b))


# --- ModelCheckpoint -------------------------------------------------------------------------------
def test_model_checkpoint_fills_epoch_and_log_names(tmp_path):
    x, y = make_data()
    model = make_model()
    pattern = str(tmp_path / "ckpt-{epoch:02d}-{val_loss:.2f}.barenet")
    history = model.fit(x, y, epochs=3, validation_data=(x, y), callbacks=[cb.ModelCheckpoint(pattern)], verbose=0)
    names = sorted(os.listdir(tmp_path))
    assert names == sorted(f"ckpt-{e + 1:02d}-{v:.2f}.barenet" for e, v in enumerate(history.history["val_loss"]))
    loaded = bn.load_model(tmp_path / names[-1])
    assert same_weights(loaded.get_weights(), model.get_weights())


def test_model_checkpoint_best_only_threshold_and_weights_only(tmp_path, capsys):
    x, y = make_data()
    model = make_model()
    path = tmp_path / "best.weights.barenet"
    values = []
    keep = cb.LambdaCallback(on_epoch_end=lambda e, logs: values.append((logs["loss"], model.get_weights())))
    checkpoint = cb.ModelCheckpoint(path, monitor="loss", save_best_only=True, save_weights_only=True, verbose=1)
    model.fit(x, y, epochs=4, batch_size=8, callbacks=[keep, checkpoint], verbose=0)
    best_loss, best_weights = min(values, key=lambda v: v[0])
    fresh = make_model(seed=1)
    fresh.load_weights(path)
    assert same_weights(fresh.get_weights(), best_weights) and checkpoint.best == best_loss
    assert "loss improved from inf to" in capsys.readouterr().out
    never = cb.ModelCheckpoint(tmp_path / "never.barenet", monitor="loss", save_best_only=True,
                               initial_value_threshold=0.0)
    make_model().fit(x, y, epochs=2, callbacks=[never], verbose=0)
    assert not (tmp_path / "never.barenet").exists()


def test_model_checkpoint_save_freq_in_batches(tmp_path):
    x, y = make_data()
    checkpoint = cb.ModelCheckpoint(str(tmp_path / "e{epoch}-b{batch}.barenet"), save_freq=4, save_weights_only=True)
    make_model().fit(x, y, epochs=2, batch_size=16, callbacks=[checkpoint], verbose=0)  # 3 batches per epoch
    saved = sorted(os.listdir(tmp_path))
    assert saved == ["e2-b1.barenet"]  # batches counted across epochs: the 4th is epoch 2's first
    with pytest.raises(ValueError, match="`save_freq` must be 'epoch' or a positive integer"):
        cb.ModelCheckpoint("x", save_freq="batch")


# --- BackupAndRestore ------------------------------------------------------------------------------
class Crash(cb.Callback):
    def __init__(self, epoch, batch):
        super().__init__()
        self.at = (epoch, batch)
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            raise RuntimeError("simulated crash")


@pytest.mark.parametrize("optimizer", ["adam", "sgd_momentum"])
def test_backup_and_restore_resumes_to_the_same_weights(tmp_path, optimizer):
    def opt():
        return bn.optimizers.Adam(0.01) if optimizer == "adam" else bn.optimizers.SGD(0.05, momentum=0.9)

    x, y = make_data()
    straight = make_model(optimizer=opt(), dropout=True)
    straight.fit(x, y, epochs=4, batch_size=16, verbose=0)

    model = make_model(optimizer=opt(), dropout=True)
    backup = cb.BackupAndRestore(tmp_path / "backup")
    with pytest.raises(RuntimeError, match="simulated crash"):
        model.fit(x, y, epochs=4, batch_size=16, callbacks=[backup, Crash(2, 1)], verbose=0)
    assert (tmp_path / "backup" / "latest.backup.npz").exists()
    # A new process: a fresh model (other initial weights) and the same fit call.
    resumed = make_model(seed=7, optimizer=opt(), dropout=True)
    history = resumed.fit(x, y, epochs=4, batch_size=16, callbacks=[cb.BackupAndRestore(tmp_path / "backup")],
                          verbose=0)
    assert history.epoch == [2, 3]
    assert same_weights(resumed.get_weights(), straight.get_weights())
    assert resumed.optimizer.iterations == straight.optimizer.iterations
    assert not (tmp_path / "backup").exists()  # deleted once training finished


def test_backup_every_n_batches_resumes_at_the_start_of_the_interrupted_epoch(tmp_path):
    x, y = make_data()
    model = make_model()
    with pytest.raises(RuntimeError):
        model.fit(x, y, epochs=3, batch_size=16, callbacks=[cb.BackupAndRestore(tmp_path, save_freq=2),
                                                            Crash(1, 1)], verbose=0)
    crashed_weights = model.get_weights()  # 5 steps; the backup holds 4 (batches counted across epochs)
    resumed = make_model(seed=3)
    seen = []
    history = resumed.fit(x, y, epochs=3, batch_size=16, verbose=0,
                          callbacks=[cb.BackupAndRestore(tmp_path, save_freq=2, delete_checkpoint=False),
                                     cb.LambdaCallback(on_epoch_begin=lambda e, logs: seen.append(
                                         resumed.get_weights()))])
    assert history.epoch == [1, 2] and (tmp_path / "latest.backup.npz").exists()
    assert not same_weights(seen[0], crashed_weights)  # the crash came one batch after the backup
    assert resumed.optimizer.iterations == 4 + 6  # 4 steps restored, then epochs 2 and 3 again


def test_backup_refuses_another_model(tmp_path):
    x, y = make_data()
    with pytest.raises(RuntimeError):
        make_model().fit(x, y, epochs=2, callbacks=[cb.BackupAndRestore(tmp_path), Crash(1, 0)], verbose=0)
    other = bn.Sequential([bn.Dense(5, input_dim=4), bn.Dense(3, "softmax")], seed=0)
    other.compile("sgd", "categorical_crossentropy")
    before = other.get_weights()
    with pytest.raises(ValueError, match="does not fit this model"):
        other.fit(x, y, epochs=2, callbacks=[cb.BackupAndRestore(tmp_path)], verbose=0)
    assert same_weights(before, other.get_weights())
    with pytest.raises(ValueError, match="`backup_dir` must be a non-empty path"):
        cb.BackupAndRestore("")


# --- TensorBoard -----------------------------------------------------------------------------------
def test_tensorboard_event_files_read_back_with_tensorboard(tmp_path):
    event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    x, y = make_data()
    model = make_model()
    history = model.fit(x, y, epochs=3, validation_data=(x[:16], y[:16]), verbose=0,
                        callbacks=[cb.TensorBoard(tmp_path, histogram_freq=1)])
    for folder, prefix in (("train", ""), ("validation", "val_")):
        acc = event_accumulator.EventAccumulator(str(tmp_path / folder))
        acc.Reload()
        for name in ("loss", "accuracy"):
            events = acc.Scalars(f"epoch_{name}")
            assert [e.step for e in events] == [0, 1, 2]
            np.testing.assert_allclose([e.value for e in events], history.history[prefix + name], rtol=1e-6)
    acc = event_accumulator.EventAccumulator(str(tmp_path / "train"))
    acc.Reload()
    assert any("histogram" in tag for tag in acc.Tags()["histograms"])


def test_tensorboard_batch_scalars(tmp_path):
    event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    x, y = make_data()
    make_model().fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[cb.TensorBoard(tmp_path, update_freq=2)])
    acc = event_accumulator.EventAccumulator(str(tmp_path / "train"))
    acc.Reload()
    assert [e.step for e in acc.Scalars("batch_loss")] == [2, 4, 6]


def test_tensorboard_names_the_missing_package(hide_package):
    hide_package("tensorboard")
    with pytest.raises(ImportError, match=r"the tensorboard package.*pip install barenet\[tensorboard\]"):
        cb.TensorBoard("logs")


# --- EarlyStopping ---------------------------------------------------------------------------------
def scripted(model, values):
    """A callback that puts `values[epoch]` into the logs as `score` (before EarlyStopping sees them)."""
    def put(epoch, logs):
        logs["score"] = values[epoch]
    return cb.LambdaCallback(on_epoch_end=put)


def test_early_stopping_baseline_and_start_from_epoch():
    x, y = make_data(n=8)
    model = make_model()
    scores = [0.5, 0.6, 0.55, 0.58, 0.59] + [0.5] * 5
    stop = cb.EarlyStopping(monitor="score", mode="max", patience=2)
    assert model.fit(x, y, epochs=10, callbacks=[scripted(model, scores), stop], verbose=0).epoch == [0, 1, 2, 3]
    # Below the baseline, improving epochs do not restart the count: it stops one epoch sooner.
    stop = cb.EarlyStopping(monitor="score", mode="max", patience=2, baseline=0.9)
    assert model.fit(x, y, epochs=10, callbacks=[scripted(model, scores), stop], verbose=0).epoch == [0, 1, 2]
    stop = cb.EarlyStopping(monitor="score", mode="max", patience=1, start_from_epoch=3)
    history = model.fit(x, y, epochs=10, callbacks=[scripted(model, [5, 4, 3, 2, 1, 0, 0, 0, 0, 0]), stop],
                        verbose=0)
    assert history.epoch == [0, 1, 2, 3, 4] and stop.stopped_epoch == 4


def test_early_stopping_restores_the_best_weights():
    x, y = make_data(n=8)
    model = make_model()
    weights = []
    record = cb.LambdaCallback(on_epoch_end=lambda e, logs: weights.append(model.get_weights()))
    stop = cb.EarlyStopping(monitor="score", patience=2, restore_best_weights=True)
    model.fit(x, y, epochs=10, callbacks=[scripted(model, [3, 1, 2, 2, 2, 2, 2, 2, 2, 2]), record, stop], verbose=0)
    assert stop.best_epoch == 1 and same_weights(model.get_weights(), weights[1])


# --- learning-rate callbacks with a schedule (issue 12's bug) --------------------------------------
@pytest.mark.parametrize("make_callback", [lambda: cb.ReduceLROnPlateau(monitor="loss", patience=0),
                                           lambda: cb.LearningRateScheduler(lambda epoch, lr: lr * 0.5)])
def test_learning_rate_callbacks_with_a_schedule_raise_keras_error_before_training(make_callback):
    x, y = make_data()
    schedule = bn.optimizers.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.9)
    model = make_model(optimizer=bn.optimizers.SGD(schedule))
    before = model.get_weights()
    with pytest.raises(TypeError, match="needs a settable learning rate.*ExponentialDecay"):
        model.fit(x, y, epochs=2, callbacks=[make_callback()], verbose=0)
    assert same_weights(before, model.get_weights())
    assert model.optimizer.learning_rate is schedule


def test_learning_rate_callbacks_log_the_rate():
    x, y = make_data()
    history = make_model().fit(x, y, epochs=3, verbose=0,
                               callbacks=[cb.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))])
    np.testing.assert_allclose(history.history["learning_rate"], [0.1, 0.05, 0.1 / 3])
    history = make_model().fit(x, y, epochs=2, verbose=0,  # Keras's older one-argument form
                               callbacks=[cb.LearningRateScheduler(lambda epoch: 0.2 * 0.5 ** epoch)])
    np.testing.assert_allclose(history.history["learning_rate"], [0.2, 0.1])
    history = make_model().fit(x, y, epochs=3, verbose=0,
                               callbacks=[cb.ReduceLROnPlateau(monitor="loss", patience=0, min_delta=10.0)])
    # Logged before the epoch's reduction (Keras): epoch 2 does not improve by 10, so epoch 3 uses 0.01.
    np.testing.assert_allclose(history.history["learning_rate"], [0.1, 0.1, 0.01])


def test_csv_logger_writes_a_row_per_epoch(tmp_path):
    x, y = make_data()
    path = tmp_path / "log.csv"
    make_model().fit(x, y, epochs=2, callbacks=[cb.CSVLogger(path)], verbose=0)
    assert path.read_text().splitlines()[0] == "epoch,accuracy,loss"  # sorted, as Keras
