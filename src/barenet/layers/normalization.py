"""Batch normalization (Ioffe & Szegedy, 2015) with Keras's semantics."""

from __future__ import annotations

import numbers

import numpy as np

from .. import fast, parallel
from ..reductions import column_sums
from . import norm_pool
from .base import Layer
from .context import CONTEXT


def _rows(array, features):
    """`array` as a matrix of `features` columns (a view when it is contiguous)."""
    return array.reshape(-1, features)


class BatchNormalization(Layer):
    """Normalize each feature (the last axis) over the batch, then scale and shift:

        y = gamma * (x - mean) / sqrt(var + epsilon) + beta

    In training, `mean`/`var` are the batch's (over every axis but the last, so a conv
    input `(batch, h, w, c)` is normalized per channel) and the moving statistics are
    updated: `moving = moving * momentum + batch_stat * (1 - momentum)`, with the biased
    batch variance, as Keras does. At inference the moving statistics are used.

    Passes over memory: training forward reads the input twice (mean, then the centered
    values and their squares, kept for backward) and writes the output once; backward
    reads the gradient and the centered values once for both parameter sums and once
    for the input gradient. Each pass runs on `parallel.batch_pieces`, partial sums
    added in piece order (the result does not depend on the thread count). With numba
    installed, float32 training runs the same passes as compiled kernels over every core
    (`barenet.fast.normalization_kernels`, sums per fixed block of rows, added in order).

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
        self._training = bool(training)
        features = x.shape[-1]
        dtype = x.dtype
        gamma, beta = self.affine_params(dtype)
        out = np.empty(x.shape, dtype)
        total = CONTEXT.replica_sum if training and self.synchronized else None  # issue 14 hook
        self._synchronized_pass = total is not None
        self._fast = training and total is None and fast.enabled(dtype)
        if self._fast:
            return self._forward_fast(x, gamma, beta)
        if training:
            # Two passes for the statistics (the mean, then the squared deviations: exact where
            # E[x^2] - E[x]^2 would cancel) and one for the output, each over the batch pieces.
            count = x.size // features
            sums = parallel.add_in_order(self._run(lambda rows: column_sums(_rows(x[rows], features)), x))
            if total is not None:  # the global batch's statistics: sums over every process
                sums = total(np.append(sums, count).astype(dtype))
                sums, count = sums[:-1], sums[-1]
            self._count = count
            mean = sums / count
            self._centered = np.empty(x.shape, dtype)

            def deviations(rows):
                centered = np.subtract(x[rows], mean, out=self._centered[rows])
                return column_sums(_rows(np.square(centered), features))

            squares = parallel.add_in_order(self._run(deviations, x))
            variance = (squares if total is None else total(squares)) / count  # biased, as Keras
            self._update_moving(mean, variance)
            self._x = None
            self._inv_std = 1 / np.sqrt(variance + dtype.type(self.epsilon))
            scale, shift = gamma * self._inv_std, beta
        else:
            mean = self.state["moving_mean"]
            self._x, self._centered = x, None
            self._inv_std, scale, shift = self.inference_affine(gamma, beta, dtype)
        self._mean = mean
        # y = (x - mean) * scale + beta: from the centered values in training, else x * scale + shift.
        source = self._centered if training else x

        def output(rows):
            part = np.multiply(source[rows], scale, out=out[rows])
            if shift is not None:
                part += shift

        self._run(output, x)
        return out

    def affine_params(self, dtype):
        """`(gamma, beta)`: the learned scale (ones without `scale`) and offset (None without `center`)."""
        gamma = self.params["gamma"] if self.scale else np.ones(self.state["moving_mean"].shape, dtype)
        return gamma, self.params["beta"] if self.center else None

    def inference_affine(self, gamma, beta, dtype):
        """`(inv_std, scale, shift)` of inference, from the moving statistics: y = x * scale + shift."""
        mean, variance = self.state["moving_mean"], self.state["moving_variance"]
        inv_std = 1 / np.sqrt(variance + dtype.type(self.epsilon))
        scale = gamma * inv_std
        return inv_std, scale, (0 if beta is None else beta) - mean * scale

    def _run(self, work, x):
        return parallel.run_pieces(work, len(x), x.size)

    def _update_moving(self, mean, variance):
        for key, value in (("moving_mean", mean), ("moving_variance", variance)):
            moving = self.state[key]
            moving *= self.momentum
            moving += (1 - self.momentum) * value

    def _store_parameter_grads(self, grad_beta, grad_gamma):
        """Write dL/dbeta and dL/dgamma; return the input gradient's per-feature scale gamma / std."""
        if self.scale:
            self.grads["gamma"][...] = grad_gamma
        if self.center:
            self.grads["beta"][...] = grad_beta
        return self._inv_std * self.params["gamma"] if self.scale else self._inv_std

    def _forward_fast(self, x, gamma, beta):
        """The training pass by `barenet.fast.normalization_kernels`: the same passes over the rows
        `(batch * ..., features)`, each spread over the cores, sums per fixed block added in order."""
        rows, mean, scale, shift = self.statistics_fast(x, gamma, beta)
        out = np.empty_like(rows)
        with fast.running():
            fast.get_normalization_kernels().normalize(rows, mean, scale, shift, out, parallel.piece_count(len(rows)))
        return out.reshape(x.shape)

    def statistics_fast(self, x, gamma, beta):
        """The batch's mean and variance by the kernels (the moving statistics updated, what backward
        needs kept): `(rows, mean, scale, shift)`, the output being `(rows - mean) * scale + shift`."""
        self._training, self._synchronized_pass, self._fast = True, False, True
        kernels, features = fast.get_normalization_kernels(), x.shape[-1]
        rows = np.ascontiguousarray(x).reshape(-1, features)
        count = len(rows)
        parts = np.empty((parallel.piece_count(count), features), x.dtype)
        with fast.running():
            kernels.column_sums(rows, parts)
            mean = parallel.add_in_order(list(parts)) / count
            kernels.deviation_sums(rows, mean, parts)
            variance = parallel.add_in_order(list(parts)) / count  # biased, as Keras
        self._update_moving(mean, variance)
        self._inv_std = 1 / np.sqrt(variance + x.dtype.type(self.epsilon))
        shift = beta if beta is not None else np.zeros(features, x.dtype)
        # The rows are kept, not their deviations: the kernels take `x - mean` where they use it.
        self._count, self._mean, self._x, self._centered = count, mean, rows, None
        return rows, mean, gamma * self._inv_std, shift

    def _backward_fast(self, dL_dy):
        """`backward` in training by the kernels (the formulas below, per block of rows)."""
        kernels, features = fast.get_normalization_kernels(), dL_dy.shape[-1]
        rows, mean = self._x, self._mean
        grad = np.ascontiguousarray(dL_dy, rows.dtype).reshape(-1, features)
        grad_parts = np.empty((parallel.piece_count(len(grad)), features), grad.dtype)
        product_parts = np.empty_like(grad_parts)
        with fast.running():
            kernels.gradient_sums(grad, rows, mean, grad_parts, product_parts)
            grad_beta = parallel.add_in_order(list(grad_parts))
            grad_gamma = parallel.add_in_order(list(product_parts)) * self._inv_std
            scale = self._store_parameter_grads(grad_beta, grad_gamma)
            if not self.needs_input_grad:
                return None
            dx = np.empty_like(grad)
            kernels.input_gradient(grad, rows, mean, scale, scale * grad_beta / self._count,
                                   scale * self._inv_std * grad_gamma / self._count, dx, len(grad_parts))
        return dx.reshape(dL_dy.shape)

    # --- with the MaxPooling2D that follows it, as one pass (layers.norm_pool) ----------------------
    def fuses_with(self, following, x, training=False) -> bool:
        """Whether `following(self(x, training))` runs as one pass, `fused_forward` (a chain of layers asks)."""
        return norm_pool.fusable(self, following, x, training)

    def fused_forward(self, following, x, training=False):
        """`following.forward(self.forward(x, training))` in one pass, where `fuses_with` says so."""
        return norm_pool.forward(self, x) if training else norm_pool.infer(self, x)

    def fused_backward(self, following, dL_dy):
        """The backward pass of `fused_forward`: this layer's gradients, and dLoss/dx (None where this
        layer needs no input gradient), given dLoss/d(the pooled output)."""
        return norm_pool.backward(self, dL_dy)

    def backward(self, dL_dy):
        if self._fast:
            return self._backward_fast(dL_dy)
        features = dL_dy.shape[-1]
        inv_std, dtype = self._inv_std, dL_dy.dtype
        centered = self._centered

        # One pass for both sums: dL/dbeta = sum(g), dL/dgamma = sum(g * xhat) = inv_std * sum(g * (x - mean)).
        def sums(rows):
            g = _rows(dL_dy[rows], features)
            deviation = centered[rows] if centered is not None else self._x[rows] - self._mean
            return column_sums(g), column_sums(g * _rows(deviation, features))

        parts = self._run(sums, dL_dy)
        grad_beta = parallel.add_in_order([p[0] for p in parts])
        grad_gamma = parallel.add_in_order([p[1] for p in parts]) * inv_std
        scale = self._store_parameter_grads(grad_beta, grad_gamma)
        if not self.needs_input_grad:
            return None
        dx = np.empty(dL_dy.shape, dtype)
        if not self._training:  # the statistics are constants
            self._run(lambda rows: np.multiply(dL_dy[rows], scale, out=dx[rows]), dL_dy)
            return dx
        # The batch mean and variance depend on x too: the standard batch-norm backward,
        # dx = gamma / std * (g - mean(g) - xhat * mean(g * xhat)), with xhat = (x - mean) * inv_std.
        count = self._count
        if self._synchronized_pass:  # the global batch's sums (the parameter gradients stay local)
            sums = CONTEXT.replica_sum(np.concatenate([grad_beta, grad_gamma]))
            grad_beta, grad_gamma = sums[:features], sums[features:]
        offset = scale * grad_beta / count
        slope = scale * inv_std * grad_gamma / count

        def input_grad(rows):
            part = np.multiply(dL_dy[rows], scale, out=dx[rows])
            part -= offset
            part -= centered[rows] * slope

        self._run(input_grad, dL_dy)
        return dx

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale, "synchronized": self.synchronized}
