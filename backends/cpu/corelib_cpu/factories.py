"""Creation and random kernels. Random kernels draw from a ``numpy.random.Generator``."""
from __future__ import annotations

import numpy as np


def _float_draw(draw):
    """Draw in float32/float64 and cast for other float dtypes."""
    def kernel(shape, dtype, generator, **params):
        native = dtype if dtype in ("float32", "float64") else "float32"
        return np.asarray(draw(generator, shape, np.dtype(native), **params)).astype(dtype,
                                                                                   copy=False)
    return kernel


def _uniform(gen, shape, dtype, low, high):
    return gen.random(shape, dtype=dtype) * dtype.type(high - low) + dtype.type(low)


def _normal(gen, shape, dtype, mean, std):
    return gen.standard_normal(shape, dtype=dtype) * dtype.type(std) + dtype.type(mean)


def _randint(shape, low, high, dtype, generator):
    return generator.integers(low, high, size=shape, dtype=np.int64).astype(dtype, copy=False)


def _randperm(n, dtype, generator):
    return generator.permutation(n).astype(dtype, copy=False)


def _get_state(gen):
    return gen.bit_generator.state


def _set_state(gen, state):
    gen.bit_generator.state = state


KERNELS = {
    "full": lambda shape, value, dtype: np.full(shape, value, dtype=dtype),
    "empty": lambda shape, dtype: np.empty(shape, dtype=dtype),
    "arange": lambda start, end, step, dtype: np.arange(start, end, step, dtype=dtype),
    "linspace": lambda start, end, steps, dtype: np.linspace(start, end, steps, dtype=dtype),
    "eye": lambda n, m, dtype: np.eye(n, m, dtype=dtype),
    "uniform": _float_draw(_uniform),
    "normal": _float_draw(_normal),
    "randint": _randint,
    "randperm": _randperm,
    "generator_get_state": _get_state,
    "generator_set_state": _set_state,
}
