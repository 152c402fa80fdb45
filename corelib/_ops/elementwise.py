"""Elementwise ops: the unary and binary families, casting, in-place and out= handling.

Each op is one line: a record built by a family factory (``unary``, ``binary``) with its
derivative rule in frontend ops. Families own the dtype rule (PyTorch promotion, Python scalars
as weak types), casting operands to the compute dtype before the kernel runs, ``out=`` and the
in-place ``_`` variant, so backends implement only same-dtype kernels.
"""
from __future__ import annotations

import math

from .. import _dtype
from .._device import CPU
from .._dtype import result_type_from, get_default_dtype
from .._tensor import Tensor
from ..autograd.grad_mode import STATE, no_grad
from . import rules as R
from .core import Op, as_tensor_arg, call, kernel_error, device_of, method, record, scalar_types

_make = Tensor._make
_NO_PARAMS = {}

# public API, re-exported by corelib/__init__.py
__all__ = [
    "add", "sub", "mul", "div", "true_divide", "divide", "subtract", "multiply",
    "floor_divide", "remainder", "fmod", "pow", "float_power", "atan2", "arctan2", "maximum",
    "minimum", "fmax", "fmin", "hypot", "logaddexp", "logaddexp2", "copysign", "xlogy", "neg",
    "negative", "abs", "absolute", "sign", "sgn", "signbit", "positive", "exp", "exp2",
    "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "square", "reciprocal", "sin",
    "cos", "tan", "asin", "acos", "atan", "arcsin", "arccos", "arctan", "sinh", "cosh",
    "tanh", "asinh", "acosh", "atanh", "arcsinh", "arccosh", "arctanh", "sigmoid", "logit",
    "erf", "erfc", "erfinv", "floor", "ceil", "round", "trunc", "fix", "frac", "nan_to_num",
    "isnan", "isinf", "isfinite", "isposinf", "isneginf", "relu", "relu_", "selu", "selu_",
    "celu", "celu_", "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less",
    "less_equal", "not_equal", "logical_and", "logical_or", "logical_xor", "logical_not",
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift",
    "bitwise_right_shift", "isclose", "allclose", "equal", "where", "clamp", "clip",
    "clamp_min", "clamp_max", "lerp", "addcmul", "addcdiv",
    # torch.nn.functional-only activations (corelib.nn.functional re-exports these)
    "relu6", "leaky_relu", "leaky_relu_", "elu", "elu_", "gelu", "silu", "mish", "softplus",
    "softsign", "hardtanh", "hardtanh_", "hardsigmoid", "hardswish",
]


# ---------------------------------------------------------------------------------------------
# casting
def _cast_vjp(g, out, x, dtype):
    return (cast(g, x.dtype),)


_cast = Op("astype", _cast_vjp,
           sig="(Array x, *, dtype dtype) -> Array",
           rule=R.to_dtype,
           core=True,
           doc="x converted to dtype (floats to integers truncate toward zero)")


def cast(x, dtype):
    """x converted to ``dtype`` (a differentiable op between floating types)."""
    if x.dtype is dtype:
        return x
    if dtype.name not in _stored_dtypes(x.device.type):   # not a half-working tensor
        raise TypeError(f"to(): device {x.device.type!r} does not support dtype {dtype}")
    return call(_cast, (x,), dtype, {"dtype": dtype.name})


def _stored_dtypes(device_type):
    from ..dispatch import registry
    return registry.backend(device_type).dtypes


def to_float(x):
    """Integral/bool tensors become the default float dtype (PyTorch's int-to-float rule)."""
    return x if x.dtype.category == 2 else cast(x, get_default_dtype())


# ---------------------------------------------------------------------------------------------
# promotion of operands
_INT_RANGE = {d.name: (_dtype.iinfo(d).min, _dtype.iinfo(d).max) for d in _dtype.INTEGRAL}


def _scalar_as(value, dtype):
    """A Python number converted to ``dtype``'s kind; integers wrap into the dtype's range, as
    PyTorch's scalar cast does (``uint8_tensor + -2`` wraps around)."""
    if dtype.category == 2:
        return float(value)
    if dtype.category == 1:
        v = int(value)
        lo, hi = _INT_RANGE[dtype.name]
        return v if lo <= v <= hi else (v - lo) % (hi - lo + 1) + lo
    return bool(value)


def join_devices(args, op_name):
    """PyTorch's cpu scalars: a 0-d cpu tensor operand of an elementwise op on another device
    is moved there (differentiably), like a Python number; any other mix of devices raises."""
    dev = None
    for a in args:
        if isinstance(a, Tensor):
            if dev is None:
                dev = a.device
            elif a.device is not dev:
                break
    else:
        return args   # one device (the common case)
    dev = None
    for a in args:
        if isinstance(a, Tensor) and not (a.device is CPU and not a._data.shape):
            if dev is None:
                dev = a.device
            elif a.device is not dev:
                device_of(args, op_name)   # raises: two devices besides cpu scalars
    if dev is None:
        return args
    from .creation import to_device
    return tuple(to_device(a, dev) if isinstance(a, Tensor) and a.device is not dev else a
                 for a in args)


def promote(args, op_name):
    """Cast tensor args to their common dtype and device (``join_devices``); convert scalars.
    Returns (args, dtype)."""
    first = None
    same = True
    dev = None
    mixed = False
    for a in args:
        if isinstance(a, Tensor):
            if first is None:
                first, dev = a.dtype, a.device
            else:
                if a.dtype is not first:
                    same = False
                if a.device is not dev:
                    mixed = True
        elif not isinstance(a, scalar_types):
            if a is None or not hasattr(a, "__float__"):
                raise TypeError(f"{op_name}(): expected Tensor or number as argument, got "
                                f"{type(a).__name__}")
    if first is None:
        raise TypeError(f"{op_name}(): expected at least one Tensor argument")
    if mixed:
        args = join_devices(args, op_name)
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
    if out.device is not result.device:
        raise RuntimeError(f"{op_name}(): Expected out tensor to have device {result.device}, "
                           f"but got {out.device} instead")
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
    if STATE.grad_enabled and t._base is not None and t._base._requires_grad and \
            getattr(t._view_fn, "no_grad_view", False):
        raise RuntimeError(f"{op_name}(): A view was created in no_grad mode and is being "
                           f"modified inplace with grad mode enabled. Given that this use case "
                           f"is ambiguous and error-prone, it is forbidden. You can clarify your "
                           f"code by moving both the view and the inplace either both inside the "
                           f"no_grad block (if you don't want the inplace to be tracked) or both "
                           f"outside (if you want the inplace to be tracked).")
    if STATE.grad_enabled and t.grad_fn is None and t._requires_grad:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")
    base = t._base   # checked here, before any data is written
    if STATE.grad_enabled and base is not None and base.grad_fn is None and base._requires_grad:
        raise RuntimeError(f"{op_name}(): a view of a leaf Variable that requires grad is being "
                           f"used in an in-place operation.")
    if STATE.grad_enabled and t._requires_grad and base is not None and \
            getattr(t._view_fn, "multi_output", None):
        raise RuntimeError(f"{op_name}(): Output of {t._view_fn.multi_output} is a view and is "
                           f"being modified inplace. This view is the output of a function that "
                           f"returns multiple views. Such functions do not allow the output "
                           f"views to be modified inplace.")


def inplace(self, fn, *args, **kwargs):
    """Run out-of-place ``fn(self, *args)`` and write the result into ``self``.

    Without autograd the kernel writes straight into self's storage (``out=``). With autograd,
    self's old value is cloned first (a node may need it) and self's history is rebased onto
    the new result, so earlier nodes that saved self detect the change by version counter.
    """
    name = fn.__name__ + "_"
    check_inplace(self, name)
    tracked = False
    if STATE.grad_enabled:
        tracked = self._requires_grad
        for a in args:
            if isinstance(a, Tensor) and a._requires_grad:
                tracked = True
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
            self._grad_fn = value.grad_fn if value.dtype is self.dtype else \
                cast(value, self.dtype).grad_fn
            self._output_nr = value._output_nr
            self._requires_grad = True


_copy = Op("copy_",
           sig="(Array! dst, Array src) -> None",
           rule=R.written,
           core=True,
           doc="copy src into dst (same shape and dtype; dst may be a strided view)")


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
    if STATE.grad_enabled and self._requires_grad:
        # a constant over a tensor with history: self's old values get a zero gradient
        # (through an empty slice of self, whose sum is exactly 0 and saves no values)
        from .creation import to_device
        from .shape import broadcast_to
        src = to_device(src, self.device) if src.device is not self.device else src
        zero = self.reshape(-1)[:0].sum()
        assign(self, cast(broadcast_to(src, self.shape), self.dtype) + zero)
        return self
    from .shape import broadcast_to
    if src.shape != self.shape:
        src = broadcast_to(src, self.shape)
    _copy_data(self, cast(src, self.dtype))
    self._bump_version()
    return self


# ---------------------------------------------------------------------------------------------
# families
def _finish(op, args, dtype, out, name, params=_NO_PARAMS):
    if out is None:
        return call(op, args, dtype, params)
    if isinstance(out, Tensor) and out.dtype is dtype and out.device is next(
            a.device for a in args if isinstance(a, Tensor)) and not (STATE.grad_enabled and (
            out._requires_grad or any(isinstance(a, Tensor) and a._requires_grad for a in args))):
        from .shape import broadcast_shape
        shape = broadcast_shape(*(a._data.shape for a in args if isinstance(a, Tensor)))
        if out._data.shape == shape:
            call(op, args, dtype, params, out=out._data)
            out._bump_version()
            return out
    return write_out(call(op, args, dtype, params), out, name)


_TYPE_WORD = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
              "bool": "Bool", "float16": "Half", "bfloat16": "BFloat16", "float32": "Float",
              "float64": "Double"}


def _not_implemented(name, dt):
    return NotImplementedError(f'{name}(): "{name}" not implemented for '
                               f"'{_TYPE_WORD.get(dt.name, dt.name)}'")


def unary(name, vjp=None, saves="inputs", kind="float", inplace_ok=True, doc=None,
          no_bool=False, method=True, kernel_params="", core=False):
    """Define unary op ``name(input, *, out=None, **params)``; params go to the kernel.

    kind: 'float' (ints promote to the default float dtype), 'same' (result has the input's
    dtype), 'float_only' (floating inputs only, as PyTorch's activation kernels), 'bool'
    (result is bool), 'int_only' (integral and bool inputs). ``no_bool`` rejects bool inputs.
    ``kernel_params``: the kernel's optional keyword params, in signature syntax (core.py);
    ``core``: in the core kernel set.
    """
    op = Op(name, vjp, saves, sig=f"(Array x, *, {kernel_params}Array! out=None) -> Array",
            rule=R.same_bool if kind == "bool" else R.same, core=core,
            doc=f"elementwise {name}" + (" (bool result)" if kind == "bool" else ""))

    def fn(input, *, out=None, **params):
        as_tensor_arg(input, name)
        cat = input.dtype.category
        x = to_float(input) if kind == "float" else input
        if (no_bool and cat == 0) or (kind == "int_only" and cat == 2) or \
                (kind == "float_only" and cat < 2):
            raise _not_implemented(name, input.dtype)
        return _finish(op, (x,), _dtype.bool if kind == "bool" else x.dtype, out, name,
                       params or _NO_PARAMS)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc or f"corelib.{name}(input): elementwise {name}."
    fn.op = op
    if method:
        _install(name, fn, inplace_ok and kind != "bool")
    return fn


def binary(name, vjp=None, saves="inputs", kind="arith", reflected=(), doc=None,
           tensor_only=False, no_bool=False, core=False):
    """Define broadcasting binary op ``name``. kind: 'arith' (promoted dtype), 'float'
    (promoted, then ints to default float), 'float_only' (promoted dtype must be floating),
    'compare' (bool result), 'logical' (bool inputs and result), 'integral' (bitwise: no
    floats). ``tensor_only``: ``other`` must be a Tensor (as torch.maximum); ``no_bool``
    rejects a bool result type (as torch.remainder). ``core``: in the core kernel set."""
    operand = "Array" if tensor_only else "Array|Scalar"
    to_bool = kind in ("compare", "logical")
    op = Op(name, vjp, saves, sig=f"({operand} a, {operand} b, *, Array! out=None) -> Array",
            rule=R.broadcast_bool if to_bool else R.broadcast, core=core,
            doc=f"elementwise {name}, broadcast" + (" (bool result)" if to_bool else ""))
    kernels = op.kernels
    same_dtype_result = kind in ("arith", "integral")
    # dtype categories the fast path may run on (others need the checks below)
    fast_cats = {"arith": (1, 2) if no_bool else (0, 1, 2), "integral": (0, 1)}.get(kind, ())
    fast_any = fast_cats == (0, 1, 2)   # no dtype check needed (add, mul, ...)
    scalar_fast = kind in ("arith", "float", "float_only") and not tensor_only   # tensor op number

    def fn(input, other, *, out=None):
        # Fast path (~1 us budget): a tensor and a same-dtype tensor on one device, or a float
        # tensor and a Python number; result into a new tensor or into ``out`` (in-place ops).
        if isinstance(input, Tensor):
            dt = input.dtype
            if isinstance(other, Tensor):
                fast = same_dtype_result and other.dtype is dt and input.device is \
                    other.device and (fast_any or dt.category in fast_cats)
                b = other._data
                grad = STATE.grad_enabled and (input._requires_grad or other._requires_grad)
            else:
                fast = scalar_fast and dt.category == 2 and (type(other) is float or
                                                              type(other) is int)
                b = other
                grad = STATE.grad_enabled and input._requires_grad
            if fast:
                dev = input.device
                k = kernels.get(dev.type) or op.kernel(dev.type)
                if out is None:
                    try:
                        data = k(input._data, b)
                    except (ValueError, TypeError, RuntimeError, MemoryError) as exc:
                        raise kernel_error(exc, name, (input, other)) from exc
                    t = _make(data, dev, dt)
                    if grad and vjp is not None and dt.category == 2:
                        record(op, t, (input, other), _NO_PARAMS)
                    return t
                if isinstance(out, Tensor) and out.dtype is dt and out.device is dev and \
                        not grad and not (out._requires_grad and STATE.grad_enabled):
                    try:
                        k(input._data, b, out=out._data)
                    except (ValueError, TypeError, RuntimeError, MemoryError) as exc:
                        raise kernel_error(exc, name, (input, other), out) from exc
                    out._bump_version()
                    return out
        if tensor_only:
            as_tensor_arg(input, name)
            as_tensor_arg(other, name, "other")
        if kind == "logical":
            args = tuple(cast(a, _dtype.bool) if isinstance(a, Tensor) else bool(a)
                         for a in (input, other))
            if not any(isinstance(a, Tensor) for a in args):
                raise TypeError(f"{name}(): expected at least one Tensor argument")
            args = join_devices(args, name)
            dt = _dtype.bool
        else:
            args, dt = promote((input, other), name)
            if kind == "float" and dt.category != 2:
                ft = get_default_dtype()
                args = tuple(cast(a, ft) if isinstance(a, Tensor) else float(a)
                             for a in join_devices((input, other), name))
                dt = ft
            if (kind == "integral" and dt.category == 2) or \
                    (kind == "float_only" and dt.category != 2) or (no_bool and dt.category == 0):
                raise _not_implemented(name, dt)
        return _finish(op, args, _dtype.bool if kind in ("compare", "logical") else dt, out,
                       name)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc or f"corelib.{name}(input, other): elementwise {name} with broadcasting."
    fn.op = op
    _install(name, fn, True)
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


def _alias(fn, *names):
    """Install ``fn`` (and its in-place method, if any) under alias names."""
    for n in names:
        setattr(Tensor, n, getattr(Tensor, fn.__name__))
        if hasattr(Tensor, fn.__name__ + "_"):
            setattr(Tensor, n + "_", getattr(Tensor, fn.__name__ + "_"))
    return fn


def _zeros(g, out, *inputs, **params):
    """Piecewise-constant ops (floor, sign, rounding division): zero gradients, as PyTorch."""
    return (g * 0,) * len(inputs)


# ---------------------------------------------------------------------------------------------
# arithmetic
_add = binary("add", lambda g, out, a, b: (g, g), saves=None, reflected=("__radd__",), core=True)
_sub = binary("sub", lambda g, out, a, b: (g, -g), saves=None, core=True)


def _mul_vjp(g, out, a, b):
    return (None if b is None else g * b), (None if a is None else g * a)


def _div_vjp(g, out, a, b):
    return g / b, (None if a is None else -g * a / (b * b))


mul = binary("mul", _mul_vjp, saves="cross", reflected=("__rmul__",), core=True)
div_true = binary("div", _div_vjp, saves=((1,), (0, 1)), kind="float", core=True)


def _alpha(other, alpha, name):
    if alpha == 1:
        return other
    if isinstance(other, Tensor):
        return mul(other, alpha)
    return other * alpha


def add(input, other, *, alpha=1, out=None):
    """input + alpha * other, with broadcasting and type promotion."""
    return _add(input, _alpha(other, alpha, "add"), out=out)


def sub(input, other, *, alpha=1, out=None):
    """input - alpha * other."""
    if isinstance(input, (Tensor, bool)) and _is_bool(input) or \
            isinstance(other, (Tensor, bool)) and _is_bool(other):
        raise RuntimeError("sub(): Subtraction, the `-` operator, with a bool tensor is not "
                           "supported. If you are trying to invert a mask, use the `~` or "
                           "`logical_not()` operator instead.")
    return _sub(input, _alpha(other, alpha, "sub"), out=out)


def _is_bool(x):
    return x.dtype is _dtype.bool if isinstance(x, Tensor) else isinstance(x, bool)


subtract, multiply = sub, mul


def div(input, other, *, rounding_mode=None, out=None):
    """True division, or 'trunc' / 'floor' rounding (integer dtypes stay integral)."""
    if rounding_mode is None:
        return div_true(input, other, out=out)
    if rounding_mode == "floor":
        return floor_divide(input, other, out=out)
    if rounding_mode == "trunc":
        return div_trunc(input, other, out=out)
    raise RuntimeError(f"div(): expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                     f"found '{rounding_mode}'")


divide = true_divide = div


floor_divide = binary("floor_divide", _zeros, saves=None, no_bool=True)
div_trunc = binary("div_trunc", _zeros, saves=None, no_bool=True)
remainder = binary("remainder", lambda g, out, a, b: (
    g, None if not isinstance(b, Tensor) else -g * floor_divide(a, b)),
    reflected=("__rmod__",), no_bool=True)
fmod = binary("fmod", lambda g, out, a, b: (
    g, None if not isinstance(b, Tensor) else -g * div_trunc(a, b)), no_bool=True)


def _pow_vjp(g, out, a, b):
    ga = gb = None
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            ga = where(b == 0, 0.0, g * b * a ** (b - 1))
        elif b == 0:
            ga = g * 0
        else:
            ga = g * b * a ** (b - 1)
    if isinstance(b, Tensor):
        if isinstance(a, Tensor):
            gb = where((a == 0) & (b >= 0), 0.0, g * out * log(a))
        elif a == 0:
            gb = where(b >= 0, 0.0, g * out * -math.inf)
        else:
            gb = g * out * math.log(a)
    return ga, gb


_pow = binary("pow", _pow_vjp, saves="both", core=True)


def pow(input, exponent, *, out=None):
    """input ** exponent; either may be a Python number (integers to negative integer powers
    are an error, as in PyTorch)."""
    if isinstance(input, Tensor) and input.dtype.category < 2 and \
            isinstance(exponent, int) and not isinstance(exponent, bool) and exponent < 0:
        raise RuntimeError("pow(): Integers to negative integer powers are not allowed.")
    if isinstance(input, Tensor) and input.dtype is _dtype.bool and isinstance(exponent, bool):
        # bool ** bool stays bool: x ** True = x, x ** False = True
        result = logical_or(input, input if exponent else logical_not(input))
        return result if out is None else write_out(result, out, "pow")
    if _is_bool(input) and isinstance(exponent, Tensor) and exponent.dtype is _dtype.bool:
        raise _not_implemented("pow", _dtype.bool)
    return _pow(input, exponent, out=out)


_install("pow", pow, True)
Tensor.__pow__ = pow
Tensor.__rpow__ = lambda self, other: pow(other, self)


def float_power(input, exponent, *, out=None):
    """pow computed (and returned) in float64."""
    cast64 = [cast(a, _dtype.float64) if isinstance(a, Tensor) else float(a)
              for a in (input, exponent)]
    return _pow(*cast64, out=out)


def _atan2_vjp(g, out, a, b):
    d = a * a + b * b
    return (g * b / d if isinstance(a, Tensor) else None), \
        (-g * a / d if isinstance(b, Tensor) else None)


atan2 = binary("atan2", _atan2_vjp, kind="float", tensor_only=True)
arctan2 = _alias(atan2, "arctan2")


def _minmax_vjp(first_loses):
    """maximum/minimum: the gradient goes to the winner and is split equally on ties."""
    def rule(g, out, a, b):
        half = where(a == b, g / 2, g)
        return where(first_loses(a, b), 0.0, half), where(first_loses(b, a), 0.0, half)
    return rule


def _fminmax_vjp(first_wins):
    def rule(g, out, a, b):
        take_a = first_wins(a, b) | isnan(b)
        return where(take_a, g, 0.0), where(take_a, 0.0, g)
    return rule


maximum = binary("maximum", _minmax_vjp(lambda a, b: a < b), tensor_only=True, core=True)
minimum = binary("minimum", _minmax_vjp(lambda a, b: a > b), tensor_only=True, core=True)
fmax = binary("fmax", _fminmax_vjp(lambda a, b: a >= b), tensor_only=True)
fmin = binary("fmin", _fminmax_vjp(lambda a, b: a <= b), tensor_only=True)
hypot = binary("hypot", lambda g, out, a, b: (g * a / out, g * b / out), saves="both",
               kind="float_only", tensor_only=True)
logaddexp = binary("logaddexp", lambda g, out, a, b: (
    g / (1 + exp(b - a)), g / (1 + exp(a - b))), kind="float_only", tensor_only=True)
logaddexp2 = binary("logaddexp2", lambda g, out, a, b: (
    g / (1 + exp2(b - a)), g / (1 + exp2(a - b))), kind="float_only", tensor_only=True)
copysign = binary("copysign", lambda g, out, a, b: (
    g * where(a == 0, 0.0, out / a) if isinstance(a, Tensor) else None,
    g * 0 if isinstance(b, Tensor) else None), saves="both", kind="float")


def _xlogy_vjp(g, out, a, b):
    # PyTorch's: d/da = log(b), but 0 where a == b == 0
    return (g * xlogy((a != 0) | (b != 0), b) if isinstance(a, Tensor) else None), \
        (g * a / b if isinstance(b, Tensor) else None)


xlogy = binary("xlogy", _xlogy_vjp, kind="float")


# ---------------------------------------------------------------------------------------------
# unary math (derivatives in frontend ops)
_LN2, _LN10 = math.log(2.0), math.log(10.0)
_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)

neg = unary("neg", lambda g, out, x: (-g,), saves=None, kind="same", core=True)
negative = _alias(neg, "negative")


def _neg_checked(input, *, out=None):
    if isinstance(input, Tensor) and input.dtype is _dtype.bool:
        raise RuntimeError("neg(): Negation, the `-` operator, on a bool tensor is not "
                           "supported. If you are trying to invert a mask, use the `~` or "
                           "`logical_not()` operator instead.")
    return neg(input, out=out)


exp = unary("exp", lambda g, out, x: (g * out,), saves="out", core=True)
exp2 = unary("exp2", lambda g, out, x: (g * out * _LN2,), saves="out")
expm1 = unary("expm1", lambda g, out, x: (g * (out + 1),), saves="out")
log = unary("log", lambda g, out, x: (g / x,), core=True)
log2 = unary("log2", lambda g, out, x: (g / (x * _LN2),))
log10 = unary("log10", lambda g, out, x: (g / (x * _LN10),))
log1p = unary("log1p", lambda g, out, x: (g / (x + 1),))
sqrt = unary("sqrt", lambda g, out, x: (g / (2 * out),), saves="out")
rsqrt = unary("rsqrt", lambda g, out, x: (-0.5 * g * out * out * out,), saves="out")
reciprocal = unary("reciprocal", lambda g, out, x: (-g * out * out,), saves="out")
sin = unary("sin", lambda g, out, x: (g * cos(x),), core=True)
cos = unary("cos", lambda g, out, x: (-g * sin(x),), core=True)
tan = unary("tan", lambda g, out, x: (g * (1 + out * out),), saves="out")
asin = unary("asin", lambda g, out, x: (g * rsqrt(1 - x * x),))
acos = unary("acos", lambda g, out, x: (-g * rsqrt(1 - x * x),))
atan = unary("atan", lambda g, out, x: (g / (1 + x * x),), core=True)
sinh = unary("sinh", lambda g, out, x: (g * cosh(x),))
cosh = unary("cosh", lambda g, out, x: (g * sinh(x),))
tanh = unary("tanh", lambda g, out, x: (g * (1 - out * out),), saves="out")
asinh = unary("asinh", lambda g, out, x: (g * rsqrt(x * x + 1),))
acosh = unary("acosh", lambda g, out, x: (g * rsqrt((x - 1) * (x + 1)),))
atanh = unary("atanh", lambda g, out, x: (g / (1 - x * x),))
arcsin, arccos, arctan = _alias(asin, "arcsin"), _alias(acos, "arccos"), _alias(atan, "arctan")
arcsinh, arccosh = _alias(asinh, "arcsinh"), _alias(acosh, "arccosh")
arctanh = _alias(atanh, "arctanh")
sigmoid = unary("sigmoid", lambda g, out, x: (g * out * (1 - out),), saves="out")
erf = unary("erf", lambda g, out, x: (g * _TWO_OVER_SQRT_PI * exp(-x * x),), core=True)
erfc = unary("erfc", lambda g, out, x: (-g * _TWO_OVER_SQRT_PI * exp(-x * x),))
erfinv = unary("erfinv", lambda g, out, x: (g * (0.5 * math.sqrt(math.pi)) * exp(out * out),),
               saves="out")
abs = unary("abs", lambda g, out, x: (g * sign(x),), kind="same", no_bool=True, core=True)
absolute = _alias(abs, "absolute")
sign = unary("sign", _zeros, saves=None, kind="same")
sgn = _alias(sign, "sgn")
floor = unary("floor", _zeros, saves=None, kind="same", no_bool=True, core=True)
ceil = unary("ceil", _zeros, saves=None, kind="same", no_bool=True)
trunc = unary("trunc", _zeros, saves=None, kind="same", no_bool=True)
fix = _alias(trunc, "fix")
frac = unary("frac", lambda g, out, x: (g,), saves=None, kind="float_only")
_round = unary("round", _zeros, saves=None, kind="same", no_bool=True, method=False,
               kernel_params="int decimals=0, ")


def round(input, *, decimals=0, out=None):
    """Round half to even, to ``decimals`` decimal places (integers are returned as they are)."""
    if decimals != 0:
        return _round(input, decimals=int(decimals), out=out)
    return _round(input, out=out)


_install("round", round, True)


def _square_vjp(g, out, x):
    return (2 * g * x,)


_square = unary("square", _square_vjp, kind="same", method=False)


def square(input, *, out=None):
    """input * input (bool is squared as int64, as PyTorch)."""
    if isinstance(input, Tensor) and input.dtype is _dtype.bool:
        input = cast(input, _dtype.int64)
    return _square(input, out=out)


_install("square", square, True)


def _logit_vjp(g, out, x, eps=None):
    d = g / (x * (1 - x))
    if eps is None:
        return (d,)
    return (where((x < eps) | (x > 1 - eps), 0.0, d),)


_logit = unary("logit", _logit_vjp, method=False, kernel_params="float? eps=None, ")


def logit(input, eps=None, *, out=None):
    """log(p / (1 - p)), with p clamped to [eps, 1 - eps] when eps is given."""
    if eps is None:
        return _logit(input, out=out)
    return _logit(input, eps=float(eps), out=out)


_install("logit", logit, True)


_nan_to_num = unary("nan_to_num", lambda g, out, x, **params: (g * isfinite(x),), kind="same",
                    method=False,
                    kernel_params="float nan=0.0, float? posinf=None, float? neginf=None, ")


def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    """NaN -> ``nan``, +inf -> ``posinf`` (default: dtype max), -inf -> ``neginf`` (min)."""
    return _nan_to_num(input, nan=float(nan), posinf=None if posinf is None else float(posinf),
                       neginf=None if neginf is None else float(neginf), out=out)


_install("nan_to_num", nan_to_num, True)


def _classifier(name):
    """isnan/isinf/...: bool result; integral inputs are checked as floats (never inf/NaN)."""
    op = unary(name, kind="bool", method=False)

    def fn(input):
        as_tensor_arg(input, name)
        return op(input if input.dtype.category == 2 else cast(input, _dtype.float32))
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"corelib.{name}(input): elementwise test, bool result."
    setattr(Tensor, name, fn)
    return fn


isnan = _classifier("isnan")
isinf = _classifier("isinf")
isfinite = _classifier("isfinite")
isposinf = _classifier("isposinf")
isneginf = _classifier("isneginf")


def signbit(input, *, out=None):
    """True where the sign bit is set (incl. -0.0)."""
    x = to_float(input)
    return lt(copysign(1.0, x), 0, out=out)


Tensor.signbit = signbit


def positive(input):
    """Returns input itself (PyTorch's unary plus)."""
    if input.dtype is _dtype.bool:
        raise TypeError("positive(): The `+` operator, on a bool tensor is not supported.")
    return input


Tensor.positive = positive


# ---------------------------------------------------------------------------------------------
# activations (also re-exported by corelib.nn.functional; names and signatures follow
# torch.nn.functional; ``inplace=True`` writes into the input)
def _maybe_inplace(fn, input, inplace_flag, **params):
    if inplace_flag:
        return inplace(input, fn, **params)
    return fn(input, **params)


def _relu_checked(input, *, out=None):
    if isinstance(input, Tensor) and input.dtype is _dtype.bool:
        raise RuntimeError("relu(): Boolean inputs not supported for relu")
    return _relu_op(input, out=out)


def _relu_vjp(g, out, x):
    from .fused import threshold_backward   # one kernel: g where out > 0
    return (threshold_backward(g, out, 0.0),)


_relu_op = unary("relu", _relu_vjp, saves="out", kind="same", method=False)
_relu_checked.__name__ = "relu"


def relu(input, inplace=False):
    """max(input, 0); relu'(0) = 0."""
    return _maybe_inplace(_relu_checked, input, inplace)


def relu_(input):
    return relu(input, inplace=True)


Tensor.relu = lambda self: relu(self)
Tensor.relu_ = relu_


def _leaky_relu_vjp(g, out, x, negative_slope=0.01):
    return (where(x > 0, g, g * negative_slope),)


_leaky_relu = unary("leaky_relu", _leaky_relu_vjp, kind="float_only", method=False,
                    kernel_params="float negative_slope=0.01, ")


def leaky_relu(input, negative_slope=0.01, inplace=False):
    return _maybe_inplace(_leaky_relu, input, inplace, negative_slope=float(negative_slope))


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, inplace=True)


def _elu_vjp(g, out, x, alpha=1.0, scale=1.0, input_scale=1.0):
    neg_slope = g * (scale * alpha * input_scale) * exp(x * input_scale)
    return (where(x > 0, g * scale, neg_slope),)


_elu = unary("elu", _elu_vjp, kind="float_only", method=False,
             kernel_params="float alpha=1.0, float scale=1.0, float input_scale=1.0, ")
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def elu(input, alpha=1.0, inplace=False):
    """input if > 0 else alpha * (exp(input) - 1)."""
    return _maybe_inplace(_elu, input, inplace, alpha=float(alpha))


def elu_(input, alpha=1.0):
    return elu(input, alpha, inplace=True)


def selu(input, inplace=False):
    """scale * elu(input, alpha) with the self-normalising constants."""
    return _maybe_inplace(_elu, input, inplace, alpha=_SELU_ALPHA, scale=_SELU_SCALE)


def selu_(input):
    return selu(input, inplace=True)


def celu(input, alpha=1.0, inplace=False):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    if alpha == 0:
        raise RuntimeError("celu(): ZeroDivisionError: alpha must not be 0")
    return _maybe_inplace(_elu, input, inplace, alpha=float(alpha), input_scale=1.0 / alpha)


def celu_(input, alpha=1.0):
    return celu(input, alpha, inplace=True)


def _hardtanh_vjp(g, out, x, min_val=-1.0, max_val=1.0):
    return (where((x > min_val) & (x < max_val), g, 0.0),)


_hardtanh = unary("hardtanh", _hardtanh_vjp, kind="same", no_bool=True, method=False,
                  kernel_params="Scalar min_val=-1.0, Scalar max_val=1.0, ")


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """clamp(input, min_val, max_val); zero gradient at and beyond the bounds."""
    if min_val > max_val:
        raise ValueError("hardtanh(): min_val cannot be greater than max_val")
    return _maybe_inplace(_hardtanh, input, inplace, min_val=min_val, max_val=max_val)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input, inplace=False):
    """min(max(input, 0), 6) (hardtanh(input, 0, 6), as PyTorch)."""
    return hardtanh(input, 0.0, 6.0, inplace)


_hardsigmoid = unary("hardsigmoid", lambda g, out, x: (
    where((x > -3) & (x < 3), g / 6, 0.0),), kind="float_only", method=False)
_hardswish = unary("hardswish", lambda g, out, x: (
    where(x <= -3, 0.0, where(x < 3, g * (x / 3 + 0.5), g)),), kind="float_only", method=False)


def hardsigmoid(input, inplace=False):
    """relu6(input + 3) / 6."""
    return _maybe_inplace(_hardsigmoid, input, inplace)


def hardswish(input, inplace=False):
    """input * relu6(input + 3) / 6."""
    return _maybe_inplace(_hardswish, input, inplace)


_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)


def _gelu_vjp(g, out, x, approximate="none"):
    if approximate == "tanh":
        x2 = x * x
        t = tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x2 * x))
        dinner = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x2)
        return (g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * dinner),)
    cdf = 0.5 * (1 + erf(x * _SQRT_HALF))
    pdf = exp(-0.5 * x * x) * _INV_SQRT_2PI
    return (g * (cdf + x * pdf),)


_gelu = unary("gelu", _gelu_vjp, kind="float_only", method=False,
              kernel_params="str approximate='none', ")


def gelu(input, approximate="none"):
    """x * Phi(x) (approximate='none') or its tanh approximation (approximate='tanh')."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"gelu(): approximate argument must be either none or tanh, got "
                           f"{approximate!r}")
    if approximate == "none":
        return _gelu(input)
    return _gelu(input, approximate="tanh")


def _silu_vjp(g, out, x):
    s = sigmoid(x)
    return (g * s * (1 + x * (1 - s)),)


_silu = unary("silu", _silu_vjp, kind="float_only", method=False)


def silu(input, inplace=False):
    """input * sigmoid(input)."""
    return _maybe_inplace(_silu, input, inplace)


def _mish_vjp(g, out, x):
    t = tanh(softplus(x))
    return (g * (t + x * sigmoid(x) * (1 - t * t)),)


_mish = unary("mish", _mish_vjp, kind="float_only", method=False)


def mish(input, inplace=False):
    """input * tanh(softplus(input))."""
    return _maybe_inplace(_mish, input, inplace)


def _softplus_vjp(g, out, x, beta=1.0, threshold=20.0):
    bx = x * beta
    return (where(bx > threshold, g, g * sigmoid(bx)),)


_softplus = unary("softplus", _softplus_vjp, kind="float_only", method=False,
                  kernel_params="float beta=1.0, float threshold=20.0, ")


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta * x)) / beta; linear where beta * x > threshold."""
    return _softplus(input, beta=float(beta), threshold=float(threshold))


def softsign(input):
    """input / (1 + |input|) (composite, as PyTorch)."""
    return input / (abs(input) + 1)


# ---------------------------------------------------------------------------------------------
# comparison, logic and bitwise
eq = binary("eq", kind="compare", core=True)
ne = binary("ne", kind="compare", core=True)
lt = binary("lt", kind="compare", core=True)
le = binary("le", kind="compare", core=True)
gt = binary("gt", kind="compare", core=True)
ge = binary("ge", kind="compare", core=True)
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne
for _fn, _names in ((gt, ("greater",)), (ge, ("greater_equal",)), (lt, ("less",)),
                    (le, ("less_equal",)), (ne, ("not_equal",))):
    _alias(_fn, *_names)

logical_and = binary("logical_and", kind="logical", tensor_only=True, core=True)
logical_or = binary("logical_or", kind="logical", tensor_only=True, core=True)
logical_xor = binary("logical_xor", kind="logical", tensor_only=True)
logical_not = unary("logical_not", kind="bool", core=True)
Tensor.logical_not_ = lambda self: inplace(self, logical_not)

bitwise_and = binary("bitwise_and", kind="integral", reflected=("__rand__",), core=True)
bitwise_or = binary("bitwise_or", kind="integral", reflected=("__ror__",), core=True)
bitwise_xor = binary("bitwise_xor", kind="integral", reflected=("__rxor__",), core=True)
bitwise_left_shift = binary("bitwise_left_shift", kind="integral", reflected=("__rlshift__",),
                            no_bool=True)
bitwise_right_shift = binary("bitwise_right_shift", kind="integral",
                             reflected=("__rrshift__",), no_bool=True)
bitwise_not = unary("bitwise_not", kind="int_only", core=True)


def _invert(self):
    if self.dtype.category == 2:
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type "
                        "tensors")
    return bitwise_not(self)


_isclose = Op("isclose",
              sig="(Array a, Array b, *, float rtol, float atol, bool equal_nan) -> Array",
              rule=R.broadcast_bool,
              doc="|a - b| <= atol + rtol * |b| (bool; NaNs equal with equal_nan)")


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input - other| <= atol + rtol * |other| elementwise (bool); same dtypes required."""
    if not isinstance(input, Tensor) or not isinstance(other, Tensor):
        raise TypeError("isclose(): arguments 'input' and 'other' must be Tensors")
    if input.dtype is not other.dtype:
        raise RuntimeError(f"isclose(): {_TYPE_WORD[input.dtype.name]} did not match "
                           f"{_TYPE_WORD[other.dtype.name]}")
    if rtol < 0 or atol < 0:
        raise RuntimeError(f"isclose(): rtol and atol must be non-negative, got rtol={rtol}, "
                           f"atol={atol}")
    return call(_isclose, (input, other), _dtype.bool,
                {"rtol": float(rtol), "atol": float(atol), "equal_nan": bool(equal_nan)})


def _all_true(mask):
    return mask.numel() == 0 or int(logical_not(mask).sum().item()) == 0


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True if isclose holds everywhere (a Python bool)."""
    return _all_true(isclose(input, other, rtol, atol, equal_nan))


def equal(input, other):
    """True if both tensors have the same shape and elements (a Python bool)."""
    if not isinstance(input, Tensor) or not isinstance(other, Tensor):
        raise TypeError("equal(): arguments 'input' and 'other' must be Tensors")
    if input.shape != other.shape:
        return False
    return _all_true(eq(input, other))


Tensor.isclose, Tensor.allclose, Tensor.equal = isclose, allclose, equal


# ---------------------------------------------------------------------------------------------
# ternary: selection, clamp, lerp, addcmul/addcdiv
def _where_vjp(g, out, cond, a, b):
    # a literal 0, not g * 0: the branch not taken gets exactly zero even where g is inf/NaN
    return None, (where(cond, g, 0.0) if isinstance(a, Tensor) else None), \
        (where(cond, 0.0, g) if isinstance(b, Tensor) else None)


_where = Op("where", _where_vjp,
            sig="(Array cond, Array|Scalar a, Array|Scalar b, *, Array! out=None) -> Array",
            rule=R.where,
            core=True,
            doc="a where cond (bool) else b, broadcast")


def where(condition, input=None, other=None, *, out=None):
    """Elements of ``input`` where condition holds, else of ``other`` (broadcast)."""
    if input is None and other is None:
        from .indexing import nonzero
        return nonzero(condition, as_tuple=True)
    cond = cast(condition, _dtype.bool) if isinstance(condition, Tensor) else condition
    if not isinstance(cond, Tensor):
        raise TypeError("where(): argument 'condition' must be Tensor")
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        dt = result_type_from((), (), (_scat(input), _scat(other)))
        from .creation import full   # kernels take the dtype from an array operand
        a, b = full((), _scalar_as(input, dt), dtype=dt, device=cond.device), \
            _scalar_as(other, dt)
    else:
        (a, b), dt = promote((input, other), "where")
    return _finish(_where, join_devices((cond, a, b), "where"), dt, out, "where")


Tensor.where = lambda self, condition, other: where(condition, self, other)


def _clamp_vjp(g, out, x, lo, hi):
    keep = None if lo is None else x >= lo
    if hi is not None:
        keep = x <= hi if keep is None else keep & (x <= hi)
    g_lo = g_hi = None
    if isinstance(lo, Tensor):
        below = x < lo if hi is None else (x < lo) & (lo < hi)
        g_lo = where(below, g, 0.0)
    if isinstance(hi, Tensor):
        above = x > hi if lo is None else (x > hi) | (hi < lo)
        g_hi = where(above, g, 0.0)
    return where(keep, g, 0.0), g_lo, g_hi


_clamp = Op("clamp", _clamp_vjp,
            sig="(Array x, Array|Scalar? min, Array|Scalar? max, *, Array! out=None) -> Array",
            rule=R.broadcast,
            doc="min(max(x, min), max), broadcast; a None bound is absent")


def clamp(input, min=None, max=None, *, out=None):
    """min(max(input, min), max); bounds are numbers or tensors, either may be None. The
    gradient passes where min <= input <= max (also at the bounds), as PyTorch."""
    if min is None and max is None:
        raise RuntimeError("clamp(): At least one of 'min' or 'max' must not be None")
    as_tensor_arg(input, "clamp")
    present = [b for b in (min, max) if b is not None]
    args, dt = promote((input, *present), "clamp")
    if input.dtype is _dtype.bool and dt.category == 1 and \
            not any(isinstance(b, Tensor) for b in present):
        # bool clamped by integer numbers stays bool (PyTorch); compute in uint8
        x = cast(input, _dtype.uint8)
        lo, hi = (None if b is None else int(b) for b in (min, max))
        result = cast(call(_clamp, (x, lo, hi), _dtype.uint8), _dtype.bool)
        return result if out is None else write_out(result, out, "clamp")
    return _finish(_clamp, (args[0], *_bounds(args, min, max)), dt, out, "clamp")


def _bounds(args, min, max):
    rest = iter(args[1:])
    lo = next(rest) if min is not None else None
    hi = next(rest) if max is not None else None
    return lo, hi


def clamp_min(input, min, *, out=None):
    return clamp(input, min, None, out=out)


def clamp_max(input, max, *, out=None):
    return clamp(input, None, max, out=out)


clip = clamp
_install("clamp", clamp, True)
_install("clamp_min", clamp_min, True)
_install("clamp_max", clamp_max, True)
_alias(clamp, "clip")


def _lerp_vjp(g, out, start, end, weight):
    return g * (1 - weight), g * weight, \
        (g * (end - start) if isinstance(weight, Tensor) else None)


_lerp = Op("lerp", _lerp_vjp,
           sig="(Array start, Array end, Array|Scalar weight, *, Array! out=None) -> Array",
           rule=R.broadcast,
           doc="start + weight * (end - start), broadcast")


def lerp(input, end, weight, *, out=None):
    """input + weight * (end - input); weight is a number or a tensor (broadcast)."""
    as_tensor_arg(input, "lerp")
    as_tensor_arg(end, "lerp", "end")
    if end.dtype is not input.dtype:
        raise RuntimeError(f"lerp(): expected dtype {input.dtype} for `end` but got dtype "
                           f"{end.dtype}")
    if input.dtype.category != 2:
        raise _not_implemented("lerp", input.dtype)
    if isinstance(weight, Tensor):
        if weight.dtype.category != 2:
            raise RuntimeError(f"lerp(): expected dtype {input.dtype} for `weight` but got "
                               f"dtype {weight.dtype}")
        w = cast(weight, input.dtype)
    else:
        w = float(weight)
    return _finish(_lerp, join_devices((input, end, w), "lerp"), input.dtype, out, "lerp")


_install("lerp", lerp, True)


def addcmul(input, tensor1, tensor2, *, value=1, out=None):
    """input + value * tensor1 * tensor2."""
    (x, t1, t2), dt = promote((input, tensor1, tensor2), "addcmul")
    prod = mul(t1, t2)
    if value != 1:
        prod = mul(prod, _scalar_as(value, dt))
    return _add(x, prod, out=out)


def addcdiv(input, tensor1, tensor2, *, value=1, out=None):
    """input + value * tensor1 / tensor2 (floating dtypes only, as PyTorch)."""
    (x, t1, t2), dt = promote((input, tensor1, tensor2), "addcdiv")
    if dt.category != 2:
        raise RuntimeError("addcdiv(): Integer division with addcdiv is no longer supported, "
                           "and in a future release addcdiv will perform a true division of "
                           "tensor1 and tensor2. Use addcmul(input, tensor1, 1 / tensor2) or "
                           "true_divide for the intended behaviour.")
    quot = div_true(t1, t2)
    if value != 1:
        quot = mul(quot, float(value))
    return _add(x, quot, out=out)


_install("addcmul", addcmul, True)
_install("addcdiv", addcdiv, True)


# ---------------------------------------------------------------------------------------------
# operators
Tensor.__add__ = _add
Tensor.__sub__ = lambda self, other: sub(self, other)
Tensor.__rsub__ = lambda self, other: sub(other, self)
Tensor.__mul__ = mul
Tensor.__truediv__ = div_true
Tensor.__rtruediv__ = lambda self, other: div_true(other, self)
Tensor.__floordiv__ = lambda self, other: floor_divide(self, other)
Tensor.__rfloordiv__ = lambda self, other: floor_divide(other, self)
Tensor.__mod__ = remainder
Tensor.__neg__ = _neg_checked
Tensor.neg = Tensor.negative = _neg_checked
Tensor.__pos__ = lambda self: positive(self)
Tensor.__abs__ = lambda self: abs(self)
Tensor.__invert__ = _invert
Tensor.__and__ = bitwise_and
Tensor.__or__ = bitwise_or
Tensor.__xor__ = bitwise_xor
Tensor.__lshift__ = bitwise_left_shift
Tensor.__rshift__ = bitwise_right_shift
Tensor.__eq__ = lambda self, other: eq(self, other) if isinstance(other, (Tensor,) + scalar_types) \
    else NotImplemented
Tensor.__ne__ = lambda self, other: ne(self, other) if isinstance(other, (Tensor,) + scalar_types) \
    else NotImplemented
Tensor.__lt__ = lambda self, other: lt(self, other)
Tensor.__le__ = lambda self, other: le(self, other)
Tensor.__gt__ = lambda self, other: gt(self, other)
Tensor.__ge__ = lambda self, other: ge(self, other)
Tensor.__hash__ = lambda self: id(self)
_INPLACE_OPERATORS = {
    "__iadd__": "add_",
    "__isub__": "sub_",
    "__imul__": "mul_",
    "__itruediv__": "div_",
    "__ifloordiv__": "floor_divide_",
    "__imod__": "remainder_",
    "__ipow__": "pow_",
    "__iand__": "bitwise_and_",
    "__ior__": "bitwise_or_",
    "__ixor__": "bitwise_xor_",
    "__ilshift__": "bitwise_left_shift_",
    "__irshift__": "bitwise_right_shift_",
}
for _dunder, _method in _INPLACE_OPERATORS.items():   # x += y is x.add_(y), etc.
    setattr(Tensor, _dunder, lambda self, other, _m=_method: getattr(self, _m)(other))
Tensor.add = lambda self, other, *, alpha=1, out=None: add(self, other, alpha=alpha, out=out)
Tensor.add_ = lambda self, other, *, alpha=1: inplace(self, add, other, alpha=alpha)
Tensor.sub = lambda self, other, *, alpha=1, out=None: sub(self, other, alpha=alpha, out=out)
Tensor.sub_ = lambda self, other, *, alpha=1: inplace(self, sub, other, alpha=alpha)
Tensor.div = lambda self, other, *, rounding_mode=None, out=None: div(
    self, other, rounding_mode=rounding_mode, out=out)
Tensor.div_ = lambda self, other, *, rounding_mode=None: inplace(
    self, div, other, rounding_mode=rounding_mode)
Tensor.subtract, Tensor.multiply, Tensor.divide = Tensor.sub, Tensor.mul, Tensor.div
Tensor.subtract_, Tensor.multiply_, Tensor.divide_ = Tensor.sub_, Tensor.mul_, Tensor.div_
Tensor.true_divide, Tensor.true_divide_ = Tensor.div, Tensor.div_
Tensor.float_power = float_power
Tensor.float_power_ = lambda self, exponent: inplace(self, float_power, exponent)
