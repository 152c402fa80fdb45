"""corelib.nn: modules, parameters, functional, init and utils (frontend API only)."""
from __future__ import annotations

from . import functional  # noqa: F401
