"""GPU group: corelib's CUDA kernels against CuPy's own kernels and PyTorch CUDA, on a real GPU.

Skips without one (the simulator measures nothing about GPU speed). Memory-bound benchmarks
also report the achieved bandwidth against the device's peak (``extra_info``, printed in the
ratio summary). Run: bash scripts/bench.sh benchmarks/test_gpu.py
"""
import os

import pytest

import corelib


def _gpu():
    if os.environ.get("CORELIB_CUDA_SIMULATE") == "1":
        return False
    try:
        import cupy
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


pytestmark = pytest.mark.skipif(not _gpu(), reason="needs a real CUDA GPU")
IMPLS = ["corelib", "cupy", "torch"]
N = 1 << 24   # 16M float32: memory-bound


def peak_bandwidth():
    """Bytes/s of the device's memory bus (2 transfers per clock)."""
    import cupy
    props = cupy.cuda.runtime.getDeviceProperties(0)
    return 2 * props["memoryClockRate"] * 1e3 * props["memoryBusWidth"] / 8


def run(benchmark, group, impl, fns, nbytes=None):
    """Time ``fns[impl]`` (synchronised); record bandwidth if ``nbytes`` moved per call."""
    benchmark.group = group
    if impl not in fns:
        pytest.skip(f"{impl} has no {group}")
    import cupy
    fn = fns[impl]

    def synced():
        fn()
        cupy.cuda.Device().synchronize()
    benchmark.pedantic(synced, rounds=20, warmup_rounds=3)
    if nbytes:
        achieved = nbytes / benchmark.stats.stats.median
        benchmark.extra_info["GB/s"] = round(achieved / 1e9, 1)
        benchmark.extra_info["peak fraction"] = round(achieved / peak_bandwidth(), 3)


def inputs(impl, *shape):
    import cupy
    if impl == "corelib":
        return corelib.randn(*shape, device="cuda")
    if impl == "cupy":
        return cupy.random.standard_normal(shape, dtype=cupy.float32)
    torch = pytest.importorskip("torch")
    return torch.randn(*shape, device="cuda")


@pytest.mark.parametrize("impl", IMPLS)
def test_add(benchmark, impl):
    x, y = inputs(impl, N), inputs(impl, N)
    run(benchmark, "gpu add 16M float32", impl, {"corelib": lambda: x + y, "cupy": lambda: x + y,
                                                "torch": lambda: x + y}, nbytes=3 * 4 * N)


@pytest.mark.parametrize("impl", IMPLS)
def test_exp(benchmark, impl):
    x = inputs(impl, N)
    import cupy
    run(benchmark, "gpu exp 16M float32", impl, {"corelib": lambda: x.exp(),
                                                "cupy": lambda: cupy.exp(x),
                                                "torch": lambda: x.exp()}, nbytes=2 * 4 * N)


@pytest.mark.parametrize("impl", IMPLS)
def test_sum_rows(benchmark, impl):
    x = inputs(impl, 4096, 4096)
    run(benchmark, "gpu sum(dim=1) 4096x4096", impl,
        {"corelib": lambda: x.sum(dim=1), "cupy": lambda: x.sum(axis=1),
         "torch": lambda: x.sum(dim=1)}, nbytes=4 * 4096 * 4096)


@pytest.mark.parametrize("impl", ["corelib", "torch"])
def test_softmax(benchmark, impl):
    x = inputs(impl, 4096, 1024)
    lib = corelib if impl == "corelib" else pytest.importorskip("torch")
    run(benchmark, "gpu softmax 4096x1024", impl,
        {impl: lambda: lib.nn.functional.softmax(x, dim=-1)}, nbytes=2 * 4 * 4096 * 1024)


@pytest.mark.parametrize("impl", ["corelib", "torch"])
def test_conv2d(benchmark, impl):
    lib = corelib if impl == "corelib" else pytest.importorskip("torch")
    x = inputs(impl, 32, 16, 32, 32)
    conv = lib.nn.Conv2d(16, 32, 3, padding=1).to("cuda")
    run(benchmark, "gpu conv2d fwd+bwd 32x16x32x32", impl,
        {impl: lambda: conv(x).sum().backward()})


@pytest.mark.parametrize("impl", ["corelib", "torch"])
def test_training_step(benchmark, impl):
    lib = corelib if impl == "corelib" else pytest.importorskip("torch")
    nn = lib.nn
    lib.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(32 * 8 * 8, 10)).to("cuda")
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = inputs(impl, 32, 3, 32, 32)
    y = lib.randint(0, 10, (32,), device="cuda")

    def step():
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    run(benchmark, "gpu CNN training step (SGD, batch 32)", impl, {impl: step})
