"""The string side of `TextVectorization`: standardize, split, n-grams, and a vocabulary lookup.

Strings have no vectorized arithmetic, so each step is one NumPy string routine (`np.char`)
or one `str` method per document; looking tokens up in the vocabulary and counting them are
array operations (a sorted vocabulary searched with `np.searchsorted`, counts merged with
`np.unique`).
"""

from __future__ import annotations

import string

import numpy as np

STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation")
SPLIT = ("whitespace", "character")
# Keras's punctuation class: ASCII punctuation, which is `string.punctuation`.
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def check_choice(argument: str, value, choices, allow_none: bool = True, allow_callable: bool = True):
    """`value` when it is one of `choices` (or None / a callable where allowed), else a ValueError."""
    if (value is None and allow_none) or (callable(value) and allow_callable) or \
            (isinstance(value, str) and value in choices):
        return value
    extra = (["None"] if allow_none else []) + (["a callable"] if allow_callable else [])
    expected = ", ".join([repr(c) for c in choices] + extra)
    raise ValueError(f"`{argument}` must be one of {expected}. Received: {argument}={value!r}")


def as_strings(inputs, encoding: str, where: str) -> np.ndarray:
    """A batch of texts (a list, tuple or array of str/bytes; a Tensor holding one) as a unicode array."""
    value = getattr(inputs, "value", inputs)
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{where} expects a batch of strings (a list or an array), not one string. "
                         f"Received: {value!r:.60}")
    array = np.asarray(value, dtype=object) if not isinstance(value, np.ndarray) else value
    if array.ndim == 0:
        raise ValueError(f"{where} expects a batch of strings. Received: {type(value).__name__}")
    if array.dtype.kind == "U":
        return array
    if array.dtype.kind == "S":
        return np.char.decode(array, encoding)
    if array.dtype.kind != "O":
        raise TypeError(f"{where} expects strings. Received: an array of dtype {array.dtype}")
    flat = array.reshape(-1)
    bad = next((item for item in flat if not isinstance(item, (str, bytes))), None)
    if bad is not None:
        raise TypeError(f"{where} expects strings. Received: an item of type {type(bad).__name__}: {bad!r:.60}")
    texts = [item.decode(encoding) if isinstance(item, bytes) else item for item in flat]
    return np.array(texts, dtype=str).reshape(array.shape) if texts else np.zeros(array.shape, dtype="<U1")


def standardize(texts: np.ndarray, how) -> np.ndarray:
    """Lower-case and/or drop ASCII punctuation (or apply a callable to the unicode array)."""
    if how in ("lower", "lower_and_strip_punctuation"):
        texts = np.char.lower(texts)
    if how in ("strip_punctuation", "lower_and_strip_punctuation"):
        texts = np.char.translate(texts, _PUNCTUATION)
    if callable(how):
        result = np.asarray(how(texts))
        if result.shape != texts.shape:
            raise ValueError(f"A `standardize` callable must return strings of the shape it received {texts.shape}. "
                             f"Received: shape {result.shape}")
        texts = result.astype(str)
    return texts


def split(texts: np.ndarray, how) -> list:
    """One list of tokens per text (`texts` is 1-D)."""
    if how == "whitespace":  # runs of whitespace count once; leading/trailing ones are dropped
        return [text.split() for text in texts.tolist()]
    if how == "character":
        return [list(text) for text in texts.tolist()]
    result = how(texts)
    if len(result) != len(texts):
        raise ValueError(f"A `split` callable must return one sequence of tokens per text ({len(texts)}). "
                         f"Received: {len(result)}")
    return [[str(token) for token in np.asarray(tokens, dtype=object).reshape(-1).tolist()] for tokens in result]


def ngrams(tokens: list, widths: tuple) -> list:
    """Each document's n-grams joined by spaces: all those of the first width, then the next width, ..."""
    return [[" ".join(doc[i:i + w]) for w in widths for i in range(len(doc) - w + 1)] for doc in tokens]


def flatten(docs: list) -> tuple[np.ndarray, np.ndarray]:
    """`(tokens, lengths)`: every document's tokens in one unicode array, and how many each has."""
    lengths = np.fromiter((len(doc) for doc in docs), dtype=np.int64, count=len(docs))
    tokens = [token for doc in docs for token in doc]
    return (np.array(tokens, dtype=str) if tokens else np.zeros(0, dtype="<U1")), lengths


def count_tokens(tokens: np.ndarray, lengths: np.ndarray) -> tuple:
    """`(unique tokens, their counts, in how many documents each occurs)`."""
    unique, inverse, counts = np.unique(tokens, return_inverse=True, return_counts=True)
    doc_of = np.repeat(np.arange(len(lengths)), lengths)
    pairs = np.unique(doc_of * max(len(unique), 1) + inverse.reshape(-1))
    doc_counts = np.bincount(pairs % max(len(unique), 1), minlength=len(unique))
    return unique, counts.astype(np.int64), doc_counts.astype(np.int64)


def merge_counts(old, new) -> tuple:
    """Add two `(tokens, counts, doc_counts)` tallies."""
    if old is None:
        return new
    tokens = np.concatenate([old[0], new[0]])
    unique, inverse = np.unique(tokens, return_inverse=True)
    inverse = inverse.reshape(-1)
    return (unique, *(np.bincount(inverse, np.concatenate([a, b]), len(unique)).astype(np.int64)
                      for a, b in ((old[1], new[1]), (old[2], new[2]))))


class Lookup:
    """Token -> index for a list of tokens that start at index `start` (special tokens before them)."""

    def __init__(self, tokens: np.ndarray, start: int):
        self.tokens = tokens
        self._order = np.argsort(tokens, kind="stable")
        self._sorted = tokens[self._order]
        self.start = start

    def __call__(self, tokens: np.ndarray, missing: int) -> np.ndarray:
        """Each token's index, `missing` for those not in the vocabulary."""
        if not len(self._sorted) or not len(tokens):
            return np.full(tokens.shape, missing, dtype=np.int64)
        position = np.minimum(np.searchsorted(self._sorted, tokens), len(self._sorted) - 1)
        found = self._sorted[position] == tokens
        return np.where(found, self._order[position] + self.start, missing).astype(np.int64)
