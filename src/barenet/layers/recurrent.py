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

The shared machinery (input projection, `initial_state`, `return_state`, `dropout`,
`recurrent_dropout`, masks) is in `rnn_base.py`. A masked step carries the previous
state (and output) over: `_carry` in the forward loops, `_split_masked`/`_add_kept` in
the backward ones.
"""

from __future__ import annotations

import copy

import numpy as np

from ..activations import Sigmoid, Tanh
from ..reductions import column_sums
from . import lstm_standard
from .base import Layer, check_positive_int
from .rnn_base import _RNN


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
                 go_backwards: bool = False, input_shape=None, name: str | None = None, return_state: bool = False,
                 dropout: float = 0.0, recurrent_dropout: float = 0.0):
        super().__init__(units, activation, None, use_bias, kernel_initializer, recurrent_initializer,
                         bias_initializer, kernel_regularizer, recurrent_regularizer, bias_regularizer,
                         return_sequences, go_backwards, input_shape, name, return_state, dropout,
                         recurrent_dropout)

    def _recur(self, projected, states):
        steps, n, _ = projected.shape
        recurrent = self.params["recurrent_kernel"]
        h = np.zeros((steps + 1, n, self.units), self.dtype)
        h[0] = self._initial_states(states, n)[0]
        self._steps = []  # each step's activation object, holding what its derivative needs
        for t in range(steps):
            act = copy.copy(self.activation)
            h[t + 1] = act.forward_in_place(projected[t] + self._dropped(h[t]) @ recurrent)
            self._carry(h, t)
            self._steps.append(act)
        return h

    def _recur_backward(self, grad_last, grad_steps, grad_carry=None):
        steps, n = len(self._steps), self._h.shape[1]
        recurrent = self.params["recurrent_kernel"]
        grad_z = np.empty((steps, n, self.units), self.dtype)
        grad_h = self._start_backward(grad_last, n)
        for t in reversed(range(steps)):
            if grad_steps is not None:
                grad_h += grad_steps[t]
            grad_h, keep = self._split_masked(t, grad_h)
            grad_z[t] = self._steps[t].backward(grad_h)
            if t or self._with_states:
                grad_h = self._dropped(grad_z[t] @ recurrent.T)
                grad_h = self._add_kept(grad_h, keep, 0)
        self._grad_initial = [grad_h]
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
    state_count = 2

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid", use_bias: bool = True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias: bool = True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, return_sequences: bool = False, go_backwards: bool = False,
                 input_shape=None, name: str | None = None, return_state: bool = False, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0):
        super().__init__(units, activation, recurrent_activation, use_bias, kernel_initializer,
                         recurrent_initializer, bias_initializer, kernel_regularizer, recurrent_regularizer,
                         bias_regularizer, return_sequences, go_backwards, input_shape, name, return_state, dropout,
                         recurrent_dropout)
        self.unit_forget_bias = bool(unit_forget_bias)

    def _build(self, input_shape, rng):
        super()._build(input_shape, rng)
        if self.use_bias and self.unit_forget_bias:
            self.params["bias"][self.units:2 * self.units] = 1

    @property
    def _standard(self) -> bool:
        """Keras's default activations: the fewer-pass path in `lstm_standard.py` applies."""
        return type(self.recurrent_activation) is Sigmoid and type(self.activation) is Tanh

    def _recur(self, projected, states):
        if self._standard:
            return lstm_standard.recur(self, projected, states)
        steps, n, _ = projected.shape
        u, recurrent = self.units, self.params["recurrent_kernel"]
        h = np.zeros((steps + 1, n, u), self.dtype)
        self._c = np.zeros((steps + 1, n, u), self.dtype)
        h[0], self._c[0] = self._initial_states(states, n)
        self._gate_values = np.empty((steps, n, 4 * u), self.dtype)  # i, f, c~, o after their activations
        self._cell_out = np.empty((steps, n, u), self.dtype)  # activation(c_t)
        self._steps = []
        for t in range(steps):
            z = projected[t] + self._dropped(h[t]) @ recurrent
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
            self._carry(h, t, self._c)
            self._steps.append(acts)
        return h

    def _final_states(self):
        return [self._h[-1], self._c[-1]]

    def _recur_backward(self, grad_last, grad_steps, grad_carry=None):
        if self._standard:
            return lstm_standard.recur_backward(self, grad_last, grad_steps, grad_carry)
        steps, n = len(self._steps), self._h.shape[1]
        u, recurrent = self.units, self.params["recurrent_kernel"]
        grad_z = np.empty((steps, n, 4 * u), self.dtype)
        grad_h = self._start_backward(grad_last, n)
        grad_c = np.zeros((n, u), self.dtype) if grad_carry is None else grad_carry.copy()
        for t in reversed(range(steps)):
            if grad_steps is not None:
                grad_h += grad_steps[t]
            grad_h, grad_c, keep = self._split_masked(t, grad_h, grad_c)
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
            grad_c = self._add_kept(grad_c, keep, 1)
            if t or self._with_states:
                grad_h = self._dropped(out @ recurrent.T)
                grad_h = self._add_kept(grad_h, keep, 0)
        self._grad_initial = [grad_h, grad_c]
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
                 input_shape=None, name: str | None = None, return_state: bool = False, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0):
        super().__init__(units, activation, recurrent_activation, use_bias, kernel_initializer,
                         recurrent_initializer, bias_initializer, kernel_regularizer, recurrent_regularizer,
                         bias_regularizer, return_sequences, go_backwards, input_shape, name, return_state, dropout,
                         recurrent_dropout)
        self.reset_after = bool(reset_after)

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _input_bias(self, store):
        return store["bias"][0] if self.reset_after else store["bias"]

    def _recur(self, projected, states):
        steps, n, _ = projected.shape
        u, recurrent = self.units, self.params["recurrent_kernel"]
        h = np.zeros((steps + 1, n, u), self.dtype)
        h[0] = self._initial_states(states, n)[0]
        self._gate_values = np.empty((steps, n, 3 * u), self.dtype)  # z, r, h~ after their activations
        # reset_after: h_{t-1} @ U_h + b'_h (what r multiplies); else r * h_{t-1} (what U_h multiplies).
        self._reset_input = np.empty((steps, n, u), self.dtype)
        if not self.reset_after:
            recurrent_zr, recurrent_h = recurrent[:, :2 * u].copy(), recurrent[:, 2 * u:].copy()
        self._steps = []
        for t in range(steps):
            acts = (copy.copy(self.recurrent_activation), copy.copy(self.activation))
            gates, x_part = self._gate_values[t], projected[t]
            previous = self._dropped(h[t])
            if self.reset_after:
                h_part = previous @ recurrent
                if self.use_bias:
                    h_part += self.params["bias"][1]
                gates[:, :2 * u] = acts[0].forward(x_part[:, :2 * u] + h_part[:, :2 * u])
                self._reset_input[t] = h_part[:, 2 * u:]
                gates[:, 2 * u:] = acts[1].forward(x_part[:, 2 * u:] + gates[:, u:2 * u] * self._reset_input[t])
            else:
                gates[:, :2 * u] = acts[0].forward(x_part[:, :2 * u] + previous @ recurrent_zr)
                np.multiply(gates[:, u:2 * u], previous, out=self._reset_input[t])
                gates[:, 2 * u:] = acts[1].forward(x_part[:, 2 * u:] + self._reset_input[t] @ recurrent_h)
            z, candidate = gates[:, :u], gates[:, 2 * u:]
            np.subtract(h[t], candidate, out=h[t + 1])  # the state itself is not dropped (Keras)
            h[t + 1] *= z
            h[t + 1] += candidate
            self._carry(h, t)
            self._steps.append(acts)
        return h

    def _recur_backward(self, grad_last, grad_steps, grad_carry=None):
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
            grad_h, keep = self._split_masked(t, grad_h)
            act_zr, act_candidate = self._steps[t]
            gates = self._gate_values[t]
            z, r, candidate = gates[:, :u], gates[:, u:2 * u], gates[:, 2 * u:]
            previous = self._dropped(self._h[t])
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
                if t or self._with_states:
                    grad_h = grad_h * z + self._dropped(h_out @ recurrent.T)
                    grad_h = self._add_kept(grad_h, keep, 0)
            else:
                grad_reset_input = grad_candidate @ recurrent_h
                np.multiply(grad_reset_input, previous, out=out[:, u:2 * u])
                out[:, :2 * u] = act_zr.backward(out[:, :2 * u])
                if t or self._with_states:
                    grad_h = grad_h * z + self._dropped(grad_reset_input * r + out[:, :2 * u] @ recurrent_zr)
                    grad_h = self._add_kept(grad_h, keep, 0)
        self._grad_initial = [grad_h]
        if self.reset_after:
            flat = grad_h_part.reshape(-1, 3 * u)
            self._recurrent_weight_grad(flat)
            if self.use_bias:
                column_sums(flat, out=self.grads["bias"][1])
        else:
            previous = self._previous()
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
