"""Elementwise kernels: one line per op (a C expression), instantiated per dtype into the
templates of kernels/elementwise.cu. Also the strided cast/copy every family uses.

Expression names: ``x`` (unary operand), ``a``/``b``/``c`` (binary/ternary operands), ``T``
(arithmetic type: float for float16), ``p0``..``p2`` (the op's parameters, doubles).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import sources
from ._util import (ALL, CTYPE, FLOATS, INTS, NUMERIC, BLOCK, f64, grid_for, i32, i64, launch,
                    layout, new_out, scalar_args)

INTEGRAL = ("bool",) + INTS
NO_BOOL = NUMERIC


@dataclass(frozen=True)
class Elementwise:
    """One op: its C expression, input dtypes, result (same dtype or bool), parameter names
    with defaults (passed as p0..p2), and an optional ``prepare(params, dtype)`` that turns
    the kernel's keyword parameters into those doubles."""
    name: str
    expr: str
    dtypes: tuple = FLOATS
    bool_out: bool = False
    params: tuple = ()
    prepare: object = None

    def doubles(self, kwargs, dtype):
        if self.prepare is not None:
            values = self.prepare(kwargs, dtype)
        else:
            values = [kwargs.get(k, default) for k, default in self.params]
        values = list(values) + [0.0] * (3 - len(values))
        return [f64(v) for v in values]


def _finfo_bounds(dtype):
    info = np.finfo(dtype)
    return float(info.max), float(info.min)


def _nan_to_num_params(kw, dtype):
    if dtype not in FLOATS:
        return 0.0, 0.0, 0.0
    hi, lo = _finfo_bounds(dtype)
    posinf, neginf = kw.get("posinf"), kw.get("neginf")
    return (kw.get("nan", 0.0) if kw.get("nan") is not None else 0.0,
            hi if posinf is None else posinf, lo if neginf is None else neginf)


def _logit_params(kw, dtype):
    eps = kw.get("eps")
    return (0.0, 0.0) if eps is None else (float(eps), 1.0)


def _hardtanh_params(kw, dtype):
    lo, hi = kw.get("min_val", -1.0), kw.get("max_val", 1.0)
    if dtype in INTS:
        lo, hi = int(lo), int(hi)
    return lo, hi


UNARY = [
    Elementwise("neg", "-x", NO_BOOL),
    Elementwise("abs", "abs_(x)", NO_BOOL),
    Elementwise("sign", "sign_(x)", ALL),
    Elementwise("square", "x * x", ALL),
    Elementwise("exp", "exp(x)"),
    Elementwise("exp2", "exp2(x)"),
    Elementwise("expm1", "expm1(x)"),
    Elementwise("log", "log(x)"),
    Elementwise("log2", "log2(x)"),
    Elementwise("log10", "log10(x)"),
    Elementwise("log1p", "log1p(x)"),
    Elementwise("sqrt", "sqrt(x)"),
    Elementwise("rsqrt", "T(1) / sqrt(x)"),
    Elementwise("reciprocal", "T(1) / x"),
    Elementwise("sin", "sin(x)"),
    Elementwise("cos", "cos(x)"),
    Elementwise("tan", "tan(x)"),
    Elementwise("asin", "asin(x)"),
    Elementwise("acos", "acos(x)"),
    Elementwise("atan", "atan(x)"),
    Elementwise("sinh", "sinh(x)"),
    Elementwise("cosh", "cosh(x)"),
    Elementwise("tanh", "tanh(x)"),
    Elementwise("asinh", "asinh(x)"),
    Elementwise("acosh", "acosh(x)"),
    Elementwise("atanh", "atanh(x)"),
    Elementwise("sigmoid", "sigmoid_(x)"),
    Elementwise("logit", "log((p1 != 0 ? clamp_(x, T(p0), T(1 - p0)) : x) / "
                         "(T(1) - (p1 != 0 ? clamp_(x, T(p0), T(1 - p0)) : x)))",
                prepare=_logit_params),
    Elementwise("erf", "erf(x)"),
    Elementwise("erfc", "erfc(x)"),
    Elementwise("erfinv", "erfinv(x)"),
    Elementwise("floor", "floor_(x)", NO_BOOL),
    Elementwise("ceil", "ceil_(x)", NO_BOOL),
    Elementwise("trunc", "trunc_(x)", NO_BOOL),
    Elementwise("round", "round_(x, p0)", NO_BOOL, params=(("decimals", 0),)),
    Elementwise("frac", "x - trunc(x)"),
    Elementwise("nan_to_num", "nan_to_num_(x, p0, p1, p2)", ALL, prepare=_nan_to_num_params),
    Elementwise("isnan", "isnan_(x)", ALL, bool_out=True),
    Elementwise("isinf", "isinf_(x)", ALL, bool_out=True),
    Elementwise("isfinite", "!isnan_(x) && !isinf_(x)", ALL, bool_out=True),
    Elementwise("isposinf", "isinf_(x) && x > T(0)", ALL, bool_out=True),
    Elementwise("isneginf", "isinf_(x) && x < T(0)", ALL, bool_out=True),
    Elementwise("logical_not", "x == T(0)", ALL, bool_out=True),
    Elementwise("bitwise_not", "(T)(~x)", INTEGRAL),
    Elementwise("relu", "x < T(0) ? T(0) : x", NO_BOOL),
    Elementwise("leaky_relu", "x > T(0) ? x : x * T(p0)", params=(("negative_slope", 0.01),)),
    Elementwise("elu", "T(p1) * (x > T(0) ? x : T(p0) * expm1(x * T(p2)))",
                params=(("alpha", 1.0), ("scale", 1.0), ("input_scale", 1.0))),
    Elementwise("hardtanh", "clamp_(x, T(p0), T(p1))", NO_BOOL, prepare=_hardtanh_params),
    Elementwise("hardsigmoid", "clamp_(x / T(6) + T(0.5), T(0), T(1))"),
    Elementwise("hardswish", "x * clamp_(x + T(3), T(0), T(6)) / T(6)"),
    Elementwise("gelu", "gelu_(x, p0)",
                prepare=lambda kw, dt: (1.0 if kw.get("approximate", "none") == "tanh" else 0.0,)),
    Elementwise("silu", "x * sigmoid_(x)"),
    Elementwise("mish", "x * tanh(softplus_(x, 1.0, 20.0))"),
    Elementwise("softplus", "softplus_(x, p0, p1)", params=(("beta", 1.0), ("threshold", 20.0))),
]
# bitwise_not of bool is logical not
UNARY_BOOL_OVERRIDES = {("bitwise_not", "bool"): "!x"}

BINARY = [
    Elementwise("add", "a + b", ALL),
    Elementwise("sub", "a - b", NO_BOOL),
    Elementwise("mul", "a * b", ALL),
    Elementwise("div", "a / b"),
    Elementwise("floor_divide", "floor_div_(a, b)", NO_BOOL),
    Elementwise("div_trunc", "trunc_div_(a, b)", NO_BOOL),
    Elementwise("remainder", "remainder_(a, b)", NO_BOOL),
    Elementwise("fmod", "fmod_(a, b)", NO_BOOL),
    Elementwise("pow", "pow_(a, b)", NO_BOOL),
    Elementwise("atan2", "atan2(a, b)"),
    Elementwise("maximum", "max_(a, b)", ALL),
    Elementwise("minimum", "min_(a, b)", ALL),
    Elementwise("fmax", "fmax_(a, b)", ALL),
    Elementwise("fmin", "fmin_(a, b)", ALL),
    Elementwise("hypot", "hypot(a, b)"),
    Elementwise("logaddexp", "logaddexp_(a, b)"),
    Elementwise("logaddexp2", "logaddexp2_(a, b)"),
    Elementwise("copysign", "copysign(a, b)"),
    Elementwise("xlogy", "(a == T(0) && !isnan(b)) ? T(0) : a * log(b)"),
    Elementwise("bitwise_and", "a & b", INTEGRAL),
    Elementwise("bitwise_or", "a | b", INTEGRAL),
    Elementwise("bitwise_xor", "a ^ b", INTEGRAL),
    Elementwise("bitwise_left_shift", "shift_left_(a, b)", INTS),
    Elementwise("bitwise_right_shift", "shift_right_(a, b)", INTS),
    Elementwise("eq", "a == b", ALL, bool_out=True),
    Elementwise("ne", "a != b", ALL, bool_out=True),
    Elementwise("lt", "a < b", ALL, bool_out=True),
    Elementwise("le", "a <= b", ALL, bool_out=True),
    Elementwise("gt", "a > b", ALL, bool_out=True),
    Elementwise("ge", "a >= b", ALL, bool_out=True),
    Elementwise("logical_and", "a != T(0) && b != T(0)", ALL, bool_out=True),
    Elementwise("logical_or", "a != T(0) || b != T(0)", ALL, bool_out=True),
    Elementwise("logical_xor", "(a != T(0)) != (b != T(0))", ALL, bool_out=True),
    Elementwise("isclose", "isclose_(a, b, p0, p1, p2 != 0)", ALL, bool_out=True,
                params=(("rtol", 1e-5), ("atol", 1e-8), ("equal_nan", False))),
]

TERNARY = [
    Elementwise("clamp", "clamp_(a, b, c)", NO_BOOL),
    Elementwise("lerp", "lerp_(a, b, c)"),
]


def _kernel_name(op, dtype, out_dtype=None):
    return f"{op}_{dtype}" if out_dtype is None else f"{op}_{dtype}_{out_dtype}"


def _instantiate(macro, table):
    lines = []
    for e in table:
        for dt in e.dtypes:
            expr = UNARY_BOOL_OVERRIDES.get((e.name, dt), e.expr)
            out = "bool" if e.bool_out else CTYPE[dt]
            lines.append(f"{macro}({_kernel_name(e.name, dt)}, {CTYPE[dt]}, {out}, {expr})")
    return "\n".join(lines) + "\n"


def _instantiate_casts():
    lines = [f"UNARY_KERNEL({_kernel_name('cast', a, b)}, {CTYPE[a]}, {CTYPE[b]}, x)"
             for a in ALL for b in ALL]
    lines += [f"WHERE_KERNEL({_kernel_name('where', dt)}, {CTYPE[dt]})" for dt in ALL]
    return "\n".join(lines) + "\n"


# four sources of one template file: built (and in simulation compiled) in parallel
sources.register("elementwise_unary", "elementwise.cu", lambda: _instantiate("UNARY_KERNEL", UNARY))
sources.register("elementwise_binary", "elementwise.cu",
                 lambda: _instantiate("BINARY_KERNEL", BINARY))
sources.register("elementwise_ternary", "elementwise.cu",
                 lambda: _instantiate("TERNARY_KERNEL", TERNARY))
sources.register("elementwise_cast", "elementwise.cu", _instantiate_casts)


def _dtype_name(arr):
    return arr.dtype.name


def _unsupported(op, dtype):
    return TypeError(f'"{op}" has no CUDA kernel for dtype {dtype}')


def _shape(*operands):
    return np.broadcast_shapes(*(a.shape for a in operands if hasattr(a, "shape")))


def _unary(e):
    source = "elementwise_unary"

    def kernel(x, out=..., **params):
        dt = _dtype_name(x)
        if dt not in e.dtypes:
            raise _unsupported(e.name, dt)
        y = new_out(out, x.shape, "bool" if e.bool_out else dt)
        n = y.size
        if n:
            ndim, meta = layout(y.shape, (x, y))
            launch(sources.kernel(source, _kernel_name(e.name, dt)), (grid_for(n),), (BLOCK,),
                   (x, y, meta, i32(ndim), i64(n), *e.doubles(params, dt)))
        return y
    kernel.__name__ = e.name
    return kernel


def _binary(e):
    source = "elementwise_binary"

    def kernel(a, b, out=..., **params):
        like = a if hasattr(a, "dtype") else b
        dt = _dtype_name(like)
        if dt not in e.dtypes:
            raise _unsupported(e.name, dt)
        a_arr = a if hasattr(a, "shape") else None
        b_arr = b if hasattr(b, "shape") else None
        shape = _shape(a, b)
        y = new_out(out, shape, "bool" if e.bool_out else dt)
        n = y.size
        if n:
            ndim, meta = layout(shape, (a_arr, b_arr, y))
            launch(sources.kernel(source, _kernel_name(e.name, dt)), (grid_for(n),), (BLOCK,),
                   (a_arr, b_arr, y, meta, i32(ndim), i64(n), *scalar_args(a),
                    *scalar_args(b), *e.doubles(params, dt)))
        return y
    kernel.__name__ = e.name
    return kernel


def _ternary_launch(name, kernel_name, operands, like, out, bool_cond=False):
    shape = _shape(*operands)
    y = new_out(out, shape, like.dtype)
    n = y.size
    if n:
        arrays = tuple(a if hasattr(a, "shape") else None for a in operands)
        ndim, meta = layout(shape, arrays + (y,))
        scalars = [v for a in (operands[1:] if bool_cond else operands) for v in scalar_args(a)]
        launch(sources.kernel("elementwise_cast" if bool_cond else "elementwise_ternary",
                              kernel_name), (grid_for(n),), (BLOCK,),
               (*arrays, y, meta, i32(ndim), i64(n), *scalars))
    return y


def _clamp(x, lo, hi, out=...):
    dt = _dtype_name(x)
    if dt not in NUMERIC:
        raise _unsupported("clamp", dt)
    if lo is None or hi is None:   # a missing bound is the dtype's extreme
        info = np.finfo(dt) if dt in FLOATS else np.iinfo(dt)
        lo = (-math.inf if dt in FLOATS else int(info.min)) if lo is None else lo
        hi = (math.inf if dt in FLOATS else int(info.max)) if hi is None else hi
    return _ternary_launch("clamp", _kernel_name("clamp", dt), (x, lo, hi), x, out)


def _lerp(start, end, weight, out=...):
    dt = _dtype_name(start)
    if dt not in FLOATS:
        raise _unsupported("lerp", dt)
    return _ternary_launch("lerp", _kernel_name("lerp", dt), (start, end, weight), start, out)


def _where(cond, a, b, out=...):
    like = a if hasattr(a, "dtype") else b
    if not hasattr(like, "dtype"):
        raise TypeError("where: one of the values must be an array")
    return _ternary_launch("where", _kernel_name("where", _dtype_name(like)), (cond, a, b), like,
                           out, bool_cond=True)


def copy_into(dst, src):
    """Write ``src`` (broadcast to dst's shape, any dtype) into the strided array ``dst``."""
    if np.broadcast_shapes(src.shape, dst.shape) != dst.shape:
        raise ValueError(f"cannot copy an array of shape {src.shape} into one of shape "
                         f"{dst.shape}")
    n = dst.size
    if n:
        ndim, meta = layout(dst.shape, (src, dst))
        launch(sources.kernel("elementwise_cast", _kernel_name("cast", _dtype_name(src),
                                                               _dtype_name(dst))),
               (grid_for(n),), (BLOCK,), (src, dst, meta, i32(ndim), i64(n), f64(0), f64(0),
                                          f64(0)))
    return dst


def astype(x, dtype):
    """A new contiguous array of ``x``'s values in ``dtype``."""
    return copy_into(new_out(..., x.shape, np.dtype(dtype).name), x)


def contiguous_copy(x):
    """A new C-contiguous copy of ``x`` (same dtype)."""
    return astype(x, x.dtype)


def _copy(dst, src):
    copy_into(dst, src)


KERNELS = {e.name: _unary(e) for e in UNARY}
KERNELS.update({e.name: _binary(e) for e in BINARY})
KERNELS.update({"clamp": _clamp, "lerp": _lerp, "where": _where, "astype": astype,
                "copy_": _copy})
