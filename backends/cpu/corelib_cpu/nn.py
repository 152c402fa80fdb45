"""CPU kernels: nn."""
from __future__ import annotations

import numpy as np  # noqa: F401

KERNELS = {}
