"""``corelib.cuda`` and ``corelib.get_device_module(name)``: PyTorch's per-device runtime API.

Everything device-specific comes from the backend's ``BackendSpec.runtime`` table (see
corelib.hookspecs): synchronisation, memory statistics, streams and events. A backend that
leaves an entry out gets the behaviour of a device that runs synchronously with no memory
statistics (synchronize is a no-op, memory counters are 0, events time with the host clock).
"""
from __future__ import annotations

import time
from contextlib import contextmanager

from ._device import CURRENT_INDEX
from .dispatch import BackendNotFoundError, registry

__all__ = ["DeviceModule", "get_device_module", "check_available"]


def check_available(device):
    """Raise RuntimeError unless ``device`` (a canonical non-cpu device) can hold tensors: its
    backend reports a device with that index; the error says what is missing."""
    count = registry.backend(device.type).device_count()
    if count == 0:
        raise RuntimeError(f"{device.type} is not available: "
                           f"{get_device_module(device.type).unavailable_reason()}")
    if device.index is not None and device.index >= count:
        raise RuntimeError(f"{device.type} error: invalid device ordinal {device.index} "
                           f"({count} {device.type} device(s) available)")


class DeviceModule:
    """The ``corelib.<device>`` namespace of one device type (``corelib.cuda`` for 'cuda')."""

    def __init__(self, device_type):
        self.device_type = device_type
        outer = self

        class Stream:
            """A queue of work on one device (``corelib.cuda.Stream(device=None, priority=0)``)."""

            def __init__(self, device=None, priority=0, *, _handle=None):
                self.device_index = outer._index(device)
                self.priority = priority
                self._handle = _handle if _handle is not None else \
                    outer._call("stream_create", None, self.device_index, priority)

            def synchronize(self):
                """Wait for all work queued on this stream."""
                outer._call("stream_synchronize", None, self._handle)

            def query(self):
                """True if all work queued on this stream has finished."""
                return bool(outer._call("stream_query", True, self._handle))

            def wait_event(self, event):
                """Make future work on this stream wait for ``event``."""
                outer._call("stream_wait_event", None, self._handle, event._handle)

            def wait_stream(self, stream):
                """Make future work on this stream wait for the work queued on ``stream``."""
                self.wait_event(stream.record_event())

            def record_event(self, event=None):
                """Record ``event`` (a new one if None) on this stream and return it."""
                event = event or Event()
                event.record(self)
                return event

            def __eq__(self, other):
                return isinstance(other, Stream) and self._handle is other._handle

            def __hash__(self):
                return id(self._handle)

            def __repr__(self):
                return f"<corelib.{outer.device_type}.Stream device={outer.device_type}:" \
                       f"{self.device_index} priority={self.priority}>"

        class Event:
            """A marker in a stream, for synchronisation and timing (``elapsed_time`` in ms)."""

            def __init__(self, enable_timing=False, blocking=False, interprocess=False):
                self.enable_timing = enable_timing
                self._handle = outer._call("event_create", None, enable_timing, blocking)
                self._time = None

            def record(self, stream=None):
                """Record this event on ``stream`` (default: the current stream)."""
                stream = stream or outer.current_stream()
                self._time = time.perf_counter()
                outer._call("event_record", None, self._handle, stream._handle)

            def synchronize(self):
                """Wait until the work before this event has finished."""
                outer._call("event_synchronize", None, self._handle)

            def query(self):
                return bool(outer._call("event_query", True, self._handle))

            def elapsed_time(self, end_event):
                """Milliseconds between this event and ``end_event`` (both recorded)."""
                if not (self.enable_timing and end_event.enable_timing):
                    raise RuntimeError("elapsed_time(): both events must be created with "
                                       "enable_timing=True")
                if self._time is None or end_event._time is None:
                    raise RuntimeError("elapsed_time(): both events must be recorded first")
                fn = self._runtime().get("event_elapsed_time")
                if fn is not None:
                    return float(fn(self._handle, end_event._handle))
                return (end_event._time - self._time) * 1e3

            def wait(self, stream=None):
                (stream or outer.current_stream()).wait_event(self)

            def _runtime(self):
                return outer._runtime()

        self.Stream, self.Event = Stream, Event
        self._streams = {}

    # -- plumbing --------------------------------------------------------------------------
    def _spec(self):
        return registry.backend(self.device_type)

    def _runtime(self):
        return self._spec().runtime

    def _call(self, name, default, *args):
        fn = self._runtime().get(name)
        return default if fn is None else fn(*args)

    def _index(self, device):
        if device is None:
            return self.current_device()
        if isinstance(device, int):
            index = device
        else:
            from ._device import device as make_device
            d = make_device(device)
            if d.type != self.device_type:
                raise ValueError(f"expected a {self.device_type} device, got {d}")
            index = self.current_device() if d.index is None else d.index
        self._check_index(index)
        return index

    def _check_index(self, index):
        count = self.device_count()
        if not 0 <= index < max(count, 1) or count == 0:
            raise RuntimeError(f"{self.device_type} error: invalid device ordinal {index} "
                               f"({count} {self.device_type} device(s) available)")

    # -- PyTorch's API -----------------------------------------------------------------------
    def is_available(self):
        """True if at least one device of this type can be used."""
        try:
            return self._spec().device_count() > 0
        except BackendNotFoundError:
            return False

    def unavailable_reason(self):
        """Why no device of this type can be used ('' if one can)."""
        try:
            spec = self._spec()
        except BackendNotFoundError as exc:
            return str(exc)
        if spec.device_count() > 0:
            return ""
        reason = spec.runtime.get("unavailable_reason")
        return reason() if reason else f"backend {spec.distribution!r} reports no device"

    def is_initialized(self):
        return self.is_available()

    def init(self):
        """Raise a RuntimeError saying what is missing if this device type cannot be used."""
        if not self.is_available():
            raise RuntimeError(f"{self.device_type} is not available: "
                               f"{self.unavailable_reason()}")

    def device_count(self):
        """Number of devices of this type (0 if unavailable)."""
        return self._spec().device_count() if self.is_available() else 0

    def current_device(self):
        """Index of the selected device (where ``device="<type>"`` without an index goes)."""
        return CURRENT_INDEX.get(self.device_type, 0)

    def set_device(self, device):
        """Select the device that index-less tensors and streams use."""
        self.init()
        index = self._index(device)
        self._call("set_device", None, index)
        CURRENT_INDEX[self.device_type] = index

    @contextmanager
    def device(self, device):
        """Context manager selecting ``device`` for its body."""
        previous = self.current_device()
        self.set_device(device)
        try:
            yield
        finally:
            self.set_device(previous)

    def get_device_name(self, device=None):
        return self._call("device_name", self.device_type, self._index(device))

    def synchronize(self, device=None):
        """Wait for all work queued on the device."""
        if self.is_available():
            self._call("synchronize", None, self._index(device))

    def memory_allocated(self, device=None):
        """Bytes currently held by tensors on the device."""
        return int(self._call("memory_allocated", 0, self._index(device)))

    def max_memory_allocated(self, device=None):
        """Peak of memory_allocated since start or reset_peak_memory_stats."""
        return int(self._call("max_memory_allocated", 0, self._index(device)))

    def memory_reserved(self, device=None):
        """Bytes held by the caching allocator (allocated plus cached)."""
        return int(self._call("memory_reserved", 0, self._index(device)))

    def reset_peak_memory_stats(self, device=None):
        self._call("reset_peak_memory_stats", None, self._index(device))

    def empty_cache(self):
        """Release cached, unused device memory to the driver."""
        if self.is_available():
            self._call("empty_cache", None)

    def manual_seed(self, seed):
        """Seed the default generator of the current device."""
        from ._random import default_generator
        default_generator(self.device_type).manual_seed(seed)

    def manual_seed_all(self, seed):
        """Seed the default generator of every device of this type."""
        from ._random import default_generator
        for index in range(max(self.device_count(), 1)):
            default_generator(f"{self.device_type}:{index}").manual_seed(seed)

    def seed(self):
        """Seed the current device's default generator with a random number; return it."""
        from ._random import default_generator
        return default_generator(self.device_type).seed()

    def seed_all(self):
        """Seed every device's default generator with one random number."""
        self.manual_seed_all(self.seed())

    def initial_seed(self):
        from ._random import default_generator
        return default_generator(self.device_type).initial_seed()

    def current_stream(self, device=None):
        """The stream work is queued on (the default stream unless changed with ``stream``)."""
        index = self._index(device)
        stream = self._streams.get(index)
        return stream if stream is not None else self.default_stream(index)

    def default_stream(self, device=None):
        index = self._index(device)
        handle = self._call("default_stream", "default", index)
        return self.Stream(index, _handle=handle)

    @contextmanager
    def stream(self, stream):
        """Context manager making ``stream`` current (None: no change)."""
        if stream is None:
            yield
            return
        index = stream.device_index
        previous = self._streams.get(index)
        self._streams[index] = stream
        self._call("set_stream", None, stream._handle)
        try:
            yield
        finally:
            self._streams[index] = previous
            self._call("set_stream", None, previous._handle if previous is not None else
                       self._call("default_stream", "default", index))

    def __repr__(self):
        return f"<corelib device module {self.device_type!r}>"


_MODULES: dict = {}


def get_device_module(device=None):
    """The ``corelib.<device>`` module of a device type or device (PyTorch's name)."""
    from ._device import device as make_device
    kind = "cuda" if device is None else make_device(device).type
    module = _MODULES.get(kind)
    if module is None:
        module = _MODULES[kind] = DeviceModule(kind)
    return module
