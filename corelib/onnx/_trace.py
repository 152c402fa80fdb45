"""Recording every kernel call of a forward pass, through the registry's wrapper hook.

While no trace runs, ``corelib_wrap_kernel`` answers None, so resolved kernels are the
backends' own and the call path pays nothing; starting or stopping a trace calls
``registry.invalidate_kernels()`` so the wrapping appears and disappears at the next op call.
"""
from __future__ import annotations

import sys
import threading
from dataclasses import dataclass, field

from ..dispatch import registry
from ..hookspecs import hookimpl

_active = None   # the running Trace (one at a time)


@dataclass
class Call:
    """One kernel call: op name, positional arguments (raw arrays, scalars, None), keyword
    parameters and result (an array or a tuple of them; for ``out=`` calls, ``out``)."""
    op: str
    args: tuple
    params: dict
    result: object


@dataclass
class Trace:
    calls: list = field(default_factory=list)
    thread: int = field(default_factory=threading.get_ident)


@hookimpl(trylast=True)   # outermost wrapper: sees the call as the frontend made it
def corelib_wrap_kernel(op, device_type, kernel):
    if _active is None:
        return None

    def traced(*args, **params):
        result = kernel(*args, **params)
        trace = _active
        if trace is not None and trace.thread == threading.get_ident():
            out = params.get("out")
            trace.calls.append(Call(op, args, {k: v for k, v in params.items() if k != "out"},
                                    out if out is not None else result))
        return result
    return traced


def _ensure_registered():
    module = sys.modules[__name__]
    registry.load()
    if registry.pm.is_registered(module):
        return
    # registering a plugin resets the default generators; keep their states
    from .. import _random
    states = [(g, g.get_state()) for g in _random._defaults.values() if g._state is not None]
    registry.register(module, name="corelib.onnx")
    for gen, state in states:
        gen.set_state(state)


class tracing:
    """Context manager recording the kernel calls of this thread into a new ``Trace``."""

    def __enter__(self):
        global _active
        if _active is not None:
            raise RuntimeError("corelib.onnx: an export is already running")
        _ensure_registered()
        self.trace = _active = Trace()
        registry.invalidate_kernels()
        return self.trace

    def __exit__(self, *exc):
        global _active
        _active = None
        registry.invalidate_kernels()
