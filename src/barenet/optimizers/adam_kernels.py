"""Adam's passes through `barenet.fast`'s compiled kernels, planned once for the arrays of a step.

A model hands its optimizer the same arrays at every step: each weight, and the gradient buffer
its layer's backward writes in place. A `KernelPlan` keeps what the kernels need of them (their
flat views, and those of Adam's two slots), and serves while every array stays the same object
and the kernels stay on. A step is then, for each weight, one call that sums the squares of its
gradient and tells whether the weight is finite (the training step's check and Adam's proof that
the step stays finite: `Adam._step_is_finite`), and one call that updates it, with no other work
per weight. (On the benchmark's MLP, finding the views and deciding weight by weight cost about
60 microseconds a step more than the kernels themselves.)

The arithmetic is the kernels' (`fast.elementwise_kernels`): NumPy's bits, as with the NumPy
code in `adam.py`, which runs wherever a plan does not apply (float64, AMSGrad, weight decay,
arrays of 2^22 values or more, or numba missing).
"""

from __future__ import annotations

import math

import numpy as np

from .. import fast
from ..reductions import total

# Past this many values Adam's gradient check needs the float32 sum itself (see Adam's).
MAX_VALUES = 2**22
_FLOAT32_MAX = float(np.finfo(np.float32).max)


class _Weight:
    """One weight of a plan: the flat views the kernels take, and the slot arrays they were taken of."""

    __slots__ = ("param", "grad", "size", "m", "v", "flat_m", "flat_v")

    def __init__(self, param, grad):
        self.param, self.grad, self.size = param.reshape(-1), grad.reshape(-1), param.size
        self.m = self.v = self.flat_m = self.flat_v = None


class KernelPlan:
    """The kernels' views of one step's weights, gradients and slots, kept between steps.

    Made by `make` (or None where the kernels do not take every array); `fits` tells whether the
    next step's arrays are still these, `attach` takes the slots' views before an update.
    """

    __slots__ = ("keys", "arrays", "weights", "kernels", "noted")

    def __init__(self, keys, arrays, weights, kernels):
        self.keys = keys  # the weights' keys, in the order of the step's gradients
        self.arrays = arrays  # (weight, gradient) of each key, flat: what `fits` compares
        self.weights = weights  # a `_Weight` per key
        self.kernels = kernels
        self.noted = None  # (step, sums) taken by the gradient check, for that step's proof

    @classmethod
    def make(cls, params: dict, grads: dict):
        """A plan for these arrays, or None unless every weight and gradient is float32, C-contiguous,
        of one shape with its pair and under `MAX_VALUES` values, and the kernels are on."""
        if not grads or len(grads) != len(params):
            return None
        pairs = []
        for key, grad in grads.items():
            param = params.get(key)
            if param is None or grad.shape != param.shape or grad.size >= MAX_VALUES:
                return None
            pairs.append((param, grad))
        arrays = tuple(array for pair in pairs for array in pair)
        largest = max(arrays, key=lambda array: array.size)
        if not fast.elementwise_ready(largest, *arrays):
            return None
        return cls(tuple(grads), arrays, [_Weight(param, grad) for param, grad in pairs],
                   fast.get_elementwise_kernels())

    def fits(self, params: dict, grads: dict) -> bool:
        """Whether `params` and `grads` hold this plan's very arrays, in its order, with the kernels on."""
        return fast.get_elementwise_kernels() is self.kernels and _same_arrays(self.arrays, params, grads)

    def sums(self) -> list:
        """`(sum of the gradient's squares in float64, whether the weight is finite)` per weight; a
        large weight's in blocks over the cores where its update will run so (`fast.elementwise_blocks`:
        the same blocks), each block's sum read by the core that wrote its gradient rows and will
        update them. The sums then round otherwise; they only bound the step (a NaN or inf shows in
        any order), so the weights do not depend on it."""
        squares_and_finite = self.kernels.squares_and_finite
        sums = []
        for weight in self.weights:
            blocks = _blocks(weight)
            if blocks > 1:
                sums.append(self._sums_over_blocks(weight, blocks))
            else:
                sums.append(squares_and_finite(weight.grad, weight.param))
        return sums

    def _sums_over_blocks(self, weight, blocks: int) -> tuple:
        with fast.running(hold=False):
            return self.kernels.squares_and_finite_blocks(weight.grad, weight.param, blocks)

    def first_non_finite(self, step: int):
        """The key of the first gradient whose float32 sum is NaN or infinite, or None; the sums are
        noted for `step`'s proof. A finite sum of squares `S` over `n` values bounds the float32 sum
        by `sqrt(n S)` (Cauchy-Schwarz) times less than 2 of rounding (`n` < 2^22): only beyond that
        bound is the sum itself taken."""
        sums = self.sums()
        for key, weight, (squares, _) in zip(self.keys, self.weights, sums):
            if not math.isfinite(squares):  # a NaN or inf value: the sum is not finite either
                return key
            if 2 * math.sqrt(weight.size * squares) >= _FLOAT32_MAX and not math.isfinite(total(weight.grad)):
                return key
        self.noted = (step, sums)
        return None

    def take_sums(self, step: int) -> list:
        """The sums noted by this step's gradient check (used once), else taken now."""
        noted, self.noted = self.noted, None
        return noted[1] if noted is not None and noted[0] == step else self.sums()

    def attach(self, slots: dict) -> bool:
        """Take the views of the slots `m` and `v` of every weight where they are new arrays (the first
        step, `set_state`); False when the kernels do not take them (then nothing is updated here)."""
        for key, weight, param in zip(self.keys, self.weights, self.arrays[::2]):
            kept = slots.get(key, {})
            m, v = kept.get("m"), kept.get("v")
            if m is weight.m and v is weight.v:
                continue
            if (m is None or v is None or m.shape != param.shape or v.shape != param.shape
                    or not fast.elementwise_ready(m, v)):
                return False
            weight.m, weight.v, weight.flat_m, weight.flat_v = m, v, m.reshape(-1), v.reshape(-1)
        return True

    def update(self, constants: tuple) -> None:
        """Adam's update of every weight, after `attach` (`constants`: the kernels' float32 beta_1,
        1 - beta_1, beta_2, 1 - beta_2, epsilon and step size), spread over the cores where a weight
        is large and BLAS quiet (`fast.elementwise_blocks`)."""
        one_thread = self.kernels.adam_block
        for weight in self.weights:
            blocks = _blocks(weight)
            if blocks > 1:
                with fast.running(hold=False):
                    self.kernels.adam_update(weight.param, weight.grad, weight.flat_m, weight.flat_v, *constants,
                                             blocks)
            else:
                one_thread(weight.param, weight.grad, weight.flat_m, weight.flat_v, *constants)


class Declined:
    """The arrays of a step for which `KernelPlan.make` gave no plan (a small model whose kernels
    are not loaded, float64, ...), kept so that the step's other calls (its check, proof and
    update ask three times a step) do not make the plan again: while `fits`, the answer stays None."""

    __slots__ = ("arrays", "kernels")

    def __init__(self, params: dict, grads: dict):
        self.arrays = tuple(array for key, grad in grads.items() for array in (params.get(key), grad))
        self.kernels = fast.loaded_elementwise_kernels()

    def fits(self, params: dict, grads: dict) -> bool:
        """Whether these are the very arrays declined, and the kernels are as loaded as they were."""
        return fast.loaded_elementwise_kernels() is self.kernels and _same_arrays(self.arrays, params, grads)


def _blocks(weight: _Weight) -> int:
    """The blocks of `weight`'s check and update over the cores (`fast.elementwise_blocks`; a small
    weight, which that would give 1 anyway, is not asked)."""
    return fast.elementwise_blocks(weight.param) if weight.size >= fast.MIN_ELEMENTWISE else 1


def _same_arrays(arrays: tuple, params: dict, grads: dict) -> bool:
    """Whether `params` and `grads` hold `arrays` (weight, gradient, weight, ...) in the gradients' order."""
    if len(grads) * 2 != len(arrays) or len(params) != len(grads):
        return False
    i = 0
    for key, grad in grads.items():  # a plain loop: this runs three times a step
        if grad is not arrays[i + 1] or params.get(key) is not arrays[i]:
            return False
        i += 2
    return True
