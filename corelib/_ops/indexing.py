"""``x[key]`` and ``x[key] = value``: basic indexing gives views, advanced (integer or boolean
tensors) gives copies; gradients of repeated indices accumulate. Also ``rebase_view``: how an
in-place write through a view enters the base's autograd history."""
from __future__ import annotations

from .. import _dtype
from .._tensor import Tensor
from ..autograd.grad_mode import STATE, no_grad
from ..autograd.graph import Node, edge_of
from .core import Op, call, method
from .elementwise import assign, cast, check_inplace, promote

# public API, re-exported by corelib/__init__.py
__all__ = ["index_put"]

_BASIC = (int, slice, type(None), type(Ellipsis))


def _normalize_key(key, op):
    """Tuple key with Tensors kept as Tensors and lists/bools turned into tensors."""
    if not isinstance(key, tuple):
        key = (key,)
    out = []
    for k in key:
        if isinstance(k, bool):
            from .creation import tensor
            out.append(tensor(k))
        elif isinstance(k, _BASIC):
            out.append(k)
        elif isinstance(k, Tensor):
            if k.dtype.category == 2:
                raise IndexError(f"{op}(): tensors used as indices must be long, int, byte or "
                                 f"bool tensors, got {k.dtype}")
            out.append(k)
        elif isinstance(k, (list, tuple)) or hasattr(k, "__array__"):
            from .creation import tensor
            out.append(tensor(k))
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
              saves="meta")
_slice_backward = Op("getitem_backward", lambda g, out, g_shape, shape, key: (
    call(_getitem, (g,), g.dtype, {"key": key}),), saves="meta")
# advanced (copy) indexing
_index = Op("index", lambda g, out, x_shape, key: (_index_backward(g, x_shape, key),),
            saves="meta")
_index_backward_op = Op("index_backward", lambda g, out, g_shape, shape, key: (
    call(_index, (g,), g.dtype, {"key": key}),), saves="meta")


def _getitem_backward(g, shape, key):
    return call(_slice_backward, (g,), g.dtype, {"shape": tuple(shape), "key": key})


def _index_backward(g, shape, key):
    return call(_index_backward_op, (g,), g.dtype, {"shape": tuple(shape), "key": key})


def getitem(x, key):
    key = _normalize_key(key, "getitem")
    raw = _raw_key(key)
    if _is_basic(key):
        from .shape import make_view
        out = call(_getitem, (x,), x.dtype, {"key": raw})
        return make_view(out, x, lambda b: getitem(b, key))
    for k in key:
        if isinstance(k, Tensor) and k.device is not x.device:
            raise RuntimeError(f"getitem(): indices should be either on cpu or on the same "
                               f"device as the indexed tensor ({x.device})")
    return call(_index, (x,), x.dtype, {"key": raw})


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


_index_put = Op("index_put", _index_put_vjp, saves="meta")
_setitem = Op("setitem")


def index_put_raw(x, raw_key, value, accumulate):
    """Out-of-place ``x[key] = value`` (or ``+=`` with accumulate), differentiable."""
    if not isinstance(value, Tensor):
        from .creation import full
        value = full((), value, dtype=x.dtype, device=x.device)
    value = cast(value, x.dtype)
    return call(_index_put, (x, value), x.dtype, {"key": raw_key, "accumulate": accumulate})


def setitem(x, key, value):
    key = _normalize_key(key, "setitem")
    raw = _raw_key(key)
    check_inplace(x, "setitem")
    tracked = STATE.grad_enabled and (x._requires_grad or (
        isinstance(value, Tensor) and value._requires_grad))
    if tracked:
        assign(x, index_put_raw(x, raw, value, False))
        return
    if isinstance(value, Tensor):
        if value.device is not x.device:
            value = value.to(x.device)
        v = cast(value, x.dtype)._data
    else:
        v = value
    _setitem.kernel(x.device.type)(x._data, raw, v)
    x._bump_version()


Tensor.__setitem__ = setitem


@method()
def index_put_(self, indices, values, accumulate=False):
    check_inplace(self, "index_put_")
    raw = _raw_key(_normalize_key(tuple(indices), "index_put_"))
    assign(self, index_put_raw(self, raw, values, accumulate))
    return self


def index_put(input, indices, values, accumulate=False):
    raw = _raw_key(_normalize_key(tuple(indices), "index_put"))
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
        g_base = g.clone()
        with no_grad():
            self.view_fn(g_base).zero_()
        return g_base, g_value


def rebase_view(view, value):
    """``view``'s storage now holds ``value``; splice that into its base's history."""
    base = view._base
    if base.grad_fn is None and base._requires_grad and STATE.grad_enabled:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")
    node = CopySlices(edge_of(base), edge_of(value), view._view_fn)
    base.grad_fn = node
    base._output_nr = 0
    base._requires_grad = True
    fresh = view._view_fn(base)
    view.grad_fn, view._output_nr, view._requires_grad = fresh.grad_fn, fresh._output_nr, True
