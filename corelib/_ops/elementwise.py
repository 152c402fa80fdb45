"""Elementwise ops: the unary and binary families, casting, in-place and out= handling.

Each op is one line: a record built by a family factory (``unary``, ``binary``) with its
derivative rule in frontend ops. Families own the dtype rule (PyTorch promotion, Python scalars
as weak types), casting operands to the compute dtype before the kernel runs, ``out=`` and the
in-place ``_`` variant, so backends implement only same-dtype kernels.
"""
from __future__ import annotations

import math

from .. import _dtype
from .._dtype import result_type_from, get_default_dtype
from .._tensor import Tensor
from ..autograd.grad_mode import STATE, no_grad
from .core import Op, call, method, record, scalar_types

_make = Tensor._make
_NO_PARAMS = {}

# public API, re-exported by corelib/__init__.py
__all__ = ["add", "sub", "mul", "div", "true_divide", "divide", "subtract", "multiply", "floor_divide", "pow", "neg", "negative", "exp", "log", "sqrt", "tanh", "sigmoid", "abs", "absolute", "sign", "sin", "cos", "relu", "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal", "not_equal", "logical_and", "logical_or", "logical_xor", "logical_not", "where"]


# ---------------------------------------------------------------------------------------------
# casting
def _cast_vjp(g, out, x, dtype):
    return (cast(g, x.dtype),)


_cast = Op("astype", _cast_vjp)


def cast(x, dtype):
    """x converted to ``dtype`` (a differentiable op between floating types)."""
    if x.dtype is dtype:
        return x
    return call(_cast, (x,), dtype, {"dtype": dtype.name})


def to_float(x):
    """Integral/bool tensors become the default float dtype (PyTorch's int-to-float rule)."""
    return x if x.dtype.category == 2 else cast(x, get_default_dtype())


# ---------------------------------------------------------------------------------------------
# promotion of operands
def _scalar_as(value, dtype):
    if dtype.category == 2:
        return float(value)
    if dtype.category == 1:
        return int(value)
    return bool(value)


def promote(args, op_name):
    """Cast tensor args to their common dtype; convert scalars. Returns (args, dtype)."""
    first = None
    same = True
    for a in args:
        if isinstance(a, Tensor):
            if first is None:
                first = a.dtype
            elif a.dtype is not first:
                same = False
        elif not isinstance(a, scalar_types):
            if a is None or not hasattr(a, "__float__"):
                raise TypeError(f"{op_name}(): expected Tensor or number as argument, got "
                                f"{type(a).__name__}")
    if first is None:
        raise TypeError(f"{op_name}(): expected at least one Tensor argument")
    if same:
        # only one tensor dtype: scalars matter only if they are of a higher category
        cats = [_scat(a) for a in args if not isinstance(a, Tensor)]
        if not cats or max(cats) <= first.category:
            return tuple(a if isinstance(a, Tensor) else _scalar_as(a, first) for a in args), first
    dims, zero, cats = [], [], []
    for a in args:
        if isinstance(a, Tensor):
            (dims if a._data.shape else zero).append(a.dtype)
        else:
            cats.append(_scat(a))
    dt = result_type_from(dims, zero, cats)
    return tuple(cast(a, dt) if isinstance(a, Tensor) else _scalar_as(a, dt) for a in args), dt


def _scat(v):
    if isinstance(v, bool):
        return 0
    if isinstance(v, int):
        return 1
    if isinstance(v, float):
        return 2
    if hasattr(v, "dtype"):   # NumPy scalars and the like
        kind = getattr(v.dtype, "kind", "f")
        return {"b": 0, "i": 1, "u": 1}.get(kind, 2)
    return 2


# ---------------------------------------------------------------------------------------------
# out= and in-place
def write_out(result, out, op_name):
    """Copy ``result`` into the user's ``out`` tensor (resizing an empty one), as PyTorch."""
    if not isinstance(out, Tensor):
        raise TypeError(f"{op_name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if STATE.grad_enabled and (result._requires_grad or out._requires_grad):
        raise RuntimeError(f"{op_name}(): functions with out=... arguments don't support "
                           f"automatic differentiation, but one of the arguments requires grad.")
    if not _dtype.can_cast(result.dtype, out.dtype):
        raise RuntimeError(f"{op_name}(): result type {result.dtype} can't be cast to the "
                           f"desired output type {out.dtype}")
    if out.shape != result.shape:
        if out.numel() != 0:
            raise RuntimeError(f"{op_name}(): out= tensor has shape {tuple(out.shape)}, but the "
                               f"result has shape {tuple(result.shape)}")
        out._data = cast(result, out.dtype).clone()._data
        out._bump_version()
        return out
    out.copy_(result)
    return out


def check_inplace(t, op_name):
    if STATE.grad_enabled and t.grad_fn is None and t._requires_grad:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")


def inplace(self, fn, *args, **kwargs):
    """Run out-of-place ``fn(self, *args)`` and write the result into ``self``.

    Without autograd the kernel writes straight into self's storage (``out=``). With autograd,
    self's old value is cloned first (a node may need it) and self's history is rebased onto
    the new result, so earlier nodes that saved self detect the change by version counter.
    """
    name = getattr(fn, "__name__", "op") + "_"
    check_inplace(self, name)
    tracked = STATE.grad_enabled and (self._requires_grad or any(
        isinstance(a, Tensor) and a._requires_grad for a in args))
    if not tracked:
        return fn(self, *args, out=self, **kwargs)
    result = fn(self.clone(), *args, **kwargs)
    if not _dtype.can_cast(result.dtype, self.dtype):
        raise RuntimeError(f"{name}(): result type {result.dtype} can't be cast to the desired "
                           f"output type {self.dtype}")
    assign(self, result)
    return self


def assign(self, value):
    """Write ``value``'s data into self's storage and take over its autograd history."""
    from .shape import broadcast_to
    if value.shape != self.shape:
        value = broadcast_to(value, self.shape)
    with no_grad():
        _copy_data(self, cast(value, self.dtype))
    self._bump_version()
    if value._requires_grad and STATE.grad_enabled:
        if self._base is not None:
            from .indexing import rebase_view
            rebase_view(self, value)
        else:
            self.grad_fn = value.grad_fn if value.dtype is self.dtype else \
                cast(value, self.dtype).grad_fn
            self._output_nr = value._output_nr
            self._requires_grad = True


_copy = Op("copy_")


def _copy_data(dst, src):
    dst_data = dst._data
    if src.device is not dst.device:
        from .creation import to_device
        src = to_device(src, dst.device)
    _copy.kernel(dst.device.type)(dst_data, src._data)


@method()
def copy_(self, src, non_blocking=False):
    """Copy ``src`` (broadcast, cast, moved across devices) into self, in place."""
    if not isinstance(src, Tensor):
        from .creation import full
        src = full((), src, dtype=self.dtype, device=self.device)
    check_inplace(self, "copy_")
    if STATE.grad_enabled and src._requires_grad:
        from .creation import to_device
        assign(self, to_device(src, self.device) if src.device is not self.device
               else src.clone())
        return self
    from .shape import broadcast_to
    if src.shape != self.shape:
        src = broadcast_to(src, self.shape)
    _copy_data(self, cast(src, self.dtype))
    self._bump_version()
    return self


# ---------------------------------------------------------------------------------------------
# families
def _finish(op, args, dtype, out, name):
    if out is None:
        return call(op, args, dtype)
    if isinstance(out, Tensor) and out.dtype is dtype and not (STATE.grad_enabled and (
            out._requires_grad or any(isinstance(a, Tensor) and a._requires_grad for a in args))):
        from .shape import broadcast_shape
        shape = broadcast_shape(*(a._data.shape for a in args if isinstance(a, Tensor)))
        if out._data.shape == shape:
            call(op, args, dtype, out=out._data)
            out._bump_version()
            return out
    return write_out(call(op, args, dtype), out, name)


def unary(name, vjp=None, saves="inputs", kind="float", inplace_ok=True, doc=None):
    """Define unary op ``name``. kind: 'float' (ints promote to the default float dtype),
    'same' (result has the input's dtype), 'bool' (result is bool), 'int_only'."""
    op = Op(name, vjp, saves)

    def fn(input, *, out=None):
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' must be Tensor, not "
                            f"{type(input).__name__}")
        x = to_float(input) if kind == "float" else input
        if kind == "same" and x.dtype is _dtype.bool and name in _NO_BOOL:
            raise RuntimeError(f"{name}(): not supported for bool tensors")
        if kind == "int_only" and x.dtype.category == 2:
            raise TypeError(f"{name}(): only integral and bool tensors are supported, got "
                            f"{x.dtype}")
        return _finish(op, (x,), _dtype.bool if kind == "bool" else x.dtype, out, name)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc or f"corelib.{name}(input): elementwise {name}."
    fn.op = op
    _install(name, fn, inplace_ok and kind != "bool")
    return fn


_NO_BOOL = {"neg", "sign"}


def binary(name, vjp=None, saves="inputs", kind="arith", reflected=(), doc=None):
    """Define broadcasting binary op ``name``. kind: 'arith' (promoted dtype), 'float'
    (promoted, then ints to default float), 'compare' (bool result), 'logical' (bool inputs
    and result), 'integral' (bitwise: no floats)."""
    op = Op(name, vjp, saves)
    kernels = op.kernels
    same_dtype_result = kind in ("arith", "integral")

    def fn(input, other, *, out=None):
        # fast path: two tensors of one dtype on one device (the common case, ~1 us budget)
        if same_dtype_result and out is None and isinstance(other, Tensor) and \
                isinstance(input, Tensor) and input.dtype is other.dtype and \
                input.device is other.device and (kind == "arith" or input.dtype.category < 2):
            dev = input.device
            try:
                data = (kernels.get(dev.type) or op.kernel(dev.type))(input._data, other._data)
            except (ValueError, TypeError) as exc:
                raise RuntimeError(f"{name}(): {exc}") from exc
            t = _make(data, dev, input.dtype)
            if (input._requires_grad or other._requires_grad) and STATE.grad_enabled and \
                    vjp is not None and t.dtype.category == 2:
                record(op, t, (input, other), _NO_PARAMS)
            return t
        if kind == "logical":
            args = tuple(cast(a, _dtype.bool) if isinstance(a, Tensor) else bool(a)
                         for a in (input, other))
            if not any(isinstance(a, Tensor) for a in args):
                raise TypeError(f"{name}(): expected at least one Tensor argument")
            dt = _dtype.bool
        else:
            args, dt = promote((input, other), name)
            if kind == "float" and dt.category != 2:
                ft = get_default_dtype()
                args = tuple(cast(a, ft) if isinstance(a, Tensor) else float(a) for a in args)
                dt = ft
            if kind == "integral" and dt.category == 2:
                raise TypeError(f"{name}(): only integral and bool tensors are supported, "
                                f"got {dt}")
        return _finish(op, args, _dtype.bool if kind in ("compare", "logical") else dt, out,
                       name)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc or f"corelib.{name}(input, other): elementwise {name} with broadcasting."
    fn.op = op
    _install(name, fn, kind not in ("compare", "logical") or True)
    for r in reflected:
        setattr(Tensor, r, lambda self, other, _fn=fn: _fn(other, self))
    return fn


def _install(name, fn, with_inplace):
    setattr(Tensor, name, fn)
    if with_inplace:
        def method_(self, *args, **kwargs):
            return inplace(self, fn, *args, **kwargs)
        method_.__name__ = name + "_"
        setattr(Tensor, name + "_", method_)


# ---------------------------------------------------------------------------------------------
# arithmetic
def _reduce_none(*grads):
    return grads


add_ = binary("add", lambda g, out, a, b: (g, g), saves=None, reflected=("__radd__",))
sub_ = binary("sub", lambda g, out, a, b: (g, -g), saves=None)
def _mul_vjp(g, out, a, b):
    return (None if b is None else g * b), (None if a is None else g * a)


def _div_vjp(g, out, a, b):
    return g / b, (None if a is None else -g * a / (b * b))


mul = binary("mul", _mul_vjp, saves="cross", reflected=("__rmul__",))
div_true = binary("div", _div_vjp, saves=((1,), (0, 1)), kind="float")


def _alpha(other, alpha, name):
    if alpha == 1:
        return other
    if isinstance(other, Tensor):
        return mul(other, alpha)
    return other * alpha


def add(input, other, *, alpha=1, out=None):
    """input + alpha * other, with broadcasting and type promotion."""
    return add_(input, _alpha(other, alpha, "add"), out=out)


def sub(input, other, *, alpha=1, out=None):
    """input - alpha * other."""
    if isinstance(input, Tensor) and input.dtype is _dtype.bool or \
            isinstance(other, Tensor) and other.dtype is _dtype.bool:
        raise RuntimeError("sub(): Subtraction, the `-` operator, with a bool tensor is not "
                           "supported. If you are trying to invert a mask, use the `~` or "
                           "`logical_not()` operator instead.")
    return sub_(input, _alpha(other, alpha, "sub"), out=out)


subtract, multiply = sub, mul


def div(input, other, *, rounding_mode=None, out=None):
    """True division, or 'trunc' / 'floor' rounding (integer dtypes stay integral)."""
    if rounding_mode is None:
        return div_true(input, other, out=out)
    if rounding_mode == "floor":
        return floor_divide(input, other, out=out)
    if rounding_mode == "trunc":
        return div_trunc(input, other, out=out)
    raise ValueError(f"div(): expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                     f"found '{rounding_mode}'")


divide = true_divide = div


floor_divide = binary("floor_divide", lambda g, out, a, b: (g * 0, g * 0), saves=None)
div_trunc = binary("div_trunc", lambda g, out, a, b: (g * 0, g * 0), saves=None)


def _pow_vjp(g, out, a, b):
    ga = g * b * a ** (b - 1) if not isinstance(b, (int, float)) or b != 0 else g * 0
    gb = g * out * log(a) if isinstance(b, Tensor) else None
    if isinstance(b, Tensor):
        gb = where(a == 0, g * 0, gb) if isinstance(a, Tensor) else gb
    return ga, gb


pow = binary("pow", _pow_vjp, saves="both", reflected=("__rpow__",))


# ---------------------------------------------------------------------------------------------
# unary math (derivatives in frontend ops)
neg = unary("neg", lambda g, out, x: (-g,), saves=None, kind="same")
negative = neg
exp = unary("exp", lambda g, out, x: (g * out,), saves="out")
log = unary("log", lambda g, out, x: (g / x,))
sqrt = unary("sqrt", lambda g, out, x: (g / (2 * out),), saves="out")
tanh = unary("tanh", lambda g, out, x: (g * (1 - out * out),), saves="out")
sigmoid = unary("sigmoid", lambda g, out, x: (g * out * (1 - out),), saves="out")
abs = unary("abs", lambda g, out, x: (g * sign(x),), kind="same")
absolute = abs
sign = unary("sign", lambda g, out, x: (g * 0,), saves=None, kind="same")
sin = unary("sin", lambda g, out, x: (g * cos(x),))
cos = unary("cos", lambda g, out, x: (-g * sin(x),))
relu = unary("relu", lambda g, out, x: (g * (out > 0),), saves="out", kind="same")


# ---------------------------------------------------------------------------------------------
# comparison and selection
eq = binary("eq", kind="compare")
ne = binary("ne", kind="compare")
lt = binary("lt", kind="compare")
le = binary("le", kind="compare")
gt = binary("gt", kind="compare")
ge = binary("ge", kind="compare")
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne

logical_and = binary("logical_and", kind="logical")
logical_or = binary("logical_or", kind="logical")
logical_xor = binary("logical_xor", kind="logical")
logical_not = unary("logical_not", kind="bool")


def _where_vjp(g, out, cond, a, b):
    zero = g * 0
    return None, (where(cond, g, zero) if isinstance(a, Tensor) else None), \
        (where(cond, zero, g) if isinstance(b, Tensor) else None)


_where = Op("where", _where_vjp)


def where(condition, input=None, other=None, *, out=None):
    """Elements of ``input`` where condition holds, else of ``other`` (broadcast)."""
    if input is None and other is None:
        from .indexing import nonzero
        return nonzero(condition, as_tuple=True)
    (a, b), dt = promote((input, other), "where")
    cond = cast(condition, _dtype.bool) if isinstance(condition, Tensor) else condition
    if not isinstance(cond, Tensor):
        raise TypeError("where(): argument 'condition' must be Tensor")
    return _finish(_where, (cond, a, b), dt, out, "where")


Tensor.where = lambda self, condition, other: where(condition, self, other)


# ---------------------------------------------------------------------------------------------
# operators
Tensor.__add__ = add_
Tensor.__sub__ = lambda self, other: sub(self, other)
Tensor.__rsub__ = lambda self, other: sub(other, self)
Tensor.__mul__ = mul
Tensor.__truediv__ = div_true
Tensor.__rtruediv__ = lambda self, other: div_true(other, self)
Tensor.__floordiv__ = lambda self, other: floor_divide(self, other)
Tensor.__rfloordiv__ = lambda self, other: floor_divide(other, self)
Tensor.__pow__ = lambda self, other: pow(self, other)
Tensor.__neg__ = lambda self: neg(self)
Tensor.__pos__ = lambda self: self
Tensor.__abs__ = lambda self: abs(self)
Tensor.__eq__ = lambda self, other: eq(self, other) if isinstance(other, (Tensor,) + scalar_types) \
    else NotImplemented
Tensor.__ne__ = lambda self, other: ne(self, other) if isinstance(other, (Tensor,) + scalar_types) \
    else NotImplemented
Tensor.__lt__ = lambda self, other: lt(self, other)
Tensor.__le__ = lambda self, other: le(self, other)
Tensor.__gt__ = lambda self, other: gt(self, other)
Tensor.__ge__ = lambda self, other: ge(self, other)
Tensor.__hash__ = lambda self: id(self)
Tensor.__iadd__ = lambda self, other: self.add_(other)
Tensor.__isub__ = lambda self, other: self.sub_(other)
Tensor.__imul__ = lambda self, other: self.mul_(other)
Tensor.__itruediv__ = lambda self, other: self.div_(other)
Tensor.add = lambda self, other, *, alpha=1, out=None: add(self, other, alpha=alpha, out=out)
Tensor.add_ = lambda self, other, *, alpha=1: inplace(self, add, other, alpha=alpha)
Tensor.sub = lambda self, other, *, alpha=1, out=None: sub(self, other, alpha=alpha, out=out)
Tensor.sub_ = lambda self, other, *, alpha=1: inplace(self, sub, other, alpha=alpha)
Tensor.div = lambda self, other, *, rounding_mode=None, out=None: div(
    self, other, rounding_mode=rounding_mode, out=out)
Tensor.div_ = lambda self, other, *, rounding_mode=None: inplace(
    self, div, other, rounding_mode=rounding_mode)
Tensor.subtract, Tensor.multiply, Tensor.divide = Tensor.sub, Tensor.mul, Tensor.div
Tensor.true_divide = Tensor.div
