"""`plot_model` and `model_to_dot`: a model's layer graph drawn with pydot and Graphviz, the
optional packages Keras uses (`pip install pydot`, and Graphviz's `dot` program from your
system's package manager, e.g. `apt install graphviz`).

A `.dot` (or `.gv`) target is written as Graphviz source and needs pydot only; other formats
(`.png`, `.svg`, `.pdf`, ...) are rendered by Graphviz.
"""

from __future__ import annotations

import itertools
import os

PYDOT_HINT = "You must install pydot (`pip install pydot`) for `plot_model` and `model_to_dot` to work."
GRAPHVIZ_HINT = ("You must install Graphviz (its `dot` program, e.g. `apt install graphviz` or `brew install graphviz`, "
                 "see https://graphviz.gitlab.io/download/) for `plot_model` to render {format!r} files; a '.dot' "
                 "file needs pydot only.")


def _import_pydot():
    try:
        import pydot
    except ImportError:
        raise ImportError(PYDOT_HINT) from None
    return pydot


def _edges(model) -> list:
    """`(source layer, target layer)` pairs in the order the graph computes them."""
    from .models.functional import Functional

    if type(model) is not Functional:  # Sequential: a chain
        layers = model.layers
        return list(itertools.pairwise(layers))
    edges = []
    for node in model._nodes:
        if not node.is_layer:
            continue
        for tensor in node.inputs:
            source = tensor.node
            while not source.is_layer and source.inputs:  # an op between layers: link through it
                source = source.inputs[0].node
            if source.is_layer and (source.operation, node.operation) not in edges:
                edges.append((source.operation, node.operation))
    return edges


def _label(layer, show_shapes, show_dtype, show_layer_names, show_layer_activations, show_trainable) -> str:
    kind = type(layer).__name__
    parts = [f"{layer.name} ({kind})" if show_layer_names else kind]
    activation = getattr(layer, "activation", None)
    if show_layer_activations and activation is not None and hasattr(activation, "name"):
        parts.append(f"activation: {activation.name}")
    if show_shapes:
        shape = layer.output_shape
        parts.append(f"output shape: {(None, *shape) if isinstance(shape, tuple) else shape}")
    if show_dtype and layer.dtype is not None:
        parts.append(f"dtype: {layer.dtype}")
    if show_trainable:
        parts.append(f"trainable: {layer.trainable}")
    return "\\n".join(parts)


def model_to_dot(model, show_shapes: bool = False, show_dtype: bool = False, show_layer_names: bool = True,
                 rankdir: str = "TB", expand_nested: bool = False, dpi: int = 200,
                 show_layer_activations: bool = False, show_trainable: bool = False, **kwargs):
    """The model's layer graph as a `pydot.Dot` (one box per layer, an arrow per connection).

    Args: as `plot_model` (`expand_nested` is accepted; nested models are drawn as one box).
    """
    pydot = _import_pydot()
    if rankdir not in ("TB", "LR"):
        raise ValueError(f"`rankdir` must be 'TB' or 'LR'. Received: rankdir={rankdir!r}")
    if not model.built:
        raise ValueError(f"Model {model.name!r} is not built yet: build it (or call it on data) before plotting.")
    dot = pydot.Dot(graph_type="digraph", rankdir=rankdir, dpi=str(dpi), concentrate="true")
    dot.set_node_defaults(shape="record")
    for layer in model.layers:
        label = _label(layer, show_shapes, show_dtype, show_layer_names, show_layer_activations, show_trainable)
        dot.add_node(pydot.Node(str(id(layer)), label=f'"{label}"'))
    for source, target in _edges(model):
        dot.add_edge(pydot.Edge(str(id(source)), str(id(target))))
    return dot


def plot_model(model, to_file: str = "model.png", show_shapes: bool = False, show_dtype: bool = False,
               show_layer_names: bool = True, rankdir: str = "TB", expand_nested: bool = False, dpi: int = 200,
               show_layer_activations: bool = False, show_trainable: bool = False, **kwargs):
    """Draw the model's layer graph to `to_file` (Keras's `keras.utils.plot_model`).

    Args:
        model: A built `Sequential` or functional `Model`.
        to_file: Target; its suffix picks the format ("png", "svg", "pdf", ... or "dot" for the
            Graphviz source). Defaults to "model.png".
        show_shapes: Show each layer's output shape. Defaults to False.
        show_dtype: Show each layer's dtype. Defaults to False.
        show_layer_names: Show layer names. Defaults to True.
        rankdir: "TB" (top to bottom) or "LR" (left to right). Defaults to "TB".
        expand_nested: Accepted; nested models are drawn as one box. Defaults to False.
        dpi: Resolution of raster formats. Defaults to 200.
        show_layer_activations: Show activations. Defaults to False.
        show_trainable: Show whether each layer is trainable. Defaults to False.

    Raises:
        ImportError: pydot is not installed, or Graphviz is missing for a rendered format.
    """
    dot = model_to_dot(model, show_shapes, show_dtype, show_layer_names, rankdir, expand_nested, dpi,
                       show_layer_activations, show_trainable)
    extension = os.path.splitext(str(to_file))[1][1:].lower() or "png"
    if extension in ("dot", "gv"):
        dot.write_raw(str(to_file))
        return
    try:
        data = dot.create(format=extension)
    except (FileNotFoundError, OSError) as error:
        raise ImportError(GRAPHVIZ_HINT.format(format=extension) + f" ({error})") from None
    with open(to_file, "wb") as f:
        f.write(data)
