"""View, layout and indexing kernels. Views are NumPy views, so writes are shared."""
from __future__ import annotations

import numpy as np


def _view(a, shape):
    try:
        return np.reshape(a, shape, copy=False)
    except ValueError:
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at "
                           "least one dimension spans across two contiguous subspaces). Use "
                           ".reshape(...) instead.") from None


def _getitem(a, key):
    """Basic indexing; new axes (None) get PyTorch's unsqueeze strides, not NumPy's 0."""
    if Ellipsis not in key:
        key = key + (Ellipsis,)
    if not any(k is None for k in key):
        return a[key]
    r = a[tuple(k for k in key if k is not None)]
    shape, pos = [], 0
    for k in key:
        if k is None:
            shape.append(1)
        elif k is Ellipsis:
            n = r.ndim - sum(1 for q in key if isinstance(q, slice))
            shape += r.shape[pos:pos + n]
            pos += n
        elif isinstance(k, slice):
            shape.append(r.shape[pos])
            pos += 1
    return np.reshape(r, shape)


def _getitem_backward(g, shape, key):
    out = np.zeros(shape, dtype=g.dtype)
    out[key] = g
    return out


def _accumulate_at(target, key, values):
    if all(not isinstance(k, np.ndarray) or k.dtype == bool for k in key):
        target[key] += values   # no repeated positions possible
    else:
        np.add.at(target, key, values)


def _index_backward(g, shape, key):
    out = np.zeros(shape, dtype=g.dtype)
    _accumulate_at(out, key, g)
    return out


def _index_put(x, value, key, accumulate):
    out = x.copy()
    if accumulate:
        _accumulate_at(out, key, np.broadcast_to(value, out[key].shape))
    else:
        out[key] = value
    return out


def _setitem(a, key, value):
    a[key] = value


def _expand(a, shape):
    """A read-only broadcast view; as PyTorch, only expanded dims get stride 0."""
    lead = len(shape) - a.ndim
    strides = (0,) * lead + tuple(0 if n != s else st for n, s, st in
                                  zip(a.shape, shape[lead:], a.strides))
    return np.lib.stride_tricks.as_strided(a, shape, strides, writeable=False)


def _strides(a):
    return tuple(s // a.itemsize for s in a.strides)


KERNELS = {
    "reshape": lambda a, shape: np.reshape(a, shape),
    "view": _view,
    "expand": _expand,
    "permute": lambda a, dims: np.transpose(a, dims),
    "contiguous": lambda a: np.array(a, order="C"),
    "clone": np.copy,
    "is_contiguous": lambda a: a.flags.c_contiguous,
    "strides": _strides,
    "getitem": _getitem,
    "getitem_backward": _getitem_backward,
    "index": lambda a, key: np.asarray(a[key]),
    "index_backward": _index_backward,
    "index_put": _index_put,
    "setitem": _setitem,
}


# ---------------------------------------------------------------------------------------------
# movement kernels (copies)
def _diagonal(a, offset, dim1, dim2):
    """A writable view of a diagonal (np.diagonal's view is read-only)."""
    n1, n2 = a.shape[dim1], a.shape[dim2]
    start = [slice(None)] * a.ndim
    if offset >= 0:
        start[dim2] = slice(min(offset, n2), None)
        length = max(min(n1, n2 - offset), 0)
    else:
        start[dim1] = slice(min(-offset, n1), None)
        length = max(min(n1 + offset, n2), 0)
    s = a[tuple(start)]
    rest = [d for d in range(a.ndim) if d not in (dim1, dim2)]
    shape = tuple(a.shape[d] for d in rest) + (length,)
    strides = tuple(s.strides[d] for d in rest) + (s.strides[dim1] + s.strides[dim2],)
    return np.lib.stride_tricks.as_strided(s, shape, strides, writeable=s.flags.writeable)


def _diagonal_backward(g, shape, offset, dim1, dim2):
    out = np.zeros(shape, dtype=g.dtype)
    _diagonal(out, offset, dim1, dim2)[...] = g
    return out


def _cat(*arrays, dim):
    """Concatenate; legacy empty 1-d arrays are skipped (as PyTorch) unless all are."""
    kept = [a for a in arrays if not (a.ndim == 1 and a.shape[0] == 0)]
    return np.concatenate(kept if kept else arrays, axis=dim)


def _repeat(a, repeats):
    return np.tile(a.reshape((1,) * (len(repeats) - a.ndim) + a.shape), repeats)


def _constant_pad(a, widths, value):
    return np.pad(a, widths, mode="constant", constant_values=value)


# ---------------------------------------------------------------------------------------------
# indexing kernels: index tensors are int64 arrays; bounds are checked before any write
# PyTorch's classes for an out-of-range index: IndexError from index_select along dim 0 and
# from index_add on tensors of at most one dim, RuntimeError otherwise
_SELECT_ERROR = {True: IndexError, False: RuntimeError}


def _check_bounds(index, size, dim, negative_ok=False, error=RuntimeError):
    if index.size == 0:
        return index
    lo, hi = int(index.min()), int(index.max())
    if hi >= size or lo < (-size if negative_ok else 0):
        bad = hi if hi >= size else lo
        raise error(f"index {bad} is out of bounds for dimension {dim} with size {size}")
    return index + size * (index < 0) if negative_ok and lo < 0 else index


def _along(index, dim):
    """Full index tuple for positions ``index`` along ``dim`` (gather/scatter addressing)."""
    grids = list(np.ogrid[tuple(slice(n) for n in index.shape)]) if index.ndim else []
    if not grids:
        return (index,)
    grids[dim] = index
    return tuple(grids)


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


def _gather_key(shape, index, dim):
    _check_index_shape(index, shape, dim)
    if not shape:
        return (), _check_bounds(index, 1, 0)
    return _along(_check_bounds(index, shape[dim], dim), dim), None


def _gather(a, index, dim, shape=None):
    key, zero_d = _gather_key(a.shape, index, dim)
    if zero_d is not None:
        return np.broadcast_to(a, index.shape).copy()
    return np.asarray(a[key])


def _gather_backward(g, index, shape, dim):
    out = np.zeros(shape, dtype=g.dtype)
    key, zero_d = _gather_key(shape, index, dim)
    if zero_d is not None:
        out[...] = g.sum()
        return out
    np.add.at(out, key, g)
    return out


def _src_values(src, index):
    if isinstance(src, np.ndarray) and src.ndim:
        return src[tuple(slice(n) for n in index.shape)]
    return src


_AT = {"sum": np.add, "add": np.add, "prod": np.multiply, "multiply": np.multiply,
       "amax": np.maximum, "amin": np.minimum, "mean": np.add}


def _identity(ufunc, dtype):
    if ufunc is np.add:
        return 0
    if ufunc is np.multiply:
        return 1
    info = np.finfo(dtype) if dtype.kind == "f" else np.iinfo(dtype) if dtype.kind in "iu" \
        else None
    if info is None:
        return ufunc is np.minimum
    if dtype.kind == "f":
        return -np.inf if ufunc is np.maximum else np.inf
    return info.min if ufunc is np.maximum else info.max


def _scatter(a, index, src, dim, reduce=None, include_self=True):
    """scatter / scatter_add / scatter_reduce out of place (``src`` array or scalar)."""
    if isinstance(src, np.ndarray) and src.ndim == index.ndim:
        _check_index_shape(index, a.shape, dim, src.shape)
    if not a.shape:
        a2, index2 = a.reshape(1), index.reshape(-1)
        src2 = src.reshape(-1) if isinstance(src, np.ndarray) else src
        return _scatter(a2, index2, src2, 0, reduce, include_self).reshape(())
    key, _ = _gather_key(a.shape, index, dim)
    out = a.copy()
    values = np.broadcast_to(_src_values(src, index), index.shape)
    if reduce is None:
        out[key] = values
        return out
    ufunc = _AT[reduce]
    if not include_self:
        out[key] = _identity(ufunc, out.dtype)
    if reduce == "mean":
        count = np.zeros(a.shape, dtype=np.int64) + (1 if include_self else 0)
        np.add.at(count, key, 1)
        np.add.at(out, key, values)
        count = np.maximum(count, 1)
        if out.dtype.kind == "f":
            return (out / count).astype(out.dtype)
        return (out // count).astype(out.dtype)
    ufunc.at(out, key, values)
    return out


def _index_key(ndim, dim, index):
    return (slice(None),) * dim + (index,)


def _index_select(a, index, dim, shape=None):
    index = index.reshape(-1)
    if not a.shape:
        if index.size != 1:
            raise RuntimeError(f"Index to scalar can have only 1 value, got {index.size} "
                               f"value(s)")
        _check_bounds(index, 1, 0, error=IndexError)
        return a.copy()
    return np.take(a, _check_bounds(index, a.shape[dim], dim, error=_SELECT_ERROR[dim == 0]),
                   axis=dim)


def _index_select_backward(g, index, shape, dim):
    out = np.zeros(shape, dtype=g.dtype)
    index = index.reshape(-1)
    if not shape:
        out[...] = g.sum()
        return out
    np.add.at(out, _index_key(len(shape), dim, index), g)
    return out


def _source_along(a, src, index, dim):
    """``src`` laid out for writing at ``index`` along ``dim`` of ``a``."""
    if not a.shape:
        return src.reshape(index.shape) if isinstance(src, np.ndarray) else src
    want = a.shape[:dim] + index.shape + a.shape[dim + 1:]
    if isinstance(src, np.ndarray) and src.shape != want:
        if src.ndim == 0 and not index.ndim:
            return src
        raise RuntimeError(f"source tensor shape {list(src.shape)} does not match the "
                           f"expected shape {list(want)}")
    return src


def _index_add(a, index, src, dim, alpha=1):
    out = a.copy()
    if not a.shape:
        _check_bounds(index, 1, 0, error=IndexError)
        out[...] += (src * alpha).sum().astype(a.dtype)
        return out
    index = _check_bounds(index, a.shape[dim], dim, error=_SELECT_ERROR[a.ndim == 1])
    src = _source_along(a, src, index, dim)
    np.add.at(out, _index_key(a.ndim, dim, index), src * alpha if alpha != 1 else src)
    return out


def _index_copy(a, index, src, dim):
    out = a.copy()
    if not a.shape:
        _check_bounds(index, 1, 0, error=IndexError)
        out[...] = src.reshape(-1)[-1] if src.size else out
        return out
    index = _check_bounds(index, a.shape[dim], dim, error=IndexError)
    out[_index_key(a.ndim, dim, index)] = _source_along(a, src, index, dim)
    return out


def _index_fill(a, index, value, dim):
    out = a.copy()
    if not a.shape:
        _check_bounds(index, 1, 0, negative_ok=True, error=IndexError)
        if index.size:
            out[...] = value
        return out
    index = _check_bounds(index, a.shape[dim], dim, negative_ok=True, error=IndexError)
    out[_index_key(a.ndim, dim, index)] = value
    return out


def _nonzero(a):
    return np.argwhere(a).astype(np.int64)


def _storage_offset(a):
    root = a
    while root.base is not None and hasattr(root.base, "__array_interface__"):
        root = root.base   # as_strided views keep their source behind a helper object
    start = a.__array_interface__["data"][0]
    return (start - root.__array_interface__["data"][0]) // a.itemsize if a.size else 0


KERNELS.update({
    "diagonal": _diagonal,
    "diagonal_backward": _diagonal_backward,
    "cat": _cat,
    "flip": lambda a, dims: np.flip(a, dims).copy(),
    "roll": lambda a, shifts, dims: np.roll(a, shifts, dims),
    "repeat": _repeat,
    "tril": lambda a, diagonal: np.tril(a, diagonal),
    "triu": lambda a, diagonal: np.triu(a, diagonal),
    "constant_pad": _constant_pad,
    "gather": _gather,
    "gather_backward": _gather_backward,
    "scatter": _scatter,
    "scatter_reduced": _scatter,
    "index_select": _index_select,
    "index_select_backward": _index_select_backward,
    "index_add": _index_add,
    "index_copy": _index_copy,
    "index_fill": _index_fill,
    "nonzero": _nonzero,
    "repeat_interleave": lambda repeats: np.repeat(np.arange(len(repeats), dtype=np.int64),
                                                    repeats),
    "storage_offset": _storage_offset,
})
