"""Optimizers: the `Optimizer` interface, the algorithms, and name look-up.

`get(name_or_object)` serves Keras-style `compile(optimizer=...)`;
`from_blog(opt, lr, mr)` serves the blog's `compile_model(opt=..., lr=..., mr=...)`:

    sgd        -> SGD(learning_rate=lr, momentum=mr)
    iterative  -> SGD(learning_rate=lr)            (plain gradient descent)
    momentum   -> SGD(learning_rate=lr, momentum=0.9)
    adam       -> Adam(learning_rate=lr)
"""

from __future__ import annotations

from .adam import Adam
from .base import Optimizer
from .sgd import SGD

OPTIMIZERS = {"sgd": SGD, "adam": Adam}

BLOG_OPTIMIZERS = {
    "sgd": lambda lr, mr: SGD(learning_rate=lr, momentum=mr),
    "iterative": lambda lr, mr: SGD(learning_rate=lr),
    "momentum": lambda lr, mr: SGD(learning_rate=lr, momentum=0.9),
    "adam": lambda lr, mr: Adam(learning_rate=lr),
}


def get(identifier: str | Optimizer) -> Optimizer:
    """Return an optimizer for a Keras name (default hyperparameters) or an `Optimizer` unchanged."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in OPTIMIZERS:
        return OPTIMIZERS[identifier.lower()]()
    raise ValueError(
        f"Unknown optimizer {identifier!r}. Expected an Optimizer or one of: {', '.join(OPTIMIZERS)}."
    )


def from_blog(opt: str, lr: float, mr: float) -> Optimizer:
    """Return the optimizer the blog's `compile_model(opt=, lr=, mr=)` names."""
    if isinstance(opt, str) and opt.lower() in BLOG_OPTIMIZERS:
        return BLOG_OPTIMIZERS[opt.lower()](lr, mr)
    raise ValueError(f"Unknown optimizer opt={opt!r}. Expected one of: {', '.join(BLOG_OPTIMIZERS)}.")


__all__ = ["Optimizer", "SGD", "Adam", "OPTIMIZERS", "BLOG_OPTIMIZERS", "get", "from_blog"]
