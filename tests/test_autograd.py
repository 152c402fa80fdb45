"""Autograd engine: backward/grad semantics, hooks, custom Functions, grad modes, error cases.

References: analytic derivatives, finite differences (gradcheck) and PyTorch where installed.
The engine's basics on every device (accumulation, broadcasting, retain_graph, second
derivatives, views, hooks) are the conformance kit's: corelib.testing.test_kit_autograd, run
here by tests/ops/test_kit_autograd.py.
"""
import threading

import numpy as np
import pytest

import corelib
from corelib.autograd import Function, gradcheck, gradgradcheck


def leaf(values, dtype=corelib.float64):
    return corelib.tensor(values, dtype=dtype, requires_grad=True)


def test_grad_is_owned_not_aliased():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a + b).sum().backward()
    a.grad.add_(10)
    np.testing.assert_allclose(b.grad.numpy(), [1.0, 1.0])


def test_non_scalar_backward_needs_gradient():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar"):
        (x * 2).backward()
    (x * 2).backward(corelib.tensor([1.0, 10.0], dtype=corelib.float64))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 20.0])


def test_autograd_grad_returns_without_accumulating():
    x = leaf([0.5, -1.0])
    y = (x.tanh() * x).sum()
    (g,) = corelib.autograd.grad(y, x)
    expected = np.tanh([0.5, -1.0]) + np.array([0.5, -1.0]) * (1 - np.tanh([0.5, -1.0]) ** 2)
    np.testing.assert_allclose(g.numpy(), expected)
    assert x.grad is None


def test_grad_allow_unused():
    x, unused = leaf([1.0]), leaf([2.0])
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="appears to not have been used"):
        corelib.autograd.grad(y, [x, unused], retain_graph=True)
    gx, gu = corelib.autograd.grad(y, [x, unused], allow_unused=True)
    assert gu is None and gx.item() == 2.0


def test_grad_of_non_leaf_input():
    x = leaf([1.0, 2.0])
    h = x * 3
    y = (h * h).sum()
    (gh,) = corelib.autograd.grad(y, h)
    np.testing.assert_allclose(gh.numpy(), [6.0, 12.0])


def test_backward_create_graph_grad_requires_grad():
    x = leaf([2.0])
    (x ** 3).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    np.testing.assert_allclose(x.grad.detach().numpy(), [12.0])


def test_gradcheck_and_gradgradcheck_catch_wrong_derivatives():
    class WrongExp(Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * y * 1.01      # wrong on purpose

    x = leaf([0.1, 0.7])
    assert gradcheck(lambda t: t.exp() * t.sin(), (x,))
    assert gradgradcheck(lambda t: t.exp() * t.sin(), (x,))
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        gradcheck(WrongExp.apply, (x,))


def test_custom_function_ctx_features():
    class MulConst(Function):
        @staticmethod
        def forward(ctx, x, k, mask):
            ctx.save_for_backward(x)
            ctx.k = k
            out = x * k
            flag = x > 0
            ctx.mark_non_differentiable(flag)
            return out, flag

        @staticmethod
        def backward(ctx, g, g_flag):
            (x,) = ctx.saved_tensors
            assert ctx.needs_input_grad == (True, False, False)
            return g * ctx.k, None, None

    x = leaf([1.0, -2.0])
    out, flag = MulConst.apply(x, 3.0, None)
    assert out.requires_grad and not flag.requires_grad
    assert out.grad_fn.name() == "MulConstBackward"
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])
    assert gradcheck(lambda t: MulConst.apply(t, 3.0, None)[0], (leaf([0.5, 1.5]),))


def test_hooks_on_leaf_and_non_leaf():
    x = leaf([1.0, 2.0])
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().copy()))
    h = x * 2
    handle = h.register_hook(lambda g: g * 10)     # replaces the gradient
    h.sum().backward()
    np.testing.assert_allclose(seen[0], [20.0, 20.0])
    np.testing.assert_allclose(x.grad.numpy(), [20.0, 20.0])
    handle.remove()
    x.grad = None
    (x * 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_retain_grad():
    x = leaf([1.0, 2.0])
    h = x * x
    h.retain_grad()
    (h * 3).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), [3.0, 3.0])
    y = x * x
    (y * 3).sum().backward()
    assert y.grad is None


def test_no_grad_enable_grad_set_grad_enabled_inference_mode():
    x = leaf([1.0])
    with corelib.no_grad():
        assert not (x * 2).requires_grad
        with corelib.enable_grad():
            assert (x * 2).requires_grad
    with corelib.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert corelib.is_grad_enabled()
    with corelib.inference_mode():
        assert not (x * 2).requires_grad
        assert corelib.is_inference_mode_enabled()

    @corelib.no_grad()
    def f(t):
        return t * 2
    assert not f(x).requires_grad
    prev = corelib.set_grad_enabled(False)
    assert not corelib.is_grad_enabled()
    corelib.set_grad_enabled(True)
    assert corelib.is_grad_enabled()


def test_grad_mode_is_thread_local():
    results = []

    def worker():
        results.append(corelib.is_grad_enabled())
    with corelib.no_grad():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
    assert results == [True]


def test_inplace_on_leaf_requiring_grad_raises():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x.add_(1)
    with corelib.no_grad():
        x.add_(1)                            # allowed without grad recording
    np.testing.assert_allclose(x.detach().numpy(), [2.0, 3.0])


def test_modified_saved_tensor_is_detected():
    x = leaf([1.0, 2.0])
    y = x * 2
    z = y * y                                # saves y
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()
    e = x.exp()                              # saves its output
    e.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        e.sum().backward()


def test_inplace_on_non_leaf_rebases_history():
    x = leaf([1.0, 2.0])
    y = x * 2
    y.mul_(x)                                # y = 2x * x
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])


def test_inplace_through_view_reaches_base_history():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    w = leaf([10.0, 20.0])
    y = x.clone()
    y[0] = w * 2                             # write through a view of y
    y[:, 1].mul_(3)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0.0, 0.0], [1.0, 3.0]])
    np.testing.assert_allclose(w.grad.numpy(), [2.0, 6.0])


def test_detach_shares_storage_and_cuts_history():
    x = leaf([1.0, 2.0])
    d = (x * 2).detach()
    assert not d.requires_grad and d.grad_fn is None
    y = x * 1
    dy = y.detach()
    dy.zero_()
    np.testing.assert_allclose(y.detach().numpy(), [0.0, 0.0])


def test_requires_grad_rules():
    with pytest.raises(RuntimeError, match="floating point"):
        corelib.tensor([1, 2]).requires_grad_()
    x = leaf([1.0])
    y = x * 2
    with pytest.raises(RuntimeError, match="leaf variables"):
        y.requires_grad = False
    assert y.is_leaf is False and x.is_leaf is True


def test_deep_graph_of_100k_nodes_is_iterative():
    x = leaf([1.0])
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.sum().backward()
    assert x.grad.item() == 1.0


def test_backward_inputs_argument():
    x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (x * w).sum().backward(inputs=[w])
    assert x.grad is None
    np.testing.assert_allclose(w.grad.numpy(), [1.0, 2.0])


def test_against_torch_composite_gradients(torch):
    rng = np.random.default_rng(0)
    a_np, b_np = rng.standard_normal((3, 4)), rng.standard_normal((4,))
    a, b = leaf(a_np), leaf(b_np)
    ta = torch.tensor(a_np, requires_grad=True)
    tb = torch.tensor(b_np, requires_grad=True)
    out = ((a * b).exp() / (b * b + 1) - a.sigmoid() * a.tanh()).sum()
    tout = ((ta * tb).exp() / (tb * tb + 1) - ta.sigmoid() * ta.tanh()).sum()
    out.backward()
    tout.backward()
    np.testing.assert_allclose(out.item(), tout.item(), rtol=1e-12)
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy(), rtol=1e-10)


def test_leaf_grad_never_aliases_other_buffers():
    """Gradients stored without a copy must not share memory with anything else."""
    x = leaf([1.0, 2.0])
    w = leaf([3.0, 4.0])
    (x * w).sum().backward()
    h = x * 2
    h.retain_grad()
    (h * w).sum().backward()
    grads = [x.grad, w.grad, h.grad]
    arrays = [g.numpy() for g in grads]
    for i in range(len(arrays)):
        for j in range(i + 1, len(arrays)):
            assert not np.shares_memory(arrays[i], arrays[j])
    x.grad.zero_()                                  # writable and owned
    np.testing.assert_allclose(w.grad.numpy(), [1.0 + 2.0, 2.0 + 4.0])
