import os

import pytest


def _real_gpu():
    try:
        import cupy
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


# Without a GPU, the CUDA backend's kernels run on its CPU simulator (corelib_cuda.simulator):
# same sources, same backend code. Set CORELIB_CUDA_SIMULATE=0 to leave cuda out.
if "CORELIB_CUDA_SIMULATE" not in os.environ and not _real_gpu():
    os.environ["CORELIB_CUDA_SIMULATE"] = "1"

from corelib.testing import installed_devices  # noqa: E402

DEVICES = installed_devices()


def pytest_generate_tests(metafunc):
    if "device" in metafunc.fixturenames:
        metafunc.parametrize("device", DEVICES or [pytest.param("none", marks=pytest.mark.skip(
            reason="no backend installed"))])


@pytest.fixture
def torch():
    return pytest.importorskip("torch")
