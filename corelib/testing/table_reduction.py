"""Op table: reductions, scans, sorting and selection ops."""
import math

import numpy as np

import corelib
from .opinfo import (OpInfo, Sample, FLOATS, ALL_FLOATS, INTS, ALL_NUMERIC, ALL, make_tensor,
                     reduction_samples, reduction_special, sample_rng, strided_view, to_numpy)

_rng = sample_rng(4321)


def distinct_tensor(shape, dtype, device="cpu", *, noncontiguous=False, nan_at=()):
    """A tensor with pairwise distinct values (no ties), for ops whose indices or gradients
    depend on which element wins; ``nan_at`` lists flat positions to set to NaN."""
    full = shape[:-1] + (shape[-1] * 2,) if noncontiguous and shape else tuple(shape)
    n = int(np.prod(full))
    dt = np.dtype(dtype)
    if dt.kind == "b":
        arr = _rng.random(full) > 0.5
    else:
        v = _rng.permutation(n).reshape(full)
        arr = ((v - n // 2 + 0.5) * 0.37 + _rng.uniform(-0.05, 0.05, full) if dt.kind == "f"
               else (v if dt.kind == "u" else v - n // 2))
        arr = np.asarray(arr).astype(dt)
        for p in nan_at:
            arr.reshape(-1)[p] = np.nan
    return strided_view(arr, device) if noncontiguous and shape else \
        corelib.tensor(arr, device=device)


def along_samples(*kwarg_sets, distinct=True, empty=True, scalar=True, builder=None):
    """Samples for ops taking one ``dim``: 3-d with every kwarg set, 0-d, non-contiguous and
    an empty tensor (reducing over its non-empty dim)."""
    def samples(dtype, device):
        make = builder or ((lambda s, **kw: distinct_tensor(s, dtype, device, **kw)) if distinct
                           else (lambda s, **kw: make_tensor(s, dtype, device, **kw)))
        out = [Sample((make((2, 3, 4)),), dict(kw)) for kw in kwarg_sets]
        first = {k: v for k, v in kwarg_sets[0].items() if k != "dim"}
        if scalar:
            out.append(Sample((make(()),), dict(first, dim=0)))
        out.append(Sample((make((3, 4), noncontiguous=True),), dict(first, dim=1)))
        if empty:
            out.append(Sample((make((0, 3)),), dict(first, dim=1)))
        return out
    return samples


def reduce_samples(dims, distinct=False, low=None, high=None, empty=True, scalar=True):
    """Reduction samples over ``dims`` kwarg sets (all, int, negative, tuple, keepdim)."""
    def samples(dtype, device):
        make = ((lambda s, **kw: distinct_tensor(s, dtype, device, **kw)) if distinct else
                (lambda s, **kw: make_tensor(s, dtype, device, low=low, high=high, **kw)))
        out = [Sample((make((2, 3, 4)),), dict(kw)) for kw in dims]
        if scalar:
            out.append(Sample((make(()),)))
        out.append(Sample((make((3, 4), noncontiguous=True),), dict(dim=1)))
        if empty:
            out.append(Sample((make_tensor((0, 3), dtype, device),), dict(dim=1)))
        return out
    return samples


def zeros_samples(*kwarg_sets):
    """Products with one and with two zeros in a slice (exact gradients needed there)."""
    def samples(dtype, device):
        base = to_numpy(make_tensor((3, 4), dtype, device, low=0.5, high=2.0))
        base[0, 1] = 0
        base[1, 0] = base[1, 2] = 0
        t = corelib.tensor(base, device=device)
        return [Sample((t,), dict(kw)) for kw in kwarg_sets]
    return samples


def _combine(*builders):
    def samples(dtype, device):
        return [s for b in builders for s in b(dtype, device)]
    return samples


# ---------------------------------------------------------------------------------------------
# NumPy references
def _np_red(fn):
    def ref(x, dim=None, keepdim=False, **kw):
        if isinstance(dim, list):
            dim = tuple(dim)
        return np.asarray(fn(x, axis=dim, keepdims=keepdim, **kw))
    return ref


def _on_1d(fn):
    """Apply a single-dim NumPy reference; 0-d inputs act as one element."""
    def ref(x, dim=-1, keepdim=False, **kw):
        if x.ndim == 0:
            return tuple(np.asarray(o).reshape(()) for o in _as_tuple(fn(x.reshape(1), 0, True,
                                                                         **kw)))
        return fn(x, dim, keepdim, **kw)
    return ref


def _as_tuple(r):
    return r if isinstance(r, tuple) else (r,)


def _np_ext(np_val, np_arg):
    def fn(x, dim, keepdim):
        return np_val(x, axis=dim, keepdims=keepdim), np_arg(x, axis=dim, keepdims=keepdim)
    return _on_1d(fn)


def _np_argext(np_arg):
    def ref(x, dim=None, keepdim=False):
        if dim is None or x.ndim == 0:
            r = np.asarray(np_arg(x.reshape(-1)))
            return r.reshape((1,) * x.ndim) if keepdim else r
        return np.asarray(np_arg(x, axis=dim, keepdims=keepdim))
    return ref


def _np_sort(x, dim=-1, descending=False, stable=False):
    if x.ndim == 0:
        return x, np.zeros((), np.int64)
    idx = np.argsort(-x.astype(np.float64) if descending else x, axis=dim, kind="stable")
    return np.take_along_axis(x, idx, axis=dim), idx


def _np_topk(x, k, dim=-1, largest=True, sorted=True):
    v, i = _np_sort(x, dim, descending=largest)
    if x.ndim == 0:
        return v, i
    return np.take(v, np.arange(k), axis=dim), np.take(i, np.arange(k), axis=dim)


def _np_kthvalue(x, k, dim=-1, keepdim=False):
    if x.ndim == 0:
        return x, np.zeros((), np.int64)
    v, i = _np_sort(x, dim)
    v, i = np.take(v, [k - 1], axis=dim), np.take(i, [k - 1], axis=dim)
    return (v, i) if keepdim else (np.squeeze(v, dim), np.squeeze(i, dim))


def _np_median(x, dim=None, keepdim=False):
    if dim is None:
        flat = np.sort(x.reshape(-1))
        return np.asarray(flat[(flat.size - 1) // 2] if flat.size else np.nan, dtype=x.dtype)
    return _np_kthvalue(x, (x.shape[dim] + 1) // 2 if x.ndim else 1, dim, keepdim)


def _np_var(x, dim=None, unbiased=None, keepdim=False, correction=None):
    ddof = correction if correction is not None else (0 if unbiased is False else 1)
    with np.errstate(all="ignore"):
        return np.asarray(np.var(x.astype(np.float64), axis=dim, ddof=ddof, keepdims=keepdim))


def _np_std(*args, **kw):
    return np.sqrt(_np_var(*args, **kw))


def _np_vector_norm(x, ord=2, dim=None, keepdim=False):
    dim = None if dim is None or dim == [] else (tuple(dim) if isinstance(dim, list) else dim)
    a = np.abs(x.astype(np.float64))
    if ord == math.inf:
        return np.amax(a, axis=dim, keepdims=keepdim)
    if ord == -math.inf:
        return np.amin(a, axis=dim, keepdims=keepdim)
    if ord == 0:
        return np.count_nonzero(a, axis=dim, keepdims=keepdim).astype(np.float64)
    return np.sum(a ** ord, axis=dim, keepdims=keepdim) ** (1 / ord)


def _np_matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False):
    return np.linalg.norm(A.astype(np.float64), ord=ord, axis=dim, keepdims=keepdim)


def _np_scan(fn):
    def ref(x, dim, **kw):
        if x.ndim == 0:
            return x.copy()
        return fn(x.astype(np.float64), axis=dim).astype(x.dtype) if x.dtype == np.float16 \
            else fn(x, axis=dim)
    return ref


def _np_cumext(acc):
    def ref(x, dim):
        if x.ndim == 0:
            return x, np.zeros((), np.int64)
        vals = acc.accumulate(x, axis=dim)
        shape = [1] * x.ndim
        shape[dim] = x.shape[dim]
        pos = np.arange(x.shape[dim]).reshape(shape)
        # PyTorch: the last position holding the running value; a NaN wins and propagates
        hit = (x == vals) | (np.isnan(x) & np.isnan(vals)) if x.dtype.kind == "f" else x == vals
        return vals, np.maximum.accumulate(np.where(hit, pos, 0), axis=dim)
    return ref


def _np_mode(x, dim=-1, keepdim=False):
    if x.ndim == 0:
        return x, np.zeros((), np.int64)
    moved = np.moveaxis(x, dim, -1)
    vals = np.empty(moved.shape[:-1], x.dtype)
    idx = np.empty(moved.shape[:-1], np.int64)
    for pos in np.ndindex(moved.shape[:-1]):
        row = moved[pos]
        uniq, counts = np.unique(row, return_counts=True)
        best = uniq[np.argmax(counts)]
        vals[pos], idx[pos] = best, np.flatnonzero(row == best)[-1]
    if keepdim:
        return np.expand_dims(vals, dim), np.expand_dims(idx, dim)
    return vals, idx


def _np_unique(x, sorted=True, return_inverse=False, return_counts=False, dim=None):
    vals, inv, counts = np.unique(x if dim is not None else x.reshape(-1), axis=dim,
                                  return_inverse=True, return_counts=True)
    inv = inv.reshape(x.shape) if dim is None else inv.reshape(-1)
    out = (vals,) + ((inv,) if return_inverse else ()) + ((counts,) if return_counts else ())
    return out if len(out) > 1 else vals


def _np_unique_consecutive(x, return_inverse=False, return_counts=False, dim=None):
    flat = x.reshape(-1)
    keep = np.concatenate([[True], flat[1:] != flat[:-1]]) if flat.size else np.zeros(0, bool)
    out = (flat[keep],)
    if return_inverse:
        out += ((np.cumsum(keep) - 1).reshape(x.shape),)
    if return_counts:
        out += (np.diff(np.append(np.flatnonzero(keep), flat.size)),)
    return out if len(out) > 1 else out[0]


def _np_count_nonzero(x, dim=None):
    return np.asarray(np.count_nonzero(x, axis=dim))


def _np_logsumexp(x, dim, keepdim=False):
    x = x.astype(np.float64)
    m = np.amax(x, axis=dim, keepdims=True) if x.size else 0
    with np.errstate(divide="ignore"):
        r = np.log(np.sum(np.exp(x - m), axis=dim, keepdims=True)) + m
    return r if keepdim else np.squeeze(r, axis=dim)


def _np_logsumexp_torch(x, dim, keepdim=False):
    """PyTorch's logsumexp: an infinite maximum is not subtracted (a row holding +inf gives
    +inf, all -inf gives -inf, NaN gives NaN)."""
    x = x.astype(np.float64)
    m = np.amax(x, axis=dim, keepdims=True)
    m = np.where(np.isinf(m), 0.0, m)
    r = np.log(np.sum(np.exp(x - m), axis=dim, keepdims=True)) + m
    return r if keepdim else np.squeeze(r, axis=dim)


def _nan_order(x, dim, descending):
    """Stable sort order along ``dim`` with NaN above +inf (PyTorch's sort/topk rule)."""
    x = x.astype(np.float64)
    if not descending:
        return np.argsort(x, axis=dim, kind="stable")            # NumPy puts NaN last too
    moved = np.moveaxis(x, dim, -1)
    flat = moved.reshape(-1, moved.shape[-1]) if moved.size else moved.reshape(0, 0)
    order = np.stack([np.lexsort((-row, ~np.isnan(row))) for row in flat]) \
        if flat.shape[0] else np.zeros(flat.shape, np.int64)
    return np.moveaxis(order.reshape(moved.shape), -1, dim)


def _np_sort_torch(x, dim=-1, descending=False, stable=False):
    if x.ndim == 0:
        return x, np.zeros((), np.int64)
    idx = _nan_order(x, dim, descending)
    return np.take_along_axis(x, idx, axis=dim), idx


def _np_topk_torch(x, k, dim=-1, largest=True, sorted=True):
    v, i = _np_sort_torch(x, dim, descending=largest)
    return np.take(v, np.arange(k), axis=dim), np.take(i, np.arange(k), axis=dim)


def _np_kthvalue_torch(x, k, dim=-1, keepdim=False):
    v = np.take(_np_sort_torch(x, dim)[0], [k - 1], axis=dim)
    return v if keepdim else np.squeeze(v, dim)


def _np_median_torch(x, dim=None, keepdim=False):
    """PyTorch's median: the lower median; NaN if the slice holds a NaN."""
    if dim is None:
        flat = np.sort(x.reshape(-1))
        return np.asarray(flat[(flat.size - 1) // 2] if flat.size and not np.isnan(flat).any()
                          else np.nan, dtype=x.dtype)
    v = _np_kthvalue_torch(x, (x.shape[dim] + 1) // 2, dim, keepdim=True)
    v = np.where(np.isnan(x).any(axis=dim, keepdims=True), np.nan, v).astype(x.dtype)
    return v if keepdim else np.squeeze(v, dim)


def _np_nanmedian(x, dim=None, keepdim=False):
    def one(row):
        row = np.sort(row[~np.isnan(row)])
        return row[(row.size - 1) // 2] if row.size else np.nan
    v = np.apply_along_axis(one, dim, x)
    return np.asarray(np.expand_dims(v, dim) if keepdim else v, dtype=x.dtype)


def _np_histc(x, bins=100, min=0, max=0):
    lo, hi = (min, max) if min != max else (x.min(), x.max())
    return np.histogram(x, bins=bins, range=(lo, hi))[0]


def _np_aminmax(x, dim=None, keepdim=False):
    return np.amin(x, axis=dim, keepdims=keepdim), np.amax(x, axis=dim, keepdims=keepdim)


# ---------------------------------------------------------------------------------------------
# sample sets
DIMS = [dict(), dict(dim=0), dict(dim=-1, keepdim=True), dict(dim=(0, 2)), dict(dim=[-1, 0],
                                                                                keepdim=True)]
ONE_DIMS = [dict(), dict(dim=0), dict(dim=-1, keepdim=True), dict(dim=1)]
ALONG = (dict(dim=1), dict(dim=-1, keepdim=True), dict(dim=0))


def _with_nans(dtype, device):
    return [Sample((distinct_tensor((3, 4), dtype, device, nan_at=(1, 6, 7)),), kw)
            for kw in (dict(), dict(dim=1), dict(dim=0, keepdim=True))]


def _repeats(dtype, device):
    """Frequent repeated values (for mode)."""
    arr = np.asarray(_rng.integers(0, 3, size=(3, 7))).astype(dtype)
    return [Sample((corelib.tensor(arr, device=device),), kw)
            for kw in (dict(), dict(dim=0), dict(dim=1, keepdim=True))]


def _ties_stable(dtype, device):
    arr = np.asarray(_rng.integers(0, 4, size=(3, 6))).astype(dtype)
    t = corelib.tensor(arr, device=device)
    return [Sample((t,), dict(dim=1, stable=True)),
            Sample((t,), dict(dim=0, descending=True, stable=True))]


def _unique_samples(dtype, device):
    arr = np.asarray(_rng.integers(0, 4, size=(3, 4))).astype(dtype)
    t = corelib.tensor(arr, device=device)
    return [Sample((t,)), Sample((t,), dict(return_inverse=True, return_counts=True)),
            Sample((t,), dict(return_counts=True, dim=0)),
            Sample((t,), dict(return_inverse=True, dim=1)),
            Sample((t[:, ::2],), dict(return_inverse=True)),
            Sample((make_tensor((0,), dtype, device),)),
            Sample((corelib.tensor(np.asarray(2).astype(dtype), device=device),),
                   dict(return_counts=True))]


def _unique_consecutive_samples(dtype, device):
    arr = np.asarray(_rng.integers(0, 2, size=(2, 5))).astype(dtype)
    t = corelib.tensor(arr, device=device)
    return [Sample((t,)), Sample((t,), dict(return_inverse=True, return_counts=True)),
            Sample((t.reshape(-1)[1::2],), dict(return_counts=True)),
            Sample((make_tensor((0,), dtype, device),), dict(return_inverse=True))]


def _bincount_samples(dtype, device):
    x = corelib.tensor(np.asarray(_rng.integers(0, 6, size=12)).astype(dtype), device=device)
    w = make_tensor((12,), "float32", device)
    return [Sample((x,)), Sample((x,), dict(minlength=10)), Sample((x, w)),
            Sample((x,), dict(weights=w.double(), minlength=3)),
            Sample((make_tensor((0,), dtype, device),), dict(minlength=2))]


def _histc_samples(dtype, device):
    x = make_tensor((4, 5), dtype, device)
    return [Sample((x,)), Sample((x,), dict(bins=7, min=-1, max=2)),
            Sample((x[:, ::2],), dict(bins=4)), Sample((make_tensor((), dtype, device),),
                                                        dict(bins=3, min=-5, max=5))]


def _norm_samples(*kwarg_sets, matrix=False):
    def samples(dtype, device):
        make = lambda s, **kw: distinct_tensor(s, dtype, device, **kw)   # noqa: E731
        out = [Sample((make((2, 3, 4)),), dict(kw)) for kw in kwarg_sets]
        first = {k: v for k, v in kwarg_sets[0].items() if k != "dim"}
        out.append(Sample((make((3, 4), noncontiguous=True),), dict(first)))
        if not matrix:
            out.append(Sample((make(()),), dict(first)))
        return out
    return samples


INF = math.inf
FLOAT_INTS = ALL_FLOATS + ("int32", "int64")

OPS = [
    OpInfo("sum", corelib.sum, reduction_samples(dims=DIMS), dtypes=ALL, ref=_np_red(np.sum),
           gradgrad=True),
    OpInfo("mean", corelib.mean, reduction_samples(dims=DIMS), dtypes=ALL_FLOATS,
           ref=_np_red(np.mean), gradgrad=True),
    OpInfo("nansum", corelib.nansum, _combine(reduction_samples(dims=DIMS), _with_nans),
           dtypes=ALL_FLOATS, ref=_np_red(np.nansum)),
    OpInfo("nanmean", corelib.nanmean, _combine(reduction_samples(dims=DIMS[:3]), _with_nans),
           dtypes=FLOATS, ref=_np_red(np.nanmean)),
    OpInfo("prod", corelib.prod, reduce_samples(ONE_DIMS, low=-2, high=2), dtypes=ALL,
           ref=_np_red(np.prod), gradgrad=True),
    OpInfo("prod", corelib.prod, zeros_samples(dict(dim=1), dict(dim=0), dict()),
           dtypes=FLOATS, ref=_np_red(np.prod), variant="zeros",
           gradgrad=False),   # second derivative with zeros: first order only (see reduction.py)
    OpInfo("amax", corelib.amax, reduce_samples(DIMS, distinct=True), dtypes=ALL,
           ref=_np_red(np.amax), gradgrad=True),
    OpInfo("amin", corelib.amin, reduce_samples(DIMS, distinct=True), dtypes=ALL,
           ref=_np_red(np.amin)),
    OpInfo("aminmax", corelib.aminmax, reduce_samples([dict(), dict(dim=1, keepdim=True),
                                                       dict(dim=-1)], distinct=True),
           dtypes=ALL_NUMERIC, ref=_np_aminmax),
    OpInfo("max", corelib.max, lambda dt, dev: [
        Sample((distinct_tensor(s, dt, dev),)) for s in ((2, 3, 4), (), (5,))],
        dtypes=ALL, ref=np.amax, variant="all", gradgrad=True),
    OpInfo("max", corelib.max, along_samples(*ALONG), dtypes=ALL_NUMERIC,
           ref=_np_ext(np.amax, np.argmax), variant="dim", gradgrad=True),
    OpInfo("min", corelib.min, along_samples(*ALONG), dtypes=ALL_NUMERIC,
           ref=_np_ext(np.amin, np.argmin), variant="dim"),
    OpInfo("argmax", corelib.argmax, reduce_samples(ONE_DIMS, distinct=True, empty=False),
           dtypes=ALL_NUMERIC, ref=_np_argext(np.argmax), grad=False),
    OpInfo("argmin", corelib.argmin, reduce_samples(ONE_DIMS, distinct=True, empty=False),
           dtypes=ALL_NUMERIC, ref=_np_argext(np.argmin), grad=False),
    OpInfo("all", corelib.all, reduction_samples(dims=DIMS), dtypes=ALL, ref=_np_red(np.all),
           grad=False),
    OpInfo("any", corelib.any, reduction_samples(dims=DIMS), dtypes=ALL, ref=_np_red(np.any),
           grad=False),
    OpInfo("count_nonzero", corelib.count_nonzero, reduce_samples(
        [dict(), dict(dim=0), dict(dim=(0, 2)), dict(dim=-1)], low=-1, high=1), dtypes=ALL,
        ref=_np_count_nonzero, grad=False),
    OpInfo("var", corelib.var, reduce_samples(
        [dict(), dict(dim=1), dict(dim=(0, 2), keepdim=True), dict(dim=-1, correction=0),
         dict(dim=0, unbiased=False), dict(correction=2)], scalar=False),
        dtypes=ALL_FLOATS, ref=_np_var, gradgrad=True, rtol=1e-5),
    OpInfo("std", corelib.std, reduce_samples(
        [dict(), dict(dim=1), dict(dim=(0, 2), keepdim=True), dict(dim=-1, correction=0)],
        scalar=False), dtypes=ALL_FLOATS, ref=_np_std, gradgrad=True, rtol=1e-5),
    OpInfo("var_mean", corelib.var_mean, reduce_samples([dict(dim=1), dict(correction=0)],
                                                        scalar=False, empty=False),
           dtypes=FLOATS, ref=lambda x, **kw: (_np_var(x, **kw), _np_red(np.mean)(
               x, kw.get("dim"), kw.get("keepdim", False)))),
    OpInfo("std_mean", corelib.std_mean, reduce_samples([dict(dim=1, keepdim=True)],
                                                        scalar=False, empty=False),
           dtypes=FLOATS),
    OpInfo("logsumexp", corelib.logsumexp, along_samples(
        dict(dim=1), dict(dim=(0, 2), keepdim=True), dict(dim=-1), distinct=False),
        dtypes=FLOAT_INTS, ref=_np_logsumexp, gradgrad=True, check_dtype=True),
    OpInfo("norm", corelib.norm, _norm_samples(dict(), dict(p=1, dim=1), dict(p=INF, dim=-1),
                                               dict(p=3, dim=(0, 2), keepdim=True),
                                               dict(p="fro", dim=(1, 2))),
           dtypes=ALL_FLOATS, gradgrad=True),
    OpInfo("vector_norm", corelib.vector_norm, _norm_samples(
        dict(), dict(ord=1, dim=1), dict(ord=INF, dim=(0, 1)), dict(ord=-INF, dim=-1),
        dict(ord=0, dim=2), dict(ord=3.5, dim=0, keepdim=True), dict(ord=2, dim=[])),
        dtypes=ALL_FLOATS, ref=_np_vector_norm, torch_ref="linalg.vector_norm", gradgrad=True),
    OpInfo("cumsum", corelib.cumsum, along_samples(dict(dim=1), dict(dim=-1), dict(dim=0),
                                                   distinct=False),
           dtypes=ALL, ref=_np_scan(np.cumsum), gradgrad=True),
    OpInfo("cumsum", corelib.cumsum, along_samples(dict(dim=1, dtype=corelib.float64),
                                                   distinct=False),
           dtypes=("int32", "float32"), variant="dtype",
           ref=lambda x, dim, dtype: _np_scan(np.cumsum)(x.astype(np.float64), dim)),
    OpInfo("cumprod", corelib.cumprod, along_samples(dict(dim=1), dict(dim=-1), dict(dim=0),
                                                     distinct=False),
           dtypes=FLOAT_INTS, ref=_np_scan(np.cumprod), gradgrad=True),
    OpInfo("cumprod", corelib.cumprod, zeros_samples(dict(dim=1), dict(dim=0)), dtypes=FLOATS,
           ref=_np_scan(np.cumprod), variant="zeros", gradgrad=False),
    OpInfo("logcumsumexp", corelib.logcumsumexp, along_samples(dict(dim=1), dict(dim=0),
                                                               distinct=False),
           dtypes=ALL_FLOATS, ref=_np_scan(np.logaddexp.accumulate), gradgrad=True),
    OpInfo("cummax", corelib.cummax, along_samples(dict(dim=1), dict(dim=0), dict(dim=-1),
                                                   empty=False),
           dtypes=ALL_NUMERIC, ref=_np_cumext(np.maximum), gradgrad=True),
    OpInfo("cummin", corelib.cummin, along_samples(dict(dim=1), dict(dim=-1), empty=False),
           dtypes=ALL_NUMERIC, ref=_np_cumext(np.minimum)),
    OpInfo("sort", corelib.sort, along_samples(dict(dim=1), dict(dim=-1, descending=True),
                                               dict(dim=0)),
           dtypes=ALL_NUMERIC, ref=_np_sort, gradgrad=True),
    OpInfo("sort", corelib.sort, _ties_stable, dtypes=ALL_NUMERIC, ref=_np_sort, grad=False,
           variant="stable_ties"),
    OpInfo("argsort", corelib.argsort, along_samples(dict(dim=1), dict(dim=0, descending=True)),
           dtypes=ALL_NUMERIC, ref=lambda x, **kw: _np_sort(x, **kw)[1], grad=False),
    OpInfo("msort", corelib.msort, lambda dt, dev: [
        Sample((distinct_tensor((3, 4), dt, dev),)),
        Sample((distinct_tensor((4, 3), dt, dev, noncontiguous=True),))],
        dtypes=FLOATS + ("int64",), ref=lambda x: np.sort(x, axis=0)),
    OpInfo("topk", corelib.topk, along_samples(dict(k=1, dim=0), dict(k=2, dim=1),
                                               dict(k=3, dim=-1, largest=False), empty=False),
           dtypes=ALL_NUMERIC, ref=_np_topk, gradgrad=True),
    OpInfo("kthvalue", corelib.kthvalue, along_samples(dict(k=1, dim=-1, keepdim=True),
                                                       dict(k=2, dim=1), dict(k=2, dim=0),
                                                       empty=False),
           dtypes=ALL_NUMERIC, ref=_np_kthvalue),
    OpInfo("median", corelib.median, _combine(
        reduce_samples([dict()], distinct=True, empty=False),
        lambda dt, dev: [Sample((distinct_tensor((2, 4), dt, dev),))]),
        dtypes=ALL_NUMERIC, ref=_np_median, variant="all"),
    OpInfo("median", corelib.median, along_samples(dict(dim=1), dict(dim=-1, keepdim=True),
                                                   dict(dim=0), empty=False),
           dtypes=ALL_NUMERIC, ref=_np_median, variant="dim"),
    OpInfo("nanmedian", corelib.nanmedian, _combine(
        along_samples(dict(dim=1), dict(dim=0, keepdim=True), empty=False), _with_nans),
        dtypes=FLOATS),
    OpInfo("median", corelib.median, _with_nans, dtypes=FLOATS, variant="nan", grad=False),
    OpInfo("mode", corelib.mode, _repeats, dtypes=FLOAT_INTS + ("uint8",), ref=_np_mode,
           grad=False, variant="repeats"),
    OpInfo("mode", corelib.mode, along_samples(dict(dim=1), empty=False), dtypes=FLOATS,
           ref=_np_mode),
    OpInfo("unique", corelib.unique, _unique_samples, dtypes=("float32", "int64", "uint8"),
           ref=_np_unique, grad=False),
    OpInfo("unique_consecutive", corelib.unique_consecutive, _unique_consecutive_samples,
           dtypes=("float32", "int64"), ref=_np_unique_consecutive, grad=False),
    OpInfo("bincount", corelib.bincount, _bincount_samples, dtypes=("int64", "int32", "uint8"),
           ref=lambda x, weights=None, minlength=0: np.bincount(x, weights, minlength),
           grad=False),
    OpInfo("histc", corelib.histc, _histc_samples, dtypes=FLOATS, ref=_np_histc, grad=False),
]

# ---------------------------------------------------------------------------------------------
# special values (forward only): NaN/inf rows (NaN wins in max/argmax/sort/topk, PyTorch's
# rule), tied rows where PyTorch defines the index (first for max/min/argmax/argmin and max
# pooling, last for cummax/cummin, input order for a stable sort; values only elsewhere), and
# zero-size inputs reduced along their non-empty dim where the entry lacks them
R = reduction_special
E = dict(dim=1)
_SPECIAL = {
    "sum": dict(special=R(dict(), dict(dim=0), dict(dim=1, keepdim=True))),
    "mean": dict(special=R(dict(), dict(dim=0), dict(dim=1))),
    "nansum": dict(special=R(dict(), dict(dim=0), dict(dim=1))),
    "nanmean": dict(special=R(dict(), dict(dim=0), dict(dim=1))),
    "prod": dict(special=R(dict(), dict(dim=0), dict(dim=1))),
    "amax": dict(special=R(dict(), dict(dim=0), dict(dim=1), ties=True)),
    "amin": dict(special=R(dict(), dict(dim=0), dict(dim=1), ties=True)),
    "aminmax": dict(special=R(dict(), dict(dim=1), ties=True)),
    "max[all]": dict(special=R(dict(), ties=True)),
    "max[dim]": dict(special=R(dict(dim=1), dict(dim=0, keepdim=True), ties=True)),
    "min[dim]": dict(special=R(dict(dim=1), dict(dim=0, keepdim=True), ties=True)),
    "argmax": dict(special=R(dict(), dict(dim=1), dict(dim=0, keepdim=True), ties=True,
                             empty=E), special_dtypes=("float32", "int64")),
    "argmin": dict(special=R(dict(), dict(dim=1), dict(dim=0, keepdim=True), ties=True,
                             empty=E), special_dtypes=("float32", "int64")),
    "all": dict(special=R(dict(), dict(dim=1))),
    "any": dict(special=R(dict(), dict(dim=1))),
    "count_nonzero": dict(special=R(dict(), dict(dim=1))),
    "var": dict(special=R(dict(dim=1), dict(dim=0, correction=0))),
    "std": dict(special=R(dict(dim=1), dict())),
    # the variance only: PyTorch's var_mean (Welford) gives a NaN mean for a row holding +-inf,
    # its mean() gives the infinity, as corelib's var_mean does
    "var_mean": dict(special=R(dict(dim=1), empty=E, outputs=(0,))),
    "logsumexp": dict(special=R(dict(dim=1), dict(dim=0)), special_ref=_np_logsumexp_torch),
    "vector_norm": dict(special=R(dict(dim=1), dict(ord=INF, dim=1), dict(ord=1, dim=0))),
    "cumsum": dict(special=R(dict(dim=1), dict(dim=0))),
    "cumprod": dict(special=R(dict(dim=1), dict(dim=0))),
    "logcumsumexp": dict(special=R(dict(dim=1), dict(dim=0)), special_ref=None),
    "cummax": dict(special=R(dict(dim=1), dict(dim=0), ties=True, empty=E),
                   special_dtypes=("float32", "int64")),
    "cummin": dict(special=R(dict(dim=1), dict(dim=0), ties=True, empty=E),
                   special_dtypes=("float32", "int64")),
    "sort": dict(special=R(dict(dim=1, stable=True), dict(dim=1, descending=True, stable=True),
                           dict(dim=0, stable=True), ties=True), special_ref=_np_sort_torch,
                 special_dtypes=("float32", "int64")),
    "argsort": dict(special=R(dict(dim=1, stable=True), dict(dim=0, descending=True,
                                                              stable=True), ties=True, empty=E),
                    special_ref=lambda x, **kw: _np_sort_torch(x, **kw)[1]),
    "msort": dict(special=R(dict(), empty=dict()), special_ref=lambda x: np.sort(x, axis=0)),
    "topk": dict(special=R(dict(k=2, dim=1), dict(k=2, dim=1, largest=False), dict(k=3, dim=0),
                           ties=True, empty=dict(k=1, dim=1), outputs=(0,), ties_outputs=(0,)),
                 special_ref=_np_topk_torch),
    "kthvalue": dict(special=R(dict(k=2, dim=1), dict(k=1, dim=0), ties=True,
                               empty=dict(k=1, dim=1), outputs=(0,), ties_outputs=(0,)),
                     special_ref=_np_kthvalue_torch),
    "median[all]": dict(special=R(dict(), ties=True), special_ref=_np_median_torch),
    "median[dim]": dict(special=R(dict(dim=1), dict(dim=0), ties=True, empty=E, outputs=(0,),
                                  ties_outputs=(0,)), special_ref=_np_median_torch),
    "nanmedian": dict(special=R(dict(dim=1), dict(dim=0), ties=True, outputs=(0,),
                                ties_outputs=(0,)), special_ref=_np_nanmedian),
    "mode": dict(special=R(dict(dim=1), nans=False, empty=E)),
}
for _info in OPS:
    for _key, _value in _SPECIAL.get(_info.id, {}).items():
        setattr(_info, _key, _value)

if hasattr(corelib.linalg, "svdvals"):
    _matrix_ords = [dict(), dict(ord=INF), dict(ord=-INF, keepdim=True), dict(ord=1, dim=(2, 0)),
                    dict(ord=-1, dim=(-1, -2)), dict(ord="nuc"), dict(ord=2), dict(ord=-2)]
else:
    _matrix_ords = [dict(), dict(ord=INF), dict(ord=-INF, keepdim=True), dict(ord=1, dim=(2, 0)),
                    dict(ord=-1, dim=(-1, -2))]
OPS.append(OpInfo(
    "matrix_norm", corelib.matrix_norm, _norm_samples(*_matrix_ords, matrix=True),
    dtypes=FLOATS, ref=_np_matrix_norm, torch_ref="linalg.matrix_norm", gradgrad=True))
