"""Tests added for the survivors of the kernel mutation probe (scripts/mutation_probe.py,
docs/MUTATION.md): each one catches a small wrong change to a kernel that the rest of the suite
let through, named in its comment. Expected values are analytic, built with NumPy, or PyTorch's
(via the ``torch`` fixture). The last test checks that the probe's snippets still occur exactly
once in the kernel sources (so the probe keeps probing the code that is there)."""
import importlib.util
import math
import os
import sys

import numpy as np
import pytest

import corelib
import corelib.nn.functional as F

INF, NAN = math.inf, math.nan
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _np(t):
    return t.detach().cpu().numpy()


def _t(a, device, **kw):
    return corelib.tensor(np.asarray(a), device=device, **kw)


# ---------------------------------------------------------------------------------------------
# elementwise
def test_relu_large_contiguous_input(device):
    """relu-large-path-minimum: the >= 4096-element contiguous float path."""
    x = np.random.default_rng(0).standard_normal(5000).astype(np.float32)
    np.testing.assert_array_equal(_np(F.relu(_t(x, device))), np.maximum(x, 0))


@pytest.mark.parametrize("fn", ["erf", "erfc"])
def test_erf_erfc_nan_and_infinities(device, fn):
    """erf-inf-unclamped: erf(+-inf) = +-1, erfc(+-inf) = 0 / 2, NaN stays NaN."""
    xs = [NAN, 2.0, -3.0, 0.3, INF, -INF, NAN]
    got = _np(getattr(corelib, fn)(_t(xs, device, dtype=corelib.float64)))
    ref = [NAN if math.isnan(v) else getattr(math, fn)(v) for v in xs]
    np.testing.assert_allclose(got, ref, rtol=1e-13, atol=0)


def test_histc_ignores_values_outside_the_range(device):
    """histc-out-of-range-clamped: values outside [min, max] are not counted."""
    x = _t([-5.0, 0.5, 1.5, 2.0, 10.0, NAN], device)
    np.testing.assert_array_equal(_np(corelib.histc(x, bins=2, min=0, max=2)), [1.0, 2.0])


# ---------------------------------------------------------------------------------------------
# factories
def test_linspace_integer_dtype_truncates_toward_zero(device, torch):
    """linspace-int-floor: integer results truncate (-1.5 -> -1), as PyTorch."""
    for start, end, steps, dt in [(-3, 3, 5, "int32"), (-10, 1, 7, "int64")]:
        got = _np(corelib.linspace(start, end, steps, dtype=getattr(corelib, dt), device=device))
        want = torch.linspace(start, end, steps, dtype=getattr(torch, dt)).numpy()
        np.testing.assert_array_equal(got, want)


def test_eye_wide_and_tall(device):
    """eye-square-only: eye(n, m) with m > n has m columns."""
    for n, m in [(2, 3), (3, 2), (1, 4)]:
        np.testing.assert_array_equal(_np(corelib.eye(n, m, device=device)),
                                      np.eye(n, m, dtype=np.float32))


# ---------------------------------------------------------------------------------------------
# random
@pytest.mark.parametrize("replacement", [True, False])
def test_multinomial_unnormalised_weights(device, replacement):
    """multinomial-unnormalised: weights summing to 10 are drawn in proportion 1 : 2 : 7."""
    weights = np.array([1.0, 2.0, 7.0])
    p = weights / weights.sum()
    corelib.manual_seed(11)
    if replacement:
        draws = _np(corelib.multinomial(_t(weights, device), 20_000, True))
    else:
        draws = _np(corelib.multinomial(_t(np.tile(weights, (20_000, 1)), device), 1)).ravel()
    counts = np.bincount(draws, minlength=3)
    expected = p * counts.sum()
    assert ((counts - expected) ** 2 / expected).sum() < 13.8   # 2 dof: P(chi2 > 13.8) ~ 0.001


# ---------------------------------------------------------------------------------------------
# linalg
def _orthogonal(rng, n):
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def test_pinv_hermitian_indefinite(device):
    """pinv-hermitian-signed: negative eigenvalues are inverted too (|w| decides the cutoff)."""
    q = _orthogonal(np.random.default_rng(7), 4)
    w = np.array([3.0, -2.0, 0.5, 0.0])
    a = (q * w) @ q.T
    expected = (q * np.array([1 / 3.0, -0.5, 2.0, 0.0])) @ q.T
    got = _np(corelib.linalg.pinv(_t(a, device), hermitian=True))
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)


@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh_reads_only_the_named_triangle(device, uplo):
    """eigh-uplo-ignored / eigvalsh-uplo-ignored: a non-symmetric input, one triangle used."""
    a = np.array([[2.0, 1.0, -3.0], [0.5, 1.0, 4.0], [7.0, -1.0, 3.0]])
    tri = np.tril(a) if uplo == "L" else np.triu(a)
    sym = tri + tri.T - np.diag(np.diag(a))
    w_ref = np.linalg.eigvalsh(sym)
    w, v = corelib.linalg.eigh(_t(a, device), UPLO=uplo)
    np.testing.assert_allclose(_np(w), w_ref, rtol=1e-12, atol=1e-12)
    vv = _np(v)
    np.testing.assert_allclose(sym @ vv, vv * _np(w), rtol=0, atol=1e-10)
    np.testing.assert_allclose(_np(corelib.linalg.eigvalsh(_t(a, device), UPLO=uplo)), w_ref,
                               rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# nn: convolution
@pytest.mark.parametrize("stride", [2, (1, 3)])
def test_conv2d_1x1_strided_matches_torch(device, torch, stride):
    """pointwise-ignores-stride: a 1x1 kernel with stride > 1 is not a plain GEMM."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 5, 7))
    w = rng.standard_normal((4, 3, 1, 1))
    b = rng.standard_normal(4)
    xt = _t(x, device, requires_grad=True)
    wt = _t(w, device, requires_grad=True)
    got = F.conv2d(xt, wt, _t(b, device), stride=stride)
    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(w, requires_grad=True)
    want = torch.nn.functional.conv2d(tx, tw, torch.tensor(b), stride=stride)
    np.testing.assert_allclose(_np(got), want.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(tuple(want.shape))
    got.backward(_t(g, device))
    want.backward(torch.tensor(g))
    np.testing.assert_allclose(_np(xt.grad), tx.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_np(wt.grad), tw.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_conv2d_weight_gradient_over_batch_chunks(device, torch, cpu_conv_path):
    """conv-bwd-weight-last-chunk (direct-conv-weight-last-chunk): a batch large enough to be
    processed in several chunks (6 images of 8x32x32, float64) sums the weight gradient over
    every chunk, on the columns path and in the compiled direct kernel."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((6, 8, 32, 32))
    w = rng.standard_normal((4, 8, 3, 3))
    g = rng.standard_normal((6, 4, 32, 32))
    wt = _t(w, device, requires_grad=True)
    F.conv2d(_t(x, device), wt, padding=1).backward(_t(g, device))
    tw = torch.tensor(w, requires_grad=True)
    torch.nn.functional.conv2d(torch.tensor(x), tw, padding=1).backward(torch.tensor(g))
    np.testing.assert_allclose(_np(wt.grad), tw.grad.numpy(), rtol=1e-10, atol=1e-9)


def test_batch_norm_training_with_variance_below_eps(device):
    """batch-norm-eps-dropped: channels whose batch variance (1e-6) is below eps (1e-5), in
    training, are scaled by 1 / sqrt(var + eps), so they shrink instead of reaching unit
    variance."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((8, 3, 4, 4)) * 1e-3
    got = F.batch_norm(_t(x, device), None, None, training=True, eps=1e-5)
    mean = x.mean((0, 2, 3), keepdims=True)
    want = (x - mean) / np.sqrt(x.var((0, 2, 3), keepdims=True) + 1e-5)
    np.testing.assert_allclose(_np(got), want, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# nn: pooling
@pytest.mark.parametrize("pool", ["max_pool1d", "avg_pool1d"])
def test_pool_ceil_mode_drops_a_window_starting_in_the_padding(device, torch, pool):
    """pool-ceil-window-in-pad: length 5, kernel 2, stride 2, padding 1, ceil_mode: the 4th
    window would start in the right padding, so there are 3 (PyTorch's rule)."""
    x = np.arange(1.0, 6.0).reshape(1, 1, 5)
    got = getattr(F, pool)(_t(x, device), 2, 2, 1, ceil_mode=True)
    want = getattr(torch.nn.functional, pool)(torch.tensor(x), 2, 2, 1, ceil_mode=True)
    assert tuple(got.shape) == tuple(want.shape) == (1, 1, 3)
    np.testing.assert_allclose(_np(got), want.numpy(), rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# nn: softmax, normalization
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_of_large_logits(device, dtype):
    """softmax-no-max-shift: logits of 1000 overflow exp() unless the max is subtracted."""
    x = np.array([[1000.0, 1001.0, 1002.0], [-1000.0, 0.0, 1000.0]])
    e = np.exp(x - x.max(1, keepdims=True))
    want = e / e.sum(1, keepdims=True)
    xt = _t(x, device, dtype=getattr(corelib, dtype))
    np.testing.assert_allclose(_np(F.softmax(xt, 1)), want, rtol=1e-6, atol=1e-30)
    np.testing.assert_allclose(_np(F.softmin(-xt, 1)), want, rtol=1e-6, atol=1e-30)


# ---------------------------------------------------------------------------------------------
# nn: losses, embedding
def test_one_hot_class_equal_to_num_classes_raises(device, torch):
    """one-hot-bound: a class value of exactly num_classes is out of range."""
    if corelib.device(device).type == "cuda":
        pytest.skip("the CUDA kernel checks no class range (no host sync; PyTorch's CUDA "
                    "one_hot relies on a device assert)")
    with pytest.raises(RuntimeError):
        torch.nn.functional.one_hot(torch.tensor([0, 3]), 3)
    with pytest.raises(RuntimeError, match="smaller than num_classes"):
        F.one_hot(_t([0, 3], device), 3)
    np.testing.assert_array_equal(_np(F.one_hot(_t([0, 2], device), 3)),
                                  [[1, 0, 0], [0, 0, 1]])


@pytest.mark.parametrize("norm_type", [1.0, 3.0])
def test_embedding_max_norm_with_norm_type(device, torch, norm_type):
    """embedding-renorm-norm-type / -short-rows: max_norm is measured in the norm_type norm;
    rows already shorter (row 1) are left alone."""
    w = np.array([[3.0, -4.0, 0.0], [0.1, 0.2, 0.2], [1.0, 1.0, -1.0], [2.0, 0.0, 0.0]])
    idx = [[0, 2], [2, 1]]
    wt = _t(w, device)
    got = F.embedding(_t(idx, device), wt, max_norm=1.5, norm_type=norm_type)
    tw = torch.tensor(w)
    want = torch.nn.functional.embedding(torch.tensor(idx), tw, max_norm=1.5,
                                         norm_type=norm_type)
    np.testing.assert_allclose(_np(got), want.numpy(), rtol=1e-6)
    np.testing.assert_allclose(_np(wt), tw.numpy(), rtol=1e-6)   # rows renormed in place


# ---------------------------------------------------------------------------------------------
# the probe's mutation list matches the sources
def _probe():
    path = os.path.join(ROOT, "scripts", "mutation_probe.py")
    spec = importlib.util.spec_from_file_location("mutation_probe", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("mutation_probe", module)   # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_mutation_probe_snippets_occur_once():
    probe = _probe()
    assert len(probe.MUTATIONS) >= 50
    assert probe.check_snippets() == []
