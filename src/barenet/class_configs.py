"""Built-in objects (losses, metrics) as JSON-ready configs and back, by class name."""

from __future__ import annotations


def to_class_config(obj, classes: dict, what: str, default_name=None):
    """`default_name(config, cls)` (or the class name) when `obj` has its class's default settings,
    else `{"class_name", "config"}`. Raises ValueError for a class not in `classes`."""
    cls = type(obj)
    if classes.get(cls.__name__) is not cls:
        raise ValueError(f"The {what} {obj!r} is not a built-in barenet {what}, so it cannot be saved by name.")
    config = obj.get_config()
    if config == cls().get_config():
        return default_name(config, cls) if default_name else cls.__name__
    return {"class_name": cls.__name__, "config": config}


def from_class_config(config: dict, classes: dict, what: str):
    """The object `to_class_config` described as `{"class_name", "config"}`."""
    cls = classes.get(config.get("class_name")) if isinstance(config, dict) else None
    if cls is None or not isinstance(config.get("config", {}), dict):
        raise ValueError(f"A {what} config must be {{'class_name': one of {sorted(classes)}, 'config': {{...}}}}. "
                         f"Received: {config!r:.120}")
    return cls.from_config(config.get("config", {}))
