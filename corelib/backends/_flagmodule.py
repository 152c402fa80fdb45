"""A module type whose checked flags are properties (as PyTorch's ``PropModule``)."""
from __future__ import annotations

import sys
import types


def install(name, props):
    """Give module ``name`` a class carrying the properties ``props`` ({attr: property})."""
    module = sys.modules[name]
    names = sorted(props)

    def __dir__(self):
        return sorted(set(vars(self)) | set(names))
    cls = type(f"{name.rsplit('.', 1)[-1]}_module", (types.ModuleType,),
               dict(props, __dir__=__dir__))
    module.__class__ = cls
    return module
