"""corelib.save / corelib.load: safetensors + JSON, atomic, never pickle."""
from __future__ import annotations
