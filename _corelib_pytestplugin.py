"""pytest11 entry point of corelib: the conformance kit's option, nothing else until it is used.

``pytest --pyargs corelib.testing --corelib-device=NAME`` runs the kit against device NAME;
only then is corelib imported and the kit's hooks (corelib.testing.pytest_plugin) registered.
Without the option this module adds one command-line option and a marker, and does nothing
else (importing corelib here would cost every pytest run in the environment, like hypothesis's
``_hypothesis_pytestplugin`` this stays a top-level module).
"""


def pytest_addoption(parser):
    group = parser.getgroup("corelib", "corelib conformance kit")
    group.addoption("--corelib-device", action="store", default=None, metavar="NAME",
                    help="run the corelib conformance kit (pytest --pyargs corelib.testing "
                         "--corelib-device=NAME) against device NAME; ops whose kernels the "
                         "backend lacks are reported as skipped")
    group.addoption("--corelib-quick", action="store_true", default=False,
                    help="with --corelib-device: op-table forward checks in one dtype per "
                         "entry, first-order gradchecks only")


def pytest_configure(config):
    config.addinivalue_line("markers", "cpu_kernels_only: a check of kernel numerics only "
                            "(finite differences); a host may leave it out for devices that "
                            "borrow the cpu kernels")
    if config.getoption("corelib_device", None) is not None:
        from corelib.testing import pytest_plugin
        config.pluginmanager.register(pytest_plugin, "corelib-kit")
