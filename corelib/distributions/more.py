"""More of PyTorch's distributions: Cauchy, HalfNormal, StudentT, Geometric, Multinomial."""
from __future__ import annotations

import math
from numbers import Number

import corelib
from corelib import Size
from corelib.nn import functional as F

from . import constraints
from .composite import TransformedDistribution
from .continuous import Chi2, Normal
from .discrete import Binomial, Categorical, _BOTH
from .distribution import Distribution
from .transforms import AbsTransform
from .utils import (_standard_normal, broadcast_all, lazy_property, logits_to_probs,
                    probs_to_logits)

__all__ = ["Cauchy", "HalfNormal", "StudentT", "Geometric", "Multinomial"]


def _full_like_shape(dist, value, like):
    return corelib.full(tuple(dist._extended_shape()), value, dtype=like.dtype,
                        device=like.device)


class Cauchy(Distribution):
    """Cauchy(loc, scale, validate_args=None)

    The Cauchy (Lorentz) distribution with location ``loc`` and half-width ``scale``.
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        scalar = isinstance(loc, Number) and isinstance(scale, Number)
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(Size() if scalar else self.loc.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """expand(batch_shape, _instance=None) -> Cauchy

        The distribution with its parameters expanded to ``batch_shape``.
        """
        return self._expand_params(Cauchy, batch_shape, ("loc", "scale"), _instance)

    @property
    def mean(self):
        """NaN (undefined)."""
        return _full_like_shape(self, float("nan"), self.loc)

    @property
    def mode(self):
        """loc."""
        return self.loc

    @property
    def variance(self):
        """inf."""
        return _full_like_shape(self, float("inf"), self.loc)

    def rsample(self, sample_shape=Size()):
        """rsample(sample_shape=corelib.Size()) -> Tensor

        ``loc + scale * tan(pi (U - 1/2))`` with standard-uniform ``U`` (differentiable).
        """
        shape = tuple(self._extended_shape(sample_shape))
        u = corelib.rand(shape, dtype=self.loc.dtype, device=self.loc.device)
        return self.loc + corelib.tan(math.pi * (u - 0.5)) * self.scale

    def log_prob(self, value):
        """log_prob(value) -> Tensor

        ``-log(pi) - log(scale) - log1p(((value - loc) / scale) ** 2)``.
        """
        if self._validate_args:
            self._validate_sample(value)
        return (-math.log(math.pi) - self.scale.log() -
                (((value - self.loc) / self.scale) ** 2).log1p())

    def cdf(self, value):
        """cdf(value) -> Tensor

        ``atan((value - loc) / scale) / pi + 1/2``.
        """
        if self._validate_args:
            self._validate_sample(value)
        return corelib.atan((value - self.loc) / self.scale) / math.pi + 0.5

    def icdf(self, value):
        """icdf(value) -> Tensor

        ``loc + scale * tan(pi (value - 1/2))``.
        """
        return corelib.tan(math.pi * (value - 0.5)) * self.scale + self.loc

    def entropy(self):
        """entropy() -> Tensor

        ``log(4 pi) + log(scale)``.
        """
        return math.log(4 * math.pi) + self.scale.log()


class HalfNormal(TransformedDistribution):
    """HalfNormal(scale, validate_args=None)

    ``|X|`` for ``X ~ Normal(0, scale)``.
    """

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, scale, validate_args=None):
        base_dist = Normal(0, scale, validate_args=False)
        super().__init__(base_dist, AbsTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """expand(batch_shape, _instance=None) -> HalfNormal

        The distribution with its scale expanded to ``batch_shape``.
        """
        new = self._get_checked_instance(HalfNormal, _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def scale(self):
        """The underlying normal's standard deviation."""
        return self.base_dist.scale

    @property
    def mean(self):
        """scale * sqrt(2 / pi)."""
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def mode(self):
        """0."""
        return corelib.zeros_like(self.scale)

    @property
    def variance(self):
        """scale ** 2 (1 - 2 / pi)."""
        return self.scale.pow(2) * (1 - 2 / math.pi)

    def log_prob(self, value):
        """log_prob(value) -> Tensor

        The normal log density plus log 2 on [0, inf), -inf below.
        """
        if self._validate_args:
            self._validate_sample(value)
        log_prob = self.base_dist.log_prob(value) + math.log(2)
        return corelib.where(value >= 0, log_prob, float("-inf"))

    def cdf(self, value):
        """cdf(value) -> Tensor

        ``2 Phi(value / scale) - 1``.
        """
        if self._validate_args:
            self._validate_sample(value)
        return 2 * self.base_dist.cdf(value) - 1

    def icdf(self, prob):
        """icdf(prob) -> Tensor

        The normal's inverse CDF at ``(prob + 1) / 2``.
        """
        return self.base_dist.icdf((prob + 1) / 2)

    def entropy(self):
        """entropy() -> Tensor

        The normal's entropy minus log 2.
        """
        return self.base_dist.entropy() - math.log(2)


class StudentT(Distribution):
    """StudentT(df, loc=0.0, scale=1.0, validate_args=None)

    Student's t distribution with ``df`` degrees of freedom, location ``loc`` and scale
    ``scale``.
    """

    arg_constraints = {"df": constraints.positive, "loc": constraints.real,
                       "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, df, loc=0.0, scale=1.0, validate_args=None):
        self.df, self.loc, self.scale = broadcast_all(df, loc, scale)
        self._chi2 = Chi2(self.df)
        super().__init__(self.df.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """expand(batch_shape, _instance=None) -> StudentT

        The distribution with its parameters expanded to ``batch_shape``.
        """
        new = self._expand_params(StudentT, batch_shape, ("df", "loc", "scale"), _instance)
        new._chi2 = self._chi2.expand(batch_shape)
        return new

    @property
    def mean(self):
        """loc (NaN where df <= 1)."""
        return corelib.where(self.df <= 1, float("nan"), self.loc)

    @property
    def mode(self):
        """loc."""
        return self.loc

    @property
    def variance(self):
        """scale ** 2 df / (df - 2) (inf for 1 < df <= 2, NaN for df <= 1)."""
        m = self.scale.pow(2) * self.df / (self.df - 2)
        m = corelib.where((self.df <= 2) & (self.df > 1), float("inf"), m)
        return corelib.where(self.df <= 1, float("nan"), m)

    def rsample(self, sample_shape=Size()):
        """rsample(sample_shape=corelib.Size()) -> Tensor

        ``loc + scale * X / sqrt(Z / df)`` with standard-normal X and chi-squared Z
        (differentiable in all parameters).
        """
        shape = self._extended_shape(sample_shape)
        X = _standard_normal(shape, self.df.dtype, self.df.device)
        Z = self._chi2.rsample(sample_shape)
        Y = X * corelib.rsqrt(Z / self.df)
        return self.loc + self.scale * Y

    def log_prob(self, value):
        """log_prob(value) -> Tensor

        The Student-t log density at ``value``.
        """
        if self._validate_args:
            self._validate_sample(value)
        y = (value - self.loc) / self.scale
        Z = (self.scale.log() + 0.5 * self.df.log() + 0.5 * math.log(math.pi) +
             corelib.lgamma(0.5 * self.df) - corelib.lgamma(0.5 * (self.df + 1.0)))
        return -0.5 * (self.df + 1.0) * corelib.log1p(y ** 2.0 / self.df) - Z

    def entropy(self):
        """entropy() -> Tensor

        The Student-t entropy.
        """
        lbeta = (corelib.lgamma(0.5 * self.df) + math.lgamma(0.5) -
                 corelib.lgamma(0.5 * (self.df + 1)))
        return (self.scale.log() + 0.5 * (self.df + 1) * (
            corelib.digamma(0.5 * (self.df + 1)) - corelib.digamma(0.5 * self.df)) +
            0.5 * self.df.log() + lbeta)


class Geometric(Distribution):
    """Geometric(probs=None, logits=None, validate_args=None)

    The number of failures before the first success in Bernoulli(``probs``) trials.
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError(_BOTH)
        if probs is not None:
            (self.probs,) = broadcast_all(probs)
            param = self.probs
        else:
            (self.logits,) = broadcast_all(logits)
            param = self.logits
        scalar = isinstance(probs if probs is not None else logits, Number)
        super().__init__(Size() if scalar else param.shape, validate_args=validate_args)
        if self._validate_args and probs is not None and \
                not bool((self.probs > 0).all().item()):
            raise ValueError(f"Expected parameter probs ({type(self.probs).__name__} of shape "
                             f"{tuple(self.probs.shape)}) of distribution {self!r} to satisfy "
                             f"the constraint Interval(lower_bound=0.0, upper_bound=1.0), but "
                             f"found invalid values:\n{self.probs}")

    def expand(self, batch_shape, _instance=None):
        """expand(batch_shape, _instance=None) -> Geometric

        The distribution with its parameter expanded to ``batch_shape``.
        """
        return self._expand_params(Geometric, batch_shape, ("probs", "logits"), _instance)

    @property
    def mean(self):
        """1 / probs - 1."""
        return 1.0 / self.probs - 1.0

    @property
    def mode(self):
        """0."""
        return corelib.zeros_like(self.probs)

    @property
    def variance(self):
        """(1 / probs - 1) / probs."""
        return (1.0 / self.probs - 1.0) / self.probs

    @lazy_property
    def logits(self):
        """log(probs / (1 - probs))."""
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        """sigmoid(logits)."""
        return logits_to_probs(self.logits, is_binary=True)

    def sample(self, sample_shape=Size()):
        """sample(sample_shape=corelib.Size()) -> Tensor

        ``floor(log(U) / log1p(-probs))`` with standard-uniform ``U``.
        """
        shape = tuple(self._extended_shape(sample_shape))
        tiny = corelib.finfo(self.probs.dtype).tiny
        with corelib.no_grad():
            u = corelib.rand(shape, dtype=self.probs.dtype, device=self.probs.device)
            u = u.clamp(min=tiny)
            return (u.log() / (-self.probs).log1p()).floor()

    def log_prob(self, value):
        """log_prob(value) -> Tensor

        ``value * log1p(-probs) + log(probs)``.
        """
        if self._validate_args:
            self._validate_sample(value)
        value, probs = broadcast_all(value, self.probs)
        probs = corelib.where((probs == 1) & (value == 0), 0.0, probs)
        return value * (-probs).log1p() + self.probs.log()

    def entropy(self):
        """entropy() -> Tensor

        ``binary_cross_entropy_with_logits(logits, probs) / probs``.
        """
        return F.binary_cross_entropy_with_logits(self.logits, self.probs,
                                                  reduction="none") / self.probs


class Multinomial(Distribution):
    """Multinomial(total_count=1, probs=None, logits=None, validate_args=None)

    Counts of each of K categories in ``total_count`` independent Categorical draws.
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = total_count
        self._categorical = Categorical(probs=probs, logits=logits)
        self._binomial = Binomial(total_count=total_count, probs=self.probs)
        batch_shape = self._categorical.batch_shape
        event_shape = self._categorical.param_shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args)

    def expand(self, batch_shape, _instance=None):
        """expand(batch_shape, _instance=None) -> Multinomial

        The distribution with its parameter expanded to ``batch_shape``.
        """
        new = self._get_checked_instance(Multinomial, _instance)
        batch_shape = Size(batch_shape)
        new.total_count = self.total_count
        new._categorical = self._categorical.expand(batch_shape)
        new._binomial = Binomial(total_count=self.total_count, probs=new._categorical.probs,
                                 validate_args=False)
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=1)
    def support(self):
        """Nonnegative integer vectors summing to total_count."""
        return constraints.multinomial(self.total_count)

    @property
    def mean(self):
        """total_count * probs."""
        return self.probs * self.total_count

    @property
    def variance(self):
        """total_count * probs * (1 - probs)."""
        return self.total_count * self.probs * (1 - self.probs)

    @property
    def logits(self):
        """Normalized log-probabilities."""
        return self._categorical.logits

    @property
    def probs(self):
        """Normalized probabilities."""
        return self._categorical.probs

    @property
    def param_shape(self):
        """The shape of the defining parameter."""
        return self._categorical.param_shape

    def sample(self, sample_shape=Size()):
        """sample(sample_shape=corelib.Size()) -> Tensor

        Count vectors of shape ``sample_shape + batch_shape + (K,)``.
        """
        sample_shape = Size(sample_shape)
        k = self._categorical._num_events
        samples = self._categorical.sample(Size((self.total_count,) + tuple(sample_shape)))
        counts = F.one_hot(samples, k).sum(0)
        return counts.to(self.probs.dtype)

    def log_prob(self, value):
        """log_prob(value) -> Tensor

        The multinomial log-probability of the count vector ``value``.
        """
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        log_factorial_n = corelib.lgamma(value.sum(-1) + 1)
        log_factorial_xs = corelib.lgamma(value + 1).sum(-1)
        logits = corelib.where((value == 0) & (logits == float("-inf")), 0.0, logits)
        log_powers = (logits * value).sum(-1)
        return log_factorial_n - log_factorial_xs + log_powers

    def entropy(self):
        """entropy() -> Tensor

        The multinomial entropy (through the binomial marginals).
        """
        n = corelib.tensor(float(self.total_count), dtype=self.probs.dtype,
                           device=self.probs.device)
        cat_entropy = self._categorical.entropy()
        term1 = n * cat_entropy - corelib.lgamma(n + 1)
        support = self._binomial.enumerate_support(expand=False)[1:]
        binomial_probs = corelib.exp(self._binomial.log_prob(support))
        weights = corelib.lgamma(support + 1)
        return term1 + (binomial_probs * weights).sum((0, -1))
