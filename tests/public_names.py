"""undocumented(module): the names of a module's ``__all__`` missing from its dir() or without
a docstring (functions, classes and their public methods and properties); shared by the tests
of corelib.distributions, corelib.amp and corelib.backends."""
from __future__ import annotations

import inspect


def undocumented(module):
    missing = [n for n in module.__all__ if n not in dir(module)]
    for name in module.__all__:
        obj = getattr(module, name)
        if inspect.ismodule(obj) or not callable(obj):
            continue
        if not (obj.__doc__ or "").strip():
            missing.append(name)
        if inspect.isclass(obj):
            missing += [f"{name}.{a}" for a, v in vars(obj).items() if not a.startswith("_")
                        and (callable(v) or isinstance(v, property))
                        and not (getattr(v, "__doc__", None) or "").strip()]
    return missing
