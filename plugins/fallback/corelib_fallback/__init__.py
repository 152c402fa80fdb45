"""corelib-fallback: opt-in CPU fallback for ops a backend lacks.

    CORELIB_FALLBACK=1 python train.py --device mydev     # for a whole process, or
    import corelib_fallback; corelib_fallback.enable()    # ... disable()

When enabled, an op whose device backend has no kernel runs on the ``cpu`` backend instead of
raising ``NotImplementedError``: through the ``corelib_missing_kernel`` hook the plugin supplies a
kernel that

1. copies every array argument to the host (the device backend's ``to_numpy``, then the cpu
   backend's ``from_numpy``; an array passed twice is copied once, so aliasing is kept),
2. runs the cpu backend's kernel on the copies,
3. writes back the arguments the kernel wrote into: ``out=``, the destination of the in-place
   kernels ``copy_``, ``setitem`` and ``embedding_renorm_``, and any other argument whose host
   copy changed (compared with a snapshot), through the device's own ``copy_`` kernel (or
   ``dst[...] = src`` if it has none), so writes through device views stay visible,
4. converts results back to the device (the device backend's ``from_numpy``, on the
   ``device_index=`` a factory kernel is given, else the device module's current index); a
   returned argument comes back as the device array itself.

The first call of each (op, device) warns once (``UserWarning``: "... falling back to cpu"),
since each call copies its inputs to the host and back.

Refused, with a ``NotImplementedError`` naming the op: view ops (``reshape``, ``view``,
``expand``, ``permute``, ``diagonal``, ``getitem``: a view cannot share storage across devices),
layout queries (``is_contiguous``, ``strides``, ``storage_offset``: a host copy has its own
layout) and random ops whose ``generator=`` state is not a NumPy ``Generator`` (the device's
random state cannot drive the cpu kernel). Ops the cpu backend lacks as well stay missing.

Disabled (the default), the hook offers nothing and the backend's own missing-kernel error is
raised. ``enable()`` and ``disable()`` call ``registry.invalidate_kernels()`` so they take effect
at the next op call.
"""
from __future__ import annotations

import os
import sys
import threading
import warnings

import numpy as np

from corelib.dispatch import BackendNotFoundError, registry
from corelib.hookspecs import hookimpl

__all__ = ["enable", "disable", "is_enabled", "VIEW_OPS", "LAYOUT_OPS", "IN_PLACE_ARGS"]

VIEW_OPS = frozenset({"reshape", "view", "expand", "permute", "diagonal", "getitem"})
LAYOUT_OPS = frozenset({"is_contiguous", "strides", "storage_offset"})
IN_PLACE_ARGS = {"copy_": (0,), "setitem": (0,), "embedding_renorm_": (0,)}


_lock = threading.RLock()
_enabled = os.environ.get("CORELIB_FALLBACK", "").strip().lower() in ("1", "true", "yes", "on")
_warned: set = set()   # (op, device) pairs already warned about


def is_enabled() -> bool:
    return _enabled


def enable():
    """Fall back to cpu for missing kernels from the next op call on (warnings start afresh)."""
    global _enabled
    with _lock:
        _ensure_registered()
        _enabled = True
        _warned.clear()
        registry.invalidate_kernels()


def disable():
    """Stop falling back: missing kernels raise again from the next op call on."""
    global _enabled
    with _lock:
        _enabled = False
        registry.invalidate_kernels()


@hookimpl(trylast=True)   # the last resort: other plugins' missing kernels are asked first
def corelib_missing_kernel(op, device_type):
    if not _enabled or device_type in ("cpu", "meta"):   # meta arrays have no data to copy
        return None
    try:
        cpu = registry.backend("cpu")
        dev = registry.backend(device_type)
    except BackendNotFoundError:
        return None
    reference = cpu.kernels.get(op)
    if reference is None:
        return None
    if op in VIEW_OPS:
        return _refusal(op, dev, "it returns a view, and a view cannot share storage across "
                                 "devices")
    if op in LAYOUT_OPS:
        return _refusal(op, dev, "it reports the device's memory layout, which a host copy "
                                 "does not have")
    return _Fallback(op, dev, cpu, reference).kernel


def _refusal(op, spec, reason):
    def refused(*args, **kwargs):
        raise NotImplementedError(
            f"corelib-fallback: op '{op}' has no kernel for device '{spec.device_type}' "
            f"(backend plugin {spec.distribution!r}) and cannot fall back to cpu: {reason}; "
            f"the backend must implement '{op}'")
    refused.__name__ = f"refused_{op}"
    return refused


def _is_array(x):
    return hasattr(x, "shape") and hasattr(x, "dtype") and not isinstance(x, (np.generic, type))


class _Fallback:
    def __init__(self, op, dev, cpu, reference):
        self.op, self.dev, self.reference = op, dev, reference
        self.device = dev.device_type
        self.to_host, self.from_host = dev.to_numpy, dev.from_numpy
        self.cpu_from, self.cpu_to = cpu.from_numpy, cpu.to_numpy
        self.dev_copy = dev.kernels.get("copy_")
        self.in_place = IN_PLACE_ARGS.get(op, ())

    def _host(self, obj, memo):
        if isinstance(obj, (tuple, list)):
            return type(obj)(self._host(o, memo) for o in obj)
        if not _is_array(obj):
            return obj
        hit = memo.get(id(obj))
        if hit is None:
            h = self.to_host(obj)
            if not isinstance(h, np.ndarray) or h is obj or (
                    isinstance(obj, np.ndarray) and np.may_share_memory(h, obj)):
                h = np.array(h, copy=True)
            hit = memo[id(obj)] = (obj, self.cpu_from(h, 0))
        return hit[1]

    def kernel(self, *args, **kwargs):
        key = (self.op, self.device)
        if key not in _warned:
            _warned.add(key)
            warnings.warn(f"corelib-fallback: op '{self.op}' has no kernel for device "
                          f"'{self.device}' (backend plugin {self.dev.distribution!r}); falling "
                          f"back to cpu (inputs are copied to the host and results back, which "
                          f"is slow)", UserWarning, stacklevel=_stacklevel())
        generator = kwargs.get("generator")
        if generator is not None and not isinstance(generator, np.random.Generator):
            raise NotImplementedError(
                f"corelib-fallback: random op '{self.op}' has no kernel for device "
                f"'{self.device}' and cannot fall back to cpu: the device's random state "
                f"({type(generator).__name__}) cannot drive the cpu kernel")
        memo = {}
        hargs = tuple(self._host(a, memo) for a in args)
        hkwargs = {k: self._host(v, memo) for k, v in kwargs.items()}
        written = {id(args[i]) for i in self.in_place if i < len(args)}
        out = kwargs.get("out")
        if _is_array(out):
            written.add(id(out))
        snapshots = {k: np.array(self.cpu_to(host), copy=True)
                     for k, (_, host) in memo.items() if k not in written}
        result = self.reference(*hargs, **hkwargs)
        index = kwargs.get("device_index")   # factory kernels are told their device
        for k, (obj, host) in memo.items():
            if k in written or _changed(self.cpu_to(host), snapshots[k]):
                index = self._index() if index is None else index
                self._write_back(obj, host, index)
        return self._to_device(result, memo, index)

    def _index(self):
        import corelib
        return corelib.get_device_module(self.device).current_device()

    def _write_back(self, obj, host, index):
        new = self.from_host(np.asarray(self.cpu_to(host)), index)
        if self.dev_copy is not None:
            self.dev_copy(obj, new)
            return
        try:
            obj[...] = new
        except Exception as exc:
            raise NotImplementedError(
                f"corelib-fallback: op '{self.op}' wrote into an argument on device "
                f"'{self.device}', and the result cannot be written back: the backend has no "
                f"'copy_' kernel and its arrays do not support item assignment "
                f"({type(exc).__name__}: {exc})") from exc

    def _to_device(self, result, memo, index):
        if isinstance(result, (tuple, list)):
            return type(result)(self._to_device(r, memo, index) for r in result)
        for obj, host in memo.values():
            if result is host:
                return obj   # an argument returned (out=, in place): the device array itself
        if _is_array(result) or isinstance(result, np.generic):
            arr = np.asarray(self.cpu_to(result) if _is_array(result) else result)
            return self.from_host(arr, self._index() if index is None else index)
        return result


def _changed(after, before):
    after = np.asarray(after)
    return after.shape != before.shape or after.tobytes() != before.tobytes()


def _stacklevel():
    """The warning's stack level: the first frame outside corelib and its backends and plugins
    (packages named corelib_*), i.e. the user's line."""
    frame, level = sys._getframe(1), 1
    while frame is not None:
        top = frame.f_globals.get("__name__", "").partition(".")[0]
        if top != "corelib" and not top.startswith("corelib_"):
            break
        frame, level = frame.f_back, level + 1
    return level


def _ensure_registered():
    """Load corelib's plugins (this one among them) if that has not happened yet; register this
    module directly when it is imported without being installed as an entry point."""
    registry.load()
    module = sys.modules[__name__]
    if not registry.pm.is_registered(module):
        registry.register(module, name="corelib_fallback")
