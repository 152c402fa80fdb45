"""Testing utilities and the backend conformance kit (the op test table)."""
from __future__ import annotations

import importlib
import pkgutil

from .opinfo import OpInfo, Sample, make_tensor  # noqa: F401
from .compare import assert_close  # noqa: F401


def op_table():
    """Every OpInfo from the ``table_*`` modules of this package."""
    table = []
    for mod in sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name.startswith("table_")):
        table.extend(importlib.import_module(f"{__name__}.{mod}").OPS)
    return table


def installed_devices():
    """Device types of installed backends that have at least one device and hold data (not
    ``meta``)."""
    from corelib.dispatch import registry
    registry.load()
    return sorted(d for d, spec in registry.backends.items()
                  if spec.has_data and spec.device_count() > 0)
