"""Reductions. The ``reduction`` factory owns dim normalisation (None, int, negative, tuples),
keepdim and the dtype rule; kernels receive ``dim`` as a tuple of non-negative ints."""
from __future__ import annotations

from .. import _dtype
from .._tensor import Tensor
from .core import Op, call, dims_arg, method
from .elementwise import cast
from .shape import expand, reshape

# public API, re-exported by corelib/__init__.py
__all__ = ["sum", "mean"]


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


def reduction(name, vjp=None, saves="meta", kind="sum", doc=None):
    """Define reduction ``name(input, dim=None, keepdim=False, *, dtype=None)``.

    kind: 'sum' (ints and bool accumulate in int64), 'float' (floating inputs only),
    'same' (result keeps the dtype), 'bool' (result is bool).
    """
    op = Op(name, vjp, saves)

    def fn(input, dim=None, keepdim=False, *, dtype=None, out=None):
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' must be Tensor, not "
                            f"{type(input).__name__}")
        x = input
        if dtype is not None:
            x = cast(x, _dtype.as_dtype(dtype, name))
        elif kind == "sum" and x.dtype.category < 2:
            x = cast(x, _dtype.int64)
        elif kind == "float" and x.dtype.category < 2:
            raise RuntimeError(f"{name}(): could not infer output dtype. Input dtype must be "
                               f"either a floating point or complex dtype. Got: "
                               f"{_TYPE_WORD.get(x.dtype.name, x.dtype.name)}")
        dims = dims_arg(dim, x.ndim, name) if x.ndim else ()
        if dim is not None and not isinstance(dim, int) and len(dim) == 0 and kind != "bool":
            dims = tuple(range(x.ndim))   # PyTorch: an empty dim list reduces everything
        result = call(op, (x,), _dtype.bool if kind == "bool" else x.dtype,
                      {"dim": dims, "keepdim": bool(keepdim)})
        if out is not None:
            from .elementwise import write_out
            return write_out(result, out, name)
        return result

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc or f"corelib.{name}(input, dim=None, keepdim=False): {name} reduction."
    fn.op = op
    setattr(Tensor, name, fn)
    return fn


_TYPE_WORD = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char",
              "uint8": "Byte", "bool": "Bool"}

sum = reduction("sum", lambda g, out, x_shape, dim, keepdim: (
    expand_back(g, x_shape, dim, keepdim),))
mean = reduction("mean", lambda g, out, x_shape, dim, keepdim: (
    expand_back(g, x_shape, dim, keepdim) / max(_numel(x_shape, dim), 1),), kind="float")
