"""A character-level language model (LSTM) learns a small text and writes more of it, offline.

    python examples/char_language_model.py            # the full setting
    python examples/char_language_model.py --quick    # a short run, as the tests run it

The text is generated here, from a small grammar of nursery-rhyme-like sentences
(`make_corpus`): it is this program's own output, so there is nothing to download and no
license to track (the grammar and its word lists are written for this example and are in
the public domain, CC0). The model reads 40 characters and predicts the next one at every
step; generation samples one character at a time with a temperature, from a seeded
generator, so a run is reproducible.
"""

import argparse
import time

import numpy as np

import barenet as bn

SUBJECTS = ["the cat", "a little mouse", "the old king", "my fair lady", "the cow", "a black sheep", "the baker"]
VERBS = ["jumped over", "ran around", "sat upon", "looked at", "sang to", "danced with", "baked a pie for"]
OBJECTS = ["the moon", "the wall", "the clock", "a silver spoon", "the garden gate", "the candle", "the dish"]
ENDINGS = ["and all was well.", "in the morning.", "one two three.", "by the light of day.", "and went to bed."]


def make_corpus(sentences: int, rng: np.random.Generator) -> str:
    """Sentences from the grammar above, one per line."""
    picks = [rng.integers(0, len(words), sentences) for words in (SUBJECTS, VERBS, OBJECTS, ENDINGS)]
    return "\n".join(f"{SUBJECTS[a]} {VERBS[b]} {OBJECTS[c]} {ENDINGS[d]}" for a, b, c, d in zip(*picks)) + "\n"


def windows(ids: np.ndarray, length: int, step: int):
    """Inputs `ids[i:i+length]` and targets `ids[i+1:i+length+1]` every `step` characters."""
    starts = np.arange(0, len(ids) - length - 1, step)
    index = starts[:, None] + np.arange(length)
    return ids[index], ids[index + 1]


def build_model(vocabulary: int, units: int, length: int, seed: int = 0):
    model = bn.Sequential([
        bn.Input(shape=(length,), dtype="int32"),
        bn.Embedding(vocabulary, 16),
        bn.LSTM(units, return_sequences=True),
        bn.Dense(vocabulary, activation="softmax"),
    ], seed=seed)
    model.compile(bn.optimizers.Adam(0.005), "categorical_crossentropy")
    return model


def generate(model, tokens, seed_text: str, length: int, characters: int, temperature: float,
             rng: np.random.Generator) -> str:
    text = seed_text
    for _ in range(characters):
        window = tokens.encode([text[-length:]])[0]
        window = [0] * (length - len(window)) + window
        p = model.predict(np.array([window]))[0, -1].astype(np.float64)
        logits = np.log(np.maximum(p, 1e-12)) / temperature
        p = np.exp(logits - logits.max())
        text += tokens.vocabulary[int(rng.choice(len(p), p=p / p.sum()))]
    return text


def main(quick: bool = False) -> dict:
    """Train and generate; returns the first and last epochs' losses and the generated text."""
    rng = np.random.default_rng(0)
    corpus = make_corpus(300 if quick else 3000, rng)
    tokens = bn.utils.Tokenizer(level="char").fit([corpus])
    ids = np.array(tokens.encode([corpus])[0])
    length, units, epochs = 40, (48 if quick else 128), (3 if quick else 10)
    x, y = windows(ids, length, step=length // 2 if quick else 7)
    vocabulary = len(tokens.vocabulary)
    model = build_model(vocabulary, units, length)
    start = time.perf_counter()
    history = model.fit(x, bn.to_categorical(y, vocabulary), epochs=epochs, batch_size=32, verbose=0).history
    loss = history["loss"][-1]
    print(f"{len(corpus)} characters, vocabulary {vocabulary}: loss {history['loss'][0]:.3f} -> {loss:.3f} "
          f"({time.perf_counter() - start:.1f} s)")
    text = generate(model, tokens, "the cat ", length, 80 if quick else 300, 0.5, np.random.default_rng(1))
    print(text)
    return {"first_loss": history["loss"][0], "loss": loss, "text": text}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the small setting the tests use")
    main(parser.parse_args().quick)
