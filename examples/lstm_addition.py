"""An LSTM learns to add two 3-digit numbers given as characters ("123+45" -> "168"), offline.

    python examples/lstm_addition.py            # the full setting: trains until 99% exact sums
    python examples/lstm_addition.py --quick    # a short run, as the tests run it

Keras's classic sequence-to-sequence example: the question, padded with spaces to 7
characters and reversed (which shortens the paths between the digits that add up), is
read by an encoder LSTM; its final state is repeated for each of the 4 answer characters
and a decoder LSTM with a per-step softmax writes the answer.
"""

import argparse
import time

import numpy as np

import barenet as bn

CHARS = "0123456789+ "
DIGITS = 3
QUESTION, ANSWER = 2 * DIGITS + 1, DIGITS + 1


def encode(texts, length: int) -> np.ndarray:
    """One-hot `(len(texts), length, len(CHARS))`, each text padded with spaces."""
    index = {c: i for i, c in enumerate(CHARS)}
    ids = np.array([[index[c] for c in text.ljust(length)] for text in texts])
    return np.eye(len(CHARS), dtype="float32")[ids]


def decode(probabilities) -> list[str]:
    return ["".join(CHARS[i] for i in row) for row in np.asarray(probabilities).argmax(axis=-1)]


def make_data(samples: int, rng: np.random.Generator, exclude=frozenset()):
    """`samples` distinct questions `a+b` (a, b with up to 3 digits; a+b and b+a count once)."""
    seen, questions, answers = set(exclude), [], []
    while len(questions) < samples:
        a, b = (int(v) for v in rng.integers(0, 10 ** rng.integers(1, DIGITS + 1, size=2)))
        key = (min(a, b), max(a, b))
        if key in seen:
            continue
        seen.add(key)
        questions.append(f"{a}+{b}".ljust(QUESTION)[::-1])  # padded, then reversed as in Keras's example
        answers.append(str(a + b))
    x = encode(questions, QUESTION)
    return x, encode(answers, ANSWER), answers, seen


def build_model(units: int, learning_rate: float = 0.003, seed: int = 0):
    model = bn.Sequential([
        bn.Input(shape=(QUESTION, len(CHARS))),
        bn.LSTM(units),
        bn.RepeatVector(ANSWER),
        bn.LSTM(units, return_sequences=True),
        bn.Dense(len(CHARS), activation="softmax"),
    ], seed=seed)
    model.compile(bn.optimizers.Adam(learning_rate), "categorical_crossentropy")
    return model


def exact_accuracy(model, x, answers) -> float:
    return float(np.mean([p.strip() == a for p, a in zip(decode(model.predict(x)), answers)]))


def main(quick: bool = False, target: float = 0.99) -> dict:
    """Train; returns the held-out exact-sum accuracy ("exact") and per-character accuracy ("characters")."""
    train, units, max_epochs, batch, rate = (4000, 64, 5, 32, 0.01) if quick else (50000, 128, 60, 64, 0.003)
    rng = np.random.default_rng(0)
    x, y, _, seen = make_data(train, rng)
    x_test, y_test, answers_test, _ = make_data(500 if quick else 2000, rng, exclude=seen)  # held-out pairs
    model = build_model(units, rate)
    start, accuracy = time.perf_counter(), 0.0
    for epoch in range(1, max_epochs + 1):
        model.fit(x, y, epochs=1, batch_size=batch, verbose=0)
        accuracy = exact_accuracy(model, x_test, answers_test)
        print(f"epoch {epoch}: held-out exact-sum accuracy {accuracy:.4f} ({time.perf_counter() - start:.0f} s)",
              flush=True)
        if accuracy >= target:
            break
    for question, answer in zip(decode(x_test[:3]), decode(model.predict(x_test[:3]))):
        print(f"{question[::-1].strip()} = {answer.strip()}")
    characters = float(np.mean(model.predict(x_test).argmax(-1) == y_test.argmax(-1)))
    return {"exact": accuracy, "characters": characters}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the small setting the tests use")
    main(parser.parse_args().quick)
