"""Recurrent layers: Keras's `SimpleRNN`, `LSTM`, `GRU`, and `RepeatVector`.

Sequences are `(batch, timesteps, features)`. The forward pass turns the batch
time-major, projects every step's input in ONE matrix product
(`x @ kernel + bias` for all `timesteps * batch` rows), then runs the recurrence:
one product `h @ recurrent_kernel` for all gates per step (GRU with
`reset_after=False` needs two, as its candidate reads `r * h`). Backpropagation
through time walks the steps in reverse, vectorized over the batch, and collects
each step's gradient with respect to the projected input; the kernel, bias and
input gradients are then again one product each over all steps.

Weights follow Keras's names and layouts, gates side by side along the last axis:

    SimpleRNN  kernel (features, units)    recurrent_kernel (units, units)    bias (units,)
    LSTM       kernel (features, 4 units)  recurrent_kernel (units, 4 units)  bias (4 units,)   gates i, f, c, o
    GRU        kernel (features, 3 units)  recurrent_kernel (units, 3 units)  bias (2, 3 units) gates z, r, h
               (bias (3 units,) with reset_after=False; with reset_after=True row 0 is the
               input bias and row 1 the recurrent bias)

The initial state is zeros. Masks, `return_state`, `initial_state` and dropout need
the functional model and are not here yet.
"""

from __future__ import annotations

import copy

import numpy as np

from .. import activations, initializers, regularizers
from ..reductions import column_sums
from .base import Layer, check_positive_int


class _RNN(Layer):
    """Shared implementation: arguments, the input projection and its gradients, config.

    Subclasses set `gates` (how many blocks of `units` the kernel holds) and implement
    `_recur(projected)` -> hidden states `(timesteps + 1, batch, units)` (row 0 the zero
    initial state) and `_recur_backward(grad_last, grad_steps)` -> dLoss/d(projected),
    filling the recurrent gradients on the way.
    """

    gates = 1

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid", use_bias: bool = True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 return_sequences: bool = False, go_backwards: bool = False, input_shape=None,
                 name: str | None = None):
        super().__init__(input_shape, name)
        self.units = check_positive_int("units", units)
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = bool(use_bias)
        self.return_sequences = bool(return_sequences)
        self.go_backwards = bool(go_backwards)
        self._initializer_names = {}
        for argument, value in (("kernel_initializer", kernel_initializer),
                                ("recurrent_initializer", recurrent_initializer),
                                ("bias_initializer", bias_initializer)):
            setattr(self, argument, initializers.get(value))
            self._initializer_names[argument] = value if isinstance(value, str) else None
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        for key, reg in (("kernel", self.kernel_regularizer), ("recurrent_kernel", self.recurrent_regularizer),
                         ("bias", self.bias_regularizer if self.use_bias else None)):
            if reg is not None:
                self.regularizers[key] = reg

    # --- shapes and weights -------------------------------------------------------------------
    def compute_output_shape(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(
                f"Layer {self.name!r} ({type(self).__name__}) expects sequences of shape (timesteps, features), "
                f"i.e. batches of shape (batch, timesteps, features). Received: input_shape={tuple(input_shape)}"
                + (" (a batch of vectors has no time axis: reshape it to (batch, timesteps, features))"
                   if len(input_shape) == 1 else "")
            )
        return (input_shape[0], self.units) if self.return_sequences else (self.units,)

    def _build(self, input_shape, rng):
        width = self.gates * self.units
        self.params["kernel"] = self.kernel_initializer((input_shape[1], width), rng, self.dtype)
        self.params["recurrent_kernel"] = self.recurrent_initializer((self.units, width), rng, self.dtype)
        if self.use_bias:
            self.params["bias"] = self.bias_initializer(self._bias_shape(), rng, self.dtype)

    def _bias_shape(self):
        return (self.gates * self.units,)

    def _input_bias(self, store):
        """The part of `store["bias"]` (params or grads) added to the input projection."""
        return store["bias"]

    # --- computing ----------------------------------------------------------------------------
    def forward(self, x, training=False):
        self._check_input(x)
        sequence = x[:, ::-1] if self.go_backwards else x
        self._x = np.ascontiguousarray(sequence.transpose(1, 0, 2))  # (timesteps, batch, features)
        steps, n, features = self._x.shape
        projected = self._x.reshape(steps * n, features) @ self.params["kernel"]
        if self.use_bias:
            projected += self._input_bias(self.params)
        self._h = self._recur(projected.reshape(steps, n, -1))
        if self.return_sequences:
            return np.ascontiguousarray(self._h[1:].transpose(1, 0, 2))
        return self._h[-1].copy()

    def backward(self, grad):
        steps, n, features = self._x.shape
        if self.return_sequences:
            grad_projected = self._recur_backward(None, grad.transpose(1, 0, 2))
        else:
            grad_projected = self._recur_backward(grad, None)
        flat = grad_projected.reshape(steps * n, -1)
        np.matmul(self._x.reshape(steps * n, features).T, flat, out=self.grads["kernel"])
        if self.use_bias:
            column_sums(flat, out=self._input_bias(self.grads))
        if self.regularizers:
            self._add_regularization_grads()
        if not self.needs_input_grad:
            return None
        grad_x = (flat @ self.params["kernel"].T).reshape(steps, n, features).transpose(1, 0, 2)
        return np.ascontiguousarray(grad_x[:, ::-1] if self.go_backwards else grad_x)

    def _start_backward(self, grad_last, n):
        """dLoss/dh after the last step: the incoming gradient, or zeros when every step has one."""
        return grad_last.copy() if grad_last is not None else np.zeros((n, self.units), self.dtype)

    def _recurrent_weight_grad(self, grad_steps_flat, key="recurrent_kernel"):
        """`h_{t-1}^T @ grad` summed over steps and batch, into `grads[key]`."""
        previous = self._h[:-1].reshape(-1, self.units)
        np.matmul(previous.T, grad_steps_flat, out=self.grads[key])

    # --- describing -----------------------------------------------------------------------------
    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": self.activation.get_config(),
            "recurrent_activation": self.recurrent_activation.get_config(),
            "use_bias": self.use_bias,
            "kernel_initializer": self._initializer_names["kernel_initializer"] or "glorot_uniform",
            "recurrent_initializer": self._initializer_names["recurrent_initializer"] or "orthogonal",
            "bias_initializer": self._initializer_names["bias_initializer"] or "zeros",
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "return_sequences": self.return_sequences,
            "go_backwards": self.go_backwards,
        }


class SimpleRNN(_RNN):
    """Fully connected recurrence: `h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)`.

    Args:
        units: Size of the hidden state (and of the output).
        activation: Name from `barenet.activations`. Defaults to "tanh".
        use_bias: Whether to learn `bias`. Defaults to True.
        kernel_initializer: For `kernel`. Defaults to "glorot_uniform".
        recurrent_initializer: For `recurrent_kernel`. Defaults to "orthogonal".
        bias_initializer: For `bias`. Defaults to "zeros".
        kernel_regularizer, recurrent_regularizer, bias_regularizer: Penalties (a
            `barenet.regularizers` object or a name). Default to None.
        return_sequences: Return every step's output `(batch, timesteps, units)` rather
            than the last one `(batch, units)`. Defaults to False.
        go_backwards: Process the sequence from its end; with `return_sequences` the
            outputs come in that (reversed) order, as in Keras. Defaults to False.
        input_shape: `(timesteps, features)`; only needed on a model's first layer.
        name: Layer name. Defaults to one the model assigns.
    """

    def __init__(self, units: int, activation="tanh", use_bias: bool = True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, return_sequences: bool = False,
                 go_backwards: bool = False, input_shape=None, name: str | None = None):
        super().__init__(units, activation, None, use_bias, kernel_initializer, recurrent_initializer,
                         bias_initializer, kernel_regularizer, recurrent_regularizer, bias_regularizer,
                         return_sequences, go_backwards, input_shape, name)

    def _recur(self, projected):
        steps, n, _ = projected.shape
        recurrent = self.params["recurrent_kernel"]
        h = np.zeros((steps + 1, n, self.units), self.dtype)
        self._steps = []  # each step's activation object, holding what its derivative needs
        for t in range(steps):
            act = copy.copy(self.activation)
            h[t + 1] = act.forward_in_place(projected[t] + h[t] @ recurrent)
            self._steps.append(act)
        return h

    def _recur_backward(self, grad_last, grad_steps):
        steps, n = len(self._steps), self._h.shape[1]
        recurrent = self.params["recurrent_kernel"]
        grad_z = np.empty((steps, n, self.units), self.dtype)
        grad_h = self._start_backward(grad_last, n)
        for t in reversed(range(steps)):
            if grad_steps is not None:
                grad_h += grad_steps[t]
            grad_z[t] = self._steps[t].backward(grad_h)
            if t:
                grad_h = grad_z[t] @ recurrent.T
        self._recurrent_weight_grad(grad_z.reshape(-1, self.units))
        return grad_z

    def get_config(self):
        config = super().get_config()
        del config["recurrent_activation"]
        return config


class LSTM(_RNN):
    """Long short-term memory (Hochreiter & Schmidhuber, 1997), Keras's formulation:

        i, f, c~, o = sigma(z_i), sigma(z_f), activation(z_c), sigma(z_o)
            with z = x_t @ kernel + h_{t-1} @ recurrent_kernel + bias  (gates in that order)
        c_t = f * c_{t-1} + i * c~
        h_t = o * activation(c_t)

    where sigma is `recurrent_activation`.

    Args:
        units: Size of the hidden and cell states (and of the output).
        activation: For the candidate and the cell output. Defaults to "tanh".
        recurrent_activation: For the gates. Defaults to "sigmoid".
        unit_forget_bias: Start the forget gate's bias at 1 (Jozefowicz et al., 2015).
            Defaults to True.
        Other arguments: as `SimpleRNN`.

    `kernel` is `(features, 4 units)`, `recurrent_kernel` `(units, 4 units)`, `bias`
    `(4 units,)`, gates in the order i, f, c, o (the same order as PyTorch's i, f, g, o).
    """

    gates = 4

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid", use_bias: bool = True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias: bool = True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, return_sequences: bool = False, go_backwards: bool = False,
                 input_shape=None, name: str | None = None):
        super().__init__(units, activation, recurrent_activation, use_bias, kernel_initializer,
                         recurrent_initializer, bias_initializer, kernel_regularizer, recurrent_regularizer,
                         bias_regularizer, return_sequences, go_backwards, input_shape, name)
        self.unit_forget_bias = bool(unit_forget_bias)

    def _build(self, input_shape, rng):
        super()._build(input_shape, rng)
        if self.use_bias and self.unit_forget_bias:
            self.params["bias"][self.units:2 * self.units] = 1

    def _recur(self, projected):
        steps, n, _ = projected.shape
        u, recurrent = self.units, self.params["recurrent_kernel"]
        h = np.zeros((steps + 1, n, u), self.dtype)
        self._c = np.zeros((steps + 1, n, u), self.dtype)
        self._gate_values = np.empty((steps, n, 4 * u), self.dtype)  # i, f, c~, o after their activations
        self._cell_out = np.empty((steps, n, u), self.dtype)  # activation(c_t)
        self._steps = []
        for t in range(steps):
            z = projected[t] + h[t] @ recurrent
            acts = (copy.copy(self.recurrent_activation), copy.copy(self.activation),
                    copy.copy(self.recurrent_activation), copy.copy(self.activation))
            gates = self._gate_values[t]
            gates[:, :2 * u] = acts[0].forward(z[:, :2 * u])
            gates[:, 2 * u:3 * u] = acts[1].forward(z[:, 2 * u:3 * u])
            gates[:, 3 * u:] = acts[2].forward(z[:, 3 * u:])
            i, f, candidate, o = (gates[:, k * u:(k + 1) * u] for k in range(4))
            np.multiply(f, self._c[t], out=self._c[t + 1])
            self._c[t + 1] += i * candidate
            self._cell_out[t] = acts[3].forward(self._c[t + 1])
            np.multiply(o, self._cell_out[t], out=h[t + 1])
            self._steps.append(acts)
        return h

    def _recur_backward(self, grad_last, grad_steps):
        steps, n = len(self._steps), self._h.shape[1]
        u, recurrent = self.units, self.params["recurrent_kernel"]
        grad_z = np.empty((steps, n, 4 * u), self.dtype)
        grad_h = self._start_backward(grad_last, n)
        grad_c = np.zeros((n, u), self.dtype)
        for t in reversed(range(steps)):
            if grad_steps is not None:
                grad_h += grad_steps[t]
            act_if, act_candidate, act_o, act_cell = self._steps[t]
            i, f, candidate, o = (self._gate_values[t][:, k * u:(k + 1) * u] for k in range(4))
            out = grad_z[t]
            out[:, 3 * u:] = act_o.backward(grad_h * self._cell_out[t])
            grad_c += act_cell.backward(grad_h * o)
            np.multiply(grad_c, candidate, out=out[:, :u])
            np.multiply(grad_c, self._c[t], out=out[:, u:2 * u])
            out[:, :2 * u] = act_if.backward(out[:, :2 * u])
            out[:, 2 * u:3 * u] = act_candidate.backward(grad_c * i)
            grad_c *= f
            if t:
                grad_h = out @ recurrent.T
        self._recurrent_weight_grad(grad_z.reshape(-1, 4 * u))
        return grad_z

    def get_config(self):
        return {**super().get_config(), "unit_forget_bias": self.unit_forget_bias}


class GRU(_RNN):
    """Gated recurrent unit (Cho et al., 2014), Keras's formulation (gates z, r, h):

        z, r = sigma(x_t @ W_z + h_{t-1} @ U_z + b_z), sigma(x_t @ W_r + h_{t-1} @ U_r + b_r)
        reset_after=True:  h~ = activation(x_t @ W_h + b_h + r * (h_{t-1} @ U_h + b'_h))
        reset_after=False: h~ = activation(x_t @ W_h + (r * h_{t-1}) @ U_h + b_h)
        h_t = z * h_{t-1} + (1 - z) * h~

    `reset_after=True` (the default, as in Keras 3 and cuDNN) is PyTorch's `nn.GRU` with
    its r, z, n gates reordered to z, r, n.

    Args:
        units: Size of the hidden state (and of the output).
        activation: For the candidate. Defaults to "tanh".
        recurrent_activation: For the gates. Defaults to "sigmoid".
        reset_after: Apply the reset gate after the recurrent product (True), with a separate
            recurrent bias, or before it (False). Defaults to True.
        Other arguments: as `SimpleRNN`.

    `kernel` is `(features, 3 units)`, `recurrent_kernel` `(units, 3 units)`; `bias` is
    `(2, 3 units)` (input bias, recurrent bias) with `reset_after=True`, else `(3 units,)`.
    """

    gates = 3

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid", use_bias: bool = True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 return_sequences: bool = False, go_backwards: bool = False, reset_after: bool = True,
                 input_shape=None, name: str | None = None):
        super().__init__(units, activation, recurrent_activation, use_bias, kernel_initializer,
                         recurrent_initializer, bias_initializer, kernel_regularizer, recurrent_regularizer,
                         bias_regularizer, return_sequences, go_backwards, input_shape, name)
        self.reset_after = bool(reset_after)

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _input_bias(self, store):
        return store["bias"][0] if self.reset_after else store["bias"]

    def _recur(self, projected):
        steps, n, _ = projected.shape
        u, recurrent = self.units, self.params["recurrent_kernel"]
        h = np.zeros((steps + 1, n, u), self.dtype)
        self._gate_values = np.empty((steps, n, 3 * u), self.dtype)  # z, r, h~ after their activations
        # reset_after: h_{t-1} @ U_h + b'_h (what r multiplies); else r * h_{t-1} (what U_h multiplies).
        self._reset_input = np.empty((steps, n, u), self.dtype)
        if not self.reset_after:
            recurrent_zr, recurrent_h = recurrent[:, :2 * u].copy(), recurrent[:, 2 * u:].copy()
        self._steps = []
        for t in range(steps):
            acts = (copy.copy(self.recurrent_activation), copy.copy(self.activation))
            gates, x_part = self._gate_values[t], projected[t]
            if self.reset_after:
                h_part = h[t] @ recurrent
                if self.use_bias:
                    h_part += self.params["bias"][1]
                gates[:, :2 * u] = acts[0].forward(x_part[:, :2 * u] + h_part[:, :2 * u])
                self._reset_input[t] = h_part[:, 2 * u:]
                gates[:, 2 * u:] = acts[1].forward(x_part[:, 2 * u:] + gates[:, u:2 * u] * self._reset_input[t])
            else:
                gates[:, :2 * u] = acts[0].forward(x_part[:, :2 * u] + h[t] @ recurrent_zr)
                np.multiply(gates[:, u:2 * u], h[t], out=self._reset_input[t])
                gates[:, 2 * u:] = acts[1].forward(x_part[:, 2 * u:] + self._reset_input[t] @ recurrent_h)
            z, candidate = gates[:, :u], gates[:, 2 * u:]
            np.subtract(h[t], candidate, out=h[t + 1])
            h[t + 1] *= z
            h[t + 1] += candidate
            self._steps.append(acts)
        return h

    def _recur_backward(self, grad_last, grad_steps):
        steps, n = len(self._steps), self._h.shape[1]
        u, recurrent = self.units, self.params["recurrent_kernel"]
        grad_x_part = np.empty((steps, n, 3 * u), self.dtype)  # dLoss/d(x_t @ kernel + input bias)
        if self.reset_after:
            grad_h_part = np.empty((steps, n, 3 * u), self.dtype)  # dLoss/d(h_{t-1} @ U + recurrent bias)
        else:
            recurrent_zr, recurrent_h = recurrent[:, :2 * u].T.copy(), recurrent[:, 2 * u:].T.copy()
        grad_h = self._start_backward(grad_last, n)
        for t in reversed(range(steps)):
            if grad_steps is not None:
                grad_h += grad_steps[t]
            act_zr, act_candidate = self._steps[t]
            gates = self._gate_values[t]
            z, r, candidate = gates[:, :u], gates[:, u:2 * u], gates[:, 2 * u:]
            out = grad_x_part[t]
            out[:, 2 * u:] = act_candidate.backward(grad_h * (1 - z))
            grad_candidate = out[:, 2 * u:]
            np.multiply(grad_h, self._h[t] - candidate, out=out[:, :u])
            if self.reset_after:
                np.multiply(grad_candidate, self._reset_input[t], out=out[:, u:2 * u])
                out[:, :2 * u] = act_zr.backward(out[:, :2 * u])
                h_out = grad_h_part[t]
                h_out[:, :2 * u] = out[:, :2 * u]
                np.multiply(grad_candidate, r, out=h_out[:, 2 * u:])
                if t:
                    grad_h = grad_h * z + h_out @ recurrent.T
            else:
                grad_reset_input = grad_candidate @ recurrent_h
                np.multiply(grad_reset_input, self._h[t], out=out[:, u:2 * u])
                out[:, :2 * u] = act_zr.backward(out[:, :2 * u])
                if t:
                    grad_h = grad_h * z + grad_reset_input * r + out[:, :2 * u] @ recurrent_zr
        if self.reset_after:
            flat = grad_h_part.reshape(-1, 3 * u)
            self._recurrent_weight_grad(flat)
            if self.use_bias:
                column_sums(flat, out=self.grads["bias"][1])
        else:
            previous = self._h[:-1].reshape(-1, u)
            grads = self.grads["recurrent_kernel"]
            grads[:, :2 * u] = previous.T @ grad_x_part[:, :, :2 * u].reshape(-1, 2 * u)
            grads[:, 2 * u:] = self._reset_input.reshape(-1, u).T @ grad_x_part[:, :, 2 * u:].reshape(-1, u)
        return grad_x_part

    def get_config(self):
        return {**super().get_config(), "reset_after": self.reset_after}


class RepeatVector(Layer):
    """Repeat each input vector `n` times: `(batch, features)` -> `(batch, n, features)`.

    Args:
        n: Number of repetitions.
        input_shape: `(features,)`; only needed on a model's first layer.
        name: Layer name. Defaults to one the model assigns.
    """

    def __init__(self, n: int, input_shape=None, name: str | None = None):
        super().__init__(input_shape, name)
        self.n = check_positive_int("n", n)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 1:
            raise ValueError(f"Layer {self.name!r} (RepeatVector) expects vectors of shape (features,). "
                             f"Received: input_shape={tuple(input_shape)}")
        return (self.n, input_shape[0])

    def forward(self, x, training=False):
        self._check_input(x)
        return np.repeat(x[:, None, :], self.n, axis=1)

    def backward(self, grad):
        return grad.sum(axis=1) if self.needs_input_grad else None

    def get_config(self):
        return {**super().get_config(), "n": self.n}
