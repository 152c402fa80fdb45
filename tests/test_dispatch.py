"""The registry: device ownership, kernel cache, missing kernels, wrapper and fallback hooks.

The plugins registered here are real plugin objects (hookimpls with real NumPy kernels), the
same shape as an installed backend's module.
"""
import types

import numpy as np
import pytest

import corelib
from corelib.dispatch import registry
from corelib.hookspecs import BackendSpec, hookimpl


def make_backend(device_type, kernels):
    plugin = types.SimpleNamespace()

    @hookimpl
    def corelib_backend():
        return BackendSpec(device_type=device_type, kernels=kernels, to_numpy=np.asarray,
                           from_numpy=lambda a, i=0: a,
                           make_generator=lambda s: np.random.default_rng(s),
                           distribution=f"test-{device_type}")
    plugin.corelib_backend = corelib_backend
    return plugin


@pytest.fixture
def toy_device():
    """A second NumPy-backed device with only add and full kernels."""
    plugin = make_backend("toy", {"add": lambda a, b, out=...: np.add(a, b, out=out),
                                  "full": lambda shape, value, dtype, device_index:
                                  np.full(shape, value, dtype)})
    registry.register(plugin, name="toy")
    yield plugin
    registry.unregister(name="toy")


def test_cpu_backend_is_discovered_through_entry_points():
    registry.load()
    spec = registry.backends["cpu"]
    assert spec.distribution == "corelib-cpu"


def test_ops_run_on_a_registered_device(toy_device):
    a = corelib.full((2,), 1.5, device="toy")
    b = a + a
    assert b.device == corelib.device("toy:0") and b.tolist() == [3.0, 3.0]


def test_missing_kernel_names_op_device_and_plugin(toy_device):
    a = corelib.full((2,), 1.5, device="toy")
    with pytest.raises(NotImplementedError, match="'mul'.*'toy'.*test-toy"):
        a * a


def test_two_plugins_cannot_own_one_device(toy_device):
    with pytest.raises(RuntimeError, match="already provided by 'test-toy'"):
        registry.register(make_backend("toy", {}), name="toy2")
    assert registry.backends["toy"].distribution == "test-toy"
    assert registry.pm.get_plugin("toy2") is None


def test_unregister_clears_the_kernel_cache(toy_device):
    a = corelib.full((2,), 1.0, device="toy")
    _ = a + a
    assert ("add", "toy") in registry.cache
    registry.unregister(name="toy")
    try:
        assert ("add", "toy") not in registry.cache
        with pytest.raises(RuntimeError, match="no backend provides device 'toy'"):
            _ = a + a
    finally:
        registry.register(toy_device, name="toy")


def test_mixing_devices_raises(toy_device):
    a = corelib.full((2,), 1.0, device="toy")
    with pytest.raises(RuntimeError, match="same device"):
        a + corelib.ones(2)


def test_wrapper_hook_sees_every_kernel_call_only_while_registered():
    calls = []

    class Counter:
        @hookimpl
        def corelib_wrap_kernel(self, op, device_type, kernel):
            def wrapped(*args, **kwargs):
                calls.append(op)
                return kernel(*args, **kwargs)
            return wrapped

    x = corelib.ones(3)
    registry.register(Counter(), name="counter")
    try:
        (x + x).exp()
        assert calls == ["add", "exp"]
    finally:
        registry.unregister(name="counter")
    (x + x).exp()
    assert calls == ["add", "exp"]


def test_missing_kernel_hook_can_supply_a_fallback(toy_device):
    class Fallback:
        @hookimpl
        def corelib_missing_kernel(self, op, device_type):
            if op == "mul":
                return lambda a, b, out=...: np.multiply(a, b, out=out)

    registry.register(Fallback(), name="fallback")
    try:
        a = corelib.full((2,), 3.0, device="toy")
        assert (a * a).tolist() == [9.0, 9.0]
    finally:
        registry.unregister(name="fallback")


def test_broken_entry_point_is_reported_with_its_distribution(monkeypatch):
    from importlib import metadata
    from corelib.dispatch import Registry

    good = metadata.EntryPoint(name="cpu", value="corelib_cpu", group="corelib")
    broken = metadata.EntryPoint(name="broken", value="corelib_no_such_module", group="corelib")
    monkeypatch.setattr(metadata, "entry_points", lambda group: [broken, good])
    fresh = Registry()
    with pytest.warns(RuntimeWarning, match="broken.*failed to load"):
        fresh.load()
    assert "cpu" in fresh.backends
    assert any("corelib_no_such_module" in err for err in fresh.failures.values())


def test_plain_call_path_does_not_call_pluggy(monkeypatch):
    x = corelib.ones(4, 4)
    _ = (x + x, (x * x).sum())                 # resolve and cache

    def boom(*a, **k):
        raise AssertionError("pluggy consulted on the hot path")
    monkeypatch.setattr(registry, "_resolve", boom)
    _ = x + x
    _ = (x * x).sum()
