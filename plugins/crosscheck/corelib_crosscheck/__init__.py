"""corelib-crosscheck: differential testing for backend authors.

    import corelib_crosscheck

    with corelib_crosscheck.crosscheck(rtol=1e-4, atol=1e-5):
        run_my_model(device="cuda")         # every op is also run on cpu and compared

or ``CORELIB_CROSSCHECK=1`` in the environment to check a whole process (a test suite, a
training script). Every kernel call on a device other than ``cpu`` is repeated on the ``cpu``
backend from host copies of its inputs (made with the device backend's ``to_numpy`` and the cpu
backend's ``from_numpy`` *before* the device kernel runs, so in-place kernels see the same
inputs). Then, in order:

* the returned values are compared: shapes, dtypes and values (NaN equals NaN, inf equals inf;
  floating dtypes within ``|device - cpu| <= atol + rtol * |cpu|``, integer and bool exactly);
* every array argument is compared after the call, which checks what in-place and ``out=``
  kernels wrote (``copy_``, ``setitem``, ``add(a, b, out=a)``...) and catches a kernel that
  writes into an input it should only read.

The first disagreement raises :class:`CrosscheckError`, a subclass of ``AssertionError`` (a
failed check, like a failed test assertion; corelib's op wrapper re-raises ``RuntimeError``s
with the op name prepended, assertion errors pass through untouched). It names the op, the
device, the input shapes and dtypes, the maximum absolute error and the user's Python stack
(the frames outside corelib and the ``corelib_*`` packages of backends and plugins). A device
kernel that raises is not checked (its error propagates); a cpu kernel that raises where the
device kernel succeeded is reported as a disagreement.

Not checked: ops on ``cpu`` (and ``meta``), random ops (results legitimately differ: every call
with ``generator=``), ``empty`` (uninitialised memory), layout queries (``is_contiguous``,
``strides``, ``storage_offset``), ops the cpu backend has no kernel for, and ops in ``skip``.
Default tolerances depend on the dtype (those of ``torch.testing.assert_close``: float32
rtol 1.3e-6, atol 1e-5; float64 1e-7, 1e-7; float16 1e-3, 1e-5; bfloat16 1.6e-2, 1e-5).

Off (no crosscheck context, no environment variable), the hook returns None: resolved kernels
are the backends' own functions and nothing is paid. Entering or leaving a context calls
``registry.invalidate_kernels()``, so checking starts and stops at the next op call.
"""
from __future__ import annotations

import os
import sys
import threading
import traceback
import warnings
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from corelib.dispatch import BackendNotFoundError, registry
from corelib.hookspecs import hookimpl

__all__ = ["crosscheck", "enable", "disable", "is_enabled", "CrosscheckError", "UNCHECKED_OPS",
           "RANDOM_OPS"]

RANDOM_OPS = frozenset({
    "bernoulli", "cauchy", "exponential", "geometric", "log_normal", "multinomial", "normal",
    "normal_tensor", "poisson", "randint", "randperm", "uniform", "generator_get_state",
    "generator_set_state"})
UNCHECKED_OPS = RANDOM_OPS | {"empty", "is_contiguous", "strides", "storage_offset"}
UNCHECKED_DEVICES = frozenset({"cpu", "meta"})

# (rtol, atol) per dtype name when not given: torch.testing.assert_close's defaults
TOLERANCES = {"float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5), "float32": (1.3e-6, 1e-5),
              "float64": (1e-7, 1e-7), "complex64": (1.3e-6, 1e-5),
              "complex128": (1e-7, 1e-7)}

_STACK_FRAMES = 8   # innermost user frames shown in the error


class CrosscheckError(AssertionError):
    """A kernel's result on a device disagrees with the cpu backend's.

    Attributes: ``op``, ``device``, ``inputs`` (descriptions such as ``"float32[3, 4]"``),
    ``where`` (``"output"``, ``"output[1]"``, ``"argument 0 after the call"``, ``"argument 0
    and out= after the call"``...),
    ``max_abs_error`` (float; inf when only NaN/inf positions or the shape/dtype differ),
    ``stack`` (the user's frames, a list of ``traceback.FrameSummary``, innermost last).
    """

    def __init__(self, message, op=None, device=None, inputs=(), where=None,
                 max_abs_error=float("nan"), stack=()):
        super().__init__(message)
        self.op = op
        self.device = device
        self.inputs = list(inputs)
        self.where = where
        self.max_abs_error = max_abs_error
        self.stack = list(stack)


# --- configuration ----------------------------------------------------------------------------
@dataclass(frozen=True)
class _Config:
    rtol: float | None = None
    atol: float | None = None
    skip: frozenset = frozenset()


def _env_config():
    if os.environ.get("CORELIB_CROSSCHECK", "").strip().lower() not in ("1", "true", "yes", "on"):
        return None
    rtol = os.environ.get("CORELIB_CROSSCHECK_RTOL")
    atol = os.environ.get("CORELIB_CROSSCHECK_ATOL")
    skip = os.environ.get("CORELIB_CROSSCHECK_SKIP", "")
    return _Config(float(rtol) if rtol else None, float(atol) if atol else None,
                   frozenset(s.strip() for s in skip.split(",") if s.strip()))


_lock = threading.RLock()
_base: _Config | None = _env_config()   # enable()/disable() or the environment
_contexts: list = []                      # crosscheck() contexts, innermost last


def _current():
    return _contexts[-1] if _contexts else _base


def _make_config(rtol, atol, skip):
    if (rtol is None) != (atol is None):
        raise ValueError("crosscheck: give both rtol and atol, or neither (dtype defaults)")
    return _Config(None if rtol is None else float(rtol), None if atol is None else float(atol),
                   frozenset([skip] if isinstance(skip, str) else skip))


def is_enabled() -> bool:
    """True if kernels on non-cpu devices are being cross-checked now."""
    return _current() is not None


def enable(rtol=None, atol=None, skip=()):
    """Cross-check for the rest of the process (what ``CORELIB_CROSSCHECK=1`` does)."""
    global _base
    config = _make_config(rtol, atol, skip)
    with _lock:
        _ensure_registered()
        _base = config
        registry.invalidate_kernels()


def disable():
    """Stop process-wide cross-checking (``crosscheck()`` contexts still check)."""
    global _base
    with _lock:
        _base = None
        registry.invalidate_kernels()


@contextmanager
def crosscheck(rtol=None, atol=None, skip=()):
    """Cross-check every kernel on a non-cpu device inside the ``with`` block.

    rtol, atol: tolerances for floating results (both or neither; default: per dtype).
    skip: op (kernel) names not to check. Contexts nest; the innermost one's settings apply.
    """
    config = _make_config(rtol, atol, skip)
    with _lock:
        _ensure_registered()
        _contexts.append(config)
        registry.invalidate_kernels()
    try:
        yield config
    finally:
        with _lock:
            # remove this context even if contexts were left out of order
            for i in range(len(_contexts) - 1, -1, -1):
                if _contexts[i] is config:
                    del _contexts[i]
                    break
            registry.invalidate_kernels()


# --- the wrapper ------------------------------------------------------------------------------
@hookimpl(trylast=True)   # outermost wrapper: other wrappers (a profiler) time the device only
def corelib_wrap_kernel(op, device_type, kernel):
    config = _current()
    if config is None or device_type in UNCHECKED_DEVICES or op in UNCHECKED_OPS or \
            op in config.skip:
        return None
    try:
        cpu = registry.backend("cpu")
        dev = registry.backend(device_type)
    except BackendNotFoundError:
        return None
    reference = cpu.kernels.get(op)
    if reference is None:
        return None
    return _Checker(op, device_type, kernel, reference, dev, cpu, config).wrapper()


def _is_array(x):
    return hasattr(x, "shape") and hasattr(x, "dtype") and not isinstance(x, (np.generic, type))


class _Checker:
    def __init__(self, op, device, kernel, reference, dev_spec, cpu_spec, config):
        self.op, self.device, self.kernel, self.reference = op, device, kernel, reference
        self.dev_to_numpy = dev_spec.to_numpy
        self.cpu_from_numpy, self.cpu_to_numpy = cpu_spec.from_numpy, cpu_spec.to_numpy
        self.config = config
        self.warned = False

    def wrapper(self):
        kernel, check = self.kernel, self.check

        def checked(*args, **kwargs):
            if "generator" in kwargs:   # a random op: results legitimately differ
                return kernel(*args, **kwargs)
            return check(args, kwargs)

        checked.__name__ = getattr(kernel, "__name__", self.op)
        checked.__wrapped__ = kernel
        return checked

    # host copies -----------------------------------------------------------------------------
    def _host(self, obj, memo, label):
        if isinstance(obj, (tuple, list)):
            return type(obj)(self._host(o, memo, f"{label}[{i}]") for i, o in enumerate(obj))
        if not _is_array(obj):
            return obj
        hit = memo.get(id(obj))
        if hit is None:
            h = self.dev_to_numpy(obj)
            if not isinstance(h, np.ndarray) or h is obj or (
                    isinstance(obj, np.ndarray) and np.may_share_memory(h, obj)):
                h = np.array(h, copy=True)   # never let the reference write device memory
            hit = memo[id(obj)] = (obj, self.cpu_from_numpy(h, 0), [label])
        else:
            hit[2].append(label)             # one array passed twice (x.add_(y): out=x)
        return hit[1]

    def check(self, args, kwargs):
        memo = {}
        try:
            hargs = tuple(self._host(a, memo, f"argument {i}") for i, a in enumerate(args))
            hkwargs = {k: self._host(v, memo, f"{k}=") for k, v in kwargs.items()}
        except Exception as exc:   # an argument crosscheck cannot copy: run unchecked
            if not self.warned:
                self.warned = True
                warnings.warn(f"corelib-crosscheck: cannot copy the inputs of '{self.op}' on "
                              f"'{self.device}' to the host ({type(exc).__name__}: {exc}); "
                              f"this op is not checked", RuntimeWarning, stacklevel=_stacklevel())
            return self.kernel(*args, **kwargs)
        result = self.kernel(*args, **kwargs)   # the device's error, if any, propagates
        try:
            expected = self.reference(*hargs, **hkwargs)
        except Exception as exc:
            self.fail(args, kwargs, "output", f"the cpu kernel raised {type(exc).__name__}: "
                      f"{exc}, but the '{self.device}' kernel returned a result",
                      float("inf"), cause=exc)
        inputs = {id(obj) for obj, _, _ in memo.values()}
        self.compare(result, expected, "output", inputs, args, kwargs)
        for obj, host, labels in memo.values():
            where = " and ".join(labels) + " after the call"
            self.compare_arrays(self.dev_to_numpy(obj), self.cpu_to_numpy(host), where, args,
                                kwargs)
        return result

    # comparison ------------------------------------------------------------------------------
    def compare(self, actual, expected, where, inputs, args, kwargs):
        if isinstance(actual, (tuple, list)) or isinstance(expected, (tuple, list)):
            if not (isinstance(actual, (tuple, list)) and isinstance(expected, (tuple, list))
                    and len(actual) == len(expected)):
                self.fail(args, kwargs, where, f"structure differs: {_brief(actual)} vs cpu's "
                          f"{_brief(expected)}", float("inf"))
            for i, (a, e) in enumerate(zip(actual, expected)):
                self.compare(a, e, f"{where}[{i}]", inputs, args, kwargs)
            return
        if id(actual) in inputs:
            return   # an argument returned (out=, in place): compared as a written argument
        if actual is None or expected is None:
            if actual is not expected:
                self.fail(args, kwargs, where, f"{_brief(actual)} vs cpu's {_brief(expected)}",
                          float("inf"))
            return
        a = self.dev_to_numpy(actual) if _is_array(actual) else actual
        e = self.cpu_to_numpy(expected) if _is_array(expected) else expected
        self.compare_arrays(a, e, where, args, kwargs)

    def compare_arrays(self, a, e, where, args, kwargs):
        a, e = np.asarray(a), np.asarray(e)
        if a.shape != e.shape:
            self.fail(args, kwargs, where, f"shape {list(a.shape)} vs cpu's {list(e.shape)}",
                      float("inf"))
        if a.dtype != e.dtype:
            self.fail(args, kwargs, where, f"dtype {a.dtype} vs cpu's {e.dtype}", float("inf"))
        kind = e.dtype.kind
        rtol = atol = 0.0
        with np.errstate(all="ignore"):
            if kind in "fc":
                rtol, atol = (self.config.rtol, self.config.atol) \
                    if self.config.rtol is not None else TOLERANCES.get(e.dtype.name, (1e-7, 1e-7))
                wide = np.complex128 if kind == "c" else np.float64
                a64, e64 = a.astype(wide), e.astype(wide)
                same = (a64 == e64) | (np.isnan(a64) & np.isnan(e64))
                diff = np.abs(a64 - e64)
                bad = ~(same | (diff <= atol + rtol * np.abs(e64)))
                diff = np.where(same, 0.0, diff)
            elif kind in "biu":
                diff = np.abs(a.astype(np.float64) - e.astype(np.float64))
                bad = a != e
            else:
                bad = a != e
                diff = bad.astype(np.float64)
            if not bad.any():
                return
            diff = np.where(np.isnan(diff), np.inf, diff)   # NaN against a number: inf
            max_err = float(diff.max())
            worst = np.unravel_index(int(np.argmax(np.where(bad, diff, -1.0))), bad.shape) \
                if bad.ndim else ()
        n_bad, n = int(bad.sum()), bad.size
        tol = f" (rtol={rtol:g}, atol={atol:g})" if kind in "fc" else " (exact)"
        detail = (f"max abs error {max_err:.6g}{tol}; {n_bad} of {n} element"
                  f"{'s' if n != 1 else ''} differ, worst at {list(map(int, worst))}: "
                  f"{self.device} {str(a[worst])} vs cpu {str(e[worst])}")
        self.fail(args, kwargs, where, detail, max_err)

    def fail(self, args, kwargs, where, detail, max_err, cause=None):
        inputs = [_describe(a) for a in args]
        params = [f"{k}={_describe(v)}" for k, v in kwargs.items()]
        stack = _user_stack()
        lines = [f"crosscheck: op '{self.op}' on device '{self.device}' disagrees with cpu",
                 f"  {where}: {detail}",
                 f"  inputs: {', '.join(inputs) or 'none'}",
                 f"  params: {', '.join(params) or 'none'}",
                 "user stack (most recent call last):"]
        lines += [line.rstrip("\n") for line in traceback.format_list(stack)] or \
            ["  (no frame outside corelib)"]
        err = CrosscheckError("\n".join(lines), op=self.op, device=self.device,
                              inputs=inputs + params, where=where, max_abs_error=max_err,
                              stack=stack)
        raise err from cause


def _describe(x):
    if _is_array(x):
        return f"{getattr(x.dtype, 'name', x.dtype)}{list(x.shape)}"
    if isinstance(x, tuple):
        return "(" + ", ".join(_describe(v) for v in x) + ("," if len(x) == 1 else "") + ")"
    if isinstance(x, list):
        return "[" + ", ".join(_describe(v) for v in x) + "]"
    text = repr(x)
    return text if len(text) <= 60 else text[:57] + "..."


def _brief(x):
    if isinstance(x, (tuple, list)):
        return f"{type(x).__name__} of {len(x)}"
    return _describe(x)


def _internal(frame):
    """Frames of corelib and of its backends and plugins (packages named corelib_*)."""
    top = frame.f_globals.get("__name__", "").partition(".")[0]
    return top == "corelib" or top.startswith("corelib_")


def _user_stack():
    """The caller's frames outside corelib, its backends and plugins; innermost last."""
    frames, frame = [], sys._getframe(1)
    while frame is not None and len(frames) < _STACK_FRAMES:
        if not _internal(frame):
            frames.append((frame, frame.f_lineno))
        frame = frame.f_back
    return traceback.StackSummary.extract(reversed(frames))


def _stacklevel():
    frame, level = sys._getframe(1), 1
    while frame is not None and _internal(frame):
        frame, level = frame.f_back, level + 1
    return level


def _ensure_registered():
    """Load corelib's plugins (this one among them) if that has not happened yet; register this
    module directly when it is imported without being installed as an entry point."""
    registry.load()
    module = sys.modules[__name__]
    if not registry.pm.is_registered(module):
        registry.register(module, name="corelib_crosscheck")
