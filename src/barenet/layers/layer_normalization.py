"""Layer normalization (Ba et al., 2016) with Keras's semantics."""

from __future__ import annotations

import numbers

import numpy as np

from .base import Layer


class LayerNormalization(Layer):
    """Normalize each sample over `axis`, then scale and shift:

        y = gamma * (x - mean) / sqrt(var + epsilon) + beta

    with `mean` and the (biased) `var` taken over the `axis` axes of each sample
    separately, so training and inference compute the same thing and there is no
    moving statistic.

    Args:
        axis: The axis or axes to normalize, counted on the batch `(batch, ...)` as in
            Keras (the batch axis itself is not allowed); an int or a list of ints.
            Defaults to -1 (the features).
        epsilon: Added to the variance. Defaults to 1e-3.
        center: Whether to learn `beta`. Defaults to True.
        scale: Whether to learn `gamma`. Defaults to True.
        input_shape: Shape of one sample; only needed on a model's first layer.
        name: Layer name. Defaults to one the model assigns.

    `params` holds "gamma" (ones) and "beta" (zeros), those enabled, of the shape of the
    normalized axes.
    """

    def __init__(self, axis=-1, epsilon: float = 1e-3, center: bool = True, scale: bool = True, input_shape=None,
                 name: str | None = None):
        super().__init__(input_shape, name)
        axes = [axis] if isinstance(axis, numbers.Integral) and not isinstance(axis, bool) else axis
        try:
            axes = list(axes)
        except TypeError:
            axes = []
        if not axes or not all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in axes):
            raise ValueError(f"`axis` must be an integer or a list of integers. Received: axis={axis!r}")
        if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real) or not epsilon > 0:
            raise ValueError(f"`epsilon` must be a positive number. Received: epsilon={epsilon!r}")
        self.axis = int(axis) if isinstance(axis, numbers.Integral) else [int(a) for a in axes]
        self.epsilon = float(epsilon)
        self.center, self.scale = bool(center), bool(scale)

    def _axes(self, input_shape) -> tuple[int, ...]:
        """The normalized axes of a batch of samples of `input_shape`, positive and sorted."""
        rank = len(input_shape) + 1
        axes = [self.axis] if isinstance(self.axis, int) else self.axis
        positive = sorted({a % rank if -rank <= a < rank else -1 for a in axes})
        if positive[0] < 1 or len(positive) != len(axes):
            raise ValueError(
                f"Layer {self.name!r} (LayerNormalization) got axis={self.axis} for batches of {rank} dimensions "
                f"(samples of shape {tuple(input_shape)}): each axis must be a distinct axis from 1 "
                f"to {rank - 1} (or -1 to -{rank - 1}); the batch axis 0 cannot be normalized."
            )
        return tuple(positive)

    def compute_output_shape(self, input_shape):
        self._axes(input_shape)
        return input_shape

    def _build(self, input_shape, rng):
        rank = len(input_shape) + 1
        self._norm_axes = self._axes(input_shape)
        self._other_axes = tuple(a for a in range(rank) if a not in self._norm_axes)
        shape = tuple(input_shape[a - 1] for a in self._norm_axes)
        # gamma/beta broadcast against a batch through this shape (1 on the other axes).
        self._broadcast = tuple(input_shape[a - 1] if a in self._norm_axes else 1 for a in range(1, rank))
        if self.scale:
            self.params["gamma"] = np.ones(shape, self.dtype)
        if self.center:
            self.params["beta"] = np.zeros(shape, self.dtype)

    def forward(self, x, training=False):
        self._check_input(x)
        centered = x - x.mean(axis=self._norm_axes, keepdims=True)
        variance = np.square(centered).mean(axis=self._norm_axes, keepdims=True)
        self._inv_std = 1 / np.sqrt(variance + self.dtype.type(self.epsilon))
        centered *= self._inv_std
        self._normalized = centered
        out = centered * self.params["gamma"].reshape(self._broadcast) if self.scale else centered.copy()
        if self.center:
            out += self.params["beta"].reshape(self._broadcast)
        return out

    def backward(self, grad):
        if self.scale:
            self.grads["gamma"][...] = np.sum(grad * self._normalized, axis=self._other_axes).reshape(
                self.grads["gamma"].shape)
        if self.center:
            self.grads["beta"][...] = np.sum(grad, axis=self._other_axes).reshape(self.grads["beta"].shape)
        if not self.needs_input_grad:
            return None
        # dx = (g' - mean(g') - xhat * mean(g' * xhat)) / std over the normalized axes, g' = g * gamma.
        grad = grad * self.params["gamma"].reshape(self._broadcast) if self.scale else grad
        axes, normalized = self._norm_axes, self._normalized
        return self._inv_std * (grad - grad.mean(axis=axes, keepdims=True)
                                - normalized * (grad * normalized).mean(axis=axes, keepdims=True))

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon, "center": self.center,
                "scale": self.scale}
