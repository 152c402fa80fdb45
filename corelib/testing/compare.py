"""assert_close with PyTorch's default tolerances per dtype."""
from __future__ import annotations

import numpy as np

import corelib

_TOL = {"float16": (1e-3, 1e-3), "bfloat16": (1.6e-2, 1e-5), "float32": (1.3e-6, 1e-5),
        "float64": (1e-7, 1e-7)}


def _np(x):
    if isinstance(x, corelib.Tensor):
        return x.detach().cpu().numpy()
    if hasattr(x, "detach") and hasattr(x, "numpy"):   # a torch tensor
        return x.detach().cpu().numpy()
    return np.asarray(x)


def assert_close(actual, expected, *, rtol=None, atol=None, check_dtype=False, msg=""):
    """Values (and shapes) equal within tolerance; NaNs compare equal."""
    a, e = _np(actual), _np(expected)
    if check_dtype and a.dtype != e.dtype:
        raise AssertionError(f"{msg} dtype mismatch: {a.dtype} vs expected {e.dtype}")
    if a.shape != e.shape:
        raise AssertionError(f"{msg} shape mismatch: {a.shape} vs expected {e.shape}")
    d_rtol, d_atol = _TOL.get(a.dtype.name, (0, 0))
    rtol = d_rtol if rtol is None else rtol
    atol = d_atol if atol is None else atol
    if a.dtype.kind in "biu" and e.dtype.kind in "biu":
        if not np.array_equal(a, e):
            raise AssertionError(f"{msg} values differ:\n{a}\nvs expected\n{e}")
        return
    a64, e64 = a.astype(np.float64), e.astype(np.float64)
    ok = np.isclose(a64, e64, rtol=rtol, atol=atol, equal_nan=True)
    if not ok.all():
        bad = np.argwhere(~ok)[:5]
        raise AssertionError(f"{msg} {(~ok).sum()} of {ok.size} values differ (rtol={rtol}, "
                             f"atol={atol}); first at {bad.tolist()}: "
                             f"{a64[tuple(bad[0])]} vs {e64[tuple(bad[0])]}")
