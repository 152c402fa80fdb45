"""corelib-cpu: the NumPy backend. Kernels are plain functions on ndarrays; this module only
hands the registry its device name and kernel table (see corelib.hookspecs for the contract)."""
from __future__ import annotations

import numpy as np

from corelib.hookspecs import BackendSpec, hookimpl

from . import elementwise, factories, linalg, nn, reduction, rnn, shape

KERNELS = {}
for _module in (elementwise, factories, linalg, nn, reduction, rnn, shape):
    overlap = KERNELS.keys() & _module.KERNELS.keys()
    assert not overlap, f"kernels defined twice: {sorted(overlap)}"
    KERNELS.update(_module.KERNELS)


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
