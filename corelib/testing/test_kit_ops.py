"""Conformance kit: the op table (corelib.testing's OpInfos) on the device under test, every
supported dtype: forward vs NumPy and PyTorch, gradients by finite differences and vs PyTorch.

``device`` comes from ``--corelib-device`` (pytest_plugin) or from a host's conftest (corelib's
tests/ops/test_op_table.py imports these tests and parametrizes every installed backend).
"""
import pytest

from corelib.testing import conformance, op_table
from corelib.testing.pytest_plugin import generate_tests, quick

__all__ = ["test_forward_numpy", "test_forward_torch", "test_forward_special", "test_gradcheck",
           "test_gradients_torch"]

pytest_generate_tests = generate_tests   # device: --corelib-device (a host's conftest: its own)

TABLE = op_table()


def _cases(selector=lambda info: True, dtypes=lambda info: info.dtypes):
    return [pytest.param(info, dt, id=f"{info.id}-{dt}") for info in TABLE if selector(info)
            for dt in dtypes(info)]


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("info,dtype", _cases(lambda i: i.ref is not None))
def test_forward_numpy(info, dtype, device):
    conformance.check_forward(info, device, dtype)


@pytest.mark.parametrize("info,dtype", _cases(lambda i: i.torch_ref is not None))
def test_forward_torch(info, dtype, device, torch):
    conformance.check_torch(info, device, dtype)


@pytest.mark.parametrize("info", [pytest.param(i, id=i.id) for i in TABLE
                                  if i.special is not None])
def test_forward_special(info, device):
    """NaN/inf/ties/zero-size/strided/rank-deficient samples, forward only, against the
    entry's special reference and PyTorch when it is installed."""
    from corelib._device import device as parse
    reason = info.special_skip.get(parse(device).type)
    if reason:
        pytest.skip(f"{info.id} special values on {device}: {reason}")
    try:
        import torch
    except ImportError:
        torch = None
    assert conformance.check_special(info, device, torch) > 0, f"{info.id}: no special samples"


# finite differences: slow, and their device-genericity is what test_gradients_torch checks
@pytest.mark.cpu_kernels_only
@pytest.mark.parametrize("info", [pytest.param(i, id=i.id) for i in TABLE if i.grad])
def test_gradcheck(info, device, request):
    conformance.check_gradients(info, device,
                                second_order=info.gradgrad and not quick(request.config))


@pytest.mark.parametrize("info", [pytest.param(i, id=i.id) for i in TABLE
                                  if i.grad and i.torch_ref is not None])
def test_gradients_torch(info, device, torch):
    conformance.check_gradients_torch(info, device)
