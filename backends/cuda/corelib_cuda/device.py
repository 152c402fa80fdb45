"""The device runtime behind ``corelib.cuda`` (``BackendSpec.runtime``, see corelib.hookspecs).

On a GPU: CuPy's devices, streams, events and memory pool (the peak is recorded by a thin
allocator over the pool: CuPy keeps no peak itself). In simulation every launch runs to
completion on the host before it returns, so streams and events are plain handles, events time
with the host clock, and memory statistics count the bytes of live arrays the backend allocated.
"""
from __future__ import annotations

import time
import weakref

import numpy as np

from . import runtime


class _Peak:
    """Allocated-bytes counter with a resettable peak."""

    def __init__(self):
        self.current = self.peak = 0

    def add(self, nbytes):
        self.current += nbytes
        self.peak = max(self.peak, self.current)

    def reset_peak(self):
        self.peak = self.current


STATS = _Peak()


def track(arr):
    """Count ``arr`` as device memory until it is freed (simulation's memory statistics)."""
    nbytes = arr.nbytes if arr.base is None else 0
    if nbytes:
        STATS.add(nbytes)
        weakref.finalize(arr, STATS.add, -nbytes)
    return arr


def _simulated():
    class Handle:
        """A stream or event of the simulated device (work is already done when queued)."""
        def __init__(self):
            self.time = None

    def record(event, stream):
        event.time = time.perf_counter()

    return {
        "synchronize": lambda index: None,
        "set_device": lambda index: None,
        "device_name": lambda index: "corelib CUDA simulator (CPU)",
        "memory_allocated": lambda index: STATS.current,
        "max_memory_allocated": lambda index: STATS.peak,
        "memory_reserved": lambda index: STATS.current,
        "reset_peak_memory_stats": lambda index: STATS.reset_peak(),
        "empty_cache": lambda: None,
        "pin": lambda arr: np.array(arr, copy=True),
        "stream_create": lambda index, priority: Handle(),
        "default_stream": lambda index, _default=Handle(): _default,
        "set_stream": lambda handle: None,
        "stream_synchronize": lambda handle: None,
        "stream_query": lambda handle: True,
        "stream_wait_event": lambda stream, event: None,
        "event_create": lambda enable_timing, blocking: Handle(),
        "event_record": record,
        "event_synchronize": lambda event: None,
        "event_query": lambda event: True,
        "event_elapsed_time": lambda start, end: (end.time - start.time) * 1e3,
    }


def _real(cupy):
    pool = cupy.get_default_memory_pool()

    def malloc(nbytes):
        memory = pool.malloc(nbytes)
        STATS.peak = max(STATS.peak, pool.used_bytes())
        return memory
    cupy.cuda.set_allocator(malloc)

    def reset_peak(index):
        STATS.peak = pool.used_bytes()

    def pin(arr):
        pinned = cupy.cuda.alloc_pinned_memory(arr.nbytes)
        out = np.frombuffer(pinned, arr.dtype, arr.size).reshape(arr.shape)
        out[...] = arr
        return out

    def record(event, stream):
        event.record(stream)

    return {
        "synchronize": lambda index: cupy.cuda.Device(index).synchronize(),
        "set_device": lambda index: cupy.cuda.Device(index).use(),
        "device_name": lambda index: cupy.cuda.runtime.getDeviceProperties(index)["name"].decode(),
        "memory_allocated": lambda index: pool.used_bytes(),
        "max_memory_allocated": lambda index: STATS.peak,
        "memory_reserved": lambda index: pool.total_bytes(),
        "reset_peak_memory_stats": reset_peak,
        "empty_cache": pool.free_all_blocks,
        "pin": pin,
        "stream_create": lambda index, priority: cupy.cuda.Stream(non_blocking=True),
        "default_stream": lambda index: cupy.cuda.Stream.null,
        "set_stream": lambda handle: handle.use(),
        "stream_synchronize": lambda handle: handle.synchronize(),
        "stream_query": lambda handle: handle.done,
        "stream_wait_event": lambda stream, event: stream.wait_event(event),
        "event_create": lambda enable_timing, blocking: cupy.cuda.Event(
            block=blocking, disable_timing=not enable_timing),
        "event_record": record,
        "event_synchronize": lambda event: event.synchronize(),
        "event_query": lambda event: event.done,
        "event_elapsed_time": cupy.cuda.get_elapsed_time,
        # CORELIB_CHECK_KERNELS: views must overlap their base (memory bounds, as NumPy's)
        "shares_memory": lambda a, b: bool(cupy.may_share_memory(a, b)),
    }


def runtime_table():
    """The ``BackendSpec.runtime`` entries for this process's mode."""
    table = {"unavailable_reason": lambda: runtime.REASON or ""}
    if runtime.SIMULATE:
        table.update(_simulated())
    elif runtime.DEVICE_COUNT:
        table.update(_real(runtime.xp))
    return table
