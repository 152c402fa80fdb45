import pytest

from corelib.testing import installed_devices

DEVICES = installed_devices()


def pytest_generate_tests(metafunc):
    if "device" in metafunc.fixturenames:
        metafunc.parametrize("device", DEVICES or [pytest.param("none", marks=pytest.mark.skip(
            reason="no backend installed"))])


@pytest.fixture
def torch():
    return pytest.importorskip("torch")
