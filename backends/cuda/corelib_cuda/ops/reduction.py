"""Reductions, scans and selections (the CPU backend's reduction kernels, same signatures).

Every reduction (sum ... vector_norm) is one template of kernels/reduction.cu instantiated per
op and dtype from ``REDUCTIONS``: the input, any strided view, is read as rows (the kept dims)
of reduced elements (the reduced dims), each group coalesced (``split_layout``); a block row of
``bx`` threads reduces one row with warp shuffles and shared memory (a few long rows are cut
into parts reduced by separate blocks, then combined by a second kernel). Scans run one thread
per line. gather/scatter-add along a dim, histc, bincount (atomicAdd) and the mode of sorted
rows are RawKernels too; sorting, unique and the median are array-API code (marked as such).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import sources
from ._util import (ALL, CTYPE, FLOATS, INTS, BLOCK, device_int64, element_strides, empty, f64,
                    grid_for, i32, i64, launch, layout, xp)
from .elementwise import astype

MAX_ROW_BLOCKS = 4096   # row kernels loop over the rest


# ---------------------------------------------------------------------------------------------
# launch geometry shared with ops/norm.py
def _pow2(n):
    """The smallest power of two >= n (1 for n <= 1)."""
    return 1 << max(0, int(n) - 1).bit_length()


def _coalesce(shape, strides, dims):
    """Sizes and per-operand stride columns of ``dims`` (in order), size-1 dims dropped and
    neighbours merged where every operand is contiguous across them."""
    sizes, cols = [], []
    for d in dims:
        if shape[d] == 1:
            continue
        col = [s[d] for s in strides]
        if sizes and all(prev == cur * shape[d] for prev, cur in zip(cols[-1], col)):
            sizes[-1] *= shape[d]
            cols[-1] = col
        else:
            sizes.append(shape[d])
            cols.append(col)
    return sizes, cols


def split_strides(shape, strides, dims):
    """(nk, nr, meta, inner) of operands with element ``strides`` (one tuple per operand) over
    ``shape``, viewed as rows: the kept dims (all but ``dims``) then the reduced ``dims``. meta is
    [kept sizes, kept strides of each operand, reduced sizes, reduced strides of each operand]
    (row_offsets / elem_offsets in reduction_block.cuh); ``inner`` says the reduced elements are
    closer in memory (operand 0) than the rows, so threads should share a row."""
    ks, kc = _coalesce(shape, strides, [d for d in range(len(shape)) if d not in dims])
    rs, rc = _coalesce(shape, strides, sorted(dims))
    nops = len(strides)
    meta = (tuple(ks) + tuple(c[k] for k in range(nops) for c in kc) +
            tuple(rs) + tuple(c[k] for k in range(nops) for c in rc))
    inner = not kc or (bool(rc) and min(abs(c[0]) for c in rc) < min(abs(c[0]) for c in kc))
    return len(ks), len(rs), device_int64(meta), inner


def split_layout(shape, operands, dims):
    """split_strides of arrays broadcast to ``shape``."""
    return split_strides(shape, [element_strides(a, shape) for a in operands], dims)


def row_config(rows, length, inner=True, threads=256):
    """(grid, block) of a row kernel: blockDim.x (a power of two) threads per row, blockDim.y
    rows per block, at least one warp per block. With ``inner`` False (rows contiguous, the row
    elements strided) rows get fewer threads each, so neighbouring threads read neighbours."""
    bx = min(_pow2(length), threads if inner else max(1, threads // _pow2(rows)))
    by = max(min(_pow2(rows), threads // bx), 32 // bx, 1)
    return (max(1, min(-(-rows // by), MAX_ROW_BLOCKS)),), (bx, by)


def threads_for(n):
    """Threads per block of a grid-stride kernel over ``n`` items: fewer for small n."""
    return min(BLOCK, max(32, _pow2(n)))


def _unsupported(op, dtype):
    return TypeError(f'"{op}" has no CUDA kernel for dtype {dtype}')


# ---------------------------------------------------------------------------------------------
# reductions: kernels/reduction.cu REDUCE_KERNEL(<op>_<dtype>, <C++ op>, TIN, TOUT)
@dataclass(frozen=True)
class Reduction:
    name: str
    op: str             # C++ op template of reduction.cu
    dtypes: tuple
    source: str
    out: str = None     # result dtype (None: the input's)


REDUCTIONS = [
    Reduction("sum", "SumOp", ALL, "reduction_sum"),
    Reduction("nansum", "NanSumOp", ALL, "reduction_sum"),
    Reduction("prod", "ProdOp", ALL, "reduction_sum"),
    Reduction("mean", "MeanOp", FLOATS, "reduction_sum"),
    Reduction("nanmean", "NanMeanOp", FLOATS, "reduction_sum"),
    Reduction("amax", "AmaxOp", ALL, "reduction_extreme"),
    Reduction("amin", "AminOp", ALL, "reduction_extreme"),
    Reduction("argmax", "ArgmaxOp", ALL, "reduction_extreme", "int64"),
    Reduction("argmin", "ArgminOp", ALL, "reduction_extreme", "int64"),
    Reduction("all", "AllOp", ALL, "reduction_extreme", "bool"),
    Reduction("any", "AnyOp", ALL, "reduction_extreme", "bool"),
    Reduction("count_nonzero", "CountNonzeroOp", ALL, "reduction_extreme", "int64"),
    Reduction("var", "VarOp", FLOATS, "reduction_stats"),
    Reduction("std", "StdOp", FLOATS, "reduction_stats"),
    Reduction("logsumexp", "LogsumexpOp", FLOATS, "reduction_stats"),
    Reduction("vector_norm", "NormOp", FLOATS, "reduction_stats"),
]
_BY_NAME = {r.name: r for r in REDUCTIONS}

# scans: SCAN_KERNEL(<name>_<dtype>, <C++ op>, TIN, TOUT)
SCANS = [("cumsum", "CumsumOp", ALL, None), ("cumprod", "CumprodOp", ALL, None),
         ("logcumsumexp", "LogcumsumexpOp", FLOATS, None),
         ("cummax", "CummaxOp", ALL, "int64"), ("cummin", "CumminOp", ALL, "int64")]

_UNSIGNED = {1: "unsigned char", 2: "unsigned short", 4: "unsigned int", 8: "unsigned long long"}
# scatter-add accumulates where atomicAdd exists: float16 in float32, small ints and bool in int32
_SCATTER_ACC = {"float16": "float32", "float32": "float32", "float64": "float64",
                "int64": "int64", "int32": "int32", "int16": "int32", "int8": "int32",
                "uint8": "int32", "bool": "int32"}


def _generate(source):
    lines = [f"REDUCE_KERNEL({r.name}_{dt}, {r.op}, {CTYPE[dt]}, {CTYPE[r.out or dt]})"
             for r in REDUCTIONS if r.source == source for dt in r.dtypes]
    return "\n".join(lines) + "\n"


def _generate_scans():
    lines = [f"SCAN_KERNEL({name}_{dt}, {op}, {CTYPE[dt]}, {CTYPE[out or dt]})"
             for name, op, dtypes, out in SCANS for dt in dtypes]
    return "\n".join(lines) + "\n"


def _generate_index():
    lines = [f"GATHER_KERNEL(gather_{size}, {ctype})" for size, ctype in _UNSIGNED.items()]
    lines += [f"SCATTER_ADD_KERNEL(scatter_add_{dt}, {CTYPE[dt]}, {CTYPE[acc]})"
              for dt, acc in _SCATTER_ACC.items()]
    lines += [f"HISTC_KERNEL(histc_{dt}, {CTYPE[dt]})" for dt in FLOATS]
    lines += [f"BINCOUNT_KERNEL(bincount_{dt}, {CTYPE[dt]})" for dt in INTS]
    lines += [f"MODE_KERNEL(mode_{dt}, {CTYPE[dt]})" for dt in ALL]
    return "\n".join(lines) + "\n"


for _source in ("reduction_sum", "reduction_extreme", "reduction_stats"):
    sources.register(_source, "reduction.cu", lambda s=_source: _generate(s))
sources.register("reduction_scan", "reduction.cu", _generate_scans)
sources.register("reduction_index", "reduction.cu", _generate_index)


def _dims(x, dim):
    if dim is None:
        return tuple(range(x.ndim))
    return (dim,) if isinstance(dim, int) else tuple(dim)


def _splits(n_out, n_red, bx):
    """Parts to cut each row into so that a few long rows still fill the GPU."""
    if n_out >= 64 or n_red < 1 << 16:
        return 1
    return max(1, min(-(-n_red // (bx * 16)), 256 // n_out))


def reduce(name, x, dim, keepdim=False, p0=0.0):
    """Run reduction ``name`` of x over ``dim`` (None: all, int, or tuple)."""
    r = _BY_NAME[name]
    dt = x.dtype.name
    if dt not in r.dtypes:
        raise _unsupported(name, dt)
    dims = _dims(x, dim)
    shape = tuple(1 if d in dims else s for d, s in enumerate(x.shape)
                  if keepdim or d not in dims)
    y = empty(shape, r.out or dt)
    n_out = y.size
    if n_out:
        n_red = math.prod(x.shape[d] for d in dims)
        nk, nr, meta, inner = split_layout(x.shape, (x,), dims)
        grid, block = row_config(n_out, n_red, inner)
        splits = _splits(n_out, n_red, block[0])
        params = (i64(n_red), i64(splits), f64(p0), f64(0.0))
        partial = None
        if splits > 1:   # room for the largest accumulator record (24 bytes)
            partial = empty((n_out * splits * 32,), np.uint8)
            grid, block = row_config(n_out * splits, n_red // splits, inner)
        kernel = f"{name}_{dt}"
        launch(sources.kernel(r.source, kernel), grid, block,
               (x, y, partial, meta, i32(nk), i32(nr), i64(n_out), *params))
        if splits > 1:
            grid, block = row_config(n_out, splits)
            launch(sources.kernel(r.source, kernel + "_finish"), grid, block,
                   (partial, y, i64(n_out), *params))
    return y


def _plain(name):
    def kernel(x, dim, keepdim):
        return reduce(name, x, dim, keepdim)
    kernel.__name__ = name
    return kernel


def _var(x, dim, keepdim, correction):
    return reduce("var", x, dim, keepdim, correction)


def _std(x, dim, keepdim, correction):
    return reduce("std", x, dim, keepdim, correction)


def _vector_norm(x, ord, dim, keepdim):
    return reduce("vector_norm", x, dim, keepdim, float(ord))


def _count_nonzero(x, dim):
    return reduce("count_nonzero", x, dim)


# ---------------------------------------------------------------------------------------------
# scans
def _scan_launch(name, x, dim, out_dtype=None):
    dt = x.dtype.name
    y = empty(x.shape, out_dtype or dt)
    if y.size:
        nk, _, meta, _ = split_layout(x.shape, (x, y), (dim,))
        lines = y.size // x.shape[dim]
        threads = threads_for(lines)
        launch(sources.kernel("reduction_scan", f"{name}_{dt}"), (grid_for(lines, threads),),
               (threads,), (x, y, meta, i32(nk), i64(lines), i64(x.shape[dim]),
                            i64(x.strides[dim] // x.itemsize), i64(y.strides[dim] // y.itemsize)))
    return y


def _scan(name, dtypes):
    def kernel(x, dim):
        if x.dtype.name not in dtypes:
            raise _unsupported(name, x.dtype.name)
        return _scan_launch(name, x, dim)
    kernel.__name__ = name
    return kernel


def _cum_extreme_indices(x, dim, largest):
    """Index of the running max (min) along dim; ties and NaNs move it forward, as PyTorch."""
    return _scan_launch("cummax" if largest else "cummin", x, dim, "int64")


# ---------------------------------------------------------------------------------------------
# gather / scatter-add along a dim
def _along_meta(shape, dim, base, idx, other):
    """(ndim, meta) over ``shape`` for [base (strides with 0 along dim), idx, other]."""
    strides = [tuple(0 if d == dim else s for d, s in enumerate(base)),
               element_strides(idx, shape), element_strides(other, shape)]
    nk, _, meta, _ = split_strides(shape, strides, ())
    return nk, meta


def _as_int64(idx):
    return idx if idx.dtype == np.int64 else astype(idx, np.int64)


def _gather(x, idx, dim, shape=None):
    """x values at ``idx`` positions along dim (numpy.take_along_axis)."""
    idx = _as_int64(idx)
    lead = [tuple(1 if d == dim else s for d, s in enumerate(a.shape)) for a in (x, idx)]
    out_shape = list(np.broadcast_shapes(*lead))
    out_shape[dim] = idx.shape[dim]
    y = empty(out_shape, x.dtype)
    if y.size:
        xs = tuple(0 if s == 1 else st // x.itemsize for s, st in zip(x.shape, x.strides))
        ndim, meta = _along_meta(y.shape, dim, xs, idx, y)
        launch(sources.kernel("reduction_index", f"gather_{x.itemsize}"),
               (grid_for(y.size, threads_for(y.size)),), (threads_for(y.size),),
               (x, idx, y, meta, i32(ndim), i64(y.size), i64(x.strides[dim] // x.itemsize),
                i64(x.shape[dim])))
    return y


def _scatter_add(src, idx, dim, shape):
    """Zeros of ``shape`` with ``src`` added at ``idx`` positions along dim (atomicAdd)."""
    dt = src.dtype.name
    idx = _as_int64(idx)
    acc = xp().zeros(tuple(shape), _SCATTER_ACC[dt])
    n = idx.size
    if n and src.size:
        out_strides = tuple(st // acc.itemsize for st in acc.strides)
        ndim, meta = _along_meta(idx.shape, dim, out_strides, idx, src)
        launch(sources.kernel("reduction_index", f"scatter_add_{dt}"),
               (grid_for(n, threads_for(n)),), (threads_for(n),),
               (src, idx, acc, meta, i32(ndim), i64(n), i64(out_strides[dim]), i64(shape[dim])))
    return acc if acc.dtype == src.dtype else astype(acc, src.dtype)


# ---------------------------------------------------------------------------------------------
# sorting and selection: array-API implementations (stable argsort; NaN sorts last)
def _argsort(x, dim, descending, stable=True):
    """Stable sort order; NaN counts as the largest value (array-API implementation)."""
    X = xp()
    if not descending:
        return X.argsort(x, axis=dim, kind="stable").astype(np.int64, copy=False)
    n = x.shape[dim]
    order = X.flip(X.argsort(X.flip(x, axis=dim), axis=dim, kind="stable"), axis=dim)
    return (n - 1 - order).astype(np.int64, copy=False)


def _take(order, start, stop, dim):
    return xp().ascontiguousarray(order[(slice(None),) * dim + (slice(start, stop),)])


def _topk(x, k, dim, largest):
    """Indices of the k largest (smallest) along dim (array-API implementation)."""
    return _take(_argsort(x, dim, largest), 0, k, dim)


def _kthvalue(x, k, dim):
    """Index of the k-th smallest along dim, dim kept (array-API implementation)."""
    return _take(_argsort(x, dim, False), k - 1, k, dim)


def _median(x, dim, ignore_nan):
    """Index of the lower median along dim, dim kept; NaN propagates unless ignore_nan
    (array-API implementation)."""
    X = xp()
    order = _argsort(x, dim, False)
    n = x.shape[dim]
    if x.dtype.kind == "f":
        nans = X.sum(X.isnan(x), axis=dim, keepdims=True)
    else:
        nans = X.zeros([1 if d == dim else s for d, s in enumerate(x.shape)], np.int64)
    if ignore_nan:
        pos = X.maximum((n - nans - 1) // 2, 0)
    else:
        pos = X.where(nans > 0, n - nans, (n - 1) // 2)
    return X.ascontiguousarray(X.take_along_axis(order, pos.astype(np.int64), axis=dim))


def _mode(x, dim):
    """Index (last occurrence) of the most frequent value along dim, dim kept; the smallest
    value wins ties. Rows are sorted with the array API, runs counted by MODE_KERNEL."""
    X = xp()
    moved = X.moveaxis(x, dim, -1)
    n = moved.shape[-1]
    rows = math.prod(moved.shape[:-1])
    out = empty((rows,), np.int64)
    if rows and n:
        flat = X.ascontiguousarray(moved).reshape(rows, n)
        order = X.ascontiguousarray(X.argsort(flat, axis=1, kind="stable").astype(np.int64))
        ordered = X.ascontiguousarray(X.take_along_axis(flat, order, axis=1))
        threads = threads_for(rows)
        launch(sources.kernel("reduction_index", f"mode_{x.dtype.name}"),
               (grid_for(rows, threads),), (threads,), (ordered, order, out, i64(rows), i64(n)))
    elif rows:
        out[...] = 0
    idx = out.reshape(moved.shape[:-1] + (1,))
    return X.ascontiguousarray(X.moveaxis(idx, -1, dim))


def _run_counts(X, mask, n):
    """Lengths of the runs starting where ``mask`` is True (array-API)."""
    starts = X.flatnonzero(mask).astype(np.int64)
    return X.diff(X.concatenate([starts, X.full((1,), n, dtype=np.int64)]))


def _sort_keys(X, a):
    """Order-preserving key dtype every sort backend supports."""
    if a.dtype == np.bool_:
        return a.astype(np.uint8)
    return a.astype(np.float32) if a.dtype == np.float16 else a


def _unique(x, dim, return_inverse, return_counts):
    """Sorted unique values (or slices along dim), inverse indices and counts; NaNs collapse
    into one (array-API implementation: stable argsort / lexsort, masks and a cumsum)."""
    X = xp()
    if dim is None:
        flat = x.reshape(-1)
        n = flat.size
        order = X.argsort(flat, kind="stable")
        s = flat[order]
        mask = X.ones(n, dtype=bool)
        mask[1:] = s[1:] != s[:-1]
        if x.dtype.kind == "f":
            mask[1:] &= ~(X.isnan(s[1:]) & X.isnan(s[:-1]))
        vals = s[mask]
        inv_shape = x.shape
    else:
        moved = X.moveaxis(x, dim, 0)
        n = moved.shape[0]
        flat = X.ascontiguousarray(moved).reshape(n, math.prod(moved.shape[1:]))
        if n and flat.shape[1]:
            keys = X.ascontiguousarray(_sort_keys(X, flat).T[::-1])   # first column primary
            order = X.lexsort(keys)
        else:
            order = X.arange(n)
        s = flat[order]
        mask = X.ones(n, dtype=bool)
        mask[1:] = X.any(s[1:] != s[:-1], axis=1)
        vals = X.ascontiguousarray(X.moveaxis(moved[order][mask], 0, dim))
        inv_shape = (n,)
    inv = X.empty(n, dtype=np.int64)
    inv[order] = X.cumsum(mask) - 1
    return vals, inv.reshape(inv_shape), _run_counts(X, mask, n)


def _unique_consecutive(x, dim, return_inverse, return_counts):
    """Runs of equal consecutive values (or slices along dim) collapsed, inverse indices and
    counts (array-API implementation)."""
    X = xp()
    moved = x.reshape(-1) if dim is None else X.moveaxis(x, dim, 0)
    n = moved.shape[0]
    flat = moved.reshape(n, math.prod(moved.shape[1:]))
    keep = X.ones(n, dtype=bool)
    if n > 1:
        keep[1:] = X.any(flat[1:] != flat[:-1], axis=1)
    vals = moved[keep]
    if dim is not None:
        vals = X.moveaxis(vals, 0, dim)
    inv = (X.cumsum(keep) - 1).astype(np.int64)
    if dim is None:
        inv = inv.reshape(x.shape)
    return X.ascontiguousarray(vals), inv, _run_counts(X, keep, n)


# ---------------------------------------------------------------------------------------------
# counting and histograms (atomicAdd)
def _bincount(x, weights=None, minlength=0, dtype="int64"):
    """Counts (or float64 weight sums) of each value of a 1-d non-negative int array."""
    n = x.size
    # the output length depends on the data: one device-to-host read of the max
    length = max(int(reduce("amax", x, None)) + 1, minlength) if n else minlength
    X = xp()
    counts = X.zeros(length, np.int64) if weights is None else None
    sums = X.zeros(length, np.float64) if weights is not None else None
    if n:
        threads = threads_for(n)
        launch(sources.kernel("reduction_index", f"bincount_{x.dtype.name}"),
               (grid_for(n, threads),), (threads,),
               (x, i64(x.strides[0] // x.itemsize), i64(n), counts, weights,
                i64(0 if weights is None else weights.strides[0] // weights.itemsize), sums))
    return counts if weights is None else astype(sums, dtype)


def _histc(x, bins, min, max):
    """Counts of ``bins`` equal bins over [min, max] (the data's range when min == max)."""
    counts = xp().zeros(bins, np.int32)
    n = x.size
    lo, hi = float(min), float(max)
    if lo == hi and n:   # the data's range: two device-to-host reads, as PyTorch does
        lo, hi = float(reduce("amin", x, None)), float(reduce("amax", x, None))
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"supplied range of [{lo}, {hi}] is not finite")
    if n:
        ndim, meta = layout(x.shape, (x,))
        threads = threads_for(n)
        launch(sources.kernel("reduction_index", f"histc_{x.dtype.name}"),
               (grid_for(n, threads),), (threads,),
               (x, counts, meta, i32(ndim), i64(n), i64(bins), f64(lo), f64(hi)))
    return astype(counts, x.dtype)


KERNELS = {r.name: _plain(r.name) for r in REDUCTIONS}
KERNELS.update({
    "var": _var,
    "std": _std,
    "vector_norm": _vector_norm,
    "count_nonzero": _count_nonzero,
    "cumsum": _scan("cumsum", ALL),
    "cumprod": _scan("cumprod", ALL),
    "logcumsumexp": _scan("logcumsumexp", FLOATS),
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
})
