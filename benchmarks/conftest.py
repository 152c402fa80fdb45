"""Benchmark helpers: every benchmark is parametrized by implementation (corelib, numpy,
torch) within a group; the terminal summary prints corelib's time as a ratio to the others,
taken from the same run."""
import pytest


def pytest_terminal_summary(terminalreporter, config):
    session = getattr(config, "_benchmarksession", None)
    if session is None or session.disabled or not session.benchmarks:
        return
    groups, extras = {}, {}
    for bench in session.benchmarks:
        impl = bench.name[bench.name.find("[") + 1:].split("-")[0].rstrip("]")
        groups.setdefault(bench.group, {})[impl] = bench.stats.median
        if impl == "corelib" and bench.extra_info:
            extras[bench.group] = ", ".join(f"{k} {v}" for k, v in bench.extra_info.items())
    terminalreporter.section("corelib time / reference time (median, same run)")
    for group, times in sorted(groups.items()):
        ours = times.get("corelib")
        if ours is None:
            continue
        ratios = ", ".join(f"vs {impl}: {ours / t:.2f}x" for impl, t in sorted(times.items())
                           if impl != "corelib")
        extra = f"   ({extras[group]})" if group in extras else ""
        terminalreporter.write_line(f"{group:40s} corelib {ours * 1e6:10.2f} us   {ratios}{extra}")


@pytest.fixture
def torch():
    return pytest.importorskip("torch")
