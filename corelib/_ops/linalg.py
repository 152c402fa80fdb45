"""linalg ops (see corelib/_ops/core.py for the op contract)."""
from __future__ import annotations

# public API, re-exported by corelib/__init__.py
__all__ = []
