"""Every primitive op of the engine: finite differences (float64, broadcasting shapes) and torch.autograd parity."""

import numpy as np
import pytest

from barenet.autodiff import Tensor, no_grad, ops
from gradcheck import assert_close, numerical_grad

# name -> (function of tensors, input shapes, domain of the inputs)
# domains: "real" (standard normal), "positive" (in [0.5, 2]), "distinct" (a shuffled range: no ties)
CASES = {
    "add": (ops.add, [(3, 1, 4), (2, 4)], "real"),
    "subtract": (ops.subtract, [(4,), (3, 4)], "real"),
    "multiply": (ops.multiply, [(2, 3), (3,)], "real"),
    "divide": (ops.divide, [(2, 3), (2, 1)], "positive"),
    "negative": (ops.negative, [(2, 3)], "real"),
    "power": (ops.power, [(2, 3), (3,)], "positive"),
    "power_scalar_exponent": (lambda a: a ** 3, [(2, 3)], "real"),
    "matmul": (ops.matmul, [(2, 3, 4), (4, 2)], "real"),
    "matmul_batch_broadcast": (ops.matmul, [(2, 1, 3, 4), (3, 4, 2)], "real"),
    "matmul_vector_matrix": (ops.matmul, [(3,), (2, 3, 4)], "real"),
    "matmul_matrix_vector": (ops.matmul, [(2, 3), (3,)], "real"),
    "matmul_vector_vector": (ops.matmul, [(3,), (3,)], "real"),
    "maximum": (ops.maximum, [(2, 3), (3,)], "real"),
    "minimum": (ops.minimum, [(3, 1), (3, 2)], "real"),
    "exp": (ops.exp, [(2, 3)], "real"),
    "log": (ops.log, [(2, 3)], "positive"),
    "log1p": (ops.log1p, [(2, 3)], "positive"),
    "expm1": (ops.expm1, [(2, 3)], "real"),
    "sqrt": (ops.sqrt, [(2, 3)], "positive"),
    "square": (ops.square, [(2, 3)], "real"),
    "abs": (ops.abs, [(2, 3)], "real"),
    "sign": (ops.sign, [(2, 3)], "real"),
    "sin": (ops.sin, [(2, 3)], "real"),
    "cos": (ops.cos, [(2, 3)], "real"),
    "erf": (ops.erf, [(2, 3)], "real"),
    "where": (lambda a, b: ops.where(np.array([True, False, True]), a, b), [(2, 3), (2, 1)], "real"),
    "clip": (lambda x: ops.clip(x, -0.5, 0.7), [(3, 4)], "real"),
    "cast": (lambda x: ops.cast(x, np.float64) * 2, [(2, 3)], "real"),
    "sum": (lambda x: ops.sum(x, axis=1), [(2, 3, 4)], "real"),
    "sum_keepdims": (lambda x: ops.sum(x, axis=(0, 2), keepdims=True), [(2, 3, 4)], "real"),
    "mean": (lambda x: ops.mean(x, axis=-1), [(2, 3)], "real"),
    "mean_all": (ops.mean, [(2, 3)], "real"),
    "max": (lambda x: ops.max(x, axis=1), [(2, 4, 3)], "distinct"),
    "max_all_keepdims": (lambda x: ops.max(x, keepdims=True), [(2, 3)], "distinct"),
    "min": (lambda x: ops.min(x, axis=(0, 2)), [(2, 4, 3)], "distinct"),
    "var": (lambda x: ops.var(x, axis=0), [(4, 3)], "real"),
    "std": (lambda x: ops.std(x, axis=1, keepdims=True), [(2, 5)], "real"),
    "prod": (lambda x: ops.prod(x, axis=1), [(2, 3, 2)], "real"),
    "prod_all": (ops.prod, [(2, 3)], "real"),
    "cumsum": (lambda x: ops.cumsum(x, axis=1), [(2, 4)], "real"),
    "cumsum_flat": (ops.cumsum, [(2, 3)], "real"),
    "logsumexp": (lambda x: ops.logsumexp(x, axis=-1), [(2, 4)], "real"),
    "logsumexp_keepdims": (lambda x: ops.logsumexp(x, axis=0, keepdims=True), [(3, 2)], "real"),
    "einsum_matmul": (lambda a, b: ops.einsum("bij,jk->bik", a, b), [(2, 3, 4), (4, 2)], "real"),
    "einsum_private_letter": (lambda a, b: ops.einsum("ij,jk", a, b), [(2, 3), (3, 4)], "real"),
    "einsum_three": (lambda a, b, c: ops.einsum("ab,bc,cd->ad", a, b, c), [(2, 3), (3, 2), (2, 4)], "real"),
    "einsum_outer_sum": (lambda a, b: ops.einsum("ij,k->k", a, b), [(2, 3), (4,)], "real"),
    "reshape": (lambda x: ops.reshape(x, (3, 2)), [(2, 3)], "real"),
    "transpose": (lambda x: ops.transpose(x, (2, 0, 1)), [(2, 3, 4)], "real"),
    "expand_dims": (lambda x: ops.expand_dims(x, 1), [(2, 3)], "real"),
    "squeeze": (lambda x: ops.squeeze(x, 1), [(2, 1, 3)], "real"),
    "concatenate": (lambda a, b: ops.concatenate([a, b, a], axis=1), [(2, 3), (2, 1)], "real"),
    "stack": (lambda a, b: ops.stack([a, b], axis=-1), [(2, 3), (2, 3)], "real"),
    "split": (lambda x: ops.concatenate([p * (i + 1) for i, p in enumerate(ops.split(x, [1, 3], axis=1))], axis=1),
              [(2, 5)], "real"),
    "getitem_basic": (lambda x: x[1:, ::2, None], [(3, 4)], "real"),
    "getitem_repeated": (lambda x: x[np.array([0, 2, 0])], [(3, 2)], "real"),
    "take": (lambda x: ops.take(x, np.array([[0, 2], [2, 2]]), axis=1), [(2, 3)], "real"),
    "take_flat": (lambda x: ops.take(x, np.array([5, 0, 5])), [(2, 3)], "real"),
    "take_along_axis": (lambda x: ops.take_along_axis(x, np.array([[0, 0], [2, 1]]), axis=1), [(2, 3)], "real"),
    "tile": (lambda x: ops.tile(x, (2, 1, 3)), [(2, 3)], "real"),
    "repeat": (lambda x: ops.repeat(x, [1, 0, 2], axis=1), [(2, 3)], "real"),
    "repeat_flat": (lambda x: ops.repeat(x, 2), [(2, 3)], "real"),
    "pad": (lambda x: ops.pad(x, ((1, 0), (2, 1))), [(2, 3)], "real"),
    "tanh": (ops.tanh, [(2, 3)], "real"),
    "sigmoid": (ops.sigmoid, [(2, 3)], "real"),
    "relu": (ops.relu, [(2, 3)], "real"),
    "leaky_relu": (ops.leaky_relu, [(2, 3)], "real"),
    "elu": (lambda x: ops.elu(x, alpha=0.7), [(2, 3)], "real"),
    "relu6": (lambda x: ops.relu6(x * 5), [(3, 4)], "real"),
    "hard_sigmoid": (lambda x: ops.hard_sigmoid(x * 3), [(3, 4)], "real"),
    "softplus": (ops.softplus, [(2, 3)], "real"),
    "silu": (ops.silu, [(2, 3)], "real"),
    "gelu": (ops.gelu, [(2, 3)], "real"),
    "gelu_exact": (lambda x: ops.gelu(x, approximate=False), [(2, 3)], "real"),
    "softmax": (lambda x: ops.softmax(x, axis=0), [(3, 2)], "real"),
    "log_softmax": (ops.log_softmax, [(2, 4)], "real"),
}


def make_inputs(shapes, domain, rng):
    if domain == "positive":
        return [rng.uniform(0.5, 2.0, size=s) for s in shapes]
    if domain == "distinct":
        return [rng.permutation(int(np.prod(s))).reshape(s) * 0.1 + rng.uniform(0, 0.01, size=s) for s in shapes]
    return [rng.normal(size=s) for s in shapes]


@pytest.mark.parametrize("name", CASES)
def test_gradient_matches_finite_differences(name, rng):
    fn, shapes, domain = CASES[name]
    values = make_inputs(shapes, domain, rng)
    inputs = [Tensor(v, requires_grad=True) for v in values]
    out = fn(*inputs)
    projection = rng.normal(size=out.shape)
    out.backward(projection)  # the gradient of the loss sum(out * projection)

    def loss():
        with no_grad():
            return float(np.sum(fn(*[Tensor(v) for v in values]).value * projection))

    for tensor, value in zip(inputs, values):
        assert_close(tensor.grad, numerical_grad(loss, value), rtol=1e-6, atol=1e-8)


UNARY = ["exp", "log", "log1p", "expm1", "sqrt", "square", "abs", "sign", "sin", "cos", "erf", "tanh", "sigmoid",
         "relu", "leaky_relu", "elu", "relu6", "hard_sigmoid", "softplus", "silu", "gelu", "softmax", "log_softmax",
         "sum", "mean", "max", "var", "std", "prod", "cumsum", "logsumexp", "clip", "pad", "take", "tile"]


@pytest.mark.parametrize("name", UNARY)
def test_float32_stays_float32(name, rng):
    fn, shapes, domain = CASES[name]
    x = Tensor(make_inputs(shapes, domain, rng)[0].astype(np.float32), requires_grad=True)
    out = fn(x)
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, np.float32))
    assert x.grad.dtype == np.float32


def test_python_numbers_keep_float32():
    x = Tensor(np.ones(3, np.float32), requires_grad=True)
    out = (2.5 * x + 1) / 3 - 0.5 ** x
    assert out.dtype == np.float32
    ops.sum(out).backward()
    assert x.grad.dtype == np.float32


def test_integer_and_bool_inputs():
    ints = Tensor(np.arange(4), requires_grad=True)
    assert not ints.requires_grad
    assert (ints * 0.5).dtype == np.float32  # an int tensor meeting a float becomes float32, as in Keras
    assert (Tensor(np.arange(3, dtype=np.int32)) + 2).dtype == np.int32
    assert ops.sqrt(ints).dtype == np.float32
    x = Tensor(np.ones(4), requires_grad=True)
    assert not ops.greater(x, 0).requires_grad
    assert not ops.argmax(x).requires_grad
    assert not ops.cast(x, np.int32).requires_grad


def test_ties_split_the_gradient_evenly():
    x = Tensor(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]), requires_grad=True)
    ops.sum(ops.max(x, axis=1)).backward()
    np.testing.assert_allclose(x.grad, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    a, b = Tensor(np.array([1.0, 2.0]), requires_grad=True), Tensor(np.array([1.0, 3.0]), requires_grad=True)
    ops.sum(ops.maximum(a, b)).backward()
    np.testing.assert_allclose(a.grad, [0.5, 0])
    np.testing.assert_allclose(b.grad, [0.5, 1])


def test_edge_values():
    x = Tensor(np.array([0.0, -1.0, 2.0]), requires_grad=True)
    ops.sum(ops.power(x, 0.0) + ops.relu(x) + ops.abs(x) + ops.clip(x, -1.0, 1.0)).backward()
    np.testing.assert_allclose(x.grad, [0 + 0 + 0 + 1, 0 + 0 - 1 + 1, 0 + 1 + 1 + 0])
    zeros = Tensor(np.array([0.0, 2.0, 3.0]), requires_grad=True)
    ops.prod(zeros).backward()
    np.testing.assert_allclose(zeros.grad, [6.0, 0.0, 0.0])
    big = np.array([1000.0, -1000.0, 0.0])
    assert np.all(np.isfinite(ops.sigmoid(big).value)) and np.all(np.isfinite(ops.softplus(big).value))
    np.testing.assert_allclose(ops.logsumexp(big).value, 1000.0)
    np.testing.assert_allclose(ops.softmax(big).value, [1, 0, 0])
    assert ops.logsumexp(np.array([-np.inf, -np.inf])).value == -np.inf


def test_einsum_rejects_what_it_does_not_support():
    for subscripts, operands in [("ii->i", [np.ones((2, 2))]), ("...j,j->...", [np.ones((2, 2)), np.ones(2)]),
                                 ("ij,jk->ik", [np.ones((2, 2))])]:
        with pytest.raises(ValueError, match="einsum supports"):
            ops.einsum(subscripts, *operands)


def test_one_hot_split_argmax_values():
    np.testing.assert_array_equal(ops.one_hot(np.array([2, 0, 5]), 3).value, [[0, 0, 1], [1, 0, 0], [0, 0, 0]])
    assert ops.one_hot(np.array([1, 0]), 3, axis=0).shape == (3, 2)
    with pytest.raises(TypeError, match="integer"):
        ops.one_hot(np.array([0.5]), 3)
    assert [p.shape for p in ops.split(np.zeros((6, 2)), 3)] == [(2, 2)] * 3
    np.testing.assert_array_equal(ops.argmin(np.array([[3, 1], [0, 2]]), axis=1).value, [1, 0])


# --- parity with torch.autograd (float64) ------------------------------------------------------
def torch_cases():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    tri = torch.tensor([True, False, True])
    return {
        "add": torch.add, "subtract": torch.sub, "multiply": torch.mul, "divide": torch.div,
        "negative": torch.neg, "power": torch.pow, "power_scalar_exponent": lambda a: a ** 3,
        "matmul": torch.matmul, "matmul_batch_broadcast": torch.matmul, "matmul_vector_matrix": torch.matmul,
        "matmul_matrix_vector": torch.matmul, "matmul_vector_vector": torch.matmul,
        "maximum": torch.maximum, "minimum": torch.minimum, "exp": torch.exp, "log": torch.log,
        "log1p": torch.log1p, "expm1": torch.expm1, "sqrt": torch.sqrt, "square": torch.square, "abs": torch.abs,
        "sign": torch.sign, "sin": torch.sin, "cos": torch.cos, "erf": torch.erf,
        "where": lambda a, b: torch.where(tri, a, b), "clip": lambda x: torch.clamp(x, -0.5, 0.7),
        "cast": lambda x: x.to(torch.float64) * 2,
        "sum": lambda x: x.sum(1), "sum_keepdims": lambda x: x.sum((0, 2), keepdim=True), "mean": lambda x: x.mean(-1),
        "mean_all": torch.mean, "max": lambda x: torch.amax(x, 1), "max_all_keepdims": lambda x: x.amax((0, 1), True),
        "min": lambda x: torch.amin(x, (0, 2)), "var": lambda x: x.var(0, unbiased=False),
        "std": lambda x: x.std(1, unbiased=False, keepdim=True), "prod": lambda x: x.prod(1),
        "prod_all": torch.prod, "cumsum": lambda x: x.cumsum(1), "cumsum_flat": lambda x: x.reshape(-1).cumsum(0),
        "logsumexp": lambda x: x.logsumexp(-1), "logsumexp_keepdims": lambda x: x.logsumexp(0, keepdim=True),
        "einsum_matmul": lambda a, b: torch.einsum("bij,jk->bik", a, b),
        "einsum_private_letter": lambda a, b: torch.einsum("ij,jk", a, b),
        "einsum_three": lambda a, b, c: torch.einsum("ab,bc,cd->ad", a, b, c),
        "einsum_outer_sum": lambda a, b: torch.einsum("ij,k->k", a, b),
        "reshape": lambda x: x.reshape(3, 2), "transpose": lambda x: x.permute(2, 0, 1),
        "expand_dims": lambda x: x.unsqueeze(1), "squeeze": lambda x: x.squeeze(1),
        "concatenate": lambda a, b: torch.cat([a, b, a], 1), "stack": lambda a, b: torch.stack([a, b], -1),
        "split": lambda x: torch.cat([p * (i + 1) for i, p in enumerate(torch.split(x, [1, 2, 2], 1))], 1),
        "getitem_basic": lambda x: x[1:, ::2, None], "getitem_repeated": lambda x: x[torch.tensor([0, 2, 0])],
        "take": lambda x: x[:, torch.tensor([[0, 2], [2, 2]])], "take_flat": lambda x: x.reshape(-1)[[5, 0, 5]],
        "take_along_axis": lambda x: torch.take_along_dim(x, torch.tensor([[0, 0], [2, 1]]), 1),
        "tile": lambda x: x.tile(2, 1, 3), "repeat": lambda x: x.repeat_interleave(torch.tensor([1, 0, 2]), 1),
        "repeat_flat": lambda x: x.reshape(-1).repeat_interleave(2), "pad": lambda x: F.pad(x, (2, 1, 1, 0)),
        "tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu,
        "leaky_relu": lambda x: F.leaky_relu(x, 0.2), "elu": lambda x: F.elu(x, 0.7),
        "relu6": lambda x: F.relu6(x * 5), "hard_sigmoid": lambda x: F.hardsigmoid(x * 3),
        "softplus": F.softplus, "silu": F.silu, "gelu": lambda x: F.gelu(x, approximate="tanh"),
        "gelu_exact": F.gelu, "softmax": lambda x: torch.softmax(x, 0), "log_softmax": lambda x: F.log_softmax(x, -1),
    }


# torch's hardsigmoid backward multiplies by 1/6 rounded to float32 (`1.0f / 6.0f`), even in float64
TORCH_GRAD_RTOL = {"hard_sigmoid": 1e-7}


def test_every_case_has_a_torch_twin():
    assert set(torch_cases()) == set(CASES)


@pytest.mark.parametrize("name", CASES)
def test_matches_torch_autograd(name, rng):
    torch = pytest.importorskip("torch")
    fn, shapes, domain = CASES[name]
    values = make_inputs(shapes, domain, rng)
    inputs = [Tensor(v.copy(), requires_grad=True) for v in values]
    out = fn(*inputs)
    projection = rng.normal(size=out.shape)
    out.backward(projection)
    twins = [torch.tensor(v, requires_grad=True) for v in values]
    expected = torch_cases()[name](*twins)
    expected.backward(torch.tensor(projection))
    np.testing.assert_allclose(out.value, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    for tensor, twin in zip(inputs, twins):
        np.testing.assert_allclose(tensor.grad, twin.grad.numpy(), rtol=TORCH_GRAD_RTOL.get(name, 1e-10), atol=1e-12)
