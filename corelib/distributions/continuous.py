"""Continuous univariate distributions: Normal, Uniform, Exponential, Laplace, Gamma, Chi2,
Beta, Dirichlet (PyTorch's formulas, written with corelib's frontend ops)."""
from __future__ import annotations

import math
from numbers import Number, Real

import corelib
from corelib import Size

from . import constraints
from ._gamma import regularized_gamma_p, standard_gamma
from .distribution import Distribution
from .utils import _standard_normal, broadcast_all

__all__ = ["ExponentialFamily", "Normal", "Uniform", "Exponential", "Laplace", "Gamma", "Chi2",
           "Beta", "Dirichlet"]


def _shape_of(*values):
    if all(isinstance(v, Number) for v in values):
        return Size()
    return None


class ExponentialFamily(Distribution):
    """ExponentialFamily(batch_shape=corelib.Size(), event_shape=corelib.Size(), validate_args=None)

    Base class of exponential-family distributions (PyTorch's class, for isinstance checks).
    """


class Normal(ExponentialFamily):
    """Normal(loc, scale, validate_args=None)

    The normal (Gaussian) distribution with mean ``loc`` and standard deviation ``scale``.
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, loc, scale, validate_args=None):
        scalar = _shape_of(loc, scale)
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(scalar if scalar is not None else self.loc.shape,
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """expand(batch_shape, _instance=None) -> Normal

        The distribution with its parameters expanded to ``batch_shape``.
        """
        return self._expand_params(Normal, batch_shape, ("loc", "scale"), _instance)

    @property
    def mean(self):
        """loc."""
        return self.loc

    @property
    def mode(self):
        """loc."""
        return self.loc

    @property
    def stddev(self):
        """scale."""
        return self.scale

    @property
    def variance(self):
        """scale ** 2."""
        return self.stddev.pow(2)

    def sample(self, sample_shape=Size()):
        """sample(sample_shape=corelib.Size()) -> Tensor

        Normal draws of shape ``sample_shape + batch_shape`` (no gradient).
        """
        with corelib.no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=Size()):
        """rsample(sample_shape=corelib.Size()) -> Tensor

        ``loc + scale * eps`` with standard-normal ``eps`` (differentiable).
        """
        shape = self._extended_shape(sample_shape)
        eps = _standard_normal(shape, self.loc.dtype, self.loc.device)
        return self.loc + eps * self.scale

    def log_prob(self, value):
        """log_prob(value) -> Tensor

        The normal log density at ``value``.
        """
        if self._validate_args:
            self._validate_sample(value)
        var = self.scale ** 2
        log_scale = math.log(self.scale) if isinstance(self.scale, Real) else self.scale.log()
        return -((value - self.loc) ** 2) / (2 * var) - log_scale - \
            math.log(math.sqrt(2 * math.pi))

    def cdf(self, value):
        """cdf(value) -> Tensor

        ``0.5 * (1 + erf((value - loc) / (scale * sqrt(2))))``.
        """
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 * (1 + corelib.erf((value - self.loc) * self.scale.reciprocal() /
                                      math.sqrt(2)))

    def icdf(self, value):
        """icdf(value) -> Tensor

        ``loc + scale * sqrt(2) * erfinv(2 * value - 1)``.
        """
        return self.loc + self.scale * corelib.erfinv(2 * value - 1) * math.sqrt(2)

    def entropy(self):
        """entropy() -> Tensor

        ``0.5 + 0.5 * log(2 pi) + log(scale)``.
        """
        return 0.5 + 0.5 * math.log(2 * math.pi) + corelib.log(self.scale)


class Uniform(Distribution):
    """Uniform(low, high, validate_args=None)

    The uniform distribution on [low, high) (samples) with support checked as [low, high].
    """

    has_rsample = True

    @property
    def arg_constraints(self):
        """low < high: {"low": less_than(high), "high": greater_than(low)}."""
        return {"low": constraints.less_than(self.high),
                "high": constraints.greater_than(self.low)}

    def __init__(self, low, high, validate_args=None):
        scalar = _shape_of(low, high)
        self.low, self.high = broadcast_all(low, high)
        super().__init__(scalar if scalar is not None else self.low.shape,
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """expand(batch_shape, _instance=None) -> Uniform

        The distribution with its parameters expanded to ``batch_shape``.
        """
        return self._expand_params(Uniform, batch_shape, ("low", "high"), _instance)

    @property
    def mean(self):
        """(high + low) / 2."""
        return (self.high + self.low) / 2

    @property
    def mode(self):
        """NaN (every point of the support is a mode)."""
        return float("nan") * self.high

    @property
    def stddev(self):
        """(high - low) / sqrt(12)."""
        return (self.high - self.low) / 12 ** 0.5

    @property
    def variance(self):
        """(high - low) ** 2 / 12."""
        return (self.high - self.low).pow(2) / 12

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        """[low, high]."""
        return constraints.interval(self.low, self.high)

    def rsample(self, sample_shape=Size()):
        """rsample(sample_shape=corelib.Size()) -> Tensor

        ``low + (high - low) * U`` with standard-uniform ``U`` (differentiable).
        """
        shape = self._extended_shape(sample_shape)
        rand = corelib.rand(tuple(shape), dtype=self.low.dtype, device=self.low.device)
        return self.low + rand * (self.high - self.low)

    def log_prob(self, value):
        """log_prob(value) -> Tensor

        ``-log(high - low)`` inside the support, ``-inf`` outside.
        """
        if self._validate_args:
            self._validate_sample(value)
        lb = self.low.le(value).type_as(self.low)
        ub = self.high.gt(value).type_as(self.low)
        return corelib.log(lb.mul(ub)) - corelib.log(self.high - self.low)

    def cdf(self, value):
        """cdf(value) -> Tensor

        ``clamp((value - low) / (high - low), 0, 1)``.
        """
        if self._validate_args:
            self._validate_sample(value)
        result = (value - self.low) / (self.high - self.low)
        return result.clamp(min=0, max=1)

    def icdf(self, value):
        """icdf(value) -> Tensor

        ``low + value * (high - low)``.
        """
        return value * (self.high - self.low) + self.low

    def entropy(self):
        """entropy() -> Tensor

        ``log(high - low)``.
        """
        return corelib.log(self.high - self.low)


class Exponential(ExponentialFamily):
    """Exponential(rate, validate_args=None)

    The exponential distribution with rate ``rate`` (mean ``1 / rate``).
    """

    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        batch_shape = Size() if isinstance(rate, Number) else self.rate.shape
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """expand(batch_shape, _instance=None) -> Exponential

        The distribution with its rate expanded to ``batch_shape``.
        """
        return self._expand_params(Exponential, batch_shape, ("rate",), _instance)

    @property
    def mean(self):
        """1 / rate."""
        return self.rate.reciprocal()

    @property
    def mode(self):
        """0."""
        return corelib.zeros_like(self.rate)

    @property
    def stddev(self):
        """1 / rate."""
        return self.rate.reciprocal()

    @property
    def variance(self):
        """rate ** -2."""
        return self.rate.pow(-2)

    def rsample(self, sample_shape=Size()):
        """rsample(sample_shape=corelib.Size()) -> Tensor

        ``-log1p(-U) / rate`` with standard-uniform ``U`` (differentiable in rate).
        """
        shape = self._extended_shape(sample_shape)
        u = corelib.rand(tuple(shape), dtype=self.rate.dtype, device=self.rate.device)
        return -corelib.log1p(-u) / self.rate

    def log_prob(self, value):
        """log_prob(value) -> Tensor

        ``log(rate) - rate * value``.
        """
        if self._validate_args:
            self._validate_sample(value)
        return self.rate.log() - self.rate * value

    def cdf(self, value):
        """cdf(value) -> Tensor

        ``1 - exp(-rate * value)``.
        """
        if self._validate_args:
            self._validate_sample(value)
        return 1 - corelib.exp(-self.rate * value)

    def icdf(self, value):
        """icdf(value) -> Tensor

        ``-log1p(-value) / rate``.
        """
        return -corelib.log1p(-value) / self.rate

    def entropy(self):
        """entropy() -> Tensor

        ``1 - log(rate)``.
        """
        return 1.0 - corelib.log(self.rate)


class Laplace(Distribution):
    """Laplace(loc, scale, validate_args=None)

    The Laplace (double exponential) distribution with location ``loc`` and scale ``scale``.
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        scalar = _shape_of(loc, scale)
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(scalar if scalar is not None else self.loc.shape,
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """expand(batch_shape, _instance=None) -> Laplace

        The distribution with its parameters expanded to ``batch_shape``.
        """
        return self._expand_params(Laplace, batch_shape, ("loc", "scale"), _instance)

    @property
    def mean(self):
        """loc."""
        return self.loc

    @property
    def mode(self):
        """loc."""
        return self.loc

    @property
    def variance(self):
        """2 * scale ** 2."""
        return 2 * self.scale.pow(2)

    @property
    def stddev(self):
        """sqrt(2) * scale."""
        return (2 ** 0.5) * self.scale

    def rsample(self, sample_shape=Size()):
        """rsample(sample_shape=corelib.Size()) -> Tensor

        ``loc - scale * sign(U) * log1p(-|U|)`` with ``U`` uniform on (-1, 1) (differentiable).
        """
        shape = self._extended_shape(sample_shape)
        eps = corelib.finfo(self.loc.dtype).eps
        u = corelib.rand(tuple(shape), dtype=self.loc.dtype, device=self.loc.device)
        u = u * (2 - eps) + (eps - 1)
        return self.loc - self.scale * u.sign() * corelib.log1p(-u.abs())

    def log_prob(self, value):
        """log_prob(value) -> Tensor

        ``-log(2 scale) - |value - loc| / scale``.
        """
        if self._validate_args:
            self._validate_sample(value)
        return -corelib.log(2 * self.scale) - corelib.abs(value - self.loc) / self.scale

    def cdf(self, value):
        """cdf(value) -> Tensor

        ``0.5 - 0.5 * sign(value - loc) * expm1(-|value - loc| / scale)``.
        """
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 - 0.5 * (value - self.loc).sign() * corelib.expm1(
            -(value - self.loc).abs() / self.scale)

    def icdf(self, value):
        """icdf(value) -> Tensor

        ``loc - scale * sign(value - 0.5) * log1p(-2 |value - 0.5|)``.
        """
        term = value - 0.5
        return self.loc - self.scale * term.sign() * corelib.log1p(-2 * term.abs())

    def entropy(self):
        """entropy() -> Tensor

        ``1 + log(2 scale)``.
        """
        return 1 + corelib.log(2 * self.scale)


class Gamma(ExponentialFamily):
    """Gamma(concentration, rate, validate_args=None)

    The gamma distribution with shape ``concentration`` and inverse scale ``rate``.
    """

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, concentration, rate, validate_args=None):
        scalar = _shape_of(concentration, rate)
        self.concentration, self.rate = broadcast_all(concentration, rate)
        super().__init__(scalar if scalar is not None else self.concentration.shape,
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """expand(batch_shape, _instance=None) -> Gamma

        The distribution with its parameters expanded to ``batch_shape``.
        """
        return self._expand_params(Gamma, batch_shape, ("concentration", "rate"), _instance)

    @property
    def mean(self):
        """concentration / rate."""
        return self.concentration / self.rate

    @property
    def mode(self):
        """max(concentration - 1, 0) / rate."""
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        """concentration / rate ** 2."""
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=Size()):
        """rsample(sample_shape=corelib.Size()) -> Tensor

        Gamma draws (Marsaglia-Tsang), differentiable in both parameters (implicit
        reparameterization for the concentration).
        """
        shape = tuple(self._extended_shape(sample_shape))
        value = standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)
        return value.clamp(min=corelib.finfo(value.dtype).tiny)

    def log_prob(self, value):
        """log_prob(value) -> Tensor

        ``xlogy(c, rate) + xlogy(c - 1, value) - rate * value - lgamma(c)``.
        """
        value = corelib.as_tensor(value, dtype=self.rate.dtype, device=self.rate.device)
        if self._validate_args:
            self._validate_sample(value)
        return (corelib.special.xlogy(self.concentration, self.rate) +
                corelib.special.xlogy(self.concentration - 1, value) -
                self.rate * value - corelib.lgamma(self.concentration))

    def cdf(self, value):
        """cdf(value) -> Tensor

        ``P(concentration, rate * value)``, the regularized lower incomplete gamma function.
        """
        if self._validate_args:
            self._validate_sample(value)
        return regularized_gamma_p(self.concentration, self.rate * value)

    def entropy(self):
        """entropy() -> Tensor

        ``c - log(rate) + lgamma(c) + (1 - c) * digamma(c)``.
        """
        c = self.concentration
        return c - corelib.log(self.rate) + corelib.lgamma(c) + (1.0 - c) * corelib.digamma(c)


class Chi2(Gamma):
    """Chi2(df, validate_args=None)

    The chi-squared distribution with ``df`` degrees of freedom (Gamma(df / 2, 1 / 2)).
    """

    arg_constraints = {"df": constraints.positive}

    def __init__(self, df, validate_args=None):
        super().__init__(0.5 * df, 0.5, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """expand(batch_shape, _instance=None) -> Chi2

        The distribution with its parameter expanded to ``batch_shape``.
        """
        new = self._get_checked_instance(Chi2, _instance)
        return super().expand(batch_shape, new)

    @property
    def df(self):
        """The degrees of freedom (2 * concentration)."""
        return self.concentration * 2


class Dirichlet(ExponentialFamily):
    """Dirichlet(concentration, validate_args=None)

    The Dirichlet distribution over the simplex, with concentration vector ``concentration``.
    """

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args=None):
        if concentration.ndim < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        batch_shape, event_shape = concentration.shape[:-1], concentration.shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """expand(batch_shape, _instance=None) -> Dirichlet

        The distribution with its concentration expanded to ``batch_shape``.
        """
        return self._expand_params(Dirichlet, batch_shape, ("concentration",), _instance,
                                   {"concentration": 1})

    def rsample(self, sample_shape=Size()):
        """rsample(sample_shape=corelib.Size()) -> Tensor

        Normalized gamma draws (differentiable through the gamma reparameterization).
        """
        shape = tuple(self._extended_shape(sample_shape))
        g = standard_gamma(self.concentration.expand(shape))
        x = g / g.sum(-1, keepdim=True)
        finfo = corelib.finfo(x.dtype)
        return x.clamp(min=finfo.tiny, max=1 - finfo.eps)

    def log_prob(self, value):
        """log_prob(value) -> Tensor

        ``sum(xlogy(c - 1, value)) + lgamma(sum c) - sum(lgamma(c))``.
        """
        if self._validate_args:
            self._validate_sample(value)
        c = self.concentration
        return (corelib.special.xlogy(c - 1.0, value).sum(-1) + corelib.lgamma(c.sum(-1)) -
                corelib.lgamma(c).sum(-1))

    @property
    def mean(self):
        """concentration / sum(concentration)."""
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self):
        """(c - 1) / (sum(c) - k), with PyTorch's rule where some c < 1."""
        concentrationm1 = (self.concentration - 1).clamp(min=0.0)
        mode = concentrationm1 / concentrationm1.sum(-1, keepdim=True)
        mask = (self.concentration < 1).all(dim=-1)
        k = self.concentration.shape[-1]
        onehot = corelib.nn.functional.one_hot(mode.argmax(dim=-1), k).to(mode)
        return corelib.where(mask.unsqueeze(-1), onehot, mode)

    @property
    def variance(self):
        """c (c0 - c) / (c0 ** 2 (c0 + 1)), c0 = sum(c)."""
        con0 = self.concentration.sum(-1, keepdim=True)
        return self.concentration * (con0 - self.concentration) / (con0.pow(2) * (con0 + 1))

    def entropy(self):
        """entropy() -> Tensor

        The Dirichlet entropy (log multivariate beta and digamma terms).
        """
        c = self.concentration
        k = c.shape[-1]
        a0 = c.sum(-1)
        return (corelib.lgamma(c).sum(-1) - corelib.lgamma(a0) - (k - a0) * corelib.digamma(a0) -
                ((c - 1.0) * corelib.digamma(c)).sum(-1))


class Beta(ExponentialFamily):
    """Beta(concentration1, concentration0, validate_args=None)

    The beta distribution on [0, 1] with shapes ``concentration1`` (alpha) and
    ``concentration0`` (beta).
    """

    arg_constraints = {"concentration1": constraints.positive,
                       "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        if isinstance(concentration1, Real) and isinstance(concentration0, Real):
            both = corelib.tensor([float(concentration1), float(concentration0)])
        else:
            concentration1, concentration0 = broadcast_all(concentration1, concentration0)
            both = corelib.stack([concentration1, concentration0], -1)
        self._dirichlet = Dirichlet(both, validate_args=validate_args)
        super().__init__(self._dirichlet._batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """expand(batch_shape, _instance=None) -> Beta

        The distribution with its parameters expanded to ``batch_shape``.
        """
        new = self._get_checked_instance(Beta, _instance)
        batch_shape = Size(batch_shape)
        new._dirichlet = self._dirichlet.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        """c1 / (c1 + c0)."""
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self):
        """The Dirichlet mode's first component."""
        return self._dirichlet.mode[..., 0]

    @property
    def variance(self):
        """c1 c0 / ((c1 + c0) ** 2 (c1 + c0 + 1))."""
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total.pow(2) * (total + 1))

    def rsample(self, sample_shape=()):
        """rsample(sample_shape=()) -> Tensor

        Beta draws as the first component of Dirichlet draws (differentiable).
        """
        return self._dirichlet.rsample(sample_shape).select(-1, 0)

    def log_prob(self, value):
        """log_prob(value) -> Tensor

        The beta log density at ``value``.
        """
        if self._validate_args:
            self._validate_sample(value)
        heads_tails = corelib.stack([value, 1.0 - value], -1)
        return self._dirichlet.log_prob(heads_tails)

    def entropy(self):
        """entropy() -> Tensor

        The beta entropy.
        """
        return self._dirichlet.entropy()

    @property
    def concentration1(self):
        """alpha."""
        result = self._dirichlet.concentration[..., 0]
        return corelib.tensor([result.item()]) if isinstance(result, float) else result

    @property
    def concentration0(self):
        """beta."""
        return self._dirichlet.concentration[..., 1]
