"""corelib-crosscheck against real backends: test devices whose kernel tables are the cpu
backend's, with one kernel deliberately wrong."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import corelib
from corelib import nn
from corelib._ops.core import Op
from corelib.dispatch import registry

corelib_crosscheck = pytest.importorskip("corelib_crosscheck")
pytest.importorskip("corelib_cpu")
CrosscheckError = corelib_crosscheck.CrosscheckError


@pytest.fixture(autouse=True)
def checking_off(monkeypatch):
    """Each test starts with cross-checking off, even under CORELIB_CROSSCHECK=1."""
    monkeypatch.setattr(corelib_crosscheck, "_base", None)
    registry.invalidate_kernels()
    yield
    registry.invalidate_kernels()


def wrong_exp(a, out=...):
    """exp, off by 1e-3."""
    return np.add(np.exp(a), np.asarray(1e-3, a.dtype), out=out)


@pytest.fixture
def wrong(make_backend, cpu_kernels):
    """Device 'wrong': the cpu kernels, except exp."""
    return make_backend("wrong", dict(cpu_kernels, exp=wrong_exp))


def test_installed_but_inactive_crosscheck_does_not_wrap_kernels(wrong):
    assert registry.pm.is_registered(corelib_crosscheck) and not corelib_crosscheck.is_enabled()
    x = corelib.ones(3, device="wrong")
    _ = x.exp()                                  # wrong, but nobody is checking
    assert Op.all["exp"].kernels["wrong"] is wrong_exp
    with corelib_crosscheck.crosscheck():
        with pytest.raises(CrosscheckError):
            x.exp()
        assert Op.all["exp"].kernels["wrong"].__wrapped__ is wrong_exp
    _ = x.exp()
    assert Op.all["exp"].kernels["wrong"] is wrong_exp


def test_a_wrong_kernel_is_reported_with_op_shapes_error_and_user_frame(wrong):
    x = corelib.linspace(0, 3, 12, device="wrong").reshape(3, 4)
    with corelib_crosscheck.crosscheck():
        y = (x * 2 + 1).sum(1)                   # right kernels pass
        with pytest.raises(CrosscheckError) as info:
            x.exp()
    err = info.value
    assert isinstance(err, AssertionError)
    assert (err.op, err.device, err.where) == ("exp", "wrong", "output")
    assert err.inputs == ["float32[3, 4]"]
    assert err.max_abs_error == pytest.approx(1e-3, rel=1e-2)
    assert err.stack[-1].filename == __file__ and err.stack[-1].line == "x.exp()"
    text = str(err)
    assert "op 'exp' on device 'wrong' disagrees with cpu" in text
    assert "float32[3, 4]" in text
    assert "max abs error 0.00100" in text
    assert f'File "{__file__}"' in text and "in test_a_wrong_kernel_is_reported" in text
    assert "corelib/_ops" not in text             # only the user's frames
    assert y.shape == (3,)


def test_tolerance_and_skip(wrong):
    x = corelib.ones(5, device="wrong")
    with corelib_crosscheck.crosscheck(rtol=0, atol=2e-3):
        x.exp()
    with corelib_crosscheck.crosscheck(skip={"exp"}):
        x.exp()
    with pytest.raises(ValueError, match="both rtol and atol"):
        with corelib_crosscheck.crosscheck(rtol=1e-3):
            pass


def test_nested_contexts_innermost_wins(wrong):
    x = corelib.ones(5, device="wrong")
    with corelib_crosscheck.crosscheck():
        with corelib_crosscheck.crosscheck(skip={"exp"}):
            x.exp()
        with pytest.raises(CrosscheckError):
            x.exp()
    assert not corelib_crosscheck.is_enabled()


def test_a_training_step_on_a_correct_device_passes(make_backend, cpu_kernels):
    make_backend("mirror", cpu_kernels)
    corelib.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 3)).to("mirror")
    opt = corelib.optim.Adam(model.parameters(), lr=0.01)
    x = corelib.randn(16, 6).to("mirror")
    target = corelib.randint(0, 3, (16,)).to("mirror")
    with corelib_crosscheck.crosscheck():
        for _ in range(2):
            loss = nn.functional.cross_entropy(model(x), target)
            opt.zero_grad()
            loss.backward()
            opt.step()
        x[0, :] = float("nan")                   # NaN equals NaN
        _ = model(x).exp()
    assert loss.device == corelib.device("mirror:0")


def test_in_place_and_out_writes_are_compared(make_backend, cpu_kernels):
    def add_wrong_in_place(a, b, out=...):
        if out is ...:
            return np.add(a, b)
        np.add(a, b, out=out)
        out[..., 0] += 1                          # wrong only when writing into out=
        return out

    def setitem_wrong(a, key, value):
        a[key] = value
        a.reshape(-1)[-1] = -1.0                  # also clobbers the last element

    make_backend("inplace", dict(cpu_kernels, add=add_wrong_in_place, setitem=setitem_wrong))
    x, y = corelib.ones(2, 3, device="inplace"), corelib.ones(2, 3, device="inplace")
    with corelib_crosscheck.crosscheck():
        _ = x + y
        with pytest.raises(CrosscheckError) as info:
            x.add_(y)
        assert info.value.where == "argument 0 and out= after the call"
        assert info.value.max_abs_error == 1.0
        with pytest.raises(CrosscheckError) as info:
            x[0, 0] = 5.0
        assert info.value.where == "argument 0 after the call" and info.value.op == "setitem"


def test_shape_and_dtype_differences(make_backend, cpu_kernels):
    make_backend("sloppy", dict(
        cpu_kernels,
        sum=lambda x, dim, keepdim: np.sum(x, axis=dim, keepdims=keepdim, dtype=np.float64),
        amax=lambda x, dim, keepdim: np.amax(x, axis=dim, keepdims=True)))
    x = corelib.ones(2, 3, device="sloppy")
    with corelib_crosscheck.crosscheck():
        with pytest.raises(CrosscheckError, match="dtype float64 vs cpu's float32"):
            x.sum(1)
        with pytest.raises(CrosscheckError, match=r"shape \[2, 1\] vs cpu's \[2\]"):
            x.amax(1)


def test_a_cpu_error_where_the_device_succeeds_is_a_disagreement(make_backend, cpu_kernels):
    def gather_unchecked(a, index, dim, shape=None):
        return np.take_along_axis(a, np.clip(index, 0, a.shape[dim] - 1), dim)

    make_backend("lax", dict(cpu_kernels, gather=gather_unchecked))
    x, index = corelib.ones(3, device="lax"), corelib.tensor([7], device="lax")
    with corelib_crosscheck.crosscheck():
        with pytest.raises(CrosscheckError, match="cpu kernel raised RuntimeError.*out of "
                                                  "bounds") as info:
            x.gather(0, index)
    assert isinstance(info.value.__cause__, RuntimeError)


def test_random_ops_and_ops_without_a_cpu_kernel_are_not_checked(make_backend, cpu_kernels):
    make_backend("dice", dict(cpu_kernels,
                              uniform=lambda shape, dtype, generator, low, high, device_index:
                              np.full(shape, 0.25, dtype),
                              only_here=lambda a: a))
    with corelib_crosscheck.crosscheck():
        r = corelib.rand(4, device="dice")
    assert r.tolist() == [0.25] * 4
    assert corelib_crosscheck.corelib_wrap_kernel(op="only_here", device_type="dice",
                                                  kernel=lambda a: a) is None
    assert corelib_crosscheck.corelib_wrap_kernel(op="add", device_type="cpu",
                                                  kernel=lambda a: a) is None


def test_enable_disable(wrong):
    x = corelib.ones(2, device="wrong")
    corelib_crosscheck.enable()
    try:
        with pytest.raises(CrosscheckError):
            x.exp()
    finally:
        corelib_crosscheck.disable()
    x.exp()


def test_environment_variable_checks_a_whole_process(tmp_path):
    script = tmp_path / "check.py"
    script.write_text(textwrap.dedent('''
        import numpy as np
        import corelib, corelib_cpu
        from corelib.dispatch import registry
        from corelib.hookspecs import BackendSpec, hookimpl

        class Wrong:
            @hookimpl
            def corelib_backend(self):
                kernels = dict(corelib_cpu.KERNELS,
                               exp=lambda a, out=...: np.add(np.exp(a), 1e-3, out=out))
                return BackendSpec("wrong", kernels, lambda a: np.array(a),
                                   lambda a, i=0: np.array(a), np.random.default_rng)

        registry.load()
        registry.register(Wrong(), name="wrong")
        x = corelib.zeros(2, 2, device="wrong")
        y = x + 1
        y.exp()
    '''))
    env = dict(os.environ, CORELIB_CROSSCHECK="1")
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 1
    assert "CrosscheckError: crosscheck: op 'exp' on device 'wrong'" in proc.stderr
    assert "float32[2, 2]" in proc.stderr and "line 19, in <module>" in proc.stderr
    env["CORELIB_CROSSCHECK"] = "0"
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
