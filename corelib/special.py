"""corelib.special: PyTorch's torch.special, from corelib's elementwise ops.

Functions PyTorch also has at the top level are the same objects; the rest are composites of
frontend ops (gradients come from those). Not yet here (they need kernels of their own):
gammaln, digamma/psi, polygamma, multigammaln, zeta, gammainc/gammaincc, erfcx, log_ndtr, the
Bessel functions and i0/i0e/i1/i1e, and the orthogonal polynomials.
"""
from __future__ import annotations

import math

from ._ops.elementwise import (erf, erfc, erfinv, exp2, expm1, isnan, log, log1p, logit, round,
                               sigmoid, sin, where, xlogy)
from ._ops.nn import log_softmax, softmax
from ._ops.reduction import logsumexp
from ._tensor import Tensor

__all__ = ["entr", "erf", "erfc", "erfinv", "exp2", "expit", "expm1", "log1p", "log_softmax",
           "logit", "logsumexp", "ndtr", "ndtri", "round", "sinc", "softmax",
           "spherical_bessel_j0", "xlog1py", "xlogy"]


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
