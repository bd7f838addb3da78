"""Optimizers: the `Optimizer` interface, the algorithms, schedules, and name look-up.

`get(name_or_object)` serves Keras-style `compile(optimizer=...)`;
`from_blog(opt, lr, mr)` serves the blog's `compile_model(opt=..., lr=..., mr=...)`:

    sgd        -> SGD(learning_rate=lr, momentum=mr)
    iterative  -> SGD(learning_rate=lr)            (plain gradient descent)
    momentum   -> SGD(learning_rate=lr, momentum=0.9)
    rmsprop    -> RMSprop(learning_rate=lr)
    adagrad    -> Adagrad(learning_rate=lr)
    adam       -> Adam(learning_rate=lr)
    adamax     -> Adamax(learning_rate=lr)
    adadelta   -> Adadelta(learning_rate=lr)

`serialize(opt)` -> `{"class_name": ..., "config": {...}}` (JSON-ready, schedules
included) and `deserialize(dict)` rebuilds the optimizer; its slots and step count
travel separately through `opt.get_state()` / `opt.set_state(state)`.
"""

from __future__ import annotations

from . import schedules
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, Adamax, AdamW, Nadam
from .base import NonFiniteUpdateError, Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

OPTIMIZERS = {
    "sgd": SGD, "adam": Adam, "adamw": AdamW, "adamax": Adamax, "nadam": Nadam,
    "rmsprop": RMSprop, "adagrad": Adagrad, "adadelta": Adadelta,
}

BLOG_OPTIMIZERS = {
    "sgd": lambda lr, mr: SGD(learning_rate=lr, momentum=mr),
    "iterative": lambda lr, mr: SGD(learning_rate=lr),
    "momentum": lambda lr, mr: SGD(learning_rate=lr, momentum=0.9),
    "rmsprop": lambda lr, mr: RMSprop(learning_rate=lr),
    "adagrad": lambda lr, mr: Adagrad(learning_rate=lr),
    "adam": lambda lr, mr: Adam(learning_rate=lr),
    "adamax": lambda lr, mr: Adamax(learning_rate=lr),
    "adadelta": lambda lr, mr: Adadelta(learning_rate=lr),
}

_CLASSES = {cls.__name__: cls for cls in OPTIMIZERS.values()}


def get(identifier: str | dict | Optimizer) -> Optimizer:
    """Return an optimizer for a Keras name (default hyperparameters), a `serialize` dict,
    or an `Optimizer` unchanged."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
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


def serialize(optimizer: Optimizer) -> dict:
    """`{"class_name": "Adam", "config": optimizer.get_config()}`: plain Python values only."""
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"`optimizer` must be a barenet Optimizer. Received: {type(optimizer).__name__}")
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(config: dict, custom_objects: dict | None = None) -> Optimizer:
    """Rebuild an optimizer (hyperparameters and schedule, not its state) from `serialize`'s dict.

    Args:
        config: `{"class_name": ..., "config": {...}}`.
        custom_objects: Extra `{"ClassName": OptimizerSubclass}` to look names up in.
    """
    classes = {**_CLASSES, **(custom_objects or {})}
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"An optimizer config must be a dict with 'class_name' and 'config'. Received: {config!r}")
    cls = classes.get(config["class_name"])
    if cls is None:
        raise ValueError(f"Unknown optimizer class {config['class_name']!r}. Expected one of: {', '.join(classes)}.")
    return cls.from_config(dict(config.get("config", {})))


__all__ = [
    "Optimizer", "NonFiniteUpdateError", "SGD", "RMSprop", "Adagrad", "Adadelta", "Adam", "AdamW", "Adamax", "Nadam",
    "schedules", "OPTIMIZERS", "BLOG_OPTIMIZERS", "get", "from_blog", "serialize", "deserialize",
]
