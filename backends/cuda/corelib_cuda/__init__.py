"""corelib-cuda: the CUDA backend. Kernels are hand-written CUDA C (``kernels/*.cu``) launched
with CuPy RawKernels through one seam (``launch.launch``); ``CORELIB_CUDA_SIMULATE=1`` runs the
same sources on the CPU simulator. This module only hands the registry its device name and
kernel table (see corelib.hookspecs for the contract)."""
from __future__ import annotations

import importlib

import numpy as np

from corelib.hookspecs import BackendSpec, hookimpl

from . import device, runtime

FAMILIES = ("elementwise", "reduction", "norm", "nn", "shape", "indexing", "factories", "random",
            "linalg", "rnn")

KERNELS = {}
for _family in FAMILIES:
    try:
        _module = importlib.import_module(f"{__name__}.ops.{_family}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.ops.{_family}":
            raise
        continue
    overlap = KERNELS.keys() & _module.KERNELS.keys()
    assert not overlap, f"kernels defined twice: {sorted(overlap)}"
    KERNELS.update(_module.KERNELS)


def to_numpy(arr):
    """Device array -> host NumPy array (a copy: device and host memory never alias)."""
    if runtime.SIMULATE:
        return np.array(arr, copy=True)
    return runtime.xp.asnumpy(arr)


def from_numpy(arr, index=0):
    """Host NumPy array -> new device array on device ``index``."""
    runtime.require()
    if runtime.SIMULATE:
        return device.track(np.array(arr, copy=True))
    with runtime.xp.cuda.Device(index):
        return runtime.xp.asarray(arr)


def _make_generator(seed):
    from .ops import random
    return random.make_generator(seed)


@hookimpl
def corelib_backend():
    return BackendSpec(
        device_type="cuda",
        kernels=KERNELS,
        to_numpy=to_numpy,
        from_numpy=from_numpy,
        make_generator=_make_generator,
        device_count=lambda: runtime.DEVICE_COUNT,
        distribution="corelib-cuda",
        runtime=device.runtime_table(),
    )
