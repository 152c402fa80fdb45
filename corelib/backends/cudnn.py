"""corelib.backends.cudnn: PyTorch's cuDNN flags.

corelib's CUDA backend runs its own kernels (no cuDNN), so ``is_available()`` is False and
``version()`` is None; ``enabled``, ``benchmark``, ``deterministic``, ``allow_tf32`` and
``benchmark_limit`` are plain settable attributes (recorded, as PyTorch records them on a build
without cuDNN). corelib's kernels are deterministic, so ``deterministic`` needs no action; as in
PyTorch it is a flag of its own, separate from ``corelib.use_deterministic_algorithms``.
"""
from __future__ import annotations

import contextlib

__all__ = ["is_available", "version", "is_acceptable", "flags", "set_flags", "enabled",
           "benchmark", "benchmark_limit", "deterministic", "allow_tf32"]

enabled = True
benchmark = False
benchmark_limit = 10
deterministic = False
allow_tf32 = True


def is_available():
    """is_available() -> bool

    Whether cuDNN can be used: always False, corelib's CUDA backend does not use cuDNN.
    """
    return False


def version():
    """version() -> Optional[int]

    The cuDNN version, or None when cuDNN is not available (always, in corelib).
    """
    return None


def is_acceptable(tensor):
    """is_acceptable(tensor) -> bool

    Whether cuDNN would be used for ``tensor``: False, as cuDNN is not available.
    """
    return False


def set_flags(_enabled=None, _benchmark=None, _benchmark_limit=None, _deterministic=None,
              _allow_tf32=None):
    """set_flags(_enabled=None, _benchmark=None, _benchmark_limit=None, _deterministic=None, _allow_tf32=None) -> tuple

    Set the given cuDNN flags and return the previous (enabled, benchmark, benchmark_limit,
    deterministic, allow_tf32).
    """
    global enabled, benchmark, benchmark_limit, deterministic, allow_tf32
    old = (enabled, benchmark, benchmark_limit, deterministic, allow_tf32)
    if _enabled is not None:
        enabled = bool(_enabled)
    if _benchmark is not None:
        benchmark = bool(_benchmark)
    if _benchmark_limit is not None:
        benchmark_limit = int(_benchmark_limit)
    if _deterministic is not None:
        deterministic = bool(_deterministic)
    if _allow_tf32 is not None:
        allow_tf32 = bool(_allow_tf32)
    return old


@contextlib.contextmanager
def flags(enabled=False, benchmark=False, benchmark_limit=10, deterministic=False,
          allow_tf32=True):
    """flags(enabled=False, benchmark=False, benchmark_limit=10, deterministic=False, allow_tf32=True)

    Context manager setting the cuDNN flags for its block and restoring them after.
    """
    old = set_flags(enabled, benchmark, benchmark_limit, deterministic, allow_tf32)
    try:
        yield
    finally:
        set_flags(*old)
