"""corelib-profiler: time every kernel call, per op and device.

    import corelib_profiler

    with corelib_profiler.profile() as prof:
        loss = model(x).sum()
        loss.backward()
    print(prof.table())                       # per (op, device): calls, total, mean, bytes out
    prof.export_chrome_trace("trace.json")    # chrome://tracing or https://ui.perfetto.dev

The plugin wraps kernels through the ``corelib_wrap_kernel`` hook. While no profile is
running the hook returns None, so resolved kernels are the backends' own functions and the
plain call path pays nothing; starting or stopping a profile calls
``registry.invalidate_kernels()`` so the wrapping appears and disappears at the next op call.

Times are wall-clock times of the kernel call (``time.perf_counter_ns``), inclusive: a kernel
that itself runs corelib ops includes them. Asynchronous devices return before their work is
done; ``profile(synchronize=True)`` calls ``corelib.get_device_module(dev).synchronize()``
before and after every kernel on a non-cpu device so each kernel's time is its device time
(at the price of serialising the device).

Profiles nest: each running profile records every kernel call made while it runs (an outer
profile also sees what an inner one sees); entering a running profile again (reentrant use)
records each call once and stops it at the outermost exit. Kernel calls from every thread are
recorded (the trace keeps thread ids).
"""
from __future__ import annotations

import json
import os
import sys
import threading
from dataclasses import dataclass
from itertools import repeat
from time import perf_counter_ns
from typing import NamedTuple

from corelib.dispatch import registry
from corelib.hookspecs import hookimpl

__all__ = ["profile", "Profile", "KernelEvent", "OpStats", "is_profiling"]


class KernelEvent(NamedTuple):
    """One kernel call."""
    op: str
    device: str             # device type ("cpu", "cuda", ...)
    start_ns: int           # time.perf_counter_ns() at the call
    duration_ns: int
    shapes: tuple | None    # per positional argument, its shape (None: not an array);
                            # None if the profile does not record shapes
    bytes_out: int          # sum of nbytes of the returned arrays (or of out= if None returned)
    thread: int             # threading.get_ident() of the calling thread


@dataclass(frozen=True)
class OpStats:
    """Totals of one (op, device) over a profile; times in seconds."""
    op: str
    device: str
    calls: int
    total_time: float
    bytes_out: int

    @property
    def mean_time(self) -> float:
        return self.total_time / self.calls if self.calls else 0.0


# --- the wrapper ------------------------------------------------------------------------------
_lock = threading.RLock()
_active: tuple = ()                  # running Profiles, in start order
_config = (False, False, False)      # (any running, any synchronize, any record_shapes)
_log: list = []                      # events while any profile runs; each Profile keeps a slice
_SHAPE, _NONE = repeat("shape"), repeat(None)   # getattr(arg, "shape", None) for map()


def is_profiling() -> bool:
    """True while at least one profile is running."""
    return bool(_active)


def _nbytes(result, kwargs):
    if isinstance(result, (tuple, list)):
        return sum(int(getattr(r, "nbytes", 0) or 0) for r in result)
    if result is None:
        out = kwargs.get("out")
        if out is not None and out is not Ellipsis:
            return int(getattr(out, "nbytes", 0) or 0)
    return 0


@hookimpl(tryfirst=True)   # innermost wrapper: times the kernel, not other plugins' work
def corelib_wrap_kernel(op, device_type, kernel):
    running, synchronize, shapes = _config
    if not running:
        return None
    sync = None
    if synchronize and device_type != "cpu":
        import corelib
        sync = corelib.get_device_module(device_type).synchronize
    wrapper = _wrap_synchronized(op, device_type, kernel, sync, shapes) if sync else \
        _wrap(op, device_type, kernel, shapes)
    wrapper.__name__ = getattr(kernel, "__name__", op)
    wrapper.__wrapped__ = kernel
    return wrapper


def _wrap(op, device, kernel, record_shapes):
    clock, ident, log = perf_counter_ns, threading.get_ident, _log.append

    def profiled(*args, **kwargs):
        t0 = clock()
        result = kernel(*args, **kwargs)
        t1 = clock()
        n = getattr(result, "nbytes", None)
        log((op, device, t0, t1 - t0,
             tuple(map(getattr, args, _SHAPE, _NONE)) if record_shapes else None,
             _nbytes(result, kwargs) if n is None else n, ident()))
        return result
    return profiled


def _wrap_synchronized(op, device, kernel, sync, record_shapes):
    clock, ident, log = perf_counter_ns, threading.get_ident, _log.append

    def profiled(*args, **kwargs):
        sync()
        t0 = clock()
        result = kernel(*args, **kwargs)
        sync()
        t1 = clock()
        n = getattr(result, "nbytes", None)
        log((op, device, t0, t1 - t0,
             tuple(map(getattr, args, _SHAPE, _NONE)) if record_shapes else None,
             _nbytes(result, kwargs) if n is None else n, ident()))
        return result
    return profiled


def _set_active(active):
    global _active, _config
    _active = active
    if not active:
        del _log[:]
    config = (bool(active), any(p.synchronize for p in active),
              any(p.record_shapes for p in active))
    if config != _config:
        _config = config
        registry.invalidate_kernels()


# --- the public object --------------------------------------------------------------------------
class Profile:
    """Records kernel calls between ``start()`` and ``stop()`` (or inside ``with``)."""

    def __init__(self, synchronize=False, record_shapes=True):
        self.synchronize = bool(synchronize)
        self.record_shapes = bool(record_shapes)
        self._events: list = []   # events of finished runs
        self._mark = 0            # where this run's events start in the shared log
        self._depth = 0
        self._start_ns = None
        self._stop_ns = None

    # lifecycle
    def start(self):
        with _lock:
            self._depth += 1
            if self._depth == 1:
                _ensure_registered()
                if self._start_ns is None:
                    self._start_ns = perf_counter_ns()
                self._mark = len(_log)
                _set_active(_active + (self,))
        return self

    def stop(self):
        with _lock:
            if self._depth == 0:
                raise RuntimeError("corelib_profiler: stop() on a profile that is not running")
            self._depth -= 1
            if self._depth == 0:
                self._stop_ns = perf_counter_ns()
                self._events.extend(_log[self._mark:])
                _set_active(tuple(p for p in _active if p is not self))
        return self

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    @property
    def running(self) -> bool:
        return self._depth > 0

    # results
    def _raw(self):
        with _lock:
            return self._events + _log[self._mark:] if self._depth else list(self._events)

    @property
    def events(self) -> list:
        """Every recorded kernel call, in call order, as KernelEvent records."""
        return [KernelEvent._make(e) for e in self._raw()]

    def stats(self, sort_by="total_time") -> list:
        """One OpStats per (op, device), sorted by ``sort_by`` (descending)."""
        acc: dict = {}
        for op, dev, _, dur, _, nbytes, _ in self._raw():
            entry = acc.get((op, dev))
            if entry is None:
                acc[(op, dev)] = [1, dur, nbytes]
            else:
                entry[0] += 1
                entry[1] += dur
                entry[2] += nbytes
        rows = [OpStats(op, dev, calls, total / 1e9, nbytes)
                for (op, dev), (calls, total, nbytes) in acc.items()]
        if sort_by not in ("total_time", "mean_time", "calls", "bytes_out", "op"):
            raise ValueError(f"stats(): cannot sort by {sort_by!r}")
        rows.sort(key=lambda r: (getattr(r, sort_by), r.op, r.device),
                  reverse=sort_by != "op")
        return rows

    def table(self, sort_by="total_time", limit=None) -> str:
        """A text table: op, device, calls, total ms, mean us, bytes out; sorted by total."""
        rows = self.stats(sort_by)
        shown = rows if limit is None else rows[:limit]
        width = max([len("op")] + [len(r.op) for r in shown])
        dwidth = max([len("device")] + [len(r.device) for r in shown])
        head = (f"{'op':<{width}}  {'device':<{dwidth}}  {'calls':>7}  {'total ms':>10}  "
                f"{'mean us':>10}  {'bytes out':>10}")
        lines = [head, "-" * len(head)]
        for r in shown:
            lines.append(f"{r.op:<{width}}  {r.device:<{dwidth}}  {r.calls:>7}  "
                         f"{r.total_time * 1e3:>10.3f}  {r.mean_time * 1e6:>10.2f}  "
                         f"{_human_bytes(r.bytes_out):>10}")
        if limit is not None and len(rows) > limit:
            lines.append(f"... {len(rows) - limit} more")
        lines.append("-" * len(head))
        calls = sum(r.calls for r in rows)
        total = sum(r.total_time for r in rows)
        lines.append(f"{'total':<{width}}  {'':<{dwidth}}  {calls:>7}  {total * 1e3:>10.3f}  "
                     f"{'':>10}  {_human_bytes(sum(r.bytes_out for r in rows)):>10}")
        return "\n".join(lines)

    def chrome_trace(self) -> dict:
        """The recorded calls in Chrome's trace-event format (complete events, ph "X")."""
        origin = self._start_ns or 0
        pid = os.getpid()
        events = []
        for op, dev, t0, dur, shapes, nbytes, tid in self._raw():
            args = {"device": dev, "bytes_out": nbytes}
            if shapes is not None:
                args["shapes"] = [None if s is None else list(s) for s in shapes]
            events.append({"name": op, "cat": "kernel", "ph": "X", "ts": (t0 - origin) / 1e3,
                           "dur": dur / 1e3, "pid": pid, "tid": tid, "args": args})
        return {"traceEvents": events, "displayTimeUnit": "ms"}

    def export_chrome_trace(self, path):
        """Write ``chrome_trace()`` as JSON to ``path`` (ts and dur in microseconds)."""
        with open(path, "w") as f:
            json.dump(self.chrome_trace(), f)
        return path

    def __repr__(self):
        state = "running" if self.running else "stopped"
        return f"<corelib_profiler.Profile {state}, {len(self._raw())} kernel calls>"


def profile(synchronize=False, record_shapes=True) -> Profile:
    """A Profile to use as a context manager: ``with profile() as prof: ...``.

    synchronize: synchronise asynchronous devices around every kernel (device time).
    record_shapes: keep the input shapes of every call (for the trace).
    """
    return Profile(synchronize=synchronize, record_shapes=record_shapes)


def _human_bytes(n):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


def _ensure_registered():
    """Load corelib's plugins (this one among them) if that has not happened yet; register this
    module directly when it is imported without being installed as an entry point."""
    registry.load()
    module = sys.modules[__name__]
    if not registry.pm.is_registered(module):
        registry.register(module, name="corelib_profiler")
