"""Per-op overhead of wrapper plugins: 4x4 float32 add without grad, with no wrapper plugin
active (installed plugins return None from corelib_wrap_kernel, so the resolved kernel is the
backend's own function) and with the profiler recording every call."""
import pytest

import corelib

corelib_profiler = pytest.importorskip("corelib_profiler")


@pytest.mark.parametrize("impl", ["corelib", "corelib+profiler"])
def test_add_4x4_plugin_overhead(benchmark, impl):
    benchmark.group = "add 4x4 float32, no grad: plugin overhead"
    a, b = corelib.ones(4, 4), corelib.ones(4, 4)
    if impl == "corelib":
        assert not corelib_profiler.is_profiling()
        benchmark(lambda: a + b)
        return
    with corelib_profiler.profile() as prof:
        benchmark(lambda: a + b)
    assert [(s.op, s.device) for s in prof.stats()] == [("add", "cpu")]
