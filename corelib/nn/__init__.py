"""corelib.nn: modules, parameters, functional, init and utils (frontend API only)."""
from __future__ import annotations

from . import functional  # noqa: F401
from . import init, utils  # noqa: F401
from . import parallel  # noqa: F401  (DistributedDataParallel)
from .modules import *  # noqa: F401,F403
from .modules import __all__ as _modules_all
from .modules.module import Module  # noqa: F401
from .parameter import Parameter  # noqa: F401
from ._functional_db import LinearCrossEntropyOptions  # noqa: F401

__all__ = ["functional", "init", "utils", "parallel", "Parameter", "LinearCrossEntropyOptions",
           *_modules_all]
