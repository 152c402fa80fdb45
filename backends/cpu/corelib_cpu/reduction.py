"""Reduction, scan and selection kernels: ``dim`` is a tuple (reductions) or an int (scans and
selections) of non-negative axes. float16 accumulates in float32, as PyTorch does. Selection
kernels return int64 indices; the frontend gathers the values (so gradients flow by index)."""
from __future__ import annotations

import numpy as np


def _acc(x):
    """The accumulation dtype: float16 works in float32."""
    return np.float32 if x.dtype == np.float16 else None


def _accumulating(fn):
    def kernel(x, dim, keepdim):
        acc = _acc(x)
        if acc is not None:
            return np.asarray(fn(x, axis=dim, keepdims=keepdim, dtype=acc)).astype(x.dtype)
        return np.asarray(fn(x, axis=dim, keepdims=keepdim), dtype=x.dtype)
    return kernel


def _plain(fn, dtype=None):
    def kernel(x, dim, keepdim):
        return np.asarray(fn(x, axis=dim, keepdims=keepdim), dtype=dtype)
    return kernel


def _var(x, dim, keepdim, correction, sqrt=False):
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.var(x, axis=dim, keepdims=keepdim, ddof=correction, dtype=_acc(x))
        if sqrt:
            r = np.sqrt(r)
    return np.asarray(r).astype(x.dtype, copy=False)


def _logsumexp(x, dim, keepdim):
    xa = x.astype(np.float32) if x.dtype == np.float16 else x
    if xa.size == 0:   # log of an empty sum: -inf (PyTorch)
        with np.errstate(divide="ignore"):
            r = np.log(np.sum(np.exp(xa), axis=dim, keepdims=keepdim))
        return np.asarray(r).astype(x.dtype)
    m = np.amax(xa, axis=dim, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    with np.errstate(divide="ignore"):
        r = np.log(np.sum(np.exp(xa - m), axis=dim, keepdims=True)) + m
    if not keepdim:
        r = np.squeeze(r, axis=dim)
    return np.asarray(r).astype(x.dtype, copy=False)


def _vector_norm(x, ord, dim, keepdim):
    xa = np.abs(x.astype(np.float32) if x.dtype == np.float16 else x)
    if ord == np.inf:
        r = np.amax(xa, axis=dim, keepdims=keepdim)
    elif ord == -np.inf:
        r = np.amin(xa, axis=dim, keepdims=keepdim)
    elif ord == 0:
        r = np.count_nonzero(xa, axis=dim, keepdims=keepdim)
    elif ord == 1:
        r = np.sum(xa, axis=dim, keepdims=keepdim)
    elif ord == 2:
        r = np.sqrt(np.sum(xa * xa, axis=dim, keepdims=keepdim))
    else:
        with np.errstate(divide="ignore"):
            r = np.sum(xa ** ord, axis=dim, keepdims=keepdim) ** (1.0 / ord)
    return np.asarray(r).astype(x.dtype, copy=False)


def _scan(fn):
    def kernel(x, dim):
        if x.dtype == np.float16:
            return fn(x.astype(np.float32), axis=dim).astype(np.float16)
        return fn(x, axis=dim, dtype=x.dtype)
    return kernel


def _logcumsumexp(x, dim):
    xa = x.astype(np.float32) if x.dtype == np.float16 else x
    return np.logaddexp.accumulate(xa, axis=dim).astype(x.dtype, copy=False)


def _arange_along(n, dim, ndim):
    shape = [1] * ndim
    shape[dim] = n
    return np.arange(n).reshape(shape)


def _cum_extreme_indices(x, dim, largest):
    """Index of the running max (min) along dim; ties and NaNs move it forward, as PyTorch."""
    running = (np.maximum if largest else np.minimum).accumulate(x, axis=dim)
    hit = x == running
    if x.dtype.kind == "f":
        hit |= np.isnan(x)
    cand = np.where(hit, _arange_along(x.shape[dim], dim, x.ndim), 0)
    return np.maximum.accumulate(cand, axis=dim).astype(np.int64) if x.size else \
        np.zeros(x.shape, np.int64)


def _argsort(x, dim, descending, stable=True):
    """Stable sort order; NaN counts as the largest value (as PyTorch)."""
    if not descending:
        return np.argsort(x, axis=dim, kind="stable").astype(np.int64)
    n = x.shape[dim]
    rev = np.flip(x, axis=dim)
    order = np.flip(np.argsort(rev, axis=dim, kind="stable"), axis=dim)
    return (n - 1 - order).astype(np.int64)


def _topk(x, k, dim, largest):
    order = _argsort(x, dim, largest)
    return np.ascontiguousarray(np.take(order, np.arange(k), axis=dim))


def _kthvalue(x, k, dim):
    return _topk(x, k, dim, False)[tuple(slice(k - 1, k) if d == dim else slice(None)
                                           for d in range(x.ndim))]


def _median(x, dim, ignore_nan):
    """Index of the lower median along dim (NaN propagates unless ignore_nan)."""
    order = _argsort(x, dim, False)
    n = x.shape[dim]
    nans = np.sum(np.isnan(x), axis=dim, keepdims=True) if x.dtype.kind == "f" else \
        np.zeros([1 if d == dim else s for d, s in enumerate(x.shape)], np.int64)
    if ignore_nan:
        pos = np.maximum((n - nans - 1) // 2, 0)
    else:
        pos = np.where(nans > 0, n - nans, (n - 1) // 2)
    return np.take_along_axis(order, pos.astype(np.int64), axis=dim)


def _mode(x, dim):
    """Index (last occurrence) of the most frequent value; the smallest value wins ties."""
    moved = np.moveaxis(x, dim, -1)
    rows, n = int(np.prod(moved.shape[:-1])), moved.shape[-1]
    flat = moved.reshape(rows, n)
    order = np.argsort(flat, axis=1, kind="stable")
    s = np.take_along_axis(flat, order, axis=1)
    start = np.ones_like(s, dtype=bool)
    start[:, 1:] = s[:, 1:] != s[:, :-1]
    run = np.cumsum(start.ravel()) - 1
    counts = np.bincount(run)
    count_at = counts[run].reshape(rows, n)
    first = np.argmax(count_at, axis=1)
    last = first + count_at[np.arange(rows), first] - 1
    idx = order[np.arange(rows), last].reshape(moved.shape[:-1] + (1,))
    return np.moveaxis(idx, -1, dim).astype(np.int64)


def _argext(fn):
    def kernel(x, dim, keepdim):
        return np.asarray(fn(x, axis=dim, keepdims=keepdim)).astype(np.int64)
    return kernel


def _full_index(idx, dim):
    """Open-mesh index tuple addressing ``idx`` positions along ``dim``."""
    grids = list(np.ogrid[tuple(slice(s) for s in idx.shape)])
    grids[dim] = idx
    return tuple(grids)


def _gather(x, idx, dim, shape=None):
    return np.take_along_axis(x, idx, axis=dim)


def _scatter_add(src, idx, dim, shape):
    out = np.zeros(shape, dtype=src.dtype)
    if src.size:
        np.add.at(out, _full_index(idx, dim), src)
    return out


def _unique(x, dim, return_inverse, return_counts):
    if dim is None:
        vals, inv, counts = np.unique(x.ravel(), return_inverse=True, return_counts=True)
        inv = inv.reshape(x.shape)
    else:
        vals, inv, counts = np.unique(x, axis=dim, return_inverse=True, return_counts=True)
        inv = inv.ravel()
    return vals, inv.astype(np.int64), counts.astype(np.int64)


def _unique_consecutive(x, dim, return_inverse, return_counts):
    moved = x.ravel() if dim is None else np.moveaxis(x, dim, 0)
    n = moved.shape[0]
    flat = moved.reshape(n, int(np.prod(moved.shape[1:])))
    keep = np.ones(n, dtype=bool)
    if n > 1:
        keep[1:] = np.any(flat[1:] != flat[:-1], axis=1)
    vals = moved[keep]
    if dim is not None:
        vals = np.moveaxis(vals, 0, dim)
    inv = np.cumsum(keep) - 1
    if dim is None:
        inv = inv.reshape(x.shape)
    counts = np.diff(np.append(np.flatnonzero(keep), n))
    return np.ascontiguousarray(vals), inv.astype(np.int64), counts.astype(np.int64)


def _bincount(x, weights=None, minlength=0, dtype="int64"):
    return np.bincount(x, weights=weights, minlength=minlength).astype(dtype)


def _histc(x, bins, min, max):
    xa = x.astype(np.float64)
    lo, hi = float(min), float(max)
    if lo == hi and xa.size:
        lo, hi = float(xa.min()), float(xa.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    xa = xa[~np.isnan(xa)]
    return np.histogram(xa, bins=bins, range=(lo, hi))[0].astype(x.dtype)


KERNELS = {
    "sum": _accumulating(np.add.reduce),
    "mean": _accumulating(np.mean),
    "nansum": _accumulating(np.nansum),
    "nanmean": _accumulating(np.nanmean),
    "prod": _accumulating(np.prod),
    "amax": _plain(np.maximum.reduce),    # the ufunc reductions themselves: np.amax/np.sum
    "amin": _plain(np.minimum.reduce),    # add ~20-30 us of dispatch on 1M elements
    "all": _plain(np.all, bool),
    "any": _plain(np.any, bool),
    "count_nonzero": lambda x, dim: np.asarray(np.count_nonzero(x, axis=dim), dtype=np.int64),
    "argmax": _argext(np.argmax),
    "argmin": _argext(np.argmin),
    "var": _var,
    "std": lambda x, dim, keepdim, correction: _var(x, dim, keepdim, correction, sqrt=True),
    "logsumexp": _logsumexp,
    "vector_norm": _vector_norm,
    "cumsum": _scan(np.cumsum),
    "cumprod": _scan(np.cumprod),
    "logcumsumexp": _logcumsumexp,
    "cum_extreme_indices": _cum_extreme_indices,
    "sort_indices": _argsort,
    "topk_indices": _topk,
    "kthvalue_indices": _kthvalue,
    "median_indices": _median,
    "mode_indices": _mode,
    "gather_along": _gather,
    "scatter_add_along": _scatter_add,
    "unique": _unique,
    "unique_consecutive": _unique_consecutive,
    "bincount": _bincount,
    "histc": _histc,
}
