"""Learning-rate schedules: Keras's formulas, step convention, serialization, errors."""

import json
import math

import numpy as np
import pytest

from barenet import optimizers as opt
from barenet.optimizers import schedules


def test_exponential_decay_smooth_and_staircase():
    s = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    assert s(0) == 0.1
    assert s(10) == pytest.approx(0.05)
    assert s(15) == pytest.approx(0.1 * 0.5**1.5)
    stairs = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=True)
    assert [stairs(t) for t in (0, 9, 10, 19, 20)] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])


def test_piecewise_constant_boundaries_belong_to_the_left_interval():
    s = schedules.PiecewiseConstantDecay([100, 200], [1.0, 0.5, 0.1])
    assert [s(t) for t in (0, 100, 101, 200, 201, 10**6)] == [1.0, 1.0, 0.5, 0.5, 0.1, 0.1]


def test_cosine_decay_without_warmup():
    s = schedules.CosineDecay(0.2, decay_steps=100, alpha=0.1)
    assert s(0) == pytest.approx(0.2)
    assert s(50) == pytest.approx(0.2 * (0.9 * 0.5 + 0.1))
    assert s(25) == pytest.approx(0.2 * (0.9 * 0.5 * (1 + math.cos(math.pi / 4)) + 0.1))
    assert s(100) == pytest.approx(0.02) and s(500) == pytest.approx(0.02)


def test_cosine_decay_with_linear_warmup():
    s = schedules.CosineDecay(0.0, decay_steps=100, warmup_target=1.0, warmup_steps=10)
    assert [s(t) for t in (0, 5, 10)] == pytest.approx([0.0, 0.5, 1.0])
    assert s(60) == pytest.approx(0.5)          # halfway through the cosine part
    assert s(110) == pytest.approx(0.0, abs=1e-15) and s(1000) == pytest.approx(0.0, abs=1e-15)


def test_torch_schedulers_give_the_same_rates():
    torch = pytest.importorskip("torch")
    param = torch.zeros(1, requires_grad=True)

    def torch_rates(make_scheduler, steps):
        optimizer = torch.optim.SGD([param], lr=0.1)
        scheduler = make_scheduler(optimizer)
        rates = []
        for _ in range(steps):
            rates.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            scheduler.step()
        return rates

    ours = schedules.ExponentialDecay(0.1, decay_steps=20, decay_rate=0.3)
    theirs = torch_rates(lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.3 ** (1 / 20)), 60)
    np.testing.assert_allclose([ours(t) for t in range(60)], theirs, rtol=1e-9)
    ours = schedules.CosineDecay(0.1, decay_steps=40, alpha=0.05)
    theirs = torch_rates(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=40, eta_min=0.005), 41)
    np.testing.assert_allclose([ours(t) for t in range(41)], theirs, rtol=1e-9)


def test_optimizer_uses_the_schedule_at_steps_already_taken():
    optimizer = opt.SGD(schedules.PiecewiseConstantDecay([1, 2], [1.0, 0.1, 0.01]))
    w = np.zeros(1)
    moves = []
    for _ in range(4):
        assert optimizer.current_learning_rate() == optimizer.learning_rate(optimizer.iterations)
        before = w.copy()
        optimizer.apply_gradients({"w": w}, {"w": np.ones(1)})
        moves.append(float(before[0] - w[0]))
    # steps see schedule(0), schedule(1), schedule(2), schedule(3)
    assert moves == pytest.approx([1.0, 1.0, 0.1, 0.01])


@pytest.mark.parametrize("schedule", [
    schedules.ExponentialDecay(0.1, 10, 0.9, staircase=True),
    schedules.PiecewiseConstantDecay([5, 10], [0.1, 0.05, 0.01]),
    schedules.CosineDecay(0.0, 50, alpha=0.1, warmup_target=0.1, warmup_steps=5),
], ids=lambda s: type(s).__name__)
def test_serialize_round_trip_through_json(schedule):
    data = json.loads(json.dumps(schedules.serialize(schedule)))
    clone = schedules.deserialize(data)
    assert clone == schedule and [clone(t) for t in range(60)] == [schedule(t) for t in range(60)]
    # ... and inside an optimizer's config, which the constructor accepts back.
    config = json.loads(json.dumps(opt.Adam(schedule).get_config()))
    assert opt.Adam(**config).learning_rate == schedule


@pytest.mark.parametrize("make, name", [
    (lambda: schedules.ExponentialDecay(-0.1, 10, 0.5), "initial_learning_rate"),
    (lambda: schedules.ExponentialDecay(0.1, 0, 0.5), "decay_steps"),
    (lambda: schedules.ExponentialDecay(0.1, 10, -0.5), "decay_rate"),
    (lambda: schedules.CosineDecay(0.1, 10, alpha=1.5), "alpha"),
    (lambda: schedules.CosineDecay(0.1, -5), "decay_steps"),
    (lambda: schedules.CosineDecay(0.1, 10, warmup_target=-1.0, warmup_steps=3), "warmup_target"),
    (lambda: schedules.PiecewiseConstantDecay([10, 5], [0.1, 0.05, 0.01]), "boundaries"),
    (lambda: schedules.PiecewiseConstantDecay([10], [0.1]), "values"),
    (lambda: schedules.PiecewiseConstantDecay([10], [0.1, -0.01]), "values"),
    (lambda: schedules.deserialize({"class_name": "StepDecay", "config": {}}), "schedule"),
])
def test_invalid_schedule_arguments(make, name):
    with pytest.raises(ValueError, match=name):
        make()


# --- PolynomialDecay, InverseTimeDecay, CosineDecayRestarts (issue 12) ---------------------------------
def test_polynomial_decay_golden_values_and_cycle():
    s = schedules.PolynomialDecay(0.1, decay_steps=100, end_learning_rate=0.01, power=2.0)
    assert s(0) == pytest.approx(0.1)
    assert s(50) == pytest.approx(0.09 * 0.25 + 0.01)
    assert s(100) == pytest.approx(0.01) and s(1000) == pytest.approx(0.01)
    linear = schedules.PolynomialDecay(1.0, decay_steps=10)
    assert linear(3) == pytest.approx((1 - 0.0001) * 0.7 + 0.0001)  # Keras's default end rate
    cyc = schedules.PolynomialDecay(0.1, decay_steps=10, end_learning_rate=0.0, cycle=True)
    assert cyc(0) == pytest.approx(0.1)
    assert cyc(10) == pytest.approx(0.0, abs=1e-15)       # ceil(10/10) = 1: end of the first cycle
    assert cyc(15) == pytest.approx(0.1 * (1 - 15 / 20))  # second cycle spans 20 steps


def test_inverse_time_decay_golden_values():
    s = schedules.InverseTimeDecay(0.1, decay_steps=10, decay_rate=0.5)
    assert [s(t) for t in (0, 10, 15)] == pytest.approx([0.1, 0.1 / 1.5, 0.1 / 1.75])
    stairs = schedules.InverseTimeDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=True)
    assert [stairs(t) for t in (9, 10, 19, 20)] == pytest.approx([0.1, 0.1 / 1.5, 0.1 / 1.5, 0.05])


def test_cosine_decay_restarts_golden_values():
    s = schedules.CosineDecayRestarts(1.0, first_decay_steps=10, t_mul=2.0, m_mul=0.5, alpha=0.1)
    assert s(0) == pytest.approx(1.0)
    assert s(5) == pytest.approx(0.9 * 0.5 + 0.1)                # half of the first period
    assert s(10) == pytest.approx(0.9 * 0.5 + 0.1)               # restart at m_mul = 0.5
    assert s(20) == pytest.approx(0.9 * 0.5 * 0.5 + 0.1)         # half of the 20-step second period
    assert s(30) == pytest.approx(0.9 * 0.25 + 0.1)              # second restart: 0.5 ** 2
    flat = schedules.CosineDecayRestarts(2.0, first_decay_steps=4, t_mul=1.0)
    assert [flat(t) for t in (0, 2, 4, 6)] == pytest.approx([2.0, 1.0, 2.0, 1.0])


def test_new_schedules_match_torch():
    torch = pytest.importorskip("torch")
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=0.3)
    warm = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=7, T_mult=2, eta_min=0.03)
    ours = schedules.CosineDecayRestarts(0.3, first_decay_steps=7, t_mul=2.0, alpha=0.1)
    for step in range(60):
        assert ours(step) == pytest.approx(optimizer.param_groups[0]["lr"], rel=1e-9)
        optimizer.step()
        warm.step()
    optimizer = torch.optim.SGD([param], lr=0.3)
    poly = torch.optim.lr_scheduler.PolynomialLR(optimizer, total_iters=20, power=2.0)
    ours = schedules.PolynomialDecay(0.3, decay_steps=20, end_learning_rate=0.0, power=2.0)
    for step in range(30):
        assert ours(step) == pytest.approx(optimizer.param_groups[0]["lr"], rel=1e-9, abs=1e-15)
        optimizer.step()
        poly.step()


@pytest.mark.parametrize("schedule", [
    schedules.PolynomialDecay(0.1, 10, power=0.5, cycle=True),
    schedules.InverseTimeDecay(0.1, 10, 0.5, staircase=True),
    schedules.CosineDecayRestarts(0.1, 10, t_mul=1.5, m_mul=0.9, alpha=0.01),
])
def test_new_schedules_round_trip_and_drive_an_optimizer(schedule):
    config = json.loads(json.dumps(schedules.serialize(schedule)))
    assert schedules.deserialize(config) == schedule
    optimizer = opt.SGD(learning_rate=schedule)
    param, grad = np.ones(2), np.ones(2)
    optimizer.apply_gradients({"w": param}, {"w": grad})
    assert param[0] == pytest.approx(1 - schedule(0))


@pytest.mark.parametrize("make, match", [
    (lambda: schedules.PolynomialDecay(0.1, 0), "`decay_steps`"),
    (lambda: schedules.PolynomialDecay(0.1, 10, cycle=1), "`cycle`"),
    (lambda: schedules.InverseTimeDecay(0.1, 10, -1.0), "`decay_rate`"),
    (lambda: schedules.CosineDecayRestarts(0.1, 10, alpha=2.0), "`alpha`"),
    (lambda: schedules.CosineDecayRestarts(0.1, 10, t_mul=0), "`t_mul`"),
])
def test_new_schedules_bad_arguments(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()
