"""corelib.cuda.amp: PyTorch's deprecated CUDA aliases of autocast and GradScaler."""
from __future__ import annotations

from . import autocast_mode, grad_scaler
from .. import _dtype

__all__ = ["autocast", "GradScaler", "custom_fwd", "custom_bwd"]


class autocast(autocast_mode.autocast):
    """autocast(enabled=True, dtype=corelib.float16, cache_enabled=True)

    ``corelib.amp.autocast("cuda", ...)`` (PyTorch's deprecated torch.cuda.amp.autocast).
    """

    def __init__(self, enabled=True, dtype=_dtype.float16, cache_enabled=True):
        super().__init__("cuda", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


class GradScaler(grad_scaler.GradScaler):
    """GradScaler(init_scale=2.**16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000, enabled=True)

    ``corelib.amp.GradScaler("cuda", ...)`` (PyTorch's deprecated torch.cuda.amp.GradScaler).
    """

    def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        super().__init__("cuda", init_scale=init_scale, growth_factor=growth_factor,
                         backoff_factor=backoff_factor, growth_interval=growth_interval,
                         enabled=enabled)


def custom_fwd(fwd=None, *, cast_inputs=None):
    """custom_fwd(fwd=None, *, cast_inputs=None)

    ``corelib.amp.custom_fwd(device_type="cuda")``.
    """
    return autocast_mode.custom_fwd(fwd, device_type="cuda", cast_inputs=cast_inputs)


def custom_bwd(bwd=None):
    """custom_bwd(bwd=None)

    ``corelib.amp.custom_bwd(device_type="cuda")``.
    """
    return autocast_mode.custom_bwd(bwd, device_type="cuda")

import sys as _sys  # noqa: E402

_sys.modules.setdefault("corelib.cuda.amp", _sys.modules[__name__])
