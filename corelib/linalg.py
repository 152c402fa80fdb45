"""corelib.linalg: PyTorch's torch.linalg namespace.

The ops live in corelib._ops.linalg; vector_norm / matrix_norm come from corelib._ops.reduction
when that module defines them, with the spectral and nuclear norms computed here from svdvals.
"""
from __future__ import annotations

from ._ops import linalg as _la
from ._ops import reduction as _reduction
from ._ops.linalg import (LinAlgError, matmul, inv, solve, eigh, eigvalsh, svdvals, pinv,
                          lstsq, matrix_rank, multi_dot)
from ._ops.linalg import (solve_triangular, solve_ex, cholesky_ex, lu_factor, lu_factor_ex,
                          householder_product, tensorinv, tensorsolve, cond, matrix_exp,
                          ldl_factor, ldl_factor_ex, ldl_solve)

__all__ = ["LinAlgError", "matmul", "inv", "inv_ex", "det", "slogdet", "solve", "cholesky",
           "qr", "svd", "svdvals", "eigh", "eigvalsh", "pinv", "lstsq", "matrix_power",
           "matrix_rank", "multi_dot", "cross", "vecdot", "norm", "vector_norm", "matrix_norm",
           "diagonal", "tensordot", "vander", "solve_triangular", "solve_ex", "cholesky_ex",
           "lu", "lu_factor", "lu_factor_ex", "lu_solve", "householder_product", "tensorinv",
           "tensorsolve", "cond", "matrix_exp", "ldl_factor", "ldl_factor_ex", "ldl_solve"]

det = _la.det_
slogdet = _la.slogdet_linalg
cholesky = _la.cholesky_linalg
qr = _la.qr_linalg
svd = _la.svd_linalg
cross = _la.cross_linalg
matrix_power = _la.matrix_power
tensordot = _la.tensordot
lu = _la.lu_linalg
lu_solve = _la.lu_solve_linalg


def inv_ex(A, *, check_errors=False, out=None):
    """(inverse, info): info is 0 (a LinAlgError is raised for singular input)."""
    from ._ops.creation import zeros
    from ._dtype import int32
    return _la.namedtuple("inv_ex", ["inverse", "info"])(
        inv(A), zeros(tuple(A.shape[:-2]), dtype=int32, device=A.device))


def vecdot(x, y, *, dim=-1, out=None):
    """Dot product along ``dim`` with broadcasting."""
    from ._ops.reduction import sum as _sum
    result = _sum(x * y, dim)
    return result if out is None else _la.write_out(result, out, "linalg.vecdot")


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    import corelib
    return corelib.diagonal(A, offset=offset, dim1=dim1, dim2=dim2)


def vander(x, *, N=None):
    """Vandermonde matrix: columns x**0, x**1, ..., x**(N-1)."""
    from ._ops.creation import arange
    n = (x.shape[-1] if x.ndim else 0) if N is None else N
    if n <= 1:
        raise RuntimeError("linalg.vander(): N must be greater than 1.")
    if x.ndim == 0:   # as PyTorch: a 0-d x is one point
        x = x.reshape(1)
    return x.unsqueeze(-1) ** arange(n, device=x.device)


def _from_reduction(name):
    fn = getattr(_reduction, name, None)
    if fn is None:
        raise NotImplementedError(f"linalg.{name} needs corelib._ops.reduction.{name}")
    return fn


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    """Vector norm (implemented in corelib._ops.reduction)."""
    return _from_reduction("vector_norm")(x, ord, dim, keepdim, dtype=dtype, out=out)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    """Matrix norm: 2 / -2 / 'nuc' from singular values, the others from reduction."""
    if ord in (2, -2, "nuc"):
        from ._ops.elementwise import cast
        from ._ops.shape import movedim
        from ._ops.reduction import sum as _sum
        if dtype is not None:
            A = cast(A, dtype)
        d1, d2 = dim
        s = svdvals(movedim(A, (d1, d2), (-2, -1)))
        if ord == "nuc":
            result = _sum(s, -1)
        else:
            from ._ops.reduction import amax, amin   # ties share the gradient (PyTorch)
            result = amax(s, -1) if ord == 2 else amin(s, -1)
        if keepdim:
            nd = A.ndim
            for d in sorted(d % nd for d in dim):
                result = result.unsqueeze(d)
        return result if out is None else _la.write_out(result, out, "linalg.matrix_norm")
    return _from_reduction("matrix_norm")(A, ord, dim, keepdim, dtype=dtype, out=out)


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None, out=None):
    """Vector or matrix norm, as torch.linalg.norm."""
    if isinstance(dim, int):
        dim = (dim,)
    if ord is None:
        if dim is not None and len(dim) == 2:
            return matrix_norm(A, "fro", dim, keepdim, dtype=dtype, out=out)
        return vector_norm(A, 2, dim, keepdim, dtype=dtype, out=out)
    if dim is None:
        if A.ndim == 2:
            return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype, out=out)
        if A.ndim == 1:
            return vector_norm(A, ord, None, keepdim, dtype=dtype, out=out)
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must "
                           f"be 1D or 2D. Got {A.ndim}D.")
    if len(dim) == 2:
        return matrix_norm(A, ord, dim, keepdim, dtype=dtype, out=out)
    return vector_norm(A, ord, dim, keepdim, dtype=dtype, out=out)
