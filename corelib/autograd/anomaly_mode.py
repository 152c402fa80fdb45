"""Anomaly detection, as ``torch.autograd.detect_anomaly``.

While on, every graph node remembers the Python stack of the forward call that created it, and
the engine checks each backward's results: a NaN (or, unless ``check_inf=False``, an infinity;
PyTorch checks NaN only) raises RuntimeError naming the node and that forward stack; any other
error raised by a backward function is preceded by a warning with the stack. The switch is
process-wide (as PyTorch's). Off, it costs one truth test per recorded node.
"""
from __future__ import annotations

import traceback
import warnings
import weakref

from . import graph

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
           "is_anomaly_check_nan_enabled"]

_CONFIG = {"check_nan": True, "check_inf": True}
_traces = weakref.WeakKeyDictionary()   # node -> formatted forward stack


def is_anomaly_enabled():
    return bool(graph.ANOMALY)


def is_anomaly_check_nan_enabled():
    return _CONFIG["check_nan"]


def _set(mode, check_nan, check_inf):
    graph.ANOMALY[:] = [_remember] if mode else []
    _CONFIG["check_nan"], _CONFIG["check_inf"] = bool(check_nan), bool(check_inf)


class set_detect_anomaly:
    """Turn anomaly detection on or off; also a context manager restoring the previous mode."""

    def __init__(self, mode: bool, check_nan: bool = True, check_inf: bool = True):
        self.prev = (is_anomaly_enabled(), _CONFIG["check_nan"], _CONFIG["check_inf"])
        _set(mode, check_nan, check_inf)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _set(*self.prev)


class detect_anomaly:
    """Context manager / decorator enabling anomaly detection for its block."""

    def __init__(self, check_nan: bool = True, check_inf: bool = True):
        self.check_nan, self.check_inf = check_nan, check_inf

    def __enter__(self):
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime "
                      "and should only be enabled for debugging.", stacklevel=2)
        self.prev = (is_anomaly_enabled(), _CONFIG["check_nan"], _CONFIG["check_inf"])
        _set(True, self.check_nan, self.check_inf)
        return self

    def __exit__(self, *exc):
        _set(*self.prev)

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan, self.check_inf):
                return fn(*args, **kwargs)
        return wrapper


def _remember(node):
    """Record the forward stack of ``node`` (called when a node is created, mode on)."""
    stack = traceback.format_stack()
    keep = [f for f in stack[:-1] if "/corelib/_ops/" not in f and "/corelib/autograd/" not in f]
    _traces[node] = "".join(keep or stack[:-1])


def forward_trace(node):
    return _traces.get(node)


def _describe(node):
    trace = _traces.get(node)
    if trace is None:
        return "No forward pass information available for this node."
    return f"Traceback of forward call that caused the error:\n{trace}"


def check_results(node, results):
    """Raise if a backward result of ``node`` holds NaN (or inf) values."""
    from .._ops.reduction import any as _any
    from .._ops.elementwise import isinf, isnan
    for i, g in enumerate(results):
        if g is None or not hasattr(g, "_data") or not g.dtype.is_floating_point:
            continue
        for on, test, word in ((_CONFIG["check_nan"], isnan, "nan"),
                               (_CONFIG["check_inf"], isinf, "inf")):
            if on and bool(_any(test(g.detach()))):
                raise RuntimeError(f"Function '{node.name()}' returned {word} values in its "
                                   f"{i}th output.\n\n{_describe(node)}")


def warn_failure(node):
    """Warn with the forward stack of ``node`` whose backward raised."""
    warnings.warn(f"Error detected in {node.name()}. {_describe(node)}", stacklevel=3)
