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
# LU and Householder QR in LAPACK's storage (getrf / geqrf). CuPy exposes neither batched
# getrf pivots nor geqrf's reflectors through its array API, so these are unblocked
# right-looking loops over the columns, each step one array update of the whole batch (the
# CPU backend's algorithm, on device memory).
def _count(shape):
    n = 1
    for s in shape:
        n *= int(s)
    return n


def _lu_factor(a):
    """(LU, pivots, info) as getrf: A = P L U with partial pivoting, pivots 1-based int32 row
    swaps, info the 1-based index of the first zero pivot (0: none)."""
    x = xp()
    m, n = a.shape[-2:]
    k = min(m, n)
    batch = a.shape[:-2]
    nb = _count(batch)
    lu = a.copy().reshape((nb, m, n))
    piv = x.zeros((nb, k), dtype=x.int32)
    info = x.zeros((nb,), dtype=x.int32)
    rows = x.arange(nb)
    for j in range(k):
        p = j + x.argmax(x.abs(lu[:, j:, j]), axis=1)
        piv[:, j] = (p + 1).astype(x.int32)
        top = lu[rows, j].copy()
        lu[rows, j] = lu[rows, p]
        lu[rows, p] = top
        d = lu[:, j, j]
        zero = d == 0
        info = x.where((info == 0) & zero, j + 1, info).astype(x.int32)
        if j + 1 < m:
            col = lu[:, j + 1:, j] / x.where(zero, 1, d)[:, None]
            lu[:, j + 1:, j] = col
            if j + 1 < n:
                lu[:, j + 1:, j + 1:] -= col[:, :, None] * lu[:, j, None, j + 1:]
    return lu.reshape(a.shape), piv.reshape(batch + (k,)), info.reshape(batch)


def _geqrf(a):
    """(QR, tau) as geqrf: R on and above the diagonal, Householder vectors below it
    (reflectors as dlarfg: beta = -sign(alpha) ||x||, tau = 0 when x[1:] is zero)."""
    x = xp()
    m, n = a.shape[-2:]
    k = min(m, n)
    batch = a.shape[:-2]
    nb = _count(batch)
    qr = a.copy().reshape((nb, m, n))
    tau = x.zeros((nb, k), dtype=a.dtype)
    for j in range(k):
        alpha = qr[:, j, j].copy()
        v_low = qr[:, j + 1:, j]
        xnorm = x.sqrt(x.sum(v_low * v_low, axis=1))
        skip = xnorm == 0
        beta = x.where(skip, alpha, -x.copysign(x.hypot(alpha, xnorm), alpha))
        tau[:, j] = x.where(skip, 0, (beta - alpha) / x.where(skip, 1, beta))
        scale = x.where(skip, 0, 1 / x.where(skip, 1, alpha - beta))
        qr[:, j + 1:, j] = v_low * scale[:, None]
        qr[:, j, j] = beta
        if j + 1 < n:
            v = x.concatenate([x.ones((nb, 1), a.dtype), qr[:, j + 1:, j]], axis=1)
            w = x.matmul(v[:, None, :], qr[:, j:, j + 1:])[:, 0]
            qr[:, j:, j + 1:] -= (tau[:, j, None] * v)[:, :, None] * w[:, None, :]
    return qr.reshape(a.shape), tau.reshape(batch + (k,))


KERNELS.update({
    "linalg_lu_factor": _lu_factor,
    "linalg_geqrf": _geqrf,
})


# ---------------------------------------------------------------------------------------------
# LDL^T with Bunch-Kaufman pivoting, LAPACK's sytf2 (lower) and sytrs (CuPy wraps neither):
# one matrix at a time (the pivoting decisions differ per matrix, read back to the host), rows
# and columns updated as device vectors.
_BK_ALPHA = (1 + 17 ** 0.5) / 8


def _ldl_one(a):
    """sytf2 'L' on one matrix (modified in place): returns (ipiv list, info)."""
    xm = xp()
    n = a.shape[0]
    ipiv = [0] * n
    info = 0
    k = 0
    while k < n:
        kstep = 1
        absakk = abs(float(a[k, k]))
        if k + 1 < n:
            imax = k + 1 + int(xm.argmax(xm.abs(a[k + 1:, k])))
            colmax = abs(float(a[imax, k]))
        else:
            imax, colmax = k, 0.0
        if max(absakk, colmax) == 0 or absakk != absakk:
            info = info or k + 1
            kp = k
        else:
            if absakk >= _BK_ALPHA * colmax:
                kp = k
            else:
                rowmax = float(xm.max(xm.abs(a[imax, k:imax]))) if imax > k else 0.0
                if imax + 1 < n:
                    rowmax = max(rowmax, float(xm.max(xm.abs(a[imax + 1:, imax]))))
                if absakk >= _BK_ALPHA * colmax * (colmax / rowmax):
                    kp = k
                elif abs(float(a[imax, imax])) >= _BK_ALPHA * rowmax:
                    kp = imax
                else:
                    kp, kstep = imax, 2
            kk = k + kstep - 1
            if kp != kk:
                if kp + 1 < n:
                    tmp = a[kp + 1:, kk].copy()
                    a[kp + 1:, kk] = a[kp + 1:, kp]
                    a[kp + 1:, kp] = tmp
                tmp = a[kk + 1:kp, kk].copy()
                a[kk + 1:kp, kk] = a[kp, kk + 1:kp]
                a[kp, kk + 1:kp] = tmp
                t = a[kk, kk].copy()
                a[kk, kk] = a[kp, kp]
                a[kp, kp] = t
                if kstep == 2:
                    t = a[k + 1, k].copy()
                    a[k + 1, k] = a[kp, k]
                    a[kp, k] = t
            if kstep == 1:
                if k + 1 < n:
                    d11 = 1 / a[k, k]
                    x = a[k + 1:, k].copy()
                    a[k + 1:, k + 1:] -= xm.tril(d11 * xm.outer(x, x))
                    a[k + 1:, k] = x * d11
            elif k + 2 < n:
                d21 = a[k + 1, k]
                d11 = a[k + 1, k + 1] / d21
                d22 = a[k, k] / d21
                t = 1 / (d11 * d22 - 1)
                d21 = t / d21
                wk = d21 * (d11 * a[k + 2:, k] - a[k + 2:, k + 1])
                wkp1 = d21 * (d22 * a[k + 2:, k + 1] - a[k + 2:, k])
                a[k + 2:, k + 2:] -= xm.tril(xm.outer(a[k + 2:, k], wk) +
                                             xm.outer(a[k + 2:, k + 1], wkp1))
                a[k + 2:, k] = wk
                a[k + 2:, k + 1] = wkp1
        if kstep == 1:
            ipiv[k] = kp + 1
        else:
            ipiv[k] = ipiv[k + 1] = -(kp + 1)
        k += kstep
    return ipiv, info


def _ldl_factor(a, hermitian):
    """(LD, pivots, info) as LAPACK's sytrf with uplo='L' (upper triangle zeroed, as torch);
    pivots 1-based, negative pairs for 2x2 blocks; info > 0: D is singular."""
    xm = xp()
    n = a.shape[-1]
    batch = a.shape[:-2]
    ld = a.copy().reshape((_count(batch), n, n))
    piv = xm.zeros((ld.shape[0], n), dtype=xm.int32)
    info = xm.zeros((ld.shape[0],), dtype=xm.int32)
    for b in range(ld.shape[0]):
        p, info[b] = _ldl_one(ld[b])
        piv[b] = xm.asarray(p, dtype=xm.int32)
    ld = xm.tril(ld)
    return ld.reshape(a.shape), piv.reshape(batch + (n,)), info.reshape(batch)


def _ldl_solve_one(ld, ipiv, x):
    """sytrs 'L': overwrite x (n, nrhs) with A^-1 x."""
    xm = xp()
    n = ld.shape[0]
    k = 0
    while k < n:
        if ipiv[k] > 0:
            kp = ipiv[k] - 1
            if kp != k:
                x[[k, kp]] = x[[kp, k]]
            x[k + 1:] -= xm.outer(ld[k + 1:, k], x[k])
            x[k] /= ld[k, k]
            k += 1
        else:
            kp = -ipiv[k] - 1
            if kp != k + 1:
                x[[k + 1, kp]] = x[[kp, k + 1]]
            x[k + 2:] -= xm.outer(ld[k + 2:, k], x[k]) + xm.outer(ld[k + 2:, k + 1], x[k + 1])
            akm1k = ld[k + 1, k]
            akm1 = ld[k, k] / akm1k
            ak = ld[k + 1, k + 1] / akm1k
            denom = akm1 * ak - 1
            bkm1 = x[k] / akm1k
            bk = x[k + 1] / akm1k
            x[k] = (ak * bkm1 - bk) / denom
            x[k + 1] = (akm1 * bk - bkm1) / denom
            k += 2
    k = n - 1
    while k >= 0:
        if ipiv[k] > 0:
            x[k] -= ld[k + 1:, k] @ x[k + 1:]
            kp = ipiv[k] - 1
            if kp != k:
                x[[k, kp]] = x[[kp, k]]
            k -= 1
        else:
            x[k] -= ld[k + 1:, k] @ x[k + 1:]
            x[k - 1] -= ld[k + 1:, k - 1] @ x[k + 1:]
            kp = -ipiv[k] - 1
            if kp != k:
                x[[k, kp]] = x[[kp, k]]
            k -= 2
    return x


def _ldl_solve(ld, pivots, b, hermitian):
    """X with A X = B from sytrf's (LD, pivots); batch dims broadcast."""
    xm = xp()
    n = ld.shape[-1]
    batch = np.broadcast_shapes(ld.shape[:-2], pivots.shape[:-1], b.shape[:-2])
    lds = xm.broadcast_to(ld, batch + ld.shape[-2:]).reshape((_count(batch), n, n))
    ps = xm.broadcast_to(pivots, batch + pivots.shape[-1:]).reshape((_count(batch), n))
    x = xm.broadcast_to(b, batch + b.shape[-2:]).astype(b.dtype, copy=True)
    xs = x.reshape((_count(batch),) + b.shape[-2:])
    for i in range(xs.shape[0]):
        _ldl_solve_one(lds[i], [int(v) for v in ps[i].tolist()], xs[i])
    return x


KERNELS.update({
    "linalg_ldl_factor": _ldl_factor,
    "linalg_ldl_solve": _ldl_solve,
})
