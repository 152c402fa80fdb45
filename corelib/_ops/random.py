"""Random sampling ops: bernoulli, multinomial, normal, poisson and the in-place ``Tensor.*_``
samplers. Every draw takes the state of ``generator=`` (a corelib.Generator) or of the default
generator of the tensor's device, so corelib.manual_seed makes results reproducible."""
from __future__ import annotations

import math

from .. import _dtype
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from .core import Op, call, method
from . import rules as R
from .creation import (_dtype_or_default, _factory, _gen, _normal, _randint, _size,
                       _uniform, full)
from .elementwise import cast, to_float, write_out

# public API, re-exported by corelib/__init__.py
__all__ = ["bernoulli", "multinomial", "normal", "poisson"]

# generator state is backend state: read and restored through dispatch like any kernel
generator_get_state = Op("generator_get_state",
                         sig="(Generator generator) -> Any",
                         core=True,
                         doc="a copy of the generator's state (for generator_set_state)")
generator_set_state = Op("generator_set_state",
                         sig="(Generator! generator, Any state) -> None",
                         rule=R.written,
                         core=True,
                         doc="restore a state returned by generator_get_state")
_bernoulli = Op("bernoulli",
                sig="(Array p, *, dtype dtype, Generator generator) -> Array",
                rule=R.to_dtype,
                doc="1 with probability p (a float64 array), else 0, in dtype")
_multinomial = Op("multinomial",
                  sig=("(Array probs, *, int num_samples, bool replacement, Generator generator) "
                       "-> Array"),
                  rule=R.multinomial,
                  doc="category indices drawn from the rows of probs (2-d float64; int64)")
_normal_tensor = Op("normal_tensor",
                    sig="(Array mean, Array std, *, dtype dtype, Generator generator) -> Array",
                    rule=R.broadcast_to_dtype,
                    doc=("N(mean, std^2) samples for float64 arrays mean and std (broadcast), in "
                         "dtype"))
_poisson = Op("poisson",
              sig="(Array rates, *, dtype dtype, Generator generator) -> Array",
              rule=R.to_dtype,
              doc="Poisson samples with rates (a float64 array), in dtype")
_exponential = Op("exponential",
                  sig=("(*, shape shape, float lambd, Generator generator, dtype dtype, "
                       "int device_index) -> Array"),
                  rule=R.full,
                  doc="Exponential(lambd) samples")
_log_normal = Op("log_normal",
                 sig=("(*, shape shape, float mean, float std, Generator generator, dtype dtype, "
                      "int device_index) -> Array"),
                 rule=R.full,
                 doc="exp(N(mean, std^2)) samples")
_cauchy = Op("cauchy",
             sig=("(*, shape shape, float median, float sigma, Generator generator, dtype dtype, "
                  "int device_index) -> Array"),
             rule=R.full,
             doc="Cauchy(median, sigma) samples")
_geometric = Op("geometric",
                sig=("(*, shape shape, float p, Generator generator, dtype dtype, "
                     "int device_index) -> Array"),
                rule=R.full,
                doc="Geometric(p) samples: trials up to the first success (>= 1)")


def _check_tensor(x, name, arg="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' must be Tensor, not {type(x).__name__}")
    return x


def _finish(result, out, name):
    return result if out is None else write_out(result, out, name)


# ---------------------------------------------------------------------------------------------
# functional samplers
def bernoulli(input, p=None, *, generator=None, out=None):
    """0/1 samples: 1 with probability ``input`` (or the scalar ``p``), dtype of input."""
    x = _check_tensor(input, "bernoulli")
    if p is not None:
        if not 0 <= float(p) <= 1:
            raise RuntimeError(f"bernoulli(): expects p to be in [0, 1], but got p={p}")
        probs = full(tuple(x.shape), float(p), dtype=_dtype.float64, device=x.device)
    else:
        probs = cast(x, _dtype.float64)
    if probs.numel() and not bool(((probs >= 0) & (probs <= 1)).all()):   # NaN fails too
        raise RuntimeError("bernoulli(): Expected p_in >= 0 && p_in <= 1 to be true, but got "
                           "false.")
    state = _gen(generator, x.device)
    result = call(_bernoulli, (probs,), x.dtype, {"dtype": x.dtype.name, "generator": state})
    return _finish(result, out, "bernoulli")


def _check_probabilities(probs, num_samples, replacement):
    if bool((probs < 0).any()) or not bool((probs == probs).all()) or \
            bool((probs.abs() == math.inf).any()):
        raise RuntimeError("multinomial(): probability tensor contains either `inf`, `nan` or "
                           "element < 0")
    if bool((probs.sum(1) <= 0).any()):
        raise RuntimeError("multinomial(): invalid multinomial distribution (sum of "
                           "probabilities <= 0)")
    if not replacement and bool(((probs > 0).sum(1) < num_samples).any()):
        raise RuntimeError("multinomial(): invalid multinomial distribution (with replacement="
                           "False, not enough non-negative category to sample)")


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """Category indices drawn from the rows of ``input`` (non-negative weights)."""
    x = _check_tensor(input, "multinomial")
    if x.ndim not in (1, 2):
        raise RuntimeError("multinomial(): prob_dist must be 1 or 2 dim")
    if x.dtype.category < 2:
        raise RuntimeError(f"multinomial(): only supports floating-point dtypes for input, "
                           f"got: {x.dtype}")
    n = x.shape[-1]
    if num_samples <= 0:
        raise RuntimeError("multinomial(): cannot sample n_sample <= 0 samples")
    if not replacement and num_samples > n:
        raise RuntimeError("multinomial(): cannot sample n_sample > prob_dist.size(-1) samples "
                           "without replacement")
    probs = cast(x, _dtype.float64).reshape(-1, n)
    if not x.is_meta:   # value checks (a meta tensor has no values)
        _check_probabilities(probs, num_samples, replacement)
    idx = call(_multinomial, (probs,), _dtype.int64,
               {"num_samples": int(num_samples), "replacement": bool(replacement),
                "generator": _gen(generator, x.device)})
    if x.ndim == 1:
        idx = idx.reshape(-1)
    return _finish(idx, out, "multinomial")


def normal(mean, std=1.0, size=None, *, generator=None, out=None, dtype=None, device=None,
           layout=None, pin_memory=False, requires_grad=False):
    """Normal samples: tensor mean and/or std (broadcast), or float mean and std with ``size``."""
    if not isinstance(mean, Tensor) and not isinstance(std, Tensor):
        if size is None:
            raise TypeError("normal(): with float mean and std, 'size' is required")
        if std < 0:
            raise RuntimeError(f"normal(): expected std >= 0.0, but found std {std}")
        dt = _dtype_or_default(dtype, "normal")
        if not dt.is_floating_point:
            raise RuntimeError(f"normal(): \"normal_kernel\" not implemented for '{dt}'")
        from .creation import _device
        dev = _device(device)
        t = _factory(_normal, {"shape": _size(size, "normal"), "mean": float(mean),
                               "std": float(std), "generator": _gen(generator, dev)},
                     dt, dev, requires_grad)
        return _finish(t, out, "normal")
    ref = mean if isinstance(mean, Tensor) else std
    dt = to_float(ref).dtype
    if isinstance(std, Tensor) and std.numel() and bool((std < 0).any()):
        raise RuntimeError("normal(): expected all elements of std >= 0.0")
    if not isinstance(std, Tensor) and std < 0:
        raise RuntimeError(f"normal(): expected std >= 0.0, but found std {std}")
    m = cast(mean, _dtype.float64) if isinstance(mean, Tensor) else \
        full((), float(mean), dtype=_dtype.float64, device=ref.device)
    s = cast(std, _dtype.float64) if isinstance(std, Tensor) else \
        full((), float(std), dtype=_dtype.float64, device=ref.device)
    result = call(_normal_tensor, (m.detach(), s.detach()), dt,
                  {"dtype": dt.name, "generator": _gen(generator, ref.device)})
    return _finish(result, out, "normal")


def poisson(input, generator=None):
    """Poisson samples with rates ``input`` (dtype of input)."""
    x = _check_tensor(input, "poisson")
    if x.dtype.category < 2:
        raise RuntimeError(f"poisson(): \"poisson_cpu\" not implemented for '{x.dtype}'")
    rates = cast(x, _dtype.float64)
    if rates.numel() and bool((rates < 0).any()):
        raise RuntimeError("poisson(): invalid Poisson rate, expected rate to be non-negative")
    return call(_poisson, (rates.detach(),), x.dtype,
                {"dtype": x.dtype.name, "generator": _gen(generator, x.device)})


Tensor.bernoulli = lambda self, p=None, *, generator=None: bernoulli(self, p,
                                                                    generator=generator)
Tensor.multinomial = lambda self, num_samples, replacement=False, *, generator=None: \
    multinomial(self, num_samples, replacement, generator=generator)


# ---------------------------------------------------------------------------------------------
# in-place samplers
def _fill(self, sample):
    """Write ``sample`` (a fresh tensor of self's shape) into self."""
    with no_grad():
        self.copy_(sample)
    return self


def _float_draw(self, op, name, generator, **params):
    if not self.dtype.is_floating_point:
        raise RuntimeError(f"{name}(): \"{name[:-1]}\" not implemented for '{self.dtype}'")
    from .elementwise import check_inplace
    check_inplace(self, name)
    state = _gen(generator, self.device)
    sample = _factory(op, dict(params, shape=tuple(self.shape), generator=state), self.dtype,
                      self.device, False)
    return _fill(self, sample)


@method()
def uniform_(self, from_=0.0, to=1.0, *, generator=None, **kw):
    """Fill with U[from, to) samples."""
    low = float(kw.pop("from", from_))
    if not low <= float(to):
        raise RuntimeError(f"uniform_(): uniform_ expects to return a [from, to) range, but "
                           f"found from={from_} > to={to}")
    return _float_draw(self, _uniform, "uniform_", generator, low=low, high=float(to))


@method()
def normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fill with N(mean, std^2) samples."""
    if std < 0:
        raise RuntimeError(f"normal_(): expected std >= 0.0, but found std {std}")
    return _float_draw(self, _normal, "normal_", generator, mean=float(mean), std=float(std))


@method()
def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    """Fill with exp(N(mean, std^2)) samples."""
    if std <= 0:
        raise RuntimeError(f"log_normal_(): expected std > 0.0, but found std {std}")
    return _float_draw(self, _log_normal, "log_normal_", generator, mean=float(mean),
                       std=float(std))


@method()
def exponential_(self, lambd=1.0, *, generator=None):
    """Fill with Exponential(lambd) samples."""
    if lambd <= 0:
        raise RuntimeError(f"exponential_(): expects lambda > 0.0, but found lambda={lambd}")
    return _float_draw(self, _exponential, "exponential_", generator, lambd=float(lambd))


@method()
def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    """Fill with Cauchy(median, sigma) samples."""
    return _float_draw(self, _cauchy, "cauchy_", generator, median=float(median),
                       sigma=float(sigma))


@method()
def geometric_(self, p, *, generator=None):
    """Fill with Geometric(p) samples (number of trials up to the first success, >= 1)."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_(): expects p to be in (0, 1), but got p={p}")
    from .elementwise import check_inplace
    check_inplace(self, "geometric_")
    sample = _factory(_geometric, {"shape": tuple(self.shape), "p": float(p),
                                   "generator": _gen(generator, self.device)},
                      self.dtype, self.device, False)
    return _fill(self, sample)


@method()
def bernoulli_(self, p=0.5, *, generator=None):
    """Fill with 0/1 samples: 1 with probability p (a float or a broadcastable tensor)."""
    from .elementwise import check_inplace
    check_inplace(self, "bernoulli_")
    if isinstance(p, Tensor):
        from .shape import broadcast_to
        probs = broadcast_to(p.detach(), tuple(self.shape))
        return _fill(self, bernoulli(probs, generator=generator))
    return _fill(self, bernoulli(self.detach(), float(p), generator=generator))


_RANDOM_TOP = {"float16": 1 << 11, "float32": 1 << 24, "float64": 1 << 53, "bool": 2,
               "bfloat16": 1 << 8}


@method()
def random_(self, from_=0, to=None, *, generator=None, **kw):
    """Fill with integers uniform on [from, to - 1] (default: [0, 2^mantissa] for floats,
    [0, max] for integers)."""
    low = int(kw.pop("from", from_))
    if to is None and from_ != 0 and "from" not in kw:
        low, to = 0, from_          # random_(to)
    if to is None:
        name = self.dtype.name
        to = _RANDOM_TOP[name] + (1 if self.dtype.is_floating_point else 0) \
            if name in _RANDOM_TOP else _dtype.iinfo(self.dtype).max + 1
    if low >= to:
        raise RuntimeError(f"random_(): random_ expects 'from' to be less than 'to', but got "
                           f"from={low} >= to={to}")
    from .elementwise import check_inplace
    check_inplace(self, "random_")
    sample = _factory(_randint, {"shape": tuple(self.shape), "low": low, "high": int(to),
                                 "generator": _gen(generator, self.device)},
                      self.dtype, self.device, False)
    return _fill(self, sample)
