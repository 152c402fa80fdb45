"""The conformance kit's pytest hooks, registered by corelib's ``pytest11`` entry point
(the top-level module _corelib_pytestplugin) when ``--corelib-device`` is given.

A backend author runs, from any directory::

    pytest --pyargs corelib.testing --corelib-device=NAME

and gets the op table (forward vs NumPy and PyTorch, gradients by finite differences and vs
PyTorch), autograd checks and nn checks (layers, an MLP training step, optimizer steps) on
device NAME. A check that needs a kernel the backend lacks is reported as skipped, naming the
kernel; the run ends with a coverage summary. ``--corelib-quick``: op-table forward checks in
one dtype per entry and first-order gradchecks only.

Without ``--corelib-device`` nothing here is imported: the kit's modules, when collected, skip
(``generate_tests``), and a project that imports the kit's test functions into its own test
modules parametrizes ``device`` itself (corelib's tests/conftest.py does, over every installed
backend).
"""
from __future__ import annotations

import os
import re
from collections import defaultdict

import pytest

KIT_PACKAGE = "corelib.testing"
_MISSING = re.compile(r"op '([^']+)' has no kernel for device")


def kit_device(config):
    """The device under test given with --corelib-device, or None (the kit is off)."""
    return config.getoption("corelib_device", None)


def quick(config):
    return bool(config.getoption("corelib_quick", False))


def is_kit_function(function):
    """Whether a test function is one of the kit's (wherever it was collected)."""
    return getattr(function, "__module__", "").startswith(KIT_PACKAGE + ".test_kit")


def pytest_configure(config):
    device = kit_device(config)
    from corelib.dispatch import registry
    from corelib._device import device as parse
    try:
        device_type = parse(device).type
        if registry.backend(device_type).device_count() < 1:
            raise RuntimeError(f"backend {device_type!r} reports no device (device_count() 0)")
        if not registry.backend(device_type).has_data:
            raise RuntimeError(f"device {device_type!r} holds no data (BackendSpec.has_data "
                               f"is False) and the kit compares values")
        if device_type != "cpu":
            registry.backend("cpu")   # the host: references and cpu operands live there
    except Exception as exc:
        raise pytest.UsageError(f"--corelib-device={device}: {exc}") from None
    # every kernel result checked against the contract: a wrong kernel is named where it
    # returns, not where a later check trips (CORELIB_CHECK_KERNELS=0 switches this off)
    os.environ.setdefault("CORELIB_CHECK_KERNELS", "1")
    registry.invalidate_kernels()
    config.stash[_STATE] = _KitState(device)


class _KitState:
    def __init__(self, device):
        self.device = device
        self.outcomes = defaultdict(list)   # op-table entry id -> ["passed", ...]
        self.missing = defaultdict(set)     # kernel name -> ids of the tests it skipped


_STATE = pytest.StashKey[_KitState]()


def generate_tests(metafunc):
    """``pytest_generate_tests`` of the kit's modules: ``device`` is --corelib-device's, or
    every test skips without it. (Hosts that import the kit's tests parametrize ``device`` in
    their own conftest.)"""
    if "device" not in metafunc.fixturenames:
        return
    device = kit_device(metafunc.config)
    if device is None:
        metafunc.parametrize("device", [pytest.param(None, id="kit-off", marks=pytest.mark.skip(
            reason="corelib conformance kit: pass --corelib-device=NAME"))])
    else:
        metafunc.parametrize("device", [device])


def missing_kernel(exc):
    """The kernel name of a missing-kernel error, or None for any other exception."""
    from corelib.dispatch import KernelNotImplementedError
    if not isinstance(exc, KernelNotImplementedError):
        return None
    if exc.op is not None:
        return exc.op
    found = _MISSING.search(str(exc))
    return found.group(1) if found else "?"


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem):
    """With --corelib-device, a kit check that needs a missing kernel is skipped, naming it."""
    try:
        return (yield)
    except Exception as exc:
        state = pyfuncitem.config.stash.get(_STATE, None)
        name = missing_kernel(exc) if state is not None and \
            is_kit_function(pyfuncitem.function) else None
        if name is None:
            raise
        state.missing[name].add(pyfuncitem.nodeid)
        pytest.skip(f"missing kernel '{name}' on {state.device}")


def quick_dtype(info):
    """The one dtype ``--corelib-quick`` runs for an op-table entry."""
    return "float32" if "float32" in info.dtypes else info.dtypes[0]


def pytest_collection_modifyitems(config, items):
    """``--corelib-quick``: op-table forward checks in one dtype per entry."""
    if kit_device(config) is None or not quick(config):
        return
    keep, drop = [], []
    for item in items:
        params = getattr(item, "callspec", None) and item.callspec.params
        if params and "dtype" in params and "info" in params and \
                is_kit_function(item.function) and params["dtype"] != quick_dtype(params["info"]):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _entry(item):
    """The op-table entry id of a kit op test item, or None."""
    info = getattr(item, "callspec", None) and item.callspec.params.get("info")
    return getattr(info, "id", None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    state = item.config.stash.get(_STATE, None)
    if state is not None and is_kit_function(getattr(item, "function", None)):
        entry = _entry(item)
        if entry is not None and (report.when == "call" or report.outcome != "passed"):
            state.outcomes[entry].append(report.outcome)
    return report


def entry_outcome(outcomes):
    """One op-table entry's outcome from its tests': failed > passed > skipped."""
    if "failed" in outcomes:
        return "failed"
    return "passed" if "passed" in outcomes else "skipped"


def pytest_terminal_summary(terminalreporter, config):
    state = config.stash.get(_STATE, None)
    if state is None:
        return
    from corelib.__main__ import coverage
    from corelib._device import device as parse
    implemented, fallback, missing = coverage(parse(state.device).type)
    total = len(implemented) + len(fallback) + len(missing)
    tr = terminalreporter
    tr.section(f"corelib conformance kit: {state.device}")
    tr.write_line(f"kernels: {len(implemented)} implemented / {total}"
                  + (f" ({len(fallback)} more through a fallback plugin)" if fallback else ""))
    counts = defaultdict(int)
    for outcomes in state.outcomes.values():
        counts[entry_outcome(outcomes)] += 1
    if state.outcomes:
        tr.write_line(f"op-table entries: {counts['passed']} passed, {counts['failed']} "
                      f"failed, {counts['skipped']} skipped (of {len(state.outcomes)} run)")
    if state.missing:
        tr.write_line(f"missing kernels that caused skips ({len(state.missing)}):")
        for name in sorted(state.missing):
            tr.write_line(f"  {name}: {len(state.missing[name])} skipped")
