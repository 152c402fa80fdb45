"""Special values the op table does not sample: NaN, +-inf, ties, empty dims and rank-deficient
matrices. Every expected value is analytic (or built with NumPy from a known decomposition),
following PyTorch's documented semantics, never a reference library's machine-dependent answer.
Each test here catches a small wrong change to the kernel it names."""
import math

import numpy as np
import pytest

import corelib
import corelib.nn.functional as F

INF, NAN = math.inf, math.nan


def _np(t):
    return t.detach().cpu().numpy()


# ---------------------------------------------------------------------------------------------
# xlogy: 0 * log(y) is 0 unless y is NaN, which propagates
def test_xlogy_zero_times_nan_is_nan(device):
    x = corelib.tensor([0.0, 0.0, 0.0, 1.0, 2.0, NAN], dtype=corelib.float64, device=device)
    y = corelib.tensor([NAN, 0.0, 2.0, NAN, math.e, 1.0], dtype=corelib.float64, device=device)
    got = _np(corelib.xlogy(x, y))
    np.testing.assert_array_equal(got, [NAN, 0.0, 0.0, NAN, 2.0, NAN])


# ---------------------------------------------------------------------------------------------
# logsumexp: an all -inf slice is -inf (log of a zero sum), so is an empty one
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_logsumexp_all_neg_inf_slice(device, dtype):
    dt = getattr(corelib, dtype)
    x = corelib.tensor([[-INF, -INF, -INF], [-INF, 0.0, math.log(3.0)], [INF, 0.0, -INF]],
                       dtype=dt, device=device)
    got = _np(corelib.logsumexp(x, 1))
    assert got[0] == -INF
    assert got[1] == pytest.approx(math.log(4.0), rel=1e-6)
    assert got[2] == INF
    got0 = _np(corelib.logsumexp(x, 0, keepdim=True))
    assert got0.shape == (1, 3)
    assert got0[0, 0] == INF and got0[0, 2] == pytest.approx(math.log(3.0), rel=1e-6)
    assert got0[0, 1] == pytest.approx(math.log(2.0), rel=1e-6)


def test_logsumexp_empty_dim_is_neg_inf(device):
    x = corelib.zeros(2, 0, device=device)
    got = _np(corelib.logsumexp(x, 1))
    assert got.shape == (2,)
    np.testing.assert_array_equal(got, [-INF, -INF])
    got = _np(corelib.logsumexp(x, 1, keepdim=True))
    assert got.shape == (2, 1)
    np.testing.assert_array_equal(got, [[-INF], [-INF]])


# ---------------------------------------------------------------------------------------------
# max-pool: of tied maxima the first in the window wins, for the index and the gradient
def test_max_pool2d_ties_take_first(device):
    data = [[1.0, 3.0, 3.0, 0.0],
            [3.0, 2.0, 1.0, 3.0]]
    x = corelib.tensor([[data]], device=device, requires_grad=True)
    v, i = F.max_pool2d(x, 2, return_indices=True)
    np.testing.assert_array_equal(_np(v), [[[[3.0, 3.0]]]])
    # window 0 holds 3 at flat 1 and 4: 1 is first; window 1 holds 3 at flat 2 and 7: 2
    np.testing.assert_array_equal(_np(i), [[[[1, 2]]]])
    v.sum().backward()
    np.testing.assert_array_equal(_np(x.grad), [[[[0.0, 1.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]]]])


def test_max_pool1d_all_equal_window_takes_first(device):
    x = corelib.tensor([[[5.0, 5.0, 5.0, 5.0, 5.0, 5.0]]], device=device, requires_grad=True)
    v, i = F.max_pool1d(x, 3, stride=3, return_indices=True)
    np.testing.assert_array_equal(_np(i), [[[0, 3]]])
    v.sum().backward()
    np.testing.assert_array_equal(_np(x.grad), [[[1.0, 0.0, 0.0, 1.0, 0.0, 0.0]]])


def test_max_pool2d_all_neg_inf_window_points_inside(device):
    """A window of -inf (padding is -inf too) returns its first in-bounds position."""
    x = corelib.tensor([[[[-INF, -INF, 1.0], [-INF, -INF, 2.0]]]], device=device,
                       requires_grad=True)
    v, i = F.max_pool2d(x, 2, stride=2, padding=1, return_indices=True)
    np.testing.assert_array_equal(_np(v), [[[[-INF, 1.0], [-INF, 2.0]]]])
    # windows (rows -1..0 | 1..2) x (cols -1..0 | 1..2) of the 2x3 input, flat = row * 3 + col
    np.testing.assert_array_equal(_np(i), [[[[0, 2], [3, 5]]]])
    v.sum().backward()
    np.testing.assert_array_equal(_np(x.grad), [[[[1.0, 0.0, 1.0], [1.0, 0.0, 1.0]]]])


# ---------------------------------------------------------------------------------------------
# pinv: singular values below rtol * largest are dropped
def _orthogonal(rng, n):
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


@pytest.mark.parametrize("hermitian", [False, True])
def test_pinv_rank_deficient(device, hermitian):
    rng = np.random.default_rng(1234)
    u = _orthogonal(rng, 5)
    v = u if hermitian else _orthogonal(rng, 5)
    s = np.array([4.0, 2.0, 0.5, 0.0, 0.0])
    a = (u * s) @ v.T                                 # rank 3, known SVD
    s_inv = np.array([0.25, 0.5, 2.0, 0.0, 0.0])
    expected = (v * s_inv) @ u.T
    got = _np(corelib.linalg.pinv(corelib.tensor(a, device=device), hermitian=hermitian))
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)


def test_pinv_rank_deficient_rectangular(device):
    rng = np.random.default_rng(99)
    u = _orthogonal(rng, 6)[:, :4]
    v = _orthogonal(rng, 4)
    s = np.array([10.0, 1.0, 0.0, 0.0])
    a = (u * s) @ v.T                                 # 6x4, rank 2
    expected = (v * np.array([0.1, 1.0, 0.0, 0.0])) @ u.T
    got = _np(corelib.linalg.pinv(corelib.tensor(a, device=device)))
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)
    # rtol well above the smallest kept singular value drops it as well
    got = _np(corelib.linalg.pinv(corelib.tensor(a, device=device), rtol=0.5))
    np.testing.assert_allclose(got, (v * np.array([0.1, 0, 0, 0])) @ u.T, rtol=0, atol=1e-10)


# ---------------------------------------------------------------------------------------------
# cummax / cummin: NaN propagates; a later NaN moves the index, a number after NaN does not
def test_cummax_nan_propagates(device):
    x = corelib.tensor([1.0, NAN, 0.0, 5.0, NAN, 2.0], device=device)
    v, i = corelib.cummax(x, 0)
    np.testing.assert_array_equal(_np(v), [1.0, NAN, NAN, NAN, NAN, NAN])
    np.testing.assert_array_equal(_np(i), [0, 1, 1, 1, 4, 4])
    v, i = corelib.cummin(x, 0)
    np.testing.assert_array_equal(_np(v), [1.0, NAN, NAN, NAN, NAN, NAN])
    np.testing.assert_array_equal(_np(i), [0, 1, 1, 1, 4, 4])


def test_cummax_nan_along_dim1(device):
    x = corelib.tensor([[3.0, 1.0, NAN, 7.0], [2.0, 2.0, 8.0, 1.0]], device=device)
    v, i = corelib.cummax(x, 1)
    np.testing.assert_array_equal(_np(v), [[3.0, 3.0, NAN, NAN], [2.0, 2.0, 8.0, 8.0]])
    np.testing.assert_array_equal(_np(i), [[0, 0, 2, 2], [0, 1, 2, 2]])


# ---------------------------------------------------------------------------------------------
# where: the branch not taken gets exactly zero gradient, even where the incoming one is not
# finite (0 * inf would be NaN)
def test_where_gradient_of_branch_not_taken_is_zero(device):
    x = corelib.tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    y = corelib.tensor([4.0, 5.0, 6.0], device=device, requires_grad=True)
    cond = corelib.tensor([True, False, True], device=device)
    corelib.where(cond, x, y).backward(corelib.tensor([INF, NAN, -INF], device=device))
    np.testing.assert_array_equal(_np(x.grad), [INF, 0.0, -INF])
    np.testing.assert_array_equal(_np(y.grad), [0.0, NAN, 0.0])
