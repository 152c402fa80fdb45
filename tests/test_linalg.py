"""Behaviour of the matmul family, einsum and corelib.linalg beyond the op table: errors,
named results, singular inputs, legacy aliases, higher-order gradients, out=."""
import numpy as np
import pytest

import corelib
from corelib.testing import assert_close

L = corelib.linalg
rng = np.random.default_rng(7)


@pytest.fixture(autouse=True)
def on_device(device):
    """Every test runs on each installed device (tensors made without device= land there), on
    the same data whichever tests run before it (-k, another order)."""
    global rng
    rng = np.random.default_rng(7)
    corelib.set_default_device(device)
    yield
    corelib.set_default_device(None)


def T(*shape, dtype="float64", requires_grad=False):
    return corelib.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=requires_grad)


def spd(n, batch=()):
    b = rng.standard_normal(batch + (n, n))
    return corelib.tensor(b @ np.swapaxes(b, -1, -2) + n * np.eye(n))


# ---------------------------------------------------------------------------------------------
# errors
@pytest.mark.parametrize("a,b,msg", [
    ((2, 3), (4, 5), r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)"),
    ((3,), (4, 5), r"mat1 and mat2 shapes cannot be multiplied \(1x3 and 4x5\)"),
    ((2, 3), (4,), r"size mismatch, got input \(2\), mat \(2x3\), vec \(4\)"),
    ((3,), (4,), r"inconsistent tensor size"),
    ((2, 2, 3), (2, 4, 5), r"Expected size for first two dimensions of batch2 tensor"),
])
def test_matmul_shape_errors_name_both_shapes(a, b, msg):
    with pytest.raises(RuntimeError, match=msg):
        corelib.matmul(T(*a), T(*b))


def test_matmul_errors_match_torch_types():
    torch = pytest.importorskip("torch")
    for x, y in [(T(2, 3), T(3, 2, dtype="float32")), (T(), T(3))]:
        with pytest.raises(RuntimeError):
            torch.matmul(torch.from_numpy(x.cpu().numpy()), torch.from_numpy(y.cpu().numpy()))
        with pytest.raises(RuntimeError):
            corelib.matmul(x, y)
    with pytest.raises(RuntimeError, match="mm"):
        corelib.mm(T(3), T(3, 2))
    with pytest.raises(RuntimeError, match="not implemented for 'Bool'"):
        corelib.ones(2, 2, dtype=corelib.bool) @ corelib.ones(2, 2, dtype=corelib.bool)


@pytest.mark.parametrize("fn", [L.inv, lambda A: L.solve(A, corelib.ones(3, dtype=corelib.float64)), L.cholesky])
def test_singular_raises_linalg_error(fn):
    A = corelib.tensor(np.outer([1.0, 2, 3], [1.0, 1, 1]))
    with pytest.raises(L.LinAlgError) as info:
        fn(A)
    assert isinstance(info.value, RuntimeError)


def test_non_square_and_integer_inputs():
    with pytest.raises(RuntimeError, match="square matrices, but they are 2 by 3"):
        L.inv(T(2, 3))
    with pytest.raises(RuntimeError, match="Expected a floating point"):
        L.det(corelib.ones(2, 2, dtype=corelib.int64))


# ---------------------------------------------------------------------------------------------
# values and named results against NumPy / PyTorch
def test_matmul_int_and_operator_variants():
    a = corelib.tensor(rng.integers(-5, 5, (2, 3, 4)))
    b = corelib.tensor(rng.integers(-5, 5, (4, 2)))
    r = a @ b
    assert r.dtype is corelib.int64
    np.testing.assert_array_equal(r.cpu().numpy(), a.cpu().numpy() @ b.cpu().numpy())
    np.testing.assert_array_equal(b.__rmatmul__(a).cpu().numpy(), r.cpu().numpy())
    out = corelib.empty(0, dtype=corelib.int64)
    corelib.matmul(a, b, out=out)
    np.testing.assert_array_equal(out.cpu().numpy(), r.cpu().numpy())


def test_decomposition_fields():
    A = spd(3)
    sign, logabs = L.slogdet(A)
    assert L.slogdet(A)._fields == ("sign", "logabsdet")
    assert_close(sign * corelib.exp(logabs), L.det(A), rtol=1e-10, atol=1e-12)
    Q, R = L.qr(T(4, 3))
    assert_close(Q.mT @ Q, np.eye(3), atol=1e-12)
    U, S, Vh = L.svd(T(4, 3), full_matrices=False)
    assert U.shape == (4, 3) and S.shape == (3,) and Vh.shape == (3, 3)
    w, V = L.eigh(A)
    assert_close((V * w.unsqueeze(-2)) @ V.mT, A.cpu().numpy(), atol=1e-10)
    assert L.eigh(A).eigenvalues is not None and L.qr(A).R is not None


def test_legacy_svd_returns_v():
    A = T(4, 3)
    U, S, V = corelib.svd(A)
    assert_close((U * S.unsqueeze(-2)) @ V.mT, A.cpu().numpy(), atol=1e-10)
    U2, S2, V2 = corelib.svd(A, some=False)
    assert U2.shape == (4, 4) and V2.shape == (3, 3)


def test_lstsq_fields_match_torch():
    torch = pytest.importorskip("torch")
    A, B = T(5, 3), T(5, 2)
    tA, tB = torch.from_numpy(A.cpu().numpy()), torch.from_numpy(B.cpu().numpy())
    for driver in (None, "gelsd"):
        ours = L.lstsq(A, B, driver=driver)
        theirs = torch.linalg.lstsq(tA, tB, driver=driver)
        for o, t in zip(ours, theirs):
            assert_close(o, t.cpu().numpy(), rtol=1e-8, atol=1e-10, check_dtype=True)


def test_matrix_power_and_aliases():
    A = spd(3)
    assert_close(L.matrix_power(A, -2), np.linalg.matrix_power(A.cpu().numpy(), -2), rtol=1e-9)
    assert_close(corelib.matrix_power(A, 0), np.eye(3))
    assert_close(corelib.inverse(A), np.linalg.inv(A.cpu().numpy()), rtol=1e-9)
    assert_close(corelib.logdet(A), np.linalg.slogdet(A.cpu().numpy())[1], rtol=1e-9)
    assert_close(A.det(), np.linalg.det(A.cpu().numpy()), rtol=1e-9)
    B = T(4, 3)
    assert_close(corelib.pinverse(B), np.linalg.pinv(B.cpu().numpy()), rtol=1e-9, atol=1e-12)


def test_matrix_norms_from_singular_values():
    A = T(2, 4, 3)
    s = np.linalg.svd(A.cpu().numpy(), compute_uv=False)
    assert_close(L.matrix_norm(A, "nuc"), s.sum(-1), rtol=1e-10)
    assert_close(L.matrix_norm(A, 2), s[..., 0], rtol=1e-10)
    assert_close(L.norm(A[0], -2), s[0, -1], rtol=1e-10)


def test_cross_default_dim_is_first_of_size_3():
    a, b = T(3, 4), T(3, 4)
    assert_close(corelib.cross(a, b), np.cross(a.cpu().numpy(), b.cpu().numpy(), axis=0))
    assert_close(L.cross(a.mT, b.mT), np.cross(a.cpu().numpy().T, b.cpu().numpy().T))


# ---------------------------------------------------------------------------------------------
# einsum
def test_einsum_list_operands_ellipsis_and_path_cache():
    from corelib._ops import linalg as ops
    a, b, c = T(2, 3, 4), T(2, 4, 5), T(5, 6)
    r1 = corelib.einsum("...ij,...jk,kl->...il", a, b, c)
    r2 = corelib.einsum("...ij,...jk,kl->...il", [a, b, c])
    expected = np.einsum("...ij,...jk,kl->...il", a.cpu().numpy(), b.cpu().numpy(), c.cpu().numpy())
    assert_close(r1, expected, rtol=1e-10)
    assert_close(r2, expected, rtol=1e-10)
    assert any(key[1] == ((2, 3, 4), (2, 4, 5), (5, 6)) for key in ops._PATHS)


def test_einsum_errors():
    with pytest.raises(RuntimeError, match="more operands"):
        corelib.einsum("ij->i", T(2, 2), T(2, 2))
    with pytest.raises(RuntimeError, match="does not match the number of dimensions"):
        corelib.einsum("ijk->i", T(2, 2))
    with pytest.raises(RuntimeError):
        corelib.einsum("ij,jk->ik", T(2, 3), T(4, 5))


def test_einsum_gradients_match_torch():
    torch = pytest.importorskip("torch")
    eq = "bij,jk,bk->bi"
    xs = [T(2, 3, 4, requires_grad=True), T(4, 5, requires_grad=True),
          T(2, 5, requires_grad=True)]
    txs = [torch.tensor(x.detach().cpu().numpy(), requires_grad=True) for x in xs]
    corelib.einsum(eq, *xs).sum().backward()
    torch.einsum(eq, *txs).sum().backward()
    for x, t in zip(xs, txs):
        assert_close(x.grad, t.grad.cpu().numpy(), rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# gradients
def test_det_gradient_of_singular_matrix_is_the_adjugate():
    """d det(A)/dA = adj(A)^T, defined at singular A too. The reference is the analytic
    cofactor matrix (PyTorch's answer here depends on LAPACK's pivots: not a stable reference)."""
    A = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])
    cofactors = np.array([[(-1) ** (i + j) * np.linalg.det(np.delete(np.delete(A, i, 0), j, 1))
                           for j in range(3)] for i in range(3)])
    x = corelib.tensor(A, requires_grad=True)
    L.det(x).backward()
    assert_close(x.grad, cofactors, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("fn", [L.inv, L.det, lambda A: L.solve(A, A[..., :1] * 2 + 1),
                                lambda A: L.slogdet(A).logabsdet])
def test_double_backward(fn):
    A = spd(3, (2,)).requires_grad_(True)
    assert corelib.autograd.gradgradcheck(lambda a: fn(a), (A,))


def test_matmul_gradient_shapes_with_broadcast_batches():
    a = T(2, 1, 3, 4, requires_grad=True)
    b = T(5, 4, 2, requires_grad=True)
    v = T(4, requires_grad=True)
    ((a @ b).sum() + (a @ v).sum() + (v @ b).sum()).backward()
    assert a.grad.shape == a.shape and b.grad.shape == b.shape and v.grad.shape == v.shape
    an, bn, vn = a.detach().cpu().numpy(), b.detach().cpu().numpy(), v.detach().cpu().numpy()
    # d/db[z, j, k] of sum(a @ b) + sum(v @ b) = sum_{x, i} a[x, 0, i, j] + v[j]
    assert_close(b.grad, np.broadcast_to((an.sum((0, 1, 2)) + vn)[:, None], (5, 4, 2)),
                 rtol=1e-10, atol=1e-10)
    # d/da[x, 0, i, j] = sum_{z, k} b[z, j, k] + v[j]
    assert_close(a.grad, np.broadcast_to(bn.sum((0, 2)) + vn, (2, 1, 3, 4)), rtol=1e-10,
                 atol=1e-10)


def test_matmul_gradients_of_empty_stack_times_matrix():
    """(5, 5, 0) @ (0, 5): an all-zero product, and gradients of the right empty shapes."""
    a, b = T(5, 5, 0, requires_grad=True), T(0, 5, requires_grad=True)
    out = a @ b
    np.testing.assert_array_equal(out.detach().cpu().numpy(), np.zeros((5, 5, 5)))
    out.sum().backward()
    assert tuple(a.grad.shape) == (5, 5, 0) and tuple(b.grad.shape) == (0, 5)
    c = T(3, 4, requires_grad=True)
    (T(2, 0, 3) @ c).sum().backward()   # stack with 0 rows: the right operand's grad is zero
    np.testing.assert_array_equal(c.grad.cpu().numpy(), np.zeros((3, 4)))


def test_tensordot_size_one_dims_broadcast_and_vander_of_a_scalar():
    """As PyTorch: a contracted dim of size 1 broadcasts against the other operand's (summed
    out); linalg.vander of a 0-d x is one row; N <= 1 raises."""
    a_np, b_np = rng.standard_normal((3, 1, 4)), rng.standard_normal((2, 5, 3))
    got = corelib.tensordot(corelib.tensor(a_np), corelib.tensor(b_np), dims=([0, 1], [2, 0]))
    expected = np.einsum("ixk,mni->kn", a_np, b_np.sum(0, keepdims=True))
    np.testing.assert_allclose(got.cpu().numpy(), expected, rtol=1e-12)
    np.testing.assert_array_equal(L.vander(corelib.tensor(2.0), N=3).cpu().numpy(),
                                  [[1.0, 2.0, 4.0]])
    with pytest.raises(RuntimeError, match="N must be greater than 1"):
        L.vander(corelib.tensor([2.0, 3.0]), N=1)


def test_diff_of_order_zero_is_a_copy():
    x = T(4, 3, requires_grad=True)
    y = corelib.diff(x, 0, 0, prepend=T(1, 3), append=T(2, 3))   # as PyTorch: both ignored
    np.testing.assert_array_equal(y.detach().cpu().numpy(), x.detach().cpu().numpy())
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy(), np.ones((4, 3)))


def test_norm_subgradients_at_zero_as_torch():
    """PyTorch's choices where the norm is not differentiable: zero entries get 0 for
    ord < 1 (also beside non-zero ones); the spectral norm of a matrix with tied singular
    values shares the gradient among them (amax/amin of svdvals)."""
    for ordv in (0.5, -0.5, -1, -2, -3.5):
        x = corelib.zeros(5, dtype=corelib.float64, requires_grad=True)
        L.norm(x, ordv).backward()
        np.testing.assert_array_equal(x.grad.cpu().numpy(), np.zeros(5))
    x = corelib.tensor([0.0, 1.0, 2.0], dtype=corelib.float64, requires_grad=True)
    L.vector_norm(x, 0.5).backward()   # d/dx_i = sign * |x_i|^-0.5 * norm^0.5, 0 at x_i = 0
    n = (1 + 2 ** 0.5) ** 2
    np.testing.assert_allclose(x.grad.cpu().numpy(), [0.0, n ** 0.5, 2 ** -0.5 * n ** 0.5])
    for ordv in (2, -2):
        A = corelib.zeros(4, 4, dtype=corelib.float64, requires_grad=True)
        L.matrix_norm(A, ordv).backward()
        np.testing.assert_allclose(A.grad.cpu().numpy(), np.eye(4) / 4)
