"""Elementwise kernels. Operands arrive in the compute dtype; every kernel takes ``out=``.

Kernels that are not a single NumPy ufunc compute float16 in float32 (as PyTorch's CPU kernels
do) and hand back the input's dtype. erf/erfc/erfinv are vectorised here (NumPy has no erf):
piecewise Chebyshev interpolants built once at import, evaluated with Clenshaw's recurrence.
"""
from __future__ import annotations

import math

import numpy as np


def ufunc(f):
    """A ufunc as a kernel: ``out=...`` makes 0-d results arrays, not NumPy scalars (a scalar
    could not be viewed or written in place); a caller's ``out=`` overrides it. (A closure is
    measured faster than functools.partial here.)"""
    if f.nin == 1:
        return lambda a, out=...: f(a, out=out)
    return lambda a, b, out=...: f(a, b, out=out)


def _finish(result, like, out):
    """Deliver ``result`` in ``like``'s dtype: into ``out`` if given, else as a fresh array."""
    if out is None or out is ...:
        return np.asarray(result).astype(np.asarray(like).dtype, copy=False)
    np.copyto(out, result, casting="unsafe")
    return out


def _upcast(x):
    """float16 is computed in float32 (PyTorch's opmath type)."""
    return x.astype(np.float32) if x.dtype == np.float16 else x


def _sign(a, out=...):
    """PyTorch's sign: (0 < x) - (x < 0), so NaN gives 0 (np.sign gives NaN)."""
    r = np.sign(a, out=out)
    if r.dtype.kind == "f":
        np.copyto(r, 0, where=np.isnan(r))
    return r


def computed(fn):
    """Kernel from ``fn(x, **params)`` computed in the opmath dtype, delivered in x's dtype."""
    def kernel(x, out=None, **params):
        return _finish(fn(_upcast(np.asarray(x)), **params), x, out)
    kernel.__name__ = fn.__name__
    return kernel


def computed2(fn):
    def kernel(a, b, out=None, **params):
        like = a if isinstance(a, np.ndarray) else b
        a = _upcast(a) if isinstance(a, np.ndarray) else a
        b = _upcast(b) if isinstance(b, np.ndarray) else b
        return _finish(fn(a, b, **params), like, out)
    kernel.__name__ = fn.__name__
    return kernel


def _np_unary(f):
    """A NumPy function with ``out=`` that is not a ufunc; 0-d results stay arrays."""
    return lambda x, out=None: f(x, out=out) if out is not None else np.asarray(f(x))


def _int_passthrough(f):
    """floor/ceil/trunc/round of an integer array is a copy of it (same dtype)."""
    def kernel(x, out=..., **params):
        if x.dtype.kind in "iub":
            return _finish(np.array(x, copy=True), x, out)
        return f(x, out=out, **params)
    return kernel


# ---------------------------------------------------------------------------------------------
# erf, erfc, erfinv
_PIECES = 24          # Chebyshev coefficients per interval
_ERF_SMALL = 1.0      # |x| below: erf(x) = x * P(x^2); above: 1 - erfcx(x) * exp(-x^2)
_ERFCX_EDGES = (0.0, 0.5, 1.0, 2.0, 3.0, 4.5, 6.5, 10.0, 16.0, 26.0)


def _cheb_fit(f, lo, hi, n=_PIECES):
    """Chebyshev interpolation coefficients of ``f`` on [lo, hi] (import-time, n points)."""
    k = np.arange(n)
    nodes = np.cos(np.pi * (k + 0.5) / n)
    values = np.array([f(0.5 * (hi - lo) * t + 0.5 * (hi + lo)) for t in nodes.tolist()])
    coef = np.array([2.0 / n * np.sum(values * np.cos(np.pi * j * (k + 0.5) / n))
                     for j in range(n)])
    coef[0] /= 2
    return coef


def _clenshaw(coef, t):
    """sum_j coef[j] T_j(t) by Clenshaw's recurrence (in-place updates)."""
    b1 = np.zeros_like(t)
    b2 = np.zeros_like(t)
    t2 = 2 * t
    for c in coef[:0:-1].tolist():
        b2 = np.subtract(t2 * b1, b2, out=b2)
        b2 += c
        b1, b2 = b2, b1
    return coef[0] + t * b1 - b2


def _erfcx_exact(x):
    """exp(x^2) * erfc(x) from math.erfc, with exp(x^2) free of x*x's rounding error."""
    h = round(x * 4096.0) / 4096.0
    return math.erfc(x) * math.exp(h * h) * math.exp((x - h) * (x + h))


# erf(x) / x = 2/sqrt(pi) * sum_n (-1)^n z^n / (n! (2n + 1)), z = x^2: for |x| < 1 the terms
# fall below 1e-17 by n = 18 and alternate without cancellation (the sum stays near 1).
_ERF_TAYLOR = [2 / math.sqrt(math.pi) * (-1) ** n / (math.factorial(n) * (2 * n + 1))
               for n in range(19)]
_ERFCX_LO = np.array(_ERFCX_EDGES[:-1])
_ERFCX_HI = np.array(_ERFCX_EDGES[1:])
_ERFCX_COEF = np.stack([_cheb_fit(_erfcx_exact, lo, hi) for lo, hi in
                        zip(_ERFCX_EDGES[:-1], _ERFCX_EDGES[1:])])
_ERFCX_MAX = _ERFCX_EDGES[-1]


def _erfcx_pos(x):
    """exp(x^2) * erfc(x) for x >= 0 (float64); one Clenshaw pass per interval."""
    result = np.empty_like(x)
    for lo, hi, coef in zip(_ERFCX_EDGES[:-1], _ERFCX_EDGES[1:], _ERFCX_COEF):
        sel = (x >= lo) & (x < hi)
        if sel.any():
            result[sel] = _clenshaw(coef, (2 * x[sel] - (lo + hi)) / (hi - lo))
    big = ~(x < _ERFCX_MAX)
    if big.any():   # asymptotic continued fraction, converged far beyond double precision
        xb = x[big]
        frac = np.zeros_like(xb)
        for k in range(12, 0, -1):
            frac = (k / 2) / (xb + frac)
        result[big] = 1 / (math.sqrt(math.pi) * (xb + frac))
    return result


def _exp_neg_square(x):
    """exp(-x^2) without the rounding error of x*x: split x = h + l with h*h exact."""
    h = np.round(x * 4096.0) / 4096.0
    return np.exp(-h * h) * np.exp(-(x - h) * (x + h))


def _erf_small(x):
    z = x * x
    acc = np.full_like(z, _ERF_TAYLOR[-1])
    for c in _ERF_TAYLOR[-2::-1]:
        acc *= z
        acc += c
    return x * acc


def _erf64(x):
    x = np.asarray(x, dtype=np.float64)
    small = np.abs(x) < _ERF_SMALL
    if small.all():
        return _erf_small(x)
    out = np.empty_like(x)
    out[small] = _erf_small(x[small])
    big = ~small
    xb = x[big]
    ab = np.minimum(np.abs(xb), 30.0)   # erf(6) is 1 in double precision; NaN stays NaN
    with np.errstate(invalid="ignore"):
        out[big] = np.copysign(1 - _erfcx_pos(np.where(np.isnan(ab), 1.0, ab)) *
                               _exp_neg_square(ab), xb)
    out[big & np.isnan(x)] = np.nan
    return out


def _erfc64(x):
    x = np.asarray(x, dtype=np.float64)
    ax = np.nan_to_num(np.abs(x), nan=0.0, posinf=1e300)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        tail = np.where(ax > 27.3, 0.0, _erfcx_pos(np.minimum(ax, 27.3)) *
                        _exp_neg_square(np.minimum(ax, 27.3)))
    near = 1 - _erf64(np.where(ax < 0.5, x, 0.0))
    r = np.where(ax < 0.5, near, np.where(x < 0, 2 - tail, tail))
    return np.where(np.isnan(x), x, r)


_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


def _erfinv64(y):
    """Winitzki's closed form as a start, then Halley steps on erf (erfc near +-1)."""
    y = np.asarray(y, dtype=np.float64)
    ay = np.abs(y)
    inside = ay < 1
    ya = np.where(inside, ay, 0.5)
    a = 0.147
    ln = np.log1p(-ya * ya)
    first = 2 / (math.pi * a) + ln / 2
    x = np.sqrt(np.sqrt(first * first - ln / a) - first)
    one_minus = 1 - ya
    tail = ya > 0.5
    # Halley steps (cubic): 2e-3 -> 1e-8 -> double precision; the far tail, where Winitzki's
    # start is weaker, gets a third step
    for far in (None, None, ya > 0.999):
        body = ~tail if far is None else np.zeros_like(tail)
        edge = tail if far is None else far
        resid = np.zeros_like(x)
        resid[edge] = one_minus[edge] - _erfc64(x[edge])
        resid[body] = _erf64(x[body]) - ya[body]
        step = resid / (_TWO_OVER_SQRT_PI * np.exp(-x * x))
        x = x - step / (1 + x * step)
    x = np.copysign(x, y)
    return np.where(inside, x, np.where(ay == 1, np.copysign(np.inf, y), np.nan))


# ---------------------------------------------------------------------------------------------
# unary math and activations
def _sigmoid_of(x):
    # numerically stable for both signs: exp of a non-positive number only
    e = np.exp(-np.abs(x))
    pos = 1 / (1 + e)
    return np.where(x >= 0, pos, e * pos)


def _sigmoid(x):
    return _sigmoid_of(x)


def _rsqrt(x):
    with np.errstate(divide="ignore", invalid="ignore"):
        return 1 / np.sqrt(x)


def _logit(x, eps=None):
    if eps is not None:
        x = np.clip(x, eps, 1 - eps)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(x / (1 - x))


def _frac(x):
    return x - np.trunc(x)


def _round(x, out=..., decimals=0):
    if x.dtype.kind in "iub":
        return _finish(np.array(x, copy=True), x, out)
    if decimals == 0:
        return np.rint(x, out=out)
    xs = _upcast(x)
    scale = xs.dtype.type(10.0 ** abs(decimals))
    with np.errstate(over="ignore", invalid="ignore"):
        r = np.rint(xs * scale) / scale if decimals > 0 else np.rint(xs / scale) * scale
    return _finish(r, x, out)




_ZEROS = {}


def _zeros_like(x):
    """A read-only zero array shaped like contiguous ``x`` (a view of one cached buffer per
    dtype): NumPy's maximum runs its SIMD loop on two contiguous arrays, not on a scalar
    (3x faster on large activations)."""
    buf = _ZEROS.get(x.dtype)
    if buf is None or buf.size < x.size:
        buf = _ZEROS[x.dtype] = np.zeros(max(x.size, 1 << 16), x.dtype)
        buf.flags.writeable = False
    return buf[:x.size].reshape(x.shape)


def _relu(x, out=...):
    if x.size >= 4096 and x.dtype.kind == "f" and x.flags.c_contiguous:
        return np.maximum(x, _zeros_like(x), out=out)
    return np.maximum(x, x.dtype.type(0), out=out)


def _leaky_relu(x, negative_slope=0.01):
    return np.where(x > 0, x, x * x.dtype.type(negative_slope))


def _elu(x, alpha=1.0, scale=1.0, input_scale=1.0):
    neg = np.expm1(np.minimum(x, 0) * x.dtype.type(input_scale)) * x.dtype.type(alpha)
    return np.where(x > 0, x, neg) * x.dtype.type(scale)


def _hardtanh(x, out=..., min_val=-1.0, max_val=1.0):
    if x.dtype.kind in "iu":
        min_val, max_val = int(min_val), int(max_val)
    return np.clip(x, min_val, max_val, out=out)


def _hardsigmoid(x):
    return np.clip(x / 6 + 0.5, 0, 1)


def _hardswish(x):
    return x * np.clip(x + 3, 0, 6) / 6


_SQRT_HALF = math.sqrt(0.5)
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)


def _gelu(x, approximate="none"):
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)))
    return (0.5 * x * (1 + _erf64(x * _SQRT_HALF))).astype(x.dtype, copy=False)


def _silu(x):
    return x * _sigmoid_of(x)


def _softplus(x, beta=1.0, threshold=20.0):
    bx = x * x.dtype.type(beta)
    with np.errstate(over="ignore"):
        soft = np.log1p(np.exp(-np.abs(bx))) + np.maximum(bx, 0)
    return np.where(bx > threshold, x, soft / x.dtype.type(beta))


def _mish(x):
    return x * np.tanh(_softplus(x))


def _nan_to_num(x, out=..., nan=0.0, posinf=None, neginf=None):
    if x.dtype.kind in "iub":
        return _finish(np.array(x, copy=True), x, out)
    info = np.finfo(x.dtype)
    r = np.where(np.isnan(x), x.dtype.type(nan), x)
    r = np.where(np.isposinf(r), x.dtype.type(info.max if posinf is None else posinf), r)
    r = np.where(np.isneginf(r), x.dtype.type(info.min if neginf is None else neginf), r)
    return _finish(r, x, out)


# ---------------------------------------------------------------------------------------------
# binary
def _check_int_divisor(a, b):
    if np.asarray(a).dtype.kind in "iub" and np.asarray(b).dtype.kind in "iub" and \
            not np.all(b):
        raise RuntimeError("ZeroDivisionError")


def _int_safe(f):
    """Integer division-like kernels raise on a zero divisor (as PyTorch), floats follow IEEE."""
    def kernel(a, b, out=...):
        _check_int_divisor(a, b)
        return f(a, b, out=out)
    return kernel


def _div_trunc(a, b, out=None):
    _check_int_divisor(a, b)
    if np.asarray(a).dtype.kind == "f" or np.asarray(b).dtype.kind == "f":
        return np.trunc(np.true_divide(a, b), out=... if out is None else out)
    q = np.floor_divide(a, b)
    fix = (np.remainder(a, b) != 0) & ((np.asarray(a) < 0) != (np.asarray(b) < 0))
    r = np.asarray(q + fix)
    if out is None:
        return r.astype(q.dtype, copy=False)
    np.copyto(out, r, casting="unsafe")
    return out


def _xlogy(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        r = a * np.log(b)
    return np.where((a == 0) & ~np.isnan(b), 0, r)


def _logaddexp2(a, b):
    return np.logaddexp2(a, b)


def _bits(a, b):
    dt = np.asarray(a).dtype if isinstance(a, np.ndarray) else np.asarray(b).dtype
    return dt, 8 * dt.itemsize


def _left_shift(a, b, out=...):
    dt, bits = _bits(a, b)
    bad = (np.asarray(b) < 0) | (np.asarray(b) >= bits)
    shifted = np.left_shift(a, np.where(bad, 0, b).astype(dt))
    return _finish(np.where(bad, 0, shifted), shifted, out)


def _right_shift(a, b, out=...):
    dt, bits = _bits(a, b)
    bad = (np.asarray(b) < 0) | (np.asarray(b) >= bits)
    safe = np.where(bad, bits - 1, b).astype(dt)
    shifted = np.right_shift(a, safe)
    if dt.kind == "u":
        shifted = np.where(bad, 0, shifted)
    return _finish(shifted, shifted, out)


def _isclose(a, b, rtol=1e-5, atol=1e-8, equal_nan=False):
    return np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)


# ---------------------------------------------------------------------------------------------
# ternary
def _where(cond, a, b, out=None):
    r = np.where(cond, a, b)
    if out is None:
        return r
    np.copyto(out, r)
    return out


def _clamp(x, lo, hi, out=...):
    if lo is None:
        return np.minimum(x, hi, out=out)
    if hi is None:
        return np.maximum(x, lo, out=out)
    return np.minimum(np.maximum(x, lo), hi, out=out)


def _lerp(start, end, weight, out=None):
    s, e = _upcast(np.asarray(start)), _upcast(np.asarray(end))
    w = _upcast(weight) if isinstance(weight, np.ndarray) else weight
    diff = e - s
    r = np.where(np.abs(w) < 0.5, s + w * diff, e - diff * (1 - w))
    return _finish(r, start, out)


def _astype(x, dtype):
    return x.astype(dtype)


def _copy(dst, src):
    np.copyto(dst, src, casting="unsafe")


KERNELS = {
    "astype": _astype,
    "copy_": _copy,
    # arithmetic
    "add": ufunc(np.add),
    "sub": ufunc(np.subtract),
    "mul": ufunc(np.multiply),
    "div": ufunc(np.true_divide),
    "floor_divide": _int_safe(np.floor_divide),
    "div_trunc": _div_trunc,
    "remainder": _int_safe(np.remainder),
    "fmod": _int_safe(np.fmod),
    "pow": ufunc(np.power),
    "atan2": ufunc(np.arctan2),
    "maximum": ufunc(np.maximum),
    "minimum": ufunc(np.minimum),
    "fmax": ufunc(np.fmax),
    "fmin": ufunc(np.fmin),
    "hypot": ufunc(np.hypot),
    "logaddexp": ufunc(np.logaddexp),
    "logaddexp2": computed2(_logaddexp2),
    "copysign": ufunc(np.copysign),
    "xlogy": computed2(_xlogy),
    "bitwise_and": ufunc(np.bitwise_and),
    "bitwise_or": ufunc(np.bitwise_or),
    "bitwise_xor": ufunc(np.bitwise_xor),
    "bitwise_left_shift": _left_shift,
    "bitwise_right_shift": _right_shift,
    "isclose": _isclose,
    "clamp": _clamp,
    "lerp": _lerp,
    # unary math
    "neg": ufunc(np.negative),
    "abs": ufunc(np.abs),
    "sign": _sign,
    "exp": ufunc(np.exp),
    "exp2": ufunc(np.exp2),
    "expm1": ufunc(np.expm1),
    "log": ufunc(np.log),
    "log2": ufunc(np.log2),
    "log10": ufunc(np.log10),
    "log1p": ufunc(np.log1p),
    "sqrt": ufunc(np.sqrt),
    "rsqrt": computed(_rsqrt),
    "square": ufunc(np.square),
    "sin": ufunc(np.sin),
    "cos": ufunc(np.cos),
    "tan": ufunc(np.tan),
    "asin": ufunc(np.arcsin),
    "acos": ufunc(np.arccos),
    "atan": ufunc(np.arctan),
    "sinh": ufunc(np.sinh),
    "cosh": ufunc(np.cosh),
    "tanh": ufunc(np.tanh),
    "asinh": ufunc(np.arcsinh),
    "acosh": ufunc(np.arccosh),
    "atanh": ufunc(np.arctanh),
    "sigmoid": computed(_sigmoid),
    "logit": computed(_logit),
    "erf": computed(_erf64),
    "erfc": computed(_erfc64),
    "erfinv": computed(_erfinv64),
    "floor": _int_passthrough(_np_unary(np.floor)),
    "ceil": _int_passthrough(_np_unary(np.ceil)),
    "trunc": _int_passthrough(_np_unary(np.trunc)),
    "round": _round,
    "frac": computed(_frac),
    "reciprocal": computed(np.reciprocal),
    "nan_to_num": _nan_to_num,
    "isnan": ufunc(np.isnan),
    "isinf": ufunc(np.isinf),
    "isfinite": ufunc(np.isfinite),
    "isposinf": _np_unary(np.isposinf),
    "isneginf": _np_unary(np.isneginf),
    "bitwise_not": ufunc(np.invert),
    # activations
    "relu": _relu,
    "leaky_relu": computed(_leaky_relu),
    "elu": computed(_elu),
    "hardtanh": _hardtanh,
    "hardsigmoid": computed(_hardsigmoid),
    "hardswish": computed(_hardswish),
    "gelu": computed(_gelu),
    "silu": computed(_silu),
    "mish": computed(_mish),
    "softplus": computed(_softplus),
    # comparison and logic
    "eq": ufunc(np.equal),
    "ne": ufunc(np.not_equal),
    "lt": ufunc(np.less),
    "le": ufunc(np.less_equal),
    "gt": ufunc(np.greater),
    "ge": ufunc(np.greater_equal),
    "logical_and": ufunc(np.logical_and),
    "logical_or": ufunc(np.logical_or),
    "logical_xor": ufunc(np.logical_xor),
    "logical_not": ufunc(np.logical_not),
    "where": _where,
}
