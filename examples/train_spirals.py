"""Train a small network on a synthetic three-arm spiral, end to end, offline.

    python examples/train_spirals.py

Shows both API spellings: the blog's NN/FFL and Keras's Sequential/Dense.
"""

import numpy as np

import barenet as bn


def make_spirals(samples_per_class: int, classes: int, rng: np.random.Generator):
    """Points on `classes` interleaved spiral arms, with a little noise."""
    radius = np.tile(np.linspace(0.05, 1.0, samples_per_class), classes)
    label = np.repeat(np.arange(classes), samples_per_class)
    angle = label * 2 * np.pi / classes + radius * 9 + rng.normal(0, 0.25, radius.size)
    x = np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1)
    return x.astype("float32"), label


def main() -> float:
    rng = np.random.default_rng(0)
    x, labels = make_spirals(1000, 3, rng)
    order = rng.permutation(len(x))
    x, labels = x[order], labels[order]
    x_train, x_test, y_train, y_test = x[:2400], x[2400:], labels[:2400], labels[2400:]

    # The blog's spelling.
    model = bn.NN(seed=0)
    model.add(bn.FFL(input_shape=2, neurons=64, activation="relu"))
    model.add(bn.FFL(neurons=64, activation="relu"))
    model.add(bn.FFL(neurons=3, activation="softmax"))
    model.compile_model(lr=0.01, opt="adam", loss="cse", metrics=["accuracy"])
    model.summary()
    model.train(x_train, bn.one_hot_encoding(y_train, 3), epochs=40, show_every=10, val_split=0.1)

    # The same model object answers Keras's spelling too.
    loss, accuracy = model.evaluate(x_test, bn.to_categorical(y_test, 3), verbose=0)
    print(f"test loss {loss:.4f}, test accuracy {accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    main()
