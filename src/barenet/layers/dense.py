"""Fully connected layers: Keras's `Dense` and the blog's `FFL`, one implementation."""

from __future__ import annotations

import numpy as np

from .. import fast
from ..activations import is_plain_relu
from ..reductions import column_sums
from .base import Layer, check_positive_int
from .kernel_layer import KernelLayer


class Dense(KernelLayer):
    """Fully connected layer: `activation(x @ weights + biases)`.

    Args:
        units: Number of output neurons.
        activation: Name from `barenet.activations` (e.g. "relu"), or None for linear.
        use_bias: Whether to learn `biases`. Defaults to True.
        input_dim: Number of inputs; only needed on a model's first layer.
        kernel_initializer: Initializer name for `weights`. Defaults to "glorot_uniform".
        bias_initializer: Initializer name for `biases`. Defaults to "zeros".
        kernel_regularizer: Penalty on `weights`: a `barenet.regularizers` object or a
            name ("l1", "l2", "l1_l2"). Defaults to None.
        bias_regularizer: Penalty on `biases`, likewise. Defaults to None.
        **kwargs: Base layer arguments: `activity_regularizer` (penalty on the outputs),
            `trainable`, `dtype`.

    Input `(batch, ..., inputs)` -> output `(batch, ..., units)`: on inputs of higher rank
    the layer acts on the last axis (as Keras's does), every other axis folded into the
    rows of one matrix product. `weights` has shape `(inputs, units)`, `biases` shape `(units,)`.

    With `barenet[fast]`, a training step on large float32 weights is split by the weights' rows
    (the inputs) over the cores, `barenet.fast.dense_kernels`: the output is then the sum of the
    blocks' shares, equal to the whole product to float32's rounding, at every thread count.
    """

    def __init__(self, units: int, activation=None, use_bias: bool = True, input_dim: int | None = None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", input_shape=None,
                 name: str | None = None, kernel_regularizer=None, bias_regularizer=None, **kwargs):
        super().__init__(activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                         bias_regularizer, input_shape if input_shape is not None else input_dim, name, **kwargs)
        self.units = check_positive_int("units", units)

    def compute_output_shape(self, input_shape):
        if len(input_shape) < 1:
            raise ValueError(f"Layer {self.name!r} (Dense) expects inputs with a feature axis, (batch, ..., features). "
                             f"Received: input_shape={tuple(input_shape)}")
        return (*input_shape[:-1], self.units)

    def _build(self, input_shape, rng):
        self.params["weights"] = self.kernel_initializer((input_shape[-1], self.units), rng, self.dtype)
        if self.use_bias:
            self.params["biases"] = self.bias_initializer((self.units,), rng, self.dtype)

    def forward(self, x, training=False):
        self._lead = x.shape[:-1] if x.ndim > 2 else None  # folded into rows for one matrix product
        if self._lead is not None:
            x = x.reshape(-1, x.shape[-1])
        self._x = x
        weights = self.params["weights"]
        # In training, large weights are split by their rows over the cores for the whole step
        # (barenet.fast.dense_kernels): each core multiplies, differentiates and updates its own share.
        self._by_inputs = fast.input_blocks(x, weights) if training else 1
        self._fast = self._by_inputs == 1 and x.dtype == weights.dtype and fast.worth_it(x) \
            and x.shape[1] * weights.shape[1] >= 4096
        blocks = fast.product_blocks(len(x), x.size * self.units) if self._fast else 1
        biases = self.params["biases"] if self.use_bias else None
        relu = self._by_inputs > 1 and is_plain_relu(self.activation)
        if self._by_inputs > 1:  # the shares added, with the biases and a plain ReLU, in one pass
            z = _forward_by_inputs(x, weights, biases, relu, self._by_inputs)
        else:
            if blocks > 1:  # the product over the cores (barenet.fast), rows split into fixed blocks
                z = np.empty((len(x), self.units), x.dtype)
                with fast.running():
                    fast.get_kernels().matmul_by_rows(x, weights, z, False, blocks)
            else:
                z = x @ weights
            if biases is not None:
                z += biases
        self._relu_out = z if relu else None  # a ReLU applied already: its derivative is 1 where z > 0
        if not relu:
            z = self.activation.forward_in_place(z)
        return z if self._lead is None else z.reshape(*self._lead, self.units)

    def backward(self, dL_dy):
        if self._lead is not None:
            dL_dy = dL_dy.reshape(-1, self.units)
        relu_out = self.__dict__.get("_relu_out")
        if relu_out is not None:  # the ReLU ran inside the forward pass (`_forward_by_inputs`)
            return self.backward_preactivation(_relu_gradient(dL_dy, relu_out))
        return self.backward_preactivation(self.activation.backward(dL_dy))

    def backward_preactivation(self, dL_dz):
        """Backward pass given dLoss/d(x @ weights + biases), skipping the activation.

        The model calls this with the fused softmax/sigmoid + cross-entropy gradient.
        """
        lead = self._lead
        if lead is not None and dL_dz.ndim > 2:  # the fused loss gradient comes in the output's shape
            dL_dz = dL_dz.reshape(-1, self.units)
        kernels_take = dL_dz.dtype == self._x.dtype and dL_dz.flags.c_contiguous
        by_inputs = self._by_inputs if kernels_take else 1
        fast_path = self._fast and kernels_take
        work = self._x.size * self.units  # each product's multiply-adds
        blocks = fast.product_blocks(self.units, work) if fast_path else 1
        if by_inputs > 1:
            with fast.running():
                _split_kernel("weight_gradient_by_inputs")(self._x, dL_dz, self.grads["weights"], by_inputs)
        elif blocks > 1:
            with fast.running():
                fast.get_kernels().matmul_by_columns(self._x, dL_dz, self.grads["weights"], blocks)
        else:
            np.matmul(self._x.T, dL_dz, out=self.grads["weights"])
        if self.use_bias:
            column_sums(dL_dz, out=self.grads["biases"])
        if self.regularizers:
            self._add_regularization_grads()
        if not self.needs_input_grad:
            return None
        blocks = fast.product_blocks(len(dL_dz), work) if fast_path else 1
        if by_inputs > 1:
            dL_dx = np.empty(self._x.shape, dL_dz.dtype)
            with fast.running():
                _split_kernel("input_gradient_by_inputs")(dL_dz, self.params["weights"], dL_dx, by_inputs)
        elif blocks > 1:
            dL_dx = np.empty(self._x.shape, dL_dz.dtype)
            with fast.running():
                fast.get_kernels().matmul_by_rows(dL_dz, self.params["weights"], dL_dx, True, blocks)
        else:
            dL_dx = dL_dz @ self.params["weights"].T
        return dL_dx if lead is None else dL_dx.reshape(*lead, dL_dx.shape[-1])

    @property
    def neurons(self) -> int:
        return self.units

    def get_config(self):
        return {**super().get_config(), "units": self.units, **self.kernel_config()}


def _forward_by_inputs(x, weights, biases, relu: bool, blocks: int) -> np.ndarray:
    """`x @ weights (+ biases)`, then `max(., 0)` if `relu`: the sum, in block order, of `blocks`
    shares over fixed blocks of the inputs (`fast.dense_kernels.forward_by_inputs`, one share per
    core), finished in one pass (`finish_forward`: the bits of NumPy's `parts[0] + parts[1] + ...`,
    `+= biases` and `np.maximum(z, 0)`)."""
    parts = np.empty((blocks, len(x), weights.shape[1]), x.dtype)
    with fast.running():
        _split_kernel("forward_by_inputs")(x, weights, parts, blocks)
    z = np.empty(parts.shape[1:], x.dtype)
    with_bias = biases is not None
    fast.get_dense_kernels().finish_forward(parts, biases if with_bias else parts[0, 0], with_bias, relu, z)
    return z


def _relu_gradient(grad, out) -> np.ndarray:
    """`grad * (out > 0)`, the gradient through a ReLU from its output `out`, in one pass
    (`fast.dense_kernels.relu_gradient`, NumPy's bits) where `grad` is like `out`."""
    if grad.dtype != out.dtype or grad.shape != out.shape or not grad.flags.c_contiguous:
        return grad * (out > 0)
    dz = np.empty_like(out)
    fast.get_dense_kernels().relu_gradient(grad, out, dz)
    return dz


def _split_kernel(name: str):
    """`fast.dense_kernels`'s kernel `name` over the cores, or on one thread its twin that runs the
    same blocks in turn (the same bits, without starting a parallel loop)."""
    return getattr(fast.get_dense_kernels(), name if fast.threads() > 1 else name + "_here")


class FFL(Dense):
    """The blog's feed-forward layer: `Dense` under the blog's argument names.

    Args:
        input_shape: Number of inputs (first layer only). Defaults to None.
        neurons: Number of output neurons. Defaults to 1.
        bias: Initial biases, shape `(neurons,)`, or None for zeros.
        weights: Initial weights, shape `(input_shape, neurons)`, or None for Glorot uniform.
        activation: Activation name or None (linear).
        is_bias: Whether to learn biases. Defaults to True.

    Unlike the blog's code, weights are Glorot-initialized from the model's seeded
    generator (not unscaled `randn` after `np.random.seed(100)` in every layer).
    """

    def __init__(self, input_shape=None, neurons: int = 1, bias=None, weights=None, activation=None,
                 is_bias: bool = True, name: str | None = None, **kwargs):
        super().__init__(neurons, activation=activation, use_bias=is_bias, input_shape=input_shape, name=name, **kwargs)
        self._initial_weights = None if weights is None else np.asarray(weights)
        self._initial_biases = None if bias is None else np.asarray(bias)

    def _build(self, input_shape, rng):
        super()._build(input_shape, rng)
        if self._initial_weights is not None:
            self._assign("weights", self._initial_weights)
        if self._initial_biases is not None and self.use_bias:
            self._assign("biases", self._initial_biases)
        self._initial_weights = self._initial_biases = None

    def get_config(self):
        config = {**Layer.get_config(self), "neurons": self.units, **self.kernel_config()}
        config["is_bias"] = config.pop("use_bias")
        return config
