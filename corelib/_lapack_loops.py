"""Unblocked LAPACK-storage algorithms (getrf, geqrf, sytf2/sytrs) written against the NumPy
array API, shared by backends whose arrays follow it (NumPy on cpu, CuPy on cuda).

Every function takes the array module ``xp`` first. LU and Householder QR are right-looking
loops over the columns, each step one array update of the whole batch; LDL^T (Bunch-Kaufman)
runs one matrix at a time, since its pivot decisions differ per matrix and read back to the
host, with rows and columns updated as vectors.
"""
from __future__ import annotations

import math

import numpy as np

_BK_ALPHA = (1 + 17 ** 0.5) / 8


def _count(shape):
    return math.prod(int(s) for s in shape)


def _stacked_copy(a):
    """(m, n, min(m, n), batch shape, batch count, a copy of a as an (count, m, n) stack)."""
    m, n = a.shape[-2:]
    batch = a.shape[:-2]
    nb = _count(batch)
    return m, n, min(m, n), batch, nb, a.copy().reshape((nb, m, n))


def lu_factor(xp, a):
    """(LU, pivots, info) as LAPACK's getrf: A = P L U with partial pivoting (first largest
    |entry| of the column), L unit lower (below the diagonal of LU), U upper, pivots 1-based
    int32 row swaps, info the 1-based index of the first zero pivot (0: none)."""
    m, n, k, batch, nb, lu = _stacked_copy(a)
    piv = xp.zeros((nb, k), dtype=xp.int32)
    info = xp.zeros((nb,), dtype=xp.int32)
    rows = xp.arange(nb)
    for j in range(k):
        p = j + xp.argmax(xp.abs(lu[:, j:, j]), axis=1)
        piv[:, j] = (p + 1).astype(xp.int32)
        top = lu[rows, j].copy()
        lu[rows, j] = lu[rows, p]
        lu[rows, p] = top
        d = lu[:, j, j]
        zero = d == 0
        info = xp.where((info == 0) & zero, j + 1, info).astype(xp.int32)
        if j + 1 < m:
            col = lu[:, j + 1:, j] / xp.where(zero, 1, d)[:, None]
            lu[:, j + 1:, j] = col
            if j + 1 < n:
                lu[:, j + 1:, j + 1:] -= col[:, :, None] * lu[:, j, None, j + 1:]
    return lu.reshape(a.shape), piv.reshape(batch + (k,)), info.reshape(batch)


def geqrf(xp, a):
    """(QR, tau) as LAPACK's geqrf: R on and above the diagonal, the Householder vectors
    v_i (v_i[i] = 1 implied) below it, H_i = I - tau_i v_i v_i^T and A = H_1 ... H_k R
    (reflectors as dlarfg: beta = -sign(alpha) ||x||, tau = 0 when x[1:] is zero)."""
    m, n, k, batch, nb, qr = _stacked_copy(a)
    tau = xp.zeros((nb, k), dtype=a.dtype)
    for j in range(k):
        alpha = qr[:, j, j].copy()
        v_low = qr[:, j + 1:, j]
        xnorm = xp.sqrt(xp.sum(v_low * v_low, axis=1))
        skip = xnorm == 0
        beta = xp.where(skip, alpha, -xp.copysign(xp.hypot(alpha, xnorm), alpha))
        tau[:, j] = xp.where(skip, 0, (beta - alpha) / xp.where(skip, 1, beta))
        scale = xp.where(skip, 0, 1 / xp.where(skip, 1, alpha - beta))
        qr[:, j + 1:, j] = v_low * scale[:, None]
        qr[:, j, j] = beta
        if j + 1 < n:
            v = xp.concatenate([xp.ones((nb, 1), a.dtype), qr[:, j + 1:, j]], axis=1)
            w = xp.matmul(v[:, None, :], qr[:, j:, j + 1:])[:, 0]
            qr[:, j:, j + 1:] -= (tau[:, j, None] * v)[:, :, None] * w[:, None, :]
    return qr.reshape(a.shape), tau.reshape(batch + (k,))


def _ldl_one(xp, a):
    """sytf2 'L' on one matrix (modified in place): returns (ipiv list, info)."""
    n = a.shape[0]
    ipiv = [0] * n
    info = 0
    k = 0
    while k < n:
        kstep = 1
        absakk = abs(float(a[k, k]))
        if k + 1 < n:
            imax = k + 1 + int(xp.argmax(xp.abs(a[k + 1:, k])))
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
                rowmax = float(xp.max(xp.abs(a[imax, k:imax]))) if imax > k else 0.0
                if imax + 1 < n:
                    rowmax = max(rowmax, float(xp.max(xp.abs(a[imax + 1:, imax]))))
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
                    a[k + 1:, k + 1:] -= xp.tril(d11 * xp.outer(x, x))
                    a[k + 1:, k] = x * d11
            elif k + 2 < n:
                d21 = a[k + 1, k]
                d11 = a[k + 1, k + 1] / d21
                d22 = a[k, k] / d21
                t = 1 / (d11 * d22 - 1)
                d21 = t / d21
                wk = d21 * (d11 * a[k + 2:, k] - a[k + 2:, k + 1])
                wkp1 = d21 * (d22 * a[k + 2:, k + 1] - a[k + 2:, k])
                a[k + 2:, k + 2:] -= xp.tril(xp.outer(a[k + 2:, k], wk) +
                                             xp.outer(a[k + 2:, k + 1], wkp1))
                a[k + 2:, k] = wk
                a[k + 2:, k + 1] = wkp1
        if kstep == 1:
            ipiv[k] = kp + 1
        else:
            ipiv[k] = ipiv[k + 1] = -(kp + 1)
        k += kstep
    return ipiv, info


def ldl_factor(xp, a):
    """(LD, pivots, info) as LAPACK's sytrf with uplo='L' (upper triangle zeroed, as torch);
    pivots 1-based, negative pairs for 2x2 blocks; info > 0: D is singular."""
    n = a.shape[-1]
    batch = a.shape[:-2]
    ld = a.copy().reshape((_count(batch), n, n))
    piv = xp.zeros((ld.shape[0], n), dtype=xp.int32)
    info = xp.zeros((ld.shape[0],), dtype=xp.int32)
    for b in range(ld.shape[0]):
        p, info[b] = _ldl_one(xp, ld[b])
        piv[b] = xp.asarray(p, dtype=xp.int32)
    ld = xp.tril(ld)
    return ld.reshape(a.shape), piv.reshape(batch + (n,)), info.reshape(batch)


def _ldl_solve_one(xp, ld, ipiv, x):
    """sytrs 'L': overwrite x (n, nrhs) with A^-1 x."""
    n = ld.shape[0]
    k = 0
    while k < n:
        if ipiv[k] > 0:
            kp = ipiv[k] - 1
            if kp != k:
                x[[k, kp]] = x[[kp, k]]
            x[k + 1:] -= xp.outer(ld[k + 1:, k], x[k])
            x[k] /= ld[k, k]
            k += 1
        else:
            kp = -ipiv[k] - 1
            if kp != k + 1:
                x[[k + 1, kp]] = x[[kp, k + 1]]
            x[k + 2:] -= xp.outer(ld[k + 2:, k], x[k]) + xp.outer(ld[k + 2:, k + 1], x[k + 1])
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


def ldl_solve(xp, ld, pivots, b):
    """X with A X = B from sytrf's (LD, pivots); batch dims broadcast."""
    n = ld.shape[-1]
    batch = np.broadcast_shapes(ld.shape[:-2], pivots.shape[:-1], b.shape[:-2])
    nb = _count(batch)
    lds = xp.broadcast_to(ld, batch + ld.shape[-2:]).reshape((nb, n, n))
    ps = xp.broadcast_to(pivots, batch + pivots.shape[-1:]).reshape((nb, n))
    x = xp.broadcast_to(b, batch + b.shape[-2:]).astype(b.dtype, copy=True)
    xs = x.reshape((nb,) + b.shape[-2:])
    for i in range(nb):
        _ldl_solve_one(xp, lds[i], [int(v) for v in ps[i].tolist()], xs[i])
    return x
