"""corelib.nn.parallel: DistributedDataParallel (multi-process data parallelism)."""
from __future__ import annotations

from .distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
