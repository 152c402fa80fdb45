"""corelib.optim: optimizers and learning-rate schedulers (frontend API only)."""
from __future__ import annotations
