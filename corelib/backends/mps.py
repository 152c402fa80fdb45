"""corelib.backends.mps: PyTorch's Apple-MPS queries (corelib has no MPS backend)."""
from __future__ import annotations

__all__ = ["is_available", "is_built", "is_macos_or_newer"]


def is_available():
    """is_available() -> bool

    Whether an MPS device can be used: always False in corelib.
    """
    return False


def is_built():
    """is_built() -> bool

    Whether corelib was built with MPS support: always False.
    """
    return False


def is_macos_or_newer(major, minor):
    """is_macos_or_newer(major, minor) -> bool

    Whether MPS runs on macOS ``major.minor`` or newer: False, as MPS is not available.
    """
    return False
