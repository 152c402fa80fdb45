"""corelib.signal.windows (against NumPy's windows and PyTorch), the *_copy functions (values,
contiguous results that share no storage, gradients) and native_layer_norm/native_group_norm/
native_batch_norm (against explicit NumPy formulas and PyTorch, gradients included)."""
from __future__ import annotations

import math

import numpy as np
import pytest

import corelib
from corelib.signal import windows

RNG = np.random.default_rng(3)


def _np(t):
    return t.detach().cpu().numpy()


# ---------------------------------------------------------------------------------------------
# windows
NUMPY_WINDOWS = {"hann": np.hanning, "hamming": np.hamming, "blackman": np.blackman,
                 "bartlett": np.bartlett, "kaiser": lambda m: np.kaiser(m, 12.0)}


@pytest.mark.parametrize("name", list(NUMPY_WINDOWS))
def test_symmetric_windows_against_numpy(device, name):
    for m in (0, 1, 2, 7, 8):
        w = getattr(windows, name)(m, dtype=corelib.float64, device=device)
        assert w.dtype is corelib.float64 and tuple(w.shape) == (m,)
        np.testing.assert_allclose(_np(w), NUMPY_WINDOWS[name](m), atol=1e-12)


def test_window_formulas(device):
    n = np.arange(9)
    w = windows.gaussian(9, std=1.5, dtype=corelib.float64, device=device)
    np.testing.assert_allclose(_np(w), np.exp(-((n - 4) ** 2) / (2 * 1.5 ** 2)), rtol=1e-12)
    w = windows.exponential(9, tau=2.0, dtype=corelib.float64, device=device)
    np.testing.assert_allclose(_np(w), np.exp(-np.abs(n - 4) / 2.0), rtol=1e-12)
    w = windows.cosine(9, dtype=corelib.float64, device=device)
    np.testing.assert_allclose(_np(w), np.sin(np.pi * (n + 0.5) / 9), rtol=1e-12)
    # periodic = the first M points of the symmetric window of M + 1 points
    w = windows.hann(8, sym=False, dtype=corelib.float64, device=device)
    np.testing.assert_allclose(_np(w), np.hanning(9)[:8], atol=1e-12)
    w = windows.general_cosine(8, a=[0.5, 0.3, 0.2], dtype=corelib.float64, device=device)
    z = 2 * np.pi * np.arange(8) / 7
    np.testing.assert_allclose(_np(w), 0.5 - 0.3 * np.cos(z) + 0.2 * np.cos(2 * z), atol=1e-12)
    assert windows.nuttall(5).dtype is corelib.float32


@pytest.mark.parametrize("name,kwargs", [
    ("hamming", {}), ("hann", {}), ("bartlett", {}), ("blackman", {}), ("cosine", {}),
    ("exponential", {"tau": 2.78}), ("gaussian", {"std": 0.7}), ("kaiser", {"beta": 5.5}),
    ("general_cosine", {"a": [0.46, 0.23, 0.31]}), ("general_hamming", {"alpha": 0.6}),
    ("nuttall", {})])
def test_windows_against_torch(torch, name, kwargs):
    for m in (0, 1, 2, 5, 10):
        for sym in (True, False):
            ours = getattr(windows, name)(m, sym=sym, dtype=corelib.float64, **kwargs)
            ref = getattr(torch.signal.windows, name)(m, sym=sym, dtype=torch.float64, **kwargs)
            np.testing.assert_allclose(_np(ours), ref.numpy(), atol=1e-12)


def test_window_errors():
    with pytest.raises(ValueError, match="non-negative"):
        windows.hann(-1)
    with pytest.raises(ValueError, match="float32 or float64"):
        windows.hann(4, dtype=corelib.int64)
    with pytest.raises(ValueError, match="Tau"):
        windows.exponential(4, tau=0)
    with pytest.raises(ValueError, match="Center"):
        windows.exponential(4, center=1.0)
    with pytest.raises(ValueError, match="empty"):
        windows.general_cosine(4, a=[])
    assert windows.hann(4, requires_grad=True).requires_grad


# ---------------------------------------------------------------------------------------------
# *_copy
X = RNG.uniform(-1, 1, size=(2, 3, 4))
COPIES = [
    ("alias_copy", (), lambda a: a),
    ("diagonal_copy", (1, 1, 2), lambda a: np.diagonal(a, 1, 1, 2)),
    ("expand_copy", ((5, 2, 3, 4),), lambda a: np.broadcast_to(a, (5, 2, 3, 4))),
    ("narrow_copy", (2, 1, 2), lambda a: a[:, :, 1:3]),
    ("permute_copy", ((2, 0, 1),), lambda a: a.transpose(2, 0, 1)),
    ("squeeze_copy", (), lambda a: a),
    ("t_copy", (), None),
    ("transpose_copy", (0, 2), lambda a: a.swapaxes(0, 2)),
    ("unfold_copy", (2, 2, 1), lambda a: np.stack([a[..., 0:2], a[..., 1:3], a[..., 2:4]], 2)),
    ("unsqueeze_copy", (1,), lambda a: a[:, None]),
    ("view_copy", ((6, 4),), lambda a: a.reshape(6, 4)),
]


@pytest.mark.parametrize("name,args,ref", COPIES, ids=[c[0] for c in COPIES])
def test_copies(device, name, args, ref):
    x = corelib.tensor(X, device=device)
    if name == "t_copy":
        x, ref = corelib.tensor(X[0], device=device), lambda a: X[0].T
    out = getattr(corelib, name)(x, *args)
    np.testing.assert_allclose(_np(out), ref(X if name != "t_copy" else X[0]))
    assert out.is_contiguous()
    before = _np(x).copy()
    out.fill_(7.0)   # a copy: the input is untouched
    np.testing.assert_array_equal(_np(x), before)


def test_split_and_unbind_copies(device):
    x = corelib.tensor(X, device=device)
    parts = corelib.split_with_sizes_copy(x, [1, 3], dim=2)
    assert [tuple(p.shape) for p in parts] == [(2, 3, 1), (2, 3, 3)]
    np.testing.assert_array_equal(_np(parts[1]), X[:, :, 1:])
    slices = corelib.unbind_copy(x, 1)
    assert isinstance(slices, tuple) and len(slices) == 3
    np.testing.assert_array_equal(_np(slices[2]), X[:, 2])
    assert all(s.is_contiguous() for s in slices)
    assert tuple(corelib.squeeze_copy(corelib.ones(2, 1, 3, 1), (1, 3)).shape) == (2, 3)
    with pytest.raises(TypeError, match="diagonal_copy"):
        corelib.diagonal_copy(X)


def test_copy_gradients(torch):
    w = RNG.uniform(-1, 1, size=(4, 3, 2))
    c = corelib.tensor(X, requires_grad=True)
    t = torch.tensor(X, requires_grad=True)
    (corelib.permute_copy(c, (2, 1, 0)) * corelib.tensor(w)).sum().backward()
    (torch.permute_copy(t, (2, 1, 0)) * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(_np(c.grad), t.grad.numpy())
    c.grad = None
    t.grad = None
    corelib.unfold_copy(c, 2, 3, 1).pow(2).sum().backward()
    torch.unfold_copy(t, 2, 3, 1).pow(2).sum().backward()
    np.testing.assert_allclose(_np(c.grad), t.grad.numpy())


# ---------------------------------------------------------------------------------------------
# native_* norms
def test_native_layer_and_group_norm(device):
    x = RNG.uniform(-2, 2, size=(2, 6, 5))
    w, b = RNG.uniform(size=5), RNG.uniform(size=5)
    out, mean, rstd = corelib.native_layer_norm(corelib.tensor(x, device=device), (5,),
                                                corelib.tensor(w, device=device),
                                                corelib.tensor(b, device=device), 1e-5)
    mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    np.testing.assert_allclose(_np(out), (x - mu) / np.sqrt(var + 1e-5) * w + b, rtol=1e-10)
    np.testing.assert_allclose(_np(mean), mu, rtol=1e-12)
    np.testing.assert_allclose(_np(rstd), 1 / np.sqrt(var + 1e-5), rtol=1e-10)
    cw, cb = RNG.uniform(size=6), RNG.uniform(size=6)
    out, mean, rstd = corelib.native_group_norm(corelib.tensor(x, device=device),
                                                corelib.tensor(cw, device=device),
                                                corelib.tensor(cb, device=device),
                                                2, 6, 5, 3, 1e-5)
    g = x.reshape(2, 3, 10)
    mu, var = g.mean(-1), g.var(-1)
    ref = ((g - mu[..., None]) / np.sqrt(var[..., None] + 1e-5)).reshape(x.shape)
    np.testing.assert_allclose(_np(out), ref * cw[:, None] + cb[:, None], rtol=1e-10)
    assert tuple(mean.shape) == (2, 3) and tuple(rstd.shape) == (2, 3)
    np.testing.assert_allclose(_np(mean), mu, rtol=1e-12)
    with pytest.raises(RuntimeError, match="native_layer_norm"):
        corelib.native_layer_norm(corelib.tensor(x, device=device), (4,), None, None, 1e-5)


def test_native_batch_norm(device):
    x = RNG.uniform(-2, 2, size=(4, 3, 5))
    rm, rv = corelib.zeros(3, dtype=corelib.float64, device=device), \
        corelib.ones(3, dtype=corelib.float64, device=device)
    out, save_mean, save_invstd = corelib.native_batch_norm(
        corelib.tensor(x, device=device), None, None, rm, rv, True, 0.1, 1e-5)
    mu, var = x.mean((0, 2)), x.var((0, 2))
    ref = (x - mu[:, None]) / np.sqrt(var[:, None] + 1e-5)
    np.testing.assert_allclose(_np(out), ref, rtol=1e-10)
    np.testing.assert_allclose(_np(save_mean), mu, rtol=1e-12)
    np.testing.assert_allclose(_np(save_invstd), 1 / np.sqrt(var + 1e-5), rtol=1e-10)
    np.testing.assert_allclose(_np(rm), 0.1 * mu, rtol=1e-12)
    np.testing.assert_allclose(_np(rv), 0.9 + 0.1 * x.var((0, 2), ddof=1), rtol=1e-12)
    out, m2, s2 = corelib._native_batch_norm_legit(
        corelib.tensor(x, device=device), None, None, rm, rv, False, 0.1, 1e-5)
    np.testing.assert_allclose(_np(out), (x - _np(rm)[:, None]) /
                               np.sqrt(_np(rv)[:, None] + 1e-5), rtol=1e-10)
    assert tuple(m2.shape) == (0,) and tuple(s2.shape) == (0,)


def test_native_norm_gradients(torch):
    x = RNG.uniform(-2, 2, size=(2, 4, 3))
    w, b = RNG.uniform(size=4), RNG.uniform(size=4)
    cx, cw, cb = (corelib.tensor(a, requires_grad=True) for a in (x, w, b))
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ours = corelib.native_group_norm(cx, cw, cb, 2, 4, 3, 2, 1e-5)
    ref = torch.native_group_norm(tx, tw, tb, 2, 4, 3, 2, 1e-5)
    sum(o.pow(2).sum() for o in ours).backward()
    sum(o.pow(2).sum() for o in ref).backward()
    for c, t in ((cx, tx), (cw, tw), (cb, tb)):
        np.testing.assert_allclose(_np(c.grad), t.grad.numpy(), rtol=1e-8, atol=1e-10)
    cx.grad = tx.grad = cw.grad = tw.grad = cb.grad = tb.grad = None
    ours = corelib.native_batch_norm(cx, cw, cb, None, None, True, 0.1, 1e-5)[0]
    ref = torch.native_batch_norm(tx, tw, tb, None, None, True, 0.1, 1e-5)[0]
    np.testing.assert_allclose(_np(ours), ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    ours.pow(3).sum().backward()
    ref.pow(3).sum().backward()
    for c, t in ((cx, tx), (cw, tw), (cb, tb)):
        np.testing.assert_allclose(_np(c.grad), t.grad.numpy(), rtol=1e-8, atol=1e-10)
    assert math.isfinite(float(ours.sum().item()))
