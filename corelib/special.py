"""corelib.special: PyTorch's torch.special, from corelib's elementwise ops.

Functions PyTorch also has at the top level are the same objects; the rest are composites of
frontend ops (gradients come from those): gammaln by the Lanczos approximation, digamma by
recurrence and the asymptotic series, both with the reflection formula below 1/2, computed in
float64; the Hurwitz zeta by direct terms and the Euler-Maclaurin tail, polygamma from it; the
orthogonal polynomials (Chebyshev T/U/V/W and shifted, Hermite H/He, Laguerre, Legendre) by
their three-term recurrences in float64; gammainc/gammaincc by series and continued
fraction; log_ndtr and erfcx with asymptotic tails; i0/i0e/i1/i1e by the power series. Not yet
here: airy_ai (K₀/K₁, J₀/J₁/Y₀/Y₁ are series plus asymptotic expansions).
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
           "multigammaln", "zeta", "polygamma"]


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


# ---------------------------------------------------------------------------------------------
# Hurwitz zeta and polygamma (float64 composites: the gradient in q comes from the series)
_EM = (12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9,
       7.47242496e10, -2.950130727918164224e12, 1.1646782814350067249e14,
       -4.5979787224074726105e15, 1.8152105401943546773e17, -7.1661652561756670113e18)


def _hurwitz(s, q):
    """ζ(s, q) for float64 tensors: the first terms summed until q + N >= 10, then the
    Euler-Maclaurin tail with twelve Bernoulli terms (as Cephes' zeta)."""
    lowest = float(q.min().item()) if q.numel() else 0.0
    terms = 10 + (max(0, math.ceil(-lowest)) if math.isfinite(lowest) else 0)
    total = 0.0
    for k in range(terms):
        total = total + (q + k) ** (-s)
    w = q + terms
    b = w ** (-s)
    total = total + b + b * w / (s - 1) - 0.5 * b
    a, k = 1.0, 0.0
    for coeff in _EM:
        a = a * (s + k)
        b = b / w
        total = total + a * b / coeff
        k += 1.0
        a = a * (s + k)
        b = b / w
        k += 1.0
    return total


def zeta(input, other, *, out=None):
    """zeta(input, other, *, out=None) -> Tensor

    The Hurwitz zeta function ζ(x, q) = Σ_k (q + k)^(-x), elementwise (x = input, q = other).
    """
    from ._ops.shape import broadcast_tensors
    from ._ops.creation import tensor as _tensor
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError("special.zeta(): expected at least one Tensor argument")
    like = input if isinstance(input, Tensor) else other
    x = input if isinstance(input, Tensor) else _tensor(float(input), device=like.device)
    q = other if isinstance(other, Tensor) else _tensor(float(other), device=like.device)
    dtype = _dtype.promote_types(x.dtype, q.dtype)
    if not dtype.is_floating_point:
        dtype = _dtype.get_default_dtype()
    x, q = broadcast_tensors(cast(x, _dtype.float64), cast(q, _dtype.float64))
    result = _hurwitz(x, q)
    q_pole = (q <= 0) & (q == floor(q))
    result = where(x == 1, math.inf, result)
    result = where(q_pole, math.inf, result)
    result = where((q < 0) & (x != floor(x)), math.nan, result)
    result = where(x < 1, math.nan, result)
    return _finish(cast(result, dtype), out)


def polygamma(n, input, *, out=None):
    """polygamma(n, input, *, out=None) -> Tensor

    The n-th derivative of the digamma function: ψ^(n)(x) = (-1)^(n+1) n! ζ(n + 1, x) for n >= 1.
    """
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"polygamma(): argument 'n' must be int, not {type(n).__name__}")
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    if n == 0:
        return digamma(input, out=out)
    x, dtype = _in_float64(input, "polygamma")
    result = (-1.0) ** (n + 1) * math.factorial(n) * _hurwitz(float(n + 1), x)
    pole = (x <= 0) & (x == floor(x))
    result = where(pole, math.inf if n % 2 else -math.inf, result)
    return _finish(cast(result, dtype), out)


# ---------------------------------------------------------------------------------------------
# orthogonal polynomials: the three-term recurrences in float64, up to the largest degree
def _poly_args(input, n, op):
    from ._ops.shape import broadcast_tensors
    from ._ops.creation import tensor as _tensor
    if not isinstance(input, Tensor) and not isinstance(n, Tensor):
        raise TypeError(f"special.{op}(): expected at least one Tensor argument")
    like = input if isinstance(input, Tensor) else n
    x = input if isinstance(input, Tensor) else _tensor(input, device=like.device)
    k = n if isinstance(n, Tensor) else _tensor(n, device=like.device)
    dtype = _dtype.promote_types(x.dtype, k.dtype)
    if not dtype.is_floating_point:
        dtype = _dtype.get_default_dtype()
    x, k = broadcast_tensors(cast(x, _dtype.float64), k)
    k = cast(k, _dtype.int64)      # a float degree is truncated, as PyTorch
    return x, k, dtype


def _polynomial(op, input, n, first, step, out, shift=False):
    """P_n(x) from P_0 = 1, P_1 = first(x) and P_{k+1} = step(k, x, P_{k-1}, P_k);
    0 for n < 0 (as PyTorch)."""
    x, k, dtype = _poly_args(input, n, op)
    if shift:
        x = 2 * x - 1
    top = int(k.max().item()) if k.numel() else 0
    p = x * 0 + 1
    q = first(x)
    result = where(k == 0, p, where(k == 1, q, 0.0))
    for j in range(1, top):
        p, q = q, step(j, x, p, q)
        result = where(k == j + 1, q, result)
    return _finish(cast(result, dtype), out)


def _make_poly(name, first, step, sentence, shift=False):
    def fn(input, n, *, out=None):
        return _polynomial(name, input, n, first, step, out, shift)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"{name}(input, n, *, out=None) -> Tensor\n\n    {sentence}\n    "
    return fn


_CHEB = lambda k, x, p, q: 2 * x * q - p   # noqa: E731
chebyshev_polynomial_t = _make_poly(
    "chebyshev_polynomial_t", lambda x: x, _CHEB,
    "The Chebyshev polynomial of the first kind T_n(x).")
chebyshev_polynomial_u = _make_poly(
    "chebyshev_polynomial_u", lambda x: 2 * x, _CHEB,
    "The Chebyshev polynomial of the second kind U_n(x).")
chebyshev_polynomial_v = _make_poly(
    "chebyshev_polynomial_v", lambda x: 2 * x - 1, _CHEB,
    "The Chebyshev polynomial of the third kind V_n(x).")
chebyshev_polynomial_w = _make_poly(
    "chebyshev_polynomial_w", lambda x: 2 * x + 1, _CHEB,
    "The Chebyshev polynomial of the fourth kind W_n(x).")
shifted_chebyshev_polynomial_t = _make_poly(
    "shifted_chebyshev_polynomial_t", lambda x: x, _CHEB,
    "The shifted Chebyshev polynomial of the first kind T*_n(x) = T_n(2x - 1).", shift=True)
shifted_chebyshev_polynomial_u = _make_poly(
    "shifted_chebyshev_polynomial_u", lambda x: 2 * x, _CHEB,
    "The shifted Chebyshev polynomial of the second kind U*_n(x) = U_n(2x - 1).", shift=True)
shifted_chebyshev_polynomial_v = _make_poly(
    "shifted_chebyshev_polynomial_v", lambda x: 2 * x - 1, _CHEB,
    "The shifted Chebyshev polynomial of the third kind V*_n(x) = V_n(2x - 1).", shift=True)
shifted_chebyshev_polynomial_w = _make_poly(
    "shifted_chebyshev_polynomial_w", lambda x: 2 * x + 1, _CHEB,
    "The shifted Chebyshev polynomial of the fourth kind W*_n(x) = W_n(2x - 1).", shift=True)
hermite_polynomial_h = _make_poly(
    "hermite_polynomial_h", lambda x: 2 * x, lambda k, x, p, q: 2 * x * q - 2 * k * p,
    "The physicists' Hermite polynomial H_n(x).")
hermite_polynomial_he = _make_poly(
    "hermite_polynomial_he", lambda x: x, lambda k, x, p, q: x * q - k * p,
    "The probabilists' Hermite polynomial He_n(x).")
laguerre_polynomial_l = _make_poly(
    "laguerre_polynomial_l", lambda x: 1 - x,
    lambda k, x, p, q: ((2 * k + 1 - x) * q - k * p) / (k + 1),
    "The Laguerre polynomial L_n(x).")
legendre_polynomial_p = _make_poly(
    "legendre_polynomial_p", lambda x: x,
    lambda k, x, p, q: ((2 * k + 1) * x * q - k * p) / (k + 1),
    "The Legendre polynomial P_n(x).")

__all__ += ["chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
            "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t",
            "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
            "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
            "laguerre_polynomial_l", "legendre_polynomial_p"]


# ---------------------------------------------------------------------------------------------
# regularized incomplete gamma functions (float64: the series below x = a + 1, the continued
# fraction above, both with a fixed number of terms that converges for moderate a)
_IGAMMA_TERMS = 200


def _igamma_args(input, other, op):
    from ._ops.shape import broadcast_tensors
    from ._ops.creation import tensor as _tensor
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"{op}(): expected at least one Tensor argument")
    like = input if isinstance(input, Tensor) else other
    a = input if isinstance(input, Tensor) else _tensor(float(input), device=like.device)
    x = other if isinstance(other, Tensor) else _tensor(float(other), device=like.device)
    dtype = _dtype.promote_types(a.dtype, x.dtype)
    if not dtype.is_floating_point:
        raise RuntimeError(f"\"{op}\" not implemented for '{dtype}'")
    a, x = broadcast_tensors(cast(a, _dtype.float64), cast(x, _dtype.float64))
    return a, x, dtype


def _igamma_pq(a, x):
    """(P(a, x), Q(a, x)) for a > 0, x > 0 (other values are replaced before the call)."""
    log_front = a * log(x) - x - gammaln(a)
    # series: P = x^a e^-x / Γ(a+1) Σ x^n / ((a+1)...(a+n))
    term = 1.0 / a
    total = term
    for n in range(1, _IGAMMA_TERMS):
        term = term * x / (a + n)
        total = total + term
    p_series = (log_front + log(total)).exp()
    # continued fraction (modified Lentz) for Q
    tiny = 1e-300
    b = x + 1 - a
    c = 1.0 / tiny + b * 0
    d = 1.0 / where(abs(b) < tiny, tiny, b)
    h = d
    for i in range(1, _IGAMMA_TERMS):
        an = -i * (i - a)
        b = b + 2
        d = an * d + b
        d = 1.0 / where(abs(d) < tiny, tiny, d)
        c = b + an / c
        c = where(abs(c) < tiny, tiny, c)
        h = h * d * c
    q_cf = (log_front + log(h)).exp()
    use_series = x < a + 1
    p = where(use_series, p_series, 1 - q_cf)
    q = where(use_series, 1 - p_series, q_cf)
    return p, q


def _igamma(input, other, upper, op, out):
    a, x, dtype = _igamma_args(input, other, op)
    good = (a > 0) & (x > 0) & (a < math.inf) & (x < math.inf)
    p, q = _igamma_pq(where(good, a, 1.0), where(good, x, 1.0))
    r = q if upper else p
    lo, hi = (1.0, 0.0) if upper else (0.0, 1.0)      # values at x = 0 and x = inf
    r = where(x == 0, lo, r)
    r = where((x == math.inf) & (a < math.inf), hi, r)
    r = where((a == math.inf) & (x < math.inf), lo, r)
    r = where((a == 0) & (x > 0), hi, r)
    bad = (x < 0) | (a < 0) | ((a == 0) & (x == 0)) | ((a == math.inf) & (x == math.inf)) | \
        isnan(a) | isnan(x)
    r = where(bad, math.nan, r)
    return _finish(cast(r, dtype), out)


def gammainc(input, other, *, out=None):
    """gammainc(input, other, *, out=None) -> Tensor

    The regularized lower incomplete gamma function P(a, x) (a = input, x = other).
    """
    return _igamma(input, other, False, "gammainc", out)


def gammaincc(input, other, *, out=None):
    """gammaincc(input, other, *, out=None) -> Tensor

    The regularized upper incomplete gamma function Q(a, x) = 1 - P(a, x).
    """
    return _igamma(input, other, True, "gammaincc", out)


__all__ += ["gammainc", "gammaincc"]


# ---------------------------------------------------------------------------------------------
# log_ndtr, erfcx and the modified Bessel functions of the first kind (float64 composites)
def log_ndtr(input, *, out=None):
    """log_ndtr(input, *, out=None) -> Tensor

    The log of the standard normal CDF, log Φ(x), accurate in the far left tail.
    """
    x, dtype = _in_float64(input, "log_ndtr")
    tail = x < -20
    xs = where(tail, x, -20.0)
    # log Φ(x) ~ -x²/2 - log(-x) - log √(2π) + log(1 - 1/x² + 3/x⁴ - 15/x⁶) as x -> -inf
    z = 1 / (xs * xs)
    asym = -0.5 * xs * xs - log(-xs) - 0.5 * math.log(2 * math.pi) + \
        log1p(-z * (1 - z * (3 - 15 * z)))
    xd = where(tail, 0.0, x) / math.sqrt(2)
    direct = where(xd > 0, log1p(-0.5 * erfc(where(xd > 0, xd, 0.0))),
                   log(0.5 * erfc(-where(xd > 0, 0.0, xd))))
    return _finish(cast(where(tail, asym, direct), dtype), out)


def erfcx(input, *, out=None):
    """erfcx(input, *, out=None) -> Tensor

    The scaled complementary error function exp(x²) erfc(x).
    """
    x, dtype = _in_float64(input, "erfcx")
    big = x > 25
    xs = where(big, x, 25.0)
    z = 1 / (2 * xs * xs)
    asym = (1 - z * (1 - 3 * z * (1 - 5 * z))) / (xs * math.sqrt(math.pi))
    xd = where(big, 0.0, x)
    direct = (xd * xd).exp() * erfc(xd)
    return _finish(cast(where(big, asym, direct), dtype), out)


def _bessel_i_series(x, order):
    """I_order(x), order 0 or 1, by its power series (terms up to the data's largest |x|)."""
    top = float(abs(x).max().item()) if x.numel() else 0.0
    terms = 30 + int(2 * top) if math.isfinite(top) else 30
    q = x * x / 4
    term = x * 0 + 1 if order == 0 else x / 2
    total = term
    for k in range(1, terms):
        term = term * q / (k * (k + order))
        total = total + term
    return total


def _bessel_i(input, order, scaled, op, out):
    x, dtype = _in_float64(input, op)
    big = abs(x) > 700
    xs = where(big, 1.0, x)
    r = _bessel_i_series(xs, order)
    if scaled:
        r = r * (-abs(xs)).exp()
        # I_n(x) e^-|x| ~ 1/√(2π|x|) for large |x| (odd order keeps the sign)
        lim = 1 / (2 * math.pi * abs(where(big, x, 1.0))).sqrt()
        r = where(big, lim if order == 0 else lim * where(x < 0, -1.0, 1.0), r)
    else:
        r = where(big, math.inf if order == 0 else where(x < 0, -math.inf, math.inf), r)
    return _finish(cast(where(isnan(x), x, r), dtype), out)


def i0(input, *, out=None):
    """i0(input, *, out=None) -> Tensor

    The modified Bessel function of the first kind of order 0, I₀(x).
    """
    return _bessel_i(input, 0, False, "i0", out)


def i0e(input, *, out=None):
    """i0e(input, *, out=None) -> Tensor

    The exponentially scaled modified Bessel function of order 0, e^-|x| I₀(x).
    """
    return _bessel_i(input, 0, True, "i0e", out)


def i1(input, *, out=None):
    """i1(input, *, out=None) -> Tensor

    The modified Bessel function of the first kind of order 1, I₁(x).
    """
    return _bessel_i(input, 1, False, "i1", out)


def i1e(input, *, out=None):
    """i1e(input, *, out=None) -> Tensor

    The exponentially scaled modified Bessel function of order 1, e^-|x| I₁(x).
    """
    return _bessel_i(input, 1, True, "i1e", out)


def modified_bessel_i0(input, *, out=None):
    """modified_bessel_i0(input, *, out=None) -> Tensor

    The modified Bessel function of the first kind of order 0, I₀(x).
    """
    return _bessel_i(input, 0, False, "modified_bessel_i0", out)


def modified_bessel_i1(input, *, out=None):
    """modified_bessel_i1(input, *, out=None) -> Tensor

    The modified Bessel function of the first kind of order 1, I₁(x).
    """
    return _bessel_i(input, 1, False, "modified_bessel_i1", out)


__all__ += ["log_ndtr", "erfcx", "i0", "i0e", "i1", "i1e", "modified_bessel_i0",
            "modified_bessel_i1"]


_EULER_GAMMA = 0.5772156649015329


def _bessel_k(input, order, scaled, op, out):
    """K_order(x) (order 0 or 1): the series through I up to x = 9 (its cancellation costs
    ~e^(2x) ulps), the asymptotic expansion, truncated at its smallest term, above."""
    x, dtype = _in_float64(input, op)
    pos = x > 0
    small = pos & (x <= 9)
    xs = where(small, x, 1.0)
    q = xs * xs / 4
    lg = log(xs / 2)
    if order == 0:
        term, harmonic, total = xs * 0 + 1, 0.0, xs * 0
        for k in range(1, 60):
            term = term * q / (k * k)
            harmonic += 1.0 / k
            total = total + harmonic * term
        series = -(lg + _EULER_GAMMA) * _bessel_i_series(xs, 0) + total
    else:
        term, total = xs * 0 + 1, xs * 0
        h_k = 0.0
        for k in range(0, 60):
            if k:
                term = term * q / (k * (k + 1))
                h_k += 1.0 / k
            psi_sum = (-_EULER_GAMMA + h_k) + (-_EULER_GAMMA + h_k + 1.0 / (k + 1))
            total = total + psi_sum * term
        series = 1 / xs + lg * _bessel_i_series(xs, 1) - xs / 4 * total
    series = series * xs.exp() if scaled else series
    xl = where(small | ~pos, 20.0, x)
    mu = 4.0 * order * order
    term, total = xl * 0 + 1, xl * 0 + 1
    for k in range(1, 30):
        term = term * (mu - (2 * k - 1) ** 2) / (k * 8 * xl)
        total = total + where(xl > k / 2, term, 0.0)
    asym = (math.pi / (2 * xl)).sqrt() * total
    asym = asym if scaled else asym * (-xl).exp()
    r = where(small, series, asym)
    r = where(x == 0, math.inf, where(x < 0, math.nan, r))
    return _finish(cast(where(isnan(x), x, r), dtype), out)


def modified_bessel_k0(input, *, out=None):
    """modified_bessel_k0(input, *, out=None) -> Tensor

    The modified Bessel function of the second kind of order 0, K₀(x).
    """
    return _bessel_k(input, 0, False, "modified_bessel_k0", out)


def modified_bessel_k1(input, *, out=None):
    """modified_bessel_k1(input, *, out=None) -> Tensor

    The modified Bessel function of the second kind of order 1, K₁(x).
    """
    return _bessel_k(input, 1, False, "modified_bessel_k1", out)


def scaled_modified_bessel_k0(input, *, out=None):
    """scaled_modified_bessel_k0(input, *, out=None) -> Tensor

    The exponentially scaled modified Bessel function of the second kind of order 0, e^x K₀(x).
    """
    return _bessel_k(input, 0, True, "scaled_modified_bessel_k0", out)


def scaled_modified_bessel_k1(input, *, out=None):
    """scaled_modified_bessel_k1(input, *, out=None) -> Tensor

    The exponentially scaled modified Bessel function of the second kind of order 1, e^x K₁(x).
    """
    return _bessel_k(input, 1, True, "scaled_modified_bessel_k1", out)


__all__ += ["modified_bessel_k0", "modified_bessel_k1", "scaled_modified_bessel_k0",
            "scaled_modified_bessel_k1"]


def _bessel_jy(input, order, second, op, out):
    """J_order / Y_order (order 0 or 1): power series (with the log term for Y) up to |x| = 12,
    Hankel's asymptotic expansion, truncated at its smallest term, above."""
    x, dtype = _in_float64(input, op)
    ax = abs(x)
    small = ax <= 12
    xs = where(small, x, 1.0)
    q = -(xs * xs) / 4
    # J: Σ (-x²/4)^k / (k! (k+order)!) * (x/2)^order
    term = xs * 0 + 1 if order == 0 else xs / 2
    j_series, total = term, term
    for k in range(1, 60):
        term = term * q / (k * (k + order))
        total = total + term
    j_series = total
    if second:
        xp = where(small & (x > 0), x, 1.0)
        lg = log(xp / 2) + _EULER_GAMMA
        jp = j_series
        if order == 0:
            term, harmonic, total = xp * 0 + 1, 0.0, xp * 0
            for k in range(1, 60):
                term = term * -(xp * xp / 4) / (k * k)
                harmonic += 1.0 / k
                total = total - harmonic * term
            series = 2 / math.pi * (lg * jp + total)
        else:
            term, total, h_k = xp / 2, xp * 0, 0.0
            for k in range(0, 60):
                if k:
                    term = term * -(xp * xp / 4) / (k * (k + 1))
                    h_k += 1.0 / k
                total = total + (2 * h_k + 1.0 / (k + 1)) * term
            series = 2 / math.pi * (lg * jp) - 2 / (math.pi * xp) - total / math.pi
    else:
        series = j_series
    # Hankel: sqrt(2/(πx)) (P cos χ ∓ Q sin χ), χ = x - (order/2 + 1/4)π
    xl = where(small, 20.0, ax)
    mu = 4.0 * order * order
    a, p, qq = xl * 0 + 1, xl * 0 + 1, xl * 0
    for k in range(1, 40):
        a = a * (mu - (2 * k - 1) ** 2) / (k * 8 * xl)
        use = xl > k / 2
        if k % 2:
            qq = qq + where(use, a * (-1) ** ((k - 1) // 2), 0.0)
        else:
            p = p + where(use, a * (-1) ** (k // 2), 0.0)
    chi = xl - (order / 2 + 0.25) * math.pi
    amp = (2 / (math.pi * xl)).sqrt()
    if second:
        asym = amp * (p * sin(chi) + qq * chi.cos())
    else:
        asym = amp * (p * chi.cos() - qq * sin(chi))
        if order == 1:
            asym = where(x < 0, -asym, asym)
    r = where(small, series, asym)
    if second:
        r = where(x == 0, -math.inf, where(x < 0, math.nan, r))
    return _finish(cast(where(isnan(x), x, r), dtype), out)


def bessel_j0(input, *, out=None):
    """bessel_j0(input, *, out=None) -> Tensor

    The Bessel function of the first kind of order 0, J₀(x).
    """
    return _bessel_jy(input, 0, False, "bessel_j0", out)


def bessel_j1(input, *, out=None):
    """bessel_j1(input, *, out=None) -> Tensor

    The Bessel function of the first kind of order 1, J₁(x).
    """
    return _bessel_jy(input, 1, False, "bessel_j1", out)


def bessel_y0(input, *, out=None):
    """bessel_y0(input, *, out=None) -> Tensor

    The Bessel function of the second kind of order 0, Y₀(x).
    """
    return _bessel_jy(input, 0, True, "bessel_y0", out)


def bessel_y1(input, *, out=None):
    """bessel_y1(input, *, out=None) -> Tensor

    The Bessel function of the second kind of order 1, Y₁(x).
    """
    return _bessel_jy(input, 1, True, "bessel_y1", out)


__all__ += ["bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1"]
