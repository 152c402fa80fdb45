"""Creation and random kernels. Random kernels draw from a ``numpy.random.Generator``; factory
kernels take ``device_index`` (always 0 here: one cpu device)."""
from __future__ import annotations

import numpy as np


def _float_draw(draw):
    """Draw in float32/float64 and cast for other float dtypes."""
    def kernel(shape, dtype, generator, device_index=0, **params):
        native = dtype if dtype in ("float32", "float64") else "float32"
        return np.asarray(draw(generator, shape, np.dtype(native), **params)).astype(dtype,
                                                                                   copy=False)
    return kernel


def _uniform(gen, shape, dtype, low, high):
    return gen.random(shape, dtype=dtype) * dtype.type(high - low) + dtype.type(low)


def _normal(gen, shape, dtype, mean, std):
    return gen.standard_normal(shape, dtype=dtype) * dtype.type(std) + dtype.type(mean)


def _randint(shape, low, high, dtype, generator, device_index=0):
    return generator.integers(low, high, size=shape, dtype=np.int64).astype(dtype, copy=False)


def _randperm(n, dtype, generator, device_index=0):
    return generator.permutation(n).astype(dtype, copy=False)


def _exponential(gen, shape, dtype, lambd):
    return gen.standard_exponential(shape, dtype=dtype) / dtype.type(lambd)


def _log_normal(gen, shape, dtype, mean, std):
    return np.exp(_normal(gen, shape, dtype, mean, std))


def _cauchy(gen, shape, dtype, median, sigma):
    return (gen.standard_cauchy(shape) * sigma + median).astype(dtype)


def _geometric(shape, dtype, generator, p, device_index=0):
    return generator.geometric(p, size=shape).astype(dtype)


def _bernoulli(p, dtype, generator):
    """1 with probability p (elementwise), drawn in float64."""
    return (generator.random(p.shape) < p).astype(dtype)


def _normal_tensor(mean, std, dtype, generator):
    shape = np.broadcast_shapes(np.shape(mean), np.shape(std))
    return (generator.standard_normal(shape) * std + mean).astype(dtype)


def _poisson(rates, dtype, generator):
    return generator.poisson(rates).astype(dtype)


def _multinomial(probs, num_samples, replacement, generator):
    """Category indices per row of ``probs`` (2-d): inverse-CDF sampling with replacement,
    Gumbel top-k (exponential keys) without."""
    rows, n = probs.shape
    if replacement:
        cdf = np.cumsum(probs, axis=1)
        cdf /= cdf[:, -1:]
        u = generator.random((rows, num_samples))
        idx = (u[:, :, None] >= cdf[:, None, :]).sum(axis=2)
        return np.minimum(idx, n - 1).astype(np.int64)
    with np.errstate(divide="ignore"):
        keys = generator.standard_exponential((rows, n)) / probs
    return np.argsort(keys, axis=1, kind="stable")[:, :num_samples].astype(np.int64)


def _get_state(gen):
    return gen.bit_generator.state


def _set_state(gen, state):
    gen.bit_generator.state = state


KERNELS = {
    "full": lambda shape, value, dtype, device_index=0: np.full(shape, value, dtype=dtype),
    "empty": lambda shape, dtype, device_index=0: np.empty(shape, dtype=dtype),
    "arange": lambda start, end, step, dtype, device_index=0: np.arange(start, end, step,
                                                                         dtype=dtype),
    # computed in float64, then cast: integer results truncate toward zero as PyTorch's
    # (np.linspace(dtype=int) floors)
    "linspace": lambda start, end, steps, dtype, device_index=0:
        np.linspace(start, end, steps).astype(dtype),
    "eye": lambda n, m, dtype, device_index=0: np.eye(n, m, dtype=dtype),
    "uniform": _float_draw(_uniform),
    "normal": _float_draw(_normal),
    "randint": _randint,
    "randperm": _randperm,
    "exponential": _float_draw(_exponential),
    "log_normal": _float_draw(_log_normal),
    "cauchy": _float_draw(_cauchy),
    "geometric": _geometric,
    "bernoulli": _bernoulli,
    "normal_tensor": _normal_tensor,
    "poisson": _poisson,
    "multinomial": _multinomial,
    "generator_get_state": _get_state,
    "generator_set_state": _set_state,
}
