"""``torch``: PyTorch as a test reference, imported when a test first touches it.

A module that compares with PyTorch in some of its tests uses ``from torch_reference import
torch`` instead of a module-level ``pytest.importorskip("torch")``: without PyTorch, only the
tests that reach for it skip (under CI=true they fail: see conftest), and the others run."""
from __future__ import annotations

import importlib
import os

import pytest


class _LazyTorch:
    """Forwards attribute access to the ``torch`` module, importing it on first use."""

    _module = None

    def _load(self):
        if _LazyTorch._module is None:
            if os.environ.get("CI", "").lower() in ("true", "1"):
                _LazyTorch._module = importlib.import_module("torch")
            else:
                _LazyTorch._module = pytest.importorskip("torch")
        return _LazyTorch._module

    def __getattr__(self, name):
        # pytest's collection probes every module-level name (dunders, pytestmark, _pytest*):
        # those must not import torch
        if name.startswith("__") or "pytest" in name:
            raise AttributeError(name)
        return getattr(self._load(), name)

    def __repr__(self):
        return "<torch, imported on first use>"


torch = _LazyTorch()
