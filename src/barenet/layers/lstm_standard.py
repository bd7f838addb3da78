"""The LSTM recurrence with Keras's default activations (sigmoid gates, tanh), in few passes.

`LSTM` runs this path when `recurrent_activation` is sigmoid and `activation` is tanh
(the defaults; other activations take the general path in `recurrent.py`, which this one
is tested against). The math is the same; what changes is how many times NumPy is called
per step, which is what an LSTM of 128 units on a batch of 64 spends its time on, and
which transcendental function it calls (NumPy's float32 `exp` is about 1.6x faster than
its `tanh` on the test machine).

Forward, one step: the four gates come from ONE `exp` over `z = h_{t-1} @ U + x_t @ W + b`,
through `sigmoid(x) = 1 / (1 + exp(-x))` and `tanh(x) = 2 / (1 + exp(-2x)) - 1`:

    e     = exp(h_{t-1} @ (U * s) + (x_t @ W + b) * s)    s = -1 on i, f, o and -2 on c~
    gates = m / (1 + e)  (minus 1 on c~)                   m = 1 on i, f, o and 2 on c~

(scaling by -1 or -2 is exact in floating point, so `U * s` and the scaled projection, made
once per call, change no bit of `-z` or `-2z`; an `exp` that overflows gives the right limit,
0 or -1). Then `c_t = f c_{t-1} + i c~` and `h_t = o tanh(c_t)`.

Backward, one step, with `d` the derivative of each gate's activation (`a (1 - a)` for a
sigmoid, `1 - a^2` for tanh) and `g_h`, `g_c` the gradients reaching `h_t` and `c_t`:

    g_c += g_h o (1 - tanh(c_t)^2)
    dz   = [g_c c~ d_i, g_c c_{t-1} d_f, g_c i d_c~, g_h tanh(c_t) d_o]
    g_c <- g_c f,   g_h <- dz @ U^T

where the factors `[c~ d_i, c_{t-1} d_f, i d_c~, tanh(c_t) d_o]` are made for the four gates
at once, in the step's own (cache-sized) arrays.
"""

from __future__ import annotations

import numpy as np


def gate_constants(units: int, dtype) -> tuple[np.ndarray, np.ndarray]:
    """`s` (-1 on the sigmoid gates i, f, o; -2 on the candidate) and `m` (1 on i, f, o; 2 on c~)."""
    scale = np.full(4 * units, -1, dtype)
    scale[2 * units:3 * units] = -2
    return scale, -scale


def recur(layer, projected, states):
    """The forward recurrence over `projected` `(timesteps, batch, 4 units)` (scaled in place);
    returns the hidden states `(timesteps + 1, batch, units)` and keeps what backward needs."""
    steps, n, _ = projected.shape
    u = layer.units
    scale, numerator = gate_constants(u, layer.dtype)
    recurrent = layer.params["recurrent_kernel"] * scale
    projected *= scale
    h = np.zeros((steps + 1, n, u), layer.dtype)
    c = np.zeros((steps + 1, n, u), layer.dtype)
    h[0], c[0] = layer._initial_states(states, n)
    gates = np.empty((steps, n, 4 * u), layer.dtype)  # i, f, c~, o after their activations
    cell_out = np.empty((steps, n, u), layer.dtype)  # tanh(c_t)
    product = np.empty((n, u), layer.dtype)
    with np.errstate(over="ignore"):  # exp(large) = inf gives the limits 0 and -1 exactly
        for t in range(steps):
            g = gates[t]
            np.matmul(layer._dropped(h[t]), recurrent, out=g)
            g += projected[t]
            np.exp(g, out=g)
            g += 1
            np.divide(numerator, g, out=g)
            g[:, 2 * u:3 * u] -= 1
            np.multiply(g[:, u:2 * u], c[t], out=c[t + 1])
            np.multiply(g[:, :u], g[:, 2 * u:3 * u], out=product)
            c[t + 1] += product
            np.tanh(c[t + 1], out=cell_out[t])
            np.multiply(g[:, 3 * u:], cell_out[t], out=h[t + 1])
            layer._carry(h, t, c)
    layer._c, layer._gate_values, layer._cell_out = c, gates, cell_out
    return h


def _gate_factors(layer, t, out):
    """`[c~ d_i, c_{t-1} d_f, i d_c~, tanh(c_t) d_o]` of step `t` into `out` `(batch, 4, units)`."""
    a = layer._gate_values[t].reshape(out.shape)
    np.subtract(1, a, out=out)
    out *= a  # a (1 - a): the sigmoid gates' derivative
    np.multiply(a[:, 2], a[:, 2], out=out[:, 2])
    np.subtract(1, out[:, 2], out=out[:, 2])  # 1 - c~^2: the candidate's (tanh)
    out[:, 0] *= a[:, 2]
    out[:, 1] *= layer._c[t]
    out[:, 2] *= a[:, 0]
    out[:, 3] *= layer._cell_out[t]
    return out


def recur_backward(layer, grad_last, grad_steps, grad_carry=None):
    """Backpropagation through time; returns dLoss/d(projected) `(timesteps, batch, 4 units)`
    and fills the recurrent kernel's gradient and `layer._grad_initial`."""
    steps, n = len(layer._gate_values), layer._h.shape[1]
    u, recurrent_t = layer.units, layer.params["recurrent_kernel"].T
    gates = layer._gate_values.reshape(steps, n, 4, u)
    grad_z = np.empty((steps, n, 4 * u), layer.dtype)
    z4 = grad_z.reshape(steps, n, 4, u)  # a view: the gates apart
    factors = np.empty((n, 4, u), layer.dtype)
    dh_dc = np.empty((n, u), layer.dtype)
    grad_h = layer._start_backward(grad_last, n)
    grad_c = np.zeros((n, u), layer.dtype) if grad_carry is None else grad_carry.copy()
    for t in reversed(range(steps)):
        if grad_steps is not None:
            grad_h += grad_steps[t]
        grad_h, grad_c, keep = layer._split_masked(t, grad_h, grad_c)
        cell = layer._cell_out[t]
        np.multiply(cell, cell, out=dh_dc)
        np.subtract(1, dh_dc, out=dh_dc)
        dh_dc *= gates[t, :, 3]
        dh_dc *= grad_h
        grad_c += dh_dc
        _gate_factors(layer, t, factors)
        np.multiply(grad_c[:, None, :], factors[:, :3], out=z4[t, :, :3])
        np.multiply(grad_h, factors[:, 3], out=z4[t, :, 3])
        grad_c *= gates[t, :, 1]
        grad_c = layer._add_kept(grad_c, keep, 1)
        if t or layer._with_states:
            grad_h = layer._dropped(grad_z[t] @ recurrent_t)
            grad_h = layer._add_kept(grad_h, keep, 0)
    layer._grad_initial = [grad_h, grad_c]
    layer._recurrent_weight_grad(grad_z.reshape(-1, 4 * u))
    return grad_z
