"""Op table: indexing ops (gather/scatter family, index_* ops, masks, advanced indexing)."""
import numpy as np

import corelib
from .opinfo import OpInfo, Sample, ALL, FLOATS, NUMERIC, make_tensor, filled_special


def _idx(values, device):
    return corelib.tensor(np.asarray(values, dtype=np.int64), device=device)


def _mask(shape, device, seed=0):
    rng = np.random.default_rng(seed)
    return corelib.tensor(rng.random(shape) > 0.5, device=device)


def _samples(build):
    """A sample factory from ``build(t)``: ``t(shape, nc=False)`` makes an input of the dtype
    under test, ``t.idx(values)`` an int64 index and ``t.mask(shape, seed)`` a bool mask, all
    on the device under test."""
    def samples(dtype, device):
        def t(shape, nc=False, **kw):
            return make_tensor(shape, dtype, device, noncontiguous=nc, **kw)
        t.idx = lambda values: _idx(values, device)
        t.mask = lambda shape, seed=0: _mask(shape, device, seed)
        t.cpu_idx = lambda values: _idx(values, "cpu")   # indexing accepts cpu indices
        return [s if isinstance(s, Sample) else Sample(*s) for s in build(t)]
    return samples


# --- gather / take_along_dim: indices may repeat; index smaller than input in other dims
def _gather_samples(t):
    return [((t((3, 4)), 0, t.idx([[0, 1, 2, 0], [2, 2, 1, 0]])), {}),
            ((t((3, 4), nc=True), 1, t.idx([[3, 0], [1, 1], [0, 2]])), {}),
            ((t((3, 4)), -1, t.idx([[1], [0]])), {}),
            ((t((2, 3, 2)), 1, t.idx(np.zeros((2, 2, 2)))), {}),
            ((t(()), 0, t.idx(0)), {}),
            ((t((3, 4)), 0, t.idx(np.zeros((0, 4)))), {})]


def _np_gather(a, dim, index):
    if a.ndim == 0:
        return a.reshape(()).copy()
    dim %= a.ndim
    crop = tuple(slice(None) if d == dim else slice(n) for d, n in enumerate(index.shape))
    return np.take_along_axis(a[crop], index, axis=dim)


def _take_along_samples(t):
    return [((t((3, 4)), t.idx([[0, -1, 2, 0]]), 0), {}),
            ((t((3, 4), nc=True), t.idx([[3], [0], [-2]]), 1), {}),
            ((t((3, 4)), t.idx([5, 11, 0])), {}),
            ((t((2, 1, 3)), t.idx(np.ones((1, 4, 3))), 2), {})]


def _np_take_along(a, indices, dim=None):
    if dim is None:
        return np.take(a.reshape(-1), indices)
    shape = list(np.broadcast_shapes(
        tuple(1 if d == dim else n for d, n in enumerate(a.shape)),
        tuple(1 if d == dim else n for d, n in enumerate(indices.shape))))
    a = np.broadcast_to(a, tuple(shape[:dim]) + (a.shape[dim],) + tuple(shape[dim + 1:]))
    indices = np.broadcast_to(indices, tuple(shape[:dim]) + (indices.shape[dim],) +
                              tuple(shape[dim + 1:]))
    return np.take_along_axis(a, indices, axis=dim)


# --- scatter family: plain scatter uses distinct target positions (torch is nondeterministic
# for repeats); reductions use repeated ones
_DISTINCT = [[0, 2, 1, 2], [2, 0, 0, 1]]
_REPEATED = [[0, 2, 0, 2], [0, 0, 1, 0]]


def _scatter_samples(t):
    return [((t((3, 4)), 0, t.idx(_DISTINCT), t((2, 4))), {}),
            ((t((3, 4), nc=True), 1, t.idx([[3, 0], [1, 2]]), t((2, 2))), {}),
            ((t((3, 4)), -1, t.idx([[1], [0]]), 2), {}),
            ((t(()), 0, t.idx(0), t(())), {}),
            ((t((3, 4)), 0, t.idx(np.zeros((0, 4))), t((0, 4))), {})]


def _np_scatter(a, dim, index, src, reduce=None, include_self=True):
    out, shape = a.copy(), a.shape
    if a.ndim == 0:
        a, out, index = a.reshape(1), out.reshape(1), index.reshape(-1)
        src = src.reshape(-1) if isinstance(src, np.ndarray) else src
    grids = list(np.indices(index.shape, sparse=True))
    grids[dim] = index
    key = tuple(grids)
    vals = np.broadcast_to(src[tuple(slice(n) for n in index.shape)]
                           if isinstance(src, np.ndarray) else src, index.shape)
    if reduce is None:
        out[key] = vals
        return out.reshape(shape)
    ufunc = {"sum": np.add, "add": np.add, "prod": np.multiply, "multiply": np.multiply,
             "amax": np.maximum, "amin": np.minimum, "mean": np.add}[reduce]
    if not include_self:
        info = np.iinfo(a.dtype) if a.dtype.kind in "iu" else np.finfo(a.dtype)
        low, high = (-np.inf, np.inf) if a.dtype.kind == "f" else (info.min, info.max)
        out[key] = {np.add: 0, np.multiply: 1}.get(
            ufunc, low if ufunc is np.maximum else high)   # identities (a scattered inf stays)
    ufunc.at(out, key, vals)
    if reduce == "mean":
        count = np.full(a.shape, 1 if include_self else 0)
        np.add.at(count, key, 1)
        out = out / np.maximum(count, 1)
    return out.astype(a.dtype).reshape(shape)


def _scatter_add_samples(t):
    return [((t((3, 4)), 0, t.idx(_REPEATED), t((2, 4))), {}),
            ((t((3, 4), nc=True), 1, t.idx([[3, 3], [1, 1]]), t((2, 2))), {}),
            ((t(()), 0, t.idx(0), t(())), {})]


def _scatter_reduce_samples(reduce):
    def build(t):
        kw = dict(low=0.5, high=3.0) if reduce == "prod" else {}
        return [((t((3, 4), **kw), 0, t.idx(_REPEATED), t((2, 4), **kw), reduce), {}),
                ((t((3, 4), nc=True, **kw), 1, t.idx([[3, 3], [1, 1]]), t((2, 2), **kw),
                  reduce), dict(include_self=False)),
                ((t((3, 4), **kw), -1, t.idx([[0, 1, 0]]), t((1, 3), **kw), reduce),
                 dict(include_self=False))]
    return _samples(build)


def _scatter_legacy_samples(t):
    return [((t((3, 4)), 0, t.idx(_REPEATED), t((2, 4))), dict(reduce="add")),
            ((t((3, 4), low=0.5, high=2.0), 1, t.idx([[3, 3], [1, 1]]), 1.5),
             dict(reduce="multiply"))]


# --- index_* ops along one dim
def _index_select_samples(t):
    return [((t((3, 4)), 0, t.idx([2, 0, 2])), {}), ((t((3, 4), nc=True), -1, t.idx([3, 1])), {}),
            ((t((3, 4)), 1, t.idx([])), {}), ((t(()), 0, t.idx([0])), {}),
            ((t((2, 3, 2)), 1, t.idx(1)), {})]


def _index_add_samples(t):
    return [((t((3, 4)), 0, t.idx([2, 0, 2]), t((3, 4))), {}),
            ((t((3, 4), nc=True), -1, t.idx([3, 1]), t((3, 2))), dict(alpha=2)),
            ((t((3, 4)), 1, t.idx([]), t((3, 0))), {})]


def _index_copy_samples(t):
    return [((t((3, 4)), 0, t.idx([2, 0]), t((2, 4))), {}),
            ((t((3, 4), nc=True), -1, t.idx([3, 1]), t((3, 2))), {}),
            ((t((3, 4)), 1, t.idx([]), t((3, 0))), {})]


def _index_fill_samples(t):
    return [((t((3, 4)), 0, t.idx([2, 0, 2]), 1), {}), ((t((3, 4), nc=True), -1, t.idx([3, 1]),
                                                        t(())), {}),
            ((t((3, 4)), 1, t.idx([]), 0), {})]


def _np_index_add(a, dim, index, src, alpha=1):
    out = a.copy()
    np.add.at(out, (slice(None),) * (dim % a.ndim) + (index,), src * alpha)
    return out


def _np_index_copy(a, dim, index, src):
    out = a.copy()
    out[(slice(None),) * (dim % a.ndim) + (index,)] = src
    return out


def _np_index_fill(a, dim, index, value):
    out = a.copy()
    out[(slice(None),) * (dim % a.ndim) + (index,)] = value
    return out


# --- masks and flat indices
def _masked_fill_samples(t):
    return [((t((3, 4)), t.mask((3, 4)), 1), {}),
            ((t((3, 4), nc=True), t.mask((4,), 1), t(())), {}),
            ((t(()), t.mask(()), 0), {}), ((t((0, 4)), t.mask((0, 4)), 1), {}),
            ((t((3, 1)), t.mask((2, 3, 4), 2), 1), {})]


def _np_masked_fill(a, mask, value):
    return np.where(mask, np.asarray(value).astype(a.dtype), a)


def _masked_select_samples(t):
    return [((t((3, 4)), t.mask((3, 4))), {}), ((t((3, 4), nc=True), t.mask((4,), 1)), {}),
            ((t(()), t.mask(())), {}), ((t((0, 4)), t.mask((0, 4))), {})]


def _np_masked_select(a, mask):
    a, mask = np.broadcast_arrays(a, mask)
    return a[mask]


def _masked_scatter_samples(t):
    return [((t((3, 4)), t.mask((3, 4)), t((12,))), {}),
            ((t((3, 4), nc=True), t.mask((4,), 1), t((4, 4))), {}),
            ((t((0, 4)), t.mask((0, 4)), t((2,))), {})]


def _np_masked_scatter(a, mask, source):
    a, mask = np.broadcast_arrays(a, mask)
    out = a.copy()
    out[mask] = source.reshape(-1)[:mask.sum()]
    return out


def _take_samples(t):
    return [((t((3, 4)), t.idx([[0, -1], [11, 3]])), {}), ((t((3, 4), nc=True), t.idx([5, 5])), {}),
            ((t(()), t.idx(0)), {}), ((t((3, 4)), t.idx([])), {})]


def _put_samples(t):
    return [((t((3, 4)), t.idx([0, -1, 5]), t((3,))), {}),
            ((t((3, 4), nc=True), t.idx([[1, 1], [2, 1]]), t((2, 2))), dict(accumulate=True)),
            ((t(()), t.idx([0]), t((1,))), {})]


def _np_put(a, index, source, accumulate=False):
    out = a.reshape(-1).copy()
    if accumulate:
        np.add.at(out, index.reshape(-1), source.reshape(-1))
    else:
        out[index.reshape(-1)] = source.reshape(-1)
    return out.reshape(a.shape)


def _nonzero_samples(t):
    return [((t((3, 4), low=-1, high=2),), {}), ((t((3, 4), nc=True, low=-1, high=2),), {}),
            ((t(()),), {}), ((t((0, 4)),), {}), ((t((2, 3, 2), low=-1, high=2),), {})]


# --- advanced indexing reads
def _getitem_samples(t):
    return [((t((4, 3)), t.idx([0, 2, 2, -1])), {}),
            ((t((4, 3), nc=True), (t.idx([[0, 1], [3, 3]]), slice(None, 2))), {}),
            ((t((4, 3)), (slice(1, None), t.idx([2, 0]))), {}),
            ((t((4, 3)), t.mask((4, 3))), {}),
            ((t((4, 3)), (t.mask((4,), 3), 1)), {}),
            ((t((2, 3, 4)), (t.idx([1, 0]), Ellipsis, t.idx([3, 3]))), {}),
            ((t((4, 3)), (None, t.idx([1]))), {}),
            ((t((4, 3)), (t.cpu_idx([3, 0]), t.idx([1, 2]))), {})]


def _np_getitem(a, key):
    return a[key]


def _index_put_samples(t):
    return [((t((4, 3)), (t.idx([0, 2, 2]),), t((3, 3))), dict(accumulate=True)),
            ((t((4, 3), nc=True), (t.idx([3, 1]), t.idx([0, 0])), t((2,))), {}),
            ((t((4, 3)), (t.mask((4, 3)),), t(())), {}),
            ((t((4, 3)), (t.idx([1, 1]), t.idx([2, 2])), t(())), dict(accumulate=True))]


def _np_index_put(a, indices, values, accumulate=False):
    out = a.copy()
    if accumulate:
        np.add.at(out, tuple(indices), np.broadcast_to(values, out[tuple(indices)].shape))
    else:
        out[tuple(indices)] = values
    return out


def _getitem(x, key):
    return x[key]


OPS = [
    OpInfo("gather", corelib.gather, _samples(_gather_samples), ref=_np_gather, dtypes=ALL,
           gradgrad=True),
    OpInfo("take_along_dim", corelib.take_along_dim, _samples(_take_along_samples),
           ref=_np_take_along, dtypes=ALL),
    OpInfo("scatter", corelib.scatter, _samples(_scatter_samples), ref=_np_scatter, dtypes=ALL,
           gradgrad=True),
    OpInfo("scatter", corelib.scatter, _samples(_scatter_legacy_samples), ref=_np_scatter,
           dtypes=FLOATS, variant="legacy_reduce", grad=False),
    OpInfo("scatter_add", corelib.scatter_add, _samples(_scatter_add_samples),
           ref=lambda a, d, i, s: _np_scatter(a, d, i, s, "sum"), dtypes=ALL[:-1],
           gradgrad=True),
] + [
    OpInfo("scatter_reduce", corelib.scatter_reduce, _scatter_reduce_samples(r), variant=r,
           ref=_np_scatter, dtypes=FLOATS if r == "mean" else NUMERIC)
    for r in ("sum", "prod", "mean", "amax", "amin")
] + [
    OpInfo("index_select", corelib.index_select, _samples(_index_select_samples),
           ref=lambda a, d, i: np.take(a, i.reshape(-1), axis=d) if a.ndim else a.copy(),
           dtypes=ALL, gradgrad=True),
    OpInfo("index_add", corelib.index_add, _samples(_index_add_samples), ref=_np_index_add,
           dtypes=NUMERIC, gradgrad=True),
    OpInfo("index_copy", corelib.index_copy, _samples(_index_copy_samples), ref=_np_index_copy,
           dtypes=ALL),
    OpInfo("index_fill", corelib.index_fill, _samples(_index_fill_samples), ref=_np_index_fill,
           dtypes=ALL),
    OpInfo("masked_fill", corelib.masked_fill, _samples(_masked_fill_samples),
           ref=_np_masked_fill, dtypes=ALL),
    OpInfo("masked_select", corelib.masked_select, _samples(_masked_select_samples),
           ref=_np_masked_select, dtypes=ALL, gradgrad=True),
    OpInfo("masked_scatter", corelib.masked_scatter, _samples(_masked_scatter_samples),
           ref=_np_masked_scatter, dtypes=ALL),
    OpInfo("take", corelib.take, _samples(_take_samples),
           ref=lambda a, i: np.take(a.reshape(-1), i), dtypes=ALL),
    OpInfo("put", corelib.put, _samples(_put_samples), ref=_np_put, dtypes=NUMERIC),
    OpInfo("nonzero", corelib.nonzero, _samples(_nonzero_samples), ref=np.argwhere,
           dtypes=ALL, grad=False),
    OpInfo("nonzero", lambda x: corelib.nonzero(x, as_tuple=True), _samples(_nonzero_samples),
           ref=lambda a: np.nonzero(a.reshape(-1) if a.ndim == 0 else a), dtypes=ALL,
           grad=False, variant="as_tuple",
           torch_ref=lambda x: __import__("torch").nonzero(x, as_tuple=True)),
    OpInfo("argwhere", corelib.argwhere, _samples(_nonzero_samples), ref=np.argwhere,
           dtypes=ALL, grad=False),
    OpInfo("getitem", _getitem, _samples(_getitem_samples), ref=_np_getitem, dtypes=ALL,
           torch_ref=_getitem, gradgrad=True),
    OpInfo("index_put", corelib.index_put, _samples(_index_put_samples), ref=_np_index_put,
           dtypes=NUMERIC),
]


# ---------------------------------------------------------------------------------------------
# special (forward-only) samples: every entry's samples refilled with NaN/+-inf/signed zeros
# (gathered, scattered and masked values must arrive unchanged; sums follow IEEE), plus
# zero-size inputs where the regular samples lack them
_EMPTY = {
    "take_along_dim": lambda t: [((t((0, 4)), t.idx(np.zeros((0, 4))), 0), {})],
    "scatter_add": lambda t: [((t((3, 4)), 0, t.idx(np.zeros((0, 4))), t((0, 4))), {})],
    "put": lambda t: [((t((3, 4)), t.idx(np.zeros(0)), t((0,))), {})],
    "index_put": lambda t: [((t((3, 4)), (t.idx(np.zeros(0)),), t((0, 4))), {})],
    "getitem": lambda t: [((t((0, 4)), (slice(None), 1)), {})],
}
for _info in OPS:
    if "float32" not in _info.dtypes:
        continue
    _extra = _EMPTY.get(_info.id)
    _info.special = filled_special(_info.samples, _samples(_extra) if _extra else None)
    _info.special_dtypes = ("float32",)
