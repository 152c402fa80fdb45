"""corelib.signal: PyTorch's torch.signal (the window functions in corelib.signal.windows)."""
from __future__ import annotations

from . import windows

__all__ = ["windows"]
