"""What SimpleRNN, LSTM and GRU share: arguments, the input projection, states and dropout.

The forward pass turns the batch time-major, projects every step's input in ONE matrix
product (`x @ kernel + bias` for all `timesteps * batch` rows), and hands the projected
steps to the cell's recurrence (`_recur`, in `recurrent.py`); backpropagation through time
(`_recur_backward`) returns dLoss/d(projected), and the kernel, bias and input gradients
are again one product each over all steps.

Options, with Keras's semantics:
- `initial_state`: the states to start from (`[h]`, or `[h, c]` for LSTM), each
  `(batch, units)`; they receive gradients. Defaults to zeros.
- `return_state`: also return the final states: `[output, h]` (`[output, h, c]` for LSTM).
  A hand-derived layer is one node with one output, so the node returns the output and the
  final states packed along the time axis, and `__call__` slices them apart with engine ops.
- `dropout`: one mask per sequence on the inputs (the same for every step);
  `recurrent_dropout`: one mask per sequence on the previous state `h_{t-1}` where the step's
  matrix products read it (the carried state itself is not dropped). Both from the model's
  generator.
- `mask` (batch, timesteps), True for real steps: a masked step leaves the state (and the
  output) as they were, and no gradient reaches its input (Keras's semantics).
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import activations, initializers, regularizers
from ..autodiff.symbolic import KerasTensor, call_symbolic, contains_symbolic
from ..reductions import column_sums
from ..seeding import context_generator
from .base import Layer, check_positive_int
from .context import CONTEXT, to_tensors


def _rate(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
        raise ValueError(f"`{name}` must be a number in [0, 1). Received: {name}={value!r}")
    return float(value)


def _as_bool(mask):
    """A mask (array or tensor) as a boolean array; a mask of another kind is an error."""
    array = np.asarray(getattr(mask, "value", mask))
    if array.dtype != bool and array.dtype.kind not in "iuf":
        raise ValueError(f"`mask` must be a boolean array. Received: dtype {array.dtype}")
    return array.astype(bool)


class _RNN(Layer):
    """Shared implementation: arguments, the input projection and its gradients, config.

    Subclasses set `gates` (how many blocks of `units` the kernel holds) and `state_count`
    (states carried: 1, or 2 for LSTM), and implement `_recur(projected, states)` -> hidden
    states `(timesteps + 1, batch, units)` (row 0 the initial state) and
    `_recur_backward(grad_last, grad_steps, grad_carry)` -> dLoss/d(projected), filling the
    recurrent gradients and `self._grad_initial` (dLoss/d each initial state) on the way.
    A step reads the previous state through `_dropped` (recurrent dropout).
    """

    gates = 1
    state_count = 1

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid", use_bias: bool = True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 return_sequences: bool = False, go_backwards: bool = False, input_shape=None,
                 name: str | None = None, return_state: bool = False, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0):
        super().__init__(input_shape, name)
        self.units = check_positive_int("units", units)
        self.return_state = bool(return_state)
        self.dropout = _rate("dropout", dropout)
        self.recurrent_dropout = _rate("recurrent_dropout", recurrent_dropout)
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

    # --- calling ------------------------------------------------------------------------------
    def __call__(self, inputs=None, initial_state=None, training=None, mask=None, **kwargs):
        """`layer(sequences, initial_state=None, training=None)`; `sequences` may also be the list
        `[sequences, *initial_states]`. Returns the output, or `[output, *final_states]` with
        `return_state`."""
        if inputs is None:
            raise TypeError(f"Layer {self.name or type(self).__name__!r} needs its input sequences.")
        if kwargs:
            raise TypeError(f"{type(self).__name__} got unexpected keyword arguments: {', '.join(kwargs)}")
        sequences, states = (inputs[0], list(inputs[1:])) if isinstance(inputs, (list, tuple)) else (inputs, [])
        if mask is None and not contains_symbolic(sequences):
            mask = getattr(sequences, "_keras_mask", None)  # a real tensor's mask (see layers.masking)
        if initial_state is not None:
            states += list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
        if states and len(states) != self.state_count:
            raise ValueError(f"Layer {self.name or type(self).__name__!r} ({type(self).__name__}) carries "
                             f"{self.state_count} state(s), so `initial_state` must list {self.state_count} "
                             f"tensor(s) of shape (batch, {self.units}). Received: {len(states)}")
        symbolic = contains_symbolic(sequences) or contains_symbolic(states) or contains_symbolic(mask)
        if not states and not self.return_state and mask is None:
            return super().__call__(sequences, **({} if training is None else {"training": training}))
        if not self.built:
            shape = sequences.shape if isinstance(sequences, KerasTensor) else (None, *np.shape(sequences)[1:])
            dtype = sequences.dtype if isinstance(sequences, KerasTensor) else None
            dtype = dtype if dtype is not None and np.dtype(dtype).kind == "f" else None
            self._maybe_build(tuple(shape), CONTEXT.rng or context_generator(), dtype)
        if symbolic:  # one node; the probe runs the real call below to find the outputs
            return call_symbolic(self, ([sequences, *states],), {} if mask is None else {"mask": mask})
        tensors = to_tensors([sequences, *states], self.dtype)
        if mask is not None:
            tensors.append(to_tensors(_as_bool(mask), None))
        node_input = tensors if len(tensors) > 1 else tensors[0]
        packed = super().__call__(node_input, **({} if training is None else {"training": training}))
        if not self.return_state:
            return packed
        steps = tensors[0].shape[1]
        if self.return_sequences:
            outputs = [packed[:, :steps], *(packed[:, steps + i] for i in range(self.state_count))]
            outputs[0]._keras_mask = packed._keras_mask
            return outputs
        return [packed[:, i] for i in range(1 + self.state_count)]

    # --- computing ----------------------------------------------------------------------------
    def forward(self, x, training=False):
        sequences, rest = (x[0], list(x[1:])) if isinstance(x, list) else (x, [])
        mask = next((a for a in rest if a.dtype == bool), None)
        states = [a for a in rest if a.dtype != bool]
        self._check_input(sequences)
        n = len(sequences)
        self._step_mask = None
        if mask is not None:
            if mask.shape != sequences.shape[:2]:
                raise ValueError(f"Layer {self.name!r} ({type(self).__name__}): `mask` must have shape (batch, timesteps) "
                                 f"= {sequences.shape[:2]}. Received: shape {mask.shape}")
            ordered = mask[:, ::-1] if self.go_backwards else mask
            self._step_mask = np.ascontiguousarray(ordered.T)[:, :, None]  # (timesteps, batch, 1)
        for i, state in enumerate(states):
            if state.shape != (n, self.units):
                raise ValueError(f"Layer {self.name!r} ({type(self).__name__}): initial state {i} must have shape "
                                 f"{(n, self.units)}. Received: shape {state.shape}")
        self._with_states = bool(states)
        self._input_mask = self._recurrent_mask = None
        if training and (self.dropout or self.recurrent_dropout):
            rng = CONTEXT.rng or self._rng
            if self.dropout:
                self._input_mask = self._dropout_mask(rng, (n, sequences.shape[2]), self.dropout)
                sequences = sequences * self._input_mask[:, None, :]
            if self.recurrent_dropout:
                self._recurrent_mask = self._dropout_mask(rng, (n, self.units), self.recurrent_dropout)
        sequence = sequences[:, ::-1] if self.go_backwards else sequences
        self._x = np.ascontiguousarray(sequence.transpose(1, 0, 2))  # (timesteps, batch, features)
        steps, n, features = self._x.shape
        projected = self._x.reshape(steps * n, features) @ self.params["kernel"]
        if self.use_bias:
            projected += self._input_bias(self.params)
        self._h = self._recur(projected.reshape(steps, n, -1), [np.asarray(s, self.dtype) for s in states])
        if self.return_sequences:
            out = np.ascontiguousarray(self._h[1:].transpose(1, 0, 2))
        else:
            out = self._h[-1].copy()
        if not self.return_state:
            return out
        finals = self._final_states()
        if self.return_sequences:
            return np.concatenate([out, np.stack(finals, axis=1)], axis=1)
        return np.stack([out, *finals], axis=1)

    def _dropout_mask(self, rng, shape, rate):
        return (rng.random(shape, dtype=self.dtype) >= rate) * self.dtype.type(1 / (1 - rate))

    def _final_states(self):
        return [self._h[-1]]

    def _carry(self, h, t, c=None):
        """Masked steps keep the previous state (and output): copy row t into row t + 1 there."""
        if self._step_mask is not None:
            keep = ~self._step_mask[t]
            np.copyto(h[t + 1], h[t], where=keep)
            if c is not None:
                np.copyto(c[t + 1], c[t], where=keep)

    def _split_masked(self, t, grad_h, grad_c=None):
        """At a masked step the state is carried: its gradient skips the step (`keep`)."""
        if self._step_mask is None:
            return (grad_h, None) if grad_c is None else (grad_h, grad_c, None)
        step, skip = self._step_mask[t], ~self._step_mask[t]
        if grad_c is None:
            return grad_h * step, (grad_h * skip,)
        return grad_h * step, grad_c * step, (grad_h * skip, grad_c * skip)

    @staticmethod
    def _add_kept(grad, keep, which):
        return grad if keep is None else grad + keep[which]

    def _dropped(self, h):
        """The previous state as a step reads it: `h * mask` under recurrent dropout."""
        return h if self._recurrent_mask is None else h * self._recurrent_mask

    def _previous(self):
        """Every step's previous state as read, `(timesteps * batch, units)`."""
        previous = self._h[:-1]
        if self._recurrent_mask is not None:
            previous = previous * self._recurrent_mask
        return previous.reshape(-1, self.units)

    def backward(self, grad):
        steps, n, features = self._x.shape
        grad_carry = None
        if self.return_state:
            split = steps if self.return_sequences else 1
            finals = [grad[:, split + i] for i in range(self.state_count)]
            grad = grad[:, :steps] if self.return_sequences else grad[:, 0] + finals[0]
            if self.return_sequences:
                grad_last = finals[0]
            grad_carry = finals[1] if self.state_count > 1 else None
        if self.return_sequences:
            grad_projected = self._recur_backward(grad_last if self.return_state else None,
                                                  grad.transpose(1, 0, 2), grad_carry)
        else:
            grad_projected = self._recur_backward(grad, None, grad_carry)
        flat = grad_projected.reshape(steps * n, -1)
        np.matmul(self._x.reshape(steps * n, features).T, flat, out=self.grads["kernel"])
        if self.use_bias:
            column_sums(flat, out=self._input_bias(self.grads))
        if self.regularizers:
            self._add_regularization_grads()
        grad_x = None
        if self.needs_input_grad:
            grad_x = (flat @ self.params["kernel"].T).reshape(steps, n, features).transpose(1, 0, 2)
            grad_x = np.ascontiguousarray(grad_x[:, ::-1] if self.go_backwards else grad_x)
            if self._input_mask is not None:
                grad_x *= self._input_mask[:, None, :]
        if self._with_states or self._step_mask is not None:
            return [grad_x, *(self._grad_initial if self._with_states else []),
                    *([None] if self._step_mask is not None else [])]
        return grad_x

    def _start_backward(self, grad_last, n):
        """dLoss/dh after the last step: the incoming gradient, or zeros when every step has one."""
        return grad_last.copy() if grad_last is not None else np.zeros((n, self.units), self.dtype)

    def _initial_states(self, states, n):
        """Row 0 of the state series: the given initial states, or zeros."""
        return [states[i] if states else np.zeros((n, self.units), self.dtype) for i in range(self.state_count)]

    def _recurrent_weight_grad(self, grad_steps_flat, key="recurrent_kernel"):
        """`h_{t-1}^T @ grad` summed over steps and batch (h as the steps read it), into `grads[key]`."""
        np.matmul(self._previous().T, grad_steps_flat, out=self.grads[key])

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
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
        }


