"""Benchmark helpers: every benchmark is parametrized by implementation (corelib, numpy,
torch) within a group; the terminal summary prints corelib's time as a ratio to the others,
taken from the same run, and whether the group's target (issue 9, README) is met."""
import pytest


# targets of issue 9 and the README: group prefix -> (reference implementation, ratio)
TARGETS = {
    "model: LSTM": ("torch", 1.5), "model: CNN": ("torch", 1.5),
    "model: transformer": ("torch", 1.5), "model: MLP": ("torch", 1.0),
    "large: add 10M": ("numpy", 1.05), "large: exp 10M": ("numpy", 1.05),
    "large: batched matmul": ("numpy", 1.05), "large: einsum": ("numpy", 1.0),
    "add 4x4 float32, no grad": ("torch", 1.0), "mul 4x4 float32, grad recording": ("torch", 1.5),
    "chain: 1000 ops on 4x4, no grad": ("torch", 1.0),
}


def _target(group):
    for prefix, target in TARGETS.items():
        if group.startswith(prefix):
            return target
    return None


def pytest_terminal_summary(terminalreporter, config):
    session = getattr(config, "_benchmarksession", None)
    if session is None or session.disabled or not session.benchmarks:
        return
    groups, extras, interleaved = {}, {}, {}
    for bench in session.benchmarks:
        if "ratio" in bench.extra_info:   # one benchmark timing both, alternated
            interleaved[bench.group] = bench.extra_info
            continue
        impl = bench.name[bench.name.find("[") + 1:].split("-")[0].rstrip("]")
        groups.setdefault(bench.group, {})[impl] = bench.stats.median
        if impl == "corelib" and bench.extra_info:
            extras[bench.group] = ", ".join(f"{k} {v}" for k, v in bench.extra_info.items())
    terminalreporter.section("corelib time / reference time (median, same run)")
    terminalreporter.write_line(f"{'group':56s} {'corelib':>12s}   ratios   [target]")
    for group, times in sorted(groups.items()):
        ours = times.get("corelib")
        if ours is None:
            continue
        ratios = ", ".join(f"vs {impl}: {ours / t:.2f}x" for impl, t in sorted(times.items())
                           if impl != "corelib")
        # models and the large arrays with a NumPy target are checked interleaved (below)
        target = None if group.startswith("model:") or group + ", interleaved" in interleaved \
            else _target(group)
        if target and target[0] in times:
            ratio = ours / times[target[0]]
            ratios += (f"   [<= {target[1]:g}x {target[0]}: "
                       f"{'met' if ratio <= target[1] else 'MISSED'}]")
        extra = f"   ({extras[group]})" if group in extras else ""
        terminalreporter.write_line(f"{group:56s} {_fmt(ours):>12s}   {ratios}{extra}")
    for group, info in sorted(interleaved.items()):
        ratio, ref = info["ratio"], info["reference"]
        line = f"vs {ref}: {ratio:.2f}x (per-round median, range {info['range']})"
        target = _target(group)
        if target:
            line += (f"   [<= {target[1]:g}x {target[0]}: "
                     f"{'met' if ratio <= target[1] else 'MISSED'}]")
        terminalreporter.write_line(f"{group:56s} {'':>12s}   {line}")


def _fmt(seconds):
    return f"{seconds * 1e3:.2f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.2f} us"


@pytest.fixture
def torch():
    return pytest.importorskip("torch")
