"""Runaway numbers in optimizers: the NaN/inf guard on the update (rolled back, named),
Nadam's momentum product in O(1) for any step count, schedules at huge steps."""

import math

import numpy as np
import pytest

from barenet import optimizers as opt
from barenet.optimizers import NonFiniteUpdateError, schedules
from bounds import within


def _params():
    return {"dense/weights": np.full((3, 2), 0.5, np.float32), "dense/biases": np.zeros(2, np.float32)}


def _grads(scale=1.0):
    return {"dense/weights": np.full((3, 2), scale, np.float32), "dense/biases": np.full(2, 0.1, np.float32)}


def test_adam_overflowing_second_moment_is_rolled_back_and_named():
    adam = opt.Adam(0.01)
    params = _params()
    adam.apply_gradients(params, _grads())          # one good step: slots exist
    before = {key: value.copy() for key, value in params.items()}
    state = adam.get_state()
    # 1e30 is a finite float32, its square (1e60) is not: v would become inf.
    with pytest.raises(NonFiniteUpdateError, match=r"'v' slot of 'dense/weights'"):
        adam.apply_gradients(params, _grads(1e30))
    for key in params:
        np.testing.assert_array_equal(params[key], before[key])
        for name in ("m", "v"):
            np.testing.assert_array_equal(adam.slots[key][name], state["slots"][key][name])
    assert adam.iterations == state["iterations"] == 1
    adam.apply_gradients(params, _grads())          # and it can go on
    assert adam.iterations == 2 and np.isfinite(params["dense/weights"]).all()


def test_the_overflow_is_real_without_the_guard():
    # What the guard detects: the same step computed by hand leaves v infinite while the weights stay finite.
    grad = np.full(3, 1e30, np.float32)
    with np.errstate(over="ignore"):
        v = 0.001 * np.square(grad)
    assert np.isinf(v).all()
    assert np.isfinite(0.5 - 0.01 * (0.1 * grad) / (np.sqrt(v) + 1e-7)).all()


def test_rollback_on_the_first_step_leaves_no_slots():
    adam = opt.Adam(0.01)
    params = _params()
    with pytest.raises(NonFiniteUpdateError):
        adam.apply_gradients(params, _grads(1e30))
    assert adam.slots == {} and adam.iterations == 0
    np.testing.assert_array_equal(params["dense/weights"], _params()["dense/weights"])


def test_nadam_rollback_restores_its_momentum_product():
    nadam = opt.Nadam(0.01)
    params = _params()
    nadam.apply_gradients(params, _grads())
    product = nadam.u_product
    with pytest.raises(NonFiniteUpdateError):
        nadam.apply_gradients(params, _grads(1e30))
    assert nadam.u_product == product and nadam.iterations == 1


def test_sgd_with_an_infinite_step_names_the_parameter():
    sgd = opt.SGD(1e38)
    params = _params()
    with pytest.raises(NonFiniteUpdateError, match=r"parameter 'dense/weights'"):
        sgd.apply_gradients(params, _grads(1e10))
    np.testing.assert_array_equal(params["dense/weights"], _params()["dense/weights"])


def test_huge_finite_values_whose_sum_overflows_are_not_a_false_alarm():
    sgd = opt.SGD(1.0)
    params = {"w": np.full(1000, 3e38, np.float32)}
    sgd.apply_gradients(params, {"w": np.zeros(1000, np.float32)})   # sum overflows, entries do not
    assert sgd.iterations == 1


# --- Nadam's momentum product -----------------------------------------------------------------
def test_nadam_state_without_product_loads_in_constant_time():
    nadam = opt.Nadam()
    with within(seconds=2, megabytes=50):
        nadam.set_state({"iterations": 2**62, "slots": {}})
    assert nadam.u_product == 0.0   # beta_1^t underflows: the true value is below any float


@pytest.mark.parametrize("momentum_decay, beta_1", [(1.0, 0.9), (0.004, 0.9), (0.004, 0.99999), (0.5, 0.999)])
def test_nadam_closed_form_matches_the_running_product(momentum_decay, beta_1):
    nadam = opt.Nadam(beta_1=beta_1, momentum_decay=momentum_decay)
    steps = nadam._EXACT_PRODUCT_STEPS + 5000
    product = 1.0
    for step in range(1, steps + 1):
        product *= nadam._mu(step)
    closed = nadam._momentum_product(steps)
    assert closed == pytest.approx(product, rel=1e-9, abs=1e-300)


def test_nadam_short_state_is_rebuilt_bit_identically():
    trained = opt.Nadam(0.01)
    params = _params()
    for _ in range(7):
        trained.apply_gradients(params, _grads())
    state = trained.get_state()
    del state["u_product"]
    fresh = opt.Nadam(0.01)
    fresh.set_state(state)
    assert fresh.u_product == trained.u_product


# --- schedules at huge steps ------------------------------------------------------------------
@pytest.mark.parametrize("schedule", [
    schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=2.0),
    schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5),
    schedules.ExponentialDecay(0.1, decay_steps=3, decay_rate=1.5, staircase=True),
    schedules.CosineDecay(0.1, decay_steps=100, warmup_target=0.2, warmup_steps=10),
    schedules.PiecewiseConstantDecay([10], [0.1, 0.01]),
], ids=lambda s: type(s).__name__)
def test_schedules_at_huge_steps_do_not_raise(schedule):
    for step in (10**7, 2**62):
        rate = schedule(step)
        assert rate >= 0 and not math.isnan(rate)


def test_an_infinite_scheduled_rate_is_refused_before_any_change():
    adam = opt.Adam(schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=2.0))
    adam.iterations = 10**7
    params = _params()
    with pytest.raises(NonFiniteUpdateError, match="learning rate"):
        adam.apply_gradients(params, _grads())
    assert adam.iterations == 10**7 and adam.slots == {}
    np.testing.assert_array_equal(params["dense/weights"], _params()["dense/weights"])


# --- Adam's proven-finite fast path: no copies, same numbers, the guard still there when needed ---------
def test_adam_skips_the_copies_when_the_step_is_provably_finite_and_matches_the_guarded_step():
    rng = np.random.default_rng(0)
    params = {"w": rng.normal(size=(30, 20)).astype(np.float32), "b": np.zeros(20, np.float32)}
    guarded = {key: value.copy() for key, value in params.items()}
    fast, slow = opt.Adam(0.01, amsgrad=True, weight_decay=0.1), opt.Adam(0.01, amsgrad=True, weight_decay=0.1)
    slow._step_is_finite = lambda *args: False  # the copy-and-check guard every step
    for _ in range(5):
        grads = {key: rng.normal(size=value.shape).astype(np.float32) for key, value in params.items()}
        fast.apply_gradients(params, grads)
        slow.apply_gradients(guarded, grads)
    assert "_backup_buffers" not in fast.__dict__ and "_backup_buffers" in slow.__dict__
    for key, value in params.items():
        np.testing.assert_array_equal(value, guarded[key])
        for name in fast.slots[key]:
            np.testing.assert_array_equal(fast.slots[key][name], slow.slots[key][name])


@pytest.mark.parametrize("case", ["huge gradient", "nan gradient", "inf parameter", "zero epsilon", "restored nan slot"])
def test_adam_falls_back_to_the_guard_whenever_the_proof_does_not_hold(case):
    adam = opt.Adam(0.01, epsilon=0.0 if case == "zero epsilon" else 1e-7)
    params = _params()
    adam.apply_gradients(params, _grads())
    grads = _grads(1e30 if case == "huge gradient" else 1.0)
    if case == "nan gradient":
        grads["dense/biases"][0] = np.nan
    if case == "inf parameter":
        params["dense/biases"][1] = np.inf
    if case == "restored nan slot":
        state = adam.get_state()
        state["slots"]["dense/weights"]["m"][0, 0] = np.nan
        adam.set_state(state)
    assert not adam._step_is_finite(params, grads, 0.01)
    if case in ("zero epsilon",):
        adam.apply_gradients(params, grads)  # guarded, and fine
        return
    before = {key: value.copy() for key, value in params.items()}
    with pytest.raises(NonFiniteUpdateError):
        adam.apply_gradients(params, grads)
    for key in params:
        np.testing.assert_array_equal(params[key], before[key])
