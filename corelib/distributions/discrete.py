"""Discrete distributions: Bernoulli, Categorical, OneHotCategorical, Poisson, Binomial
(PyTorch's formulas, written with corelib's frontend ops)."""
from __future__ import annotations

from numbers import Number

import corelib
from corelib import Size
from corelib.nn import functional as F

from . import constraints
from .continuous import ExponentialFamily
from .distribution import Distribution
from .utils import broadcast_all, lazy_property, logits_to_probs, probs_to_logits

__all__ = ["Bernoulli", "Categorical", "OneHotCategorical", "OneHotCategoricalStraightThrough",
           "Poisson", "Binomial"]

_BOTH = "Either `probs` or `logits` must be specified, but not both."


def _expand_probs_logits(self, cls, batch_shape, _instance, event_dims=0, extra=()):
    new = self._get_checked_instance(cls, _instance)
    batch_shape = Size(batch_shape)
    for name in ("probs", "logits") + tuple(extra):
        if name in self.__dict__:
            value = self.__dict__[name]
            tail = tuple(value.shape[value.ndim - event_dims:]) if event_dims else ()
            setattr(new, name, value.expand(tuple(batch_shape) + tail))
            if name in ("probs", "logits"):
                new._param = getattr(new, name)
    return new, batch_shape


class Bernoulli(ExponentialFamily):
    """Bernoulli(probs=None, logits=None, validate_args=None)

    The Bernoulli distribution: 1 with probability ``probs`` (or ``sigmoid(logits)``), else 0.
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True
    _mean_carrier_measure = 0

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError(_BOTH)
        if probs is not None:
            is_scalar = isinstance(probs, Number)
            (self.probs,) = broadcast_all(probs)
        else:
            is_scalar = isinstance(logits, Number)
            (self.logits,) = broadcast_all(logits)
        self._param = self.probs if probs is not None else self.logits
        batch_shape = Size() if is_scalar else self._param.shape
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """expand(batch_shape, _instance=None) -> Bernoulli

        The distribution with its parameter expanded to ``batch_shape``.
        """
        new, batch_shape = _expand_probs_logits(self, Bernoulli, batch_shape, _instance)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        """probs."""
        return self.probs

    @property
    def mode(self):
        """1 where probs > 0.5, 0 where < 0.5, NaN at 0.5."""
        mode = (self.probs >= 0.5).to(self.probs)
        return corelib.where(self.probs == 0.5, float("nan"), mode)

    @property
    def variance(self):
        """probs * (1 - probs)."""
        return self.probs * (1 - self.probs)

    @lazy_property
    def logits(self):
        """log(probs / (1 - probs))."""
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        """sigmoid(logits)."""
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self):
        """The shape of the defining parameter."""
        return self._param.shape

    def sample(self, sample_shape=Size()):
        """sample(sample_shape=corelib.Size()) -> Tensor

        Bernoulli draws (0. or 1.) of shape ``sample_shape + batch_shape``.
        """
        shape = tuple(self._extended_shape(sample_shape))
        with corelib.no_grad():
            return corelib.bernoulli(self.probs.expand(shape))

    def log_prob(self, value):
        """log_prob(value) -> Tensor

        ``-binary_cross_entropy_with_logits(logits, value)``.
        """
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return -F.binary_cross_entropy_with_logits(logits, value, reduction="none")

    def entropy(self):
        """entropy() -> Tensor

        ``binary_cross_entropy_with_logits(logits, probs)``.
        """
        return F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")

    def enumerate_support(self, expand=True):
        """enumerate_support(expand=True) -> Tensor

        ``[0., 1.]`` along a new leading dimension (expanded over the batch when ``expand``).
        """
        values = corelib.arange(2, dtype=self._param.dtype, device=self._param.device)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values


class Categorical(Distribution):
    """Categorical(probs=None, logits=None, validate_args=None)

    The categorical distribution over ``{0, ..., K-1}`` given by ``probs`` (normalized over the
    last dim) or unnormalized log-probabilities ``logits``.
    """

    arg_constraints = {"probs": constraints.simplex,
                       "logits": constraints.independent(constraints.real, 1)}
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError(_BOTH)
        if probs is not None:
            if probs.ndim < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.probs = probs / probs.sum(-1, keepdim=True)
        else:
            if logits.ndim < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.logits = logits - logits.logsumexp(dim=-1, keepdim=True)
        self._param = self.probs if probs is not None else self.logits
        self._num_events = self._param.shape[-1]
        batch_shape = self._param.shape[:-1] if self._param.ndim > 1 else Size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """expand(batch_shape, _instance=None) -> Categorical

        The distribution with its parameter expanded to ``batch_shape``.
        """
        new, batch_shape = _expand_probs_logits(self, Categorical, batch_shape, _instance, 1)
        new._num_events = self._num_events
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        """{0, ..., K-1}."""
        return constraints.integer_interval(0, self._num_events - 1)

    @lazy_property
    def logits(self):
        """Normalized log-probabilities."""
        return probs_to_logits(self.probs)

    @lazy_property
    def probs(self):
        """Normalized probabilities."""
        return logits_to_probs(self.logits)

    @property
    def param_shape(self):
        """The shape of the defining parameter."""
        return self._param.shape

    @property
    def mean(self):
        """NaN (categories are unordered labels)."""
        return corelib.full(tuple(self._extended_shape()), float("nan"),
                            dtype=self.probs.dtype, device=self.probs.device)

    @property
    def mode(self):
        """The most probable category."""
        return self.probs.argmax(-1)

    @property
    def variance(self):
        """NaN (categories are unordered labels)."""
        return corelib.full(tuple(self._extended_shape()), float("nan"),
                            dtype=self.probs.dtype, device=self.probs.device)

    def sample(self, sample_shape=Size()):
        """sample(sample_shape=corelib.Size()) -> Tensor

        Category indices (int64) of shape ``sample_shape + batch_shape``.
        """
        sample_shape = Size(sample_shape)
        probs_2d = self.probs.reshape(-1, self._num_events)
        with corelib.no_grad():
            samples_2d = corelib.multinomial(probs_2d, sample_shape.numel(), True).T
        return samples_2d.reshape(tuple(self._extended_shape(sample_shape)))

    def log_prob(self, value):
        """log_prob(value) -> Tensor

        ``logits[value]`` (normalized log-probability of each category index).
        """
        if self._validate_args:
            self._validate_sample(value)
        value = value.long().unsqueeze(-1)
        value, log_pmf = corelib.broadcast_tensors(value, self.logits)
        value = value[..., :1]
        return log_pmf.gather(-1, value).squeeze(-1)

    def entropy(self):
        """entropy() -> Tensor

        ``-sum(probs * logits)`` (zero-probability categories contribute nothing).
        """
        min_real = corelib.finfo(self.logits.dtype).min
        logits = self.logits.clamp(min=min_real)
        p_log_p = logits * self.probs
        return -p_log_p.sum(-1)

    def enumerate_support(self, expand=True):
        """enumerate_support(expand=True) -> Tensor

        ``0 .. K-1`` along a new leading dimension (expanded over the batch when ``expand``).
        """
        values = corelib.arange(self._num_events, dtype=corelib.int64, device=self._param.device)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values


class OneHotCategorical(Distribution):
    """OneHotCategorical(probs=None, logits=None, validate_args=None)

    The categorical distribution with samples as one-hot vectors of length K.
    """

    arg_constraints = {"probs": constraints.simplex,
                       "logits": constraints.independent(constraints.real, 1)}
    support = constraints.one_hot
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits)
        batch_shape = self._categorical.batch_shape
        event_shape = self._categorical.param_shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """expand(batch_shape, _instance=None) -> OneHotCategorical

        The distribution with its parameter expanded to ``batch_shape``.
        """
        new = self._get_checked_instance(type(self), _instance)
        batch_shape = Size(batch_shape)
        new._categorical = self._categorical.expand(batch_shape)
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def _param(self):
        return self._categorical._param

    @property
    def probs(self):
        """Normalized probabilities."""
        return self._categorical.probs

    @property
    def logits(self):
        """Normalized log-probabilities."""
        return self._categorical.logits

    @property
    def mean(self):
        """probs."""
        return self._categorical.probs

    @property
    def mode(self):
        """The one-hot vector of the most probable category."""
        probs = self._categorical.probs
        mode = probs.argmax(-1)
        return F.one_hot(mode, probs.shape[-1]).to(probs)

    @property
    def variance(self):
        """probs * (1 - probs)."""
        return self._categorical.probs * (1 - self._categorical.probs)

    @property
    def param_shape(self):
        """The shape of the defining parameter."""
        return self._categorical.param_shape

    def sample(self, sample_shape=Size()):
        """sample(sample_shape=corelib.Size()) -> Tensor

        One-hot draws of shape ``sample_shape + batch_shape + (K,)``.
        """
        probs = self._categorical.probs
        num_events = self._categorical._num_events
        indices = self._categorical.sample(sample_shape)
        return F.one_hot(indices, num_events).to(probs)

    def log_prob(self, value):
        """log_prob(value) -> Tensor

        The log-probability of the category each one-hot ``value`` marks.
        """
        if self._validate_args:
            self._validate_sample(value)
        indices = value.max(-1)[1]
        return self._categorical.log_prob(indices)

    def entropy(self):
        """entropy() -> Tensor

        The categorical entropy.
        """
        return self._categorical.entropy()

    def enumerate_support(self, expand=True):
        """enumerate_support(expand=True) -> Tensor

        The K one-hot vectors along a new leading dimension.
        """
        n = self.event_shape[0]
        values = corelib.eye(n, dtype=self._param.dtype, device=self._param.device)
        values = values.view((n,) + (1,) * len(self.batch_shape) + (n,))
        if expand:
            values = values.expand((n,) + tuple(self.batch_shape) + (n,))
        return values


class OneHotCategoricalStraightThrough(OneHotCategorical):
    """OneHotCategoricalStraightThrough(probs=None, logits=None, validate_args=None)

    OneHotCategorical whose ``rsample`` passes gradients straight through to ``probs``.
    """

    has_rsample = True

    def rsample(self, sample_shape=Size()):
        """rsample(sample_shape=corelib.Size()) -> Tensor

        One-hot draws plus ``probs - probs.detach()`` (straight-through gradient).
        """
        samples = self.sample(sample_shape)
        probs = self._categorical.probs
        return samples + (probs - probs.detach())


class Poisson(ExponentialFamily):
    """Poisson(rate, validate_args=None)

    The Poisson distribution with rate ``rate``.
    """

    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        batch_shape = Size() if isinstance(rate, Number) else self.rate.shape
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """expand(batch_shape, _instance=None) -> Poisson

        The distribution with its rate expanded to ``batch_shape``.
        """
        return self._expand_params(Poisson, batch_shape, ("rate",), _instance)

    @property
    def mean(self):
        """rate."""
        return self.rate

    @property
    def mode(self):
        """floor(rate)."""
        return self.rate.floor()

    @property
    def variance(self):
        """rate."""
        return self.rate

    def sample(self, sample_shape=Size()):
        """sample(sample_shape=corelib.Size()) -> Tensor

        Poisson draws of shape ``sample_shape + batch_shape``.
        """
        shape = tuple(self._extended_shape(sample_shape))
        with corelib.no_grad():
            return corelib.poisson(self.rate.expand(shape))

    def log_prob(self, value):
        """log_prob(value) -> Tensor

        ``xlogy(value, rate) - rate - lgamma(value + 1)``.
        """
        if self._validate_args:
            self._validate_sample(value)
        rate, value = broadcast_all(self.rate, value)
        return corelib.special.xlogy(value, rate) - rate - corelib.lgamma(value + 1)


def _clamp_by_zero(x):
    return (x.clamp(min=0) + x - x.clamp(max=0)) / 2


class Binomial(Distribution):
    """Binomial(total_count=1, probs=None, logits=None, validate_args=None)

    The number of successes in ``total_count`` independent Bernoulli(``probs``) trials.
    """

    arg_constraints = {"total_count": constraints.nonnegative_integer,
                       "probs": constraints.unit_interval, "logits": constraints.real}
    has_enumerate_support = True

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError(_BOTH)
        if probs is not None:
            self.total_count, self.probs = broadcast_all(total_count, probs)
            self.total_count = self.total_count.type_as(self.probs)
        else:
            self.total_count, self.logits = broadcast_all(total_count, logits)
            self.total_count = self.total_count.type_as(self.logits)
        self._param = self.probs if probs is not None else self.logits
        super().__init__(self._param.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """expand(batch_shape, _instance=None) -> Binomial

        The distribution with its parameters expanded to ``batch_shape``.
        """
        new, batch_shape = _expand_probs_logits(self, Binomial, batch_shape, _instance,
                                                extra=("total_count",))
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        """{0, ..., total_count}."""
        return constraints.integer_interval(0, self.total_count)

    @property
    def mean(self):
        """total_count * probs."""
        return self.total_count * self.probs

    @property
    def mode(self):
        """floor((total_count + 1) * probs), at most total_count."""
        return ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count)

    @property
    def variance(self):
        """total_count * probs * (1 - probs)."""
        return self.total_count * self.probs * (1 - self.probs)

    @lazy_property
    def logits(self):
        """log(probs / (1 - probs))."""
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        """sigmoid(logits)."""
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self):
        """The shape of the defining parameter."""
        return self._param.shape

    def sample(self, sample_shape=Size()):
        """sample(sample_shape=corelib.Size()) -> Tensor

        Binomial draws (sums of Bernoulli trials) of shape ``sample_shape + batch_shape``.
        """
        shape = tuple(self._extended_shape(sample_shape))
        with corelib.no_grad():
            n = self.total_count.expand(shape)
            p = self.probs.expand(shape)
            max_n = int(n.max().item()) if n.numel() else 0
            if max_n == 0:
                return corelib.zeros(shape, dtype=p.dtype, device=p.device)
            u = corelib.rand(shape + (max_n,), dtype=p.dtype, device=p.device)
            trials = corelib.arange(max_n, dtype=p.dtype, device=p.device)
            hits = (u < p.unsqueeze(-1)) & (trials < n.unsqueeze(-1))
            return hits.to(p.dtype).sum(-1)

    def log_prob(self, value):
        """log_prob(value) -> Tensor

        The binomial log-probability (log binomial coefficient plus a stable log-likelihood).
        """
        if self._validate_args:
            self._validate_sample(value)
        log_factorial_n = corelib.lgamma(self.total_count + 1)
        log_factorial_k = corelib.lgamma(value + 1)
        log_factorial_nmk = corelib.lgamma(self.total_count - value + 1)
        normalize_term = (self.total_count * _clamp_by_zero(self.logits) +
                          self.total_count * corelib.log1p(corelib.exp(-self.logits.abs())) -
                          log_factorial_n)
        return value * self.logits - log_factorial_k - log_factorial_nmk - normalize_term

    def entropy(self):
        """entropy() -> Tensor

        The binomial entropy, summed over the support (total_count must be one number).
        """
        total_count = int(self.total_count.max().item())
        if not self.total_count.min().item() == total_count:
            raise NotImplementedError("Inhomogeneous total count not supported by `entropy`.")
        log_prob = self.log_prob(self.enumerate_support(False))
        return -(corelib.exp(log_prob) * log_prob).sum(0)

    def enumerate_support(self, expand=True):
        """enumerate_support(expand=True) -> Tensor

        ``0 .. total_count`` along a new leading dimension.
        """
        total_count = int(self.total_count.max().item())
        if not self.total_count.min().item() == total_count:
            raise NotImplementedError("Inhomogeneous total count not supported by "
                                      "`enumerate_support`.")
        values = corelib.arange(1 + total_count, dtype=self._param.dtype,
                                device=self._param.device)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values
