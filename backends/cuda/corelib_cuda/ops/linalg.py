"""Matrix products and linear algebra: array-API implementations on CuPy's cuBLAS/cuSOLVER
wrappers (``xp.matmul``, ``xp.linalg.*``), with the CPU backend's conventions.

A singular or non-positive-definite input raises ``numpy.linalg.LinAlgError``, as on the CPU:
CuPy only checks cuSOLVER's status under ``cupyx.errstate(linalg="raise")`` (a device
synchronisation, as in PyTorch's CUDA solvers), so the factorizations that can fail run inside it.
"""
from __future__ import annotations

import contextlib
import math

import numpy as np

from corelib import _lapack_loops

from .. import runtime
from ._util import xp


def _raise_on_failure():
    """Context in which a failed factorization raises LinAlgError (NumPy always raises)."""
    if runtime.SIMULATE:
        return contextlib.nullcontext()
    import cupyx
    return cupyx.errstate(linalg="raise")


def _identity_stack(batch, m, k, dtype):
    """``batch`` copies of the m x k identity (the factors of empty matrices)."""
    return xp().broadcast_to(xp().eye(m, k, dtype=dtype), batch + (m, k)).copy()


def _matmul(a, b):
    """xp.matmul (cuBLAS for floats, incl. 1-d operands and broadcast batches); an N-d stack
    times a matrix is one GEMM on the flattened stack, and 0-d results are arrays."""
    if a.ndim > 2 and b.ndim == 2 and a.flags.c_contiguous:
        rows = math.prod(a.shape[:-1])   # not -1: ambiguous when a is empty
        return xp().matmul(a.reshape(rows, a.shape[-1]), b).reshape(a.shape[:-1] + b.shape[-1:])
    return xp().asarray(xp().matmul(a, b))


def _inv(a):
    if a.size == 0:
        return a.copy()
    with _raise_on_failure():
        return xp().linalg.inv(a)


def _det(a):
    return xp().asarray(xp().linalg.det(a), dtype=a.dtype)


def _slogdet(a):
    sign, logabs = xp().linalg.slogdet(a)
    return xp().asarray(sign, dtype=a.dtype), xp().asarray(logabs, dtype=a.dtype)


def _solve(a, b):
    """Solve with the batch dims of a and b broadcast (CuPy's solve wants them equal)."""
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])   # shapes only (host tuples)
    if a.size == 0 or b.size == 0:
        return xp().zeros(batch + b.shape[-2:], dtype=b.dtype)
    if a.shape[:-2] != batch:
        a = xp().ascontiguousarray(xp().broadcast_to(a, batch + a.shape[-2:]))
    if b.shape[:-2] != batch:
        b = xp().ascontiguousarray(xp().broadcast_to(b, batch + b.shape[-2:]))
    with _raise_on_failure():
        return xp().linalg.solve(a, b)


def _cholesky(a, upper):
    if a.size == 0:
        return a.copy()
    with _raise_on_failure():
        low = xp().linalg.cholesky(a)
    return xp().ascontiguousarray(xp().swapaxes(low, -1, -2)) if upper else low


def _qr(a, mode):
    m, n = a.shape[-2:]
    if a.size == 0:
        k = m if mode == "complete" else min(m, n)
        return (_identity_stack(a.shape[:-2], m, k, a.dtype),
                xp().zeros(a.shape[:-2] + (k, n), dtype=a.dtype))
    if mode == "r":
        return xp().zeros((0,), dtype=a.dtype), xp().linalg.qr(a, mode="r")
    q, r = xp().linalg.qr(a, mode=mode)
    return q, r


def _svd(a, full_matrices):
    m, n = a.shape[-2:]
    if a.size == 0:
        k = min(m, n)
        batch = a.shape[:-2]
        um, vn = (m, n) if full_matrices else (k, k)
        return (_identity_stack(batch, m, um, a.dtype),
                xp().zeros(batch + (k,), dtype=a.dtype),
                _identity_stack(batch, vn, n, a.dtype))
    u, s, vh = xp().linalg.svd(a, full_matrices=full_matrices)
    return u, s, vh


def _svdvals(a):
    if a.size == 0:
        return xp().zeros(a.shape[:-2] + (min(a.shape[-2:]),), dtype=a.dtype)
    return xp().linalg.svd(a, compute_uv=False)


def _eigh(a, UPLO):
    if a.size == 0:
        return xp().zeros(a.shape[:-1], dtype=a.dtype), a.copy()
    w, v = xp().linalg.eigh(a, UPLO=UPLO)
    return w, v


def _eigvalsh(a, UPLO):
    if a.size == 0:
        return xp().zeros(a.shape[:-1], dtype=a.dtype)
    return xp().linalg.eigvalsh(a, UPLO=UPLO)


def _pinv(a, atol, rtol, hermitian):
    """Pseudo-inverse from the SVD (or eigh): singular values below max(atol, rtol * largest)
    are treated as 0 (CuPy's pinv takes only rcond, so it is composed here)."""
    x = xp()
    m, n = a.shape[-2:]
    if a.size == 0:
        return x.zeros(a.shape[:-2] + (n, m), dtype=a.dtype)
    if hermitian:
        w, v = x.linalg.eigh(a)
        s = x.abs(w)
        cutoff = x.maximum(atol, rtol * s.max(axis=-1, keepdims=True))
        w_inv = x.where(s > cutoff, 1 / x.where(s > cutoff, w, 1), 0).astype(a.dtype)
        return x.matmul(v * w_inv[..., None, :], x.swapaxes(v, -1, -2))
    u, s, vh = x.linalg.svd(a, full_matrices=False)
    cutoff = x.maximum(atol, rtol * s[..., :1])
    s_inv = x.where(s > cutoff, 1 / x.where(s > cutoff, s, 1), 0).astype(a.dtype)
    return x.matmul(x.swapaxes(vh, -1, -2) * s_inv[..., None, :], x.swapaxes(u, -1, -2))


def _cross(a, b, dim):
    return xp().asarray(xp().cross(a, b, axis=dim))


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
    "linalg_cross": _cross,
}


# ---------------------------------------------------------------------------------------------
# LU and Householder QR in LAPACK's storage (getrf / geqrf) and LDL^T with Bunch-Kaufman pivoting
# (sytf2 lower / sytrs): CuPy exposes neither batched getrf pivots, geqrf's reflectors nor sytrf
# through its array API, so these are corelib._lapack_loops's unblocked loops (the CPU
# backend's algorithms) on device memory.
def _lu_factor(a):
    return _lapack_loops.lu_factor(xp(), a)


def _geqrf(a):
    return _lapack_loops.geqrf(xp(), a)


def _ldl_factor(a, hermitian):
    return _lapack_loops.ldl_factor(xp(), a)


def _ldl_solve(ld, pivots, b, hermitian):
    return _lapack_loops.ldl_solve(xp(), ld, pivots, b)


KERNELS.update({
    "linalg_lu_factor": _lu_factor,
    "linalg_geqrf": _geqrf,
    "linalg_ldl_factor": _ldl_factor,
    "linalg_ldl_solve": _ldl_solve,
})
