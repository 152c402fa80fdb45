"""corelib.backends: PyTorch's ``torch.backends`` flags (cudnn, cuda, mps, cpu, mkldnn, opt_einsum).

Not to be confused with the backend *plugins* (the repository's ``backends/`` folder, found through
``corelib.registry``): these are the switches user code sets, e.g.
``corelib.backends.cudnn.benchmark = True``. Flags are plain attributes, as in PyTorch; corelib
has no cuDNN, MKL-DNN or MPS, so those report unavailable, and flags that select among algorithms
corelib does not have are recorded and otherwise have no effect. ``opt_einsum.enabled`` and
``opt_einsum.strategy`` do control how ``corelib.einsum`` orders its contractions.
"""
from __future__ import annotations

from . import cpu, cuda, cudnn, mkldnn, mps, opt_einsum  # noqa: F401

__all__ = ["cpu", "cuda", "cudnn", "mkldnn", "mps", "opt_einsum"]
