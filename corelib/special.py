"""corelib.special: PyTorch's torch.special, from corelib's elementwise ops.

Functions PyTorch also has at the top level are the same objects; the rest are composites of
frontend ops (gradients come from those): gammaln by the Lanczos approximation, digamma by
recurrence and the asymptotic series, both with the reflection formula below 1/2, computed in
float64. Not yet here: polygamma, zeta, gammainc/gammaincc, erfcx, log_ndtr, the Bessel
functions and i0/i0e/i1/i1e, and the orthogonal polynomials.
"""
from __future__ import annotations

import math

from . import _dtype
from ._ops.elementwise import (abs, cast, erf, erfc, erfinv, exp2, expm1, floor, isnan, log,
                               log1p, logit, round, sigmoid, sin, tan, where, xlogy)
from ._ops.nn import log_softmax, softmax
from ._ops.reduction import logsumexp
from ._tensor import Tensor

__all__ = ["entr", "erf", "erfc", "erfinv", "exp2", "expit", "expm1", "log1p", "log_softmax",
           "logit", "logsumexp", "ndtr", "ndtri", "round", "sinc", "softmax",
           "spherical_bessel_j0", "xlog1py", "xlogy", "gammaln", "digamma", "psi",
           "multigammaln"]


def _tensor_arg(x, op, name="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"special.{op}(): argument '{name}' must be Tensor, not "
                        f"{type(x).__name__}")
    return x


def _finish(result, out):
    return result if out is None else out.copy_(result)


def expit(input, *, out=None):
    """expit(input, *, out=None) -> Tensor

    The logistic sigmoid 1 / (1 + exp(-input)) (same as corelib.sigmoid).
    """
    return sigmoid(input, out=out)


def entr(input, *, out=None):
    """entr(input, *, out=None) -> Tensor

    Elementwise entropy: -x ln x for x > 0, 0 at 0 and -inf for x < 0.
    """
    x = _tensor_arg(input, "entr")
    pos = x > 0
    safe = where(pos, x, 1.0)
    rest = where(x == 0, 0.0, where(isnan(x), x, -math.inf))
    return _finish(where(pos, -safe * log(safe), rest), out)


def sinc(input, *, out=None):
    """sinc(input, *, out=None) -> Tensor

    The normalized sinc function sin(πx) / (πx), 1 at x = 0.
    """
    x = _tensor_arg(input, "sinc")
    zero = x == 0
    safe = where(zero, 1.0, x) * math.pi
    return _finish(where(zero, 1.0, sin(safe) / safe), out)


def spherical_bessel_j0(input, *, out=None):
    """spherical_bessel_j0(input, *, out=None) -> Tensor

    The spherical Bessel function of the first kind of order 0, sin(x) / x.
    """
    x = _tensor_arg(input, "spherical_bessel_j0")
    zero = x == 0
    safe = where(zero, 1.0, x)
    return _finish(where(zero, 1.0, sin(safe) / safe), out)


def ndtr(input, *, out=None):
    """ndtr(input, *, out=None) -> Tensor

    The standard normal cumulative distribution function.
    """
    x = _tensor_arg(input, "ndtr")
    return _finish(0.5 * erfc(x * -math.sqrt(0.5)), out)


def ndtri(input, *, out=None):
    """ndtri(input, *, out=None) -> Tensor

    The inverse of ``ndtr``: the argument at which the standard normal CDF equals ``input``.
    """
    p = _tensor_arg(input, "ndtri")
    return _finish(math.sqrt(2.0) * erfinv(2 * p - 1), out)


def xlog1py(input, other, *, out=None):
    """xlog1py(input, other, *, out=None) -> Tensor

    input * log1p(other), 0 where input is 0 (unless other is NaN).
    """
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError("special.xlog1py(): expected at least one Tensor argument")
    if not isinstance(input, Tensor):
        input = other.new_tensor(input)
    if not isinstance(other, Tensor):
        other = input.new_tensor(other)
    # 0 where input == 0 and other == -1; d/d input is log1p(other) elsewhere, as in PyTorch
    log1p_other = log1p(other)
    return _finish(input * where((input == 0) & (other == -1), 0.0, log1p_other), out)


_LANCZOS = (0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
            -176.61502916214059, 12.507343278686905, -0.13857109526572012,
            9.9843695780195716e-6, 1.5056327351493116e-7)


def _in_float64(x, op):
    x = _tensor_arg(x, op)
    return cast(x, _dtype.float64), (x.dtype if x.dtype.is_floating_point
                                     else _dtype.get_default_dtype())


def _lanczos_lgamma(y):
    """log Γ(y) for y >= 1/2 (Lanczos, g = 7)."""
    z = y - 1
    a = _LANCZOS[0]
    for i, p in enumerate(_LANCZOS[1:], 1):
        a = a + p / (z + i)
    t = z + 7.5
    return 0.5 * math.log(2 * math.pi) + (z + 0.5) * log(t) - t + log(a)


def gammaln(input, *, out=None):
    """gammaln(input, *, out=None) -> Tensor

    Natural log of the absolute value of the gamma function.
    """
    x, dtype = _in_float64(input, "gammaln")
    low = x < 0.5
    lg = _lanczos_lgamma(where(low, 1 - x, x))
    reflected = math.log(math.pi) - log(abs(sin(math.pi * where(low, x, 0.5)))) - lg
    result = where(low, reflected, lg)
    result = where(low & (x == floor(x)), math.inf, result)      # poles at 0, -1, -2, ...
    # exact zeros at 1 and 2, keeping the gradient there
    result = result - where((x == 1) | (x == 2), result.detach(), 0.0)
    return _finish(cast(result, dtype), out)


def _digamma_positive(y):
    """ψ(y) for y >= 1/2: recurrence up to y + 10, then the asymptotic series."""
    shift = 0.0
    for k in range(10):
        shift = shift + 1 / (y + k)
    z = y + 10
    z2 = 1 / (z * z)
    series = z2 * (1 / 12 - z2 * (1 / 120 - z2 * (1 / 252 - z2 * (1 / 240 - z2 * (1 / 132)))))
    return log(z) - 0.5 / z - series - shift


def digamma(input, *, out=None):
    """digamma(input, *, out=None) -> Tensor

    The logarithmic derivative of the gamma function, ψ(x) = d/dx ln Γ(x).
    """
    x, dtype = _in_float64(input, "digamma")
    low = x < 0.5
    psi_ = _digamma_positive(where(low, 1 - x, x))
    reflected = psi_ - math.pi / tan(math.pi * where(low, x, 0.25))
    result = where(low, reflected, psi_)
    pole = low & (x == floor(x))
    result = where(pole, where(x == 0, -math.inf, math.nan), result)
    return _finish(cast(result, dtype), out)


psi = digamma


def multigammaln(input, p, *, out=None):
    """multigammaln(input, p, *, out=None) -> Tensor

    The multivariate log-gamma function of dimension p.
    """
    x = _tensor_arg(input, "multigammaln")
    if p < 1:
        raise RuntimeError(f"p has to be greater than or equal to 1")
    if bool((x <= (p - 1) / 2).any()):
        raise RuntimeError(f"All elements must be greater than (p-1)/2")
    total = gammaln(x)
    for j in range(1, p):
        total = total + gammaln(x - j / 2)
    return _finish(total + p * (p - 1) / 4 * math.log(math.pi), out)
