"""`model.summary()`: the table of layers, shapes and parameter counts, and its totals."""

from __future__ import annotations

from ..layers.base import Layer


def print_summary(model, print_fn=print) -> None:
    """A layer's count includes its non-trainable state (BatchNormalization's moving statistics),
    as Keras counts it; the footer splits the total into trainable and non-trainable."""
    from ..progress import render_table

    if not model.built:
        raise ValueError(f"Model {model.name!r} is not built yet: call it on data (or fit it) first, "
                         "or give its first layer an input_shape.")
    from ..layers.base import trainable_layer_ids

    rows, header = model.summary_rows()
    learning = trainable_layer_ids(model)
    trainable = sum(layer.count_params() for layer in model.weight_layers() if id(layer) in learning)
    frozen = sum(state_size(layer) + (0 if id(layer) in learning else layer.count_params())
                 for layer in model.weight_layers())
    footer = [f"Total params: {trainable + frozen:,}"]
    if frozen:
        footer += [f"Trainable params: {trainable:,}", f"Non-trainable params: {frozen:,}"]
    print_fn(render_table(f'Model: "{model.name}"', header, rows, footer))


def layer_rows(model):
    rows = [(layer.name, type(layer).__name__, _shape_text(layer), activation_name(layer), f"{layer_total(layer):,}")
            for layer in model.layers]
    return rows, ("Layer", "Type", "Output shape", "Activation", "Params")


def activation_name(layer: Layer) -> str:
    activation = getattr(layer, "activation", None)
    return getattr(activation, "name", "") if activation is not None else ""


def state_size(layer: Layer) -> int:
    """Numbers in a layer's non-trainable `state` (0 for most layers)."""
    return int(sum(value.size for value in layer.state.values()))


def layer_total(layer: Layer) -> int:
    if hasattr(layer, "weight_layers"):
        return sum(sub.count_params() + state_size(sub) for sub in layer.weight_layers())
    return layer.count_params() + state_size(layer) + sum(layer_total(sub) for sub in layer.sublayers)


def _shape_text(layer: Layer) -> str:
    shape = layer.output_shape
    if shape is None:
        return "?"
    if isinstance(shape, list):
        return ", ".join(str(s) for s in shape)
    return str((None, *shape))
