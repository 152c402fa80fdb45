"""Random kernels: a counter-based Philox4x32-10 generator (kernels/random.cu) keyed by the
frontend Generator's state, a mutable ``PhiloxState`` {seed, offset}.

Every kernel takes (seed, offset) by value; element i reads the counter (offset / 4 + b, i), so a
draw depends only on the state and the element index (never on the grid), and manual_seed
reproduces it. Each draw advances the offset by the 32-bit words one element may consume
(rounded up to a multiple of 4, one Philox block).
"""
from __future__ import annotations

import numpy as np

from .. import sources
from ._util import (ALL, BLOCK, CTYPE, FLOATS, empty, f64, grid_for, i32, i64, launch, layout,
                    on_device, xp)
from .elementwise import astype

# float samplers: op -> (C expression macro of kernels/random.cu, parameter names -> p0, p1)
_FLOAT_SAMPLERS = {
    "uniform": ("UNIFORM_EXPR", ("low", "high")),
    "normal": ("NORMAL_EXPR", ("mean", "std")),
    "exponential": ("EXPONENTIAL_EXPR", ("lambd",)),
    "log_normal": ("LOG_NORMAL_EXPR", ("mean", "std")),
    "cauchy": ("CAUCHY_EXPR", ("median", "sigma")),
}
_POISSON_BLOCKS = 4096   # = POISSON_BLOCKS of kernels/random.cu
_WORDS = 4               # the words of one Philox block: what every other sampler consumes


def _instantiate():
    lines = [f"FLOAT_SAMPLER({op}_{dt}, {CTYPE[dt]}, {expr})"
             for op, (expr, _) in _FLOAT_SAMPLERS.items() for dt in FLOATS]
    lines += [f"{macro}({op}_{dt}, {CTYPE[dt]})"
              for macro, op, dtypes in (("GEOMETRIC_KERNEL", "geometric", ALL),
                                        ("RANDINT_KERNEL", "randint", ALL),
                                        ("BERNOULLI_KERNEL", "bernoulli", ALL),
                                        ("NORMAL_TENSOR_KERNEL", "normal_tensor", FLOATS),
                                        ("POISSON_KERNEL", "poisson", FLOATS))
              for dt in dtypes]
    return "\n".join(lines) + "\n"


sources.register("random", "random.cu", _instantiate)


class PhiloxState:
    """The state of one CUDA generator: the Philox key (a 64-bit seed) and the counter offset,
    in 32-bit words, of the next draw."""
    __slots__ = ("seed", "offset")

    def __init__(self, seed, offset=0):
        self.seed, self.offset = int(seed) % (1 << 64), int(offset)

    def take(self, words):
        """The (seed, offset) kernel arguments of a draw of ``words`` words per element; the
        offset moves past them."""
        offset = self.offset
        self.offset += -(-words // _WORDS) * _WORDS
        seed = self.seed - (1 << 64) if self.seed >= 1 << 63 else self.seed
        return i64(seed), i64(offset)

    def __repr__(self):
        return f"PhiloxState(seed={self.seed}, offset={self.offset})"


def make_generator(seed):
    return PhiloxState(seed)


def _get_state(gen):
    """A host-side copy of the state (restored by generator_set_state)."""
    return {"seed": gen.seed, "offset": gen.offset}


def _set_state(gen, state):
    if not isinstance(state, dict) or set(state) != {"seed", "offset"}:
        raise RuntimeError(f"set_state(): expected a CUDA generator state (a dict with 'seed' "
                           f"and 'offset'), got {type(state).__name__}")
    gen.seed, gen.offset = int(state["seed"]) % (1 << 64), int(state["offset"])


def _check(op, dtype, dtypes):
    dtype = np.dtype(dtype).name
    if dtype not in dtypes:
        raise TypeError(f'"{op}" has no CUDA kernel for dtype {dtype}')
    return dtype


def _fill(op, shape, dtype, generator, *args, words=_WORDS):
    """A new contiguous array of ``shape`` written by the sampler ``<op>_<dtype>``."""
    y = empty(shape, dtype)
    seed, offset = generator.take(words)
    n = y.size
    if n:
        launch(sources.kernel("random", f"{op}_{dtype}"), (grid_for(n),), (BLOCK,),
               (y, i64(n), seed, offset, *args))
    return y


def _float_sampler(op):
    names = _FLOAT_SAMPLERS[op][1]

    def kernel(shape, dtype, generator, **params):
        dtype = _check(op, dtype, FLOATS)
        p = [f64(params[k]) for k in names] + [f64(0)] * (2 - len(names))
        return _fill(op, shape, dtype, generator, *p)
    kernel.__name__ = op
    return kernel


def _geometric(shape, dtype, generator, p):
    return _fill("geometric", shape, _check("geometric", dtype, ALL), generator, f64(p))


def _span(low, high):
    """high - low as the kernel's int64 (2^64 wraps to 0, meaning the full range)."""
    span = (high - low) % (1 << 64)
    return i64(span - (1 << 64) if span >= 1 << 63 else span)


def _randint(shape, low, high, dtype, generator):
    return _fill("randint", shape, _check("randint", dtype, ALL), generator, i64(low),
                 _span(low, high))


def _randperm(n, dtype, generator):
    """Array-API implementation: argsort of random 63-bit keys."""
    keys = _fill("randint", (n,), "int64", generator, i64(0), _span(0, 1 << 63))
    perm = xp().argsort(keys)
    return perm if perm.dtype.name == np.dtype(dtype).name else astype(perm, dtype)


def _strided(op, operands, shape, dtype, generator, words=_WORDS):
    """A new array of ``shape`` from the strided sampler ``<op>_<dtype>`` of float64 operands."""
    y = empty(shape, dtype)
    seed, offset = generator.take(words)
    n = y.size
    if n:
        operands = [a if a.dtype == np.float64 else astype(a, "float64") for a in operands]
        ndim, meta = layout(shape, (*operands, y))
        launch(sources.kernel("random", f"{op}_{dtype}"), (grid_for(n),), (BLOCK,),
               (*operands, y, meta, i32(ndim), i64(n), seed, offset))
    return y


def _bernoulli(p, dtype, generator):
    """1 with probability p (elementwise, float64), else 0, in ``dtype``."""
    return _strided("bernoulli", (p,), p.shape, _check("bernoulli", dtype, ALL), generator)


def _normal_tensor(mean, std, dtype, generator):
    shape = np.broadcast_shapes(mean.shape, std.shape)
    return _strided("normal_tensor", (mean, std), shape,
                    _check("normal_tensor", dtype, FLOATS), generator)


def _poisson(rates, dtype, generator):
    return _strided("poisson", (rates,), rates.shape, _check("poisson", dtype, FLOATS),
                    generator, words=_WORDS * _POISSON_BLOCKS)


def _multinomial(probs, num_samples, replacement, generator):
    """Category indices (int64) per row of ``probs`` (2-d float64): inverse-CDF sampling with
    replacement, Gumbel top-k (exponential keys / p) without."""
    rows, n = probs.shape
    if probs.dtype != np.float64 or not probs.flags.c_contiguous:
        probs = astype(probs, "float64")
    seed, offset = generator.take(_WORDS)
    if replacement:
        out = empty((rows, num_samples), "int64")
        if out.size:
            cdf = xp().cumsum(probs, axis=1)   # array-API implementation of the running sums
            launch(sources.kernel("random", "multinomial_with_replacement"),
                   (grid_for(out.size),), (BLOCK,),
                   (cdf, out, i64(rows), i64(n), i64(num_samples), seed, offset))
        return out
    keys = empty((rows, n), "float64")
    if keys.size:
        launch(sources.kernel("random", "multinomial_keys"), (grid_for(keys.size),), (BLOCK,),
               (probs, keys, i64(keys.size), seed, offset))
    # array-API implementation of the top-k: the num_samples smallest keys of each row
    return astype(xp().argsort(keys, axis=1)[:, :num_samples], "int64")


KERNELS = {op: on_device(_float_sampler(op)) for op in _FLOAT_SAMPLERS}
KERNELS.update({
    "randint": on_device(_randint),
    "randperm": on_device(_randperm),
    "geometric": on_device(_geometric),
    "bernoulli": _bernoulli,
    "normal_tensor": _normal_tensor,
    "poisson": _poisson,
    "multinomial": _multinomial,
    "generator_get_state": _get_state,
    "generator_set_state": _set_state,
})
