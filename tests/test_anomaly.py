"""corelib.autograd.detect_anomaly / set_detect_anomaly: forward stacks, NaN/inf checks."""
import contextlib
import math
import warnings

import pytest

import corelib
from corelib import autograd


@pytest.fixture(autouse=True)
def _anomaly_off():
    yield
    autograd.set_detect_anomaly(False)


@contextlib.contextmanager
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def test_off_by_default_and_toggles():
    assert not autograd.is_anomaly_enabled()
    autograd.set_detect_anomaly(True)
    assert autograd.is_anomaly_enabled() and corelib.is_anomaly_enabled()
    autograd.set_detect_anomaly(False)
    assert not autograd.is_anomaly_enabled()
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        with autograd.detect_anomaly():
            assert autograd.is_anomaly_enabled()
    assert not autograd.is_anomaly_enabled()


def test_set_detect_anomaly_as_context_restores():
    with autograd.set_detect_anomaly(True):
        assert autograd.is_anomaly_enabled()
    assert not autograd.is_anomaly_enabled()


def test_nan_in_backward_names_node_and_forward_line():
    x = corelib.tensor([-1.0, 1.0], requires_grad=True)
    with pytest.warns(UserWarning), autograd.detect_anomaly():
        y = corelib.sqrt(x)   # FORWARD-LINE-MARK
        with pytest.raises(RuntimeError) as info:
            (y * 0).sum().backward()
    msg = str(info.value)
    assert msg.startswith("Function 'SqrtBackward0' returned nan values in its 0th output.")
    assert "FORWARD-LINE-MARK" in msg and "test_anomaly.py" in msg
    assert x.grad is None   # the failing backward accumulated nothing


def test_inf_checked_unless_disabled():
    x = corelib.tensor([0.0, 1.0], requires_grad=True)
    with _quiet(), autograd.detect_anomaly():
        y = corelib.sqrt(x)
        with pytest.raises(RuntimeError, match="'SqrtBackward0' returned inf values"):
            y.sum().backward(retain_graph=True)
    with _quiet(), autograd.detect_anomaly(check_inf=False):   # PyTorch's own check: NaN only
        corelib.sqrt(x).sum().backward()
    assert math.isinf(x.grad[0].item()) and x.grad[1].item() == 0.5


def test_custom_function_nan_reported_with_its_name():
    class Bad(autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return g * float("nan")

    x = corelib.ones(3, requires_grad=True)
    with _quiet(), autograd.detect_anomaly():
        out = Bad.apply(x)
        with pytest.raises(RuntimeError, match="Function 'BadBackward' returned nan values in "
                                               "its 0th output"):
            out.sum().backward()


def test_backward_error_warns_with_forward_stack():
    class Boom(autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a.clone()

        @staticmethod
        def backward(ctx, g):
            raise ValueError("boom")

    x = corelib.ones(2, requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with autograd.detect_anomaly():
            y = Boom.apply(x)
            with pytest.raises(ValueError, match="boom"):
                y.sum().backward()
    texts = [str(w.message) for w in caught]
    assert any(t.startswith("Error detected in BoomBackward.") and "test_anomaly.py" in t
               for t in texts)


def test_finite_backward_unchanged_and_nodes_outside_mode_not_checked():
    x = corelib.tensor([1.0, 4.0], requires_grad=True)
    with _quiet(), autograd.detect_anomaly():
        corelib.sqrt(x).sum().backward()
    assert x.grad.tolist() == [0.5, 0.25]
    # off: NaN gradients pass through silently (as PyTorch)
    z = corelib.tensor([-1.0], requires_grad=True)
    (corelib.sqrt(z) * 0).sum().backward()
    assert math.isnan(z.grad.item())


def test_graph_built_outside_mode_has_no_stack_but_is_checked():
    x = corelib.tensor([-1.0], requires_grad=True)
    y = corelib.sqrt(x) * 0
    with _quiet(), autograd.detect_anomaly():
        with pytest.raises(RuntimeError, match="No forward pass information"):
            y.sum().backward()


def test_decorator_form():
    @autograd.detect_anomaly()
    def step(x):
        (corelib.log(x) * 0).sum().backward()

    with _quiet(), pytest.raises(RuntimeError, match="LogBackward0' returned nan"):
        step(corelib.tensor([0.0], requires_grad=True))
    assert not autograd.is_anomaly_enabled()


def test_matches_torch_message(torch):
    x = torch.tensor([-1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with torch.autograd.detect_anomaly():
            with pytest.raises(RuntimeError) as tinfo:
                (torch.sqrt(x) * 0).sum().backward()
    c = corelib.tensor([-1.0], requires_grad=True)
    with _quiet(), autograd.detect_anomaly():
        with pytest.raises(RuntimeError) as cinfo:
            (corelib.sqrt(c) * 0).sum().backward()
    assert str(cinfo.value).splitlines()[0] == str(tinfo.value).splitlines()[0]
