"""Bijective transforms with log-determinant Jacobians (a subset of PyTorch's
torch.distributions.transforms): Exp, Affine, Sigmoid, Tanh, Softplus, Power, Abs, Compose and
the inverse of each (``t.inv``)."""
from __future__ import annotations

import math
import weakref
from numbers import Number

import corelib
from corelib.nn import functional as F

from . import constraints
from .utils import _sum_rightmost

__all__ = ["Transform", "ComposeTransform", "ExpTransform", "AffineTransform",
           "SigmoidTransform", "TanhTransform", "SoftplusTransform", "PowerTransform",
           "AbsTransform", "identity_transform"]


class Transform:
    """Transform(cache_size=0)

    An invertible (or at least computable) map ``y = t(x)`` with ``t.inv`` and
    ``log_abs_det_jacobian(x, y)``.
    """

    bijective = False
    domain = constraints.real
    codomain = constraints.real

    def __init__(self, cache_size=0):
        if cache_size not in (0, 1):
            raise ValueError("cache_size must be 0 or 1")
        self._cache_size = cache_size
        self._inv = None
        self._cached_x_y = None, None
        super().__init__()

    @property
    def event_dim(self):
        """The event dims the transform acts on jointly."""
        if self.domain.event_dim == self.codomain.event_dim:
            return self.domain.event_dim
        raise ValueError("Please use either .domain.event_dim or .codomain.event_dim")

    @property
    def inv(self):
        """The inverse transform."""
        inv = None
        if self._inv is not None:
            inv = self._inv()
        if inv is None:
            inv = _InverseTransform(self)
            self._inv = weakref.ref(inv)
        return inv

    @property
    def sign(self):
        """The sign of the Jacobian determinant (monotone univariate transforms)."""
        raise NotImplementedError

    def __eq__(self, other):
        return self is other

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = object.__hash__

    def __call__(self, x):
        if self._cache_size == 0:
            return self._call(x)
        x_old, y_old = self._cached_x_y
        if x is x_old:
            return y_old
        y = self._call(x)
        self._cached_x_y = x, y
        return y

    def _inv_call(self, y):
        if self._cache_size == 0:
            return self._inverse(y)
        x_old, y_old = self._cached_x_y
        if y is y_old:
            return x_old
        x = self._inverse(y)
        self._cached_x_y = x, y
        return x

    def _call(self, x):
        raise NotImplementedError

    def _inverse(self, y):
        raise NotImplementedError

    def log_abs_det_jacobian(self, x, y):
        """log_abs_det_jacobian(x, y) -> Tensor

        ``log |dy/dx|`` at ``x`` (with ``y = t(x)``).
        """
        raise NotImplementedError

    def forward_shape(self, shape):
        """forward_shape(shape) -> tuple

        The output shape for an input of ``shape``.
        """
        return shape

    def inverse_shape(self, shape):
        """inverse_shape(shape) -> tuple

        The input shape for an output of ``shape``.
        """
        return shape

    def __repr__(self):
        return self.__class__.__name__ + "()"


class _InverseTransform(Transform):
    """The inverse of a transform."""

    def __init__(self, transform):
        super().__init__(cache_size=transform._cache_size)
        self._inv = transform

    @constraints.dependent_property(is_discrete=False)
    def domain(self):
        """The constraint on the transform's inputs."""
        return self._inv.codomain

    @constraints.dependent_property(is_discrete=False)
    def codomain(self):
        """The constraint on the transform's outputs."""
        return self._inv.domain

    @property
    def bijective(self):
        """Whether the transform is invertible."""
        return self._inv.bijective

    @property
    def sign(self):
        """The sign of the Jacobian determinant (monotone univariate transforms)."""
        return self._inv.sign

    @property
    def inv(self):
        """The inverse transform."""
        return self._inv

    def __eq__(self, other):
        return isinstance(other, _InverseTransform) and self._inv == other._inv

    __hash__ = object.__hash__

    def __call__(self, x):
        return self._inv._inv_call(x)

    def log_abs_det_jacobian(self, x, y):
        """``log |dy/dx|`` at ``x`` (with ``y = t(x)``)."""
        return -self._inv.log_abs_det_jacobian(y, x)

    def forward_shape(self, shape):
        """The output shape for an input of ``shape``."""
        return self._inv.inverse_shape(shape)

    def inverse_shape(self, shape):
        """The input shape for an output of ``shape``."""
        return self._inv.forward_shape(shape)

    def __repr__(self):
        return f"{self.__class__.__name__}({self._inv!r})"


class ComposeTransform(Transform):
    """ComposeTransform(parts, cache_size=0)

    The transforms ``parts`` applied in order.
    """

    def __init__(self, parts, cache_size=0):
        if cache_size:
            parts = [part.with_cache(cache_size) if hasattr(part, "with_cache") else part
                     for part in parts]
        super().__init__(cache_size=cache_size)
        self.parts = list(parts)

    def __eq__(self, other):
        return isinstance(other, ComposeTransform) and self.parts == other.parts

    __hash__ = object.__hash__

    @constraints.dependent_property(is_discrete=False)
    def domain(self):
        """The constraint on the transform's inputs."""
        if not self.parts:
            return constraints.real
        domain = self.parts[0].domain
        event_dim = self.parts[-1].codomain.event_dim
        for part in reversed(self.parts):
            event_dim += part.domain.event_dim - part.codomain.event_dim
            event_dim = max(event_dim, part.domain.event_dim)
        if event_dim > domain.event_dim:
            domain = constraints.independent(domain, event_dim - domain.event_dim)
        return domain

    @constraints.dependent_property(is_discrete=False)
    def codomain(self):
        """The constraint on the transform's outputs."""
        if not self.parts:
            return constraints.real
        codomain = self.parts[-1].codomain
        event_dim = self.parts[0].domain.event_dim
        for part in self.parts:
            event_dim += part.codomain.event_dim - part.domain.event_dim
            event_dim = max(event_dim, part.codomain.event_dim)
        if event_dim > codomain.event_dim:
            codomain = constraints.independent(codomain, event_dim - codomain.event_dim)
        return codomain

    @property
    def bijective(self):
        """Whether the transform is invertible."""
        return all(p.bijective for p in self.parts)

    @property
    def sign(self):
        """The sign of the Jacobian determinant (monotone univariate transforms)."""
        sign = 1
        for p in self.parts:
            sign = sign * p.sign
        return sign

    @property
    def inv(self):
        """The inverse transform."""
        return ComposeTransform([p.inv for p in reversed(self.parts)])

    def __call__(self, x):
        for part in self.parts:
            x = part(x)
        return x

    def log_abs_det_jacobian(self, x, y):
        """``log |dy/dx|`` at ``x`` (with ``y = t(x)``)."""
        if not self.parts:
            return corelib.zeros_like(x)
        xs = [x]
        for part in self.parts[:-1]:
            xs.append(part(xs[-1]))
        xs.append(y)
        terms = []
        event_dim = self.domain.event_dim
        for part, x, y in zip(self.parts, xs[:-1], xs[1:]):
            terms.append(_sum_rightmost(part.log_abs_det_jacobian(x, y),
                                        event_dim - part.domain.event_dim))
            event_dim += part.codomain.event_dim - part.domain.event_dim
        result = terms[0]
        for t in terms[1:]:
            result = result + t
        return result

    def forward_shape(self, shape):
        """The output shape for an input of ``shape``."""
        for part in self.parts:
            shape = part.forward_shape(shape)
        return shape

    def inverse_shape(self, shape):
        """The input shape for an output of ``shape``."""
        for part in reversed(self.parts):
            shape = part.inverse_shape(shape)
        return shape

    def __repr__(self):
        inner = ",\n    ".join(repr(p) for p in self.parts)
        return f"{self.__class__.__name__}(\n    {inner}\n)"


identity_transform = ComposeTransform([])


class ExpTransform(Transform):
    """ExpTransform(cache_size=0)

    ``y = exp(x)``.
    """

    domain = constraints.real
    codomain = constraints.positive
    bijective = True
    sign = +1

    def __eq__(self, other):
        return isinstance(other, ExpTransform)

    __hash__ = object.__hash__

    def _call(self, x):
        return x.exp()

    def _inverse(self, y):
        return y.log()

    def log_abs_det_jacobian(self, x, y):
        """log_abs_det_jacobian(x, y) -> Tensor

        ``x``.
        """
        return x


class PowerTransform(Transform):
    """PowerTransform(exponent, cache_size=0)

    ``y = x ** exponent`` on the positive reals.
    """

    domain = constraints.positive
    codomain = constraints.positive
    bijective = True

    def __init__(self, exponent, cache_size=0):
        super().__init__(cache_size=cache_size)
        (self.exponent,) = (exponent,) if isinstance(exponent, Number) else (exponent,)

    @property
    def sign(self):
        """The sign of the Jacobian determinant (monotone univariate transforms)."""
        return self.exponent.sign() if isinstance(self.exponent, corelib.Tensor) else \
            (1 if self.exponent > 0 else -1)

    def _call(self, x):
        return x.pow(self.exponent)

    def _inverse(self, y):
        return y.pow(1 / self.exponent)

    def log_abs_det_jacobian(self, x, y):
        """log_abs_det_jacobian(x, y) -> Tensor

        ``log |exponent * y / x|``.
        """
        return corelib.abs(self.exponent * y / x).log()


class SigmoidTransform(Transform):
    """SigmoidTransform(cache_size=0)

    ``y = sigmoid(x)``.
    """

    domain = constraints.real
    codomain = constraints.unit_interval
    bijective = True
    sign = +1

    def __eq__(self, other):
        return isinstance(other, SigmoidTransform)

    __hash__ = object.__hash__

    def _call(self, x):
        finfo = corelib.finfo(x.dtype)
        return corelib.sigmoid(x).clamp(min=finfo.tiny, max=1.0 - finfo.eps)

    def _inverse(self, y):
        finfo = corelib.finfo(y.dtype)
        y = y.clamp(min=finfo.tiny, max=1.0 - finfo.eps)
        return y.log() - (-y).log1p()

    def log_abs_det_jacobian(self, x, y):
        """log_abs_det_jacobian(x, y) -> Tensor

        ``-softplus(-x) - softplus(x)``.
        """
        return -F.softplus(-x) - F.softplus(x)


class SoftplusTransform(Transform):
    """SoftplusTransform(cache_size=0)

    ``y = log(1 + exp(x))``.
    """

    domain = constraints.real
    codomain = constraints.positive
    bijective = True
    sign = +1

    def __eq__(self, other):
        return isinstance(other, SoftplusTransform)

    __hash__ = object.__hash__

    def _call(self, x):
        return F.softplus(x)

    def _inverse(self, y):
        return (-y).expm1().neg().log() + y

    def log_abs_det_jacobian(self, x, y):
        """log_abs_det_jacobian(x, y) -> Tensor

        ``-softplus(-x)``.
        """
        return -F.softplus(-x)


class TanhTransform(Transform):
    """TanhTransform(cache_size=0)

    ``y = tanh(x)``.
    """

    domain = constraints.real
    codomain = constraints.interval(-1.0, 1.0)
    bijective = True
    sign = +1

    def __eq__(self, other):
        return isinstance(other, TanhTransform)

    __hash__ = object.__hash__

    def _call(self, x):
        return x.tanh()

    def _inverse(self, y):
        return corelib.atanh(y)

    def log_abs_det_jacobian(self, x, y):
        """log_abs_det_jacobian(x, y) -> Tensor

        ``2 (log 2 - x - softplus(-2x))``.
        """
        return 2.0 * (math.log(2.0) - x - F.softplus(-2.0 * x))


class AbsTransform(Transform):
    """AbsTransform(cache_size=0)

    ``y = |x|`` (not bijective; the inverse picks the positive root).
    """

    domain = constraints.real
    codomain = constraints.positive

    def __eq__(self, other):
        return isinstance(other, AbsTransform)

    __hash__ = object.__hash__

    def _call(self, x):
        return x.abs()

    def _inverse(self, y):
        return y


class AffineTransform(Transform):
    """AffineTransform(loc, scale, event_dim=0, cache_size=0)

    ``y = loc + scale * x``.
    """

    bijective = True

    def __init__(self, loc, scale, event_dim=0, cache_size=0):
        super().__init__(cache_size=cache_size)
        self.loc = loc
        self.scale = scale
        self._event_dim = event_dim

    @property
    def event_dim(self):
        """The number of rightmost dims that make up one event."""
        return self._event_dim

    @constraints.dependent_property(is_discrete=False)
    def domain(self):
        """The constraint on the transform's inputs."""
        if self.event_dim == 0:
            return constraints.real
        return constraints.independent(constraints.real, self.event_dim)

    @constraints.dependent_property(is_discrete=False)
    def codomain(self):
        """The constraint on the transform's outputs."""
        if self.event_dim == 0:
            return constraints.real
        return constraints.independent(constraints.real, self.event_dim)

    @property
    def sign(self):
        """The sign of the Jacobian determinant (monotone univariate transforms)."""
        if isinstance(self.scale, Number):
            return 1 if float(self.scale) > 0 else -1 if float(self.scale) < 0 else 0
        return self.scale.sign()

    def _call(self, x):
        return self.loc + self.scale * x

    def _inverse(self, y):
        return (y - self.loc) / self.scale

    def log_abs_det_jacobian(self, x, y):
        """log_abs_det_jacobian(x, y) -> Tensor

        ``log |scale|`` broadcast to ``x`` (summed over the event dims).
        """
        shape = x.shape
        scale = self.scale
        if isinstance(scale, Number):
            result = corelib.full(tuple(shape), math.log(abs(scale)), dtype=x.dtype,
                                  device=x.device)
        else:
            result = corelib.abs(scale).log()
        if self.event_dim:
            result_size = tuple(result.shape[:result.ndim - self.event_dim]) + (-1,)
            result = result.view(result_size).sum(-1)
            shape = shape[:len(shape) - self.event_dim]
        return result.expand(tuple(shape))

    def forward_shape(self, shape):
        """The output shape for an input of ``shape``."""
        return tuple(corelib.broadcast_shapes(shape, getattr(self.loc, "shape", ()),
                                              getattr(self.scale, "shape", ())))

    def inverse_shape(self, shape):
        """The input shape for an output of ``shape``."""
        return tuple(corelib.broadcast_shapes(shape, getattr(self.loc, "shape", ()),
                                              getattr(self.scale, "shape", ())))
