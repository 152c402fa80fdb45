"""NumPy-style keyword aliases PyTorch's argument parser accepts for its native functions:
``axis`` for ``dim`` and ``keepdims`` for ``keepdim`` (torch.sum(x, axis=0, keepdims=True)).

``install()`` wraps, once at import, each public op function (and the Tensor method that is
the same function) whose signature has ``dim``/``keepdim``; corelib's internal callers keep
the unwrapped functions. The wrapper's only cost is a check of the keyword names given."""
from __future__ import annotations

import functools
import inspect

from ._tensor import Tensor

_ALIASES = (("axis", "dim"), ("keepdims", "keepdim"))


def _accepts_aliases(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if kwargs and ("axis" in kwargs or "keepdims" in kwargs):
            for alias, name in _ALIASES:
                if alias in kwargs:
                    if name in kwargs:
                        raise TypeError(f"{fn.__name__}() got multiple values for argument "
                                        f"'{name}' (and its alias '{alias}')")
                    kwargs[name] = kwargs.pop(alias)
        return fn(*args, **kwargs)
    wrapper.__wrapped_aliases__ = True
    return wrapper


def _wants(fn):
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return ("dim" in params or "keepdim" in params) and "axis" not in params


def install(namespace, modules):
    """Wrap the functions named in each module's ``__all__``, in ``namespace``, the module and
    Tensor (where Tensor's attribute is the same function)."""
    by_id = {}
    for module in modules:
        for name in module.__all__:
            fn = getattr(module, name)
            if not inspect.isfunction(fn) or getattr(fn, "__wrapped_aliases__", False):
                continue
            if id(fn) not in by_id:
                if not _wants(fn):
                    continue
                by_id[id(fn)] = (fn, _accepts_aliases(fn))
            wrapped = by_id[id(fn)][1]
            setattr(module, name, wrapped)
            if namespace.get(name) is fn:
                namespace[name] = wrapped
    for name, value in list(vars(Tensor).items()):
        if not inspect.isfunction(value) or name in _HOT_METHODS:
            continue
        if id(value) in by_id and by_id[id(value)][0] is value:
            setattr(Tensor, name, by_id[id(value)][1])
        elif not getattr(value, "__wrapped_aliases__", False) and _wants(value):
            setattr(Tensor, name, _accepts_aliases(value))


# called inside corelib on every op: left unwrapped
_HOT_METHODS = frozenset({"size", "stride"})
