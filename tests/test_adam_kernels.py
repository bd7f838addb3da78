"""Adam's kernel plan (`optimizers/adam_kernels.py`): which arrays it takes, when it is made again,
and that its check, proof and update decide and compute as the NumPy code does."""

import numpy as np
import pytest
from kernel_tests import kernels_on, require_kernels  # noqa: F401 - kernels_on: autouse

require_kernels()

import barenet as bn  # noqa: E402
from barenet import fast  # noqa: E402
from barenet.optimizers.adam_kernels import KernelPlan  # noqa: E402


def _arrays(dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    params = {"w": rng.normal(size=(300, 200)).astype(dtype), "b": np.zeros(7, dtype)}
    grads = {key: rng.normal(size=value.shape).astype(dtype) for key, value in params.items()}
    return params, grads


def test_a_plan_takes_float32_pairs_of_one_shape_only():
    params, grads = _arrays()
    assert KernelPlan.make(params, grads) is not None
    assert KernelPlan.make(*_arrays(np.float64)) is None
    assert KernelPlan.make(params, {**grads, "b": np.zeros((7, 1), np.float32)}) is None  # shapes differ
    assert KernelPlan.make({"w": params["w"]}, grads) is None  # a gradient without its weight
    assert KernelPlan.make(params, {**grads, "w": np.asfortranarray(grads["w"])}) is None
    assert KernelPlan.make({}, {}) is None


def test_a_plan_fits_the_same_arrays_only_with_the_kernels_on():
    params, grads = _arrays()
    plan = KernelPlan.make(params, grads)
    assert plan.fits(dict(params), dict(grads))  # new dicts, the same arrays
    assert not plan.fits(params, {**grads, "w": grads["w"].copy()})
    assert not plan.fits(params, dict(reversed(grads.items())))  # another order
    assert not plan.fits(params, {"w": grads["w"]})
    fast.set_enabled(False)
    assert not plan.fits(params, grads)


def test_arrays_without_a_plan_are_not_planned_again_until_they_or_the_kernels_change(monkeypatch):
    """A small model's arrays (the kernels not loaded): one `make` for the step's three asks, not three."""
    made = []
    make = KernelPlan.make.__func__
    monkeypatch.setattr(KernelPlan, "make", classmethod(lambda cls, *a: made.append(1) or make(cls, *a)))
    rng = np.random.default_rng(0)
    params = {"w": rng.normal(size=(16, 8)).astype(np.float32), "b": np.zeros(8, np.float32)}
    grads = {key: rng.normal(size=value.shape).astype(np.float32) for key, value in params.items()}
    optimizer = bn.optimizers.Adam()
    for _ in range(3):
        assert optimizer._first_non_finite_gradient(params, grads) is None
        optimizer.apply_gradients(params, grads)
    assert len(made) == 1 and optimizer._plan(params, grads) is None
    optimizer._plan(params, {**grads, "b": grads["b"].copy()})  # another array: asked again
    assert len(made) == 2
    assert fast.get_kernels() is not None  # loaded now: these arrays get their plan
    assert optimizer._plan(params, grads) is not None and len(made) == 3


def test_a_failed_check_is_taken_again_on_the_next_call():
    """A step skipped for a NaN gradient keeps its step number: the next check must read the
    gradients again, and no sums of the failed check may serve a proof."""
    params, grads = _arrays()
    plan = KernelPlan.make(params, grads)
    grads["b"][3] = np.nan
    assert plan.first_non_finite(step=0) == "b"
    assert plan.noted is None
    grads["b"][3] = 0.5
    assert plan.first_non_finite(step=0) is None
    assert plan.noted[0] == 0 and plan.take_sums(0) is not None and plan.noted is None


def test_a_gradient_of_another_shape_is_an_error_not_a_kernel_read():
    params, grads = _arrays()
    optimizer = bn.optimizers.Adam()
    optimizer.apply_gradients(params, grads)
    before = params["w"].copy()
    with pytest.raises(ValueError, match=r"`grads\['w'\]` has shape \(200, 300\), but its parameter has shape"):
        optimizer.apply_gradients(params, {**grads, "w": grads["w"].T.copy()})
    np.testing.assert_array_equal(params["w"], before)


@pytest.mark.parametrize("case", ["adam", "amsgrad", "adamw"])
def test_steps_with_the_plan_give_the_numpy_codes_bits(case):
    """Five steps (the slots replaced by set_state after the second) with the kernels and without."""
    def run(enabled):
        fast.set_enabled(enabled)
        params, _ = _arrays(seed=3)
        rng = np.random.default_rng(5)
        grads = {key: np.empty_like(value) for key, value in params.items()}
        optimizer = {"adam": bn.optimizers.Adam(1e-2), "amsgrad": bn.optimizers.Adam(1e-2, amsgrad=True),
                     "adamw": bn.optimizers.AdamW(1e-2)}[case]
        for step in range(5):
            for grad in grads.values():
                grad[...] = rng.normal(size=grad.shape)
            if step == 2:
                optimizer.set_state(optimizer.get_state())
            assert optimizer._first_non_finite_gradient(params, grads) is None
            optimizer.apply_gradients(params, grads)
        return [*params.values(), *(slot for slots in optimizer.slots.values() for slot in slots.values())]

    for ours, reference in zip(run(True), run(False)):
        np.testing.assert_array_equal(ours, reference)
