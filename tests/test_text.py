"""pad_sequences (Keras's semantics) and the character/word Tokenizer."""

import numpy as np
import pytest

import barenet as bn


def test_pad_sequences_follows_keras():
    seqs = [[1, 2, 3], [4], [5, 6, 7, 8, 9]]
    np.testing.assert_array_equal(bn.utils.pad_sequences(seqs), [[0, 0, 1, 2, 3], [0, 0, 0, 0, 4], [5, 6, 7, 8, 9]])
    np.testing.assert_array_equal(bn.utils.pad_sequences(seqs, maxlen=3, padding="post", truncating="post", value=-1),
                                  [[1, 2, 3], [4, -1, -1], [5, 6, 7]])
    np.testing.assert_array_equal(bn.utils.pad_sequences(seqs, maxlen=2), [[2, 3], [0, 4], [8, 9]])
    out = bn.utils.pad_sequences([np.ones((2, 3)), []], maxlen=3, dtype="float32")
    assert out.shape == (2, 3, 3) and out.dtype == np.float32 and out[0, 0].sum() == 0 and out[0, 1:].all()
    assert bn.utils.pad_sequences([[1.5, 2.5]], dtype="float32")[0, 0] == 1.5


@pytest.mark.parametrize("kwargs, message", [({"padding": "mid"}, "padding"), ({"maxlen": 0}, "maxlen"),
                                             ({"truncating": None}, "truncating")])
def test_pad_sequences_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        bn.utils.pad_sequences([[1]], **kwargs)
    with pytest.raises(ValueError, match="single value at index 1"):
        bn.utils.pad_sequences([[1], 2])


def test_tokenizer_chars_and_words():
    chars = bn.utils.Tokenizer(level="char").fit(["aab", "bc"])
    assert chars.vocabulary == ["", "[UNK]", "a", "b", "c"]
    assert chars.encode(["cab", "z"]) == [[4, 2, 3], [1]]
    assert chars.decode([0, 0, 4, 2, 3]) == "cab"
    words = bn.utils.Tokenizer(max_tokens=4).fit(["The cat, the hat.", "A cat"])
    assert words.vocabulary == ["", "[UNK]", "the", "cat"]
    assert words.encode(["the dog's cat"]) == [[2, 1, 3]]
    with pytest.raises(TypeError, match="list of strings"):
        words.encode("the cat")
    with pytest.raises(ValueError, match="fit"):
        bn.utils.Tokenizer().encode(["x"])
