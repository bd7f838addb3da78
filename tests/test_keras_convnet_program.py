"""End to end: an MNIST-style convnet written the Keras way, with only the import changed
(`import barenet as keras`), on the embedded 8x8 digits."""

import numpy as np

import barenet as keras
from barenet import layers


def test_keras_style_convnet_program(capsys):
    (x_train, y_train), (x_test, y_test) = keras.datasets.digits.load_data()
    x_train = np.expand_dims(x_train.astype("float32"), -1)[:600]
    x_test = np.expand_dims(x_test.astype("float32"), -1)
    y_train = keras.utils.to_categorical(y_train[:600], 10)
    y_test = keras.utils.to_categorical(y_test, 10)
    keras.utils.set_random_seed(3)

    model = keras.Sequential([
        keras.Input(shape=(8, 8, 1)),
        layers.Rescaling(1.0 / 16),
        layers.Conv2D(16, kernel_size=(3, 3), padding="same", kernel_initializer=keras.initializers.HeNormal()),
        layers.ReLU(),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(16, kernel_size=(3, 3), activation="relu", padding="same"),
        layers.GlobalMaxPooling2D(),
        layers.Dropout(0.2),
        layers.Dense(10, activation="softmax"),
    ])
    model.summary()
    printed = capsys.readouterr().out
    assert "Total params: 2,650" in printed  # 0 + 160 + 0 + 0 + 2,320 + 0 + 0 + 170

    model.compile(loss="categorical_crossentropy", optimizer=keras.optimizers.Adam(0.01), metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=32, epochs=8, validation_split=0.1, verbose=0)
    assert set(history.history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert history.history["val_accuracy"][-1] > 0.8
    score = model.evaluate(x_test, y_test)
    accuracy = score["accuracy"] if isinstance(score, dict) else score[1]
    assert accuracy > 0.8

    # Freeze the feature extractor and retrain the head only: the convolutions stay bit-identical.
    for layer in model.layers[:-1]:
        layer.trainable = False
    frozen = [w.copy() for layer in model.layers[:-1] for w in layer.get_weights()]
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=64, epochs=1, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(frozen, [w for layer in model.layers[:-1]
                                                             for w in layer.get_weights()]))
    assert len(model.trainable_weights) == 2
