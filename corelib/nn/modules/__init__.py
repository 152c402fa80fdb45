"""Layer modules; every public class is re-exported as ``corelib.nn.<Name>``."""
from __future__ import annotations

from . import (activation, container, conv, dropout, flatten, linear, loss, misc, module,
               normalization, padding, pooling, rnn, sparse, transformer, unpooling)

MODULES = (module, container, linear, conv, pooling, normalization, activation, loss, dropout,
           sparse, rnn, transformer, flatten, padding, misc, unpooling)

__all__ = []
for _m in MODULES:
    for _name in _m.__all__:
        globals()[_name] = getattr(_m, _name)
        __all__.append(_name)
del _m, _name
