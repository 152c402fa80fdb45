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

# The borrowed device (tests/borrowed_device.py): every CPU kernel under the device name "npx",
# with data NumPy cannot see, so device-generic code runs on a device other than "cpu" even
# without a GPU. CORELIB_TEST_BORROWED_DEVICE: 1 (default) every test taking ``device`` but
# those marked ``cpu_kernels_only`` (slow checks of kernel numerics, which npx shares with cpu);
# full: those too; 0: no npx.
BORROWED = os.environ.get("CORELIB_TEST_BORROWED_DEVICE", "1")
BORROWED_DEVICE = None
if BORROWED != "0":
    from corelib.dispatch import registry  # noqa: E402

    import borrowed_device  # noqa: E402

    BORROWED_DEVICE = borrowed_device.DEVICE_TYPE
    registry.register(borrowed_device.make_plugin(), name=BORROWED_DEVICE)
    DEVICES = DEVICES + [BORROWED_DEVICE]


def pytest_configure(config):
    config.addinivalue_line("markers", "cpu_kernels_only: with a `device` argument, not run on "
                            "the borrowed npx device unless CORELIB_TEST_BORROWED_DEVICE=full")


def pytest_generate_tests(metafunc):
    """``device``: every installed backend, or the one given with --corelib-device (the
    conformance kit's option, corelib.testing.pytest_plugin). The kit's own test functions run
    here through imports (tests/ops)."""
    if "device" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("corelib_device", None)
        devices = [chosen] if chosen else DEVICES
        if BORROWED != "full" and metafunc.definition.get_closest_marker("cpu_kernels_only"):
            devices = [d for d in devices if d != BORROWED_DEVICE]
        metafunc.parametrize("device", devices or [pytest.param("none", marks=pytest.mark.skip(
            reason="no backend installed"))])


_MODULE_RNG_STATES = {}


@pytest.fixture(autouse=True)
def _seeded(request):
    """Every test starts from the same random state, whichever tests ran before it (-k, -x,
    another order): corelib's default generators, NumPy's and Python's global ones, PyTorch's
    when it is imported, and each NumPy Generator held at the test module's top level (``RNG =
    np.random.default_rng(0)``), put back to its state before the module's first test."""
    import random
    import sys

    import numpy as np

    import corelib
    corelib.manual_seed(0)
    np.random.seed(0)
    random.seed(0)
    if sys.modules.get("torch") is not None:   # its CPU generator (torch.manual_seed: ~3 ms)
        sys.modules["torch"].default_generator.manual_seed(0)
    module = getattr(request, "module", None)
    for name, value in list(vars(module).items()) if module is not None else ():
        if isinstance(value, np.random.Generator):
            state = _MODULE_RNG_STATES.setdefault((module.__name__, name),
                                                  value.bit_generator.state)
            value.bit_generator.state = state


@pytest.fixture
def torch():
    """PyTorch, the reference; under CI=true a failed import fails the test, never skips it.
    Its CPU generator is seeded as _seeded does (also when this is the first import)."""
    if os.environ.get("CI", "").lower() in ("true", "1"):
        import torch
    else:
        torch = pytest.importorskip("torch")
    torch.default_generator.manual_seed(0)
    return torch


# Under CI=true everything scripts/setup.sh installs must be there: a skip for a missing module
# (pytest.importorskip at module or test level, a skipif saying "... is not installed") is a
# failure, never a silent skip.
_CI = os.environ.get("CI", "").lower() in ("true", "1")
_MISSING = ("could not import", "is not installed")


def _missing_module_skip(report):
    if not (_CI and report.skipped and isinstance(report.longrepr, tuple)):
        return False
    return any(text in str(report.longrepr[2]) for text in _MISSING)


def _as_failure(report):
    report.outcome = "failed"
    report.longrepr = (f"{report.longrepr[2]}\n(CI=true: scripts/setup.sh installs this; a "
                       "missing module fails the run instead of skipping)")


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    report = outcome.get_result()
    if _missing_module_skip(report):
        _as_failure(report)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if _missing_module_skip(report):
        _as_failure(report)


@pytest.fixture(params=["direct", "columns"])
def cpu_conv_path(request):
    """Runs a test twice: with the CPU backend's compiled direct convolution (where its shape
    rule picks it) and with compiled kernels off (columns + GEMM everywhere)."""
    from corelib_cpu import native
    was = native.set_enabled(request.param == "direct")
    try:
        if request.param == "direct" and native.library() is None:
            pytest.skip("compiled kernels unavailable (the C++ compiler is not installed or "
                        f"failed): {native.status()}")
        yield request.param
    finally:
        native.set_enabled(was)
