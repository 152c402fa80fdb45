"""corelib-profiler against real backends: the cpu backend and a registered test device."""
import json
import threading

import pytest

import corelib
from corelib import nn
from corelib._ops.core import Op
from corelib.dispatch import registry

corelib_profiler = pytest.importorskip("corelib_profiler")
corelib_cpu = pytest.importorskip("corelib_cpu")


def training_step():
    corelib.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 1))
    opt = corelib.optim.SGD(model.parameters(), lr=0.1)
    x, y = corelib.randn(8, 4), corelib.randn(8, 1)
    with corelib_profiler.profile() as prof:
        loss = nn.functional.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return prof, model


def test_installed_but_inactive_profiler_does_not_wrap_kernels():
    registry.load()
    assert registry.pm.is_registered(corelib_profiler)
    assert not corelib_profiler.is_profiling()
    x = corelib.ones(2, 2)
    _ = x + x
    assert Op.all["add"].kernels["cpu"] is corelib_cpu.KERNELS["add"]
    assert registry.kernel("add", "cpu") is corelib_cpu.KERNELS["add"]
    assert corelib_profiler.corelib_wrap_kernel(op="add", device_type="cpu",
                                                kernel=corelib_cpu.KERNELS["add"]) is None


def test_wrapping_appears_at_start_and_disappears_at_stop():
    x = corelib.ones(2, 2)
    _ = x + x
    with corelib_profiler.profile() as prof:
        _ = x + x
        wrapped = Op.all["add"].kernels["cpu"]
        assert wrapped is not corelib_cpu.KERNELS["add"]
        assert wrapped.__wrapped__ is corelib_cpu.KERNELS["add"]
    _ = x + x
    assert Op.all["add"].kernels["cpu"] is corelib_cpu.KERNELS["add"]
    assert [e.op for e in prof.events] == ["add"]


def test_training_step_counts_and_table():
    prof, model = training_step()
    stats = {(s.op, s.device): s for s in prof.stats()}
    # forward: two linear layers, one relu; backward: a weight gradient per layer and an input
    # gradient for the second layer only (x does not require grad)
    assert stats["linear", "cpu"].calls == 2
    assert stats["relu", "cpu"].calls == 1
    assert stats["linear_backward_weight", "cpu"].calls == 2
    assert stats["linear_backward_input", "cpu"].calls == 1
    # the forward linears return 8x3 and 8x1 float32 arrays
    assert stats["linear", "cpu"].bytes_out == (8 * 3 + 8 * 1) * 4
    s = stats["linear", "cpu"]
    assert s.total_time > 0 and s.mean_time == pytest.approx(s.total_time / 2)
    assert sum(st.calls for st in stats.values()) == len(prof.events)

    rows = prof.stats()
    assert [r.total_time for r in rows] == sorted((r.total_time for r in rows), reverse=True)
    table = prof.table()
    lines = table.splitlines()
    assert lines[0].split() == ["op", "device", "calls", "total", "ms", "mean", "us", "bytes",
                                "out"]
    body = [line.split() for line in lines[2:2 + len(rows)]]
    assert [(b[0], b[1]) for b in body] == [(r.op, r.device) for r in rows]
    linear_row = next(b for b in body if b[0] == "linear")
    assert linear_row[2] == "2" and " ".join(linear_row[-2:]) == "128 B"
    assert lines[-1].split()[:2] == ["total", str(len(prof.events))]
    assert len(prof.table(limit=3).splitlines()) == 2 + 3 + 1 + 2


def test_chrome_trace(tmp_path):
    prof, _ = training_step()
    path = prof.export_chrome_trace(tmp_path / "trace.json")
    trace = json.loads(path.read_text())
    events = trace["traceEvents"]
    assert len(events) == len(prof.events) > 0
    for ev, rec in zip(events, prof.events):
        assert ev["ph"] == "X" and ev["name"] == rec.op
        assert ev["ts"] >= 0 and ev["dur"] >= 0
        assert ev["dur"] == pytest.approx(rec.duration_ns / 1e3)
        assert ev["args"]["device"] == "cpu"
        assert ev["args"]["shapes"] == [None if s is None else list(s) for s in rec.shapes]
        assert isinstance(ev["pid"], int) and isinstance(ev["tid"], int)
    ts = [ev["ts"] for ev in events]
    assert ts == sorted(ts)
    linear = next(ev for ev in events if ev["name"] == "linear")
    assert linear["args"]["shapes"] == [[8, 4], [3, 4], [3]]
    assert linear["args"]["bytes_out"] == 8 * 3 * 4
    mul = next(ev for ev in events if ev["name"] == "mul" and None in ev["args"]["shapes"])
    assert len(mul["args"]["shapes"]) == 2       # a scalar operand: null in its place


def test_nested_and_reentrant_profiles():
    x = corelib.ones(3)
    with corelib_profiler.profile() as outer:
        _ = x + x
        with corelib_profiler.profile() as inner:
            _ = x * x
            with outer:                       # reentrant: still one record per call
                _ = x - x
            assert outer.running
        assert not inner.running and corelib_profiler.is_profiling()
        _ = x / x
    assert not outer.running and not corelib_profiler.is_profiling()
    assert [e.op for e in outer.events] == ["add", "mul", "sub", "div"]
    assert [e.op for e in inner.events] == ["mul", "sub"]
    with pytest.raises(RuntimeError, match="not running"):
        outer.stop()


def test_profiles_may_stop_out_of_order():
    x = corelib.ones(3)
    a = corelib_profiler.profile().start()
    b = corelib_profiler.profile().start()
    _ = x + x
    a.stop()
    _ = x * x
    b.stop()
    _ = x - x
    assert [e.op for e in a.events] == ["add"]
    assert [e.op for e in b.events] == ["add", "mul"]
    assert Op.all["sub"].kernels["cpu"] is corelib_cpu.KERNELS["sub"]


def test_in_place_and_out_calls_count_the_written_bytes():
    x, y = corelib.ones(4, 4), corelib.ones(4, 4)
    with corelib_profiler.profile() as prof:
        x.add_(y)
        x[0] = 2.0
    add, setitem = prof.events
    assert (add.op, add.bytes_out) == ("add", 64)
    assert (setitem.op, setitem.bytes_out) == ("setitem", 0)


def test_profiling_does_not_disturb_random_streams():
    corelib.manual_seed(123)
    first, second = corelib.randn(5), corelib.randn(5)
    corelib.manual_seed(123)
    again = corelib.randn(5)
    with corelib_profiler.profile():
        then = corelib.randn(5)
    assert again.tolist() == first.tolist() and then.tolist() == second.tolist()


def test_synchronize_around_kernels_of_an_asynchronous_device(make_backend, cpu_kernels):
    syncs = []
    dev = make_backend("partial", cpu_kernels,
                       runtime={"synchronize": lambda index: syncs.append(index)})
    x = corelib.ones(3, device="partial")
    with corelib_profiler.profile() as prof:
        _ = x + x
    assert syncs == []
    with corelib_profiler.profile(synchronize=True) as prof:
        _ = x + x
        _ = x * x
    assert syncs == [0, 0, 0, 0]
    assert [(e.op, e.device) for e in prof.events] == [("add", "partial"), ("mul", "partial")]
    with corelib_profiler.profile(synchronize=True):
        _ = corelib.ones(3) + 1.0               # cpu kernels are not synchronised
    assert syncs == [0, 0, 0, 0]
    assert dev.kernels["add"] is cpu_kernels["add"]


def test_kernel_calls_from_other_threads_are_recorded():
    x = corelib.ones(3)
    with corelib_profiler.profile() as prof:
        t = threading.Thread(target=lambda: x + x)
        t.start()
        t.join()
        _ = x * x
    threads = {e.op: e.thread for e in prof.events}
    assert threads["add"] == t.ident and threads["mul"] == threading.get_ident()


def test_a_failing_kernel_is_not_recorded_and_the_error_passes_through():
    x, index = corelib.ones(3), corelib.tensor([5])
    with corelib_profiler.profile() as prof:
        with pytest.raises(RuntimeError, match="out of bounds"):
            x.gather(0, index)                  # the cpu kernel checks the bounds
        _ = x + x
    assert [e.op for e in prof.events] == ["add"]
