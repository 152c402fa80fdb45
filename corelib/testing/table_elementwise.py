"""Op table: elementwise unary, binary and ternary ops and activations.

NumPy references compute in float64 (``_f64``) so that float16 results are compared against
the exact value, not against NumPy's own float16 rounding.
"""
import math

import numpy as np

import corelib
from .opinfo import (OpInfo, Sample, FLOATS, ALL_FLOATS, INTS, SIGNED_INTS, NUMERIC, ALL_NUMERIC,
                     ALL, unary_samples, binary_samples, make_tensor, unary_special,
                     binary_special, INF, NAN)

F = corelib._ops.elementwise      # activations torch keeps in torch.nn.functional only
FLOATS_I64 = ALL_FLOATS + ("int64",)
INTEGRAL = INTS + ("bool",)


def _f64(fn):
    """Reference evaluated in float64 for floating inputs (ints and bools pass unchanged)."""
    def ref(*args, **kwargs):
        args = [a.astype(np.float64) if isinstance(a, np.ndarray) and a.dtype.kind == "f"
                else a for a in args]
        return fn(*args, **kwargs)
    return ref


def _vec(fn):
    """Vectorised scalar function (test-only reference, small samples)."""
    def ref(x):
        x = np.asarray(x, dtype=np.float64)
        return np.array([fn(v) for v in x.ravel().tolist()]).reshape(x.shape)
    return ref


def _unary(low=None, high=None, exclude_zero=False, special=(), **kwargs):
    """unary_samples plus ``exclude_zero`` and a sample holding ``special`` values."""
    def samples(dtype, device):
        out = unary_samples(low, high)(dtype, device)
        if exclude_zero:
            out = [Sample((_nonzero(s.args[0]),)) for s in out]
        if special and dtype in ALL_FLOATS:
            out.append(Sample((corelib.tensor(list(special), dtype=getattr(corelib, dtype),
                                              device=device),)))
        for s in out:
            s.kwargs.update(kwargs)
        return out
    samples.kwargs = kwargs    # unary_special reuses them
    return samples


def _nonzero(t):
    if t.numel() == 0:
        return t
    return corelib.where(t.abs() < 0.2, corelib.ones_like(t), t) if t.dtype.is_floating_point \
        else corelib.where(t == 0, corelib.ones_like(t), t)


_NONFINITE = (float("nan"), float("inf"), -float("inf"), 0.5, -2.0)


# ---------------------------------------------------------------------------------------------
# unary references
def _np_relu(x):
    return np.maximum(x, 0).astype(x.dtype)


def _np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _np_elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


def _np_gelu(x, approximate="none"):
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1 + _vec(math.erf)(x / math.sqrt(2)))


def _np_softplus(x, beta=1.0, threshold=20.0):
    return np.where(x * beta > threshold, x, np.log1p(np.exp(x * beta)) / beta)


def _np_hardtanh(x, min_val=-1.0, max_val=1.0):
    return np.clip(x, min_val, max_val)


def _np_nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)


def _np_round(x, decimals=0):
    return np.round(x, decimals)


_SELU = (1.6732632423543772848170429916717, 1.0507009873554804934193349852946)


def _unary_info(name, fn, ref, dtypes=ALL_FLOATS, low=None, high=None, gradgrad=True, **kw):
    samples = kw.pop("samples", None) or _unary(low, high)
    return OpInfo(name, fn, samples, dtypes=dtypes, ref=_f64(ref) if ref else None,
                  gradgrad=gradgrad, **kw)


UNARY = [
    _unary_info("neg", corelib.neg, np.negative, ALL_FLOATS + SIGNED_INTS),
    _unary_info("abs", corelib.abs, np.abs, ALL_NUMERIC, gradgrad=False),
    _unary_info("sign", corelib.sign, lambda x: np.where(np.isnan(x), 0, np.sign(x)),
                ALL_FLOATS + SIGNED_INTS, gradgrad=False),   # PyTorch: sign(NaN) = 0
    _unary_info("exp", corelib.exp, np.exp, FLOATS_I64),
    _unary_info("exp2", corelib.exp2, np.exp2, FLOATS_I64),
    _unary_info("expm1", corelib.expm1, np.expm1, FLOATS_I64),
    _unary_info("log", corelib.log, np.log, ALL_FLOATS, low=0.1, high=5),
    _unary_info("log2", corelib.log2, np.log2, ALL_FLOATS, low=0.1, high=5),
    _unary_info("log10", corelib.log10, np.log10, ALL_FLOATS, low=0.1, high=5),
    _unary_info("log1p", corelib.log1p, np.log1p, ALL_FLOATS, low=-0.9, high=5),
    _unary_info("sqrt", corelib.sqrt, np.sqrt, FLOATS_I64, low=0.1, high=5),
    _unary_info("rsqrt", corelib.rsqrt, lambda x: 1 / np.sqrt(x), ALL_FLOATS, low=0.1, high=5),
    _unary_info("square", corelib.square, np.square, ALL_NUMERIC),
    _unary_info("reciprocal", corelib.reciprocal, np.reciprocal, ALL_FLOATS,
                samples=_unary(exclude_zero=True)),
    _unary_info("sin", corelib.sin, np.sin),
    _unary_info("cos", corelib.cos, np.cos),
    _unary_info("tan", corelib.tan, np.tan, low=-1.2, high=1.2),
    _unary_info("asin", corelib.asin, np.arcsin, low=-0.9, high=0.9),
    _unary_info("acos", corelib.acos, np.arccos, low=-0.9, high=0.9),
    _unary_info("atan", corelib.atan, np.arctan),
    _unary_info("sinh", corelib.sinh, np.sinh),
    _unary_info("cosh", corelib.cosh, np.cosh),
    _unary_info("tanh", corelib.tanh, np.tanh),
    _unary_info("asinh", corelib.asinh, np.arcsinh),
    _unary_info("acosh", corelib.acosh, np.arccosh, low=1.1, high=4),
    _unary_info("atanh", corelib.atanh, np.arctanh, low=-0.9, high=0.9),
    _unary_info("sigmoid", corelib.sigmoid, _np_sigmoid, FLOATS_I64),
    _unary_info("logit", corelib.logit, lambda x: np.log(x / (1 - x)), low=0.05, high=0.95),
    _unary_info("logit", corelib.logit, lambda x, eps: _np_logit_eps(x, eps), low=0.01,
                high=0.99, variant="eps", gradgrad=False, samples=_unary(0.01, 0.99, eps=0.2)),
    _unary_info("erf", corelib.erf, _vec(math.erf), FLOATS_I64, low=-4, high=4),
    _unary_info("erfc", corelib.erfc, _vec(math.erfc), FLOATS_I64, low=-4, high=6),
    _unary_info("erfinv", corelib.erfinv, None, low=-0.95, high=0.95),
    _unary_info("floor", corelib.floor, np.floor, ALL_FLOATS + INTS, gradgrad=False),
    _unary_info("ceil", corelib.ceil, np.ceil, ALL_FLOATS + INTS, gradgrad=False),
    _unary_info("trunc", corelib.trunc, np.trunc, ALL_FLOATS + INTS, gradgrad=False),
    _unary_info("round", corelib.round, np.round, ALL_FLOATS + INTS, gradgrad=False),
    _unary_info("round", corelib.round, np.round, ALL_FLOATS, grad=False, variant="halves",
                samples=_unary(special=(0.5, 1.5, 2.5, -0.5, -2.5, 3.5))),
    _unary_info("round", corelib.round, _np_round, ("float32", "float64"), gradgrad=False,
                samples=_unary(-30, 30, decimals=1), variant="decimals"),
    _unary_info("round", corelib.round, _np_round, ("float32", "float64"), gradgrad=False,
                samples=_unary(-300, 300, decimals=-1), variant="neg_decimals"),
    _unary_info("frac", corelib.frac, lambda x: x - np.trunc(x), gradgrad=False),
    OpInfo("nan_to_num", corelib.nan_to_num, _unary(special=_NONFINITE),
           dtypes=ALL_FLOATS + ("int64",), ref=_np_nan_to_num),
    OpInfo("nan_to_num", corelib.nan_to_num, _unary(special=_NONFINITE, nan=1.5, posinf=9.0,
                                                    neginf=-8.0),
           dtypes=FLOATS, ref=_np_nan_to_num, variant="values"),
    # activations
    _unary_info("relu", corelib.relu, _np_relu, ALL_FLOATS + INTS, gradgrad=False),
    _unary_info("relu6", F.relu6, lambda x: np.clip(x, 0, 6), ALL_FLOATS + ("int64",),
                low=-3, high=9, gradgrad=False),
    _unary_info("leaky_relu", F.leaky_relu, lambda x: np.where(x > 0, x, 0.01 * x),
                gradgrad=False),
    _unary_info("leaky_relu", F.leaky_relu, lambda x, negative_slope: np.where(
        x > 0, x, negative_slope * x), gradgrad=False, variant="slope",
        samples=_unary(negative_slope=0.2)),
    _unary_info("elu", F.elu, _np_elu),
    _unary_info("elu", F.elu, _np_elu, variant="alpha", samples=_unary(alpha=0.5)),
    _unary_info("selu", corelib.selu, lambda x: _SELU[1] * _np_elu(x, _SELU[0])),
    _unary_info("celu", corelib.celu, lambda x, alpha: np.maximum(x, 0) + np.minimum(
        0, alpha * np.expm1(x / alpha)), samples=_unary(alpha=2.0)),
    _unary_info("gelu", F.gelu, _np_gelu),
    _unary_info("gelu", F.gelu, _np_gelu, variant="tanh", samples=_unary(approximate="tanh")),
    _unary_info("silu", F.silu, lambda x: x * _np_sigmoid(x)),
    _unary_info("mish", F.mish, lambda x: x * np.tanh(np.log1p(np.exp(x)))),
    _unary_info("softplus", F.softplus, _np_softplus),
    _unary_info("softplus", F.softplus, _np_softplus, variant="beta", gradgrad=False,
                samples=_unary(beta=2.0, threshold=1.5)),
    _unary_info("softsign", F.softsign, lambda x: x / (1 + np.abs(x)), gradgrad=False),
    _unary_info("hardtanh", F.hardtanh, _np_hardtanh, ALL_FLOATS + ("int64",), low=-2,
                high=2, gradgrad=False),
    _unary_info("hardtanh", F.hardtanh, _np_hardtanh, gradgrad=False, variant="bounds",
                samples=_unary(min_val=-0.5, max_val=2.0)),
    _unary_info("hardsigmoid", F.hardsigmoid, lambda x: np.clip(x / 6 + 0.5, 0, 1),
                low=-5, high=5, gradgrad=False),
    _unary_info("hardswish", F.hardswish, lambda x: x * np.clip(x + 3, 0, 6) / 6,
                low=-5, high=5, gradgrad=False),
]


def _np_logit_eps(x, eps):
    x = np.clip(x, eps, 1 - eps)
    return np.log(x / (1 - x))


def _classify(name, ref):
    return OpInfo(name, getattr(corelib, name), _unary(special=_NONFINITE),
                  dtypes=ALL_FLOATS + ("int64", "uint8", "bool"), ref=ref, grad=False)


CLASSIFIERS = [
    _classify("isnan", np.isnan),
    _classify("isinf", np.isinf),
    _classify("isfinite", np.isfinite),
    _classify("isposinf", lambda x: np.isposinf(x) if x.dtype.kind == "f" else x != x),
    _classify("isneginf", lambda x: np.isneginf(x) if x.dtype.kind == "f" else x != x),
    OpInfo("logical_not", corelib.logical_not, _unary(), dtypes=ALL, ref=np.logical_not,
           grad=False),
    OpInfo("bitwise_not", corelib.bitwise_not, _unary(), dtypes=INTEGRAL, ref=np.invert,
           grad=False),
]


# ---------------------------------------------------------------------------------------------
# binary
def _ties(dtype, device):
    """Pairs with equal elements (max/min gradients split on ties) and NaNs for fmax/fmin."""
    a = make_tensor((3, 4), dtype, device, low=-2, high=2)
    b = corelib.where(make_tensor((3, 4), "bool", device), a, make_tensor((3, 4), dtype, device))
    out = [Sample((a, b))]
    if dtype in ALL_FLOATS:
        nan = corelib.tensor([float("nan"), 1.0, float("nan"), 2.0], dtype=a.dtype, device=device)
        out.append(Sample((nan, corelib.tensor([0.5, float("nan"), float("nan"), 3.0],
                                               dtype=a.dtype, device=device))))
    return out


def _with_ties(ties=True, nans=True):
    def samples(dtype, device):
        extra = _ties(dtype, device)
        return binary_samples(scalars=())(dtype, device) + (extra[:1] if ties else []) + \
            (extra[1:] if nans else [])
    return samples


def _np_remainder(a, b):
    return np.remainder(a, b)


def _np_xlogy(a, b):
    """PyTorch's rule: 0 where x == 0, unless y is NaN (then NaN)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.isnan(b), np.nan, np.where(a == 0, 0.0, a * np.log(b)))


def _pow_samples(dtype, device):
    """Tensor ** tensor, tensor ** scalar (int and float), scalar ** tensor."""
    out = binary_samples(low=0.5, high=2.0, scalars=(2, 0.5, 3, 0))(dtype, device)
    out.append(Sample((2.5, make_tensor((3, 4), dtype, device, low=-2, high=2))))
    out.append(Sample((2, make_tensor((4,), dtype, device, low=0, high=3))))
    return out


def _int_pow_samples(dtype, device):
    return [Sample((make_tensor((3, 4), dtype, device, low=0, high=4),
                    make_tensor((3, 4), dtype, device, low=0, high=4))),
            Sample((make_tensor((5,), dtype, device, low=-3, high=4), 3)),
            Sample((2, make_tensor((2, 3), dtype, device, low=0, high=5)))]


def _shift_samples(dtype, device):
    bits = 8 * np.dtype(dtype).itemsize if dtype != "bool" else 8
    a = make_tensor((3, 4), dtype, device)
    out = [Sample((a, make_tensor((3, 4), dtype, device, low=0, high=min(bits, 8)))),
           Sample((a, make_tensor((4,), dtype, device, low=0, high=3))),
           Sample((a, 2)), Sample((make_tensor((), dtype, device), make_tensor((), dtype, device,
                                                                                low=0, high=3)))]
    return out


def _binary_info(name, fn, ref, dtypes=FLOATS, gradgrad=True, **kw):
    samples = kw.pop("samples", None) or binary_samples(**kw.pop("sample_kw", {}))
    return OpInfo(name, fn, samples, dtypes=dtypes, ref=_f64(ref) if ref else None,
                  gradgrad=gradgrad, **kw)


BINARY = [
    OpInfo("add", corelib.add, binary_samples(), dtypes=ALL_NUMERIC, ref=np.add, gradgrad=True),
    OpInfo("add", corelib.add, binary_samples(alpha=2), dtypes=NUMERIC, variant="alpha",
           ref=lambda a, b, alpha: a + alpha * b),
    OpInfo("sub", corelib.sub, binary_samples(), dtypes=ALL_NUMERIC, ref=np.subtract,
           gradgrad=True),
    OpInfo("sub", corelib.sub, binary_samples(alpha=-1.5), dtypes=FLOATS, variant="alpha",
           ref=lambda a, b, alpha: a - alpha * b),
    OpInfo("mul", corelib.mul, binary_samples(), dtypes=ALL, ref=np.multiply, gradgrad=True),
    OpInfo("div", corelib.div, binary_samples(exclude_zero=True), dtypes=NUMERIC,
           ref=np.true_divide, gradgrad=True),
    OpInfo("div", corelib.div, binary_samples(exclude_zero=True, rounding_mode="floor"),
           dtypes=NUMERIC, variant="floor", grad=False,
           ref=lambda a, b, rounding_mode: np.floor_divide(a, b)),
    OpInfo("div", corelib.div, binary_samples(exclude_zero=True, rounding_mode="trunc"),
           dtypes=NUMERIC, variant="trunc", grad=False,
           ref=lambda a, b, rounding_mode: np.trunc(np.true_divide(a, b))),
    OpInfo("floor_divide", corelib.floor_divide, binary_samples(exclude_zero=True),
           dtypes=NUMERIC + ("int8", "uint8"), grad=False, ref=np.floor_divide),
    _binary_info("remainder", corelib.remainder, _np_remainder, NUMERIC + ("int8",),
                 gradgrad=False, sample_kw=dict(exclude_zero=True)),
    _binary_info("fmod", corelib.fmod, np.fmod, NUMERIC + ("int8",), gradgrad=False,
                 sample_kw=dict(exclude_zero=True)),
    _binary_info("pow", corelib.pow, np.power, ALL_FLOATS, samples=_pow_samples),
    OpInfo("pow", corelib.pow, _int_pow_samples, dtypes=("int32", "int64", "uint8"),
           ref=np.power, grad=False, variant="int"),
    _binary_info("atan2", corelib.atan2, np.arctan2, ALL_FLOATS + ("int64",),
                 sample_kw=dict(scalars=())),
    _binary_info("maximum", corelib.maximum, np.maximum, ALL, gradgrad=False,
                 samples=_with_ties(nans=False)),
    _binary_info("minimum", corelib.minimum, np.minimum, ALL, gradgrad=False,
                 samples=_with_ties(nans=False)),
    _binary_info("maximum", corelib.maximum, np.maximum, ALL_FLOATS, grad=False,
                 samples=_with_ties(ties=False), variant="nan"),
    _binary_info("minimum", corelib.minimum, np.minimum, ALL_FLOATS, grad=False,
                 samples=_with_ties(ties=False), variant="nan"),
    _binary_info("fmax", corelib.fmax, np.fmax, ALL_NUMERIC, gradgrad=False,
                 samples=_with_ties(ties=False)),
    _binary_info("fmin", corelib.fmin, np.fmin, ALL_NUMERIC, gradgrad=False,
                 samples=_with_ties(ties=False)),
    _binary_info("hypot", corelib.hypot, np.hypot, ALL_FLOATS,
                 sample_kw=dict(exclude_zero=True, scalars=())),
    _binary_info("logaddexp", corelib.logaddexp, np.logaddexp, ALL_FLOATS,
                 sample_kw=dict(scalars=())),
    _binary_info("logaddexp2", corelib.logaddexp2, np.logaddexp2, ALL_FLOATS,
                 sample_kw=dict(scalars=())),
    _binary_info("copysign", corelib.copysign, np.copysign, ALL_FLOATS + ("int64",),
                 gradgrad=False, sample_kw=dict(exclude_zero=True)),
    _binary_info("xlogy", corelib.xlogy, _np_xlogy, FLOATS + ("int64",),
                 sample_kw=dict(low=0.1, high=3, scalars=(0, 2.5))),
    OpInfo("eq", corelib.eq, binary_samples(low=-2, high=2), dtypes=ALL, ref=np.equal,
           grad=False),
    OpInfo("ne", corelib.ne, binary_samples(low=-2, high=2), dtypes=ALL, ref=np.not_equal,
           grad=False),
    OpInfo("lt", corelib.lt, binary_samples(), dtypes=ALL_NUMERIC, ref=np.less, grad=False),
    OpInfo("le", corelib.le, binary_samples(low=-2, high=2), dtypes=ALL_NUMERIC,
           ref=np.less_equal, grad=False),
    OpInfo("gt", corelib.gt, binary_samples(), dtypes=ALL_NUMERIC, ref=np.greater, grad=False),
    OpInfo("ge", corelib.ge, binary_samples(), dtypes=ALL_NUMERIC, ref=np.greater_equal,
           grad=False),
    OpInfo("logical_and", corelib.logical_and, binary_samples(scalars=()),
           dtypes=("bool", "float32", "int64"), ref=np.logical_and, grad=False),
    OpInfo("logical_or", corelib.logical_or, binary_samples(scalars=()),
           dtypes=("bool", "float32", "int64"), ref=np.logical_or, grad=False),
    OpInfo("logical_xor", corelib.logical_xor, binary_samples(scalars=()),
           dtypes=("bool", "float32", "int64"), ref=np.logical_xor, grad=False),
    OpInfo("bitwise_and", corelib.bitwise_and, binary_samples(scalars=(3, True)),
           dtypes=INTEGRAL, ref=np.bitwise_and, grad=False),
    OpInfo("bitwise_or", corelib.bitwise_or, binary_samples(scalars=(3, -1)),
           dtypes=INTEGRAL, ref=np.bitwise_or, grad=False),
    OpInfo("bitwise_xor", corelib.bitwise_xor, binary_samples(scalars=(5,)),
           dtypes=INTEGRAL, ref=np.bitwise_xor, grad=False),
    OpInfo("bitwise_left_shift", corelib.bitwise_left_shift, _shift_samples, dtypes=INTS,
           ref=np.left_shift, grad=False),
    OpInfo("bitwise_right_shift", corelib.bitwise_right_shift, _shift_samples, dtypes=INTS,
           ref=np.right_shift, grad=False),
]


def _close_samples(dtype, device):
    a = make_tensor((3, 4), dtype, device)
    near = a + corelib.tensor(1e-6, dtype=a.dtype, device=device) \
        if a.dtype.is_floating_point else a
    far = make_tensor((3, 4), dtype, device)
    out = [Sample((a, near)), Sample((a, far)), Sample((a, a.clone())),
           Sample((a, near), dict(rtol=0.0, atol=0.0)), Sample((a, far), dict(atol=10.0)),
           Sample((make_tensor((0,), dtype, device), make_tensor((0,), dtype, device)))]
    if dtype in FLOATS:
        nan = corelib.tensor([float("nan"), 1.0, float("inf")], dtype=a.dtype, device=device)
        out += [Sample((nan, nan.clone())), Sample((nan, nan.clone()), dict(equal_nan=True))]
    return out


def _np_allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


CLOSENESS = [
    OpInfo("isclose", corelib.isclose, _close_samples, dtypes=FLOATS + ("int64",),
           ref=np.isclose, grad=False),
    OpInfo("allclose", corelib.allclose, _close_samples, dtypes=FLOATS + ("int64",),
           ref=_np_allclose, grad=False),
    OpInfo("equal", corelib.equal,
           lambda dt, dev: [Sample(s.args) for s in _close_samples(dt, dev)[:3]]
           + [Sample((make_tensor((2, 3), dt, dev), make_tensor((3, 2), dt, dev)))],
           dtypes=FLOATS + ("int64",), grad=False,
           ref=lambda a, b: bool(a.shape == b.shape and np.array_equal(a, b))),
]


# ---------------------------------------------------------------------------------------------
# ternary
def _clamp_samples(dtype, device, bounds=False):
    x = make_tensor((3, 4), dtype, device)
    lo = make_tensor((4,), dtype, device, low=-3, high=0)
    hi = make_tensor((3, 1), dtype, device, low=0, high=3)
    on_bound = corelib.tensor([-1.0, 0.0, 1.0, 2.0], dtype=x.dtype, device=device) \
        if dtype in FLOATS \
        else make_tensor((4,), dtype, device)
    return [Sample((x,), dict(min=-1, max=1)), Sample((x,), dict(min=0.5)),
            Sample((x,), dict(max=-0.5)), Sample((x, lo, hi)), Sample((x,), dict(min=lo)),
            Sample((x,), dict(max=hi)), Sample((make_tensor((), dtype, device), -1, 1)),
            Sample((make_tensor((0, 4), dtype, device), lo, None)),
            Sample((make_tensor((3, 4), dtype, device, noncontiguous=True), -2, 2)),
            Sample((x, hi, lo))] + ([Sample((on_bound, -1.0, 1.0))] if bounds else [])


def _np_clamp(x, min=None, max=None):
    if min is not None:
        x = np.maximum(x, min)
    if max is not None:
        x = np.minimum(x, max)
    return x


def _where_samples(dtype, device):
    cond = make_tensor((3, 4), "bool", device)
    return [Sample((cond, make_tensor((3, 4), dtype, device), make_tensor((4,), dtype, device))),
            Sample((make_tensor((4,), "bool", device), make_tensor((3, 1), dtype, device),
                    make_tensor((), dtype, device))),
            Sample((cond, make_tensor((3, 4), dtype, device), 2)),
            Sample((cond, 1.5, make_tensor((3, 4), dtype, device))),
            Sample((make_tensor((0,), "bool", device), make_tensor((0,), dtype, device),
                    make_tensor((0,), dtype, device))),
            Sample((make_tensor((3, 4), "bool", device, noncontiguous=True),
                    make_tensor((3, 4), dtype, device, noncontiguous=True),
                    make_tensor((3, 4), dtype, device)))]


def _lerp_samples(dtype, device):
    def t(shape, **kw):
        return make_tensor(shape, dtype, device, **kw)
    return [Sample((t((3, 4)), t((3, 4)), 0.3)), Sample((t((3, 4)), t((4,)), 0.75)),
            Sample((t((3, 4)), t((3, 4)), t((3, 4), low=0, high=1))),
            Sample((t((2, 1, 4)), t((3, 1)), t((4,), low=-1, high=2))),
            Sample((t(()), t(()), t(()))), Sample((t((0, 3)), t((3,)), 0.5)),
            Sample((t((3, 4), noncontiguous=True), t((3, 4)), 0.5))]


def _addc_samples(divisor=False, **kw):
    def samples(dtype, device):
        def t(shape, **extra):
            return make_tensor(shape, dtype, device, exclude_zero=divisor, **extra)
        return [Sample((t((3, 4)), t((3, 4)), t((3, 4))), dict(kw)),
                Sample((t((3, 4)), t((4,)), t((3, 1))), dict(kw)),
                Sample((t(()), t(()), t(())), dict(kw)),
                Sample((t((0, 4)), t((4,)), t((4,))), dict(kw)),
                Sample((t((3, 4), noncontiguous=True), t((3, 4)), t((3, 4))), dict(kw)),
                Sample((t((3, 4)), t((3, 4)), t((3, 4))))]
    return samples


TERNARY = [
    OpInfo("clamp", corelib.clamp, _clamp_samples, dtypes=ALL_FLOATS + ("int32", "int64"),
           ref=_f64(_np_clamp)),
    OpInfo("clamp", corelib.clamp, lambda dt, dev: _clamp_samples(dt, dev, bounds=True),
           dtypes=FLOATS, ref=_f64(_np_clamp), grad=False, variant="on_bounds"),
    OpInfo("clamp_min", corelib.clamp_min, lambda dt, dev: [
        Sample((make_tensor((3, 4), dt, dev), 0.5)),
        Sample((make_tensor((3, 4), dt, dev), make_tensor((4,), dt, dev)))],
        dtypes=FLOATS + ("int64",), ref=_f64(np.maximum)),
    OpInfo("clamp_max", corelib.clamp_max, lambda dt, dev: [
        Sample((make_tensor((3, 4), dt, dev), -0.5)),
        Sample((make_tensor((3, 4), dt, dev), make_tensor((3, 1), dt, dev)))],
        dtypes=FLOATS + ("int64",), ref=_f64(np.minimum)),
    OpInfo("where", corelib.where, _where_samples, dtypes=ALL, gradgrad=True,
           ref=lambda c, a, b: np.where(c, a, b)),
    OpInfo("lerp", corelib.lerp, _lerp_samples, dtypes=ALL_FLOATS, gradgrad=True,
           ref=_f64(lambda s, e, w: s + w * (e - s))),
    OpInfo("addcmul", corelib.addcmul, _addc_samples(value=0.5), dtypes=FLOATS, gradgrad=True,
           ref=_f64(lambda x, a, b, value=1: x + value * a * b)),
    OpInfo("addcmul", corelib.addcmul, _addc_samples(value=2), dtypes=("int64", "int32"),
           grad=False, variant="int", ref=lambda x, a, b, value=1: x + value * a * b),
    OpInfo("addcdiv", corelib.addcdiv, _addc_samples(divisor=True, value=-1.5), dtypes=FLOATS,
           gradgrad=True, ref=_f64(lambda x, a, b, value=1: x + value * a / b)),
]


# ---------------------------------------------------------------------------------------------
# special values: every floating unary and binary entry also runs forward on NaN, +-inf and
# signed zeros (all ordered pairs for binary ops), against its NumPy reference and PyTorch
def _add_special(entries, factory, skip=()):
    for info in entries:
        if info.special is None and info.id not in skip and \
                any(d in ALL_FLOATS for d in info.dtypes):
            info.special = factory(**getattr(info.samples, "kwargs", {}))


_add_special(UNARY + CLASSIFIERS, unary_special)
for _info in BINARY:      # Python scalars only where the op takes them
    if _info.special is None and any(d in ALL_FLOATS for d in _info.dtypes):
        _info.special = binary_special(
            scalars=(INF, NAN) if getattr(_info.samples, "scalars", ()) else (),
            **getattr(_info.samples, "kwargs", {}))
_add_special(TERNARY[:2], lambda **kw: unary_special(min=-1.0, max=1.0))
for _info in TERNARY[2:4]:     # clamp_min / clamp_max: NaN on either side propagates
    _info.special = binary_special(scalars=(0.5,))

OPS = UNARY + CLASSIFIERS + BINARY + CLOSENESS + TERNARY
