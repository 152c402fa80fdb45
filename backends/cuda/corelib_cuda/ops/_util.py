"""Helpers every kernel family uses: C types of dtypes, launch sizing, strided-operand layouts.

Arrays are ``runtime.xp`` arrays (CuPy's on a GPU, NumPy's in simulation); kernels receive
them as pointers with separate element strides, so views are never copied to launch.
"""
from __future__ import annotations

import math

import numpy as np

from .. import device, runtime
from ..launch import launch  # noqa: F401  (re-exported: families launch through the one seam)

# storage dtype name -> C type in the kernel sources
CTYPE = {"bool": "bool", "uint8": "unsigned char", "int8": "signed char", "int16": "short",
         "int32": "int", "int64": "long long", "float16": "__half", "float32": "float",
         "float64": "double"}
FLOATS = ("float16", "float32", "float64")
INTS = ("uint8", "int8", "int16", "int32", "int64")
NUMERIC = INTS + FLOATS
ALL = ("bool",) + NUMERIC

BLOCK = 256          # threads per block of grid-stride kernels
MAX_BLOCKS = 1024    # grid-stride loops cover the rest


def xp():
    """The array module of device memory (CuPy, or NumPy under simulation)."""
    runtime.require()
    return runtime.xp


def on_device(kernel):
    """A factory kernel (no array operands) that allocates and launches on device
    ``device_index`` (CuPy's current device for the call; the simulator has one device)."""
    def placed(*args, device_index=0, **kwargs):
        if runtime.SIMULATE:
            return kernel(*args, **kwargs)
        with runtime.xp.cuda.Device(device_index):
            return kernel(*args, **kwargs)
    placed.__name__ = placed.__qualname__ = kernel.__name__
    placed.__doc__ = kernel.__doc__
    placed.__wrapped__ = kernel
    return placed


def grid_for(n, block=BLOCK):
    """Blocks for a grid-stride kernel over ``n`` items."""
    return max(1, min(MAX_BLOCKS, -(-n // block)))


def i64(v):
    return np.int64(v)


def i32(v):
    return np.int32(v)


def f64(v):
    return np.float64(v)


def scalar_args(value):
    """A Python scalar as the (double, int64) pair the kernels take; (0, 0) for an array."""
    if value is None or hasattr(value, "shape"):
        return np.float64(0.0), np.int64(0)
    f = float(value)
    # the int64 half, for integer kernels, saturates: a one-sided clamp passes +-inf
    if math.isnan(f):
        i = 0
    elif f >= 2.0 ** 63:
        i = 2 ** 63 - 1
    elif f < -2.0 ** 63:
        i = -2 ** 63
    else:
        i = int(value)
    return np.float64(f), np.int64(i)


_META_CACHE: dict = {}


def device_int64(values):
    """A device int64 array holding ``values`` (a tuple), cached: layouts repeat in training."""
    arr = _META_CACHE.get(values)
    if arr is None:
        if len(_META_CACHE) > 4096:
            _META_CACHE.clear()
        arr = _META_CACHE[values] = xp().asarray(np.array(values, dtype=np.int64))
    return arr


def element_strides(arr, shape):
    """``arr``'s strides in elements when broadcast to ``shape`` (0 on broadcast dims)."""
    lead = len(shape) - arr.ndim
    item = arr.itemsize
    return tuple(0 if d < lead or arr.shape[d - lead] == 1 else arr.strides[d - lead] // item
                 for d in range(len(shape)))


def layout(shape, operands):
    """(ndim, meta) for strided_offsets: ``operands`` (arrays, or None for scalars) broadcast to
    ``shape``. Contiguous same-shape operands give ndim 0 (a flat loop); otherwise dims are
    coalesced where every operand allows, and size-1 dims dropped."""
    shape = tuple(shape)
    arrays = [a for a in operands if a is not None]
    if all(a.shape == shape and a.flags.c_contiguous for a in arrays):
        return 0, None
    strides = [element_strides(a, shape) if a is not None else (0,) * len(shape)
               for a in operands]
    dims = [d for d in range(len(shape)) if shape[d] != 1]
    sizes, cols = [], []
    for d in dims:
        col = [s[d] for s in strides]
        if sizes and all(prev == cur * shape[d] for prev, cur in zip(cols[-1], col)):
            sizes[-1] *= shape[d]
            cols[-1] = col
        else:
            sizes.append(shape[d])
            cols.append(col)
    if not sizes:
        return 0, None
    meta = tuple(sizes) + tuple(cols[d][k] for k in range(len(operands))
                                for d in range(len(sizes)))
    return len(sizes), device_int64(meta)


def empty(shape, dtype):
    """A new uninitialised device array."""
    arr = xp().empty(tuple(shape), dtype=dtype)
    return device.track(arr) if runtime.SIMULATE else arr


def new_out(out, shape, dtype):
    """The caller's ``out`` array, or a fresh one (``out`` of ``...``/None means allocate)."""
    if out is None or out is ...:
        return empty(shape, dtype)
    return out
