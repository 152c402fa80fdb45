"""A module type whose checked flags are properties (as PyTorch's ``PropModule``)."""
from __future__ import annotations

import sys
import types


def install(name, props):
    """Give module ``name`` a class carrying the properties ``props`` ({attr: property})."""
    module = sys.modules[name]
    cls = type(f"{name.rsplit('.', 1)[-1]}_module", (types.ModuleType,), dict(props))
    module.__class__ = cls
    return module
