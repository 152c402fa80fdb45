"""corelib.cuda (PyTorch's torch.cuda API) on the simulated device, and the backend's behaviour
on a machine without a GPU and without simulation."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import corelib
from corelib import nn

pytestmark = pytest.mark.skipif(not corelib.cuda.is_available(), reason="no cuda device")


def _real_gpu():
    try:
        import cupy
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


@pytest.mark.skipif(_real_gpu(), reason="a GPU is present")
def test_without_gpu_or_simulation_cuda_is_unavailable_and_says_why():
    code = """
import json, corelib
out = {"available": corelib.cuda.is_available(), "count": corelib.cuda.device_count()}
for name, fn in [("to", lambda: corelib.ones(2).to("cuda")),
                 ("factory", lambda: corelib.zeros(2, device="cuda")),
                 ("init", corelib.cuda.init)]:
    try:
        fn()
    except RuntimeError as exc:
        out[name] = str(exc)
out["cpu"] = (corelib.ones(3) * 2).tolist()
print(json.dumps(out))
"""
    env = {k: v for k, v in os.environ.items() if k != "CORELIB_CUDA_SIMULATE"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, check=True)
    out = json.loads(result.stdout)
    assert out["available"] is False and out["count"] == 0
    for key in ("to", "factory", "init"):
        assert "cuda is not available" in out[key]
        assert "driver" in out[key] or "device" in out[key] or "CuPy" in out[key]
        assert "CORELIB_CUDA_SIMULATE=1" in out[key]
    assert out["cpu"] == [2.0, 2.0, 2.0]


def test_device_queries():
    assert corelib.cuda.device_count() >= 1
    assert corelib.cuda.current_device() == 0
    corelib.cuda.set_device(0)
    with pytest.raises(RuntimeError, match="invalid device ordinal"):
        corelib.cuda.set_device(corelib.cuda.device_count())
    with pytest.raises(RuntimeError, match="invalid device ordinal"):
        corelib.ones(2, device=f"cuda:{corelib.cuda.device_count()}")
    assert isinstance(corelib.cuda.get_device_name(), str)
    assert corelib.get_device_module("cuda") is corelib.get_device_module(corelib.device("cuda"))


def test_memory_statistics_follow_allocations():
    corelib.cuda.synchronize()
    before = corelib.cuda.memory_allocated()
    corelib.cuda.reset_peak_memory_stats()
    x = corelib.empty(1024, 256, device="cuda")   # 1 MiB of float32
    assert corelib.cuda.memory_allocated() - before >= 1 << 20
    assert corelib.cuda.max_memory_allocated() >= before + (1 << 20)
    del x
    assert corelib.cuda.memory_allocated() == before
    assert corelib.cuda.max_memory_allocated() >= before + (1 << 20)
    corelib.cuda.empty_cache()


def test_streams_and_events_time_work():
    start, end = corelib.cuda.Event(enable_timing=True), corelib.cuda.Event(enable_timing=True)
    stream = corelib.cuda.Stream()
    with corelib.cuda.stream(stream):
        assert corelib.cuda.current_stream() == stream
        start.record()
        y = corelib.ones(256, 256, device="cuda") * 3
        end.record()
    assert corelib.cuda.current_stream() != stream
    end.synchronize()
    stream.synchronize()
    assert stream.query() and end.query()
    assert end.elapsed_time(start) <= 0 <= start.elapsed_time(end)
    assert y.sum().item() == 3 * 256 * 256
    with pytest.raises(RuntimeError, match="enable_timing"):
        corelib.cuda.Event().elapsed_time(end)


def test_transfers_as_in_pytorch():
    x = corelib.arange(12, dtype=corelib.float32).reshape(3, 4)
    pinned = x.pin_memory()
    assert pinned.is_pinned() and not x.is_pinned() and pinned.device.type == "cpu"
    for y in (x.cuda(), x.to("cuda"), pinned.to("cuda", non_blocking=True), x.cuda(0)):
        assert y.device == corelib.device("cuda", 0)
        np.testing.assert_array_equal(y.cpu().numpy(), x.numpy())
    with pytest.raises(RuntimeError, match="only dense CPU tensors"):
        x.cuda().pin_memory()


def test_module_to_cuda_moves_parameters_and_trains():
    corelib.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 1))
    reference = [p.detach().clone() for p in model.parameters()]
    model.to("cuda")
    assert all(p.device.type == "cuda" for p in model.parameters())
    assert all(b.device.type == "cuda" for b in model.buffers())
    opt = corelib.optim.SGD(model.parameters(), lr=0.1)
    x, y = corelib.randn(16, 4, device="cuda"), corelib.randn(16, 1, device="cuda")
    loss = nn.functional.mse_loss(model(x), y)
    loss.backward()
    opt.step()
    assert all(p.grad.device.type == "cuda" for p in model.parameters())
    moved = [p.detach().cpu() for p in model.parameters()]
    assert any(not np.allclose(a.numpy(), b.numpy()) for a, b in zip(moved, reference))


def test_dataloader_pins_batches():
    data = corelib.utils.data.TensorDataset(corelib.randn(10, 3), corelib.arange(10))
    loader = corelib.utils.data.DataLoader(data, batch_size=4, pin_memory=True)
    for xb, yb in loader:
        assert xb.is_pinned() and yb.is_pinned()
