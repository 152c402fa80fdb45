"""Indexing kernels (kernels/indexing.cu): gathers and scatters along one dim, advanced
indexing (``x[key]``, ``x[key] = v``, index_put and their backwards), nonzero and
repeat_interleave.

Index arrays are int64 device arrays. Bounds are checked on the host before anything is
written (a min/max reduction and one small device->host copy), raising the CPU backend's
errors; the kernels then wrap negative indices. Repeated target positions combine atomically.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .. import sources
from . import shape as _shape
from ._util import (ALL, BLOCK, CTYPE, device_int64, element_strides, empty, grid_for, i32, i64,
                    launch, scalar_args, xp)
from .elementwise import KERNELS as _ELEMENTWISE, astype, contiguous_copy, copy_into
from .shape import estrides

# combine modes of the scatter kernels (MODE_* in indexing.cu)
STORE, ADD, MUL, MAX, MIN = range(5)
_MODE = {None: STORE, "sum": ADD, "add": ADD, "mean": ADD, "prod": MUL, "multiply": MUL,
         "amax": MAX, "amin": MIN}


def _instantiate(*macros, extra=""):
    """One kernel per macro and dtype, named after it (GATHER_DIM_KERNEL: gather_dim_<dt>)."""
    return extra + "".join(f"{m}({m[:-len('_KERNEL')].lower()}_{dt}, {CTYPE[dt]})\n"
                           for m in macros for dt in ALL)


sources.register("indexing_dim", "indexing.cu", lambda: _instantiate(
    "GATHER_DIM_KERNEL", "SCATTER_DIM_KERNEL", "MEAN_DIVIDE_KERNEL"))
sources.register("indexing_advanced", "indexing.cu", lambda: _instantiate(
    "INDEX_READ_KERNEL", "INDEX_WRITE_KERNEL", extra="INDEX_OFFSETS_KERNEL(index_offsets)\n"))


def _zeros(shape, dtype):
    return xp().zeros(tuple(shape), dtype=dtype)


def _meta(shape, *strides):
    """(ndim, meta) of strided_offsets over ``shape`` for operands with these element strides
    (size-1 dims dropped; none left means a single position)."""
    keep = [d for d, n in enumerate(shape) if n != 1]
    if not keep:
        return i32(0), None
    return i32(len(keep)), device_int64(tuple(shape[d] for d in keep) +
                                        tuple(s[d] for s in strides for d in keep))


def _zero_at(strides, dim):
    return tuple(0 if d == dim else s for d, s in enumerate(strides))


def _only_at(stride, dim, ndim):
    return tuple(stride if d == dim else 0 for d in range(ndim))


# ---------------------------------------------------------------------------------------------
# checks (the CPU backend's errors)
def _minmax(*arrays):
    """[(min, max)] of each (non-empty) array, with one device->host copy."""
    x = xp()
    values = x.stack([f(a) for a in arrays for f in (x.min, x.max)]).tolist()
    return list(zip(values[::2], values[1::2]))


# PyTorch's classes for an out-of-range index: IndexError from index_select along dim 0 and
# from index_add on tensors of at most one dim, RuntimeError otherwise
_SELECT_ERROR = {True: IndexError, False: RuntimeError}


def _check_bounds(index, size, dim, negative_ok=False, error=RuntimeError):
    if not index.size:
        return
    (lo, hi), = _minmax(index)
    if hi >= size or lo < (-size if negative_ok else 0):
        bad = hi if hi >= size else lo
        raise error(f"index {bad} is out of bounds for dimension {dim} with size {size}")


def _check_index_shape(index, shape, dim, other=None):
    if index.ndim != len(shape) and not (index.ndim <= 1 and len(shape) <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input "
                           "tensor")
    for d in range(index.ndim):
        if d != dim and index.shape[d] > shape[d]:
            raise RuntimeError(f"Size does not match at dimension {d} expected index "
                               f"{list(index.shape)} to be smaller than self {list(shape)} "
                               f"apart from dimension {dim}")
        if other is not None and index.shape[d] > other[d]:
            raise RuntimeError(f"Size does not match at dimension {d} expected index "
                               f"{list(index.shape)} to be smaller than src {list(other)}")


def _source_along(a, src, index, dim):
    want = a.shape[:dim] + index.shape + a.shape[dim + 1:]
    if hasattr(src, "shape") and src.shape != want and not (src.ndim == 0 and not index.ndim):
        raise RuntimeError(f"source tensor shape {list(src.shape)} does not match the "
                           f"expected shape {list(want)}")
    return src


# ---------------------------------------------------------------------------------------------
# along one dim
def _gather_launch(src, index, out, dim, index_strides):
    """out[p] = src[p with index[p] along dim] at every position p of out."""
    n = out.size
    if n:
        st = estrides(src)
        ndim, meta = _meta(out.shape, _zero_at(st, dim), index_strides, estrides(out))
        launch(sources.kernel("indexing_dim", f"gather_dim_{src.dtype.name}"), (grid_for(n),),
               (BLOCK,), (src, index, out, meta, ndim, i64(n), i64(st[dim]), i64(src.shape[dim])))
    return out


def _scatter_launch(dst, index, src, shape, strides, dim_stride, dim_size, mode, value=0,
                    alpha=1):
    """dst[d + index[x] * dim_stride] (mode)= alpha * src[s] (or ``value`` where src is None)
    at every position of ``shape``; ``strides`` = the (d, x, s) element strides over it."""
    n = math.prod(shape)
    if n:
        ndim, meta = _meta(shape, *strides)
        launch(sources.kernel("indexing_dim", f"scatter_dim_{dst.dtype.name}"), (grid_for(n),),
               (BLOCK,), (dst, index, src, meta, ndim, i64(n), i64(dim_stride), i64(dim_size),
                          i32(mode), *scalar_args(value), *scalar_args(alpha)))


def _scatter_along(dst, index, src, dim, shape, index_strides, mode, alpha=1):
    """_scatter_launch with dst's own strides; ``src`` an array broadcast to ``shape`` or a
    scalar."""
    array = hasattr(src, "shape")
    st = estrides(dst)
    strides = (_zero_at(st, dim), index_strides,
               element_strides(src, shape) if array else (0,) * len(shape))
    _scatter_launch(dst, index, src if array else None, shape, strides, st[dim], dst.shape[dim],
                    mode, 0 if array else src, alpha)


def _sum_into(out, src, alpha=1):
    """out (one element) += alpha * sum of src."""
    z = (0,) * src.ndim
    _scatter_launch(out, device_int64((0,)), src, src.shape, (z, z, estrides(src)), 0, 1, ADD,
                    alpha=alpha)


def _index_along(out, index, src, dim, mode, alpha=1):
    """out[..., index[j], ...] (mode)= src[..., j, ...] for the (at most 1-d) index."""
    index = index.reshape(-1)
    shape = out.shape[:dim] + (index.size,) + out.shape[dim + 1:]
    if hasattr(src, "shape") and src.ndim and src.shape != shape:   # a 0-d index drops the dim
        src = _shape.reshape(src, shape)
    _scatter_along(out, index, src, dim, shape, _only_at(estrides(index)[0], dim, out.ndim),
                   mode, alpha)


def gather(a, index, dim, shape=None):
    _check_index_shape(index, a.shape, dim)
    if not a.ndim:
        _check_bounds(index, 1, 0)
        return copy_into(empty(index.shape, a.dtype), a)
    _check_bounds(index, a.shape[dim], dim)
    idx = index.reshape(1) if not index.ndim else index
    return _gather_launch(a, idx, empty(idx.shape, a.dtype), dim,
                          estrides(idx)).reshape(index.shape)


def gather_backward(g, index, shape, dim):
    out = _zeros(shape, g.dtype)
    _check_index_shape(index, shape, dim)
    if not shape:
        _check_bounds(index, 1, 0)
        _sum_into(out, g)
        return out
    _check_bounds(index, shape[dim], dim)
    idx = index.reshape(1) if not index.ndim else index
    _scatter_along(out, idx, g.reshape(idx.shape), dim, idx.shape, estrides(idx), ADD)
    return out


def _identity(mode, dtype):
    """The neutral value of a reduction (what include_self=False starts from)."""
    if mode in (ADD, MUL):
        return int(mode == MUL)
    if dtype == np.bool_:
        return mode == MIN
    if dtype.kind == "f":
        return -math.inf if mode == MAX else math.inf
    info = np.iinfo(dtype)
    return int(info.min if mode == MAX else info.max)


def scatter(a, index, src, dim, reduce=None, include_self=True):
    """scatter / scatter_add / scatter_reduce out of place (``src`` array or scalar)."""
    array = hasattr(src, "shape")
    if array and src.ndim == index.ndim:
        _check_index_shape(index, a.shape, dim, src.shape)
    if not a.ndim:
        return scatter(a.reshape(1), index.reshape(-1), src.reshape(-1) if array else src, 0,
                       reduce, include_self).reshape(())
    _check_index_shape(index, a.shape, dim)
    _check_bounds(index, a.shape[dim], dim)
    out = contiguous_copy(a)
    idx = index.reshape(1) if not index.ndim else index
    if not idx.size:
        return out
    if array and src.ndim:
        src = src[tuple(slice(n) for n in idx.shape)]

    def along(dst, value, mode):
        _scatter_along(dst, idx, value, dim, idx.shape, estrides(idx), mode)

    mode = _MODE[reduce]
    if reduce is not None and not include_self:
        along(out, _identity(mode, out.dtype), STORE)
    along(out, src, mode)
    if reduce == "mean":
        count = xp().full(a.shape, int(include_self), dtype=np.int64)   # array-API fill
        along(count, 1, ADD)
        launch(sources.kernel("indexing_dim", f"mean_divide_{out.dtype.name}"),
               (grid_for(out.size),), (BLOCK,), (out, count, i64(out.size)))
    return out


def index_select(a, index, dim, shape=None):
    index = index.reshape(-1)
    if not a.ndim:
        if index.size != 1:
            raise RuntimeError(f"Index to scalar can have only 1 value, got {index.size} "
                               f"value(s)")
        _check_bounds(index, 1, 0, error=IndexError)
        return contiguous_copy(a)
    _check_bounds(index, a.shape[dim], dim, error=_SELECT_ERROR[dim == 0])
    out = empty(a.shape[:dim] + (index.size,) + a.shape[dim + 1:], a.dtype)
    return _gather_launch(a, index, out, dim, _only_at(estrides(index)[0], dim, a.ndim))


def index_select_backward(g, index, shape, dim):
    out = _zeros(shape, g.dtype)
    if not shape:
        _sum_into(out, g)
        return out
    _index_along(out, index, g, dim, ADD)
    return out


def index_add(a, index, src, dim, alpha=1):
    out = contiguous_copy(a)
    if not a.ndim:
        _check_bounds(index, 1, 0, error=IndexError)
        _sum_into(out, src, alpha)
        return out
    _check_bounds(index, a.shape[dim], dim, error=_SELECT_ERROR[a.ndim == 1])
    _index_along(out, index, _source_along(a, src, index, dim), dim, ADD, alpha)
    return out


def index_copy(a, index, src, dim):
    out = contiguous_copy(a)
    if not a.ndim:
        _check_bounds(index, 1, 0, error=IndexError)
        if src.size:
            copy_into(out, src.reshape(-1)[-1:].reshape(()))
        return out
    _check_bounds(index, a.shape[dim], dim, error=IndexError)
    _index_along(out, index, _source_along(a, src, index, dim), dim, STORE)
    return out


def index_fill(a, index, value, dim):
    out = contiguous_copy(a)
    if not a.ndim:
        _check_bounds(index, 1, 0, negative_ok=True, error=IndexError)
        if index.size:
            _index_along(out.reshape(1), device_int64((0,)), value, 0, STORE)
        return out
    _check_bounds(index, a.shape[dim], dim, negative_ok=True, error=IndexError)
    _index_along(out, index, value, dim, STORE)
    return out


# ---------------------------------------------------------------------------------------------
# advanced indexing: x[key] with integer / boolean arrays among ints, slices, None, Ellipsis
def _is_basic(key):
    return not any(hasattr(k, "dtype") for k in key)


def _device_index(k):
    """An index array on the device: bool masks as they are, integers as int64."""
    k = xp().asarray(k)   # a host (CPU tensor) index is copied over
    return k if k.dtype in (np.bool_, np.int64) else astype(k, np.int64)


class _Plan(NamedTuple):
    """``a[key]`` as reads of the basic view ``w`` at ``offs`` (one element offset per position
    of the broadcast index shape ``bshape``) plus the remaining dims ``rshape``. The result has
    ``out_shape``; ``perm`` orders its dims as (bshape..., rshape...), over which ``base`` are
    w's element strides (0 on the index dims)."""
    w: object
    offs: object
    bshape: tuple
    rshape: tuple
    out_shape: tuple
    perm: tuple
    base: tuple


def _plan(a, key):
    """NumPy's advanced indexing rules: ints count as (0-d) index arrays; broadcast index dims
    replace the indexed dims in place when those are adjacent, else they come first."""
    key = _shape.full_key(a.ndim, tuple(_device_index(k) if hasattr(k, "dtype") else k
                                        for k in key))
    basic, adv, checks = [], [], []   # adv: (dim of w, index array or None for an int)
    dim = 0
    for k in key:
        wd = len(basic)
        if k is None:
            basic.append(None)
        elif isinstance(k, slice):
            basic.append(k)
            dim += 1
        elif isinstance(k, int):
            n = a.shape[dim]
            if not -n <= k < n:
                raise IndexError(f"index {k} is out of bounds for dimension {dim} with size {n}")
            basic.append(slice(k % n, k % n + 1))
            adv.append((wd, None))
            dim += 1
        elif k.dtype == np.bool_ and not k.ndim:   # a new dim indexed by [0] (True) or []
            basic.append(None)
            adv.append((wd, _zeros((int(bool(k)),), np.int64)))
        elif k.dtype == np.bool_:
            got = a.shape[dim:dim + k.ndim]
            if k.shape != got:
                raise IndexError(f"The shape of the mask {list(k.shape)} at index {dim} does "
                                 f"not match the shape of the indexed tensor {list(got)}")
            for c in xp().nonzero(k):   # array-API: the mask's coordinates
                adv.append((len(basic), c))
                basic.append(slice(None))
                dim += 1
        else:
            basic.append(slice(None))
            adv.append((wd, k))
            checks.append((k, wd, dim))
            dim += 1
    w = _shape.getitem(a, tuple(basic))
    checks = [c for c in checks if c[0].size]
    if checks:
        for (lo, hi), (_, wd, d) in zip(_minmax(*(c[0] for c in checks)), checks):
            n = w.shape[wd]
            if hi >= n or lo < -n:
                raise IndexError(f"index {hi if hi >= n else lo} is out of bounds for "
                                 f"dimension {d} with size {n}")
    arrays = [(wd, k) for wd, k in adv if k is not None]
    try:
        bshape = tuple(np.broadcast_shapes(*(k.shape for _, k in arrays)))
    except ValueError:
        raise IndexError("shape mismatch: indexing tensors could not be broadcast together "
                         "with shapes " + ", ".join(str(list(k.shape)) for _, k in arrays)) \
            from None
    ws = estrides(w)
    nb = math.prod(bshape)
    offs = empty((nb,), np.int64)
    if nb:
        first = arrays[0][1]
        if len(arrays) == 1 and first.shape == bshape and first.flags.c_contiguous:
            stacked = first
        else:
            stacked = empty((len(arrays),) + bshape, np.int64)
            for j, (_, k) in enumerate(arrays):
                copy_into(stacked[j, ...], k)
        meta = device_int64(tuple(w.shape[wd] for wd, _ in arrays) +
                            tuple(ws[wd] for wd, _ in arrays))
        launch(sources.kernel("indexing_advanced", "index_offsets"), (grid_for(nb),), (BLOCK,),
               (stacked, offs, meta, i32(len(arrays)), i64(nb)))
    advdims = [wd for wd, _ in adv]
    rdims = [d for d in range(w.ndim) if d not in advdims]
    rshape = tuple(w.shape[d] for d in rdims)
    adjacent = advdims == list(range(advdims[0], advdims[-1] + 1))
    p = sum(d < advdims[0] for d in rdims) if adjacent else 0
    out_shape = rshape[:p] + bshape + rshape[p:]
    nbd = len(bshape)
    perm = tuple(range(p, p + nbd)) + tuple(range(p)) + tuple(range(p + nbd, len(out_shape)))
    return _Plan(w, offs, bshape, rshape, out_shape, perm,
                 (0,) * nbd + tuple(ws[d] for d in rdims))


def _plan_launch(name, plan, other, mode=None):
    """index_read / index_write between plan.w and ``other`` (laid out as plan.out_shape)."""
    n = math.prod(plan.out_shape)
    if not n:
        return
    strides = element_strides(other, plan.out_shape)
    ndim, meta = _meta(plan.bshape + plan.rshape, plan.base, tuple(strides[d] for d in plan.perm))
    args = (plan.w, other, plan.offs, meta, ndim, i64(n), i64(math.prod(plan.rshape)))
    launch(sources.kernel("indexing_advanced", f"{name}_{plan.w.dtype.name}"), (grid_for(n),),
           (BLOCK,), args if mode is None else args + (i32(mode),))


def _fit(value, shape):
    """``value`` with leading size-1 dims beyond ``shape``'s rank dropped; checks it
    broadcasts to ``shape``."""
    extra = value.ndim - len(shape)
    if extra > 0 and all(n == 1 for n in value.shape[:extra]):
        value = value.reshape(value.shape[extra:])
    try:
        ok = np.broadcast_shapes(value.shape, tuple(shape)) == tuple(shape)
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"shape mismatch: value tensor of shape {list(value.shape)} cannot be "
                         f"broadcast to indexing result of shape {list(shape)}")
    return value


def _write(dst, key, value, mode):
    """dst[key] = value (mode STORE) or += value (ADD; repeated positions accumulate)."""
    if not hasattr(value, "shape"):
        value = xp().full((), value, dtype=dst.dtype)   # array-API fill of a 0-d value
    elif value.dtype != dst.dtype:
        value = astype(value, dst.dtype)
    elif xp().may_share_memory(dst, value):   # e.g. x[1:] = x[:-1]
        value = contiguous_copy(value)
    if _is_basic(key):
        view = _shape.getitem(dst, key)
        value = _fit(value, view.shape)
        if mode == ADD:
            _ELEMENTWISE["add"](view, value, out=view)
        else:
            copy_into(view, value)
        return
    plan = _plan(dst, key)
    _plan_launch("index_write", plan, _fit(value, plan.out_shape), mode)


def index(a, key):
    if _is_basic(key):
        return contiguous_copy(_shape.getitem(a, key))
    plan = _plan(a, key)
    out = empty(plan.out_shape, a.dtype)
    _plan_launch("index_read", plan, out)
    return out


def index_backward(g, shape, key):
    out = _zeros(shape, g.dtype)
    _write(out, key, g, ADD)
    return out


def index_put(x, value, key, accumulate):
    out = contiguous_copy(x)
    _write(out, key, value, ADD if accumulate else STORE)
    return out


def setitem(a, key, value):
    _write(a, key, value, STORE)


# ---------------------------------------------------------------------------------------------
# data-dependent sizes
def nonzero(a):
    # array-API (NumPy and CuPy argwhere); a 0-d input has one or no row of zero coordinates
    if not a.ndim:
        return xp().argwhere(a.reshape(1))[:, :0].astype(np.int64)
    return xp().argwhere(a).astype(np.int64, copy=False)


def repeat_interleave(repeats):
    # array-API: each output position's source is a binary search in the running totals
    x = xp()
    if not repeats.size:
        return x.zeros((0,), dtype=np.int64)
    ends = x.cumsum(repeats)
    total = int(ends[-1])   # the output size: one device->host copy
    return x.searchsorted(ends, x.arange(total, dtype=np.int64), side="right").astype(np.int64)


KERNELS = {
    "gather": gather,
    "gather_backward": gather_backward,
    "scatter": scatter,
    "scatter_reduced": scatter,
    "index_select": index_select,
    "index_select_backward": index_select_backward,
    "index_add": index_add,
    "index_copy": index_copy,
    "index_fill": index_fill,
    "index": index,
    "index_backward": index_backward,
    "index_put": index_put,
    "setitem": setitem,
    "nonzero": nonzero,
    "repeat_interleave": repeat_interleave,
}
