"""An imbalanced-classification program written the Keras way, with only the import changed:
confusion-count, precision and recall metrics, class weights, and evaluate's list of values."""

import numpy as np

import barenet as keras


def test_imbalanced_classification_with_class_weights_and_precision_recall():
    rng = np.random.default_rng(7)
    n = 1200
    y = (rng.uniform(size=n) < 0.08).astype("float32")          # 8% positives
    x = rng.normal(size=(n, 5)).astype("float32")
    x[:, 0] += 1.5 * y                                          # a weak signal in two features
    x[:, 1] -= 1.0 * y
    x_train, y_train, x_test, y_test = x[:900], y[:900], x[900:], y[900:]

    metrics = [
        keras.metrics.FalseNegatives(name="fn"),
        keras.metrics.FalsePositives(name="fp"),
        keras.metrics.TrueNegatives(name="tn"),
        keras.metrics.TruePositives(name="tp"),
        keras.metrics.Precision(name="precision"),
        keras.metrics.Recall(name="recall"),
        keras.metrics.AUC(name="auc"),
    ]
    model = keras.Sequential([
        keras.Input(shape=(5,)),
        keras.layers.Dense(16, activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ], seed=3)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy", metrics=metrics)

    counts = np.bincount(y_train.astype(int))
    class_weight = {0: 1.0 / counts[0] * len(y_train) / 2, 1: 1.0 / counts[1] * len(y_train) / 2}
    for epoch in range(8):
        model.reset_metrics()
        for start in range(0, len(x_train), 64):
            logs = model.train_on_batch(x_train[start:start + 64], y_train[start:start + 64],
                                        class_weight=class_weight, return_dict=True)
    assert logs["fn"] + logs["fp"] + logs["tn"] + logs["tp"] == len(x_train)   # the whole epoch was counted

    _, fn, fp, tn, tp, precision, recall, auc = model.evaluate(x_test, y_test, verbose=0)
    assert model.metrics_names == ["loss", "fn", "fp", "tn", "tp", "precision", "recall", "auc"]
    assert fn + fp + tn + tp == len(x_test) and tp + fn == y_test.sum()
    assert precision == tp / (tp + fp) and recall == tp / (tp + fn)
    predicted = model.predict(x_test)[:, 0] > 0.5
    assert tp == np.sum(predicted & (y_test == 1)) and fp == np.sum(predicted & (y_test == 0))
    # class weights make the rare class count: most positives are found
    assert recall >= 0.7 and auc > 0.85
