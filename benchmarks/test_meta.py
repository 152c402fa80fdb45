"""Building a model on the meta device: 15 x Linear(8192, 8192), 1.007e9 parameters (4 GB as
float32), with PyTorch's default init run as shape rules only. tests/plugins checks that the
peak RSS grows by a few MB; this measures the time."""
import pytest

import corelib
from corelib import nn

pytest.importorskip("corelib_meta")

LAYERS, WIDTH = 15, 8192


def build(device):
    return nn.Sequential(*[nn.Linear(WIDTH, WIDTH, device=device) for _ in range(LAYERS)])


@pytest.mark.parametrize("impl", ["corelib", "torch"])
def test_build_1b_parameter_model_on_meta(benchmark, impl, request):
    benchmark.group = "build 15 x Linear(8192, 8192) on meta (1.007e9 params)"
    if impl == "torch":
        torch = request.getfixturevalue("torch")
        model = benchmark(lambda: torch.nn.Sequential(
            *[torch.nn.Linear(WIDTH, WIDTH, device="meta") for _ in range(LAYERS)]))
    else:
        model = benchmark(build, "meta")
        benchmark.extra_info["params"] = sum(p.numel() for p in model.parameters())
    assert sum(p.numel() for p in model.parameters()) == LAYERS * (WIDTH * WIDTH + WIDTH)


@pytest.mark.parametrize("impl", ["corelib", "torch"])
def test_forward_backward_1b_parameter_model_on_meta(benchmark, impl, request):
    benchmark.group = "forward+backward of 15 x Linear(8192, 8192) on meta, batch 4"
    if impl == "torch":
        torch = request.getfixturevalue("torch")
        lib = torch
        model = torch.nn.Sequential(
            *[torch.nn.Linear(WIDTH, WIDTH, device="meta") for _ in range(LAYERS)])
    else:
        lib = corelib
        model = build("meta")
    x = lib.empty(4, WIDTH, device="meta")

    def step():
        model.zero_grad()
        model(x).sum().backward()
    benchmark(step)
    assert all(p.grad.shape == p.shape for p in model.parameters())
