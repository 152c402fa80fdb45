"""Creation ops, device transfer and the NumPy interchange.

NumPy is the interchange format between devices and with user data (``tensor(list)``,
``from_numpy``, ``.numpy()``); it is used here only to *convert*, never to compute.
"""
from __future__ import annotations

import builtins
import math
import operator
import weakref

import numpy as np

from .. import _dtype
from .._device import canonical, CPU
from .._device_module import check_available
from .._random import default_generator
from .._tensor import Tensor, int_list
from ..autograd.grad_mode import STATE
from ..dispatch import registry
from . import rules as R
from .core import Op, call, record

# public API, re-exported by corelib/__init__.py
__all__ = ["set_default_device", "get_default_device", "tensor", "as_tensor", "asarray", "from_numpy", "from_dlpack", "full", "zeros", "ones", "empty", "arange", "linspace", "logspace", "eye", "zeros_like", "ones_like", "empty_like", "full_like", "rand", "randn", "randint", "randperm", "rand_like", "randn_like", "randint_like"]

_make = Tensor._make


_DEFAULT_DEVICE = [CPU]


def set_default_device(device):
    """Make ``device`` the device of tensors created without ``device=`` (None: back to cpu),
    as ``torch.set_default_device``."""
    _DEFAULT_DEVICE[0] = CPU if device is None else _device(device)


def get_default_device():
    """The device tensors are created on when no ``device=`` is given."""
    return _DEFAULT_DEVICE[0]


def _device(device):
    """The canonical device of a ``device=`` argument, checked to exist (cpu: no check)."""
    if device is None:
        return _DEFAULT_DEVICE[0]
    d = canonical(device)
    if d is not CPU:
        check_available(d)
    return d


def _finish(t, requires_grad):
    if requires_grad:
        t.requires_grad_(True)
    return t


def _size(size, op):
    size = int_list(size, op, "size")
    if builtins.any(s < 0 for s in size):
        raise RuntimeError(f"{op}(): Trying to create tensor with negative dimension "
                           f"{min(size)}: {list(size)}")
    numel = 1
    for s in size:
        numel *= s
    if numel > _MAX_BYTES:
        raise RuntimeError(f"{op}(): Storage size calculation overflowed with sizes={list(size)}")
    return size


_MAX_BYTES = 2 ** 63 - 1


# ---------------------------------------------------------------------------------------------
# data in and out
def _infer_numpy(data, dtype):
    """Python data or array-likes -> (np.ndarray, corelib dtype), with PyTorch's inference."""
    if isinstance(data, Tensor):
        arr = data.detach().cpu().numpy()
        return arr, dtype or data.dtype
    if isinstance(data, (list, tuple)) and data and builtins.any(
            isinstance(x, Tensor) for x in _flat_first(data)):
        data = _tensors_to_lists(data)
    if isinstance(data, np.ndarray) or hasattr(data, "__array_interface__") or \
            (hasattr(data, "__array__") and not isinstance(data, (list, tuple))):
        arr = np.asarray(data)
        if dtype is None:
            if arr.dtype.name not in _dtype.BY_NAME:
                raise TypeError(f"can't convert np.ndarray of type {arr.dtype}. The only "
                                f"supported types are: float64, float32, float16, int64, "
                                f"int32, int16, int8, uint8, and bool.")
            dtype = _dtype.BY_NAME[arr.dtype.name]
        return arr, dtype
    try:
        arr = np.array(data)
    except ValueError as exc:
        raise ValueError(f"tensor(): {_ragged(data) or exc}") from None
    if arr.dtype == object:   # RuntimeError, as PyTorch
        raise RuntimeError(f"tensor(): Could not infer dtype of {type(data).__name__} data "
                           f"(ragged or non-numeric)")
    if dtype is None:
        kind = arr.dtype.kind
        dtype = _dtype.bool if kind == "b" else _dtype.int64 if kind in "iu" else \
            _dtype.get_default_dtype() if kind == "f" else None
        if dtype is None:
            raise TypeError(f"tensor(): unsupported data of dtype {arr.dtype}")
    return arr, dtype


def _ragged(data, dim=0):
    """PyTorch's message for the first sequence in nested ``data`` whose length differs from
    its siblings', or None."""
    if not isinstance(data, (list, tuple)) or not data:
        return None
    lengths = [len(x) if isinstance(x, (list, tuple)) else None for x in data]
    for n in lengths[1:]:
        if n != lengths[0]:
            return f"expected sequence of length {lengths[0]} at dim {dim + 1} (got {n})"
    for x in data:
        found = _ragged(x, dim + 1)
        if found:
            return found
    return None


def _flat_first(data):
    while isinstance(data, (list, tuple)) and data:
        yield data[0]
        data = data[0]


def _tensors_to_lists(data):
    if isinstance(data, Tensor):
        return data.tolist()
    if isinstance(data, (list, tuple)):
        return [_tensors_to_lists(x) for x in data]
    return data


def _from_numpy_array(arr, dtype, device):
    spec = registry.backend(device.type)
    name = dtype.name
    if name not in spec.dtypes:
        raise TypeError(f"device {device.type!r} does not support dtype {dtype}")
    if arr.dtype.name != name:
        arr = arr.astype(name)
    return _make(spec.from_numpy(arr, device.index or 0), device, dtype)


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor (a copy) from Python data, a NumPy array or a tensor (which keeps its
    device unless ``device`` is given, as in PyTorch)."""
    dtype = None if dtype is None else _dtype.as_dtype(dtype, "tensor")
    if isinstance(data, Tensor):
        out = data.detach().to(data.device if device is None else _device(device), dtype,
                               copy=True)
        return _finish(out, requires_grad)
    arr, dtype = _infer_numpy(data, dtype)
    arr = np.array(arr, copy=True)
    return _finish(_from_numpy_array(arr, dtype, _device(device)), requires_grad)


def as_tensor(data, dtype=None, device=None):
    """Like ``tensor`` but shares data where possible (tensors, same-dtype CPU arrays)."""
    dtype = None if dtype is None else _dtype.as_dtype(dtype, "as_tensor")
    if isinstance(data, Tensor):
        out = data if dtype is None else data.to(dtype)
        return out if device is None else out.to(device)
    arr, dtype = _infer_numpy(data, dtype)
    return _from_numpy_array(arr, dtype, _device(device))


asarray = as_tensor


def from_numpy(ndarray):
    """A CPU tensor sharing memory with ``ndarray``."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"from_numpy(): expected np.ndarray (got {type(ndarray).__name__})")
    if ndarray.dtype.name not in _dtype.BY_NAME:
        raise TypeError(f"can't convert np.ndarray of type {ndarray.dtype}. The only supported "
                        f"types are: float64, float32, float16, int64, int32, int16, int8, "
                        f"uint8, and bool.")
    return _from_numpy_array(ndarray, _dtype.BY_NAME[ndarray.dtype.name], CPU)


def from_dlpack(ext):
    """A CPU tensor from any DLPack producer (zero-copy where the producer allows)."""
    return from_numpy(np.from_dlpack(ext))


# ---------------------------------------------------------------------------------------------
# device transfer
def _to_device_vjp(g, out, x, src):
    return (to_device(g, src),)


_to_device = Op("to_device", _to_device_vjp, saves=None, has_kernel=False)


def to_device(x, device):
    """Copy ``x`` to ``device`` through the NumPy interchange (differentiable)."""
    device = _device(device)
    src_spec = registry.backend(x.device.type)
    host = src_spec.to_numpy(x._data)
    if registry.backend(device.type).has_data:   # to meta: only the shape and dtype are read
        host = np.array(host, copy=True)
    out = _from_numpy_array(host, x.dtype, device)
    if x._requires_grad and STATE.grad_enabled:
        record(_to_device, out, (x,), {"src": x.device})
    return out


# ---------------------------------------------------------------------------------------------
# factories
_full = Op("full",
           sig="(*, shape shape, Scalar value, dtype dtype, int device_index) -> Array",
           rule=R.full,
           core=True,
           doc="an array of shape filled with value")
_empty = Op("empty",
            sig="(*, shape shape, dtype dtype, int device_index) -> Array",
            rule=R.full,
            doc="an uninitialised array of shape")
_arange = Op("arange",
             sig=("(*, Scalar start, Scalar end, Scalar step, dtype dtype, "
                  "int device_index) -> Array"),
             rule=R.arange,
             core=True,
             doc="start, start + step, ... up to (excluding) end")
_linspace = Op("linspace",
               sig=("(*, Scalar start, Scalar end, int steps, dtype dtype, "
                    "int device_index) -> Array"),
               rule=R.linspace,
               doc="steps evenly spaced values from start to end (computed in float64)")
_eye = Op("eye",
          sig="(*, int n, int m, dtype dtype, int device_index) -> Array",
          rule=R.eye,
          doc="the n x m identity")


def _dtype_or_default(dtype, op, default=None):
    if dtype is None:
        return default or _dtype.get_default_dtype()
    return _dtype.dtype_arg(dtype, op)


def _factory(op, params, dtype, device, requires_grad):
    """Run a factory kernel (an array from no array operands) on ``device``; the kernel is told
    the device's index (``device_index=``), as ``from_numpy`` is."""
    device = _device(device)
    k = op.kernels.get(device.type) or op.kernel(device.type)
    if dtype.name not in registry.backends[device.type].dtypes:
        raise TypeError(f"{op.name}(): device {device.type!r} does not support dtype {dtype}")
    shape = params.get("shape")
    nbytes = dtype.itemsize
    for s in shape or ():
        nbytes *= s
    if nbytes > _MAX_BYTES:
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(shape)}")
    try:
        data = k(dtype=dtype.name, device_index=device.index or 0, **params)
    except MemoryError:
        raise RuntimeError(f"{op.name}(): not enough memory: you tried to allocate {nbytes} "
                           f"bytes.") from None
    except ValueError as exc:   # the array library's wording never reaches the user raw
        raise RuntimeError(f"{op.name}(): {exc}") from None
    return _finish(_make(data, device, dtype), requires_grad)


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False, out=None):
    if isinstance(size, int):
        size = (size,)
    if dtype is None:
        dtype = _dtype.bool if isinstance(fill_value, bool) else _dtype.int64 \
            if isinstance(fill_value, int) else _dtype.get_default_dtype()
        if isinstance(fill_value, Tensor):
            fill_value = fill_value.item()
    dtype = _dtype.dtype_arg(dtype, "full")
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _factory(_full, {"shape": _size((size,), "full"), "value": fill_value}, dtype,
                    device, requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False, out=None):
    return _factory(_full, {"shape": _size(size, "zeros"), "value": 0},
                    _dtype_or_default(dtype, "zeros"), device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False, out=None):
    return _factory(_full, {"shape": _size(size, "ones"), "value": 1},
                    _dtype_or_default(dtype, "ones"), device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False, out=None, memory_format=None):
    return _factory(_empty, {"shape": _size(size, "empty")},
                    _dtype_or_default(dtype, "empty"), device, requires_grad)


def _like(name, fn):
    def like(input, *args, dtype=None, device=None, requires_grad=False, memory_format=None,
             **kwargs):
        return fn(tuple(input.shape), *args, dtype=dtype or input.dtype,
                  device=device or input.device, requires_grad=requires_grad, **kwargs)
    like.__name__ = name
    return like


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False, out=None):
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if builtins.any(isinstance(v, builtins.float) and not math.isfinite(v) for v in vals[:2]):
        raise RuntimeError(f"arange(): unsupported range: {vals[0]} -> {vals[1]}")
    if step == 0:
        raise RuntimeError("arange(): step must be nonzero")
    if (vals[1] - vals[0]) * vals[2] < 0:
        raise RuntimeError("arange(): upper bound and lower bound inconsistent with step sign")
    if dtype is None:
        dtype = _dtype.int64 if builtins.all(isinstance(v, int) for v in vals) \
            else _dtype.get_default_dtype()
    dtype = _dtype.dtype_arg(dtype, "arange")
    return _factory(_arange, {"start": vals[0], "end": vals[1], "step": vals[2]}, dtype, device,
                    requires_grad)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False, out=None):
    if steps < 0:
        raise RuntimeError("linspace(): number of steps must be non-negative")
    return _factory(_linspace, {"start": start, "end": end, "steps": builtins.int(steps)},
                    _dtype_or_default(dtype, "linspace"), device, requires_grad)


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    from .elementwise import pow
    exps = linspace(start, end, steps, dtype=_dtype.float64, device=device)
    out = pow(base, exps).to(_dtype_or_default(dtype, "logspace"))
    return _finish(out, requires_grad)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False, out=None):
    for name, v in (("n", n), ("m", m)):
        if v is not None and operator.index(v) < 0:
            raise RuntimeError(f"eye(): {name} must be greater or equal to 0, got {v}")
    return _factory(_eye, {"n": n, "m": n if m is None else m},
                    _dtype_or_default(dtype, "eye"), device, requires_grad)


zeros_like = _like("zeros_like", zeros)
ones_like = _like("ones_like", ones)
empty_like = _like("empty_like", empty)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False,
              memory_format=None):
    return full(tuple(input.shape), fill_value, dtype=dtype or input.dtype,
                device=device or input.device, requires_grad=requires_grad)


# ---------------------------------------------------------------------------------------------
# random factories
_uniform = Op("uniform",
              sig=("(*, shape shape, float low, float high, Generator generator, dtype dtype, "
                   "int device_index) -> Array"),
              rule=R.full,
              core=True,
              doc="U[low, high) samples")
_normal = Op("normal",
             sig=("(*, shape shape, float mean, float std, Generator generator, dtype dtype, "
                  "int device_index) -> Array"),
             rule=R.full,
             doc="N(mean, std^2) samples")
_randint = Op("randint",
              sig=("(*, shape shape, int low, int high, Generator generator, dtype dtype, "
                   "int device_index) -> Array"),
              rule=R.full,
              doc="integers uniform on [low, high)")
_randperm = Op("randperm",
               sig="(*, int n, Generator generator, dtype dtype, int device_index) -> Array",
               rule=R.randperm,
               doc="a random permutation of 0 .. n-1")


def _gen(generator, device):
    gen = generator if generator is not None else default_generator(device)
    if gen.device.type != device.type:
        raise RuntimeError(f"Expected a '{device.type}' device type for generator but found "
                           f"'{gen.device.type}'")
    return gen.state


def _random(op, size, params, dtype, device, requires_grad, generator, name):
    device = _device(device)
    params = dict(params, shape=_size(size, name), generator=_gen(generator, device))
    return _factory(op, params, dtype, device, requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False, out=None):
    dtype = _dtype_or_default(dtype, "rand")
    if not dtype.is_floating_point:
        raise RuntimeError(f"rand(): \"check_uniform_bounds\" not implemented for '{dtype}'")
    return _random(_uniform, size, {"low": 0.0, "high": 1.0}, dtype, device, requires_grad,
                   generator, "rand")


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False, out=None):
    dtype = _dtype_or_default(dtype, "randn")
    if not dtype.is_floating_point:
        raise RuntimeError(f"randn(): \"normal_kernel\" not implemented for '{dtype}'")
    return _random(_normal, size, {"mean": 0.0, "std": 1.0}, dtype, device, requires_grad,
                   generator, "randn")


def randint(low=0, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad=False):
    if size is None and isinstance(high, (tuple, list)) or high is None:
        low, high, size = 0, low, high    # randint(high, size)
    if size is None:
        raise TypeError("randint(): missing required argument 'size'")
    if low >= high:
        raise RuntimeError(f"randint(): random_ expects 'from' to be less than 'to', but got "
                           f"from={low} >= to={high}")
    dtype = _dtype_or_default(dtype, "randint", _dtype.int64)
    return _random(_randint, (size,) if isinstance(size, int) else tuple(size),
                   {"low": builtins.int(low), "high": builtins.int(high)}, dtype, device,
                   requires_grad, generator, "randint")


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    device = _device(device)
    dtype = _dtype_or_default(dtype, "randperm", _dtype.int64)
    _size((n,), "randperm")
    return _factory(_randperm, {"n": builtins.int(n), "generator": _gen(generator, device)},
                    dtype, device, requires_grad)


def rand_like(input, *, dtype=None, device=None, requires_grad=False, generator=None):
    return rand(tuple(input.shape), dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad, generator=generator)


def randn_like(input, *, dtype=None, device=None, requires_grad=False, generator=None):
    return randn(tuple(input.shape), dtype=dtype or input.dtype, device=device or input.device,
                 requires_grad=requires_grad, generator=generator)


def randint_like(input, low=0, high=None, *, dtype=None, device=None, requires_grad=False):
    return randint(low, high, tuple(input.shape), dtype=dtype or input.dtype,
                   device=device or input.device, requires_grad=requires_grad)


# ---------------------------------------------------------------------------------------------
# filling in place
def fill_(self, value):
    """Fill ``self`` with ``value`` (a number or 0-d tensor), in place."""
    if not isinstance(value, (Tensor, builtins.bool, builtins.int, builtins.float)) and \
            not hasattr(value, "__float__"):
        raise TypeError(f"fill_(): argument 'value' must be Number or Tensor, not "
                        f"{type(value).__name__}")
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor "
                               f"with {value.ndim} dimensions.")
        return self.copy_(value)
    return self.copy_(full((), value, dtype=self.dtype, device=self.device))


def zero_(self):
    return fill_(self, 0)


Tensor.fill_ = fill_
Tensor.zero_ = zero_
Tensor.new_zeros = lambda self, *size, dtype=None, device=None, requires_grad=False: zeros(
    *size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)
Tensor.new_ones = lambda self, *size, dtype=None, device=None, requires_grad=False: ones(
    *size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)
Tensor.new_empty = lambda self, *size, dtype=None, device=None, requires_grad=False: empty(
    *size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)
Tensor.new_full = lambda self, size, fill_value, dtype=None, device=None, requires_grad=False: \
    full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device,
         requires_grad=requires_grad)


# ---------------------------------------------------------------------------------------------
# page-locked host memory
_PINNED = weakref.WeakValueDictionary()   # id -> tensor (tensors compare elementwise, not by id)


def _pin_memory(self, device=None):
    """A copy of this CPU tensor in page-locked memory, for fast (``non_blocking``) copies to
    the accelerator ``device`` (default 'cuda'), whose backend allocates it."""
    if self.device is not CPU:
        raise RuntimeError(f"pin_memory(): cannot pin '{self.device.type}' memory: only "
                           f"dense CPU tensors can be pinned")
    if self.is_pinned():
        return self
    from .._device_module import get_device_module
    module = get_device_module(device)
    module.init()
    pin = module._runtime().get("pin")
    host = registry.backend("cpu").to_numpy(self.detach()._data)
    out = _from_numpy_array(pin(host) if pin else np.array(host, copy=True), self.dtype, CPU)
    _PINNED[id(out)] = out
    return out


def _is_pinned(self, device=None):
    """True if this tensor lives in page-locked host memory (made by ``pin_memory``)."""
    return _PINNED.get(id(self)) is self


Tensor.pin_memory = _pin_memory
Tensor.is_pinned = _is_pinned
