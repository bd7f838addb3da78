"""A layer with a hand-derived gradient as one node of the graph.

`layer_node(layer, inputs, training)` runs `layer.forward` on the input values and
returns one `Tensor` whose vector-Jacobian product is `layer.backward` (as a custom
autograd function is in PyTorch): the engine never re-derives the layer's math.
`chain_node(layers, input, training)` does the same for layers called one after the
other (a Sequential model's): one Tensor whose vjp runs each layer's backward, last to
first, the same calls as a `layer_node` per layer without the graph between them; a pair
of layers that can run as one pass (a Conv2D or a BatchNormalization and the MaxPooling2D
after it, `layers.conv_pool`, `layers.norm_pool`) runs so there.

Two details make this safe when one layer object is called more than once in a graph
(a shared, Siamese layer):
- the values `forward` cached for `backward` would be overwritten by the next call, so
  when a call comes while an earlier one still awaits its backward, both calls' caches
  are saved (`Layer._cache_snapshot`) and each is put back before its own backward;
  a layer called once pays nothing for this;
- the second backward in the same pass adds to the weight gradients of the first
  instead of overwriting them (`backward` writes `layer.grads` in place).
"""

from __future__ import annotations

from .tensor import Tensor, backward_pass_count, grad_enabled


class _Call:
    """One call of a layer whose backward has not run yet."""

    __slots__ = ("snapshot", "pending")

    def __init__(self, snapshot):
        self.snapshot = snapshot
        self.pending = True


def _begin_call(layer) -> bool:
    """Before `layer.forward`: whether an earlier call still awaits its backward (its cache is then
    saved now, before this call's forward overwrites it)."""
    earlier = layer.__dict__.get("_last_call")
    repeated = earlier is not None and earlier.pending
    if repeated and earlier.snapshot is None:
        earlier.snapshot = layer._cache_snapshot()
    return repeated


def _restore(layer, call: _Call) -> None:
    """Before `call`'s backward: the layer's cache put back where a later call overwrote it."""
    if call.snapshot is not None:
        layer._cache_restore(call.snapshot)
    call.pending = False


def _record_call(layer, repeated: bool) -> _Call:
    """After `layer.forward`: its call, awaiting its backward (with its cache saved if `repeated`)."""
    call = _Call(layer._cache_snapshot() if repeated else None)
    layer._last_call = call
    return call


def _enter_chain(layer, requires: bool):
    """`_begin_call(layer)` for a layer of a chain whose input gradient is wanted when `requires`:
    `(repeated, requires)`, `requires` True from the first trainable layer on (gradients on)."""
    repeated = _begin_call(layer)
    layer.needs_input_grad = requires
    return repeated, requires or (grad_enabled() and layer.trainable and bool(layer.params))


def _run_backward(layer, call: _Call, backward_fn, dL_dy):
    """`backward_fn(dL_dy)` (the layer's backward or backward_preactivation) for `call`: its cache put
    back first where a later call overwrote it, and the weight gradients added to those of an
    earlier backward of the same layer in this pass."""
    _restore(layer, call)
    pass_number = backward_pass_count()
    before = None
    if layer.__dict__.get("_grads_pass") == pass_number:  # second call of a shared layer
        before = [grad.copy() for grad in layer.grads.values()]
    dL_dx = backward_fn(dL_dy)
    if before is not None:
        for grad, value in zip(layer.grads.values(), before):
            grad += value
    layer._grads_pass = pass_number
    return dL_dx


def layer_node(layer, inputs, training: bool) -> Tensor:
    """`layer.forward(inputs)` as a Tensor whose vjp calls `layer.backward`."""
    single = isinstance(inputs, Tensor)
    tensors = (inputs,) if single else tuple(inputs)
    repeated = _begin_call(layer)
    needs_input_grad = grad_enabled() and any(t.requires_grad for t in tensors)
    layer.needs_input_grad = needs_input_grad
    out = layer.forward(tensors[0].value if single else [t.value for t in tensors], training=training)
    learns = grad_enabled() and layer.trainable and bool(layer.params)
    if not (needs_input_grad or learns):
        result = Tensor(out)
        result.source = layer
        return result
    call = _Call(layer._cache_snapshot() if repeated else None)
    layer._last_call = call

    def vjp(dL_dy):
        dL_dx = _run_backward(layer, call, layer.backward, dL_dy)
        return (dL_dx,) if single else tuple(dL_dx)

    def preactivation(dL_dz):  # given dL/dz for the pre-activation z (the fused softmax/sigmoid + cross-entropy)
        dL_dx = _run_backward(layer, call, layer.backward_preactivation, dL_dz)
        return (dL_dx,) if single else tuple(dL_dx)

    vjp.preactivation = preactivation
    result = Tensor(out, tensors, vjp, requires_grad=True)
    result.source = layer
    return result


class _ChainBackward:
    """The vjp of `chain_node`: each layer's backward, last to first (`preactivation`: the last
    layer's from dL/dz, as `layer_node`'s), a fused pair's as one."""

    __slots__ = ("layers", "calls", "fused")

    def __init__(self, layers, calls, fused):
        self.layers, self.calls, self.fused = layers, calls, fused

    def __call__(self, dL_dy):
        return self._run(dL_dy, "backward")

    def preactivation(self, dL_dz):
        return self._run(dL_dz, "backward_preactivation")

    def _run(self, grad, last_method):
        layers, calls, fused = self.layers, self.calls, self.fused
        i = len(layers) - 1
        while i >= 0:
            layer = layers[i]
            if i > 0 and fused[i - 1]:  # the pair `layers[i - 1:i + 1]`, whose forward ran as one
                first = layers[i - 1]
                _restore(layer, calls[i])
                grad = _run_backward(first, calls[i - 1], lambda g: first.fused_backward(layer, g), grad)
                i -= 2
                continue
            backward_fn = getattr(layer, last_method) if i == len(layers) - 1 else layer.backward
            grad = _run_backward(layer, calls[i], backward_fn, grad)
            i -= 1
        return (grad,)


def chain_node(layers, inputs: Tensor, training: bool) -> Tensor:
    """Layers called one after the other, each on the previous one's output (a Sequential model's),
    as ONE graph node: the same forward and backward calls as a `layer_node` per layer, without the
    graph between them. Each layer must take one tensor and give one, and appear once.

    A layer with a `fuses_with(next_layer, x, training)` method that returns True runs the next
    layer's forward with its own, `fused_forward(next_layer, x, training)`, and both backward passes
    as `fused_backward(next_layer, dL_dy)` (`layers.conv_pool`, `layers.norm_pool`: a Conv2D or a
    BatchNormalization and the MaxPooling2D after it); nothing outside the chain reads the output
    between them."""
    requires, start, calls, fused = grad_enabled() and inputs.requires_grad, None, [], []
    value, count, i = inputs.value, len(layers), 0
    while i < count:
        layer = layers[i]
        fuses_with = getattr(layer, "fuses_with", None)
        pair = fuses_with is not None and i + 1 < count and fuses_with(layers[i + 1], value, training)
        repeated, requires = _enter_chain(layer, requires)  # from a trainable layer on, every gradient is wanted
        if pair:
            following = layers[i + 1]
            following_repeated, requires = _enter_chain(following, requires)  # one backward: both calls recorded
            value = layer.fused_forward(following, value, training)
        else:
            value = layer.forward(value, training=training)
        if requires:
            if start is None:
                start = i  # the layers before it need no backward (frozen, on data that needs no gradient)
            calls.append(_record_call(layer, repeated))
            if pair:
                calls.append(_record_call(following, following_repeated))
        fused.append(pair)
        if pair:
            fused.append(False)
        i += 2 if pair else 1
    if start is None:
        result = Tensor(value)
    else:
        result = Tensor(value, (inputs,), _ChainBackward(layers[start:], calls, fused[start:]), requires_grad=True)
    result.source = layers[-1]
    return result


def grads_from_pass(layer, pass_number: int) -> bool:
    """Whether `layer.grads` were written by backward pass `pass_number`."""
    return layer.__dict__.get("_grads_pass") == pass_number
