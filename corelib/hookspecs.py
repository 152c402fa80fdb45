"""The whole contract between corelib and its plugins.

A backend is a distribution with an entry point in the ``corelib`` group whose module (or
object) carries ``@hookimpl`` functions. It imports only this module and its array library; it
never sees a Tensor, only raw arrays, Python scalars and dtype *names* (``"float32"``).

Kernel conventions (what every kernel may rely on):

* Operands arrive already promoted: every array operand of an elementwise kernel has the
  compute dtype chosen by the frontend (PyTorch promotion); scalars are Python numbers.
* Elementwise kernels accept ``out=`` (an array of the result's shape and dtype) and write
  into it; the frontend uses this for in-place ops, so writes are visible through views.
* ``dim`` arguments are normalised: non-negative ints or tuples of them.
* Random kernels take ``generator=`` (the state object made by ``BackendSpec.make_generator``).
* Factory kernels, which make an array from no array operands (``full``, ``empty``, ``arange``,
  ``linspace``, ``eye`` and the random ones: ``uniform``, ``normal``, ``randint``, ``randperm``,
  ``exponential``, ``log_normal``, ``cauchy``, ``geometric``), take ``device_index=``: the index
  of the device the result must live on, as ``BackendSpec.from_numpy(arr, index)`` does. It is
  checked against ``device_count()`` before the kernel runs; a one-device backend ignores it.

* Each kernel's signature, return rule (a new array; a view sharing storage; ``out=``
  written and returned; a 0-d result is a 0-d array, never a NumPy scalar) and shape-and-dtype
  rule are data in the op records: ``corelib.contract``, ``python -m corelib kernels``,
  docs/kernels.md. A registering backend's table is checked against them
  (``corelib.contract.KernelContractWarning``). Debug mode ``CORELIB_CHECK_KERNELS=1`` checks
  every kernel result and raises RuntimeError naming op, device and plugin at the first bad one.

Discovery goes through pluggy once, at load; the hot path is a dict lookup (see dispatch.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import pluggy

PROJECT = "corelib"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@dataclass
class BackendSpec:
    """What a backend hands the registry.

    device_type: the device name it owns ("cpu", "cuda", ...); one backend per name.
    kernels: op name -> kernel callable.
    to_numpy / from_numpy: move data to and from NumPy (the interchange format).
    device_count: how many devices of this type exist (0 means unavailable).
    make_generator: seed -> random state object passed to random kernels.
    dtypes: dtype names this backend stores.
    priority: decides between two installed plugins claiming one device (higher wins; see
      corelib.dispatch for the override variable).
    has_data: False for a device whose tensors hold no data (``meta``: kernels run shape and
      dtype rules only); ``corelib.testing.installed_devices()`` and the test suites leave it
      out.
    runtime: device-runtime functions behind ``corelib.<device>`` (all optional):
      ``unavailable_reason()`` (why device_count is 0), ``synchronize(index)``,
      ``set_device(index)``, ``device_name(index)``, ``memory_allocated(index)``,
      ``max_memory_allocated(index)``, ``memory_reserved(index)``,
      ``reset_peak_memory_stats(index)``, ``empty_cache()``, ``pin(ndarray)`` (a page-locked
      host copy), streams (``stream_create(index, priority)``, ``default_stream(index)``,
      ``set_stream(h)``, ``stream_synchronize(h)``, ``stream_query(h)``,
      ``stream_wait_event(h, e)``) and events (``event_create(enable_timing, blocking)``,
      ``event_record(e, stream_h)``, ``event_synchronize(e)``, ``event_query(e)``,
      ``event_elapsed_time(start, end)`` in ms), ``shares_memory(a, b)`` (whether two arrays
      overlap in storage: lets ``CORELIB_CHECK_KERNELS=1`` check views on non-NumPy arrays).
    """
    device_type: str
    kernels: Mapping[str, Callable[..., Any]]
    to_numpy: Callable[[Any], Any]
    from_numpy: Callable[[Any, int], Any]
    make_generator: Callable[[int], Any]
    device_count: Callable[[], int] = lambda: 1
    dtypes: frozenset = frozenset({"bool", "uint8", "int8", "int16", "int32", "int64",
                                   "float16", "float32", "float64"})
    distribution: str = field(default="")
    priority: int = 0
    has_data: bool = True
    runtime: Mapping[str, Callable[..., Any]] = field(default_factory=dict)


@hookspec
def corelib_backend() -> BackendSpec | None:
    """Return this plugin's BackendSpec (or None if the plugin adds no device)."""


@hookspec
def corelib_wrap_kernel(op: str, device_type: str, kernel: Callable) -> Callable | None:
    """Return a callable that wraps ``kernel`` (profiling, checking, fallback), or None.

    Called once per (op, device) when the registry resolves a kernel, never per op call, so a
    process without wrapper plugins pays nothing. Wrappers apply in registration order. A
    plugin whose answer changes at run time (switched on or off) calls
    ``registry.invalidate_kernels()`` so the change takes effect at the next op call.
    """


@hookspec
def corelib_missing_kernel(op: str, device_type: str) -> Callable | None:
    """Offer a kernel for ``op`` on a device whose backend lacks it (e.g. a CPU fallback)."""


@dataclass
class CommBackendSpec:
    """What a communication plugin hands ``corelib.distributed`` (see its module doc).

    name: the backend name of ``init_process_group(backend=...)`` ("mpi", "nccl").
    devices: device types whose tensors it can communicate.
    array_kind: "numpy" - its communicator takes NumPy arrays (corelib stages tensors of other
      devices through their backend's ``to_numpy`` / ``from_numpy``); "native" - it takes the
      device backend's own arrays (CuPy arrays for NCCL).
    is_available: () -> bool, cheap, without initialising the library.
    unavailable_reason: () -> str, what is missing and the command that installs it.
    init: (timeout_seconds, env) -> the world communicator; rank discovery is the plugin's
      (MPI's own, or the launcher's environment variables in ``env``). A communicator has
      ``rank``, ``size``, ``split(ranks)``, ``destroy()``, ``abort(code)`` and non-blocking
      collectives on contiguous arrays returning requests with ``test()`` and
      ``wait(timeout_seconds)`` (TimeoutError when it expires): ``allreduce(a, op)``,
      ``reduce(a, root, op)``, ``broadcast(a, root)``, ``allgather(send, recv)``,
      ``allgatherv(send, recv, counts)``, ``reduce_scatter(send, recv, counts, op)``,
      ``gather(send, recv, root)``, ``scatter(send, recv, root)``, ``send(a, dst, tag)``,
      ``recv(a, src, tag)`` (src None: any source; the request's ``source`` tells) and
      ``barrier()``. ``op`` is one of "sum", "product", "min", "max".
    """
    name: str
    devices: tuple
    init: Callable[..., Any]
    is_available: Callable[[], bool]
    unavailable_reason: Callable[[], str] = lambda: ""
    array_kind: str = "numpy"
    distribution: str = field(default="")


@hookspec
def corelib_comm_backend() -> CommBackendSpec | None:
    """Return this plugin's communication backend (see CommBackendSpec), or None."""
