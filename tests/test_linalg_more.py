"""LU, Householder QR, triangular and Cholesky solves, tensor solves, cond, matrix_exp and
tensor tolerances: against NumPy (reconstruction identities and residuals, never raw pivots or
reflector signs), finite differences (float64), and PyTorch where its convention is the spec."""
import numpy as np
import pytest

import corelib
from corelib.autograd import gradcheck

L = corelib.linalg
rng = np.random.default_rng(11)


@pytest.fixture(autouse=True)
def on_device(device):
    corelib.set_default_device(device)
    yield
    corelib.set_default_device(None)


def T(*shape, requires_grad=False):
    return corelib.tensor(rng.standard_normal(shape), requires_grad=requires_grad)


def well_conditioned(*shape, requires_grad=False):
    n = shape[-1]
    a = rng.standard_normal(shape) + 3 * np.eye(n)
    return corelib.tensor(a, requires_grad=requires_grad)


def N(x):
    return x.detach().cpu().numpy()


# ---------------------------------------------------------------------------------------------
# LU
@pytest.mark.parametrize("shape", [(4, 4), (2, 5, 3), (3, 2, 4), (0, 3), (2, 0, 0)])
def test_lu_reconstructs_and_has_the_right_structure(shape):
    A = T(*shape)
    P, Lo, U = L.lu(A)
    m, n = shape[-2:]
    k = min(m, n)
    assert Lo.shape == shape[:-2] + (m, k) and U.shape == shape[:-2] + (k, n)
    np.testing.assert_allclose(N(P @ Lo @ U), N(A), atol=1e-12)
    assert np.allclose(np.tril(N(Lo)), N(Lo)) and np.allclose(np.triu(N(U)), N(U))
    assert np.allclose(np.diagonal(N(Lo), axis1=-2, axis2=-1), 1)
    p = N(P)
    assert set(np.unique(p)) <= {0.0, 1.0} and np.allclose(p.sum(-1), 1) and np.allclose(p.sum(-2), 1)
    # partial pivoting: |L| <= 1
    assert np.all(np.abs(N(Lo)) <= 1 + 1e-12)
    LU, piv = L.lu_factor(A)
    assert piv.dtype is corelib.int32 and piv.shape == shape[:-2] + (k,)
    P2, L2, U2 = corelib.lu_unpack(LU, piv)
    np.testing.assert_array_equal(N(P2), p)
    np.testing.assert_array_equal(N(L2), N(Lo))


def test_lu_factor_singular_and_info():
    A = corelib.tensor([[1.0, 2, 3], [2, 4, 6], [1, 1, 1]])
    LU, piv, info = L.lu_factor_ex(A)
    assert int(info.item()) == 3
    with pytest.raises(RuntimeError, match=r"U\[3,3\] is zero"):
        L.lu_factor(A)
    with pytest.raises(RuntimeError, match="LU without pivoting is not implemented"):
        L.lu(A, pivot=False)
    LU2, piv2, infos = corelib.lu(A, get_infos=True)
    np.testing.assert_array_equal(N(LU2), N(LU))


@pytest.mark.parametrize("left,adjoint", [(True, False), (True, True), (False, False),
                                          (False, True)])
def test_lu_solve_residuals(left, adjoint):
    A = well_conditioned(2, 4, 4)
    B = T(2, 4, 3) if left else T(2, 3, 4)
    LU, piv = L.lu_factor(A)
    X = L.lu_solve(LU, piv, B, left=left, adjoint=adjoint)
    Aop = N(A).swapaxes(-1, -2) if adjoint else N(A)
    res = Aop @ N(X) if left else N(X) @ Aop
    np.testing.assert_allclose(res, N(B), atol=1e-10)
    if left and not adjoint:
        np.testing.assert_allclose(N(corelib.lu_solve(B, LU, piv)), N(X), atol=1e-12)


@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5)])
def test_lu_gradient_finite_differences(shape):
    A = well_conditioned(*shape, requires_grad=True) if shape[0] == shape[1] else \
        T(*shape, requires_grad=True)
    w = [T(*o.shape) for o in L.lu(A.detach())[1:]]
    assert gradcheck(lambda a: sum((o * wi).sum() for o, wi in zip(L.lu(a)[1:], w)), (A,))
    wlu = T(*shape)
    assert gradcheck(lambda a: (L.lu_factor(a)[0] * wlu).sum(), (A,))


def test_lu_solve_gradient_in_lu_and_b():
    A = well_conditioned(3, 3)
    LU, piv = L.lu_factor(A)
    LU = LU.detach().requires_grad_(True)
    B = T(3, 2, requires_grad=True)
    assert gradcheck(lambda lu, b: L.lu_solve(lu, piv, b, adjoint=True), (LU, B))
    assert gradcheck(lambda lu, b: L.lu_solve(lu, piv, b.mT, left=False), (LU, B))


# ---------------------------------------------------------------------------------------------
# Householder QR
@pytest.mark.parametrize("shape", [(5, 3), (4, 4), (2, 6, 4)])
def test_geqrf_householder_product_and_ormqr(shape):
    A = T(*shape)
    a, tau = corelib.geqrf(A)
    Q = L.householder_product(a, tau)
    R = corelib.triu(a)[..., :shape[-1], :]
    np.testing.assert_allclose(N(Q @ R), N(A), atol=1e-12)
    eye = np.eye(shape[-1])
    np.testing.assert_allclose(N(Q.mT @ Q), np.broadcast_to(eye, Q.shape[:-2] + eye.shape),
                               atol=1e-12)
    # R's diagonal agrees with NumPy's up to sign
    r_np = np.linalg.qr(N(A), mode="r")
    np.testing.assert_allclose(np.abs(np.diagonal(N(R), axis1=-2, axis2=-1)),
                               np.abs(np.diagonal(r_np, axis1=-2, axis2=-1)), atol=1e-12)
    m = shape[-2]
    Qfull = N(L.householder_product(corelib.cat([a, T(*shape[:-2], m, m - shape[-1])], -1),
                                    corelib.cat([tau, corelib.zeros(*shape[:-2], m - tau.shape[-1],
                                                                    dtype=tau.dtype)], -1)))
    C = T(*shape[:-2], m, 2)
    for transpose in (False, True):
        Qop = Qfull.swapaxes(-1, -2) if transpose else Qfull
        np.testing.assert_allclose(N(corelib.ormqr(a, tau, C, True, transpose)), Qop @ N(C),
                                   atol=1e-12)
        np.testing.assert_allclose(N(corelib.ormqr(a, tau, C.mT, False, transpose)),
                                   N(C.mT) @ Qop, atol=1e-12)


def test_householder_and_ormqr_gradients():
    a, tau = corelib.geqrf(T(5, 3))
    a = a.detach().requires_grad_(True)
    tau = tau.detach().requires_grad_(True)
    C = T(5, 2, requires_grad=True)
    assert gradcheck(L.householder_product, (a, tau))
    assert gradcheck(lambda a, t, c: corelib.ormqr(a, t, c, True, True), (a, tau, C))


def test_householder_product_matches_torch(torch):
    A, tau = rng.standard_normal((6, 4)), rng.random(3)
    expected = torch.linalg.householder_product(torch.tensor(A), torch.tensor(tau)).numpy()
    np.testing.assert_allclose(N(L.householder_product(corelib.tensor(A), corelib.tensor(tau))),
                               expected, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# triangular and Cholesky solves
@pytest.mark.parametrize("upper,left,unit", [(True, True, False), (False, True, False),
                                             (True, False, True), (False, False, False)])
def test_solve_triangular_reads_only_the_triangle(upper, left, unit):
    A = well_conditioned(2, 4, 4)
    B = T(2, 4, 3) if left else T(3, 4)
    X = L.solve_triangular(A, B, upper=upper, left=left, unitriangular=unit)
    tri = np.triu(N(A)) if upper else np.tril(N(A))
    if unit:
        tri = tri - np.diagonal(tri, axis1=-2, axis2=-1)[..., None] * np.eye(4) + np.eye(4)
    res = tri @ N(X) if left else N(X) @ tri
    np.testing.assert_allclose(res, np.broadcast_to(N(B), res.shape), atol=1e-10)
    assert gradcheck(lambda a, b: L.solve_triangular(a, b, upper=upper, left=left,
                                                     unitriangular=unit),
                     (A.requires_grad_(True), B.requires_grad_(True)))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        L.solve_triangular(A, T(4), upper=upper)


def test_solve_triangular_with_a_zero_pivot_gives_infinities_as_torch():
    A = corelib.tensor([[1.0, 2, 3], [0, 0, 6], [0, 0, 1]], dtype=corelib.float64)
    with np.errstate(all="ignore"):
        X = N(L.solve_triangular(A, corelib.ones(3, 1, dtype=corelib.float64), upper=True))
    assert X[2, 0] == 1 and np.isinf(X[1, 0]) and not np.isfinite(X[0, 0])


def test_triangular_solve_legacy():
    A, b = well_conditioned(3, 3), T(2, 3, 2)
    X, coef = corelib.triangular_solve(b, A, upper=False, transpose=True)
    np.testing.assert_allclose(np.tril(N(A)).T @ N(X), N(b), atol=1e-10)
    assert coef.shape == (2, 3, 3)


def test_cholesky_solve_and_inverse(torch):
    a = rng.standard_normal((2, 4, 4))
    spd = a @ a.swapaxes(-1, -2) + 4 * np.eye(4)
    Lf = L.cholesky(corelib.tensor(spd))
    B = T(2, 4, 3)
    for upper in (False, True):
        F = Lf.mT if upper else Lf
        np.testing.assert_allclose(spd @ N(corelib.cholesky_solve(B, F, upper)), N(B),
                                   atol=1e-10)
        np.testing.assert_allclose(N(corelib.cholesky_inverse(F, upper)), np.linalg.inv(spd),
                                   atol=1e-10)
    # gradients: torch's convention (A = L L^T over the whole factor), checked against torch
    Fc = Lf.detach().requires_grad_(True)
    Bc = B.detach().requires_grad_(True)
    (corelib.cholesky_solve(Bc, Fc) * B.detach()).sum().backward()
    corelib.cholesky_inverse(Fc).sum().backward()
    Ft = torch.tensor(N(Lf), requires_grad=True)
    Bt = torch.tensor(N(B), requires_grad=True)
    (torch.cholesky_solve(Bt, Ft) * torch.tensor(N(B))).sum().backward()
    torch.cholesky_inverse(Ft).sum().backward()
    np.testing.assert_allclose(N(Fc.grad), Ft.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(N(Bc.grad), Bt.grad.numpy(), atol=1e-10)


def test_solve_ex_and_cholesky_ex_report_failures():
    sing = corelib.tensor([[[1.0, 2], [2, 4]], [[2.0, 0], [0, 3]]], dtype=corelib.float64)
    X, info = L.solve_ex(sing, corelib.ones(2, 2, dtype=corelib.float64))
    assert N(info).tolist() == [2, 0]
    assert np.isnan(N(X)[0]).all() and np.allclose(N(X)[1], [0.5, 1 / 3])
    with pytest.raises(L.LinAlgError):
        L.solve_ex(sing, corelib.ones(2, 2, dtype=corelib.float64), check_errors=True)
    C, info = L.cholesky_ex(corelib.tensor([[1.0, 2], [2, 1]]))
    assert int(info.item()) == 2
    C, info = L.cholesky_ex(corelib.tensor([[4.0, 2], [2, 3]]))
    assert int(info.item()) == 0
    np.testing.assert_allclose(N(C), np.linalg.cholesky([[4.0, 2], [2, 3]]))


# ---------------------------------------------------------------------------------------------
# tensor solves, cond, matrix_exp, tolerances
def test_tensorsolve_tensorinv_cond():
    A = rng.standard_normal((2, 3, 6))
    B = rng.standard_normal((2, 3))
    np.testing.assert_allclose(N(L.tensorsolve(corelib.tensor(A), corelib.tensor(B))),
                               np.linalg.tensorsolve(A, B), atol=1e-10)
    A2 = np.moveaxis(A, 2, 0).copy()
    np.testing.assert_allclose(N(L.tensorsolve(corelib.tensor(A2), corelib.tensor(B), dims=(0,))),
                               np.linalg.tensorsolve(A2, B, axes=(0,)), atol=1e-10)
    A = rng.standard_normal((4, 6, 8, 3))
    np.testing.assert_allclose(N(L.tensorinv(corelib.tensor(A), ind=2)),
                               np.linalg.tensorinv(A, ind=2), atol=1e-10)
    M = rng.standard_normal((2, 4, 4))
    for p in (None, 2, -2, "fro", "nuc", 1, -1, float("inf"), -float("inf")):
        np.testing.assert_allclose(N(L.cond(corelib.tensor(M), p)), np.linalg.cond(M, p),
                                   rtol=1e-10)


@pytest.mark.parametrize("scale", [0.1, 30.0])
def test_matrix_exp(scale):
    A = rng.standard_normal((2, 4, 4)) * scale / 4
    w, V = np.linalg.eig(A)
    ref = np.real(V @ (np.exp(w)[..., None] * np.linalg.inv(V)))
    np.testing.assert_allclose(N(corelib.matrix_exp(corelib.tensor(A))), ref, rtol=1e-9,
                               atol=1e-9 * np.abs(ref).max())
    X = corelib.tensor(A[0] / scale, requires_grad=True)
    assert gradcheck(corelib.matrix_exp, (X,))
    if scale > 1:
        return
    # exp(A) exp(-A) = I
    a = corelib.tensor(A)
    np.testing.assert_allclose(N(corelib.matrix_exp(a) @ corelib.matrix_exp(-a)),
                               np.broadcast_to(np.eye(4), A.shape), atol=1e-6)


def test_tensor_tolerances_of_pinv_and_matrix_rank():
    u = np.linalg.qr(rng.standard_normal((3, 5, 5)))[0]
    s = np.array([10.0, 1, 0.1, 0.01, 0.001])
    A = u @ (s[:, None] * np.linalg.qr(rng.standard_normal((5, 5)))[0])
    rtol = np.array([0.5, 0.005, 1e-6])
    ranks = N(L.matrix_rank(corelib.tensor(A), rtol=corelib.tensor(rtol)))
    assert ranks.tolist() == [1, 3, 5]
    atol = corelib.tensor([5.0, 0.05, 0.0])
    assert N(L.matrix_rank(corelib.tensor(A), atol=atol)).tolist() == [1, 3, 5]
    P = L.pinv(corelib.tensor(A), rtol=corelib.tensor(rtol))
    for i, r in enumerate([1, 3, 5]):
        np.testing.assert_allclose(N(P)[i], np.linalg.pinv(A[i], rcond=rtol[i]), atol=1e-8)
    X = corelib.tensor(rng.standard_normal((2, 3, 3)), requires_grad=True)
    assert gradcheck(lambda x: L.pinv(x, atol=corelib.tensor([1e-9, 1e-9])), (X,))


def test_ldl_factor_and_solve():
    a = rng.standard_normal((3, 5, 5))
    a = a + a.swapaxes(-1, -2)
    a[..., range(5), range(5)] *= 0.01   # small diagonals: 2x2 pivot blocks
    LD, piv = L.ldl_factor(corelib.tensor(a))
    assert piv.dtype is corelib.int32 and (N(piv) < 0).any()
    np.testing.assert_array_equal(np.triu(N(LD), 1), 0)
    B = rng.standard_normal((3, 5, 2))
    X = L.ldl_solve(LD, piv, corelib.tensor(B))
    np.testing.assert_allclose(a @ N(X), B, atol=1e-10)
    LD2, piv2, info = L.ldl_factor_ex(corelib.tensor(a))
    assert N(info).tolist() == [0, 0, 0]
    lapack = pytest.importorskip("scipy.linalg.lapack")
    for i in range(3):   # LAPACK's sytrf storage (lower) is the spec
        lu, ipiv, _ = lapack.dsytrf(a[i], lower=1)
        np.testing.assert_allclose(N(LD)[i], np.tril(lu), atol=1e-12)
        np.testing.assert_array_equal(N(piv)[i], ipiv)


def test_bad_input_names_the_op():
    with pytest.raises(RuntimeError, match="linalg.solve_triangular.*Incompatible shapes"):
        L.solve_triangular(T(3, 3), T(4, 1), upper=True)
    with pytest.raises(RuntimeError, match="householder_product"):
        L.householder_product(T(3, 4), T(2))
    with pytest.raises(RuntimeError, match="lu_unpack.*int32"):
        corelib.lu_unpack(T(3, 3), corelib.ones(3, dtype=corelib.int64))
    with pytest.raises(RuntimeError, match="tensorinv"):
        L.tensorinv(T(2, 3, 4), ind=1)


def test_svd_lowrank_and_pca_lowrank_recover_a_low_rank_matrix():
    corelib.manual_seed(0)
    A = rng.standard_normal((2, 8, 3)) @ rng.standard_normal((3, 10))
    U, S, V = corelib.svd_lowrank(corelib.tensor(A), q=4)
    assert U.shape == (2, 8, 4) and S.shape == (2, 4) and V.shape == (2, 10, 4)
    np.testing.assert_allclose(N(U) @ (N(S)[..., None] * N(V).swapaxes(-1, -2)), A, atol=1e-10)
    np.testing.assert_allclose(N(S)[..., :3], np.linalg.svd(A, compute_uv=False)[..., :3],
                               rtol=1e-10)
    centered = A[0] - A[0].mean(0)
    U, S, V = corelib.pca_lowrank(corelib.tensor(A[0]), q=3)
    np.testing.assert_allclose(N(S), np.linalg.svd(centered, compute_uv=False)[:3], rtol=1e-10)
    with pytest.raises(ValueError, match="q"):
        corelib.pca_lowrank(corelib.tensor(A[0]), q=20)
