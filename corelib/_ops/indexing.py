"""``x[key]`` and ``x[key] = value``: basic indexing gives views, advanced (integer or boolean
tensors) gives copies; gradients of repeated indices accumulate. Also ``rebase_view``: how an
in-place write through a view enters the base's autograd history."""
from __future__ import annotations

import builtins
import re

from .. import _dtype
from .._device import CPU
from .._tensor import Tensor
from ..autograd.grad_mode import STATE, no_grad
from ..autograd.graph import Node, edge_of
from . import rules as R
from .core import Op, call, device_of, method
from .elementwise import assign, cast, check_inplace

# public API, re-exported by corelib/__init__.py
__all__ = ["index_put", "gather", "take_along_dim", "scatter", "scatter_add", "scatter_reduce",
           "index_select", "index_add", "index_copy", "index_fill", "masked_fill",
           "masked_select", "masked_scatter", "take", "put", "nonzero", "argwhere"]

_BASIC = (int, slice, type(None), type(Ellipsis))


def _normalize_key(key, op, device):
    """Tuple key with Tensors kept as Tensors and lists/bools turned into tensors, all on
    ``device`` (the indexed tensor's): cpu index tensors are moved there, as in PyTorch."""
    if not isinstance(key, tuple):
        key = (key,)
    out = []
    for k in key:
        if isinstance(k, bool):
            from .creation import tensor
            out.append(tensor(k, device=device))
        elif isinstance(k, _BASIC):
            out.append(k)
        elif isinstance(k, Tensor):
            if k.dtype.category == 2:
                raise IndexError(f"{op}(): tensors used as indices must be long, int, byte or "
                                 f"bool tensors, got {k.dtype}")
            if k.device is not device:
                if k.device is not CPU:
                    raise RuntimeError(f"{op}(): indices should be either on cpu or on the "
                                       f"same device as the indexed tensor ({device})")
                k = k.to(device)
            out.append(k)
        elif isinstance(k, (list, tuple)) or hasattr(k, "__array__"):
            from .creation import tensor
            out.append(tensor(k, device=device))
        elif hasattr(k, "__index__"):
            out.append(k.__index__())
        else:
            raise IndexError(f"{op}(): only integers, slices (`:`), ellipsis (`...`), None and "
                             f"long or byte Variables are valid indices (got "
                             f"{type(k).__name__})")
    return tuple(out)


def _raw_key(key):
    return tuple(k._data if isinstance(k, Tensor) else k for k in key)


def _is_basic(key):
    return all(isinstance(k, _BASIC) for k in key)


# basic (view) indexing: getitem and its backward, each the other's derivative
_getitem = Op("getitem", lambda g, out, x_shape, key: (_getitem_backward(g, x_shape, key),),
              saves="meta",
              sig="(Array x, *, Any key) -> Array(x)",
              rule=R.index_key,
              core=True,
              doc="basic indexing x[key] (key: a tuple of ints, slices, None, Ellipsis): a view")
_slice_backward = Op("getitem_backward", lambda g, out, g_shape, shape, key: (
    call(_getitem, (g,), g.dtype, {"key": key}),), saves="meta",
                     sig="(Array g, *, shape shape, Any key) -> Array",
                     rule=R.shape_param,
                     doc="zeros of shape with g written at the basic index key")
# advanced (copy) indexing
_index = Op("index", lambda g, out, x_shape, key: (_index_backward(g, x_shape, key),),
            saves="meta",
            sig="(Array x, *, Any key) -> Array",
            rule=R.index_key,
            core=True,
            doc="advanced indexing x[key] (integer or boolean arrays in key, NumPy rules): a copy")
_index_backward_op = Op("index_backward", lambda g, out, g_shape, shape, key: (
    call(_index, (g,), g.dtype, {"key": key}),), saves="meta",
                        sig="(Array g, *, shape shape, Any key) -> Array",
                        rule=R.shape_param,
                        doc=("zeros of shape with g added at the advanced index key (repeats "
                             "accumulate)"))


def _getitem_backward(g, shape, key):
    return call(_slice_backward, (g,), g.dtype, {"shape": tuple(shape), "key": key})


def _index_backward(g, shape, key):
    return call(_index_backward_op, (g,), g.dtype, {"shape": tuple(shape), "key": key})


def _ints_first(key):
    """PyTorch applies integer indices as basic indexing (select) before advanced ones, so
    x[0, :, idx] is x[0][:, idx] (NumPy would count the 0 as advanced and move the indexed dims
    first). For a key mixing ints and index tensors: (the basic key of the ints, the rest of
    the key for the result); else None. Called for keys that are not all basic."""
    if not any(isinstance(k, int) for k in key):
        return None
    first, rest = [], []
    for k in key:
        if isinstance(k, int):
            first.append(k)
        elif isinstance(k, Tensor):
            first.extend([slice(None)] * (k.ndim if k.dtype is _dtype.bool else 1))
            rest.append(k)
        else:
            first.append(k)
            rest.append(k if k is Ellipsis else slice(None))
    return tuple(first), tuple(rest)


def getitem(x, key):
    key = _normalize_key(key, "getitem", x.device)
    basic = _is_basic(key)
    split = None if basic else _ints_first(key)
    if split:
        return getitem(getitem(x, split[0]), split[1])
    raw = _raw_key(key)
    if basic:
        from .shape import make_view
        out = call(_getitem, (x,), x.dtype, {"key": raw})
        return make_view(out, x, lambda b: getitem(b, key))
    try:
        return call(_index, (x,), x.dtype, {"key": raw})
    except IndexError as exc:
        raise _index_error(exc, "getitem") from None


def _index_error(exc, op):
    """NumPy's out-of-range message in PyTorch's words, naming the op."""
    msg = str(exc).replace("index(): ", "").replace("index_put(): ", "")
    found = re.search(r"boolean index did not match indexed array along (?:axis|dimension) "
                      r"(\d+); size of (?:axis|dimension) is (\d+) but size of corresponding "
                      r"boolean (?:axis|dimension) is (\d+)", msg)
    if found:
        d, n, k = found.groups()
        msg = (f"The shape of the mask does not match the shape of the indexed tensor at "
               f"dimension {d}: the mask has size {k} there, the tensor {n}")
    return IndexError(f"{op}(): {msg.replace(' axis ', ' dimension ')}")


Tensor.__getitem__ = getitem


# ---------------------------------------------------------------------------------------------
# writes
def _index_put_vjp(g, out, x_shape, v_shape, key, accumulate):
    gx = g if accumulate else index_put_raw(g, key, 0.0, False)
    gv = call(_index, (g,), g.dtype, {"key": key}) if not _basic_raw(key) else \
        call(_getitem, (g,), g.dtype, {"key": key})
    return gx, gv


def _basic_raw(key):
    return all(isinstance(k, _BASIC) for k in key)


_index_put = Op("index_put", _index_put_vjp, saves="meta",
                sig="(Array x, Array values, *, Any key, bool accumulate) -> Array",
                rule=R.same,
                core=True,
                doc="a copy of x with values written (accumulate: added) at key")
_setitem = Op("setitem",
              sig="(Array! x, Any key, Array|Scalar value) -> None",
              rule=R.written,
              doc="x[key] = value, in place")


def index_put_raw(x, raw_key, value, accumulate):
    """Out-of-place ``x[key] = value`` (or ``+=`` with accumulate), differentiable."""
    if not isinstance(value, Tensor):
        from .creation import full
        value = full((), value, dtype=x.dtype, device=x.device)
    elif value.device is not x.device and value.device is CPU and not value.ndim:
        value = value.to(x.device)   # a cpu scalar, as in PyTorch
    value = cast(value, x.dtype)
    return call(_index_put, (x, value), x.dtype, {"key": raw_key, "accumulate": accumulate})


def setitem(x, key, value):
    if not isinstance(value, (Tensor, bool, int, float)):
        from .creation import tensor
        try:
            value = tensor(value, dtype=x.dtype, device=x.device)
        except (TypeError, ValueError, RuntimeError):
            raise TypeError(f"setitem(): can't assign a {type(value).__name__} to a "
                            f"{x.type()}") from None
    key = _normalize_key(key, "setitem", x.device)
    split = None if _is_basic(key) else _ints_first(key)
    if split:
        return setitem(getitem(x, split[0]), split[1], value)
    raw = _raw_key(key)
    check_inplace(x, "setitem")
    if isinstance(value, Tensor) and value.device is not x.device:
        value = value.to(x.device)   # x[key] = value copies, across devices too
    tracked = STATE.grad_enabled and (x._requires_grad or (
        isinstance(value, Tensor) and value._requires_grad))
    if tracked:
        try:
            value = index_put_raw(x, raw, value, False)
        except IndexError as exc:
            raise _index_error(exc, "setitem") from None
        assign(x, value)
        return
    if isinstance(value, Tensor):
        v = cast(value, x.dtype)._data
    else:
        v = value
    try:
        _setitem.kernel(x.device.type)(x._data, raw, v)
    except IndexError as exc:
        raise _index_error(exc, "setitem") from None
    except ValueError:   # PyTorch's message, not the array library's
        target = list(getitem(x.detach(), key).shape)
        raise RuntimeError(f"setitem(): shape mismatch: value tensor of shape "
                           f"{list(getattr(value, 'shape', ()))} cannot be broadcast to indexing result of "
                           f"shape {target}") from None
    x._bump_version()


Tensor.__setitem__ = setitem


@method()
def index_put_(self, indices, values, accumulate=False):
    check_inplace(self, "index_put_")
    raw = _raw_key(_normalize_key(tuple(indices), "index_put_", self.device))
    assign(self, index_put_raw(self, raw, values, accumulate))
    return self


def index_put(input, indices, values, accumulate=False):
    raw = _raw_key(_normalize_key(tuple(indices), "index_put", input.device))
    return index_put_raw(input, raw, values, accumulate)


Tensor.index_put = index_put


# ---------------------------------------------------------------------------------------------
# in-place writes through views
class CopySlices(Node):
    """The base's new history after ``view`` (replayed by ``view_fn``) was overwritten with
    ``value``: gradient outside the view goes to the base's old history, inside it to value."""
    __slots__ = ("view_fn", "freed")

    def __init__(self, base_edge, value_edge, view_fn):
        self.next_edges = (base_edge, value_edge)
        self.view_fn = view_fn
        self.pre_hooks = self.hooks = None

    def apply(self, grads):
        g = grads[0]
        g_value = self.view_fn(g)
        with no_grad():   # a constant mask keeps g_base differentiable (double backward)
            from .creation import ones
            outside = ones(g.shape, dtype=g.dtype, device=g.device)
            self.view_fn(outside).zero_()
        return g * outside, g_value


def rebase_view(view, value):
    """``view``'s storage now holds ``value``; splice that into its base's history."""
    base = view._base
    if base.grad_fn is None and base._requires_grad and STATE.grad_enabled:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")
    node = CopySlices(edge_of(base), edge_of(value), view._view_fn)
    base._grad_fn = node
    base._output_nr = 0
    base._requires_grad = True
    fresh = view._view_fn(base)
    view._grad_fn, view._output_nr, view._requires_grad = fresh.grad_fn, fresh._output_nr, True


# ---------------------------------------------------------------------------------------------
# index ops along one dim (gather/scatter family, index_* family)
def _long_index(index, op, name="index", allow_int32=False):
    if not isinstance(index, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(index).__name__}")
    if index.dtype is not _dtype.int64 and not (allow_int32 and index.dtype is _dtype.int32):
        raise RuntimeError(f"{op}(): Expected dtype int64 for {name}, got {index.dtype}")
    return cast(index, _dtype.int64)


def _scatter_index(index, op):
    """gather/scatter's index: int64 or int32 (an empty index may have any dtype), as int64."""
    if not isinstance(index, Tensor):
        raise TypeError(f"{op}(): argument 'index' must be Tensor, not {type(index).__name__}")
    if index.dtype not in (_dtype.int64, _dtype.int32) and index.numel():
        raise RuntimeError(f"{op}(): Expected dtype int32/int64 for index, got {index.dtype}")
    return cast(index, _dtype.int64)


def _dim(input, dim, op):
    from .core import wrap_dim
    return wrap_dim(dim, max(input.ndim, 1), op)


def _transposed_ops(name, rule, doc):
    """Op ``name`` (params dim, shape) and its transpose ``name + "_backward"`` (shape, dim):
    the derivative of each is the other applied to the gradient. rule, doc: the forward's."""
    fwd = Op(name, lambda g, out, x, index, dim, shape: (
        call(bwd, (g, index), g.dtype, {"shape": shape, "dim": dim}), None), saves=((), (0,)),
        sig="(Array x, Array index, *, dim dim, shape shape) -> Array", rule=rule, doc=doc)
    bwd = Op(name + "_backward", lambda g, out, gg, index, shape, dim: (
        call(fwd, (g, index), g.dtype, {"dim": dim, "shape": tuple(g.shape)}), None),
        saves=((), (0,)), sig="(Array g, Array index, *, shape shape, dim dim) -> Array",
        rule=R.shape_param, doc=f"the transpose of {name}: zeros of shape with g added at "
                                f"index along dim")
    return fwd, bwd


def _same_dtype(input, src, op, what="src"):
    if isinstance(src, Tensor) and src.dtype is not input.dtype:
        raise RuntimeError(f"{op}(): Expected self.dtype to be equal to {what}.dtype (got "
                           f"{input.dtype} and {src.dtype})")


_gather, _gather_backward = _transposed_ops(
    "gather", R.like_index, "x at int64 index along dim (index no larger than x; index's shape)")


def gather(input, dim, index, *, sparse_grad=False, out=None):
    """out[i][j][k] = input[index[i][j][k]][j][k] (for dim=0), index no larger than input."""
    index = _scatter_index(index, "gather")
    d = _dim(input, dim, "gather")
    if index.numel() == 0 and out is None:   # as PyTorch: no shape checks, an empty result
        from .shape import reshape
        return reshape(reshape(input, (-1,))[:0], tuple(index.shape))
    result = call(_gather, (input, index), input.dtype,
                  {"dim": d, "shape": tuple(input.shape)})
    return result if out is None else _write_out(result, out, "gather")


def _write_out(result, out, op):
    from .elementwise import write_out
    return write_out(result, out, op)


def take_along_dim(input, indices, dim=None, *, out=None):
    """gather with broadcasting of input and indices (negative indices wrap)."""
    from .shape import broadcast_shape, expand, reshape
    indices = _long_index(indices, "take_along_dim")
    if dim is None:
        input, indices, d = reshape(input, (-1,)), reshape(indices, (-1,)), 0
    else:
        from .core import wrap_dim
        d = wrap_dim(dim, input.ndim, "take_along_dim")
        if input.ndim != indices.ndim:
            raise RuntimeError(f"take_along_dim(): input and indices should have the same "
                               f"number of dimensions, but got {input.ndim} dimensions for "
                               f"input, and {indices.ndim} dimensions for indices")
        xs, ns = list(input.shape), list(indices.shape)
        xs[d] = ns[d] = 1
        shape = broadcast_shape(tuple(xs), tuple(ns))
        input = expand(input, shape[:d] + (input.shape[d],) + shape[d + 1:])
        indices = expand(indices, shape[:d] + (indices.shape[d],) + shape[d + 1:])
        from .elementwise import where   # with a dim, PyTorch wraps negative indices
        indices = where(indices < 0, indices + input._data.shape[d], indices)
    return gather(input, d, indices, out=out)


# scatter: one kernel for plain, legacy reduce= and scatter_reduce
def _scatter_vjp(g, out, x, index, src, dim, reduce, include_self):
    gx = g if reduce is not None and include_self else _mask_scattered(g, index, dim)
    gsrc = None if isinstance(src, (bool, int, float)) else \
        call(_gather, (g, index), g.dtype, {"dim": dim, "shape": tuple(g.shape)})
    return gx, None, gsrc


_scatter = Op("scatter", _scatter_vjp, saves=((), (0, 2), ()),
              sig=("(Array x, Array index, Array|Scalar src, *, dim dim, str? reduce, bool "
                   "include_self) -> Array"),
              rule=R.same,
              doc="a copy of x with src written (reduce 'sum'/'add': added) at index along dim")


def _scatter_impl(input, dim, index, src, reduce, include_self, op):
    from .core import scalar_types
    index = _scatter_index(index, op)
    d = _dim(input, dim, op)
    if index.numel() == 0:   # as PyTorch: nothing written, no shape checks
        from .shape import reshape
        shape = (0,) * builtins.max(input.ndim, 1)
        index = reshape(index, shape)
        if isinstance(src, Tensor):
            src = reshape(reshape(src, (-1,))[:0], shape)
    if isinstance(src, Tensor):
        _same_dtype(input, src, op)
        if src.ndim != index.ndim and not (src.ndim <= 1 and index.ndim <= 1):
            raise RuntimeError(f"{op}(): Index tensor must have the same number of dimensions "
                               f"as src tensor")
        if src.ndim == index.ndim and src._data.shape != index._data.shape:
            for n, m in zip(index._data.shape, src._data.shape):
                if n > m:
                    raise RuntimeError(f"{op}(): Expected index {list(index.shape)} to be "
                                       f"smaller than src {list(src.shape)} apart from "
                                       f"dimension {d}")
            src = src[tuple(slice(0, n) for n in index._data.shape)]   # the part used
    elif not isinstance(src, scalar_types):
        raise TypeError(f"{op}(): argument 'src' must be Tensor or Number, not "
                        f"{type(src).__name__}")
    elif input.dtype.category == 2:
        src = float(src)
    params = {"dim": d, "reduce": reduce, "include_self": include_self}
    if reduce in (None, "sum", "add"):
        return call(_scatter, (input, index, src), input.dtype, params)
    return call(_scatter_reduced, (input, index, src), input.dtype, params)


def _reduced_vjp(g, out, x, index, src, dim, reduce, include_self):
    """Gradients of prod/mean/amax/amin scatter reductions (as PyTorch: ties share)."""
    from .creation import ones_like
    from .elementwise import where
    gp = {"dim": dim, "shape": tuple(g.shape)}
    src_t = src if isinstance(src, Tensor) else None
    if reduce == "mean":
        count = _scatter_impl(ones_like(g) if include_self else ones_like(g) * 0, dim, index,
                              ones_like(src_t) if src_t is not None else 1.0, "sum", True,
                              "scatter_reduce")
        count = where(count == 0, ones_like(count), count)
        gn = g / count
        gx = gn if include_self else _mask_scattered(gn, index, dim)
        return gx, None, (call(_gather, (gn, index), g.dtype, gp) if src_t is not None
                          else None)
    if reduce in ("prod", "multiply"):
        # as PyTorch: zeros handled explicitly (the product of the other factors)
        from .creation import zeros_like
        from .elementwise import logical_and
        masked_x = where(x == 0, 1.0, x)
        gx = g * _scatter_impl(masked_x, dim, index, src, reduce, include_self,
                               "scatter_reduce") / masked_x
        if not include_self:
            gx = _mask_scattered(gx, index, dim)
        gsrc = None
        if src_t is not None:
            src_zero = src_t == 0
            zeros_at = call(_gather, (_scatter_impl(zeros_like(x), dim, index,
                                                    cast(src_zero, x.dtype), "sum", True,
                                                    "scatter_reduce"), index), x.dtype, gp)
            single = logical_and(src_zero, zeros_at == 1)
            others = _scatter_impl(x, dim, index, where(single, 1.0, src_t), reduce,
                                   include_self, "scatter_reduce")
            gsrc = where(single, call(_gather, (g * others, index), g.dtype, gp),
                         call(_gather, (g * out, index), g.dtype, gp) /
                         where(src_zero, 1.0, src_t))
        return gx, None, gsrc
    # amax / amin: the gradient is shared evenly among the elements equal to the result
    hit_x = cast(x == out, g.dtype)
    if not include_self:
        hit_x = _mask_scattered(hit_x, index, dim)
    hit_src = cast(src_t == call(_gather, (out, index), out.dtype, gp), g.dtype)
    count = _scatter_impl(hit_x, dim, index, hit_src, "sum", True, "scatter_reduce")
    gn = g / where(count == 0, ones_like(count), count)
    return gn * hit_x, None, call(_gather, (gn, index), g.dtype, gp) * hit_src


def _mask_scattered(g, index, dim):
    return call(_scatter, (g, index, 0.0), g.dtype, {"dim": dim, "reduce": None,
                                                     "include_self": True})


_scatter_reduced = Op("scatter_reduced", _reduced_vjp, saves="both",
                      sig=("(Array x, Array index, Array|Scalar src, *, dim dim, str? reduce, "
                           "bool include_self) -> Array"),
                      rule=R.same,
                      doc=("a copy of x with src combined at index along dim by reduce (prod, "
                           "multiply, mean, amax, amin)"))


def scatter(input, dim, index, src=None, value=None, *, reduce=None, out=None):
    """Write ``src`` (tensor or number) into a copy of input at ``index`` along ``dim``.

    reduce='add'/'multiply' (legacy) combines instead of overwriting."""
    if src is None:
        src = value
    if reduce not in (None, "add", "multiply"):
        raise RuntimeError(f"scatter(): reduce argument must be either add or multiply, got "
                           f"{reduce}")
    result = _scatter_impl(input, dim, index, src, reduce, True, "scatter")
    return result if out is None else _write_out(result, out, "scatter")


def scatter_add(input, dim, index, src, *, out=None):
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add(): argument 'src' must be Tensor, not "
                        f"{type(src).__name__}")
    result = _scatter_impl(input, dim, index, src, "sum", True, "scatter_add")
    return result if out is None else _write_out(result, out, "scatter_add")


_REDUCES = ("sum", "prod", "mean", "amax", "amin")


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True, out=None):
    """Reduce ``src`` into a copy of input at ``index``: sum, prod, mean, amax or amin."""
    if reduce not in _REDUCES:
        raise RuntimeError(f"scatter_reduce(): reduce argument must be either sum, prod, mean, "
                           f"amax or amin, got {reduce}")
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_reduce(): argument 'src' must be Tensor, not "
                        f"{type(src).__name__}")
    result = _scatter_impl(input, dim, index, src, reduce, bool(include_self),
                           "scatter_reduce")
    return result if out is None else _write_out(result, out, "scatter_reduce")


# index_select / index_add / index_copy / index_fill
_index_select, _index_select_backward = _transposed_ops(
    "index_select", R.index_select, "the slices of x at 1-d int64 index along dim")


def index_select(input, dim, index, *, out=None):
    """The entries of ``input`` at ``index`` (1-d) along ``dim``."""
    if not isinstance(index, Tensor):
        raise TypeError(f"index_select(): argument 'index' must be Tensor, not "
                        f"{type(index).__name__}")
    if index.dtype not in (_dtype.int64, _dtype.int32):
        raise RuntimeError("index_select(): Expected dtype int32/int64 for index")
    if index.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    d = _dim(input, dim, "index_select")
    result = call(_index_select, (input, cast(index, _dtype.int64)), input.dtype,
                  {"dim": d, "shape": tuple(input.shape)})
    return result if out is None else _write_out(result, out, "index_select")


def _index_add_vjp(g, out, x, index, src, dim, alpha):
    if index is None:   # saved only when source needs a gradient
        return g, None, None
    gsrc = call(_index_select, (g, index), g.dtype, {"dim": dim, "shape": tuple(g.shape)})
    return g, None, (gsrc * alpha if alpha != 1 else gsrc)


_index_add = Op("index_add", _index_add_vjp, saves=((), (2,), ()),
                sig="(Array x, Array index, Array source, *, dim dim, Scalar alpha) -> Array",
                rule=R.same,
                doc="a copy of x with alpha * source added at 1-d index along dim")


def _copy_vjp(g, out, x, index, src, dim):
    gx = call(_index_fill, (g, index, 0.0), g.dtype, {"dim": dim})
    return gx, None, call(_index_select, (g, index), g.dtype, {"dim": dim,
                                                               "shape": tuple(g.shape)})


_index_copy = Op("index_copy", _copy_vjp, saves=((), (0, 2), ()),
                 sig="(Array x, Array index, Array source, *, dim dim) -> Array",
                 rule=R.same,
                 doc="a copy of x with the slices of source written at 1-d index along dim")


def _fill_vjp(g, out, x, index, value, dim):
    gx = call(_index_fill, (g, index, 0.0), g.dtype, {"dim": dim})
    gv = None
    if isinstance(value, Tensor):   # each filled position once, however often it is indexed
        from .reduction import sum as _sum
        gv = _sum(g - gx)
    return gx, None, gv


_index_fill = Op("index_fill", _fill_vjp, saves=((), (0, 2), (2,)),
                 sig="(Array x, Array index, Array|Scalar value, *, dim dim) -> Array",
                 rule=R.same,
                 doc="a copy of x with value (a number or 0-d array) at 1-d index along dim")


def _index_args(input, dim, index, source, op):
    if not isinstance(index, Tensor):
        raise TypeError(f"{op}(): argument 'index' must be Tensor, not {type(index).__name__}")
    if index.dtype not in (_dtype.int64, _dtype.int32):
        raise RuntimeError(f"{op}(): Expected dtype int32/int64 for index")
    if index.ndim > 1:
        raise IndexError(f"{op}(): Index is supposed to be a vector")
    if source is not None:
        if not isinstance(source, Tensor):
            raise TypeError(f"{op}(): argument 'source' must be Tensor, not "
                            f"{type(source).__name__}")
        if source.dtype is not input.dtype:
            raise RuntimeError(f"{op}(): self ({input.dtype}) and source ({source.dtype}) must "
                               f"have the same scalar type")
    return _dim(input, dim, op), cast(index, _dtype.int64)


def index_add(input, dim, index, source, *, alpha=1, out=None):
    """input with ``alpha * source`` added at ``index`` along ``dim`` (repeats accumulate)."""
    d, index = _index_args(input, dim, index, source, "index_add")
    result = call(_index_add, (input, index, source), input.dtype, {"dim": d, "alpha": alpha})
    return result if out is None else _write_out(result, out, "index_add")


def index_copy(input, dim, index, source, *, out=None):
    d, index = _index_args(input, dim, index, source, "index_copy")
    result = call(_index_copy, (input, index, source), input.dtype, {"dim": d})
    return result if out is None else _write_out(result, out, "index_copy")


def index_fill(input, dim, index, value):
    """input with ``value`` (number or 0-d tensor) written at ``index`` along ``dim``."""
    d, index = _index_args(input, dim, index, None, "index_fill")
    if input.ndim:   # negative indices count from the end (as PyTorch's index_fill)
        from .elementwise import where
        index = where(index < 0, index + input._data.shape[d], index)
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"index_fill(): Expected a 0-dimensional value tensor, but got "
                               f"tensor with {value.ndim} dimension(s).")
        value = cast(value, input.dtype)
    return call(_index_fill, (input, index, value), input.dtype, {"dim": d})


# ---------------------------------------------------------------------------------------------
# masks, flat indices, nonzero
def _bool_mask(mask, op):
    if not isinstance(mask, Tensor):
        raise TypeError(f"{op}(): argument 'mask' must be Tensor, not {type(mask).__name__}")
    if mask.dtype is not _dtype.bool:
        what = mask.dtype if isinstance(mask, Tensor) else type(mask).__name__
        raise RuntimeError(f"{op}(): {op} only supports boolean masks, but got mask with "
                           f"dtype {what}")
    return mask


def masked_fill(input, mask, value):
    """input with ``value`` (number or 0-d tensor) where ``mask`` is True (broadcast)."""
    from .creation import full
    from .elementwise import where
    from .shape import broadcast_shape
    _bool_mask(mask, "masked_fill")
    try:
        broadcast_shape(input._data.shape, mask._data.shape)
    except RuntimeError as exc:
        raise RuntimeError(f"masked_fill(): {exc}") from None
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"masked_fill(): only supports a 0-dimensional value tensor, "
                               f"but got tensor with {value.ndim} dimension(s).")
        value = cast(value, input.dtype)
    else:
        value = full((), value, dtype=input.dtype, device=input.device)
    return where(mask, value, input)


def masked_select(input, mask, *, out=None):
    """The 1-d tensor of input's entries where the (broadcast) mask is True."""
    from .shape import broadcast_tensors
    _bool_mask(mask, "masked_select")
    device_of((input, mask), "masked_select")
    x, m = broadcast_tensors(input, mask)
    result = call(_index, (x,), x.dtype, {"key": (m._data,)})
    return result if out is None else _write_out(result, out, "masked_select")


def masked_scatter(input, mask, source):
    """input with the leading elements of ``source`` written, in order, where mask is True."""
    from .shape import broadcast_shape, expand, reshape
    _bool_mask(mask, "masked_scatter")
    _same_dtype(input, source, "masked_scatter", "source")
    device_of((input, mask, source), "masked_scatter")
    shape = broadcast_shape(input._data.shape, mask._data.shape)
    x, m = expand(input, shape), expand(mask, shape)
    n = int(m.sum().item())
    if source.numel() < n:
        raise RuntimeError(f"masked_scatter(): Number of elements of source < number of ones "
                           f"in mask ({source.numel()} < {n})")
    values = reshape(source, (-1,))[:n]
    return index_put_raw(x, (m._data,), values, False)


def take(input, index):
    """Entries of the flattened input at ``index`` (negative indices count from the end)."""
    from .shape import reshape
    _long_index(index, "take")
    device_of((input, index), "take")   # unlike x[index], no cpu indices (as PyTorch)
    try:
        return getitem(reshape(input, (-1,)), index)
    except IndexError as exc:
        raise IndexError(f"take(): out of range: {exc}") from None


def put(input, index, source, accumulate=False):
    """A copy of input with ``source`` written at flat positions ``index``."""
    from .shape import reshape
    index = _long_index(index, "put")
    _same_dtype(input, source, "put", "source")
    if index.numel() != source.numel():
        raise RuntimeError(f"put(): Expected source and index to have the same number of "
                           f"elements, but got source with {source.numel()} and index with "
                           f"{index.numel()}")
    flat = reshape(input, (-1,))
    try:
        result = index_put_raw(flat, (reshape(index, (-1,))._data,), reshape(source, (-1,)),
                               bool(accumulate))
    except IndexError as exc:
        raise IndexError(f"put(): out of range: {exc}") from None
    return reshape(result, input.shape)


_nonzero = Op("nonzero",
              sig="(Array x) -> Array",
              rule=R.DATA_DEPENDENT,
              core=True,
              doc="the (n, ndim) int64 indices of the non-zero elements")


def nonzero(input, *, out=None, as_tuple=False):
    """Indices of the non-zero entries: an (n, ndim) int64 tensor or a tuple of 1-d ones."""
    from .shape import reshape
    if as_tuple:
        x = reshape(input, (1,)) if input.ndim == 0 else input
        idx = call(_nonzero, (x,), _dtype.int64)
        return tuple(idx[:, i].contiguous() for i in range(x.ndim))
    result = call(_nonzero, (input,), _dtype.int64)
    return result if out is None else _write_out(result, out, "nonzero")


def argwhere(input):
    return nonzero(input)


def _install_methods():
    from .shape import apply_inplace
    for name, fn in (("gather", gather), ("take_along_dim", take_along_dim),
                     ("scatter", scatter), ("scatter_add", scatter_add),
                     ("scatter_reduce", scatter_reduce), ("index_select", index_select),
                     ("index_add", index_add), ("index_copy", index_copy),
                     ("index_fill", index_fill), ("masked_fill", masked_fill),
                     ("masked_select", masked_select), ("masked_scatter", masked_scatter),
                     ("take", take), ("put", put), ("nonzero", nonzero),
                     ("argwhere", argwhere)):
        setattr(Tensor, name, fn)
    for name, fn in (("scatter", scatter), ("scatter_add", scatter_add),
                     ("scatter_reduce", scatter_reduce), ("index_add", index_add),
                     ("index_copy", index_copy), ("index_fill", index_fill),
                     ("masked_fill", masked_fill), ("masked_scatter", masked_scatter),
                     ("put", put)):
        def method_(self, *args, _fn=fn, _name=name + "_", **kwargs):
            return apply_inplace(self, _name, _fn, *args, **kwargs)
        method_.__name__ = name + "_"
        setattr(Tensor, name + "_", method_)


_install_methods()
