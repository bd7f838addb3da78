"""A Keras-guide-style program ("training & evaluation with built-in methods": a functional model
with callbacks), run with only the import changed: `import barenet as keras`."""

import numpy as np

import barenet as keras
from barenet import layers


def test_functional_model_with_callbacks_program(tmp_path, capsys):
    (x_train, y_train), (x_test, y_test) = keras.datasets.digits.load_data()
    x_train = x_train.reshape(-1, 64).astype("float32") / 16
    x_test = x_test.reshape(-1, 64).astype("float32") / 16

    keras.utils.set_random_seed(1)
    inputs = keras.Input(shape=(64,), name="digits")
    x = layers.Dense(32, activation="relu", name="dense_1")(inputs)
    outputs = layers.Dense(10, activation="softmax", name="predictions")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=1e-2),
                  loss=keras.losses.SparseCategoricalCrossentropy(), metrics=["sparse_categorical_accuracy"])

    class LossHistory(keras.callbacks.Callback):
        def on_train_begin(self, logs):
            self.per_batch_losses = []

        def on_batch_end(self, batch, logs):
            self.per_batch_losses.append(logs.get("loss"))

    class DigitsSequence(keras.utils.PyDataset):
        def __init__(self, x, y, batch_size, **kwargs):
            super().__init__(**kwargs)
            self.x, self.y, self.batch_size = x, y, batch_size

        def __len__(self):
            return int(np.ceil(len(self.x) / self.batch_size))

        def __getitem__(self, idx):
            low = idx * self.batch_size
            return self.x[low:low + self.batch_size], self.y[low:low + self.batch_size]

    loss_history = LossHistory()
    callbacks = [
        keras.callbacks.EarlyStopping(monitor="val_loss", min_delta=1e-2, patience=2, verbose=1),
        keras.callbacks.ModelCheckpoint(filepath=str(tmp_path / "mymodel_{epoch}.keras"), save_best_only=True,
                                        monitor="val_loss", verbose=1),
        keras.callbacks.CSVLogger(str(tmp_path / "training.csv")),
        loss_history,
    ]
    history = model.fit(x_train, y_train, batch_size=64, epochs=6, validation_split=0.2, callbacks=callbacks)
    steps = int(np.ceil(len(x_train) * 0.8 / 64))
    assert len(loss_history.per_batch_losses) == steps * len(history.epoch)
    assert history.history["val_sparse_categorical_accuracy"][-1] > 0.85
    assert (tmp_path / "mymodel_1.keras").exists()
    out = capsys.readouterr().out
    assert "Epoch 1: val_loss improved from inf to" in out and "Epoch 1/6" in out

    more = model.fit(DigitsSequence(x_train, y_train, 64), epochs=1, verbose=0,
                     validation_data=DigitsSequence(x_test, y_test, 128))
    assert set(more.history) == {"loss", "sparse_categorical_accuracy", "val_loss",
                                 "val_sparse_categorical_accuracy"}
    results = model.evaluate(x_test, y_test, batch_size=128, return_dict=True, verbose=0)
    assert results["sparse_categorical_accuracy"] > 0.85
    predictions = model.predict(x_test[:3], verbose=0)
    assert predictions.shape == (3, 10)
    np.testing.assert_allclose(predictions.sum(axis=1), 1, rtol=1e-5)
