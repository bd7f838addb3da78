"""Layer wrappers: Keras's `TimeDistributed` and `Bidirectional`."""

from __future__ import annotations

import copy

import numpy as np

from ..autodiff import ops as engine_ops
from ..autodiff.symbolic import call_symbolic, contains_symbolic
from .base import Layer


class TimeDistributed(Layer):
    """Apply one layer (one set of weights) to every step of a sequence:
    `(batch, steps, *dims)` -> `(batch, steps, *layer_output_dims)`.

    The steps are folded into the batch, so the wrapped layer runs once on
    `(batch * steps, *dims)`; e.g. `TimeDistributed(Dense(10))` is a per-step dense layer.

    Args:
        layer: The layer to apply, not yet built.
        input_shape: `(steps, *dims)`; only needed on a model's first layer.
        name: Layer name. Defaults to one the model assigns.

    `params`, `grads`, `state` and `regularizers` ARE the wrapped layer's dicts, so its
    weights are this layer's, saved and updated under this layer's name.
    """

    def __init__(self, layer: Layer, input_shape=None, name: str | None = None):
        super().__init__(input_shape, name)
        if not isinstance(layer, Layer):
            raise TypeError(f"`layer` must be a barenet Layer. Received: layer={layer!r}")
        if layer.built:
            raise ValueError(f"`layer` must not be built yet (TimeDistributed builds it for one step). "
                             f"Received: layer={layer!r}")
        self.layer = layer
        self.regularizers = layer.regularizers

    def compute_output_shape(self, input_shape):
        if len(input_shape) < 2:
            raise ValueError(f"Layer {self.name!r} (TimeDistributed) expects sequences of shape (steps, ...) "
                             f"with at least one axis per step. Received: input_shape={tuple(input_shape)}")
        return (input_shape[0], *self.layer.compute_output_shape(tuple(input_shape[1:])))

    def _build(self, input_shape, rng):
        if self.layer.name is None:
            self.layer.name = f"{self.name}/{type(self.layer).__name__}"
        self.layer.build(input_shape[1:], rng, self.dtype)
        self.params, self.state = self.layer.params, self.layer.state
        self.layer.grads = self.grads  # one dict: the wrapped layer's backward fills what the model reads

    def forward(self, x, training=False):
        self._check_input(x)
        n, steps = x.shape[:2]
        # A shallow copy per call (sharing params and grads) holds this call's caches, so
        # that they are rebound on `self` (`_call`), not overwritten in the shared layer.
        self._call = copy.copy(self.layer)
        if getattr(self._call, "activation", None) is not None:  # activations cache on themselves too
            self._call.activation = copy.copy(self._call.activation)
        out = self._call.forward(x.reshape(n * steps, *x.shape[2:]), training=training)
        return out.reshape(n, steps, *out.shape[1:])

    def backward(self, grad):
        n, steps = grad.shape[:2]
        self._call.needs_input_grad = self.needs_input_grad
        grad_x = self._call.backward(grad.reshape(n * steps, *grad.shape[2:]))
        return None if grad_x is None else grad_x.reshape(n, steps, *grad_x.shape[1:])

    def get_config(self):
        return {**super().get_config(),
                "layer": {"class_name": type(self.layer).__name__, "config": self.layer.get_config()}}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        spec = config.pop("layer")
        inner = _registry().get(spec.get("class_name")) if isinstance(spec, dict) else None
        if inner is None:
            raise ValueError(f"TimeDistributed's `layer` must be {{'class_name': ..., 'config': ...}} naming one of: "
                             f"{', '.join(_registry())}. Received: {spec!r:.80}")
        return cls(inner.from_config(dict(spec["config"])), **config)


MERGE_MODES = ("concat", "sum", "mul", "ave")


class Bidirectional(Layer):
    """Run a recurrent layer over the sequence both ways and merge the two outputs.

    Args:
        layer: A `SimpleRNN`, `LSTM` or `GRU`, not yet built: it reads the sequence forwards
            (as given).
        merge_mode: How the two outputs combine: "concat" (along the last axis, forward
            first), "sum", "mul", "ave", or None (return the two outputs apart, forward first).
            Defaults to "concat".
        backward_layer: The layer reading the sequence backwards. Defaults to a copy of
            `layer` (same config, a new name and its own weights) with `go_backwards` flipped.
        input_shape: `(timesteps, features)`; only needed on a model's first layer.
        name: Layer name. Defaults to one the model assigns.

    With `return_sequences`, the backward layer's outputs are put back in time order
    before merging, so step t of the output sees `x[:t+1]` forwards and `x[t:]` backwards.
    With `return_state` (set on `layer`), the call returns `[output(s), *forward_states,
    *backward_states]`, as Keras. Several outputs leave the node packed side by side as
    `(batch, total)` and the call slices them apart with engine ops.
    `params` holds the forward layer's weights under "forward_<name>" and the backward
    layer's under "backward_<name>" (the same arrays as the wrapped layers').
    """

    def __init__(self, layer: Layer, merge_mode: str | None = "concat", backward_layer: Layer | None = None,
                 input_shape=None, name: str | None = None):
        super().__init__(input_shape, name)
        from .rnn_base import _RNN

        for what, candidate in (("layer", layer), ("backward_layer", backward_layer)):
            if candidate is None and what == "backward_layer":
                continue
            if not isinstance(candidate, _RNN):
                raise TypeError(f"Bidirectional needs a recurrent layer (SimpleRNN, LSTM or GRU) as `{what}`. "
                                 f"Received: {what}={candidate!r}")
            if candidate.built:
                raise ValueError(f"`{what}` must not be built yet. Received: {what}={candidate!r}")
        if merge_mode is not None and merge_mode not in MERGE_MODES:
            raise ValueError(f"`merge_mode` must be one of {', '.join(MERGE_MODES)} or None. "
                             f"Received: merge_mode={merge_mode!r}")
        if backward_layer is None:
            config = {**layer.get_config(), "go_backwards": not layer.go_backwards, "name": None}
            backward_layer = type(layer).from_config(config)
        elif (backward_layer.return_sequences, backward_layer.return_state) != (layer.return_sequences,
                                                                                 layer.return_state):
            raise ValueError("`layer` and `backward_layer` must agree on return_sequences and return_state. "
                             f"Received: {(layer.return_sequences, layer.return_state)} and "
                             f"{(backward_layer.return_sequences, backward_layer.return_state)}")
        self.forward_layer, self.backward_layer = layer, backward_layer
        self.merge_mode = merge_mode
        self.return_sequences, self.return_state = layer.return_sequences, layer.return_state

    @property
    def _several(self) -> bool:
        return self.merge_mode is None or self.return_state

    def _part_shapes(self, input_shape):
        """Sample shapes of the call's outputs: the output(s), then the states."""
        shape = tuple(self.forward_layer.compute_output_shape(tuple(input_shape)))
        if self.merge_mode is None:
            outputs = [shape, shape]
        else:
            outputs = [(*shape[:-1], shape[-1] * 2) if self.merge_mode == "concat" else shape]
        states = [(self.forward_layer.units,)] * (2 * self.forward_layer.state_count) if self.return_state else []
        return outputs + states

    def __call__(self, inputs=None, mask=None, **kwargs):
        """`layer(sequences, mask=None, training=None)`: a mask (batch, steps) reaches both directions."""
        if isinstance(inputs, (list, tuple)) and len(inputs) == 1:  # the form recorded for several outputs
            inputs = inputs[0]
        if mask is None and not contains_symbolic(inputs):
            mask = getattr(inputs, "_keras_mask", None)  # a real tensor's mask (see layers.masking)
        if mask is None and not self._several:
            return super().__call__(inputs, **kwargs)
        from .masking_flow import build_for, mask_input

        build_for(self, inputs)
        extra = {} if mask is None else {"mask": mask}
        if contains_symbolic(inputs) or contains_symbolic(mask):  # one node, the mask a recorded argument
            return call_symbolic(self, ([inputs] if self._several else inputs,), {**kwargs, **extra})
        packed = super().__call__(inputs if mask is None else [inputs, mask_input(mask)], **kwargs)
        if not self._several:
            return packed
        parts, start = [], 0
        for shape in self._part_shapes(self.input_shape):
            size = int(np.prod(shape))
            parts.append(engine_ops.reshape(packed[:, start:start + size], (-1, *shape)))
            start += size
        return parts

    def compute_output_shape(self, input_shape):
        shapes = self._part_shapes(input_shape)
        return shapes[0] if len(shapes) == 1 else (sum(int(np.prod(shape)) for shape in shapes),)

    def _build(self, input_shape, rng):
        for prefix, inner in (("forward", self.forward_layer), ("backward", self.backward_layer)):
            if inner.name is None:
                inner.name = f"{self.name}/{prefix}_{type(inner).__name__.lower()}"
            inner.build(input_shape, rng, self.dtype)
            for key, value in inner.params.items():
                self.params[f"{prefix}_{key}"] = value  # the same arrays: updates reach the inner layer
                if key in inner.regularizers:
                    self.regularizers[f"{prefix}_{key}"] = inner.regularizers[key]

    def forward(self, x, training=False):
        self._masked = isinstance(x, list)
        self._check_input(x[0] if self._masked else x)
        # Shallow copies hold this call's caches (as in TimeDistributed); they share params and grads.
        self._calls = (copy.copy(self.forward_layer), copy.copy(self.backward_layer))
        steps = (x[0] if self._masked else x).shape[1]
        forward_out, forward_states = self._unpack(self._calls[0].forward(x, training=training), steps)
        backward_out, backward_states = self._unpack(self._calls[1].forward(x, training=training), steps)
        if self.return_sequences:
            backward_out = backward_out[:, ::-1]
        self._outs = (forward_out, backward_out)
        if self.merge_mode is None:
            outputs = [forward_out, backward_out]
        elif self.merge_mode == "concat":
            outputs = [np.concatenate(self._outs, axis=-1)]
        elif self.merge_mode == "sum":
            outputs = [forward_out + backward_out]
        elif self.merge_mode == "mul":
            outputs = [forward_out * backward_out]
        else:
            outputs = [(forward_out + backward_out) * self.dtype.type(0.5)]
        parts = outputs + forward_states + backward_states
        if len(parts) == 1:
            return parts[0]
        return np.concatenate([part.reshape(len(part), -1) for part in parts], axis=1)

    def _unpack(self, out, steps):
        """An inner layer's output and final states (packed along time with return_state)."""
        if not self.return_state:
            return out, []
        count = self.forward_layer.state_count
        if self.return_sequences:
            return out[:, :steps], [out[:, steps + i] for i in range(count)]
        return out[:, 0], [out[:, 1 + i] for i in range(count)]

    def _pack_inner(self, grad_out, grad_states):
        """The gradient of an inner layer's (packed) output."""
        if not self.return_state:
            return grad_out
        if self.return_sequences:
            return np.concatenate([grad_out, np.stack(grad_states, axis=1)], axis=1)
        return np.stack([grad_out, *grad_states], axis=1)

    def backward(self, grad):
        forward_out, backward_out = self._outs
        count = self.forward_layer.state_count if self.return_state else 0
        if self._several:
            shapes = self._part_shapes(self.input_shape)
            pieces, start = [], 0
            for shape in shapes:
                size = int(np.prod(shape))
                pieces.append(grad[:, start:start + size].reshape(len(grad), *shape))
                start += size
            outputs = len(shapes) - 2 * count
            grad, states = (pieces[0] if outputs == 1 else pieces[:2]), pieces[outputs:]
        else:
            states = []
        state_grads = (states[:count], states[count:]) if count else ([], [])
        if self.merge_mode is None:
            grads = tuple(grad)
        elif self.merge_mode == "concat":
            width = forward_out.shape[-1]
            grads = (grad[..., :width], grad[..., width:])
        elif self.merge_mode == "sum":
            grads = (grad, grad)
        elif self.merge_mode == "mul":
            grads = (grad * backward_out, grad * forward_out)
        else:
            grads = (grad * self.dtype.type(0.5),) * 2
        grad_backward = grads[1][:, ::-1] if self.return_sequences else grads[1]
        total = None
        for prefix, call, g, g_states in (("forward", self._calls[0], grads[0], state_grads[0]),
                                          ("backward", self._calls[1], grad_backward, state_grads[1])):
            call.needs_input_grad = self.needs_input_grad
            grad_x = call.backward(np.ascontiguousarray(self._pack_inner(g, g_states)))
            if self._masked:
                grad_x = grad_x[0]
            for key, value in call.grads.items():
                self.grads[f"{prefix}_{key}"][...] = value
            total = grad_x if total is None else (None if grad_x is None else total + grad_x)
        total = total if self.needs_input_grad else None
        return [total, None] if self._masked else total

    def get_config(self):
        def spec(layer):
            return {"class_name": type(layer).__name__, "config": layer.get_config()}

        return {**super().get_config(), "layer": spec(self.forward_layer), "merge_mode": self.merge_mode,
                "backward_layer": spec(self.backward_layer)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        built = {}
        for key in ("layer", "backward_layer"):
            spec = config.pop(key, None)
            if spec is None:
                continue
            inner = _registry().get(spec.get("class_name")) if isinstance(spec, dict) else None
            if inner is None or not isinstance(spec.get("config"), dict):
                raise ValueError(f"Bidirectional's `{key}` must be {{'class_name': ..., 'config': ...}} naming a "
                                 f"recurrent layer. Received: {spec!r:.80}")
            built[key] = inner.from_config(dict(spec["config"]))
        return cls(built.pop("layer"), backward_layer=built.get("backward_layer"), **config)


def _registry() -> dict:
    """`barenet.layers.LAYERS`, imported when a config is read (the package imports this module)."""
    from . import LAYERS
    return LAYERS
