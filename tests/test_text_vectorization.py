"""TextVectorization: Keras's vocabulary order and outputs on small corpora (golden values), the
documented TF-IDF formula, vocabulary files, config/saving, bad arguments, and a text classifier."""

import numpy as np
import pytest

import barenet as keras
from barenet.layers import TextVectorization


def test_keras_docstring_example():
    """Keras's own example: the vocabulary by count (ties: tokens in decreasing order), UNK and padding."""
    layer = TextVectorization(max_tokens=5000, output_mode="int", output_sequence_length=4)
    layer.adapt(["foo bar", "bar baz", "baz bada boom"])
    assert layer.get_vocabulary() == ["", "[UNK]", "baz", "bar", "foo", "boom", "bada"]
    out = layer([["foo qux bar"], ["qux baz"]])
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out.value, [[4, 1, 3, 0], [1, 2, 0, 0]])
    given = TextVectorization(max_tokens=5000, output_sequence_length=4, vocabulary=["earth", "wind", "and", "fire"])
    assert given.get_vocabulary() == ["", "[UNK]", "earth", "wind", "and", "fire"]
    assert given.get_vocabulary(include_special_tokens=False) == ["earth", "wind", "and", "fire"]
    assert given.vocabulary_size() == 6


def test_standardize_split_and_sequence_length():
    corpus = np.array(["The cat, the HAT.", "A cat!  a  dog?", "the end"], dtype=object)
    layer = TextVectorization()
    layer.adapt(corpus)
    # counts: the 3, cat 2, a 2, hat 1, dog 1, end 1 -> ties in decreasing token order
    assert layer.get_vocabulary() == ["", "[UNK]", "the", "cat", "a", "hat", "end", "dog"]
    np.testing.assert_array_equal(layer(["Dog ate THE cat"]).value, [[7, 1, 2, 3]])
    # No output_sequence_length: padded to the batch's longest text.
    np.testing.assert_array_equal(layer(["the", "a cat"]).value, [[2, 0], [4, 3]])
    cut = TextVectorization(output_sequence_length=2, vocabulary=layer.get_vocabulary())
    np.testing.assert_array_equal(cut(["the cat a dog", "end"]).value, [[2, 3], [6, 0]])

    lower = TextVectorization(standardize="lower", vocabulary=["cat,", "cat"])
    np.testing.assert_array_equal(lower(["Cat, CAT"]).value, [[2, 3]])
    strip = TextVectorization(standardize="strip_punctuation", vocabulary=["Cat", "cat"])
    np.testing.assert_array_equal(strip(["Cat! cat? CAT"]).value, [[2, 3, 1]])
    raw = TextVectorization(standardize=None, split=None, vocabulary=["Hello, World", "x"])
    np.testing.assert_array_equal(raw(["Hello, World", "x", "y"]).value, [[2], [3], [1]])
    chars = TextVectorization(split="character", standardize=None)
    chars.adapt(["abca", "bb"])
    assert chars.get_vocabulary() == ["", "[UNK]", "b", "a", "c"]
    np.testing.assert_array_equal(chars(["cab", "z"]).value, [[4, 3, 2], [1, 0, 0]])


def test_callables_bytes_and_ngrams():
    layer = TextVectorization(standardize=lambda texts: np.char.upper(texts), split=lambda texts: [
        t.split("-") for t in texts], vocabulary=["A", "B"])
    np.testing.assert_array_equal(layer([b"a-b-c", "b"]).value, [[2, 3, 1], [3, 0, 0]])
    grams = TextVectorization(ngrams=2)
    grams.adapt(["a b c", "a b"])
    # unigrams and bigrams: a 2, b 2, "a b" 2, c 1, "b c" 1
    assert grams.get_vocabulary() == ["", "[UNK]", "b", "a b", "a", "c", "b c"]
    np.testing.assert_array_equal(grams(["a b c"]).value, [[4, 2, 5, 3, 6]])
    widths = TextVectorization(ngrams=(2,), vocabulary=["b c"])
    np.testing.assert_array_equal(widths(["a b c d"]).value, [[1, 2, 1]])


def test_max_tokens_keeps_the_most_frequent():
    corpus = ["a a a a b b b c c d", "e"]
    layer = TextVectorization(max_tokens=5)
    layer.adapt(corpus)
    assert layer.get_vocabulary() == ["", "[UNK]", "a", "b", "c"]
    np.testing.assert_array_equal(layer(["d e a"]).value, [[1, 1, 2]])
    hot = TextVectorization(max_tokens=3, output_mode="multi_hot")
    hot.adapt(corpus)
    assert hot.get_vocabulary() == ["[UNK]", "a", "b"]
    # adapt from an iterable of batches gives the same vocabulary as one array
    batched = TextVectorization(max_tokens=5)
    batched.adapt(iter([["a a a a b b b"], np.array(["c c d", "e"])]))
    assert batched.get_vocabulary() == layer.get_vocabulary()


def test_multi_hot_count_and_tf_idf_values():
    corpus = ["a a b", "b c", "c c c d"]
    text = ["a b b z z z"]
    layers = {}
    for mode in ("multi_hot", "count", "tf_idf"):
        layers[mode] = TextVectorization(output_mode=mode)
        layers[mode].adapt(corpus)
        assert layers[mode].get_vocabulary() == ["[UNK]", "c", "b", "a", "d"]
    np.testing.assert_array_equal(layers["multi_hot"](text).value, [[1, 0, 1, 1, 0]])
    np.testing.assert_array_equal(layers["count"](text).value, [[3, 0, 2, 1, 0]])
    out = layers["tf_idf"](text)
    assert out.dtype == np.float32 and out.shape == (1, 5)
    # Keras's idf: log(1 + documents / (1 + documents with the token)); [UNK] gets their mean
    idf = np.log(1 + 3 / (1 + np.array([2, 2, 1, 1])))
    idf = np.concatenate([[idf.mean()], idf])
    np.testing.assert_allclose(out.value, [np.array([3, 0, 2, 1, 0]) * idf], rtol=1e-6)

    padded = TextVectorization(output_mode="count", max_tokens=8, pad_to_max_tokens=True)
    padded.adapt(corpus)
    np.testing.assert_array_equal(padded(text).value, [[3, 0, 2, 1, 0, 0, 0, 0]])
    given = TextVectorization(output_mode="tf_idf", vocabulary=["b", "a"], idf_weights=[0.5, 2.0])
    np.testing.assert_allclose(given(["a b b z"]).value, [[1.25, 1.0, 2.0]])
    given.set_vocabulary(["[UNK]", "a"], idf_weights=[3.0, 4.0])
    np.testing.assert_allclose(given(["a a q"]).value, [[3.0, 8.0]])


def test_vocabulary_file_and_set_vocabulary(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("hello\nworld\n", encoding="utf-8")
    layer = TextVectorization(vocabulary=str(path))
    assert layer.get_vocabulary() == ["", "[UNK]", "hello", "world"]
    layer.set_vocabulary(["", "[UNK]", "x"])
    assert layer.get_vocabulary() == ["", "[UNK]", "x"]
    with pytest.raises(ValueError, match="Cannot adapt"):
        layer.adapt(["x y"])


def test_config_round_trip():
    layer = TextVectorization(max_tokens=10, output_sequence_length=3, ngrams=(1, 2), name="vectorize")
    layer.adapt(["b a", "a c"])
    config = layer.get_config()
    clone = TextVectorization.from_config(config)
    assert clone.get_config() == config and clone.get_vocabulary() == layer.get_vocabulary()
    np.testing.assert_array_equal(clone(["a b c"]).value, layer(["a b c"]).value)
    clone.adapt(["z z y"])  # an adapted vocabulary may be adapted again after reloading
    assert clone.get_vocabulary() == ["", "[UNK]", "z", "z z", "z y", "y"]

    tfidf = TextVectorization(output_mode="tf_idf")
    tfidf.adapt(["a b", "a"])
    again = TextVectorization.from_config(tfidf.get_config())
    np.testing.assert_array_equal(again(["a b q"]).value, tfidf(["a b q"]).value)




@pytest.mark.parametrize("style", ["sequential", "functional"])
def test_first_layer_of_a_model_on_string_inputs_saves_its_vocabulary(style, tmp_path):
    texts = np.array(["good movie", "bad movie", "great fun", "awful boring"] * 4)
    labels = np.array([1, 0, 1, 0] * 4, dtype="float32")
    vectorize = TextVectorization(max_tokens=20, output_sequence_length=3)
    vectorize.adapt(texts)
    keras.utils.set_random_seed(1)
    inputs = keras.Input(shape=(1,), dtype="string")
    if style == "sequential":
        model = keras.Sequential([inputs, vectorize, keras.layers.Embedding(20, 4),
                                  keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(1, activation="sigmoid")])
    else:
        x = keras.layers.GlobalAveragePooling1D()(keras.layers.Embedding(20, 4)(vectorize(inputs)))
        model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(x))
    model.compile(keras.optimizers.Adam(0.05), "binary_crossentropy")
    history = model.fit(texts, labels, epochs=3, batch_size=4, verbose=0).history["loss"]
    assert history[-1] < history[0]
    model.save(tmp_path / "text.barenet")
    loaded = keras.load_model(tmp_path / "text.barenet")
    assert loaded.layers[1 if style == "functional" else 0].get_vocabulary() == vectorize.get_vocabulary()
    queries = np.array(["good fun", "bad bad movie", "unknown words"])
    np.testing.assert_array_equal(loaded.predict(queries, verbose=0), model.predict(queries, verbose=0))
    with pytest.raises(TypeError, match="expects strings"):
        loaded.predict(np.ones((2, 1)), verbose=0)
    rebuilt = type(model).from_config(model.get_config())  # the config keeps the "string" Input too
    assert rebuilt.predict(queries, verbose=0).shape == (3, 1)


@pytest.mark.parametrize("make, error, message", [
    (lambda: TextVectorization(standardize="upper"), ValueError,
     r"`standardize` must be one of .*Received: standardize='upper'"),
    (lambda: TextVectorization(split="comma"), ValueError, r"`split` must be one of .*'whitespace'.*split='comma'"),
    (lambda: TextVectorization(output_mode="one_hot"), ValueError,
     r"`output_mode` must be one of 'int', 'multi_hot'.*output_mode='one_hot'"),
    (lambda: TextVectorization(output_mode="count", output_sequence_length=4), ValueError,
     "`output_sequence_length` can only be set when `output_mode` is 'int'"),
    (lambda: TextVectorization(output_sequence_length=0), ValueError, "output_sequence_length=0"),
    (lambda: TextVectorization(max_tokens=0), ValueError, "max_tokens=0"),
    (lambda: TextVectorization(ngrams=0), ValueError, "ngrams=0"),
    (lambda: TextVectorization(idf_weights=[1.0]), ValueError, "idf_weights"),
    (lambda: TextVectorization(output_mode="tf_idf", vocabulary=["a"]), ValueError, "needs `idf_weights`"),
    (lambda: TextVectorization(vocabulary=["a", "a"]), ValueError, "repeats tokens"),
    (lambda: TextVectorization(vocabulary=[]), ValueError, "empty vocabulary"),
    (lambda: TextVectorization(max_tokens=3, vocabulary=["a", "b"]), ValueError, "larger than max_tokens=3"),
    (lambda: TextVectorization(vocabulary="/no/such/file.txt"), ValueError, "does not exist"),
    (lambda: TextVectorization(ragged=True), ValueError, "ragged=True"),
])
def test_bad_arguments(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_bad_data():
    layer = TextVectorization()
    with pytest.raises(ValueError, match="adapt.. needs at least one text"):
        layer.adapt([])
    with pytest.raises(ValueError, match="adapt.. needs at least one text"):
        layer.adapt(iter([]))
    with pytest.raises(TypeError, match="expects strings.*float"):
        layer.adapt(np.zeros(3))
    with pytest.raises(TypeError, match="not one string"):
        layer("just one text")
    with pytest.raises(ValueError, match=r"\(batch,\) or \(batch, 1\).*\(2, 2\)"):
        layer([["a", "b"], ["c", "d"]])
    with pytest.raises(RuntimeError, match="needs a vocabulary first"):
        TextVectorization(output_mode="multi_hot")(["a"])
    with pytest.raises(TypeError, match="callable `standardize`.*config"):
        TextVectorization(standardize=str.upper).get_config()
    # Before any vocabulary, "int" mode maps every token to [UNK] (as Keras does).
    np.testing.assert_array_equal(layer(["a b"]).value, [[1, 1]])


def _sentiment_corpus(rng, n):
    positive = ["good", "great", "excellent", "wonderful", "loved", "fun", "brilliant", "enjoyable"]
    negative = ["bad", "awful", "boring", "terrible", "hated", "dull", "poor", "worst"]
    neutral = ["the", "movie", "film", "was", "a", "plot", "actors", "story", "and", "it", "really", "quite"]
    labels = rng.integers(0, 2, n)
    texts = []
    for label in labels:
        words = list(rng.choice(neutral, rng.integers(3, 8)))
        words += list(rng.choice(positive if label else negative, rng.integers(1, 3)))
        rng.shuffle(words)
        texts.append(" ".join(words).capitalize() + rng.choice([".", "!", "..."]))
    return np.array(texts), labels.astype("float32")


def test_text_classifier_end_to_end(rng):
    """A Keras user's sentiment classifier on raw strings: TextVectorization -> Embedding ->
    GlobalAveragePooling1D -> Dense, trained with fit, and the same layer used in a data pipeline."""
    x_train, y_train = _sentiment_corpus(rng, 600)
    x_test, y_test = _sentiment_corpus(rng, 200)
    vectorize_layer = keras.layers.TextVectorization(max_tokens=100, output_mode="int", output_sequence_length=12)
    vectorize_layer.adapt(x_train)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input(shape=(1,), dtype="string"),
        vectorize_layer,
        keras.layers.Embedding(100, 8),
        keras.layers.GlobalAveragePooling1D(),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=15, batch_size=32, verbose=0)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert accuracy >= 0.95
    # In a data pipeline instead: vectorize first, train the rest on the token ids.
    keras.utils.set_random_seed(0)
    head = keras.Sequential([keras.Input(shape=(12,), dtype="int64"), keras.layers.Embedding(100, 8),
                             keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(1, activation="sigmoid")])
    head.compile(optimizer=keras.optimizers.Adam(0.02), loss="binary_crossentropy", metrics=["accuracy"])
    head.fit(vectorize_layer(x_train), y_train, epochs=15, batch_size=32, verbose=0)
    assert head.evaluate(vectorize_layer(x_test), y_test, verbose=0)[1] >= 0.95
