"""A second device for the tests: "npx", which borrows every CPU kernel.

Its arrays are ``NpxArray`` objects, not NumPy arrays: NumPy refuses to convert them (as CuPy
does), every borrowed kernel unwraps its operands and rejects a NumPy array (the data of a cpu
tensor) where an npx array belongs, and ``to_numpy`` accepts only npx arrays. So the frontend
and the op table run on a device other than "cpu" with the CPU's results, and any place that
builds data on the cpu, mixes devices or treats device data as NumPy fails loudly.

tests/conftest.py registers it and parametrizes ``device`` over it (see ``BORROWED``).
"""
from __future__ import annotations

import types

import numpy as np

from corelib.hookspecs import BackendSpec, hookimpl

DEVICE_TYPE = "npx"


class NpxArray:
    """An array on the npx device: a NumPy array NumPy itself cannot see."""
    __slots__ = ("_a",)

    def __init__(self, a):
        self._a = a

    @property
    def shape(self):
        return self._a.shape

    @property
    def dtype(self):
        return self._a.dtype

    @property
    def ndim(self):
        return self._a.ndim

    @property
    def size(self):
        return self._a.size

    def __array__(self, *args, **kwargs):
        raise TypeError("npx array: implicit conversion to a NumPy array is not allowed "
                        "(the data lives on the npx device; use the backend's to_numpy)")

    __array_ufunc__ = None   # numpy ufuncs and operators refuse npx arrays

    def __bool__(self):
        raise TypeError("npx array: truth value of device data (use Tensor.item())")

    def __len__(self):
        raise TypeError("npx array: len() of device data (use Tensor.shape)")

    def __iter__(self):
        raise TypeError("npx array: iteration over device data")

    def __repr__(self):
        return f"NpxArray(shape={self._a.shape}, dtype={self._a.dtype})"


def _unwrap(x, op):
    if type(x) is NpxArray:
        return x._a
    if isinstance(x, np.ndarray):
        raise TypeError(f"npx kernel {op!r} got a NumPy array (cpu data?) where an npx array "
                        f"belongs")
    if isinstance(x, tuple):
        return tuple(_unwrap(v, op) for v in x)
    if isinstance(x, list):
        return [_unwrap(v, op) for v in x]
    if isinstance(x, dict):
        return {k: _unwrap(v, op) for k, v in x.items()}
    return x


def _wrap(x):
    if isinstance(x, np.ndarray):
        return NpxArray(x)
    if isinstance(x, np.generic):   # a 0-d result: device data, not a host scalar
        return NpxArray(np.asarray(x))
    if isinstance(x, tuple):
        return tuple(_wrap(v) for v in x)
    if isinstance(x, list):
        return [_wrap(v) for v in x]
    return x


def borrow(name, kernel):
    def npx_kernel(*args, **kwargs):
        return _wrap(kernel(*_unwrap(args, name), **_unwrap(kwargs, name)))
    npx_kernel.__name__ = f"npx_{name}"
    return npx_kernel


def to_numpy(x):
    if type(x) is not NpxArray:
        raise TypeError(f"npx to_numpy: expected an npx array, got {type(x).__name__}")
    return np.array(x._a, copy=True)   # a device-to-host copy


def from_numpy(arr, index=0):
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"npx from_numpy: expected a NumPy array, got {type(arr).__name__}")
    return NpxArray(np.array(arr, copy=True))   # a host-to-device copy


def make_plugin():
    """A plugin object (like an installed backend's module) for the npx device."""
    import corelib_cpu
    kernels = {name: borrow(name, k) for name, k in corelib_cpu.KERNELS.items()}
    cpu = corelib_cpu.corelib_backend()
    plugin = types.SimpleNamespace()

    @hookimpl
    def corelib_backend():
        return BackendSpec(device_type=DEVICE_TYPE, kernels=kernels, to_numpy=to_numpy,
                           from_numpy=from_numpy, make_generator=cpu.make_generator,
                           dtypes=cpu.dtypes, distribution="corelib-test-npx")
    plugin.corelib_backend = corelib_backend
    return plugin
