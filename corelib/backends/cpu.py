"""corelib.backends.cpu: PyTorch's CPU capability query."""
from __future__ import annotations

import platform

__all__ = ["get_cpu_capability"]


def get_cpu_capability():
    """get_cpu_capability() -> str

    The widest vector instruction set the CPU offers NumPy's kernels, in PyTorch's words:
    "AVX512", "AVX2", "DEFAULT" (x86 without AVX2) or "NO AVX"; on other machines "DEFAULT".
    """
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:   # NumPy < 2
        try:
            from numpy.core._multiarray_umath import __cpu_features__ as features
        except ImportError:
            return "DEFAULT"
    if platform.machine().lower() not in ("x86_64", "amd64", "i386", "i686", "x86"):
        return "DEFAULT"
    if features.get("AVX512F") and features.get("AVX512BW") and features.get("AVX512VL") \
            and features.get("AVX512DQ"):
        return "AVX512"
    if features.get("AVX2"):
        return "AVX2"
    return "DEFAULT" if features.get("AVX") else "NO AVX"
