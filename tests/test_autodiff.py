"""The engine's core: Tensor, Variable, backward, no_grad, unbroadcast."""

import numpy as np
import pytest

from barenet.autodiff import Tensor, Variable, backward, no_grad, ops, unbroadcast




def leaf(values):
    return Tensor(np.array(values, dtype=np.float64), requires_grad=True)


def test_fan_out_accumulates():
    x = leaf([1.0, -2.0, 3.0])
    y = x * x + x  # dy/dx = 2x + 1
    ops.sum(y).backward()
    np.testing.assert_allclose(x.grad, [3.0, -3.0, 7.0])


def test_diamond_graph():
    x = leaf([0.5, 2.0])
    a, b = ops.exp(x), ops.square(x)  # two paths from x ...
    ops.sum(a * b).backward()         # ... meeting again: d(e^x x^2)/dx = e^x (x^2 + 2x)
    np.testing.assert_allclose(x.grad, np.exp(x.value) * (x.value ** 2 + 2 * x.value))


def test_a_node_used_twice_is_visited_once():
    x = leaf([2.0])
    h = x * 3
    ops.sum(h * h).backward()  # 9 x^2 -> 18 x
    np.testing.assert_allclose(x.grad, [36.0])


def test_graph_is_freed_after_backward():
    x = leaf([1.0, 2.0])
    hidden = ops.tanh(x)
    out = ops.sum(hidden * 2)
    out.backward()
    for node in (hidden, out):
        assert node.parents == () and node.vjp is not None  # vjp now raises if used again
    assert hidden.grad is None  # intermediate gradients are not kept
    assert x.grad is not None


def test_no_grad_records_nothing():
    x = leaf([1.0])
    with no_grad():
        y = x * 2
    assert not y.requires_grad and y.parents == () and y.vjp is None
    z = x * 2
    assert z.requires_grad and z.parents[0] is x


def test_integer_and_bool_tensors_carry_no_gradient():
    assert not Tensor(np.arange(3), requires_grad=True).requires_grad
    assert not Tensor(np.array([True, False]), requires_grad=True).requires_grad
    x = leaf([1.0, 2.0])
    mask = x > 1.5
    assert mask.dtype == bool and not mask.requires_grad
    ops.sum(ops.where(mask, x, 0.0) + ops.cast(x, np.int64)).backward()
    np.testing.assert_allclose(x.grad, [0.0, 1.0])  # nothing flows through the integer cast


def test_variable_accumulates_grad_and_follows_trainable():
    weights = np.array([1.0, 2.0])
    v = Variable(weights, name="kernel")
    assert v.value is weights
    ops.sum(v * 3).backward()
    ops.sum(v * v).backward()
    np.testing.assert_allclose(v.grad, [3 + 2, 3 + 4])
    v.trainable = False
    assert not (v * 2).requires_grad
    assert not Variable(np.arange(3)).requires_grad  # an integer variable is never differentiated
    with no_grad():
        v.trainable = True
        assert not v.requires_grad
    assert v.requires_grad


def test_variable_assign_checks_shape_and_writes_in_place():
    weights = np.zeros((2, 3))
    v = Variable(weights, name="kernel")
    v.assign(np.ones((2, 3)))
    assert weights.sum() == 6
    with pytest.raises(ValueError, match="'kernel' has shape \\(2, 3\\).*\\(3, 2\\)"):
        v.assign(np.ones((3, 2)))


def test_backward_needs_grad_for_non_scalar():
    y = leaf([1.0, 2.0]) * 2
    with pytest.raises(ValueError, match="non-scalar"):
        y.backward()
    x = leaf([1.0, 2.0])
    (x * 2).backward(np.array([1.0, 10.0]))
    np.testing.assert_allclose(x.grad, [2.0, 20.0])


def test_backward_from_several_roots():
    x = leaf([1.0, 2.0])
    backward([ops.sum(x * 2), ops.sum(x * x)])
    np.testing.assert_allclose(x.grad, [4.0, 6.0])


def test_unbroadcast_sums_stretched_axes():
    grad = np.ones((4, 2, 3))
    np.testing.assert_allclose(unbroadcast(grad, (2, 3)), np.full((2, 3), 4.0))
    np.testing.assert_allclose(unbroadcast(grad, (2, 1)), np.full((2, 1), 12.0))
    np.testing.assert_allclose(unbroadcast(grad, ()), 24.0)
    assert unbroadcast(grad, (4, 2, 3)) is grad


def test_broadcast_gradient_reaches_the_smaller_input():
    a, b = leaf(np.ones((3, 1))), leaf([1.0, 2.0, 3.0, 4.0])
    ops.sum(a * b).backward()
    np.testing.assert_allclose(a.grad, np.full((3, 1), 10.0))
    np.testing.assert_allclose(b.grad, np.full(4, 3.0))


def test_operators():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    y = ((-x + 1) * 2 / (x ** 2)) @ x.T
    np.testing.assert_allclose(y.value, ((1 - x.value) * 2 / x.value ** 2) @ x.value.T)
    np.testing.assert_allclose(abs(-x).value, x.value)
    np.testing.assert_allclose(x[0, 1:].value, [2.0])
    np.testing.assert_allclose((np.ones(2) + x).value, x.value + 1)  # ndarray + Tensor -> Tensor.__radd__
    np.testing.assert_allclose(x.reshape(4).value, [1, 2, 3, 4])
    np.testing.assert_allclose(x.sum(axis=0).value, [4, 6])


def test_leaf_gradients_are_their_own_arrays():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    seed = np.array([1.0, -1.0])
    (a + b).backward(seed)
    a.grad += 1  # must not touch b.grad or the seed
    np.testing.assert_array_equal(b.grad, [1.0, -1.0])
    np.testing.assert_array_equal(seed, [1.0, -1.0])
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    x.sum().backward()
    x.grad *= 2  # writable, not a broadcast view


def test_a_second_backward_through_a_freed_graph_is_an_error():
    x = leaf([1.0, 2.0])
    z = (x * x).sum()
    z.backward()
    with pytest.raises(RuntimeError, match="already"):
        z.backward()
