"""Text to integer sequences: Keras's `pad_sequences` and a small character/word `Tokenizer`.

    tokens = Tokenizer(level="char").fit(["123+45", "7+8"])
    x = pad_sequences(tokens.encode(["123+45", "7+8"]), maxlen=7)   # (2, 7) int32, 0 = padding

Index 0 is kept for padding and 1 for tokens never seen in `fit` (out of vocabulary), so
an `Embedding(len(tokens.vocabulary), ..., mask_zero=True)` can skip the padding.
"""

from __future__ import annotations

import numbers
import re

import numpy as np


def pad_sequences(sequences, maxlen: int | None = None, dtype="int32", padding: str = "pre",
                  truncating: str = "pre", value=0.0) -> np.ndarray:
    """Pad (or cut) a list of sequences to one length, as `keras.utils.pad_sequences`.

    Args:
        sequences: A list of sequences (lists or arrays of numbers, or of equal-shape arrays).
        maxlen: The length to pad or cut to. Defaults to the longest sequence.
        dtype: Output dtype. Defaults to "int32".
        padding: "pre" (pad at the start) or "post". Defaults to "pre".
        truncating: "pre" (drop values from the start of longer sequences) or "post".
            Defaults to "pre".
        value: The padding value. Defaults to 0.

    Returns:
        An array `(len(sequences), maxlen, *item_shape)`.
    """
    for name, given in (("padding", padding), ("truncating", truncating)):
        if given not in ("pre", "post"):
            raise ValueError(f"`{name}` must be 'pre' or 'post'. Received: {name}={given!r}")
    if maxlen is not None and (isinstance(maxlen, bool) or not isinstance(maxlen, numbers.Integral) or maxlen < 1):
        raise ValueError(f"`maxlen` must be a positive integer or None. Received: maxlen={maxlen!r}")
    try:
        arrays = [np.asarray(s) for s in sequences]
    except (TypeError, ValueError) as error:
        raise ValueError(f"`sequences` must be a list of sequences of numbers. Received: {error}") from None
    for i, array in enumerate(arrays):
        if array.ndim == 0:
            raise ValueError(f"`sequences` must be a list of sequences. Received: a single value at index {i}: "
                             f"{array.item()!r}")
        if array.size and array.dtype.kind not in "biuf":
            raise ValueError(f"`sequences[{i}]` must hold numbers. Received: dtype {array.dtype}")
    item_shapes = {array.shape[1:] for array in arrays if len(array)}
    if len(item_shapes) > 1:
        raise ValueError(f"Every sequence's items must have one shape. Received: shapes {sorted(item_shapes)}")
    item_shape = item_shapes.pop() if item_shapes else ()
    length = maxlen if maxlen is not None else max((len(a) for a in arrays), default=0)
    out = np.full((len(arrays), length, *item_shape), value, dtype=dtype)
    for i, array in enumerate(arrays):
        if not len(array) or not length:
            continue
        kept = array[-length:] if truncating == "pre" else array[:length]
        if padding == "post":
            out[i, :len(kept)] = kept
        else:
            out[i, length - len(kept):] = kept
    return out


class Tokenizer:
    """Map text to integer sequences, by character or by word.

    Args:
        level: "char" (every character a token) or "word" (runs of letters, digits and
            apostrophes, after `lower`). Defaults to "word".
        lower: Lower-case the text first. Defaults to True for words, False for characters.
        max_tokens: Keep only the most frequent tokens, so that the vocabulary (padding and
            out-of-vocabulary entries included) has at most this size. Defaults to no limit.

    After `fit`, `vocabulary` lists the tokens by index: `["", "[UNK]", ...]` (padding,
    unknown, then tokens by decreasing frequency, ties in order of first appearance).
    """

    PAD, UNKNOWN = "", "[UNK]"

    def __init__(self, level: str = "word", lower: bool | None = None, max_tokens: int | None = None):
        if level not in ("char", "word"):
            raise ValueError(f"`level` must be 'char' or 'word'. Received: level={level!r}")
        if max_tokens is not None and (isinstance(max_tokens, bool) or not isinstance(max_tokens, numbers.Integral)
                                       or max_tokens < 3):
            raise ValueError(f"`max_tokens` must be an integer of at least 3 or None. Received: max_tokens={max_tokens!r}")
        self.level = level
        self.lower = (level == "word") if lower is None else bool(lower)
        self.max_tokens = max_tokens
        self.vocabulary: list[str] = []
        self._index: dict[str, int] = {}

    def split(self, text: str) -> list[str]:
        """The tokens of one text."""
        if not isinstance(text, str):
            raise TypeError(f"Tokenizer expects strings. Received: {type(text).__name__}")
        if self.lower:
            text = text.lower()
        return list(text) if self.level == "char" else re.findall(r"[\w']+", text)

    def fit(self, texts) -> Tokenizer:
        """Build the vocabulary from an iterable of strings; returns self."""
        counts: dict[str, int] = {}
        for text in _texts(texts):
            for token in self.split(text):
                counts[token] = counts.get(token, 0) + 1
        first = {token: i for i, token in enumerate(counts)}
        ranked = sorted(counts, key=lambda t: (-counts[t], first[t]))
        if self.max_tokens is not None:
            ranked = ranked[:self.max_tokens - 2]
        self.vocabulary = [self.PAD, self.UNKNOWN, *ranked]
        self._index = {token: i for i, token in enumerate(self.vocabulary)}
        return self

    def encode(self, texts) -> list[list[int]]:
        """Each text as a list of indices (1 for tokens not in the vocabulary)."""
        if not self.vocabulary:
            raise ValueError("The Tokenizer has no vocabulary yet: call fit(texts) first.")
        return [[self._index.get(token, 1) for token in self.split(text)] for text in _texts(texts)]

    def decode(self, sequence, separator: str | None = None) -> str:
        """Indices back to text (padding dropped); tokens joined by "" (chars) or " " (words)."""
        separator = ("" if self.level == "char" else " ") if separator is None else separator
        tokens = []
        for index in np.asarray(sequence).reshape(-1):
            if not 0 <= int(index) < len(self.vocabulary):
                raise ValueError(f"Index {int(index)} is outside the vocabulary of {len(self.vocabulary)} tokens.")
            if int(index):
                tokens.append(self.vocabulary[int(index)])
        return separator.join(tokens)


def _texts(texts):
    if isinstance(texts, str):
        raise TypeError("Pass a list of strings, not one string (it would be read as a list of characters).")
    return texts
