"""Standard-gamma sampling on the frontend API, with implicit reparameterization gradients.

Sampling: Marsaglia & Tsang (2000), vectorized: every element draws a normal and a uniform
per round and keeps its first accepted candidate (acceptance >= 95% per round, so few rounds);
shape < 1 uses Gamma(a) = Gamma(a + 1) * U ** (1 / a). Draws come from corelib's default
generator, so ``corelib.manual_seed`` makes them reproducible on every device.

Gradient (as PyTorch's rsample, "implicit reparameterization", Figurnov et al. 2018):
dx/da = -(dP(a, x)/da) / p(x; a), with P the regularized lower incomplete gamma function
written as P(a, x) = sum_n exp(-x + (a + n) log x - lgamma(a + n + 1)), whose derivative in a
is the same sum weighted by (log x - digamma(a + n + 1)). The sum runs in float64 over a window
of terms around its peak (see _dx_dalpha); its value reaches autograd through
``x.detach() + (a - a.detach()) * dxda`` (first-order gradients).
"""
from __future__ import annotations

import math

import corelib


def _sample(alpha):
    a = alpha.detach()
    shape, dtype, device = tuple(a.shape), a.dtype, a.device
    boost = a < 1
    a1 = corelib.where(boost, a + 1, a)
    d = a1 - 1.0 / 3.0
    c = 1.0 / corelib.sqrt(9.0 * d)
    out = corelib.zeros(shape, dtype=dtype, device=device)
    done = corelib.zeros(shape, dtype=corelib.bool, device=device)
    for _ in range(1000):
        z = corelib.randn(shape, dtype=dtype, device=device)
        u = corelib.rand(shape, dtype=dtype, device=device)
        v = 1 + c * z
        v3 = v * v * v
        ok = (v > 0) & (corelib.log(u) < 0.5 * z * z + d - d * v3 +
                        d * corelib.log(v3.clamp(min=corelib.finfo(dtype).tiny)))
        out = corelib.where(ok & ~done, d * v3, out)
        done = done | ok
        if bool(done.all().item()):
            break
    if bool(boost.any().item()):
        u = corelib.rand(shape, dtype=dtype, device=device)
        out = corelib.where(boost, out * u.pow(1.0 / a), out)
    return out.clamp(min=corelib.finfo(dtype).tiny)


def _dx_dalpha(x, a):
    """d sample / d shape for standard-gamma samples ``x`` of shape ``a`` (float64 sum).

    The terms of the series peak near n = x - a with a spread of about sqrt(x); each element
    sums the window n0 .. n0 + K - 1 around its peak (the terms left out are below e**-30 of
    the largest), with lgamma/digamma of a + n + 1 continued from n0 by cumulative sums of
    log(a + k) and 1 / (a + k).
    """
    x64 = x.detach().double().clamp(min=1e-300)
    a64 = a.detach().double()
    xmax = float(x64.max().item()) if x64.numel() else 0.0
    n_terms = int(16 * math.sqrt(xmax) + 30)
    n0 = (x64 - a64 - 8 * corelib.sqrt(x64) - 8).clamp(min=0).floor()
    k = corelib.arange(n_terms, dtype=corelib.float64, device=x.device)
    xe, ae, ne = x64.unsqueeze(-1), a64.unsqueeze(-1), n0.unsqueeze(-1)
    base = ae + ne + 1                                   # a + n0 + 1
    steps = base + k[:-1]                                # a + n + 1 for n = n0 .. n0+K-2
    zero = corelib.zeros(tuple(x64.shape) + (1,), dtype=corelib.float64, device=x.device)
    lgam = corelib.lgamma(base) + corelib.cat([zero, corelib.cumsum(corelib.log(steps), -1)],
                                              -1)
    digam = corelib.digamma(base) + corelib.cat([zero, corelib.cumsum(1.0 / steps, -1)], -1)
    log_x = corelib.log(xe)
    log_terms = -xe + (ae + ne + k) * log_x - lgam
    dP = (corelib.exp(log_terms) * (log_x - digam)).sum(-1)
    log_pdf = -x64 + (a64 - 1) * corelib.log(x64) - corelib.lgamma(a64)
    grad = -dP / corelib.exp(log_pdf)
    return corelib.nan_to_num(grad, nan=0.0, posinf=0.0, neginf=0.0).to(x.dtype)


def standard_gamma(alpha):
    """Gamma(alpha, 1) samples shaped like ``alpha``, differentiable in ``alpha``."""
    x = _sample(alpha)
    if alpha.requires_grad and corelib.is_grad_enabled():
        dxda = _dx_dalpha(x, alpha)
        return x + (alpha - alpha.detach()) * dxda
    return x


def regularized_gamma_p(a, x):
    """P(a, x), the regularized lower incomplete gamma function (the Gamma(a, 1) CDF at x),
    differentiable in both: the series sum_n exp(-x + (a + n) log x - lgamma(a + n + 1)) over
    the window of terms around its peak (as in _dx_dalpha), in the inputs' dtype."""
    a, x = corelib.broadcast_tensors(a, x)
    positive = x > 0
    xs = corelib.where(positive, x, 1.0)
    xd = xs.detach()
    xmax = float(xd.max().item()) if xd.numel() else 0.0
    n_terms = int(16 * math.sqrt(max(xmax, 0.0)) + 30)
    n0 = (xd - a.detach() - 8 * corelib.sqrt(xd) - 8).clamp(min=0).floor()
    k = corelib.arange(n_terms, dtype=x.dtype, device=x.device)
    xe, ae, ne = xs.unsqueeze(-1), a.unsqueeze(-1), n0.unsqueeze(-1)
    base = ae + ne + 1
    steps = base + k[:-1]
    zero = corelib.zeros(tuple(xs.shape) + (1,), dtype=x.dtype, device=x.device)
    lgam = corelib.lgamma(base) + corelib.cat([zero, corelib.cumsum(corelib.log(steps), -1)],
                                              -1)
    p = corelib.exp(-xe + (ae + ne + k) * corelib.log(xe) - lgam).sum(-1)
    return corelib.where(positive, p.clamp(max=1.0), 0.0)
