"""Constraints: what values a distribution's parameters and samples may take (PyTorch's
torch.distributions.constraints); ``check(value)`` returns a bool tensor over the batch."""
from __future__ import annotations

import corelib

__all__ = ["Constraint", "boolean", "cat", "corr_cholesky", "dependent", "dependent_property",
           "greater_than", "greater_than_eq", "independent", "integer_interval", "interval",
           "half_open_interval", "is_dependent", "less_than", "lower_cholesky",
           "lower_triangular", "multinomial", "nonnegative", "nonnegative_integer", "one_hot",
           "positive", "positive_semidefinite", "positive_definite", "positive_integer", "real",
           "real_vector", "simplex", "square", "stack", "symmetric", "unit_interval"]


class Constraint:
    """Constraint()

    A region of valid values; ``check(value)`` is a bool tensor, one per batch element.
    """

    is_discrete = False
    event_dim = 0

    def check(self, value):
        """check(value) -> Tensor

        Whether each event of ``value`` satisfies the constraint.
        """
        raise NotImplementedError

    def __repr__(self):
        return self.__class__.__name__[1:] + "()"


class _Dependent(Constraint):
    """A placeholder for a constraint that depends on other parameters (not checked)."""

    def __init__(self, *, is_discrete=NotImplemented, event_dim=NotImplemented):
        self._is_discrete = is_discrete
        self._event_dim = event_dim
        super().__init__()

    @property
    def is_discrete(self):
        """Whether the constrained space is discrete."""
        if self._is_discrete is NotImplemented:
            raise NotImplementedError(".is_discrete cannot be determined statically")
        return self._is_discrete

    @property
    def event_dim(self):
        """The number of rightmost dims that make up one event."""
        if self._event_dim is NotImplemented:
            raise NotImplementedError(".event_dim cannot be determined statically")
        return self._event_dim

    def __call__(self, *, is_discrete=NotImplemented, event_dim=NotImplemented):
        if is_discrete is NotImplemented:
            is_discrete = self._is_discrete
        if event_dim is NotImplemented:
            event_dim = self._event_dim
        return _Dependent(is_discrete=is_discrete, event_dim=event_dim)

    def check(self, x):
        """Whether each event of ``value`` satisfies the constraint."""
        raise ValueError("Cannot determine validity of dependent constraint")


def is_dependent(constraint):
    """is_dependent(constraint) -> bool

    Whether ``constraint`` is a dependent (parameter-defined, unchecked) constraint.
    """
    return isinstance(constraint, _Dependent)


class _DependentProperty(property, _Dependent):
    """A property whose value is a constraint built from the instance's parameters."""

    def __init__(self, fn=None, *, is_discrete=NotImplemented, event_dim=NotImplemented):
        property.__init__(self, fn)
        _Dependent.__init__(self, is_discrete=is_discrete, event_dim=event_dim)

    def __call__(self, fn):
        return _DependentProperty(fn, is_discrete=self._is_discrete, event_dim=self._event_dim)


class _IndependentConstraint(Constraint):
    """Reinterpret ``reinterpreted_batch_ndims`` batch dims of a constraint as event dims."""

    def __init__(self, base_constraint, reinterpreted_batch_ndims):
        self.base_constraint = base_constraint
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims
        super().__init__()

    @property
    def is_discrete(self):
        """Whether the constrained space is discrete."""
        return self.base_constraint.is_discrete

    @property
    def event_dim(self):
        """The number of rightmost dims that make up one event."""
        return self.base_constraint.event_dim + self.reinterpreted_batch_ndims

    def check(self, value):
        """Whether each event of ``value`` satisfies the constraint."""
        result = self.base_constraint.check(value)
        if result.ndim < self.reinterpreted_batch_ndims:
            expected = self.base_constraint.event_dim + self.reinterpreted_batch_ndims
            raise ValueError(f"Expected value.dim() >= {expected} but got {value.ndim}")
        if self.reinterpreted_batch_ndims:
            result = result.reshape(tuple(result.shape[:result.ndim -
                                                       self.reinterpreted_batch_ndims]) + (-1,))
            result = result.all(-1)
        return result

    def __repr__(self):
        return f"{self.__class__.__name__[1:]}({self.base_constraint!r}, " \
               f"{self.reinterpreted_batch_ndims})"


class _Boolean(Constraint):
    """boolean: values 0 or 1."""

    is_discrete = True

    def check(self, value):
        """Whether each event of ``value`` satisfies the constraint."""
        return (value == 0) | (value == 1)


class _OneHot(Constraint):
    """one_hot: one-hot vectors along the last dim."""

    is_discrete = True
    event_dim = 1

    def check(self, value):
        """Whether each event of ``value`` satisfies the constraint."""
        is_boolean = (value == 0) | (value == 1)
        is_normalized = value.sum(-1).eq(1)
        return is_boolean.all(-1) & is_normalized


class _IntegerInterval(Constraint):
    """integer_interval(lower_bound, upper_bound): integers in [lower_bound, upper_bound]."""

    is_discrete = True

    def __init__(self, lower_bound, upper_bound):
        self.lower_bound, self.upper_bound = lower_bound, upper_bound
        super().__init__()

    def check(self, value):
        """Whether each event of ``value`` satisfies the constraint."""
        return (value % 1 == 0) & (self.lower_bound <= value) & (value <= self.upper_bound)

    def __repr__(self):
        return f"{self.__class__.__name__[1:]}(lower_bound={self.lower_bound}, " \
               f"upper_bound={self.upper_bound})"


class _IntegerLessThan(Constraint):
    """integers <= upper_bound."""

    is_discrete = True

    def __init__(self, upper_bound):
        self.upper_bound = upper_bound
        super().__init__()

    def check(self, value):
        """Whether each event of ``value`` satisfies the constraint."""
        return (value % 1 == 0) & (value <= self.upper_bound)

    def __repr__(self):
        return f"{self.__class__.__name__[1:]}(upper_bound={self.upper_bound})"


class _IntegerGreaterThan(Constraint):
    """integers >= lower_bound (nonnegative_integer, positive_integer)."""

    is_discrete = True

    def __init__(self, lower_bound):
        self.lower_bound = lower_bound
        super().__init__()

    def check(self, value):
        """Whether each event of ``value`` satisfies the constraint."""
        return (value % 1 == 0) & (value >= self.lower_bound)

    def __repr__(self):
        return f"{self.__class__.__name__[1:]}(lower_bound={self.lower_bound})"


class _Real(Constraint):
    """real: any real number (not NaN)."""

    def check(self, value):
        """Whether each event of ``value`` satisfies the constraint."""
        return value == value   # False for NaN


class _GreaterThan(Constraint):
    """greater_than(lower_bound): values > lower_bound."""

    def __init__(self, lower_bound):
        self.lower_bound = lower_bound
        super().__init__()

    def check(self, value):
        """Whether each event of ``value`` satisfies the constraint."""
        return self.lower_bound < value

    def __repr__(self):
        return f"{self.__class__.__name__[1:]}(lower_bound={self.lower_bound})"


class _GreaterThanEq(Constraint):
    """greater_than_eq(lower_bound): values >= lower_bound."""

    def __init__(self, lower_bound):
        self.lower_bound = lower_bound
        super().__init__()

    def check(self, value):
        """Whether each event of ``value`` satisfies the constraint."""
        return self.lower_bound <= value

    def __repr__(self):
        return f"{self.__class__.__name__[1:]}(lower_bound={self.lower_bound})"


class _LessThan(Constraint):
    """less_than(upper_bound): values < upper_bound."""

    def __init__(self, upper_bound):
        self.upper_bound = upper_bound
        super().__init__()

    def check(self, value):
        """Whether each event of ``value`` satisfies the constraint."""
        return value < self.upper_bound

    def __repr__(self):
        return f"{self.__class__.__name__[1:]}(upper_bound={self.upper_bound})"


class _Interval(Constraint):
    """interval(lower_bound, upper_bound): values in [lower_bound, upper_bound]."""

    def __init__(self, lower_bound, upper_bound):
        self.lower_bound, self.upper_bound = lower_bound, upper_bound
        super().__init__()

    def check(self, value):
        """Whether each event of ``value`` satisfies the constraint."""
        return (self.lower_bound <= value) & (value <= self.upper_bound)

    def __repr__(self):
        return f"{self.__class__.__name__[1:]}(lower_bound={self.lower_bound}, " \
               f"upper_bound={self.upper_bound})"


class _HalfOpenInterval(_Interval):
    """half_open_interval(lower_bound, upper_bound): values in [lower_bound, upper_bound)."""

    def check(self, value):
        """Whether each event of ``value`` satisfies the constraint."""
        return (self.lower_bound <= value) & (value < self.upper_bound)


class _Simplex(Constraint):
    """simplex: nonnegative vectors summing to 1 along the last dim."""

    event_dim = 1

    def check(self, value):
        """Whether each event of ``value`` satisfies the constraint."""
        return (value >= 0).all(-1) & ((value.sum(-1) - 1).abs() < 1e-6)


class _Multinomial(Constraint):
    """multinomial(upper_bound): nonnegative integer vectors summing to at most upper_bound."""

    is_discrete = True
    event_dim = 1

    def __init__(self, upper_bound):
        self.upper_bound = upper_bound

    def check(self, x):
        """Whether each event of ``value`` satisfies the constraint."""
        return (x >= 0).all(-1) & (x.sum(-1) <= self.upper_bound)


class _LowerTriangular(Constraint):
    """lower_triangular: lower-triangular matrices."""

    event_dim = 2

    def check(self, value):
        """Whether each event of ``value`` satisfies the constraint."""
        value_tril = value.tril()
        return (value_tril == value).reshape(tuple(value.shape[:-2]) + (-1,)).min(-1)[0]


class _LowerCholesky(Constraint):
    """lower_cholesky: lower-triangular matrices with a positive diagonal."""

    event_dim = 2

    def check(self, value):
        """Whether each event of ``value`` satisfies the constraint."""
        value_tril = value.tril()
        lower_triangular = (value_tril == value).reshape(
            tuple(value.shape[:-2]) + (-1,)).min(-1)[0]
        positive_diagonal = (value.diagonal(dim1=-2, dim2=-1) > 0).min(-1)[0]
        return lower_triangular & positive_diagonal


class _CorrCholesky(Constraint):
    """corr_cholesky: Cholesky factors of correlation matrices (unit-norm rows)."""

    event_dim = 2

    def check(self, value):
        """Whether each event of ``value`` satisfies the constraint."""
        tol = corelib.finfo(value.dtype).eps * value.shape[-1] * 10
        row_norm = corelib.linalg.norm(value.detach(), dim=-1)
        unit_row_norm = (row_norm - 1.0).abs().le(tol).all(dim=-1)
        return _LowerCholesky().check(value) & unit_row_norm


class _Square(Constraint):
    """square: square matrices."""

    event_dim = 2

    def check(self, value):
        """Whether each event of ``value`` satisfies the constraint."""
        return corelib.full(tuple(value.shape[:-2]), value.shape[-2] == value.shape[-1],
                            dtype=corelib.bool, device=value.device)


class _Symmetric(_Square):
    """symmetric: symmetric square matrices."""

    def check(self, value):
        """Whether each event of ``value`` satisfies the constraint."""
        square_check = super().check(value)
        if not square_check.all():
            return square_check
        return corelib.isclose(value, value.mT, atol=1e-6).all(-2).all(-1)


class _PositiveSemidefinite(_Symmetric):
    """positive_semidefinite: symmetric matrices with nonnegative eigenvalues."""

    def check(self, value):
        """Whether each event of ``value`` satisfies the constraint."""
        sym_check = super().check(value)
        if not sym_check.all():
            return sym_check
        return corelib.linalg.eigvalsh(value).ge(0).all(-1)


class _PositiveDefinite(_Symmetric):
    """positive_definite: symmetric matrices with a Cholesky factorization."""

    def check(self, value):
        """Whether each event of ``value`` satisfies the constraint."""
        sym_check = super().check(value)
        if not sym_check.all():
            return sym_check
        return corelib.linalg.cholesky_ex(value).info.eq(0)


class _Cat(Constraint):
    """Apply constraints ``cseq`` to the pieces of size ``lengths`` along ``dim``."""

    def __init__(self, cseq, dim=0, lengths=None):
        self.cseq = list(cseq)
        self.lengths = list(lengths) if lengths is not None else [1] * len(self.cseq)
        self.dim = dim
        super().__init__()

    @property
    def is_discrete(self):
        """Whether the constrained space is discrete."""
        return any(c.is_discrete for c in self.cseq)

    @property
    def event_dim(self):
        """The number of rightmost dims that make up one event."""
        return max(c.event_dim for c in self.cseq)

    def check(self, value):
        """Whether each event of ``value`` satisfies the constraint."""
        checks, start = [], 0
        for constr, length in zip(self.cseq, self.lengths):
            checks.append(constr.check(value.narrow(self.dim, start, length)))
            start += length
        return corelib.cat(checks, self.dim)


class _Stack(Constraint):
    """Apply constraints ``cseq`` to the slices along ``dim``."""

    def __init__(self, cseq, dim=0):
        self.cseq = list(cseq)
        self.dim = dim
        super().__init__()

    @property
    def is_discrete(self):
        """Whether the constrained space is discrete."""
        return any(c.is_discrete for c in self.cseq)

    @property
    def event_dim(self):
        """The number of rightmost dims that make up one event."""
        dim = max(c.event_dim for c in self.cseq)
        return dim + 1 if self.dim + dim < 0 else dim

    def check(self, value):
        """Whether each event of ``value`` satisfies the constraint."""
        vs = [value.select(self.dim, i) for i in range(value.shape[self.dim])]
        return corelib.stack([c.check(v) for v, c in zip(vs, self.cseq)], self.dim)


dependent = _Dependent()
dependent_property = _DependentProperty
independent = _IndependentConstraint
boolean = _Boolean()
one_hot = _OneHot()
nonnegative_integer = _IntegerGreaterThan(0)
positive_integer = _IntegerGreaterThan(1)
integer_interval = _IntegerInterval
real = _Real()
real_vector = independent(real, 1)
positive = _GreaterThan(0.0)
nonnegative = _GreaterThanEq(0.0)
greater_than = _GreaterThan
greater_than_eq = _GreaterThanEq
less_than = _LessThan
multinomial = _Multinomial
unit_interval = _Interval(0.0, 1.0)
interval = _Interval
half_open_interval = _HalfOpenInterval
simplex = _Simplex()
lower_triangular = _LowerTriangular()
lower_cholesky = _LowerCholesky()
corr_cholesky = _CorrCholesky()
square = _Square()
symmetric = _Symmetric()
positive_semidefinite = _PositiveSemidefinite()
positive_definite = _PositiveDefinite()
cat = _Cat
stack = _Stack


def _inherit_docs(cls):
    """Give ``cls``'s undocumented public methods and properties their base class's docstring."""
    for name, value in list(vars(cls).items()):
        if name.startswith("_") or (getattr(value, "__doc__", None) or "").strip():
            continue
        for base in cls.__mro__[1:]:
            doc = getattr(base.__dict__.get(name), "__doc__", None)
            if doc:
                if isinstance(value, property):
                    setattr(cls, name, type(value)(value.fget, value.fset, value.fdel, doc))
                else:
                    value.__doc__ = doc
                break


for _cls in list(globals().values()):
    if isinstance(_cls, type) and issubclass(_cls, Constraint):
        _inherit_docs(_cls)
del _cls
