"""corelib.backends.cpu: PyTorch's CPU capability query."""
from __future__ import annotations

import platform

__all__ = ["get_cpu_capability"]


def _cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return None


def get_cpu_capability():
    """get_cpu_capability() -> str

    The widest vector instruction set of the CPU, in PyTorch's words: "AVX512", "AVX2",
    "DEFAULT" (x86 without AVX2, other machines, or when it cannot be read) or "NO AVX".
    """
    if platform.machine().lower() not in ("x86_64", "amd64", "i386", "i686", "x86"):
        return "DEFAULT"
    flags = _cpu_flags()
    if flags is None:
        return "DEFAULT"
    if {"avx512f", "avx512bw", "avx512vl", "avx512dq"} <= flags:
        return "AVX512"
    if "avx2" in flags:
        return "AVX2"
    return "DEFAULT" if "avx" in flags else "NO AVX"
