"""Factory kernels: full, arange, linspace and eye (RawKernels of kernels/factories.cu, one per
dtype); empty is an allocation."""
from __future__ import annotations

import math

import numpy as np

from .. import sources
from ._util import (ALL, BLOCK, CTYPE, INTS, empty, f64, grid_for, i32, i64, launch, on_device,
                    scalar_args)

_MACROS = ("FULL_KERNEL", "ARANGE_KERNEL", "LINSPACE_KERNEL", "EYE_KERNEL")


def _instantiate():
    return "".join(f"{macro}({macro.split('_')[0].lower()}_{dt}, {CTYPE[dt]})\n"
                   for macro in _MACROS for dt in ALL)


sources.register("factories", "factories.cu", _instantiate)


def _run(op, shape, dtype, *args):
    """A new contiguous ``dtype`` array of ``shape`` written by kernel ``<op>_<dtype>``."""
    dtype = np.dtype(dtype).name
    y = empty(shape, dtype)
    n = y.size
    if n:
        launch(sources.kernel("factories", f"{op}_{dtype}"), (grid_for(n),), (BLOCK,),
               (y, i64(n), *args))
    return y


def _full(shape, value, dtype):
    if np.dtype(dtype) == np.bool_:
        value = bool(value)    # any nonzero value is True (scalar_args would truncate 0.5 to 0)
    return _run("full", shape, dtype, *scalar_args(value))


def _empty(shape, dtype):
    return empty(shape, dtype)


def _arange(start, end, step, dtype):
    """NumPy's length (ceil((end - start) / step)) and PyTorch's values start + i * step."""
    integral = all(isinstance(v, int) for v in (start, end, step))
    n = -((start - end) // step) if integral else math.ceil((end - start) / step)
    exact = integral and np.dtype(dtype).name in INTS
    return _run("arange", (max(n, 0),), dtype, f64(start), f64(step),
                i64(start if exact else 0), i64(step if exact else 0), i32(exact))


def _linspace(start, end, steps, dtype):
    step = (end - start) / (steps - 1) if steps > 1 else 0.0
    if steps == 1:
        end = start        # the symmetric formula's single element is `end`
    return _run("linspace", (steps,), dtype, f64(start), f64(end), f64(step))


def _eye(n, m, dtype):
    return _run("eye", (n, m), dtype, i64(max(m, 1)))


KERNELS = {name: on_device(k) for name, k in {
    "full": _full,
    "empty": _empty,
    "arange": _arange,
    "linspace": _linspace,
    "eye": _eye,
}.items()}
