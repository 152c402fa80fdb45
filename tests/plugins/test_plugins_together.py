"""The three plugins at once on a partial device: the fallback supplies the missing kernel, the
profiler (innermost wrapper) times it, the cross-checker (outermost) compares it with cpu."""
import warnings

import pytest

import corelib
from corelib._ops.core import Op

corelib_profiler = pytest.importorskip("corelib_profiler")
corelib_crosscheck = pytest.importorskip("corelib_crosscheck")
corelib_fallback = pytest.importorskip("corelib_fallback")


def test_wrappers_compose_around_a_fallback_kernel(make_backend, cpu_kernels):
    make_backend("partial", {name: cpu_kernels[name] for name in ("full", "add", "copy_")})
    x = corelib.full((2, 2), 3.0, device="partial")
    corelib_fallback.enable()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with corelib_crosscheck.crosscheck(), corelib_profiler.profile() as prof:
                y = x * x + x
                x.mul_(2.0)
                chain = Op.all["mul"].kernels["partial"]
    finally:
        corelib_fallback.disable()
    assert y.tolist() == [[12.0, 12.0], [12.0, 12.0]] and x.tolist() == [[6.0] * 2] * 2
    assert [(e.op, e.device) for e in prof.events] == [("mul", "partial"), ("add", "partial"),
                                                       ("mul", "partial")]
    profiled = chain.__wrapped__                    # crosscheck(profiler(fallback))
    assert profiled.__wrapped__.__self__.__class__.__name__ == "_Fallback"
    assert profiled.__wrapped__.__self__.op == "mul"
