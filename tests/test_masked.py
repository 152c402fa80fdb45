"""corelib.masked (PyTorch's torch.masked on strided tensors): values against NumPy with explicit
masking, fully masked slices, dtypes and errors; values and gradients against PyTorch."""
from __future__ import annotations

import math

import numpy as np
import pytest

import corelib
from corelib import masked

RNG = np.random.default_rng(7)
X = RNG.uniform(-2, 2, size=(3, 4, 5))
MASK = RNG.uniform(size=(4, 5)) > 0.4   # broadcast over dim 0
MASK[1] = False                        # a fully masked-out row along the last dim


def _t(a, device, **kw):
    return corelib.tensor(a, device=device, **kw)


def _np(t):
    return t.detach().cpu().numpy()


def _ref_reduce(name, x, mask, dim, keepdim, correction=1):
    """NumPy reference: the masked-in elements of x reduced over dim."""
    m = np.broadcast_to(mask, x.shape)
    axis = tuple(range(x.ndim)) if dim is None else (dim if isinstance(dim, tuple) else (dim,))
    count = m.sum(axis=axis, keepdims=keepdim)
    with np.errstate(all="ignore"):
        if name == "sum":
            return np.where(m, x, 0).sum(axis=axis, keepdims=keepdim)
        if name == "prod":
            return np.where(m, x, 1).prod(axis=axis, keepdims=keepdim)
        if name == "amax":
            return np.where(m, x, -np.inf).max(axis=axis, keepdims=keepdim)
        if name == "amin":
            return np.where(m, x, np.inf).min(axis=axis, keepdims=keepdim)
        if name == "mean":
            return np.where(m, x, 0).sum(axis=axis, keepdims=keepdim) / count
        if name == "logsumexp":
            return np.log(np.where(m, np.exp(x), 0).sum(axis=axis, keepdims=keepdim))
        if name == "norm":
            return np.sqrt((np.where(m, x, 0) ** 2).sum(axis=axis, keepdims=keepdim))
        mean = np.where(m, x, 0).sum(axis=axis, keepdims=True) / m.sum(axis=axis, keepdims=True)
        ss = np.where(m, (x - mean) ** 2, 0).sum(axis=axis, keepdims=keepdim)
        var = ss / np.maximum(count - correction, 0)
        return var if name == "var" else np.sqrt(var)


@pytest.mark.parametrize("name", ["sum", "prod", "amax", "amin", "mean", "logsumexp", "norm",
                                  "var", "std"])
@pytest.mark.parametrize("dim,keepdim", [(None, False), (-1, True), ((0, 2), False)])
def test_reductions_against_numpy(device, name, dim, keepdim):
    x, mask = _t(X, device), _t(MASK, device)
    fn = getattr(masked, name)
    out = fn(x, dim=dim, keepdim=keepdim, mask=mask) if name != "norm" else \
        fn(x, 2.0, dim, keepdim=keepdim, mask=mask)
    ref = _ref_reduce(name, X, MASK, dim, keepdim)
    assert tuple(out.shape) == ref.shape
    np.testing.assert_allclose(_np(out), ref, rtol=1e-10, atol=1e-12)
    # no mask: the ordinary reduction
    plain = fn(x, dim=dim, keepdim=keepdim) if name != "norm" else fn(x, 2.0, dim, keepdim=keepdim)
    ref = _ref_reduce(name, X, np.ones_like(MASK), dim, keepdim)
    np.testing.assert_allclose(_np(plain), ref, rtol=1e-10, atol=1e-12)


def test_fully_masked_slices_and_identities(device):
    x, mask = _t(X, device), _t(MASK, device)
    assert (_np(masked.sum(x, -1, mask=mask))[:, 1] == 0).all()
    assert (_np(masked.prod(x, -1, mask=mask))[:, 1] == 1).all()
    assert (_np(masked.amax(x, -1, mask=mask))[:, 1] == -np.inf).all()
    assert (_np(masked.amin(x, -1, mask=mask))[:, 1] == np.inf).all()
    for fn in (masked.mean, masked.var, masked.std, masked.median):
        assert np.isnan(_np(fn(x, -1, mask=mask))[:, 1]).all(), fn.__name__
    sm = _np(masked.softmax(x, -1, mask=mask))
    assert np.isnan(sm[:, 1]).all()
    row = _np(masked.softmax(x, -1, mask=mask))[:, 0]
    np.testing.assert_allclose(row.sum(-1), 1.0)
    assert (row[:, ~MASK[0]] == 0).all()
    lsm = _np(masked.log_softmax(x, -1, mask=mask))[:, 0]
    assert (lsm[:, ~MASK[0]] == -np.inf).all()
    # norm's identity is +inf for ord=-inf
    assert (_np(masked.norm(x, -math.inf, -1, mask=mask))[:, 1] == np.inf).all()


def test_normalizations_cumulative_median_and_args(device):
    x, mask = _t(X, device), _t(MASK, device)
    m = np.broadcast_to(MASK, X.shape)
    np.testing.assert_allclose(_np(masked.cumsum(x, 2, mask=mask)),
                               np.cumsum(np.where(m, X, 0), 2), rtol=1e-12)
    np.testing.assert_allclose(_np(masked.cumprod(x, 2, mask=mask)),
                               np.cumprod(np.where(m, X, 1), 2), rtol=1e-12)
    nrm = np.sqrt((np.where(m, X, 0) ** 2).sum(1, keepdims=True))
    np.testing.assert_allclose(_np(masked.normalize(x, 2.0, 1, mask=mask)),
                               np.where(m, X, 0) / np.maximum(nrm, 1e-12), rtol=1e-12)
    med = _np(masked.median(x, 1, mask=mask))
    for i in range(3):
        for k in range(5):
            vals = np.sort(X[i, MASK[:, k], k])
            expect = vals[(len(vals) - 1) // 2] if len(vals) else np.nan
            np.testing.assert_allclose(med[i, k], expect)
    am = masked.argmax(x, -1, mask=mask)
    assert am.dtype is corelib.float64   # PyTorch: the input's dtype unless dtype= is given
    ref = np.where(m, X, -np.inf).argmax(-1)
    assert (_np(am)[:, [0, 2, 3]] == ref[:, [0, 2, 3]]).all()
    assert masked.argmin(x, -1, mask=mask, dtype=corelib.int64).dtype is corelib.int64
    a, b = _t(X[0], device), _t(X[1], device)
    ma = RNG.uniform(size=(4, 5)) > 0.5
    out = masked.logaddexp(a, b, input_mask=_t(ma, device), other_mask=_t(~ma, device))
    np.testing.assert_allclose(_np(out), np.where(ma, X[0], X[1]), rtol=1e-12)


def test_dtypes(device):
    i = _t(np.arange(12, dtype=np.int32).reshape(3, 4), device)
    mask = _t(np.arange(12).reshape(3, 4) % 3 != 0, device)
    s = masked.sum(i, 1, mask=mask)
    assert s.dtype is corelib.int64 and s.tolist() == [3, 16, 29]
    assert masked.amax(i, 1, mask=mask).tolist() == [2, 7, 11]
    assert masked.amin(i, mask=mask).item() == 1
    v = masked.var(i, 1, mask=mask)
    assert v.dtype is corelib.float32
    f = _t(X, device, dtype=corelib.float32)
    assert masked.sum(f, dtype=corelib.float64).dtype is corelib.float64
    assert masked.softmax(f, 0, dtype=corelib.float64).dtype is corelib.float64


def test_errors(device):
    x = _t(X, device)
    with pytest.raises(IndexError):
        masked.sum(x, mask=_t(np.ones((1, 3, 4, 5), bool), device))
    with pytest.raises(RuntimeError, match="multiple times"):
        masked.sum(x, (1, 1))
    with pytest.raises(IndexError, match="out of range"):
        masked.amax(x, 3)
    with pytest.raises(ValueError, match="mean"):
        masked.mean(_t([1, 2, 3], device))
    with pytest.raises(TypeError, match="masked.sum"):
        masked.sum([1.0, 2.0])


CASES = {
    "sum": lambda m, x, mask: m.sum(x, 1, mask=mask),
    "prod": lambda m, x, mask: m.prod(x, (0, 1), keepdim=True, mask=mask),
    "amax": lambda m, x, mask: m.amax(x, 1, mask=mask),
    "amin": lambda m, x, mask: m.amin(x, None, mask=mask),
    "mean": lambda m, x, mask: m.mean(x, -1, mask=mask),
    "logsumexp": lambda m, x, mask: m.logsumexp(x, -1, mask=mask),
    "norm1": lambda m, x, mask: m.norm(x, 1, -1, mask=mask),
    "norm2": lambda m, x, mask: m.norm(x, 2.0, 1, keepdim=True, mask=mask),
    "norm_inf": lambda m, x, mask: m.norm(x, math.inf, 1, mask=mask),
    "var": lambda m, x, mask: m.var(x, -1, correction=0, mask=mask),
    "std": lambda m, x, mask: m.std(x, 1, unbiased=True, keepdim=True, mask=mask),
    "median": lambda m, x, mask: m.median(x, 1, mask=mask),
    "cumsum": lambda m, x, mask: m.cumsum(x, -1, mask=mask),
    "cumprod": lambda m, x, mask: m.cumprod(x, 1, mask=mask),
    "softmax": lambda m, x, mask: m.softmax(x, -1, mask=mask),
    "log_softmax": lambda m, x, mask: m.log_softmax(x, 1, mask=mask),
    "softmin": lambda m, x, mask: m.softmin(x, -1, mask=mask),
    "normalize": lambda m, x, mask: m.normalize(x, 2.0, -1, mask=mask),
}


@pytest.mark.parametrize("case", list(CASES))
def test_values_and_gradients_against_torch(torch, case):
    """Including the fully masked row: masked-out elements get zero gradient, as PyTorch."""
    x = X[0]
    mask = MASK.copy()
    cx = corelib.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    out = CASES[case](masked, cx, corelib.tensor(mask))
    ref = CASES[case](torch.masked, tx, torch.tensor(mask))
    np.testing.assert_allclose(_np(out), ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    w = RNG.uniform(-1, 1, size=tuple(ref.shape))
    finite = np.isfinite(ref.detach().numpy())
    (corelib.where(corelib.tensor(finite), out, 0.0) * corelib.tensor(w)).sum().backward()
    (torch.where(torch.tensor(finite), ref, 0.0) * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(_np(cx.grad), tx.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_logaddexp_gradients_against_torch(torch):
    ma, mb = MASK, RNG.uniform(size=(4, 5)) > 0.5
    ca = corelib.tensor(X[0], requires_grad=True)
    cb = corelib.tensor(X[1], requires_grad=True)
    ta, tb = torch.tensor(X[0], requires_grad=True), torch.tensor(X[1], requires_grad=True)
    out = masked.logaddexp(ca, cb, input_mask=corelib.tensor(ma), other_mask=corelib.tensor(mb))
    ref = torch.masked.logaddexp(ta, tb, input_mask=torch.tensor(ma), other_mask=torch.tensor(mb))
    np.testing.assert_allclose(_np(out), ref.detach().numpy(), rtol=1e-12)
    out.sum().backward()
    ref.sum().backward()
    np.testing.assert_allclose(_np(ca.grad), ta.grad.numpy(), rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(_np(cb.grad), tb.grad.numpy(), rtol=1e-12, equal_nan=True)


def test_namespaces_and_docstrings():
    import inspect

    from corelib import _copies, _native_norms
    from corelib.signal import windows
    assert corelib.masked is masked and corelib.signal.windows is windows
    for module in (masked, windows, _copies, _native_norms):
        assert set(module.__all__) <= set(dir(module))
        for name in module.__all__:
            doc = inspect.cleandoc(getattr(module, name).__doc__ or "")
            first, _, rest = doc.partition("\n\n")
            assert first.startswith(f"{name}(") and rest.strip(), (module.__name__, name)
    assert set(_copies.__all__) | set(_native_norms.__all__) <= set(dir(corelib))
