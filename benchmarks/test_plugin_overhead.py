"""Per-op overhead of wrapper plugins: 4x4 float32 add without grad, with no wrapper plugin
active (installed plugins return None from corelib_wrap_kernel, so the resolved kernel is the
backend's own function), with the plugins unregistered (as before plugins existed) and with the
profiler recording every call."""
import pytest

import corelib
from corelib.dispatch import registry

corelib_profiler = pytest.importorskip("corelib_profiler")

PLUGINS = ("corelib_profiler", "corelib_crosscheck", "corelib_fallback")


@pytest.fixture
def unregistered():
    """The wrapper plugins out of the registry for the test, back afterwards."""
    registry.load()
    removed = [(name, registry.unregister(name=name)) for name in PLUGINS
               if registry.pm.get_plugin(name) is not None]
    yield
    for name, plugin in removed:
        registry.register(plugin, name=name)


@pytest.mark.parametrize("impl", ["corelib", "unregistered", "corelib+profiler"])
def test_add_4x4_plugin_overhead(benchmark, impl, request):
    benchmark.group = "add 4x4 float32, no grad: plugin overhead"
    if impl == "unregistered":
        request.getfixturevalue("unregistered")
    a, b = corelib.ones(4, 4), corelib.ones(4, 4)
    if impl != "corelib+profiler":
        assert not corelib_profiler.is_profiling()
        benchmark(lambda: a + b)
        return
    with corelib_profiler.profile() as prof:
        benchmark(lambda: a + b)
    assert [(s.op, s.device) for s in prof.stats()] == [("add", "cpu")]
