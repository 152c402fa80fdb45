"""corelib.signal.windows: PyTorch's torch.signal.windows (SciPy-style window functions).

Windows are computed in float64 from frontend ops (linspace, cos, exp, ...) and cast to the
requested dtype (float32 or float64). ``sym=True`` gives a symmetric window (filter design),
``sym=False`` a periodic one (spectral analysis).
"""
from __future__ import annotations

import math
from collections.abc import Iterable

from ... import _dtype

__all__ = ["bartlett", "blackman", "cosine", "exponential", "gaussian", "general_cosine",
           "general_hamming", "hamming", "hann", "kaiser", "nuttall"]


def _c():
    import corelib
    return corelib


def _checks(name, M, dtype):
    if dtype is None:
        dtype = _dtype.get_default_dtype()
    if not isinstance(M, int) or isinstance(M, bool):
        raise TypeError(f"signal.windows.{name}(): argument 'M' must be int, not "
                        f"{type(M).__name__}")
    if M < 0:
        raise ValueError(f"signal.windows.{name}(): requires non-negative window length, "
                         f"got M={M}")
    if dtype not in (_dtype.float32, _dtype.float64):
        raise ValueError(f"signal.windows.{name}(): expects float32 or float64 dtypes, "
                         f"got: {dtype}")
    return dtype


def _trivial(M, dtype, device, requires_grad):
    """The window for M == 0 (empty) or M == 1 (a single one), else None."""
    if M > 1:
        return None
    return _c().ones((M,), dtype=dtype, device=device, requires_grad=requires_grad)


def _finish(w, dtype, requires_grad):
    w = w.to(dtype=dtype)
    return w.requires_grad_() if requires_grad else w


def _points(start, step, M, device):
    """start + step * n for n = 0 .. M-1, in float64."""
    return _c().arange(M, dtype=_dtype.float64, device=device) * step + start


def exponential(M, *, center=None, tau=1.0, sym=True, dtype=None, layout=None, device=None,
                requires_grad=False):
    """exponential(M, *, center=None, tau=1.0, sym=True, dtype=None, layout=torch.strided, device=None, requires_grad=False) -> Tensor

    The exponential (Poisson) window exp(-|n - center| / tau).
    """
    dtype = _checks("exponential", M, dtype)
    if tau <= 0:
        raise ValueError(f"signal.windows.exponential(): Tau must be positive, got: {tau} "
                         "instead.")
    if sym and center is not None:
        raise ValueError("signal.windows.exponential(): Center must be None for symmetric "
                         "windows")
    if M == 0:
        return _trivial(M, dtype, device, requires_grad)
    if center is None:
        center = (M if not sym and M > 1 else M - 1) / 2.0
    k = _points(-center / tau, 1.0 / tau, M, device)
    return _finish(_c().exp(-_c().abs(k)), dtype, requires_grad)


def cosine(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """cosine(M, *, sym=True, dtype=None, layout=torch.strided, device=None, requires_grad=False) -> Tensor

    The cosine (sine) window sin(π (n + 0.5) / M), as in SciPy.
    """
    dtype = _checks("cosine", M, dtype)
    if M == 0:
        return _trivial(M, dtype, device, requires_grad)
    constant = math.pi / (M + 1 if not sym and M > 1 else M)
    k = _points(0.5 * constant, constant, M, device)
    return _finish(_c().sin(k), dtype, requires_grad)


def gaussian(M, *, std=1.0, sym=True, dtype=None, layout=None, device=None,
             requires_grad=False):
    """gaussian(M, *, std=1.0, sym=True, dtype=None, layout=torch.strided, device=None, requires_grad=False) -> Tensor

    The Gaussian window exp(-(n - (M - 1) / 2)² / (2 std²)).
    """
    dtype = _checks("gaussian", M, dtype)
    if std <= 0:
        raise ValueError(f"signal.windows.gaussian(): Standard deviation must be positive, "
                         f"got: {std} instead.")
    if M == 0:
        return _trivial(M, dtype, device, requires_grad)
    start = -(M if not sym and M > 1 else M - 1) / 2.0
    constant = 1 / (std * math.sqrt(2))
    k = _points(start * constant, constant, M, device)
    return _finish(_c().exp(-(k * k)), dtype, requires_grad)


def _i0_terms(beta):
    """How many power-series terms of I0 reach float64 precision for arguments up to beta."""
    q = (beta / 2.0) ** 2
    term, total, k = 1.0, 1.0, 0
    while True:
        k += 1
        term *= q / (k * k)
        total += term
        if term < 1e-17 * total and k > q ** 0.5:
            return k, total


def _i0(x, terms):
    """The modified Bessel function I0 by its power series sum ((x/2)^k / k!)², float64."""
    q = x * x * 0.25
    term = _c().ones_like(x)
    total = term
    for k in range(1, terms + 1):
        term = term * q / float(k * k)
        total = total + term
    return total


def kaiser(M, *, beta=12.0, sym=True, dtype=None, layout=None, device=None,
           requires_grad=False):
    """kaiser(M, *, beta=12.0, sym=True, dtype=None, layout=torch.strided, device=None, requires_grad=False) -> Tensor

    The Kaiser window I0(beta sqrt(1 - (2n / N - 1)²)) / I0(beta), N = M - 1 if sym else M.
    """
    dtype = _checks("kaiser", M, dtype)
    if beta < 0:
        raise ValueError(f"signal.windows.kaiser(): beta must be non-negative, got: {beta} "
                         "instead.")
    trivial = _trivial(M, dtype, device, requires_grad)
    if trivial is not None:
        return trivial
    c = _c()
    beta = float(beta)
    step = 2.0 * beta / (M if not sym else M - 1)
    k = _points(-beta, step, M, device)
    k = c.clamp(k, max=beta)
    terms, i0_beta = _i0_terms(beta)
    arg = c.sqrt(c.clamp(beta * beta - k * k, min=0.0))
    return _finish(_i0(arg, terms) / i0_beta, dtype, requires_grad)


def general_cosine(M, *, a, sym=True, dtype=None, layout=None, device=None,
                   requires_grad=False):
    """general_cosine(M, *, a, sym=True, dtype=None, layout=torch.strided, device=None, requires_grad=False) -> Tensor

    The generalized cosine window sum_i (-1)^i a_i cos(2π i n / N), N = M - 1 if sym else M.
    """
    dtype = _checks("general_cosine", M, dtype)
    trivial = _trivial(M, dtype, device, requires_grad)
    if trivial is not None:
        return trivial
    if not isinstance(a, Iterable):
        raise TypeError("signal.windows.general_cosine(): Coefficients must be a list/tuple")
    a = list(a)
    if not a:
        raise ValueError("signal.windows.general_cosine(): Coefficients cannot be empty")
    k = _points(0.0, 2 * math.pi / (M if not sym else M - 1), M, device)
    out = None
    for i, w in enumerate(a):
        term = (-1) ** i * float(w) * _c().cos(k * float(i))
        out = term if out is None else out + term
    return _finish(out, dtype, requires_grad)


def general_hamming(M, *, alpha=0.54, sym=True, dtype=None, layout=None, device=None,
                    requires_grad=False):
    """general_hamming(M, *, alpha=0.54, sym=True, dtype=None, layout=torch.strided, device=None, requires_grad=False) -> Tensor

    The generalized Hamming window alpha - (1 - alpha) cos(2π n / N).
    """
    return general_cosine(M, a=[alpha, 1.0 - alpha], sym=sym, dtype=dtype, device=device,
                          requires_grad=requires_grad)


def hamming(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """hamming(M, *, sym=True, dtype=None, layout=torch.strided, device=None, requires_grad=False) -> Tensor

    The Hamming window 0.54 - 0.46 cos(2π n / N).
    """
    return general_hamming(M, sym=sym, dtype=dtype, device=device,
                           requires_grad=requires_grad)


def hann(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """hann(M, *, sym=True, dtype=None, layout=torch.strided, device=None, requires_grad=False) -> Tensor

    The Hann window 0.5 - 0.5 cos(2π n / N).
    """
    return general_hamming(M, alpha=0.5, sym=sym, dtype=dtype, device=device,
                           requires_grad=requires_grad)


def blackman(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """blackman(M, *, sym=True, dtype=None, layout=torch.strided, device=None, requires_grad=False) -> Tensor

    The Blackman window 0.42 - 0.5 cos(2π n / N) + 0.08 cos(4π n / N).
    """
    _checks("blackman", M, dtype)
    return general_cosine(M, a=[0.42, 0.5, 0.08], sym=sym, dtype=dtype, device=device,
                          requires_grad=requires_grad)


def bartlett(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """bartlett(M, *, sym=True, dtype=None, layout=torch.strided, device=None, requires_grad=False) -> Tensor

    The triangular Bartlett window 1 - |2n / N - 1|.
    """
    dtype = _checks("bartlett", M, dtype)
    trivial = _trivial(M, dtype, device, requires_grad)
    if trivial is not None:
        return trivial
    k = _points(-1.0, 2.0 / (M if not sym else M - 1), M, device)
    return _finish(1 - _c().abs(k), dtype, requires_grad)


def nuttall(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """nuttall(M, *, sym=True, dtype=None, layout=torch.strided, device=None, requires_grad=False) -> Tensor

    Nuttall's minimum 4-term Blackman-Harris window.
    """
    return general_cosine(M, a=[0.3635819, 0.4891775, 0.1365995, 0.0106411], sym=sym,
                          dtype=dtype, device=device, requires_grad=requires_grad)
