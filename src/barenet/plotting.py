"""Figures with matplotlib (optional extra: `pip install barenet[plots]`).

- `visualize(model_or_history, path=None)`: the blog's two figures, loss and accuracy
  per epoch, train vs validation. With `path`, one PNG holding both panels is written
  without any display (matplotlib's Agg canvas, pyplot is never touched); without it,
  two pyplot windows are shown, as in the blog.
- `plot_confusion_matrix(y_true, y_pred, path)` and `plot_image_grid(images, y_true, y_pred, path)`
  for `barenet train --plot`.
"""

from __future__ import annotations

import os

import numpy as np

INSTALL_HINT = "matplotlib is not installed; install it with: pip install 'barenet[plots]' (or pip install matplotlib)"


def _figure(figsize):
    """A Figure bound to the Agg canvas: renders to files, needs no display."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(INSTALL_HINT) from None
    figure = Figure(figsize=figsize)
    FigureCanvasAgg(figure)
    return figure


def _save(figure, path) -> str:
    path = os.fspath(path)
    if os.path.dirname(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
    figure.savefig(path, dpi=100, bbox_inches="tight")
    return path


def _curves(source) -> dict:
    history = getattr(source, "history", source)
    history = getattr(history, "history", history)
    if not isinstance(history, dict) or "loss" not in history:
        raise ValueError("Nothing to plot: train the model first (fit or train), or pass a History.")
    return history


def _draw(ax, history, key, label):
    epochs = np.arange(1, len(history[key]) + 1)
    ax.plot(epochs, history[key], "g", label=f"Train {label}")
    if f"val_{key}" in history:
        ax.plot(epochs, history[f"val_{key}"], "r", label=f"Val {label}")
    ax.set_xlabel("Epochs")
    ax.set_ylabel(label)
    ax.set_title(f"{label} vs epoch")
    ax.legend()
    ax.grid(True)


def visualize(source, path=None):
    """Plot loss and accuracy per epoch, train vs validation (see the module docstring).

    Args:
        source: A trained model, a `History`, or a `history.history` dict.
        path: PNG file to write instead of showing windows. Defaults to None.

    Returns:
        The path written, or None when shown.
    """
    history = _curves(source)
    acc_key = next((k for k in ("accuracy", "acc") if k in history), None)
    if path is not None:
        figure = _figure((12 if acc_key else 6, 4.5))
        axes = figure.subplots(1, 2 if acc_key else 1, squeeze=False)[0]
        _draw(axes[0], history, "loss", "Loss")
        if acc_key:
            _draw(axes[1], history, acc_key, "Accuracy")
        return _save(figure, path)
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(INSTALL_HINT) from None
    for key, label in (("loss", "Loss"), (acc_key, "Accuracy")):
        if key is not None:
            _draw(plt.figure(figsize=(10, 10)).gca(), history, key, label)
    plt.show()
    return None


def confusion_matrix(y_true, y_pred, num_classes: int) -> np.ndarray:
    """Counts `matrix[true, predicted]`."""
    matrix = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(matrix, (np.asarray(y_true, np.intp), np.asarray(y_pred, np.intp)), 1)
    return matrix


def plot_confusion_matrix(y_true, y_pred, path, class_names=None) -> str:
    """Save a confusion matrix (rows: true class, columns: predicted) as a PNG."""
    num_classes = len(class_names) if class_names else int(max(np.max(y_true), np.max(y_pred))) + 1
    matrix = confusion_matrix(y_true, y_pred, num_classes)
    figure = _figure((7, 6))
    ax = figure.subplots()
    image = ax.imshow(matrix, cmap="Blues")
    figure.colorbar(image, ax=ax)
    names = list(class_names) if class_names else [str(i) for i in range(num_classes)]
    ax.set_xticks(range(num_classes), names, rotation=45, ha="right")
    ax.set_yticks(range(num_classes), names)
    for (i, j), count in np.ndenumerate(matrix):
        ax.text(j, i, str(count), ha="center", va="center",
                color="white" if count > matrix.max() / 2 else "black", fontsize=8)
    ax.set_xlabel("Predicted")
    ax.set_ylabel("True")
    accuracy = np.trace(matrix) / max(matrix.sum(), 1)
    ax.set_title(f"Confusion matrix (accuracy {accuracy:.3f})")
    return _save(figure, path)


def plot_image_grid(images, y_true, y_pred, path, class_names=None, columns: int = 8) -> str:
    """Save a grid of images titled "predicted (true)", mistakes in red."""
    images = np.asarray(images)
    count = len(images)
    rows = int(np.ceil(count / columns))
    figure = _figure((1.6 * columns, 1.8 * rows))
    axes = figure.subplots(rows, columns, squeeze=False)
    names = (lambda k: class_names[k]) if class_names else str
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index >= count:
            continue
        ax.imshow(images[index].reshape(images[index].shape[:2]), cmap="gray_r")
        right = y_pred[index] == y_true[index]
        ax.set_title(f"{names(int(y_pred[index]))} ({names(int(y_true[index]))})",
                     color="black" if right else "red", fontsize=8)
    figure.suptitle("predicted (true)")
    return _save(figure, path)
