"""Batch normalization (Ioffe & Szegedy, 2015) with Keras's semantics."""

from __future__ import annotations

import numbers

import numpy as np

from .base import Layer
from .context import CONTEXT


class BatchNormalization(Layer):
    """Normalize each feature (the last axis) over the batch, then scale and shift:

        y = gamma * (x - mean) / sqrt(var + epsilon) + beta

    In training, `mean`/`var` are the batch's (over every axis but the last, so a conv
    input `(batch, h, w, c)` is normalized per channel) and the moving statistics are
    updated: `moving = moving * momentum + batch_stat * (1 - momentum)`, with the biased
    batch variance, as Keras does. At inference the moving statistics are used.

    Args:
        axis: The feature axis; only the last axis (-1, the default) is supported.
        momentum: Weight of the old moving statistics. Defaults to 0.99.
        epsilon: Added to the variance. Defaults to 1e-3.
        center: Whether to learn `beta`. Defaults to True.
        scale: Whether to learn `gamma`. Defaults to True.
        synchronized: Under `barenet.distributed`, compute the batch statistics (and the
            backward pass's two sums) over the global batch of every process, so N processes
            match one process exactly; costs two small allreduces forward and one backward.
            False (the default) uses each process's own rows, as Keras does.
        input_shape: Shape of one sample; only needed on a model's first layer.
        name: Layer name. Defaults to one the model assigns.

    `params` holds "gamma" (ones) and "beta" (zeros), those enabled; the non-trainable
    `state` holds "moving_mean" (zeros) and "moving_variance" (ones). Both are saved.
    """

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, synchronized: bool = False, input_shape=None, name: str | None = None):
        super().__init__(input_shape, name)
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
            raise ValueError(f"`axis` must be an integer (the last axis, -1). Received: axis={axis!r}")
        if isinstance(momentum, bool) or not isinstance(momentum, numbers.Real) or not 0 <= momentum <= 1:
            raise ValueError(f"`momentum` must be a number in [0, 1]. Received: momentum={momentum!r}")
        if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real) or not epsilon > 0:
            raise ValueError(f"`epsilon` must be a positive number. Received: epsilon={epsilon!r}")
        self.axis = int(axis)
        self.momentum, self.epsilon = float(momentum), float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.synchronized = bool(synchronized)

    def compute_output_shape(self, input_shape):
        if self.axis not in (-1, len(input_shape)):
            raise ValueError(f"Layer {self.name!r} (BatchNormalization) normalizes the last axis only. "
                             f"Received: axis={self.axis} for input_shape={tuple(input_shape)}; use axis=-1.")
        return input_shape

    def _build(self, input_shape, rng):
        features = input_shape[-1]
        if self.scale:
            self.params["gamma"] = np.ones(features, self.dtype)
        if self.center:
            self.params["beta"] = np.zeros(features, self.dtype)
        self.state = {"moving_mean": np.zeros(features, self.dtype),
                      "moving_variance": np.ones(features, self.dtype)}

    def forward(self, x, training=False):
        self._check_input(x)
        axes = tuple(range(x.ndim - 1))
        self._training = bool(training)
        total = CONTEXT.replica_sum if training and self.synchronized else None  # issue 14 hook
        self._synchronized_pass = total is not None
        if total is not None:  # the global batch's statistics: sums over every process
            sums = total(np.append(x.sum(axis=axes), x.size // x.shape[-1]).astype(x.dtype))
            self._count, mean = sums[-1], sums[:-1] / sums[-1]
            centered = x - mean
            variance = total(np.square(centered).sum(axis=axes)) / self._count
        elif training:
            mean = x.mean(axis=axes)
            centered = x - mean
            variance = np.square(centered).mean(axis=axes)  # biased, as Keras
        if training:
            for key, value in (("moving_mean", mean), ("moving_variance", variance)):
                moving = self.state[key]
                moving *= self.momentum
                moving += (1 - self.momentum) * value
        else:
            centered = x - self.state["moving_mean"]
            variance = self.state["moving_variance"]
        self._inv_std = 1 / np.sqrt(variance + self.dtype.type(self.epsilon))
        centered *= self._inv_std
        self._normalized = centered
        out = self._normalized * self.params["gamma"] if self.scale else self._normalized.copy()
        if self.center:
            out += self.params["beta"]
        return out

    def backward(self, dL_dy):
        axes = tuple(range(dL_dy.ndim - 1))
        # d/dgamma and d/dbeta; the training-mode input gradient needs both sums anyway.
        grad_gamma = np.sum(dL_dy * self._normalized, axis=axes)
        grad_beta = np.sum(dL_dy, axis=axes)
        if self.scale:
            self.grads["gamma"][...] = grad_gamma
        if self.center:
            self.grads["beta"][...] = grad_beta
        if not self.needs_input_grad:
            return None
        scale = self._inv_std * self.params["gamma"] if self.scale else self._inv_std
        if not self._training:  # the statistics are constants
            return dL_dy * scale
        # The batch mean and variance depend on x too: the standard batch-norm backward,
        # dx = gamma / std * (g - mean(g) - xhat * mean(g * xhat)).
        count = dL_dy.size // dL_dy.shape[-1]
        if self._synchronized_pass:  # the global batch's sums (the parameter gradients stay local)
            sums = CONTEXT.replica_sum(np.concatenate([grad_beta, grad_gamma]))
            grad_beta, grad_gamma, count = sums[:len(grad_beta)], sums[len(grad_beta):], self._count
        return scale * (dL_dy - grad_beta / count - self._normalized * (grad_gamma / count))

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale, "synchronized": self.synchronized}
