"""CPU kernels: linear algebra on (batched) NumPy arrays.

All decompositions are batched over leading dims (NumPy's gufuncs). A kernel signals a
singular or non-positive-definite input by raising ``np.linalg.LinAlgError``; the frontend
turns that into ``corelib.linalg.LinAlgError`` (any array library's ``LinAlgError`` works).
"""
from __future__ import annotations

import numpy as np

from corelib import _lapack_loops


def _matmul(a, b):
    """np.matmul (BLAS for float 2-d, incl. transposed views); an N-d stack times a matrix is
    one GEMM on the flattened stack (copied once if it is not contiguous: still several times
    faster than NumPy's one small GEMM per matrix), and 0-d results are arrays."""
    if a.ndim > 2 and b.ndim == 2 and a.size:
        return np.matmul(a.reshape(-1, a.shape[-1]), b).reshape(a.shape[:-1] + b.shape[-1:])
    r = np.matmul(a, b)
    return r if type(r) is np.ndarray else np.asarray(r)


def _slogdet(a):
    sign, logabs = np.linalg.slogdet(a)
    return np.asarray(sign, dtype=a.dtype), np.asarray(logabs, dtype=a.dtype)


def _cholesky(a, upper):
    if a.size == 0:
        return a.copy()
    low = np.linalg.cholesky(a)
    return np.ascontiguousarray(np.swapaxes(low, -1, -2)) if upper else low


def _qr(a, mode):
    m, n = a.shape[-2:]
    if a.size == 0:
        k = m if mode == "complete" else min(m, n)
        q = np.broadcast_to(np.eye(m, k, dtype=a.dtype), a.shape[:-2] + (m, k)).copy()
        r = np.zeros(a.shape[:-2] + (k, n), dtype=a.dtype)
    elif mode == "r":
        r = np.linalg.qr(a, mode="r")
        q = np.zeros((0,), dtype=a.dtype)
    else:
        q, r = np.linalg.qr(a, mode=mode)
    return q, r


def _svd(a, full_matrices):
    m, n = a.shape[-2:]
    if a.size == 0:
        k = min(m, n)
        batch = a.shape[:-2]
        um, vn = (m, n) if full_matrices else (k, k)
        return (np.broadcast_to(np.eye(m, um, dtype=a.dtype), batch + (m, um)).copy(),
                np.zeros(batch + (k,), dtype=a.dtype),
                np.broadcast_to(np.eye(vn, n, dtype=a.dtype), batch + (vn, n)).copy())
    u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
    return u, s, vh


def _svdvals(a):
    if a.size == 0:
        return np.zeros(a.shape[:-2] + (min(a.shape[-2:]),), dtype=a.dtype)
    return np.linalg.svd(a, compute_uv=False)


def _eigh(a, UPLO):
    if a.size == 0:
        return np.zeros(a.shape[:-1], dtype=a.dtype), a.copy()
    w, v = np.linalg.eigh(a, UPLO=UPLO)
    return w, v


def _eigvalsh(a, UPLO):
    if a.size == 0:
        return np.zeros(a.shape[:-1], dtype=a.dtype)
    return np.linalg.eigvalsh(a, UPLO=UPLO)


def _pinv(a, atol, rtol, hermitian):
    """Pseudo-inverse: singular values below max(atol, rtol * largest) are treated as 0."""
    m, n = a.shape[-2:]
    if a.size == 0:
        return np.zeros(a.shape[:-2] + (n, m), dtype=a.dtype)
    if hermitian:
        w, v = np.linalg.eigh(a)
        s = np.abs(w)
        cutoff = np.maximum(atol, rtol * s.max(axis=-1, keepdims=True))
        w_inv = np.where(s > cutoff, 1 / np.where(s > cutoff, w, 1), 0).astype(a.dtype)
        return np.matmul(v * w_inv[..., None, :], np.swapaxes(v, -1, -2))
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    cutoff = np.maximum(atol, rtol * s[..., :1])
    s_inv = np.where(s > cutoff, 1 / np.where(s > cutoff, s, 1), 0).astype(a.dtype)
    return np.matmul(np.swapaxes(vh, -1, -2) * s_inv[..., None, :], np.swapaxes(u, -1, -2))


def _det(a):
    return np.asarray(np.linalg.det(a), dtype=a.dtype)


def _inv(a):
    return np.linalg.inv(a) if a.size else a.copy()


def _solve(a, b):
    if a.size == 0 or b.size == 0:
        shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + b.shape[-2:]
        return np.zeros(shape, dtype=b.dtype)
    return np.linalg.solve(a, b)


KERNELS = {
    "matmul": _matmul,
    "linalg_inv": _inv,
    "linalg_det": _det,
    "linalg_slogdet": _slogdet,
    "linalg_solve": _solve,
    "linalg_cholesky": _cholesky,
    "linalg_qr": _qr,
    "linalg_svd": _svd,
    "linalg_svdvals": _svdvals,
    "linalg_eigh": _eigh,
    "linalg_eigvalsh": _eigvalsh,
    "linalg_pinv": _pinv,
    "linalg_cross": lambda a, b, dim: np.asarray(np.cross(a, b, axis=dim)),
}


# ---------------------------------------------------------------------------------------------
# LU and Householder QR in LAPACK's storage (getrf / geqrf) and LDL^T with Bunch-Kaufman pivoting
# (sytf2 lower / sytrs): corelib._lapack_loops's unblocked loops, run on NumPy arrays.
def _lu_factor(a):
    return _lapack_loops.lu_factor(np, a)


def _geqrf(a):
    return _lapack_loops.geqrf(np, a)


def _ldl_factor(a, hermitian):
    return _lapack_loops.ldl_factor(np, a)


def _ldl_solve(ld, pivots, b, hermitian):
    return _lapack_loops.ldl_solve(np, ld, pivots, b)


KERNELS.update({
    "linalg_lu_factor": _lu_factor,
    "linalg_geqrf": _geqrf,
    "linalg_ldl_factor": _ldl_factor,
    "linalg_ldl_solve": _ldl_solve,
})
