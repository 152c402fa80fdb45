"""corelib.amp: automatic mixed precision, PyTorch's ``torch.amp``.

``autocast(device_type, dtype=None, enabled=True, cache_enabled=None)`` runs the ops on PyTorch's
lower-precision list (matmul, linear, convolutions, ...) in float16/bfloat16 and the ops on its
float32 list in float32 within its region; ``GradScaler`` scales the loss and skips optimizer
steps whose gradients overflowed. ``corelib.autocast`` is ``corelib.amp.autocast``;
``corelib.cuda.amp.autocast`` / ``GradScaler`` are PyTorch's CUDA-defaulted aliases.
"""
from __future__ import annotations

from .autocast_mode import (autocast, custom_bwd, custom_fwd, get_autocast_dtype,
                            is_autocast_available, is_autocast_enabled)
from .grad_scaler import GradScaler, OptState
from . import _cuda_amp  # noqa: E402,F401  (corelib.cuda.amp)

__all__ = ["autocast", "GradScaler", "OptState", "is_autocast_available", "is_autocast_enabled",
           "get_autocast_dtype", "custom_fwd", "custom_bwd"]
