"""Reductions. The ``reduction`` factory owns dim normalisation (None, int, negative, tuples),
keepdim and the dtype rule; kernels receive ``dim`` as a tuple of non-negative ints."""
from __future__ import annotations

import builtins
import collections
import math

from .. import _dtype
from .._tensor import Tensor
from ..autograd.grad_mode import STATE, no_grad
from . import rules as R
from .core import Op, call, dims_arg, method, wrap_dim
from .elementwise import (abs, cast, exp, logical_and, sign, to_float, where, write_out)
from .shape import clone, expand, movedim, reshape, unsqueeze

# public API, re-exported by corelib/__init__.py
__all__ = ["sum", "mean", "nansum", "nanmean", "prod", "max", "min", "amax", "amin", "argmax",
           "argmin", "aminmax", "all", "any", "count_nonzero", "var", "std", "var_mean",
           "std_mean", "logsumexp", "norm", "vector_norm", "matrix_norm", "cumsum", "cumprod",
           "logcumsumexp", "cummax", "cummin", "sort", "argsort", "msort", "topk", "kthvalue",
           "median", "nanmedian", "mode", "unique", "unique_consecutive", "bincount", "histc",
           "return_types"]


def expand_back(g, x_shape, dim, keepdim):
    """Broadcast a reduced gradient back to the input shape."""
    if not keepdim and x_shape:
        shape = list(x_shape)
        for d in dim:
            shape[d] = 1
        g = reshape(g, tuple(shape))
    return expand(g, tuple(x_shape))


def _numel(shape, dim):
    n = 1
    for d in dim:
        n *= shape[d]
    return n


def _publish(fn, name, doc):
    """Name and document the factory-made ``fn`` and install it as Tensor method ``name``."""
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    setattr(Tensor, name, fn)
    return fn


def reduction(name, vjp=None, saves="meta", kind="sum", doc=None, core=False):
    """Define reduction ``name(input, dim=None, keepdim=False, *, dtype=None)``.

    kind: 'sum' (ints and bool accumulate in int64), 'float' (floating inputs only),
    'same' (result keeps the dtype), 'bool' (result is bool). ``core``: in the core kernel set.
    """
    op = Op(name, vjp, saves, sig="(Array x, *, dims dim, bool keepdim) -> Array",
            rule=R.reduce_bool if kind == "bool" else R.reduce, core=core,
            doc=f"{name} over dims" + (" (bool result)" if kind == "bool" else ""))

    def fn(input, dim=None, keepdim=False, *, dtype=None, out=None):
        x = _in_dtype(_tensor_arg(input, name), dtype, kind, name)
        if dtype is None and kind == "float" and x.dtype.category < 2:
            raise RuntimeError(f"{name}(): could not infer output dtype. Input dtype must be "
                               f"either a floating point or complex dtype. Got: "
                               f"{_TYPE_WORD.get(x.dtype.name, x.dtype.name)}")
        dims = _reduce_dims(x, dim, name, empty_is_all=kind != "bool")
        result = call(op, (x,), _dtype.bool if kind == "bool" else x.dtype,
                      {"dim": dims, "keepdim": bool(keepdim)})
        return _finish_out(result, out, name)

    fn.op = op
    return _publish(fn, name,
                    doc or f"corelib.{name}(input, dim=None, keepdim=False): {name} reduction.")


_TYPE_WORD = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char",
              "uint8": "Byte", "bool": "Bool"}

sum = reduction("sum", lambda g, out, x_shape, dim, keepdim: (
    expand_back(g, x_shape, dim, keepdim),), core=True)
mean = reduction("mean", lambda g, out, x_shape, dim, keepdim: (
    expand_back(g, x_shape, dim, keepdim) / builtins.max(_numel(x_shape, dim), 1),), kind="float")


# ---------------------------------------------------------------------------------------------
# helpers
def _tensor_arg(input, name, arg="input"):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' must be Tensor, not {type(input).__name__}")
    return input


def _float_only(x, name, message=None):
    if x.dtype.category < 2:
        raise RuntimeError(message or f"{name}(): expected a floating point tensor, got "
                           f"{x.dtype}")
    return x


def _nonempty(x, dims, name):
    for d in dims:
        if x.shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")


def _finish_out(result, out, name):
    if out is None:
        return result
    if isinstance(result, tuple):
        if not isinstance(out, (tuple, list)) or len(out) != len(result):
            raise TypeError(f"{name}(): argument 'out' must be a tuple of {len(result)} Tensors")
        for r, o in zip(result, out):
            write_out(r, o, name)
        return type(result)(*out)
    return write_out(result, out, name)


def _in_dtype(x, dtype, kind, name):
    """``x`` cast to ``dtype`` if given; otherwise ints and bool accumulate in int64 for 'sum'."""
    if dtype is not None:
        return cast(x, _dtype.as_dtype(dtype, name))
    if kind == "sum" and x.dtype.category < 2:
        return cast(x, _dtype.int64)
    return x


def _reduce_dims(x, dim, name, empty_is_all=True):
    """``dim`` as a tuple of non-negative dims of ``x``; with ``empty_is_all`` an empty dim list
    reduces everything, as in PyTorch."""
    dims = dims_arg(dim, x.ndim, name) if x.ndim else ()
    if empty_is_all and dim is not None and not isinstance(dim, int) and len(dim) == 0:
        dims = tuple(range(x.ndim))
    return dims


def _keep_shape(shape, dims):
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


def _squeeze_dims(t, dims):
    return reshape(t, tuple(s for i, s in enumerate(t.shape) if i not in dims))


class _ReturnTypes:
    """Named-tuple result types, as torch.return_types (``v, i = x.max(0)`` or ``.values``)."""

    def __init__(self):
        self._types = {}

    def get(self, name, fields=("values", "indices")):
        cls = self._types.get(name)
        if cls is None:
            cls = collections.namedtuple(name, fields)
            cls.__module__ = "corelib.return_types"
            cls.__repr__ = lambda self: (f"corelib.return_types.{type(self).__name__}(\n" + ",\n"
                                         .join(f"{f}={v!r}" for f, v in zip(self._fields, self))
                                         + ")")
            self._types[name] = cls
            setattr(self, name, cls)
        return cls


return_types = _ReturnTypes()


# ---------------------------------------------------------------------------------------------
# gathering along a dim: the one differentiable primitive behind every index-returning op
def _gather_vjp(g, out, x, idx, dim, shape):
    return _scatter_add(g, idx, dim, shape), None


def _scatter_vjp(g, out, src, idx, dim, shape):
    return gather_along(g, idx, dim), None


_gather = Op("gather_along", _gather_vjp, saves=((), (0,)),
             sig="(Array x, Array index, *, dim dim, shape shape) -> Array",
             rule=R.like_index,
             doc="x at int64 index positions along dim (take_along_axis; index's shape)")
_scatter = Op("scatter_add_along", _scatter_vjp, saves=((), (0,)),
              sig="(Array src, Array index, *, dim dim, shape shape) -> Array",
              rule=R.shape_param,
              doc=("zeros of shape with src added at index positions along dim (gather_along's "
                   "transpose)"))


def gather_along(x, idx, dim):
    """``x`` values at int64 ``idx`` positions along ``dim`` (numpy.take_along_axis)."""
    return call(_gather, (x, idx), x.dtype, {"dim": dim, "shape": tuple(x.shape)})


def _scatter_add(src, idx, dim, shape):
    return call(_scatter, (src, idx), src.dtype, {"dim": dim, "shape": tuple(shape)})


def _select(op, x, dim, keep, name, result_name, **params):
    """values/indices result of index kernel ``op`` along one dim (0-d inputs as 1 element);
    the kernel keeps ``dim``, which is squeezed unless ``keep``."""
    if x.ndim == 0:
        wrap_dim(dim, 0, name)
        xx, d = reshape(x, (1,)), 0
    else:
        xx, d = x, wrap_dim(dim, x.ndim, name)
    idx = call(op, (xx,), _dtype.int64, dict(params, dim=d))
    values = gather_along(xx, idx, d)
    if x.ndim == 0:
        values, idx = reshape(values, ()), reshape(idx, ())
    elif not keep:
        values, idx = _squeeze_dims(values, (d,)), _squeeze_dims(idx, (d,))
    return return_types.get(result_name)(values, idx)


# ---------------------------------------------------------------------------------------------
# sums and products
def _nansum_vjp(g, out, x, dim, keepdim):
    return (where(x == x, expand_back(g, x.shape, dim, keepdim), 0),)


def _nanmean_vjp(g, out, x, dim, keepdim):
    valid = x == x
    count = sum(valid, dim, keepdim=True)
    return (where(valid, expand_back(g, x.shape, dim, keepdim) / count, 0),)


nansum = reduction("nansum", _nansum_vjp, saves="inputs")
nanmean = reduction("nanmean", _nanmean_vjp, saves="inputs", kind="float")


def _prod_vjp(g, out, x, dim, keepdim):
    """d prod / dx_i = product of the others, exact when the slice holds zeros (as PyTorch)."""
    g = expand_back(g, x.shape, dim, keepdim)
    o = expand_back(out, x.shape, dim, keepdim)
    zero = x == 0
    n_zero = expand_back(sum(zero, dim, keepdim=True), x.shape, dim, True)
    safe = where(zero, 1.0, x)
    others = expand_back(prod_op(safe, dim, keepdim=True), x.shape, dim, True)
    grad = where(n_zero == 0, o / safe, where(logical_and(zero, n_zero == 1), others, 0.0))
    return (g * grad,)


prod_op = reduction("prod", _prod_vjp, saves="both", core=True)


def prod(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Product of all elements, or along ``dim`` (ints and bool accumulate in int64)."""
    if dim is not None and not isinstance(dim, int):
        raise TypeError(f"prod(): argument 'dim' must be int, not {type(dim).__name__}")
    return prod_op(input, dim, keepdim, dtype=dtype, out=out)


Tensor.prod = prod


# ---------------------------------------------------------------------------------------------
# extremes
def _evenly_vjp(g, out, x, dim, keepdim):
    """Gradient of amax/amin: split evenly among the tied extreme elements (as PyTorch)."""
    mask = cast(x == expand_back(out, x.shape, dim, keepdim), g.dtype)
    return (expand_back(g, x.shape, dim, keepdim) * mask / sum(mask, dim, keepdim=True),)


_amax = reduction("amax", _evenly_vjp, saves="both", kind="same", core=True)
_amin = reduction("amin", _evenly_vjp, saves="both", kind="same", core=True)


def _extreme(reduce, name):
    def fn(input, dim=(), keepdim=False, *, out=None):
        x = _tensor_arg(input, name)
        every = dim is None or (not isinstance(dim, int) and len(dim) == 0)
        if every and x.numel() == 0:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for "
                               f"input.numel() == 0. Specify the reduction dim with the "
                               f"'dim' argument.")
        dims = dims_arg(None if every else dim, x.ndim, name) if x.ndim else ()
        _nonempty(x, dims, name)
        return reduce(x, dims if dim != () else None, keepdim, out=out)
    return _publish(fn, name,
                    f"corelib.{name}(input, dim=(), keepdim=False): {name[1:]}imum values "
                    f"(gradient split evenly among ties).")


amax = _extreme(_amax, "amax")
amin = _extreme(_amin, "amin")

_argmax = Op("argmax",
             sig="(Array x, *, dim? dim, bool keepdim) -> Array",
             rule=R.reduce_index,
             doc="index of the first maximum along dim (int64; dim=None: a 0-d x)")
_argmin = Op("argmin",
             sig="(Array x, *, dim? dim, bool keepdim) -> Array",
             rule=R.reduce_index,
             doc="index of the first minimum along dim (int64; dim=None: a 0-d x)")


def _argext(op, name):
    def fn(input, dim=None, keepdim=False, *, out=None):
        x = _tensor_arg(input, name)
        if dim is None:
            if x.numel() == 0:   # IndexError, as PyTorch
                raise IndexError(f"{name}(): Expected reduction dim to be specified for "
                                 f"input.numel() == 0.")
            idx = call(op, (reshape(x, (-1,)),), _dtype.int64, {"dim": 0, "keepdim": False})
            if keepdim:
                idx = reshape(idx, (1,) * x.ndim)
        else:
            d = wrap_dim(dim, x.ndim, name)
            if x.ndim == 0:
                idx = call(op, (x,), _dtype.int64, {"dim": None, "keepdim": False})
            else:
                _nonempty(x, (d,), name)
                idx = call(op, (x,), _dtype.int64, {"dim": d, "keepdim": bool(keepdim)})
        return _finish_out(idx, out, name)
    return _publish(fn, name,
                    f"corelib.{name}(input, dim=None, keepdim=False): index of the {name[3:]}imum "
                    f"(the first one among ties).")


argmax = _argext(_argmax, "argmax")
argmin = _argext(_argmin, "argmin")


_NO_DIM = object()   # max(x) and max(x, dim=None) differ: PyTorch refuses the latter


def _max_min(name, extreme, arg_op, binary_name):
    def fn(input, dim=_NO_DIM, keepdim=False, *, out=None):
        x = _tensor_arg(input, name)
        if dim is None:
            raise TypeError(f"{name}(): argument 'dim' must be an int or a Tensor (got None); "
                            f"call {name}(input) for the {name}imum of all elements")
        if isinstance(dim, Tensor):
            from . import elementwise
            binary = getattr(elementwise, binary_name, None)
            if binary is None:
                raise NotImplementedError(f"{name}(input, other): needs corelib.{binary_name}")
            return binary(x, dim, out=out)
        if dim is _NO_DIM:
            if keepdim:
                raise TypeError(f"{name}(): keepdim requires 'dim'")
            return _finish_out(extreme(x), out, name)
        if x.ndim:
            _nonempty(x, (wrap_dim(dim, x.ndim, name),), name)
        return _finish_out(_select(arg_op, x, dim, keepdim, name, name, keepdim=True), out, name)
    return _publish(fn, name,
                    f"corelib.{name}(input) -> value; {name}(input, dim, keepdim=False) -> "
                    f"(values, indices); {name}(input, other) -> {binary_name}.")


max = _max_min("max", amax, _argmax, "maximum")
min = _max_min("min", amin, _argmin, "minimum")


def aminmax(input, *, dim=None, keepdim=False, out=None):
    """(min, max) over all elements or along ``dim``."""
    x = _tensor_arg(input, "aminmax")
    dims = () if dim is None else dim
    result = return_types.get("aminmax", ("min", "max"))(
        amin(x, dims, keepdim), amax(x, dims, keepdim))
    return _finish_out(result, out, "aminmax")


Tensor.aminmax = aminmax


# ---------------------------------------------------------------------------------------------
# all / any / count_nonzero
_all = reduction("all", kind="bool")
_any = reduction("any", kind="bool")


def _logical_reduction(reduce, name):
    def fn(input, dim=None, keepdim=False, *, out=None):
        x = _tensor_arg(input, name)
        r = reduce(x, dim, keepdim)
        if x.dtype is _dtype.uint8:   # PyTorch keeps uint8 for all/any of uint8
            r = cast(r, _dtype.uint8)
        return _finish_out(r, out, name)
    return _publish(fn, name,
                    f"corelib.{name}(input, dim=None, keepdim=False): logical {name} reduction.")


all = _logical_reduction(_all, "all")
any = _logical_reduction(_any, "any")

_count_nonzero = Op("count_nonzero",
                    sig="(Array x, *, dims dim) -> Array",
                    rule=R.count,
                    doc="number of non-zero elements over dims (int64)")


@method()
def count_nonzero(input, dim=None):
    """Number of non-zero elements, over all or along ``dim`` (int or tuple)."""
    x = _tensor_arg(input, "count_nonzero")
    dims = dims_arg(dim, x.ndim, "count_nonzero") if x.ndim else ()
    return call(_count_nonzero, (x,), _dtype.int64, {"dim": dims})


# ---------------------------------------------------------------------------------------------
# variance and standard deviation
def _var_grad(g, x, dim, keepdim, correction):
    n = _numel(x.shape, dim)
    centered = x - mean(x, dim, keepdim=True)
    return expand_back(g, x.shape, dim, keepdim) * centered * (2.0 / builtins.max(
        n - correction, 0)) if n - correction > 0 else \
        expand_back(g, x.shape, dim, keepdim) * centered * float("inf")


def _std_vjp(g, out, x, dim, keepdim, correction):
    g_var = where(out == 0, 0.0, g / (2 * out))
    return (_var_grad(g_var, x, dim, keepdim, correction),)


_var = Op("var", lambda g, out, x, dim, keepdim, correction: (
    _var_grad(g, x, dim, keepdim, correction),),
          sig="(Array x, *, dims dim, bool keepdim, Scalar correction) -> Array",
          rule=R.reduce,
          doc="variance over dims, divided by n - correction")
_std = Op("std", _std_vjp, saves="both",
          sig="(Array x, *, dims dim, bool keepdim, Scalar correction) -> Array",
          rule=R.reduce,
          doc="standard deviation over dims, divided by n - correction")


def _var_args(name, dim, unbiased, correction):
    if isinstance(dim, builtins.bool):   # legacy var(input, unbiased)
        dim, unbiased = None, dim
    if correction is not None and unbiased is not None:
        raise RuntimeError(f"{name}(): cannot specify both 'unbiased' and 'correction'")
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    return dim, correction


def _moment(op, name):
    def fn(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
        x = _tensor_arg(input, name)
        dim, correction = _var_args(name, dim, unbiased, correction)
        _float_only(x, name, "std and var only support floating point and complex dtypes")
        dims = _reduce_dims(x, dim, name)
        r = call(op, (x,), x.dtype, {"dim": dims, "keepdim": builtins.bool(keepdim),
                                     "correction": correction})
        return _finish_out(r, out, name)
    return _publish(fn, name,
                    f"corelib.{name}(input, dim=None, *, correction=1, keepdim=False) (legacy "
                    f"``unbiased=`` accepted).")


var = _moment(_var, "var")
std = _moment(_std, "std")


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(var, mean) in one call."""
    dim2, correction = _var_args("var_mean", dim, unbiased, correction)
    return (var(input, dim2, keepdim=keepdim, correction=correction),
            mean(input, dim2, keepdim=keepdim))


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(std, mean) in one call."""
    dim2, correction = _var_args("std_mean", dim, unbiased, correction)
    return (std(input, dim2, keepdim=keepdim, correction=correction),
            mean(input, dim2, keepdim=keepdim))


# ---------------------------------------------------------------------------------------------
# logsumexp
def _logsumexp_vjp(g, out, x, dim, keepdim):
    return (expand_back(g, x.shape, dim, keepdim) *
            exp(x - expand_back(out, x.shape, dim, keepdim)),)


_logsumexp = reduction("logsumexp", _logsumexp_vjp, saves="both", kind="same")


def logsumexp(input, dim, keepdim=False, *, out=None):
    """log(sum(exp(input), dim)) computed stably (ints promote to the default float)."""
    x = to_float(_tensor_arg(input, "logsumexp"))
    return _logsumexp(x, dim, keepdim, out=out)


Tensor.logsumexp = logsumexp


# ---------------------------------------------------------------------------------------------
# norms
def _vector_norm_vjp(g, out, x, ord, dim, keepdim):
    g = expand_back(g, x.shape, dim, keepdim)
    o = expand_back(out, x.shape, dim, keepdim)
    if ord == 0:
        return (g * 0,)
    if ord == 1:
        return (g * sign(x),)
    if ord in (math.inf, -math.inf):
        mask = cast(abs(x) == o, g.dtype)
        return (g * sign(x) * mask / sum(mask, dim, keepdim=True),)
    if ord < 1:   # as PyTorch: zero entries get the zero subgradient
        zero = x == 0
        powered = where(zero, 0.0, where(zero, 1.0, abs(x)) ** (ord - 1))
        return (sign(x) * powered * g * o ** (1 - ord),)
    scale = where(o == 0, 0.0, g / o ** (ord - 1))
    if ord == 2:
        return (x * scale,)
    return (sign(x) * abs(x) ** (ord - 1) * scale,)


_vector_norm = Op("vector_norm", _vector_norm_vjp, saves="both",
                  sig="(Array x, *, float ord, dims dim, bool keepdim) -> Array",
                  rule=R.reduce,
                  doc="ord-norm over dims (ord: any float, inf, -inf, 0)")


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    """linalg.vector_norm: the ``ord``-norm of ``x`` over ``dim`` (all elements if None)."""
    x = _tensor_arg(x, "linalg.vector_norm")
    if dtype is not None:
        x = cast(x, _dtype.as_dtype(dtype, "linalg.vector_norm"))
    _float_only(x, "linalg.vector_norm", f"linalg.vector_norm: Expected a floating point or "
                f"complex tensor as input. Got {_TYPE_WORD.get(x.dtype.name, x.dtype.name)}")
    if isinstance(ord, str) or ord is None:
        raise RuntimeError(f"linalg.vector_norm: ord must be a number, got {ord!r}")
    ord = float(ord)
    dims = dims_arg(dim, x.ndim, "linalg.vector_norm") if x.ndim else ()
    if dim is not None and not isinstance(dim, int) and len(dim) == 0:
        dims = tuple(range(x.ndim))
    if ord < 0 or ord == math.inf:
        for d in dims if x.ndim else ():
            if x.shape[d] == 0:
                raise RuntimeError(f"linalg.vector_norm cannot compute the {ord:g} norm on "
                                   f"the dimension {d} because this dimension is empty and "
                                   f"the operation does not have an identity")
    r = call(_vector_norm, (x,), x.dtype, {"ord": ord, "dim": dims,
                                           "keepdim": builtins.bool(keepdim)})
    return _finish_out(r, out, "linalg.vector_norm")


def _svdvals(x, name):
    from .. import linalg
    fn = getattr(linalg, "svdvals", None)
    if fn is None:
        raise NotImplementedError(f"{name}: needs corelib.linalg.svdvals")
    return fn(x)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    """linalg.matrix_norm: 'fro', 'nuc', inf, -inf, 1, -1, 2, -2 over the two dims ``dim``."""
    name = "linalg.matrix_norm"
    A = _tensor_arg(A, name, "A")
    if dtype is not None:
        A = cast(A, _dtype.as_dtype(dtype, name))
    if A.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    _float_only(A, name)
    if not isinstance(dim, (tuple, list)) or len(dim) != 2:
        raise RuntimeError(f"{name}: dim must be a 2-tuple. Got {dim}")
    d0, d1 = (wrap_dim(d, A.ndim, name) for d in dim)
    if d0 == d1:
        raise RuntimeError(f"{name}: dims must be different. Got ({d0}, {d1})")
    if ord == "fro":
        r = vector_norm(A, 2, (d0, d1), keepdim)
    elif ord in ("nuc", 2, -2):
        sv = _svdvals(movedim(A, (d0, d1), (-2, -1)), name)
        r = sum(sv, -1) if ord == "nuc" else (amax(sv, -1) if ord == 2 else amin(sv, -1))
        if keepdim:
            for d in sorted((d0, d1)):
                r = unsqueeze(r, d)
    elif ord in (math.inf, -math.inf, 1, -1):
        summed, over = (d1, d0) if ord in (math.inf, -math.inf) else (d0, d1)
        s = sum(abs(A), summed, keepdim=True)
        r = amax(s, over, keepdim=True) if ord > 0 else amin(s, over, keepdim=True)
        if not keepdim:
            r = _squeeze_dims(r, (d0, d1))
    else:
        raise RuntimeError(f"{name}: Order {ord} not supported.")
    return _finish_out(r, out, name)


def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    """torch.norm: vector p-norms, 'fro' and 'nuc' (prefer linalg.vector_norm/matrix_norm)."""
    x = _tensor_arg(input, "norm")
    if isinstance(dim, int):
        dim = (dim,)
    if p == "nuc":
        return matrix_norm(x, "nuc", (-2, -1) if dim is None else dim, keepdim, dtype=dtype,
                           out=out)
    if p == "fro" or p is None:
        p = 2
    if isinstance(p, str):
        raise RuntimeError(f"norm(): unsupported p={p!r}")
    if x.dtype.category < 2 and dtype is None:
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor "
                           f"as input. Got {_TYPE_WORD.get(x.dtype.name, x.dtype.name)}")
    return vector_norm(x, p, dim, keepdim, dtype=dtype, out=out)


Tensor.norm = norm


# ---------------------------------------------------------------------------------------------
# scans
def _reverse_cumsum(g, dim):
    return sum(g, dim, keepdim=True) - cumsum(g, dim) + g


def _cumprod_vjp(g, out, x, dim):
    """Exact with zeros: before the first zero out/x works; at the first zero the gradient is
    the reverse sum of g times the cumulative product that skips that zero; after it, 0."""
    zero = x == 0
    zeros_so_far = cumsum(zero, dim)
    before = zeros_so_far == 0
    first_zero = logical_and(zero, zeros_so_far == 1)
    safe = where(zero, 1.0, x)
    g_before = where(before, _reverse_cumsum(g * out, dim) / safe, 0.0)
    skipping = cumprod(where(first_zero, 1.0, x), dim)
    g_first = where(first_zero, _reverse_cumsum(g * skipping, dim), 0.0)
    return (g_before + g_first,)


def _logcumsumexp_vjp(g, out, x, dim):
    """PyTorch's formula: the positive and negative parts of g summed in log space,
    exp(x_i + log sum_{j>=i} |g_j| exp(-out_j)), so no exponent over- or underflows."""
    from .elementwise import log
    from .shape import flip
    lowest = _dtype.finfo(g.dtype).min

    def reverse_lcse(t):
        return flip(call(_logcumsumexp, (flip(t, (dim,)),), t.dtype, {"dim": dim}), (dim,))
    log_abs = log(abs(g))
    pos = exp(reverse_lcse(where(g > 0, log_abs, lowest) - out) + x)
    neg = exp(reverse_lcse(where(g < 0, log_abs, lowest) - out) + x)
    return (pos - neg,)


_cumsum = Op("cumsum", lambda g, out, x, dim: (_reverse_cumsum(g, dim),), saves=None,
             sig="(Array x, *, dim dim) -> Array",
             rule=R.same,
             doc="cumulative sum along dim")
_cumprod = Op("cumprod", _cumprod_vjp, saves="both",
              sig="(Array x, *, dim dim) -> Array",
              rule=R.same,
              doc="cumulative product along dim")
_logcumsumexp = Op("logcumsumexp", _logcumsumexp_vjp, saves="both",
                   sig="(Array x, *, dim dim) -> Array",
                   rule=R.same,
                   doc="log of the cumulative sum of exp along dim")


def _scan(op, name, kind):
    def fn(input, dim, *, dtype=None, out=None):
        x = _in_dtype(_tensor_arg(input, name), dtype, kind, name)
        if dtype is None and kind == "float":
            _float_only(x, name, f"\"{name}_out_cpu\" not implemented for "
                        f"'{_TYPE_WORD.get(x.dtype.name, x.dtype.name)}'")
        d = wrap_dim(dim, x.ndim, name)
        if x.ndim == 0:
            return _finish_out(clone(x) if op is not _logcumsumexp else x * 1, out, name)
        return _finish_out(call(op, (x,), x.dtype, {"dim": d}), out, name)
    return _publish(fn, name,
                    f"corelib.{name}(input, dim, *, dtype=None): cumulative {name[3:]} along dim.")


cumsum = _scan(_cumsum, "cumsum", "sum")
cumprod = _scan(_cumprod, "cumprod", "sum")
_logcumsumexp_fn = _scan(_logcumsumexp, "logcumsumexp", "float")


def logcumsumexp(input, dim, *, out=None):
    """log(cumsum(exp(input))) along dim, computed stably."""
    return _logcumsumexp_fn(input, dim, out=out)


Tensor.logcumsumexp = logcumsumexp

_cum_indices = Op("cum_extreme_indices",
                  sig="(Array x, *, dim dim, bool largest) -> Array",
                  rule=R.same_index,
                  doc="index of the running maximum (largest) or minimum along dim (int64)")


def _cum_extreme(name, largest):
    def fn(input, dim, *, out=None):
        x = _tensor_arg(input, name)
        return _finish_out(_select(_cum_indices, x, dim, True, name, name, largest=largest),
                           out, name)
    return _publish(fn, name,
                    f"corelib.{name}(input, dim): running {name[3:]}imum values and indices.")


cummax = _cum_extreme("cummax", True)
cummin = _cum_extreme("cummin", False)


# ---------------------------------------------------------------------------------------------
# sorting and selection (values are gathered by index, so gradients scatter back)
_sort_indices = Op("sort_indices",
                   sig="(Array x, *, dim dim, bool descending) -> Array",
                   rule=R.same_index,
                   core=True,
                   doc="indices that stably sort x along dim, NaN last (int64)")
_topk_indices = Op("topk_indices",
                   sig="(Array x, *, dim dim, int k, bool largest) -> Array",
                   rule=R.topk_index,
                   doc="indices of the k largest (or smallest) along dim, in order (int64)")
_kthvalue_indices = Op("kthvalue_indices",
                       sig="(Array x, *, dim dim, int k) -> Array",
                       rule=R.keep_one_index,
                       doc="index of the k-th smallest along dim; dim kept with size 1 (int64)")
_median_indices = Op("median_indices",
                     sig="(Array x, *, dim dim, bool ignore_nan) -> Array",
                     rule=R.keep_one_index,
                     doc="index of the lower median along dim; dim kept with size 1 (int64)")
_mode_indices = Op("mode_indices",
                   sig="(Array x, *, dim dim) -> Array",
                   rule=R.keep_one_index,
                   doc=("index of the last occurrence of the most frequent value along dim; dim "
                        "kept (int64)"))


@method()
def sort(input, dim=-1, descending=False, stable=False, *, out=None):
    """(values, indices) sorted along dim; stable order for equal values (NaN sorts last)."""
    x = _tensor_arg(input, "sort")
    r = _select(_sort_indices, x, dim, True, "sort", "sort", descending=builtins.bool(descending))
    return _finish_out(r, out, "sort")


@method()
def argsort(input, dim=-1, descending=False, stable=False):
    """Indices that sort ``input`` along dim."""
    return sort(input, dim, descending, stable).indices


@method()
def msort(input, *, out=None):
    """Values sorted along the first dim."""
    return _finish_out(sort(input, 0).values, out, "msort")


@method()
def topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):
    """(values, indices) of the k largest (or smallest) elements along dim."""
    x = _tensor_arg(input, "topk")
    if isinstance(k, builtins.bool) or not hasattr(k, "__index__"):
        raise TypeError(f"topk(): argument 'k' (position 1) must be int, not {type(k).__name__}")
    n = x.shape[wrap_dim(dim, x.ndim, "topk")] if x.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError("topk(): selected index k out of range")
    r = _select(_topk_indices, x, dim, True, "topk", "topk", k=int(k),
                largest=builtins.bool(largest))
    return _finish_out(r, out, "topk")


@method()
def kthvalue(input, k, dim=-1, keepdim=False, *, out=None):
    """(values, indices) of the k-th smallest element along dim (k counts from 1)."""
    x = _tensor_arg(input, "kthvalue")
    d = wrap_dim(dim, x.ndim, "kthvalue")
    n = x.shape[d] if x.ndim else 1
    if n and not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    if x.ndim:
        _nonempty(x, (d,), "kthvalue")
    return _finish_out(_select(_kthvalue_indices, x, dim, keepdim, "kthvalue", "kthvalue",
                               k=int(k)), out, "kthvalue")


def _median_all(x, ignore_nan, name):
    """Lower median of all elements; the gradient is split evenly among equal elements."""
    if x.numel() == 0:
        from .creation import full
        return full((), math.nan, dtype=x.dtype, device=x.device)
    flat = reshape(x, (-1,))
    with no_grad():
        idx = call(_median_indices, (flat,), _dtype.int64, {"dim": 0, "ignore_nan": ignore_nan})
        value = reshape(gather_along(flat, idx, 0), ())
    if not (x.requires_grad and STATE.grad_enabled) or \
            not x.is_meta and value.item() != value.item():   # NaN: no even split
        return value
    mask = cast(x == value, x.dtype)
    return sum(x * mask) / sum(mask)


def _median(name, ignore_nan):
    def fn(input, dim=None, keepdim=False, *, out=None):
        x = _tensor_arg(input, name)
        if dim is None:
            return _finish_out(_median_all(x, ignore_nan, name), out, name)
        if x.ndim:
            _nonempty(x, (wrap_dim(dim, x.ndim, name),), name)
        return _finish_out(_select(_median_indices, x, dim, keepdim, name, name,
                                   ignore_nan=ignore_nan), out, name)
    return _publish(fn, name,
                    f"corelib.{name}(input, dim=None, keepdim=False): lower median "
                    f"({'ignoring' if ignore_nan else 'propagating'} NaN); with dim: "
                    f"(values, indices).")


median = _median("median", False)
nanmedian = _median("nanmedian", True)


@method()
def mode(input, dim=-1, keepdim=False, *, out=None):
    """(values, indices): the most frequent value along dim (smallest among equally frequent)
    and the index of its last occurrence."""
    x = _tensor_arg(input, "mode")
    if x.ndim:
        _nonempty(x, (wrap_dim(dim, x.ndim, "mode"),), "mode")
    return _finish_out(_select(_mode_indices, x, dim, keepdim, "mode", "mode"), out, "mode")


# ---------------------------------------------------------------------------------------------
# unique, counting and histograms (not differentiable; several outputs)
_unique_op = Op("unique",
                sig=("(Array x, *, dim? dim, bool return_inverse, bool return_counts) -> (Array, "
                     "Array, Array)"),
                rule=R.DATA_DEPENDENT,
                doc="sorted unique values (or slices along dim), inverse indices and counts")
_unique_consecutive_op = Op("unique_consecutive",
                            sig=("(Array x, *, dim? dim, bool return_inverse, bool return_counts) "
                                 "-> (Array, Array, Array)"),
                            rule=R.DATA_DEPENDENT,
                            doc=("values with consecutive repeats collapsed, inverse indices and "
                                 "counts"))
_bincount = Op("bincount",
               sig=("(Array x, Array? weights=None, *, int minlength, dtype dtype='int64') -> "
                    "Array"),
               rule=R.DATA_DEPENDENT,
               doc="count (or sum of weights) of each non-negative integer of 1-d x")
_histc = Op("histc",
            sig="(Array x, *, int bins, float min, float max) -> Array",
            rule=R.histc,
            doc="histogram in bins equal bins over [min, max] (the data range if min == max)")


def _run_multi(op, x, params, dtypes):
    """Run a kernel that returns several arrays; wrap each (no autograd)."""
    try:
        arrays = op.kernel(x.device.type)(x._data, **params)
    except (ValueError, TypeError, IndexError) as exc:
        raise RuntimeError(f"{op.name}(): {exc}") from exc
    return tuple(Tensor._make(a, x.device, dt) for a, dt in zip(arrays, dtypes))


def _unique_result(values, inverse, counts, return_inverse, return_counts):
    if not return_inverse and not return_counts:
        return values
    return (values,) + ((inverse,) if return_inverse else ()) + \
        ((counts,) if return_counts else ())


def _unique_impl(op, name, x, return_inverse, return_counts, dim):
    x = _tensor_arg(x, name)
    d = None if dim is None else wrap_dim(dim, x.ndim, name)
    values, inverse, counts = _run_multi(op, x, {"dim": d, "return_inverse": True,
                                                 "return_counts": True},
                                         (x.dtype, _dtype.int64, _dtype.int64))
    return _unique_result(values, inverse, counts, return_inverse, return_counts)


@method()
def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """Sorted unique elements (or slices along ``dim``), optionally inverse indices and counts."""
    return _unique_impl(_unique_op, "unique", input, return_inverse, return_counts, dim)


@method()
def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Collapse runs of equal consecutive elements (or slices along ``dim``)."""
    return _unique_impl(_unique_consecutive_op, "unique_consecutive", input, return_inverse,
                        return_counts, dim)


@method()
def bincount(input, weights=None, minlength=0):
    """Count of each non-negative integer value in a 1-d tensor (summed ``weights``)."""
    x = _tensor_arg(input, "bincount")
    if x.ndim != 1 or x.dtype.category != 1:
        raise RuntimeError("bincount(): bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError("bincount(): minlength should be >= 0")
    if weights is not None and (not isinstance(weights, Tensor) or weights.shape != x.shape):
        raise RuntimeError("bincount(): weights should be 1-d and have the same length as "
                           "input")
    if x.numel() and not x.is_meta and bool(amin(x) < 0):
        raise RuntimeError("bincount(): bincount only supports 1-d non-negative integral inputs.")
    if weights is None:
        return call(_bincount, (x,), _dtype.int64, {"minlength": int(minlength)})
    dt = _dtype.float32 if weights.dtype is _dtype.float32 else _dtype.float64
    return call(_bincount, (x, cast(weights, _dtype.float64)), dt,
                {"minlength": int(minlength), "dtype": dt.name})


@method()
def histc(input, bins=100, min=0, max=0, *, out=None):
    """Histogram with ``bins`` equal bins over [min, max] (data range if min == max)."""
    x = _tensor_arg(input, "histc")
    _float_only(x, "histc", f"\"histogram_cpu\" not implemented for "
                f"'{_TYPE_WORD.get(x.dtype.name, x.dtype.name)}'")
    if bins <= 0:
        raise RuntimeError("histc(): bins must be > 0")
    if min > max:
        raise RuntimeError("histc(): max must be larger than min")
    r = call(_histc, (x,), x.dtype, {"bins": int(bins), "min": float(min), "max": float(max)})
    return _finish_out(r, out, "histc")
