"""Conformance kit: the autograd engine on the device under test. Every tensor is made on the
device; expected values are analytic. Gradients must land on their input's device.

``device`` comes from ``--corelib-device`` (pytest_plugin) or from a host's conftest.
"""
import numpy as np
import pytest

import corelib
from corelib.autograd import Function
from corelib.testing import assert_close
from corelib.testing.pytest_plugin import generate_tests

__all__ = ["test_backward_accumulates_on_device", "test_broadcast_gradients_reduced",
           "test_retain_graph_and_freed_graph", "test_grad_and_second_derivative",
           "test_no_grad_and_detach", "test_inplace_on_view_gradient",
           "test_modified_saved_tensor_detected", "test_custom_function_on_device",
           "test_tensor_hook_changes_gradient", "test_matmul_chain_gradients",
           "test_non_leaf_retain_grad_and_reused_input"]

pytest_generate_tests = generate_tests   # device: --corelib-device (a host's conftest: its own)


def leaf(values, device, dtype=corelib.float32):
    return corelib.tensor(values, dtype=dtype, device=device, requires_grad=True)


def check_grad(t, expected):
    assert t.grad is not None, "gradient missing"
    assert t.grad.device == t.device, f"gradient on {t.grad.device}, its leaf on {t.device}"
    assert t.grad.dtype == t.dtype and t.grad.shape == t.shape
    assert_close(t.grad, np.asarray(expected, dtype=np.float64), rtol=1e-5, atol=1e-6)


def test_backward_accumulates_on_device(device):
    x = leaf([1.0, 2.0, 3.0], device)
    (x * x).sum().backward()
    check_grad(x, [2.0, 4.0, 6.0])
    (x * 3).sum().backward()
    check_grad(x, [5.0, 7.0, 9.0])


def test_broadcast_gradients_reduced(device):
    x = leaf([[1.0, 2.0, 3.0]], device)          # (1, 3) against (2, 1)
    y = leaf([[2.0], [5.0]], device)
    (x * y + x).sum().backward()
    check_grad(x, [[9.0, 9.0, 9.0]])
    check_grad(y, [[6.0], [6.0]])


def test_retain_graph_and_freed_graph(device):
    x = leaf([1.0, 2.0], device)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    check_grad(x, 2 * np.exp([1.0, 2.0]) * (1 + np.array([1.0, 2.0])))
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_grad_and_second_derivative(device):
    x = leaf([0.3, 1.2], device)
    (g,) = corelib.autograd.grad((x * x * x).sum(), x, create_graph=True)
    assert g.requires_grad and g.device == x.device and x.grad is None
    assert_close(g, 3 * np.array([0.3, 1.2]) ** 2, rtol=1e-5, atol=1e-6)
    (gg,) = corelib.autograd.grad(g.sum(), x)
    assert_close(gg, 6 * np.array([0.3, 1.2]), rtol=1e-5, atol=1e-6)


def test_no_grad_and_detach(device):
    x = leaf([1.0, -2.0], device)
    with corelib.no_grad():
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None
    d = x.detach()
    assert not d.requires_grad and d.device == x.device
    z = (x * d).sum()          # d is a constant: dz/dx = d
    z.backward()
    check_grad(x, [1.0, -2.0])


def test_inplace_on_view_gradient(device):
    x = leaf([1.0, 2.0, 3.0], device)
    y = x.clone()
    y[1:].mul_(3.0)            # in place through a view of a non-leaf
    (y * y).sum().backward()
    check_grad(x, [2.0, 36.0, 54.0])


def test_modified_saved_tensor_detected(device):
    x = leaf([1.0, 2.0], device)
    y = x.exp()
    z = y * y                  # saves y
    y.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


class _Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x * x


def test_custom_function_on_device(device):
    x = leaf([0.5, -1.5], device)
    y = _Cube.apply(x)
    assert y.device == x.device
    y.sum().backward()
    check_grad(x, 3 * np.array([0.5, -1.5]) ** 2)


def test_tensor_hook_changes_gradient(device):
    x = leaf([1.0, 2.0], device)
    h = x * 2
    h.register_hook(lambda g: g * 10)
    h.sum().backward()
    check_grad(x, [20.0, 20.0])


def test_matmul_chain_gradients(device):
    rng = np.random.default_rng(0)
    a, w, v = rng.standard_normal((4, 3)), rng.standard_normal((3, 5)), rng.standard_normal(5)
    A, W, V = (leaf(m, device, corelib.float64) for m in (a, w, v))
    ((A @ W).tanh() @ V).sum().backward()
    t = np.tanh(a @ w)
    gh = np.outer(np.ones(4), v) * (1 - t ** 2)       # d/d(A @ W)
    check_grad(A, gh @ w.T)
    check_grad(W, a.T @ gh)
    check_grad(V, t.sum(0))


def test_non_leaf_retain_grad_and_reused_input(device):
    x = leaf([1.0, 2.0], device)
    h = x * x
    h.retain_grad()
    (h * x + h).sum().backward()      # x used twice, h too
    check_grad(h, [2.0, 3.0])
    check_grad(x, 3 * np.array([1.0, 2.0]) ** 2 + 2 * np.array([1.0, 2.0]))
