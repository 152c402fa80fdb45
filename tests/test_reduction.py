"""Reductions and selections: result types, tie-breaking gradients, errors (vs PyTorch)."""
import math

import numpy as np
import pytest

import corelib


def _t(torch, x):
    return torch.tensor(x.detach().numpy(), requires_grad=x.requires_grad)


def _grads(torch, fn, data):
    x = corelib.tensor(data, dtype=corelib.float64, requires_grad=True)
    tx = torch.tensor(data, dtype=torch.float64, requires_grad=True)
    fn(corelib, x).backward()
    fn(torch, tx).backward()
    return x.grad.numpy(), tx.grad.numpy()


def _vnorm(m):
    """linalg.vector_norm (corelib.linalg re-exports corelib.vector_norm)."""
    return getattr(m.linalg, "vector_norm", None) or m.vector_norm


def test_named_tuple_results():
    x = corelib.tensor([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]])
    v, i = x.max(1)
    r = corelib.max(x, 1)
    assert np.array_equal(r.values.numpy(), v.numpy()) and np.array_equal(r.indices.numpy(),
                                                                           i.numpy())
    assert v.tolist() == [5.0, 6.0] and i.tolist() == [1, 2]
    assert type(r).__name__ == "max" and isinstance(r, tuple)
    mm = corelib.aminmax(x)
    assert float(mm.min) == 1.0 and float(mm.max) == 6.0
    assert corelib.sort(x, descending=True).values[0].tolist() == [5.0, 3.0, 1.0]


@pytest.mark.parametrize("fn", [
    lambda m, x: m.amax(x, 1).sum(), lambda m, x: x.max() * 2, lambda m, x: m.amin(x),
    lambda m, x: x.max(1)[0].sum(), lambda m, x: m.median(x),
    lambda m, x: _vnorm(m)(x, math.inf),
])
def test_tie_gradients_match_torch(torch, fn):
    data = [[1.0, 3.0, 3.0], [2.0, 2.0, 0.5]]
    g, tg = _grads(torch, fn, data)
    np.testing.assert_allclose(g, tg)


@pytest.mark.parametrize("data", [[[2.0, 0.0, 3.0], [0.0, 0.0, 5.0]], [[1.0, 2.0, 0.0]]])
def test_prod_and_cumprod_gradients_with_zeros(torch, data):
    for fn in (lambda m, x: x.prod(), lambda m, x: (x.prod(1) * 3).sum(),
               lambda m, x: (m.cumprod(x, 1) * m.tensor([1.0, -2.0, 3.0], dtype=x.dtype)).sum()):
        g, tg = _grads(torch, fn, data)
        np.testing.assert_allclose(g, tg)


def test_norm_gradient_at_zero_is_zero(torch):
    for fn in (lambda m, x: _vnorm(m)(x), lambda m, x: x.norm(3),
               lambda m, x: m.std(x)):
        g, tg = _grads(torch, fn, [0.0, 0.0, 0.0])
        np.testing.assert_allclose(g, tg)
        assert np.all(g == 0)


def test_logsumexp_is_stable():
    x = corelib.tensor([1000.0, 1000.0, -1000.0], dtype=corelib.float64, requires_grad=True)
    y = corelib.logsumexp(x, 0)
    assert abs(float(y) - (1000 + math.log(2))) < 1e-9
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.5, 0.5, 0.0])


def test_var_legacy_unbiased_and_correction():
    x = corelib.tensor([[1.0, 2.0, 4.0], [3.0, 3.0, 9.0]], dtype=corelib.float64)
    a = x.numpy()
    np.testing.assert_allclose(x.var(1, unbiased=False).numpy(), a.var(1))
    np.testing.assert_allclose(corelib.var(x, False).numpy(), a.var())
    np.testing.assert_allclose(x.std(correction=2).numpy(), a.std(ddof=2))
    v, m = corelib.std_mean(x, 0)
    np.testing.assert_allclose(v.numpy(), a.std(0, ddof=1))
    np.testing.assert_allclose(m.numpy(), a.mean(0))


def test_empty_and_scalar_edge_cases():
    e = corelib.empty(0, 3)
    assert corelib.cummax(e, 0).values.shape == (0, 3)
    assert corelib.sort(e, 0).indices.shape == (0, 3)
    assert math.isnan(float(corelib.median(e)))
    s = corelib.tensor(2.5)
    v, i = s.max(0)
    assert v.shape == () and int(i) == 0
    assert corelib.cumsum(s, 0).shape == ()


def test_errors_match_torch_types():
    e = corelib.empty(0, 3)
    with pytest.raises(IndexError, match="max"):
        e.max(0)
    with pytest.raises(RuntimeError, match="max"):
        e.max()
    with pytest.raises(RuntimeError, match="topk"):
        corelib.ones(3).topk(4)
    with pytest.raises(RuntimeError, match="mean"):
        corelib.tensor([1, 2]).mean()
    with pytest.raises(RuntimeError, match="std and var"):
        corelib.tensor([1, 2]).var()
    with pytest.raises(IndexError):
        corelib.ones(2, 3).sum(2)
    with pytest.raises(RuntimeError, match="bincount"):
        corelib.bincount(corelib.tensor([1, -1]))
    with pytest.raises(TypeError, match="prod"):
        corelib.ones(2, 3).prod((0, 1))


def test_selection_gradients_scatter_by_index(torch):
    data = [[0.3, -1.2, 2.5, 0.7], [1.1, 0.2, -0.4, 3.3]]
    for fn in (lambda m, x: (m.sort(x, 1)[0] * m.arange(4.0, dtype=x.dtype)).sum(),
               lambda m, x: (m.topk(x, 2)[0] ** 2).sum(),
               lambda m, x: m.kthvalue(x, 2, 0)[0].sum(),
               lambda m, x: (m.cummax(x, 1)[0] * m.arange(4.0, dtype=x.dtype)).sum(),
               lambda m, x: m.median(x, 1).values.sum(),
               lambda m, x: m.logcumsumexp(x, 1).sum()):
        g, tg = _grads(torch, fn, data)
        np.testing.assert_allclose(g, tg, rtol=1e-10, atol=1e-12)


def test_unique_inverse_reconstructs_input():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 5, size=(4, 6))
    values, inverse, counts = corelib.unique(corelib.tensor(a), return_inverse=True,
                                             return_counts=True)
    assert np.array_equal(values.numpy()[inverse.numpy()], a)
    assert counts.numpy().sum() == a.size
    rows = corelib.unique(corelib.tensor(np.repeat(a[:2], 2, axis=0)), dim=0)
    assert rows.shape[0] == len({tuple(r) for r in a[:2]})


def test_logcumsumexp_and_renorm_gradients_match_finite_differences():
    """logcumsumexp's gradient stays accurate in float32 when the line spans a wide range
    (PyTorch's log-space formula); renorm is differentiated through the norm, as PyTorch."""
    rng = np.random.default_rng(3)
    x_np = rng.uniform(-9, 9, (5, 6))
    w_np = rng.standard_normal((5, 6))
    for dim in (0, 1):
        x = corelib.tensor(x_np.astype(np.float32), requires_grad=True)
        (corelib.logcumsumexp(x, dim) * corelib.tensor(w_np.astype(np.float32))).sum().backward()
        # exact gradient: d/dx_i sum_j w_j lse(x_0..x_j) = sum_{j>=i} w_j exp(x_i - lse_j)
        xm = np.moveaxis(x_np, dim, 0)
        wm = np.moveaxis(w_np, dim, 0)
        lse = np.logaddexp.accumulate(xm, axis=0)
        exact = np.stack([(wm[i:] * np.exp(xm[i] - lse[i:])).sum(0) for i in range(len(xm))])
        np.testing.assert_allclose(x.grad.numpy(), np.moveaxis(exact, 0, dim), rtol=1e-4,
                                   atol=1e-5)
    x_np = rng.standard_normal((3, 4, 2))
    x = corelib.tensor(x_np, requires_grad=True)
    wr = rng.standard_normal((3, 4, 2))
    f = lambda a: (corelib.renorm(a, 2, 1, 0.5) * corelib.tensor(wr)).sum()
    f(x).backward()
    eps, fd = 1e-6, np.zeros_like(x_np)
    for idx in np.ndindex(*x_np.shape):
        d = np.zeros_like(x_np)
        d[idx] = eps
        fd[idx] = (f(corelib.tensor(x_np + d)).item() - f(corelib.tensor(x_np - d)).item()) / (2 * eps)
    np.testing.assert_allclose(x.grad.numpy(), fd, rtol=1e-6, atol=1e-8)
