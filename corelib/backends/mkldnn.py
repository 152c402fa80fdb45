"""corelib.backends.mkldnn: PyTorch's oneDNN (MKL-DNN) flags; corelib's CPU backend is NumPy,
so oneDNN is not available and ``enabled`` is only recorded."""
from __future__ import annotations

__all__ = ["is_available", "enabled", "deterministic"]

enabled = True
deterministic = False


def is_available():
    """is_available() -> bool

    Whether oneDNN (MKL-DNN) is used: always False, corelib's CPU kernels are NumPy.
    """
    return False
