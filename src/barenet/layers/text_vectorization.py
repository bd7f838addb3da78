"""Keras's `TextVectorization`: texts to token indices (or multi-hot, count, TF-IDF vectors).

    vectorize = TextVectorization(max_tokens=1000, output_sequence_length=8)
    vectorize.adapt(["the cat sat", "the dog ran"])
    vectorize(["the cat ran"])        # int64 (1, 8): [[2, 6, 4, 0, 0, 0, 0, 0]]

Each text is standardized (lower-cased, ASCII punctuation dropped), split (on whitespace),
optionally turned into n-grams, and its tokens looked up in the vocabulary. In "int" mode index
0 is padding ("") and 1 out-of-vocabulary ("[UNK]"); the other modes have no padding index
("[UNK]" is 0). `adapt` orders the vocabulary as Keras does: by decreasing count, ties by the
tokens themselves in decreasing order; with TF-IDF it also learns
`idf = log(1 + documents / (1 + documents containing the token))` (Keras's formula), the
out-of-vocabulary entry getting the mean of the others.
"""

from __future__ import annotations

import numbers
import os

import numpy as np

from .. import config as config_module
from ..autodiff import Tensor
from ..autodiff.symbolic import KerasTensor, Node
from ..autodiff.symbolic import _finish as record_node
from . import text_tokens
from .base import Layer

PAD, OOV = "", "[UNK]"
OUTPUT_MODES = ("int", "multi_hot", "count", "tf_idf")


class TextVectorization(Layer):
    """Map a batch of texts to integer token sequences or to one vector per text.

    Args:
        max_tokens: The vocabulary's largest size, special tokens included (`adapt` keeps the
            `max_tokens - 2` most frequent tokens in "int" mode, `max_tokens - 1` otherwise).
            None: no limit. Defaults to None.
        standardize: "lower_and_strip_punctuation", "lower", "strip_punctuation", None, or a
            callable taking and returning a NumPy array of strings. Defaults to
            "lower_and_strip_punctuation".
        split: "whitespace", "character", None (each text is one token), or a callable taking a
            1-D array of strings and returning one sequence of tokens per string. Defaults to
            "whitespace".
        ngrams: None, an int n (all n-grams of 1 .. n tokens) or a tuple of widths. Defaults to None.
        output_mode: "int" (token indices), "multi_hot" (1 where a token occurs), "count" (how
            often) or "tf_idf" (count * idf). Defaults to "int".
        output_sequence_length: "int" mode only: pad (with 0) or cut every sequence to this
            length. None: the longest text of the batch. Defaults to None.
        pad_to_max_tokens: Other modes: vectors of size `max_tokens` rather than the vocabulary's
            size. Defaults to False.
        vocabulary: A list of tokens (special tokens optional at its start) or the path of a text
            file with one token per line; then `adapt` is not needed. Defaults to None.
        idf_weights: "tf_idf" with a given `vocabulary`: one weight per token. Defaults to None.
        encoding: How bytes inputs are decoded. Defaults to "utf-8".
        sparse, ragged: Only False (TensorFlow-only options in Keras).
        name: Layer name. Defaults to one the model assigns.

    Call: a list or array of strings `(batch,)` or `(batch, 1)`. Returns int64 `(batch, length)`
    in "int" mode, float32 `(batch, vocabulary size)` in the others.
    """

    def __init__(self, max_tokens: int | None = None, standardize="lower_and_strip_punctuation", split="whitespace",
                 ngrams=None, output_mode: str = "int", output_sequence_length: int | None = None,
                 pad_to_max_tokens: bool = False, vocabulary=None, idf_weights=None, sparse: bool = False,
                 ragged: bool = False, encoding: str = "utf-8", name: str | None = None, **kwargs):
        has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        kwargs.pop("vocabulary_size", None)  # Keras's config carries it; the vocabulary says it
        super().__init__(name=name, **kwargs)
        if max_tokens is not None and (isinstance(max_tokens, bool) or not isinstance(max_tokens, numbers.Integral)
                                       or max_tokens < 1):
            raise ValueError(f"`max_tokens` must be a positive integer or None. Received: max_tokens={max_tokens!r}")
        self.max_tokens = None if max_tokens is None else int(max_tokens)
        self.standardize = text_tokens.check_choice("standardize", standardize, text_tokens.STANDARDIZE)
        self.split = text_tokens.check_choice("split", split, text_tokens.SPLIT)
        self.ngrams = ngrams
        if ngrams is None:
            self._widths = None
        elif isinstance(ngrams, numbers.Integral) and not isinstance(ngrams, bool) and ngrams >= 1:
            self._widths = tuple(range(1, int(ngrams) + 1))
        elif isinstance(ngrams, (tuple, list)) and ngrams and all(
                isinstance(w, numbers.Integral) and not isinstance(w, bool) and w >= 1 for w in ngrams):
            self._widths = tuple(int(w) for w in ngrams)
        else:
            raise ValueError(f"`ngrams` must be None, a positive integer or a tuple of positive integers. "
                             f"Received: ngrams={ngrams!r}")
        if output_mode in ("binary", "tf-idf"):  # Keras's older names
            output_mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}[output_mode]
        self.output_mode = text_tokens.check_choice("output_mode", output_mode, OUTPUT_MODES, False, False)
        if output_sequence_length is not None:
            if self.output_mode != "int":
                raise ValueError("`output_sequence_length` can only be set when `output_mode` is 'int'. Received: "
                                 f"output_sequence_length={output_sequence_length!r}, output_mode={output_mode!r}")
            if (isinstance(output_sequence_length, bool) or not isinstance(output_sequence_length, numbers.Integral)
                    or output_sequence_length < 1):
                raise ValueError("`output_sequence_length` must be a positive integer or None. "
                                 f"Received: output_sequence_length={output_sequence_length!r}")
            output_sequence_length = int(output_sequence_length)
        self.output_sequence_length = output_sequence_length
        self.pad_to_max_tokens = bool(pad_to_max_tokens)
        if self.pad_to_max_tokens and self.output_mode != "int" and self.max_tokens is None:
            raise ValueError("`pad_to_max_tokens=True` needs `max_tokens`. Received: max_tokens=None")
        for argument, value in (("sparse", sparse), ("ragged", ragged)):
            if value:
                raise ValueError(f"`{argument}=True` is a TensorFlow-only option; barenet returns dense arrays. "
                                 f"Received: {argument}={value!r}")
        self.encoding = encoding
        self._token_start = 2 if self.output_mode == "int" else 1
        self._lookup = text_tokens.Lookup(np.zeros(0, dtype="<U1"), self._token_start)
        self._idf = None
        self._has_vocabulary = False
        if idf_weights is not None and self.output_mode != "tf_idf":
            raise ValueError("`idf_weights` can only be set when `output_mode` is 'tf_idf'. "
                             f"Received: output_mode={self.output_mode!r}")
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)
        elif idf_weights is not None:
            raise ValueError("`idf_weights` needs a `vocabulary` of the same length. Received: vocabulary=None")
        self._has_input_vocabulary = bool(has_input_vocabulary)
        self.dtype = np.dtype(config_module.floatx())
        self.built = True

    # --- the vocabulary -------------------------------------------------------------------------
    def _special_tokens(self) -> list:
        return [PAD, OOV] if self.output_mode == "int" else [OOV]

    def get_vocabulary(self, include_special_tokens: bool = True) -> list:
        """The tokens by index (with the padding and out-of-vocabulary tokens first, by default)."""
        tokens = self._lookup.tokens.tolist()
        return self._special_tokens() + tokens if include_special_tokens else tokens

    def vocabulary_size(self) -> int:
        """The vocabulary's size, special tokens included."""
        return self._token_start + len(self._lookup.tokens)

    def set_vocabulary(self, vocabulary, idf_weights=None) -> None:
        """Use `vocabulary` (a list/array of tokens, or a file with one per line) instead of `adapt`.

        Args:
            vocabulary: The tokens in index order; the special tokens may open it, in Keras's order
                ("", "[UNK]" in "int" mode; "[UNK]" otherwise).
            idf_weights: "tf_idf" mode only, and then required: one weight per entry of
                `vocabulary`. Without the special tokens, the out-of-vocabulary weight is their mean.
        """
        if isinstance(vocabulary, (str, os.PathLike)):
            if self.output_mode == "tf_idf":
                raise ValueError("output_mode 'tf_idf' cannot read its vocabulary from a file; pass the tokens "
                                 f"and `idf_weights`. Received: vocabulary={str(vocabulary)!r}")
            if not os.path.isfile(vocabulary):
                raise ValueError(f"Vocabulary file {str(vocabulary)!r} does not exist.")
            with open(vocabulary, encoding=self.encoding) as file:
                vocabulary = [line.rstrip("\r\n") for line in file]
        tokens = text_tokens.as_strings(list(vocabulary) if not isinstance(vocabulary, np.ndarray) else vocabulary,
                                        self.encoding, "`vocabulary`").reshape(-1)
        if tokens.size == 0:
            raise ValueError("Cannot set an empty vocabulary. Received: vocabulary=[]")
        special = self._special_tokens()
        found_special = tokens[:len(special)].tolist() == special
        body = tokens[len(special):] if found_special else tokens
        unique, counts = np.unique(body, return_counts=True)
        if np.any(counts > 1):
            raise ValueError(f"The vocabulary repeats tokens: {unique[counts > 1].tolist()[:10]}. "
                             "Received: a vocabulary with repeated tokens")
        if PAD in body or (OOV in body):
            raise ValueError(f"The special tokens {special} may only open the vocabulary, in this order. "
                             f"Received: {PAD!r} or {OOV!r} later in it")
        if self.max_tokens is not None and len(body) + self._token_start > self.max_tokens:
            raise ValueError(f"The vocabulary ({len(body) + self._token_start} tokens with the special ones) is "
                             f"larger than max_tokens={self.max_tokens}.")
        idf = None
        if self.output_mode == "tf_idf":
            if idf_weights is None:
                raise ValueError("output_mode 'tf_idf' with a given vocabulary needs `idf_weights`. "
                                 "Received: idf_weights=None")
            idf = np.asarray(idf_weights, dtype=np.float64)
            if idf.ndim != 1 or len(idf) != len(tokens):
                raise ValueError(f"`idf_weights` must hold one weight per vocabulary entry ({len(tokens)}). "
                                 f"Received: shape {idf.shape}")
            if not found_special:
                idf = np.concatenate([[idf.mean()], idf])
        elif idf_weights is not None:
            raise ValueError("`idf_weights` can only be set when `output_mode` is 'tf_idf'. "
                             f"Received: output_mode={self.output_mode!r}")
        self._set(body, idf)
        self._has_input_vocabulary = True

    def _set(self, tokens: np.ndarray, idf) -> None:
        self._lookup = text_tokens.Lookup(tokens.astype(str), self._token_start)
        self._idf = idf
        self._has_vocabulary = True

    def adapt(self, data, batch_size: int | None = None, steps: int | None = None) -> None:
        """Learn the vocabulary (and, for "tf_idf", the idf weights) from texts.

        Args:
            data: A list or array of strings, or an iterable of such batches (e.g. a generator).
            batch_size: Accepted for Keras compatibility; a list or array is read at once.
            steps: With an iterable, read at most this many batches. Defaults to all.
        """
        if self._has_input_vocabulary:
            raise ValueError(f"Cannot adapt layer {self.name!r}: it was given its vocabulary (`vocabulary` or "
                             "set_vocabulary()).")
        one_batch = isinstance(data, (list, tuple, np.ndarray, str, bytes, Tensor))
        tally, documents = None, 0
        for i, batch in enumerate([data] if one_batch else data):
            if steps is not None and i >= steps:
                break
            docs = self._tokenize(batch, "adapt()")
            tokens, lengths = text_tokens.flatten(docs)
            documents += len(docs)
            tally = text_tokens.merge_counts(tally, text_tokens.count_tokens(tokens, lengths))
        if not documents:
            raise ValueError(f"adapt() needs at least one text. Received: {_describe(data)} with no texts")
        tokens, counts, doc_counts = tally
        keep = (tokens != PAD) & (tokens != OOV)
        tokens, counts, doc_counts = tokens[keep], counts[keep], doc_counts[keep]
        order = np.lexsort((tokens, counts))[::-1]  # by count, then by token, both decreasing (Keras)
        if self.max_tokens is not None:
            order = order[:max(self.max_tokens - self._token_start, 0)]
        idf = None
        if self.output_mode == "tf_idf":
            learned = np.log1p(documents / (1.0 + doc_counts[order]))
            idf = np.concatenate([[learned.mean() if len(learned) else 0.0], learned])
        self._set(tokens[order], idf)

    # --- calling --------------------------------------------------------------------------------
    def _tokenize(self, inputs, where: str) -> list:
        """One list of tokens per text."""
        texts = text_tokens.as_strings(inputs, self.encoding, f"{where} of layer {self.name!r} (TextVectorization)")
        if texts.ndim == 2 and texts.shape[1] == 1:
            texts = texts[:, 0]
        if texts.ndim != 1:
            raise ValueError(f"Layer {self.name!r} (TextVectorization) expects texts of shape (batch,) or (batch, 1). "
                             f"Received: shape {texts.shape}")
        texts = text_tokens.standardize(texts, self.standardize)
        docs = [[text] for text in texts.tolist()] if self.split is None else text_tokens.split(texts, self.split)
        return docs if self._widths is None else text_tokens.ngrams(docs, self._widths)

    def __call__(self, inputs=None, **kwargs):
        kwargs.pop("training", None)
        kwargs.pop("mask", None)
        if kwargs:
            raise TypeError(f"TextVectorization got unexpected call arguments: {', '.join(kwargs)}")
        if isinstance(inputs, KerasTensor):  # a model's first layer, on a "string" Input
            self.output_shape = self.compute_output_shape(inputs.shape[1:])
            dtype = np.int64 if self.output_mode == "int" else config_module.floatx()
            return record_node(Node(self, (inputs,)), ((inputs.shape[0], *self.output_shape), np.dtype(dtype)))
        return Tensor(self.vectorize(inputs))

    def vectorize(self, inputs) -> np.ndarray:
        """The layer's output as a NumPy array (what calling the layer returns, as a Tensor)."""
        if self.output_mode != "int" and not self._has_vocabulary and not self.pad_to_max_tokens:
            raise RuntimeError(f"Layer {self.name!r} (TextVectorization) with output_mode={self.output_mode!r} needs "
                               "a vocabulary first: call adapt(), pass `vocabulary`, or set pad_to_max_tokens=True.")
        docs = self._tokenize(inputs, "The input")
        tokens, lengths = text_tokens.flatten(docs)
        n = len(docs)
        if self.output_mode == "int":
            ids = self._lookup(tokens, missing=1)
            ids[tokens == PAD] = 0
            width = self.output_sequence_length
            if width is None:
                width = int(lengths.max()) if n else 0
            rows = np.repeat(np.arange(n), lengths)
            columns = np.arange(len(tokens)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
            keep = columns < width
            out = np.zeros((n, width), dtype=np.int64)
            out[rows[keep], columns[keep]] = ids[keep]
            return out
        depth = self.max_tokens if self.pad_to_max_tokens else self.vocabulary_size()
        ids = self._lookup(tokens, missing=0)
        rows = np.repeat(np.arange(n), lengths)
        keep = tokens != PAD  # an empty token counts for nothing
        counts = np.bincount(rows[keep] * depth + ids[keep], minlength=n * depth).reshape(n, depth)
        dtype = np.dtype(config_module.floatx())
        if self.output_mode == "multi_hot":
            return (counts > 0).astype(dtype)
        if self.output_mode == "count":
            return counts.astype(dtype)
        if self._idf is None:
            raise RuntimeError(f"Layer {self.name!r} (TextVectorization) in 'tf_idf' mode has no idf weights yet: "
                               "call adapt() or set_vocabulary(vocabulary, idf_weights).")
        idf = np.zeros(depth)
        idf[:len(self._idf)] = self._idf[:depth]
        return (counts * idf).astype(dtype)

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return (self.output_sequence_length,)
        return (self.max_tokens if self.pad_to_max_tokens else self.vocabulary_size(),)

    # --- describing ----------------------------------------------------------------------------
    def get_config(self):
        config = {"name": self.name, **({} if self.trainable else {"trainable": False}),
                  "max_tokens": self.max_tokens, "standardize": self.standardize, "split": self.split,
                  "ngrams": list(self.ngrams) if isinstance(self.ngrams, tuple) else self.ngrams,
                  "output_mode": self.output_mode, "output_sequence_length": self.output_sequence_length,
                  "pad_to_max_tokens": self.pad_to_max_tokens, "encoding": self.encoding,
                  # The vocabulary travels in the config, so a saved model reloads with it.
                  "vocabulary": self.get_vocabulary() if self._has_vocabulary else None,
                  "idf_weights": None if self._idf is None else self._idf.tolist(),
                  "vocabulary_size": self.vocabulary_size()}
        if not self._has_input_vocabulary and self._has_vocabulary:
            config["has_input_vocabulary"] = False  # adapted: the reloaded layer may adapt again
        for argument in ("standardize", "split"):
            if callable(config[argument]):
                raise TypeError(f"Layer {self.name!r} (TextVectorization) has a callable `{argument}`, which a "
                                "config cannot hold; give a name ('lower', 'whitespace', ...) to save it.")
        return config


def _describe(data) -> str:
    return f"{type(data).__name__}" + (f" of shape {np.shape(data)}" if isinstance(data, np.ndarray) else "")
