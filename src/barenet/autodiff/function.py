"""A layer with a hand-derived gradient as one node of the graph.

`layer_node(layer, inputs, training)` runs `layer.forward` on the input values and
returns one `Tensor` whose vector-Jacobian product is `layer.backward` (as a custom
autograd function is in PyTorch): the engine never re-derives the layer's math.

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


def layer_node(layer, inputs, training: bool) -> Tensor:
    """`layer.forward(inputs)` as a Tensor whose vjp calls `layer.backward`."""
    single = isinstance(inputs, Tensor)
    tensors = (inputs,) if single else tuple(inputs)
    earlier = layer.__dict__.get("_last_call")
    repeated = earlier is not None and earlier.pending
    if repeated and earlier.snapshot is None:
        earlier.snapshot = layer._cache_snapshot()  # before this call's forward overwrites it
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

    def run_backward(backward_fn, dL_dy):
        if call.snapshot is not None:
            layer._cache_restore(call.snapshot)
        call.pending = False
        pass_number = backward_pass_count()
        before = None
        if layer.__dict__.get("_grads_pass") == pass_number:  # second call of a shared layer
            before = [grad.copy() for grad in layer.grads.values()]
        dL_dx = backward_fn(dL_dy)
        if before is not None:
            for grad, value in zip(layer.grads.values(), before):
                grad += value
        layer._grads_pass = pass_number
        return (dL_dx,) if single else tuple(dL_dx)

    def vjp(dL_dy):
        return run_backward(layer.backward, dL_dy)

    # Given dL/dz for the pre-activation z (the fused softmax/sigmoid + cross-entropy gradient).
    vjp.preactivation = lambda dL_dz: run_backward(layer.backward_preactivation, dL_dz)
    result = Tensor(out, tensors, vjp, requires_grad=True)
    result.source = layer
    return result


def grads_from_pass(layer, pass_number: int) -> bool:
    """Whether `layer.grads` were written by backward pass `pass_number`."""
    return layer.__dict__.get("_grads_pass") == pass_number
