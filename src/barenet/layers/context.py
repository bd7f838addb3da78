"""What a call passes down to the layers it calls (training flag, generator, dtype, extra losses),
and turning call arguments into engine tensors."""

from __future__ import annotations

import numpy as np

from ..autodiff import Tensor


class CallContext:
    """What an outer call passes down to the layers it calls: the training flag, the
    generator that builds (and drops out) and the dtype to build in."""

    training = False
    rng: np.random.Generator | None = None
    dtype: np.dtype | None = None
    losses: list | None = None  # where add_loss() collects during a model call
    build_hook = None  # build_hook(layer, input_shape, build): a loader checks sizes before `build()` runs
    builds = 0  # layers built so far in this process: models cache their weight list until it changes
    replica_sum = None  # sum(array) over data-parallel processes, set by barenet.distributed during fit
    replica_rows = None  # (slice, global batch size): this process's rows of a shared global batch (distributed)


CONTEXT = CallContext()


class call_context:
    """`with call_context(training=..., rng=..., dtype=...)`: set the context for nested calls."""

    def __init__(self, **values):
        # None means "leave as it is"; False is a value (training=False).
        self.values = {key: value for key, value in values.items() if value is not None}

    def __enter__(self):
        self.saved = {key: getattr(CONTEXT, key) for key in self.values}
        for key, value in self.values.items():
            setattr(CONTEXT, key, value)
        return CONTEXT

    def __exit__(self, *exc):
        for key, value in self.saved.items():
            setattr(CONTEXT, key, value)


def to_tensors(inputs, dtype):
    """Arrays (and nested lists of them) as engine Tensors; float arrays cast to `dtype`."""
    if isinstance(inputs, Tensor):
        return inputs
    if isinstance(inputs, (list, tuple)) and inputs and all(
            isinstance(item, (Tensor, np.ndarray)) or isinstance(item, (list, tuple)) for item in inputs) \
            and any(isinstance(item, Tensor) or (isinstance(item, np.ndarray) and item.ndim >= 1) for item in inputs):
        return [to_tensors(item, dtype) for item in inputs]
    array = np.asarray(inputs)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"Layer inputs must be numeric arrays or tensors. Received: dtype {array.dtype}")
    if array.dtype.kind == "f" and dtype is not None and array.dtype != dtype:
        array = array.astype(dtype)
    elif array.dtype == np.float64 and dtype is None and not isinstance(inputs, np.ndarray):
        array = array.astype(np.float32)
    return Tensor(array)


def shapes_of(inputs):
    if isinstance(inputs, list):
        return [shapes_of(item) for item in inputs]
    return (None, *inputs.shape[1:])


def float_dtype(inputs):
    if isinstance(inputs, list):
        for item in inputs:
            found = float_dtype(item)
            if found is not None:
                return found
        return None
    return inputs.dtype if inputs.dtype.kind == "f" else None
