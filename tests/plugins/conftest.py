"""Real backends for the plugin tests: a device registered in-process whose kernel table is a
subset (or a doctored copy) of the cpu backend's, with its own host conversions (copies, and a
counter of each, so tests can see data cross the host boundary)."""
import types

import numpy as np
import pytest

from corelib.dispatch import registry
from corelib.hookspecs import BackendSpec, hookimpl


class HostBackend:
    """A registered test device: ``kernels`` is its table, ``conversions`` counts to/from numpy
    and ``runtime`` calls (e.g. synchronize)."""

    def __init__(self, device_type, kernels, make_generator=None, runtime=None):
        self.device_type = device_type
        self.kernels = kernels
        self.conversions = {"to_numpy": 0, "from_numpy": 0}
        self.plugin = types.SimpleNamespace()
        backend = self

        def to_numpy(a):
            backend.conversions["to_numpy"] += 1
            return np.array(a, copy=True)

        def from_numpy(a, index=0):
            backend.conversions["from_numpy"] += 1
            return np.array(a, copy=True)

        @hookimpl
        def corelib_backend():
            return BackendSpec(device_type=device_type, kernels=kernels, to_numpy=to_numpy,
                               from_numpy=from_numpy,
                               make_generator=make_generator or np.random.default_rng,
                               distribution=f"test-{device_type}", runtime=runtime or {})
        self.plugin.corelib_backend = corelib_backend


@pytest.fixture
def cpu_kernels():
    return dict(pytest.importorskip("corelib_cpu").KERNELS)


@pytest.fixture
def make_backend():
    """``make_backend(device_type, kernels, **kw)`` registers a HostBackend for the test."""
    registry.load()   # entry-point plugins (cpu, the plugins under test) first
    made = []

    def make(device_type, kernels, **kwargs):
        backend = HostBackend(device_type, kernels, **kwargs)
        registry.register(backend.plugin, name=f"test-{device_type}")
        made.append(backend)
        return backend

    yield make
    for backend in made:
        registry.unregister(name=f"test-{backend.device_type}")
