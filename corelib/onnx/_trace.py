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


# kernels that write into their first argument (besides every kernel called with out=)
WRITES_FIRST_ARG = frozenset({"setitem", "copy_", "embedding_renorm_"})


@dataclass
class Call:
    """One kernel call: op name, positional arguments (raw arrays, scalars, None), keyword
    parameters and result (an array or a tuple of them). A call that writes into an array
    (``out=``, or an op of WRITES_FIRST_ARG) has it as ``target`` and result, with copies of
    its contents ``before`` and ``after`` the call (arrays are read after the run, when a
    later write may have changed them)."""
    op: str
    args: tuple
    params: dict
    result: object
    target: object = None
    before: object = None
    after: object = None


@dataclass
class Trace:
    """The kernel calls of one run, in order, made by the thread that started the trace."""
    calls: list = field(default_factory=list)
    thread: int = field(default_factory=threading.get_ident)


@hookimpl(trylast=True)   # outermost wrapper: sees the call as the frontend made it
def corelib_wrap_kernel(op, device_type, kernel):
    if _active is None:
        return None

    def traced(*args, **params):
        trace = _active
        if trace is None or trace.thread != threading.get_ident():
            return kernel(*args, **params)
        target = params.get("out")
        if target is None and op in WRITES_FIRST_ARG and args:
            target = args[0]
        before = target.copy() if target is not None else None
        result = kernel(*args, **params)
        call = Call(op, args, {k: v for k, v in params.items() if k != "out"},
                    result if target is None else target)
        if target is not None:
            call.target, call.before, call.after = target, before, target.copy()
        trace.calls.append(call)
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
