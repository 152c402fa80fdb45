"""corelib.backends.opt_einsum: whether and how ``corelib.einsum`` asks opt_einsum for its
contraction order (PyTorch's ``torch.backends.opt_einsum``).

``enabled`` (default True when opt_einsum is installed) and ``strategy`` ("auto", "greedy" or
"optimal") are settable attributes checked as PyTorch checks them; with ``enabled = False``
einsum contracts its operands left to right.
"""
from __future__ import annotations

import contextlib

from . import _flagmodule

__all__ = ["is_available", "get_opt_einsum", "flags", "set_flags", "enabled", "strategy"]

_FOUND = []   # whether opt_einsum is installed (looked up once, imported only when asked for)


def _find():
    if not _FOUND:
        import importlib.util
        _FOUND.append(importlib.util.find_spec("opt_einsum") is not None)
    return _FOUND[0]


def _settings():
    from .._ops import linalg
    return linalg._OPT_EINSUM


def is_available():
    """is_available() -> bool

    Whether the opt_einsum package is installed (einsum then uses its contraction paths).
    """
    return _find()


def get_opt_einsum():
    """get_opt_einsum() -> Any

    The opt_einsum package if it is installed, else None.
    """
    if not _find():
        return None
    import opt_einsum
    return opt_einsum


def _set_enabled(value):
    if not is_available() and value:
        raise ValueError(f"opt_einsum is not available, so setting `enabled` to {value} will "
                         f"not reap the benefits of calculating an optimal path for einsum. "
                         f"corelib.einsum will fall back to contracting from left to right. "
                         f"To enable this optimal path calculation, please install opt-einsum.")
    _settings()["enabled"] = bool(value)


def _set_strategy(value):
    if not is_available():
        raise ValueError(f"opt_einsum is not available, so setting `strategy` to {value} will "
                         f"not be meaningful. corelib.einsum will bypass path calculation and "
                         f"simply contract from left to right. Please install opt_einsum or "
                         f"unset `strategy`.")
    if not _settings()["enabled"]:
        raise ValueError(f"opt_einsum is not enabled, so setting a `strategy` to {value} will "
                         f"not be meaningful. corelib.einsum will bypass path calculation and "
                         f"simply contract from left to right. Please set `enabled` to `True` "
                         f"as well or unset `strategy`.")
    if value not in ("auto", "greedy", "optimal"):
        raise ValueError(f"`strategy` must be one of the following: [auto, greedy, optimal] "
                         f"but is {value}")
    _settings()["strategy"] = value


def set_flags(_enabled=None, _strategy=None):
    """set_flags(_enabled=None, _strategy=None) -> tuple

    Set ``enabled`` and/or ``strategy``; return the previous (enabled, strategy).
    """
    s = _settings()
    old = (s["enabled"], s["strategy"] if is_available() else None)
    if _enabled is not None:
        _set_enabled(_enabled)
    if _strategy is not None:
        _set_strategy(_strategy)
    return old


@contextlib.contextmanager
def flags(enabled=None, strategy=None):
    """flags(enabled=None, strategy=None)

    Context manager setting ``enabled``/``strategy`` for its block and restoring them after.
    """
    old = set_flags(enabled, strategy)
    try:
        yield
    finally:
        s = _settings()
        s["enabled"] = old[0]
        if old[1] is not None:
            s["strategy"] = old[1]


_flagmodule.install(__name__, {
    "enabled": property(lambda self: _settings()["enabled"],
                        lambda self, value: _set_enabled(value),
                        doc="Whether einsum computes its contraction order with opt_einsum."),
    "strategy": property(lambda self: _settings()["strategy"] if is_available() else None,
                         lambda self, value: _set_strategy(value),
                         doc="opt_einsum's path strategy: 'auto', 'greedy' or 'optimal'."),
})
