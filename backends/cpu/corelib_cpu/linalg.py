"""CPU kernels: linear algebra on (batched) NumPy arrays.

All decompositions are batched over leading dims (NumPy's gufuncs). A kernel signals a
singular or non-positive-definite input by raising ``np.linalg.LinAlgError``; the frontend
turns that into ``corelib.linalg.LinAlgError`` (any array library's ``LinAlgError`` works).
"""
from __future__ import annotations

import numpy as np


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
# LU and Householder QR in LAPACK's storage (getrf / geqrf): unblocked right-looking loops over
# the columns, each step one vectorized NumPy update of the whole batch.
def _count(shape):
    return int(np.prod(shape, dtype=np.int64))


def _lu_factor(a):
    """(LU, pivots, info) as LAPACK's getrf: A = P L U with partial pivoting (first largest
    |entry| of the column), L unit lower (below the diagonal of LU), U upper, pivots 1-based
    int32 row swaps, info the 1-based index of the first zero pivot (0: none)."""
    m, n = a.shape[-2:]
    k = min(m, n)
    batch = a.shape[:-2]
    lu = np.array(a, copy=True).reshape((_count(batch), m, n))
    nb = lu.shape[0]
    piv = np.zeros((nb, k), dtype=np.int32)
    info = np.zeros((nb,), dtype=np.int32)
    rows = np.arange(nb)
    for j in range(k):
        p = j + np.argmax(np.abs(lu[:, j:, j]), axis=1)
        piv[:, j] = p + 1
        swap = p != j
        if swap.any():
            r, q = rows[swap], p[swap]
            top = lu[r, j].copy()
            lu[r, j] = lu[r, q]
            lu[r, q] = top
        d = lu[:, j, j]
        zero = d == 0
        info[(info == 0) & zero] = j + 1
        if j + 1 < m:
            col = lu[:, j + 1:, j] / np.where(zero, 1, d)[:, None]
            lu[:, j + 1:, j] = col
            if j + 1 < n:
                lu[:, j + 1:, j + 1:] -= col[:, :, None] * lu[:, j, None, j + 1:]
    return lu.reshape(a.shape), piv.reshape(batch + (k,)), info.reshape(batch)


def _geqrf(a):
    """(QR, tau) as LAPACK's geqrf: R on and above the diagonal, the Householder vectors
    v_i (v_i[i] = 1 implied) below it, H_i = I - tau_i v_i v_i^T and A = H_1 ... H_k R
    (reflectors as dlarfg: beta = -sign(alpha) ||x||, tau = 0 when x[1:] is zero)."""
    m, n = a.shape[-2:]
    k = min(m, n)
    batch = a.shape[:-2]
    qr = np.array(a, copy=True).reshape((_count(batch), m, n))
    tau = np.zeros((qr.shape[0], k), dtype=a.dtype)
    for j in range(k):
        alpha = qr[:, j, j].copy()
        x = qr[:, j + 1:, j]
        xnorm = np.sqrt(np.sum(x * x, axis=1))
        skip = xnorm == 0
        beta = -np.copysign(np.hypot(alpha, xnorm), alpha)
        beta = np.where(skip, alpha, beta)
        safe = np.where(skip, 1, beta)
        tau[:, j] = np.where(skip, 0, (beta - alpha) / safe)
        scale = np.where(skip, 0, 1 / np.where(skip, 1, alpha - beta))
        qr[:, j + 1:, j] = x * scale[:, None]
        qr[:, j, j] = beta
        if j + 1 < n:
            v = np.concatenate([np.ones((qr.shape[0], 1), a.dtype), qr[:, j + 1:, j]], axis=1)
            w = np.einsum("bi,bij->bj", v, qr[:, j:, j + 1:])
            qr[:, j:, j + 1:] -= (tau[:, j, None] * v)[:, :, None] * w[:, None, :]
    return qr.reshape(a.shape), tau.reshape(batch + (k,))


KERNELS.update({
    "linalg_lu_factor": _lu_factor,
    "linalg_geqrf": _geqrf,
})


# ---------------------------------------------------------------------------------------------
# LDL^T with Bunch-Kaufman pivoting, LAPACK's sytf2 (lower) and sytrs: one matrix at a time
# (the pivoting decisions differ per matrix), rows and columns updated as vectors.
_BK_ALPHA = (1 + 17 ** 0.5) / 8


def _ldl_one(a):
    """sytf2 'L' on one matrix (modified in place): returns (ipiv list, info)."""
    n = a.shape[0]
    ipiv = [0] * n
    info = 0
    k = 0
    while k < n:
        kstep = 1
        absakk = abs(float(a[k, k]))
        if k + 1 < n:
            imax = k + 1 + int(np.argmax(np.abs(a[k + 1:, k])))
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
                rowmax = float(np.max(np.abs(a[imax, k:imax]))) if imax > k else 0.0
                if imax + 1 < n:
                    rowmax = max(rowmax, float(np.max(np.abs(a[imax + 1:, imax]))))
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
                    a[k + 1:, k + 1:] -= np.tril(d11 * np.outer(x, x))
                    a[k + 1:, k] = x * d11
            elif k + 2 < n:
                d21 = a[k + 1, k]
                d11 = a[k + 1, k + 1] / d21
                d22 = a[k, k] / d21
                t = 1 / (d11 * d22 - 1)
                d21 = t / d21
                wk = d21 * (d11 * a[k + 2:, k] - a[k + 2:, k + 1])
                wkp1 = d21 * (d22 * a[k + 2:, k + 1] - a[k + 2:, k])
                a[k + 2:, k + 2:] -= np.tril(np.outer(a[k + 2:, k], wk) +
                                             np.outer(a[k + 2:, k + 1], wkp1))
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
    n = a.shape[-1]
    batch = a.shape[:-2]
    ld = np.array(a, copy=True).reshape((_count(batch), n, n))
    piv = np.zeros((ld.shape[0], n), dtype=np.int32)
    info = np.zeros((ld.shape[0],), dtype=np.int32)
    for b in range(ld.shape[0]):
        p, info[b] = _ldl_one(ld[b])
        piv[b] = p
    ld = np.tril(ld)
    return ld.reshape(a.shape), piv.reshape(batch + (n,)), info.reshape(batch)


def _ldl_solve_one(ld, ipiv, x):
    """sytrs 'L': overwrite x (n, nrhs) with A^-1 x."""
    n = ld.shape[0]
    k = 0
    while k < n:
        if ipiv[k] > 0:
            kp = ipiv[k] - 1
            if kp != k:
                x[[k, kp]] = x[[kp, k]]
            x[k + 1:] -= np.outer(ld[k + 1:, k], x[k])
            x[k] /= ld[k, k]
            k += 1
        else:
            kp = -ipiv[k] - 1
            if kp != k + 1:
                x[[k + 1, kp]] = x[[kp, k + 1]]
            x[k + 2:] -= np.outer(ld[k + 2:, k], x[k]) + np.outer(ld[k + 2:, k + 1], x[k + 1])
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
    n = ld.shape[-1]
    batch = np.broadcast_shapes(ld.shape[:-2], pivots.shape[:-1], b.shape[:-2])
    lds = np.broadcast_to(ld, batch + ld.shape[-2:]).reshape((_count(batch), n, n))
    ps = np.broadcast_to(pivots, batch + pivots.shape[-1:]).reshape((_count(batch), n))
    x = np.array(np.broadcast_to(b, batch + b.shape[-2:]), dtype=b.dtype, copy=True)
    xs = x.reshape((_count(batch),) + b.shape[-2:])
    for i in range(xs.shape[0]):
        _ldl_solve_one(lds[i], [int(v) for v in ps[i]], xs[i])
    return x


KERNELS.update({
    "linalg_ldl_factor": _ldl_factor,
    "linalg_ldl_solve": _ldl_solve,
})
