"""A small transformer encoder learns to reverse short sequences of digits, offline.

    python examples/transformer_reverse.py            # the full setting
    python examples/transformer_reverse.py --quick    # a few seconds, as the tests run it

Token embedding + learned position embedding, two encoder blocks (multi-head
self-attention and a feed-forward layer, each with a residual connection and layer
normalization), and a per-position softmax over the vocabulary. Reversal needs every
position to read another one, which only attention (not a per-position layer) can do.
"""

import argparse
import time

import numpy as np

import barenet as bn


class PositionEmbedding(bn.Layer):
    """Adds a learned vector for each position: `(batch, steps, width)` in and out."""

    def build(self, input_shape):
        self.positions = self.add_weight(shape=input_shape[1:], initializer="glorot_uniform", name="positions")

    def call(self, inputs):
        return inputs + self.positions


bn.saving.register_keras_serializable(package="examples")(PositionEmbedding)


def encoder_block(x, width: int, heads: int):
    attended = bn.layers.MultiHeadAttention(heads, width // heads)(x, x)
    x = bn.LayerNormalization()(x + attended)
    hidden = bn.Dense(2 * width, activation="relu")(x)
    return bn.LayerNormalization()(x + bn.Dense(width)(hidden))


def build_model(length: int, vocabulary: int, width: int, heads: int, blocks: int = 2, seed: int = 0):
    bn.utils.set_random_seed(seed)
    tokens = bn.Input(shape=(length,), dtype="int32")
    x = PositionEmbedding()(bn.Embedding(vocabulary, width)(tokens))
    for _ in range(blocks):
        x = encoder_block(x, width, heads)
    model = bn.Model(tokens, bn.Dense(vocabulary, activation="softmax")(x), seed=seed)
    model.compile(bn.optimizers.Adam(0.003), "categorical_crossentropy")
    return model


def make_data(samples: int, length: int, vocabulary: int, rng: np.random.Generator):
    x = rng.integers(1, vocabulary, size=(samples, length))
    return x, x[:, ::-1].copy()


def token_accuracy(model, x, y) -> float:
    return float(np.mean(model.predict(x).argmax(axis=-1) == y))


def main(quick: bool = False) -> float:
    length, vocabulary = (6, 8) if quick else (8, 10)
    width, heads = (32, 2) if quick else (64, 4)
    samples, epochs = (2000, 5) if quick else (10000, 12)
    rng = np.random.default_rng(0)
    x, y = make_data(samples, length, vocabulary, rng)
    x_test, y_test = make_data(1000, length, vocabulary, rng)
    model = build_model(length, vocabulary, width, heads)
    start = time.perf_counter()
    model.fit(x, bn.to_categorical(y, vocabulary), epochs=epochs, batch_size=32, verbose=0)
    accuracy = token_accuracy(model, x_test, y_test)
    print(f"held-out token accuracy {accuracy:.4f} after {epochs} epochs ({time.perf_counter() - start:.1f} s)")
    print("input   ", x_test[0], "\nreversed", model.predict(x_test[:1]).argmax(-1)[0])
    return accuracy


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the small setting the tests use")
    main(parser.parse_args().quick)
