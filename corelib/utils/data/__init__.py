"""corelib.utils.data: datasets, samplers and DataLoader (frontend API only)."""
from __future__ import annotations
