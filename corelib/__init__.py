"""corelib: a PyTorch-style deep-learning framework with pluggable backends.

Backends are plugins found through the ``corelib`` entry-point group (see corelib.hookspecs);
``import corelib`` works with none installed and the first op then names what to install.
"""
from __future__ import annotations

from . import _dtype
from ._dtype import (bool, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64,
                     half, float, double, long, int, short, dtype, get_default_dtype,
                     set_default_dtype, promote_types, result_type, can_cast, iinfo, finfo)
from ._device import device
from ._memory_format import (memory_format, contiguous_format, preserve_format,  # noqa: E402
                             channels_last, channels_last_3d)
from ._tensor import Tensor, Size
from ._random import Generator, manual_seed, seed, initial_seed, get_rng_state, set_rng_state
from .autograd.grad_mode import (no_grad, enable_grad, set_grad_enabled, inference_mode,
                                 is_grad_enabled, is_inference_mode_enabled)
from .autograd.anomaly_mode import is_anomaly_enabled, is_anomaly_check_nan_enabled
from . import _ops, autograd
from . import linalg, nn, onnx, optim, utils  # noqa: E402
from . import special  # noqa: E402
from .serialization import save, load  # noqa: E402
from .dispatch import registry, BackendNotFoundError

for _module in _ops.MODULES:
    for _name in _module.__all__:
        globals()[_name] = getattr(_module, _name)
del _module, _name
from ._composites import *  # noqa: E402,F401,F403  (composites of the ops above)
from ._composites_more import *  # noqa: E402,F401,F403
from ._composites_db import *  # noqa: E402,F401,F403  (histogram, segment_reduce, ...)
from ._copies import *  # noqa: E402,F401,F403  (the *_copy functions)
from ._native_norms import *  # noqa: E402,F401,F403  (native_layer_norm, ...)
from . import masked, signal  # noqa: E402  (torch.masked, torch.signal)
from . import _aliases, _composites, _composites_more, _composites_db  # noqa: E402
_aliases.install(globals(), _ops.MODULES + (_composites, _composites_more, _composites_db))  # axis= / keepdims= as PyTorch
from . import backends  # noqa: E402  (torch.backends flags)

__version__ = "0.1.0"


def is_tensor(obj):
    return isinstance(obj, Tensor)


def is_floating_point(input):
    return input.dtype.is_floating_point


def numel(input):
    return input.numel()


from . import cuda  # noqa: E402
from . import amp  # noqa: E402  (torch.amp)
from .amp import autocast, get_autocast_dtype, is_autocast_enabled  # noqa: E402
from . import distributions  # noqa: E402  (torch.distributions)
cuda.amp = amp._cuda_amp   # torch.cuda.amp's aliases
from ._docstrings import fill as _fill_docstrings  # noqa: E402

_fill_docstrings()   # docstrings of what was defined without one (corelib/_docstrings.py)
from ._device_module import get_device_module  # noqa: E402


def __getattr__(name):
    """``corelib.<device>``: the device module of any installed backend's device type."""
    if name.startswith("_"):   # no device; ``from corelib import _x`` while a plugin imports
        raise AttributeError(f"module 'corelib' has no attribute {name!r}")
    registry.load()
    if name in registry.backends:
        return get_device_module(name)
    raise AttributeError(f"module 'corelib' has no attribute {name!r}")
