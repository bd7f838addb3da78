"""`predict` on one sample without a batch axis, as the blog's posts call it (`m.predict(x[0])`).

Keras always wants a batch; the blog's author's `predict` also took one sample of the
model's input shape and returned a batch of one (`np.array([out])`). barenet does the
same for an array whose shape is exactly the model's (fully known) input shape: it is
taken as one sample, and `predict` returns `(1, *output_shape)`. Anything that is neither
one sample nor a batch `(n, *input_shape)` is refused with what was expected, instead of
being read as a batch of the wrong samples (an image's rows taken for samples).
"""

from __future__ import annotations

import numpy as np


def batch_single_sample(model, x):
    """`x[None]` when `x` is one sample of `model`'s input shape, else `x` unchanged.

    Only a NumPy array for a model with one input of known shape is examined. A 1-D `x`
    for an input of shape `(1,)` stays `n` samples of one feature, as before. The model
    is told (`note_single_sample`, when it has one) whether this call was one sample.

    Raises:
        ValueError: `x` has fewer axes than a batch needs but is not one sample either.
    """
    single = False
    specs = model.input_specs() if len(model.input_names) == 1 else [None]
    expected = specs[0]
    if isinstance(x, np.ndarray) and expected is not None and None not in expected and x.ndim <= len(expected):
        expected = tuple(expected)
        if x.shape == expected and expected != (1,):
            x, single = x[None], True
        elif not (x.ndim == 1 and expected == (1,)):
            batch = "(n, " + ", ".join(map(str, expected)) + ")"
            owner = model._input_owner(0) if hasattr(model, "_input_owner") else "the model"
            raise ValueError(f"`x` is neither one sample nor a batch: {owner} expects {expected}, so one sample "
                             f"has shape {expected} and a batch {batch}. Received: x.shape={x.shape}. Give one "
                             f"sample the model's input shape (a grey image may need its channel axis, "
                             f"`x[..., None]`); to predict a batch of one, add a batch axis: `x[None]`.")
    note = getattr(model, "note_single_sample", None)
    if note is not None:
        note(single)
    return x
