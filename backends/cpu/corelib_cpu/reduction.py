"""Reduction kernels: ``dim`` is a tuple of non-negative axes."""
from __future__ import annotations

import numpy as np


def _accumulating(fn):
    """float16 accumulates in float32, as PyTorch does."""
    def kernel(x, dim, keepdim):
        if x.dtype == np.float16:
            return fn(x, axis=dim, keepdims=keepdim, dtype=np.float32).astype(np.float16)
        return np.asarray(fn(x, axis=dim, keepdims=keepdim))
    return kernel


KERNELS = {
    "sum": _accumulating(np.sum),
    "mean": _accumulating(np.mean),
}
