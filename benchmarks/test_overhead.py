"""Per-op dispatch overhead: 4x4 float32 add without grad, mul with grad recording."""
import numpy as np
import pytest

import corelib

IMPLS = ["corelib", "numpy", "torch"]


def _operands(impl):
    if impl == "corelib":
        return corelib.ones(4, 4), corelib.ones(4, 4)
    if impl == "numpy":
        return np.ones((4, 4), np.float32), np.ones((4, 4), np.float32)
    torch = pytest.importorskip("torch")
    return torch.ones(4, 4), torch.ones(4, 4)


@pytest.mark.parametrize("impl", IMPLS)
def test_add_4x4_no_grad(benchmark, impl):
    benchmark.group = "add 4x4 float32, no grad"
    a, b = _operands(impl)
    benchmark(lambda: a + b)


@pytest.mark.parametrize("impl", ["corelib", "torch"])
def test_mul_4x4_recording_grad(benchmark, impl):
    benchmark.group = "mul 4x4 float32, grad recording"
    a, b = _operands(impl)
    a.requires_grad_(True)
    benchmark(lambda: a * b)


@pytest.mark.parametrize("impl", ["corelib", "torch"])
def test_chain_1000_ops_no_grad(benchmark, impl):
    """1000 small ops in a row (per-op dispatch cost)."""
    benchmark.group = "chain: 1000 ops on 4x4, no grad"
    a, b = _operands(impl)

    def chain():
        x = a
        for _ in range(500):
            x = x * b + a
    benchmark(chain)


@pytest.mark.parametrize("impl", ["corelib", "torch"])
def test_chain_1000_ops_backward(benchmark, impl):
    """1000 small ops recorded for autograd, then one backward through all of them."""
    benchmark.group = "chain: 1000 ops on 4x4 with grad, forward + backward"
    a, b = _operands(impl)
    a.requires_grad_(True)

    def chain():
        x = a
        for _ in range(500):
            x = x * b + a
        x.sum().backward()
        a.grad = None
    benchmark(chain)
