"""Distribution: the base class (PyTorch's torch.distributions.Distribution)."""
from __future__ import annotations

import warnings

import corelib
from corelib import Size, Tensor

from . import constraints
from .utils import lazy_property

__all__ = ["Distribution"]


def _all_true(valid):
    return bool(valid.all().item())


class Distribution:
    """Distribution(batch_shape=corelib.Size(), event_shape=corelib.Size(), validate_args=None)

    The base class of probability distributions: batch and event shapes, sampling, log
    densities, moments and argument/sample validation.
    """

    has_rsample = False
    has_enumerate_support = False
    _validate_args = __debug__

    @staticmethod
    def set_default_validate_args(value):
        """set_default_validate_args(value) -> None

        Turn argument and sample validation on or off for every distribution by default.
        """
        if value not in (True, False):
            raise ValueError
        Distribution._validate_args = value

    def __init__(self, batch_shape=Size(), event_shape=Size(), validate_args=None):
        self._batch_shape = Size(batch_shape)
        self._event_shape = Size(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            try:
                arg_constraints = self.arg_constraints
            except NotImplementedError:
                arg_constraints = {}
                warnings.warn(f"{self.__class__} does not define `arg_constraints`. Please set "
                              f"`arg_constraints = {{}}` or initialize the distribution with "
                              f"`validate_args=False` to turn off validation.")
            for param, constraint in arg_constraints.items():
                if constraints.is_dependent(constraint):
                    continue
                if param not in self.__dict__ and isinstance(getattr(type(self), param),
                                                             lazy_property):
                    continue   # skip checking lazily-constructed args
                value = getattr(self, param)
                if not _all_true(constraint.check(value)):
                    raise ValueError(
                        f"Expected parameter {param} ({type(value).__name__} of shape "
                        f"{tuple(value.shape)}) of distribution {self!r} to satisfy the "
                        f"constraint {constraint!r}, but found invalid values:\n{value}")
        super().__init__()

    def expand(self, batch_shape, _instance=None):
        """expand(batch_shape, _instance=None) -> Distribution

        A new distribution with its batch dimensions expanded to ``batch_shape`` (parameters
        are expanded views, no copies).
        """
        raise NotImplementedError

    @property
    def batch_shape(self):
        """The shape over which parameters are batched."""
        return self._batch_shape

    @property
    def event_shape(self):
        """The shape of a single sample (without batching)."""
        return self._event_shape

    @property
    def arg_constraints(self):
        """{parameter name: Constraint} each parameter must satisfy."""
        raise NotImplementedError

    @property
    def support(self):
        """The Constraint giving the distribution's support."""
        raise NotImplementedError

    @property
    def mean(self):
        """The mean of the distribution."""
        raise NotImplementedError(f"{self.__class__} does not implement mean")

    @property
    def mode(self):
        """The mode of the distribution."""
        raise NotImplementedError(f"{self.__class__} does not implement mode")

    @property
    def variance(self):
        """The variance of the distribution."""
        raise NotImplementedError(f"{self.__class__} does not implement variance")

    @property
    def stddev(self):
        """The standard deviation of the distribution."""
        return self.variance.sqrt()

    def sample(self, sample_shape=Size()):
        """sample(sample_shape=corelib.Size()) -> Tensor

        Draw a sample of shape ``sample_shape + batch_shape + event_shape`` (no gradient).
        """
        with corelib.no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=Size()):
        """rsample(sample_shape=corelib.Size()) -> Tensor

        Draw a reparameterized sample (gradients flow to the parameters).
        """
        raise NotImplementedError

    def sample_n(self, n):
        """sample_n(n) -> Tensor

        ``n`` samples (deprecated in PyTorch: use ``sample((n,))``).
        """
        warnings.warn("sample_n will be deprecated. Use .sample((n,)) instead", UserWarning)
        return self.sample(Size((n,)))

    def log_prob(self, value):
        """log_prob(value) -> Tensor

        The log of the probability density/mass function at ``value``.
        """
        raise NotImplementedError

    def cdf(self, value):
        """cdf(value) -> Tensor

        The cumulative distribution function at ``value``.
        """
        raise NotImplementedError

    def icdf(self, value):
        """icdf(value) -> Tensor

        The inverse cumulative distribution function at ``value``.
        """
        raise NotImplementedError

    def enumerate_support(self, expand=True):
        """enumerate_support(expand=True) -> Tensor

        All values of a discrete distribution's support, along a new leading dimension.
        """
        raise NotImplementedError

    def entropy(self):
        """entropy() -> Tensor

        The entropy, one value per batch element.
        """
        raise NotImplementedError

    def perplexity(self):
        """perplexity() -> Tensor

        ``exp(entropy())``.
        """
        return corelib.exp(self.entropy())

    def _extended_shape(self, sample_shape=Size()):
        if not isinstance(sample_shape, Size):
            sample_shape = Size(sample_shape)
        return Size(tuple(sample_shape) + tuple(self._batch_shape) + tuple(self._event_shape))

    def _validate_sample(self, value):
        if not isinstance(value, Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        event_dim_start = value.ndim - len(self._event_shape)
        if tuple(value.shape[event_dim_start:]) != tuple(self._event_shape):
            raise ValueError(f"The right-most size of value must match event_shape: "
                             f"{value.shape} vs {self._event_shape}.")
        actual_shape = value.shape
        expected_shape = tuple(self._batch_shape) + tuple(self._event_shape)
        for i, j in zip(reversed(actual_shape), reversed(expected_shape)):
            if i != 1 and j != 1 and i != j:
                raise ValueError(f"Value is not broadcastable with batch_shape+event_shape: "
                                 f"{actual_shape} vs {Size(expected_shape)}.")
        try:
            support = self.support
        except NotImplementedError:
            warnings.warn(f"{self.__class__} does not define `support` to enable sample "
                          f"validation. Please initialize the distribution with "
                          f"`validate_args=False` to turn off validation.")
            return
        if support is None:
            return
        if not _all_true(support.check(value)):
            raise ValueError(f"Expected value argument ({type(value).__name__} of shape "
                             f"{tuple(value.shape)}) to be within the support ({support!r}) of "
                             f"the distribution {self!r}, but found invalid values:\n{value}")

    def _get_checked_instance(self, cls, _instance=None):
        if _instance is None and type(self).__init__ != cls.__init__:
            raise NotImplementedError(f"Subclass {self.__class__.__name__} of {cls.__name__} "
                                      f"that defines a custom __init__ method must also define "
                                      f"a custom .expand() method.")
        return self.__new__(type(self)) if _instance is None else _instance

    def _expand_params(self, cls, batch_shape, names, _instance, event_dims=None):
        """The expand() of a distribution whose parameters ``names`` are tensors shaped
        batch_shape + (event part of ``event_dims[name]`` dims)."""
        new = self._get_checked_instance(cls, _instance)
        batch_shape = Size(batch_shape)
        for name in names:
            if name in self.__dict__:
                value = self.__dict__[name]
                k = (event_dims or {}).get(name, 0)
                tail = tuple(value.shape[value.ndim - k:]) if k else ()
                setattr(new, name, value.expand(tuple(batch_shape) + tail))
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def __repr__(self):
        try:
            names = [k for k in self.arg_constraints if k in self.__dict__]
        except NotImplementedError:
            names = []
        values = {p: self.__dict__[p] for p in names}
        args = ", ".join(f"{p}: {v if v.numel() == 1 else v.shape}" for p, v in values.items())
        return self.__class__.__name__ + "(" + args + ")"
