"""Which CUDA this process has: a real GPU through CuPy, the CPU simulator, or none (and why).

``CORELIB_CUDA_SIMULATE=1`` runs every kernel of this backend on the CPU through
``corelib_cuda.simulator`` (the unmodified ``.cu`` sources compiled with g++); NumPy arrays then
stand in for device memory, so ``xp`` is NumPy. Otherwise ``xp`` is CuPy and the device count
comes from the CUDA runtime; with no driver or no device the backend registers with zero
devices and ``reason`` says what is missing.
"""
from __future__ import annotations

import os

import numpy

SIMULATE = os.environ.get("CORELIB_CUDA_SIMULATE", "") == "1"


def _probe():
    """(array module, device count, reason there is no device or None)."""
    if SIMULATE:
        return numpy, 1, None
    try:
        import cupy
    except ImportError as exc:
        return None, 0, (f"CuPy is not importable ({exc}); install it with "
                         f"`pip install cupy-cuda13x`")
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDARuntimeError: no driver, driver too old, ...
        text = str(exc)
        if "InsufficientDriver" in text or "NoDevice" in text or "driver" in text.lower():
            why = "no NVIDIA driver is installed" if "InsufficientDriver" in text \
                else "no CUDA device is present"
        else:
            why = "the CUDA runtime failed to start"
        return cupy, 0, (f"{why} ({text}); set CORELIB_CUDA_SIMULATE=1 to run the CUDA "
                         f"kernels on the CPU simulator")
    if count == 0:
        return cupy, 0, "no CUDA device is present; set CORELIB_CUDA_SIMULATE=1 to simulate"
    return cupy, count, None


xp, DEVICE_COUNT, REASON = _probe()


def require():
    """Raise a RuntimeError saying why CUDA cannot run here (call before using ``xp``)."""
    if DEVICE_COUNT == 0:
        raise RuntimeError(f"CUDA is not available: {REASON}")
