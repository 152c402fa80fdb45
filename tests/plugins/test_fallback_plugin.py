"""corelib-fallback against real backends: a device 'partial' whose kernel table is a subset of
the cpu backend's (with its own host conversions), the rest served by the cpu fallback."""
import inspect
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import corelib
from corelib import nn
from corelib._ops.core import Op
from corelib.dispatch import registry

corelib_fallback = pytest.importorskip("corelib_fallback")
pytest.importorskip("corelib_cpu")

# what 'partial' implements: factories, add, the view kernels and copy_; everything else
# (mul, exp, setitem, matmul, reductions, ...) is missing
PARTIAL = ("full", "arange", "add", "copy_", "reshape", "view", "expand", "permute",
           "getitem", "is_contiguous", "strides", "storage_offset", "astype", "contiguous",
           "clone")


@pytest.fixture(autouse=True)
def fallback_off():
    """Each test starts with the fallback off, even under CORELIB_FALLBACK=1."""
    was = corelib_fallback.is_enabled()
    corelib_fallback.disable()
    yield
    if was:
        corelib_fallback.enable()


@pytest.fixture
def partial(make_backend, cpu_kernels):
    return make_backend("partial", {name: cpu_kernels[name] for name in PARTIAL})


@pytest.fixture
def fallback():
    corelib_fallback.enable()
    yield corelib_fallback
    corelib_fallback.disable()


def tensor(values, **kwargs):
    return corelib.tensor(values, device="partial", **kwargs)


def test_disabled_by_default_missing_kernels_raise(partial):
    registry.load()
    assert registry.pm.is_registered(corelib_fallback) and not corelib_fallback.is_enabled()
    x = tensor([1.0, 2.0])
    with pytest.raises(NotImplementedError, match="'mul' has no kernel for device 'partial'"):
        x * x
    assert corelib_fallback.corelib_missing_kernel(op="mul", device_type="partial") is None


def test_missing_op_runs_on_cpu_and_warns_once(partial, fallback):
    x = tensor([1.0, 2.0, 3.0])
    before = dict(partial.conversions)
    with pytest.warns(UserWarning, match="op 'mul' has no kernel for device 'partial'.*"
                                         "falling back to cpu") as record:
        y = x * x
    assert record[0].filename == __file__          # points at the user's line
    assert y.device == corelib.device("partial:0") and y.tolist() == [1.0, 4.0, 9.0]
    # the input went to the host, the result came back through the device's from_numpy
    assert partial.conversions["to_numpy"] > before["to_numpy"]
    assert partial.conversions["from_numpy"] > before["from_numpy"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert (x * 2.0).tolist() == [2.0, 4.0, 6.0]   # no second warning for mul
    assert (x + x).tolist() == [2.0, 4.0, 6.0]          # partial's own add: no fallback
    assert inspect.unwrap(Op.all["add"].kernels["partial"]) is partial.kernels["add"]


def test_in_place_and_out_write_back_to_the_device(partial, fallback):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base = tensor([[1.0, 2.0], [3.0, 4.0]])
        row = base[1]                                 # partial's getitem: a real view
        row.mul_(10.0)                                # mul(row, 10, out=row) on the cpu
        assert base.tolist() == [[1.0, 2.0], [30.0, 40.0]]
        out = tensor([0.0, 0.0])
        r = corelib.mul(tensor([2.0, 3.0]), tensor([4.0, 5.0]), out=out)
        assert r is out and out.tolist() == [8.0, 15.0]
        base[0, 1] = -1.0                             # setitem (in place) falls back
        assert base.tolist() == [[1.0, -1.0], [30.0, 40.0]]
        idx = tensor([0, 1], dtype=corelib.int64)
        base.index_put_((idx, idx), tensor([7.0, 8.0]))   # index_put (out of place) + copy
        assert base.tolist() == [[7.0, -1.0], [30.0, 8.0]]


def test_write_back_without_a_device_copy_kernel(make_backend, cpu_kernels, fallback):
    make_backend("nocopy", {name: cpu_kernels[name] for name in ("full", "getitem")})
    x = corelib.zeros(2, 2, device="nocopy")
    with pytest.warns(UserWarning, match="copy_"):
        x.copy_(corelib.ones(2, 2, device="nocopy"))    # copy_ itself falls back
    assert x.tolist() == [[1.0, 1.0], [1.0, 1.0]]


def test_view_ops_are_refused(make_backend, cpu_kernels, fallback):
    make_backend("noviews", {name: cpu_kernels[name] for name in ("full", "add")})
    x = corelib.ones(2, 3, device="noviews")
    for run, op in [(lambda: x.reshape(3, 2), "reshape"), (lambda: x.view(6), "view"),
                    (lambda: x.permute(1, 0), "permute"), (lambda: x[0], "getitem"),
                    (lambda: x.expand(4, 2, 3), "expand"), (lambda: x.diagonal(), "diagonal")]:
        with pytest.raises(NotImplementedError, match=f"op '{op}' has no kernel for device "
                                                      f"'noviews'.*cannot fall back to cpu.*"
                                                      f"view"):
            run()
    with pytest.raises(NotImplementedError, match="'is_contiguous'.*layout"):
        x.is_contiguous()


def test_enable_and_disable_take_effect_immediately(partial):
    x = tensor([2.0])
    with pytest.raises(NotImplementedError):
        x.exp()
    corelib_fallback.enable()
    try:
        with pytest.warns(UserWarning, match="'exp'"):
            assert x.exp().tolist() == pytest.approx([np.exp(2.0)])
    finally:
        corelib_fallback.disable()
    with pytest.raises(NotImplementedError, match="'exp' has no kernel"):
        x.exp()


def test_random_ops_fall_back_with_a_numpy_generator(make_backend, cpu_kernels, fallback):
    make_backend("rng", {"full": cpu_kernels["full"]})
    make_backend("opaque", {"full": cpu_kernels["full"]}, make_generator=lambda seed: object())
    with pytest.warns(UserWarning, match="'uniform'"):
        r = corelib.rand(1000, device="rng")
    values = r.cpu().numpy()
    assert r.device.type == "rng" and 0.0 <= values.min() and values.max() < 1.0
    with pytest.raises(NotImplementedError, match="random op 'uniform'.*random state"):
        with pytest.warns(UserWarning):
            corelib.rand(3, device="opaque")


def test_a_training_step_on_a_partial_device(partial, fallback):
    corelib.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
        ref = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
        ref.load_state_dict(model.state_dict())
        model.to("partial")
        opt = corelib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        ref_opt = corelib.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
        x, y = corelib.randn(16, 4), corelib.randn(16, 1)
        for m, o, xs, ys in [(model, opt, x.to("partial"), y.to("partial")),
                             (ref, ref_opt, x, y)]:
            for _ in range(3):
                loss = nn.functional.mse_loss(m(xs), ys)
                o.zero_grad()
                loss.backward()
                o.step()
    for (name, p), (_, q) in zip(model.named_parameters(), ref.named_parameters()):
        assert p.device.type == "partial"
        assert np.allclose(p.detach().cpu().numpy(), q.detach().numpy(), atol=1e-6), name


def test_environment_variable_enables_it_for_a_process(tmp_path):
    script = tmp_path / "fallback.py"
    script.write_text(textwrap.dedent('''
        import warnings
        import numpy as np
        import corelib, corelib_cpu
        from corelib.dispatch import registry
        from corelib.hookspecs import BackendSpec, hookimpl

        class Partial:
            @hookimpl
            def corelib_backend(self):
                return BackendSpec("partial", {"full": corelib_cpu.KERNELS["full"]},
                                   lambda a: np.array(a), lambda a, i=0: np.array(a),
                                   np.random.default_rng)

        registry.load()
        registry.register(Partial(), name="partial")
        warnings.simplefilter("always")
        x = corelib.full((2,), 3.0, device="partial")
        print((x * x).tolist())
    '''))
    env = dict(os.environ, CORELIB_FALLBACK="1")
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[9.0, 9.0]"
    assert "falling back to cpu" in proc.stderr and "fallback.py:19: UserWarning" in \
        proc.stderr
    env.pop("CORELIB_FALLBACK")
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 1 and "NotImplementedError" in proc.stderr
