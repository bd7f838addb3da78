"""`barenet.ops`: Keras's op names over the engine."""

import inspect

import numpy as np
import pytest

from barenet import ops
from barenet.autodiff import Tensor


@pytest.fixture
def arrays(rng):
    return rng.normal(size=(2, 3)), rng.normal(size=(3,))


@pytest.mark.parametrize("name, reference", [
    ("add", np.add), ("subtract", np.subtract), ("multiply", np.multiply), ("divide", np.divide),
    ("true_divide", np.true_divide), ("maximum", np.maximum), ("minimum", np.minimum),
    ("equal", np.equal), ("greater", np.greater), ("less_equal", np.less_equal), ("logical_and", np.logical_and),
])
def test_binary_ops_match_numpy(name, reference, arrays):
    a, b = arrays
    out = getattr(ops, name)(a, b)
    assert isinstance(out, Tensor)
    np.testing.assert_array_equal(ops.convert_to_numpy(out), reference(a, b))


@pytest.mark.parametrize("name, reference", [
    ("exp", np.exp), ("abs", np.abs), ("sign", np.sign), ("square", np.square), ("tanh", np.tanh),
    ("negative", np.negative), ("log1p", lambda v: np.log1p(np.abs(v))), ("sqrt", lambda v: np.sqrt(np.abs(v))),
    ("relu", lambda v: np.maximum(v, 0)), ("sigmoid", lambda v: 1 / (1 + np.exp(-v))),
    ("softplus", lambda v: np.log1p(np.exp(v))), ("silu", lambda v: v / (1 + np.exp(-v))),
    ("swish", lambda v: v / (1 + np.exp(-v))), ("leaky_relu", lambda v: np.where(v > 0, v, 0.2 * v)),
    ("relu6", lambda v: np.clip(v, 0, 6)), ("hard_sigmoid", lambda v: np.clip(v / 6 + 0.5, 0, 1)),
])
def test_unary_ops_match_numpy(name, reference, arrays):
    x = arrays[0] * 4
    x_in = np.abs(x) if name in ("log1p", "sqrt") else x
    np.testing.assert_allclose(getattr(ops, name)(x_in).value, reference(x), rtol=1e-12)


def test_reductions_and_shapes_match_numpy(rng):
    x = rng.normal(size=(2, 3, 4))
    np.testing.assert_allclose(ops.sum(x, axis=1).value, x.sum(axis=1))
    np.testing.assert_allclose(ops.mean(x, axis=(0, 2), keepdims=True).value, x.mean(axis=(0, 2), keepdims=True))
    np.testing.assert_allclose(ops.max(x, axis=-1).value, x.max(axis=-1))
    np.testing.assert_allclose(ops.max(x, initial=10.0).value, 10.0)
    np.testing.assert_allclose(ops.var(x).value, x.var())
    np.testing.assert_allclose(ops.std(x, axis=0).value, x.std(axis=0))
    np.testing.assert_allclose(ops.logsumexp(x, axis=1).value, np.log(np.exp(x).sum(axis=1)))
    np.testing.assert_allclose(ops.softmax(x).value.sum(axis=-1), 1.0)
    np.testing.assert_array_equal(ops.argmax(x, axis=1).value, x.argmax(axis=1))
    np.testing.assert_allclose(ops.norm(x).value, np.linalg.norm(x.ravel()))
    np.testing.assert_allclose(ops.norm(x, ord=1, axis=-1).value, np.linalg.norm(x, ord=1, axis=-1))
    np.testing.assert_allclose(ops.dot(x, rng.normal(size=(5, 4, 2))).shape, (2, 3, 5, 2))
    y = rng.normal(size=(5, 4, 2))
    np.testing.assert_allclose(ops.dot(x, y).value, np.dot(x, y))
    np.testing.assert_allclose(ops.dot(x[0], y[0]).value, np.dot(x[0], y[0]))
    np.testing.assert_allclose(ops.dot(x, y[0, :, 0]).value, np.dot(x, y[0, :, 0]))
    assert ops.reshape(x, (4, -1)).shape == (4, 6)
    assert ops.transpose(x).shape == (4, 3, 2)
    assert ops.expand_dims(x, 0).shape == (1, 2, 3, 4)
    assert ops.squeeze(ops.expand_dims(x, 0), 0).shape == (2, 3, 4)
    assert ops.concatenate([x, x], axis=-1).shape == (2, 3, 8)
    assert ops.stack([x, x, x], axis=1).shape == (2, 3, 3, 4)
    assert [p.shape for p in ops.split(x, [1], axis=2)] == [(2, 3, 1), (2, 3, 3)]
    np.testing.assert_array_equal(ops.take(x, [2, 0], axis=1).value, np.take(x, [2, 0], axis=1))
    np.testing.assert_array_equal(ops.pad(x, ((0, 0), (1, 1), (0, 2))).value, np.pad(x, ((0, 0), (1, 1), (0, 2))))
    np.testing.assert_array_equal(ops.repeat(x, 2, axis=0).value, np.repeat(x, 2, axis=0))
    np.testing.assert_array_equal(ops.tile(x, 2).value, np.tile(x, 2))
    np.testing.assert_array_equal(ops.cumsum(x, axis=2).value, np.cumsum(x, axis=2))
    np.testing.assert_allclose(ops.einsum("ijk,ljm->iklm", x, y[:, :3]).value, np.einsum("ijk,ljm->iklm", x, y[:, :3]))


def test_where_clip_one_hot_and_creation():
    np.testing.assert_array_equal(ops.where([True, False], [1, 2], [3, 4]).value, [1, 4])
    (index,) = ops.where([0, 3, 0, 1])
    np.testing.assert_array_equal(index.value, [1, 3])
    with pytest.raises(ValueError, match="both x1 and x2"):
        ops.where([True], [1])
    np.testing.assert_array_equal(ops.clip([-2.0, 0.5, 3.0], 0, 1).value, [0, 0.5, 1])
    hot = ops.one_hot([1, 3, 0], 4)
    assert hot.dtype == np.float32
    np.testing.assert_array_equal(hot.value, np.eye(4)[[1, 3, 0]])
    assert ops.zeros((2, 3)).dtype == np.float32 and ops.ones(2).value.tolist() == [1, 1]
    assert ops.full((2,), 7, dtype="int32").value.tolist() == [7, 7]
    assert ops.zeros_like(np.ones(3, np.float64)).dtype == np.float64
    assert ops.arange(3).dtype == np.int32 and ops.arange(0, 1, 0.5).value.tolist() == [0, 0.5]
    np.testing.assert_array_equal(ops.eye(2, 3, k=1).value, np.eye(2, 3, k=1))


def test_conversion_and_introspection():
    t = ops.convert_to_tensor([1.5, 2.5])
    assert isinstance(t, Tensor) and t.dtype == np.float32  # Python floats become float32, as in Keras
    assert ops.convert_to_tensor(t) is t
    assert ops.convert_to_tensor(t, dtype="float64").dtype == np.float64
    array = ops.convert_to_numpy(ops.multiply(t, 2))
    assert isinstance(array, np.ndarray) and array.tolist() == [3.0, 5.0]
    assert ops.shape(np.zeros((2, 3))) == (2, 3) and isinstance(ops.shape(t), tuple)
    assert ops.ndim(np.zeros((2, 3))) == 2 and ops.size(np.zeros((2, 3))) == 6
    assert ops.dtype(t) == "float32"
    assert ops.cast(t, "int32").dtype == np.int32


def test_float32_in_float32_out():
    x = np.ones((2, 2), np.float32)
    for out in (ops.add(x, 1.5), ops.multiply(2.0, x), ops.power(x, 2), ops.softmax(x), ops.mean(x),
                ops.gelu(x), ops.clip(x, 0.0, 0.5), ops.where(x > 0, x, 0.0), ops.norm(x)):
        assert out.dtype == np.float32, out


@pytest.mark.parametrize("call", [
    lambda: ops.add("a", 1), lambda: ops.exp("text"), lambda: ops.mean(None), lambda: ops.relu(object()),
    lambda: ops.concatenate([np.ones(2), "b"]), lambda: ops.matmul([[1, 2]], [["x"], ["y"]]),
])
def test_non_numeric_input_is_a_type_error(call):
    with pytest.raises(TypeError, match=r"`ops\.\w+` expects numeric arrays or tensors\. Received: \w+(\[\d\])? of type"):
        call()


def test_error_names_the_op_and_argument():
    with pytest.raises(TypeError, match=r"^`ops\.add` expects numeric arrays or tensors\. Received: x2 of type str$"):
        ops.add(1.0, "b")
    with pytest.raises(TypeError, match=r"`ops\.concatenate`.*xs\[1\] of type str"):
        ops.concatenate([np.ones(2), "b"])


def test_gradients_flow_through_ops():
    w = Tensor(np.array([[1.0, -2.0], [0.5, 3.0]]), requires_grad=True)
    x = np.array([[1.0, 2.0]])
    loss = ops.mean(ops.square(ops.subtract(ops.relu(ops.matmul(x, w)), [[1.0, 1.0]])))
    loss.backward()
    hidden = np.maximum(x @ w.value, 0)
    expected = x.T @ ((hidden - 1) * (hidden > 0))  # d mean((h - 1)^2) / dw with n = 2
    np.testing.assert_allclose(w.grad, expected)


def test_argument_names_follow_keras():
    expected = {
        "add": ["x1", "x2"], "matmul": ["x1", "x2"], "sum": ["x", "axis", "keepdims"],
        "max": ["x", "axis", "keepdims", "initial"], "argmax": ["x", "axis", "keepdims"],
        "clip": ["x", "x_min", "x_max"], "where": ["condition", "x1", "x2"], "reshape": ["x", "newshape"],
        "concatenate": ["xs", "axis"], "stack": ["x", "axis"], "split": ["x", "indices_or_sections", "axis"],
        "take": ["x", "indices", "axis"], "one_hot": ["x", "num_classes", "axis", "dtype", "sparse"],
        "leaky_relu": ["x", "negative_slope"], "elu": ["x", "alpha"], "gelu": ["x", "approximate"],
        "softmax": ["x", "axis"], "pad": ["x", "pad_width", "mode", "constant_values"],
        "cumsum": ["x", "axis", "dtype"], "stop_gradient": ["variable"], "norm": ["x", "ord", "axis", "keepdims"],
        "arange": ["start", "stop", "step", "dtype"], "eye": ["N", "M", "k", "dtype"],
    }
    for name, params in expected.items():
        assert list(inspect.signature(getattr(ops, name)).parameters) == params, name
    assert inspect.signature(ops.leaky_relu).parameters["negative_slope"].default == 0.2
    assert inspect.signature(ops.gelu).parameters["approximate"].default is True


def test_every_public_op_is_symbolic_aware():
    plain = {"convert_to_numpy", "shape", "ndim", "dtype", "size", "zeros", "ones", "full", "arange", "eye"}
    for name in ops.__all__:
        op = getattr(ops, name)
        assert hasattr(op, "raw") == (name not in plain), name
