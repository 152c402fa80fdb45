"""corelib-cpu: the NumPy backend. Kernels are plain functions on ndarrays; this module only
hands the registry its device name and kernel table (see corelib.hookspecs for the contract)."""
from __future__ import annotations

import ctypes
import os
import sys

import numpy as np

from corelib.hookspecs import BackendSpec, hookimpl

from . import elementwise, factories, linalg, nn, reduction, rnn, shape

KERNELS = {}
for _module in (elementwise, factories, linalg, nn, reduction, rnn, shape):
    overlap = KERNELS.keys() & _module.KERNELS.keys()
    assert not overlap, f"kernels defined twice: {sorted(overlap)}"
    KERNELS.update(_module.KERNELS)


def _tune_malloc():
    """Keep freed heap memory for reuse instead of handing it back to the OS.

    NumPy allocates every result afresh; with glibc's defaults, arrays above a (dynamic)
    threshold are mmap'ed and freed heap tops are trimmed, so a training loop faults in the
    same megabytes of fresh pages step after step (on a VM that doubled a small CNN's step
    time). Raising the mmap and trim thresholds makes those arrays come from, and return to,
    the heap. Process-wide (it helps any library in the process); the peak footprint is the
    same, freed memory is just not returned between steps. Skipped when the user set glibc
    malloc variables, and with CORELIB_CPU_MALLOC_TUNING=0."""
    if os.environ.get("CORELIB_CPU_MALLOC_TUNING", "1") == "0" or \
            not sys.platform.startswith("linux") or "GLIBC_TUNABLES" in os.environ or \
            any(k.startswith("MALLOC_") and k.endswith("_") for k in os.environ):
        return
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):   # not glibc
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    mallopt(m_mmap_threshold, 32 << 20)
    mallopt(m_trim_threshold, 256 << 20)


_tune_malloc()


def _from_numpy(arr, index=0):
    return arr


@hookimpl
def corelib_backend():
    return BackendSpec(
        device_type="cpu",
        kernels=KERNELS,
        to_numpy=np.asarray,
        from_numpy=_from_numpy,
        make_generator=lambda seed: np.random.Generator(np.random.PCG64(seed)),
        distribution="corelib-cpu",
    )
