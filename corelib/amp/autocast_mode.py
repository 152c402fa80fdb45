"""Autocast regions, costing nothing outside them.

Design: no check on the dispatch hot path. While at least one autocast region is enabled, the
frontend functions on the cast lists (found by name in corelib, corelib.nn.functional and
corelib.linalg) are replaced, wherever they are bound (the corelib modules' globals, so internal
callers such as einsum's matmul are covered too, and Tensor methods), by wrappers that cast
their floating arguments; when the outermost region ends the original function objects are
put back. The wrappers read the calling thread's per-device state (autocast is thread-local, as
in PyTorch), so another thread, a nested ``autocast(enabled=False)`` or a tensor on another
device type passes through unchanged. float64 tensors are never cast (as in
PyTorch); casts are ordinary differentiable ``.to(dtype)`` ops, so gradients reach float32
parameters in float32.

Entering and leaving a region costs ~0.3 ms (re-binding ~150 names); calls outside any region
cost nothing. The default dtype is PyTorch's (bfloat16 on cpu, float16 on cuda) where the
device's backend stores it; corelib's NumPy CPU backend stores no bfloat16, so CPU regions
default to float16 there, and an explicit dtype the backend cannot store is warned about and
the region disabled (as PyTorch does for an unsupported autocast dtype).
"""
from __future__ import annotations

import functools
import sys
import threading
import warnings

from .. import _dtype
from .._tensor import Tensor

__all__ = ["autocast", "is_autocast_available", "is_autocast_enabled", "get_autocast_dtype",
           "custom_fwd", "custom_bwd"]

# PyTorch's autocast op lists (aten/src/ATen/autocast_mode.cpp), by corelib namespace. The
# recurrent layers' fused recurrence (rnn_sequence) is listed so that its inputs (the input
# projection comes from linear) and its states agree: float32 on the CPU (PyTorch's CPU GRU and
# cells return float32), the lower dtype on CUDA (as PyTorch's CUDA LSTM/GRU).
_MATMULS = ["matmul", "mm", "bmm", "baddbmm", "addmm", "addbmm", "__matmul__", "__rmatmul__"]
_CONVS = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
          "conv_transpose3d"]
_LOSSES = ["mse_loss", "cosine_embedding_loss", "nll_loss", "hinge_embedding_loss",
           "poisson_nll_loss", "smooth_l1_loss", "cross_entropy", "l1_loss", "huber_loss",
           "margin_ranking_loss", "soft_margin_loss", "triplet_margin_loss", "multi_margin_loss",
           "ctc_loss", "kl_div", "multilabel_margin_loss", "binary_cross_entropy_with_logits"]
_LISTS = {
    "cpu": {
        "lower": {"corelib": _MATMULS + _CONVS + ["prelu"],
                  "functional": ["linear", "prelu", "scaled_dot_product_attention"] + _CONVS,
                  "linalg": ["vecdot"]},
        "fp32": {"corelib": ["prod", "quantile", "nanquantile", "cdist", "trace", "cholesky",
                             "cholesky_inverse", "cholesky_solve", "inverse", "lu_solve",
                             "ormqr", "pinverse", "geqrf", "qr", "svd", "triangular_solve"],
                 "functional": _LOSSES + ["binary_cross_entropy", "avg_pool3d", "max_pool3d",
                                          "adaptive_avg_pool3d", "max_unpool2d",
                                          "max_unpool3d", "grid_sample"],
                 "linalg": ["cond", "matrix_rank", "solve", "cholesky", "svdvals", "eigvalsh",
                            "inv", "householder_product", "tensorinv", "tensorsolve", "qr",
                            "cholesky_ex", "svd", "eigh", "lstsq", "inv_ex"],
                 "rnn": ["rnn_sequence"]},
    },
    "cuda": {
        "lower": {"corelib": _MATMULS + _CONVS + ["prelu", "addmv", "addr", "einsum", "mv",
                                                  "chain_matmul"],
                  "functional": ["linear", "prelu", "scaled_dot_product_attention"] + _CONVS,
                  "linalg": ["vecdot", "multi_dot"], "rnn": ["rnn_sequence"]},
        "fp32": {"corelib": ["acos", "asin", "cosh", "erfinv", "exp", "expm1", "log", "log10",
                             "log2", "log1p", "reciprocal", "rsqrt", "sinh", "tan", "pow",
                             "dist", "cdist", "renorm", "logsumexp", "prod", "softmax",
                             "log_softmax", "cumprod", "cumsum", "sum"],
                 "functional": _LOSSES + ["softplus", "layer_norm", "group_norm",
                                          "cosine_similarity", "softmax", "log_softmax",
                                          "pdist"],
                 "linalg": ["vector_norm", "matrix_norm"]},
        "banned": {"functional": ["binary_cross_entropy"]},
    },
}
_DEFAULT_DTYPE = {"cpu": _dtype.bfloat16, "cuda": _dtype.float16}   # PyTorch's defaults


def _stores(device_type, dtype):
    """Whether the device's backend stores ``dtype`` (True when no backend is installed)."""
    from ..dispatch import BackendNotFoundError, registry
    try:
        return dtype.name in registry.backend(device_type).dtypes
    except BackendNotFoundError:
        return True


def _default_dtype(device_type):
    """PyTorch's default autocast dtype, or float16 where the backend does not store it
    (corelib's NumPy CPU backend has no bfloat16: its CPU autocast runs in float16)."""
    dtype = _DEFAULT_DTYPE[device_type]
    return dtype if _stores(device_type, dtype) else _dtype.float16
_SUPPORTED = {"cpu": (_dtype.bfloat16, _dtype.float16), "cuda": (_dtype.float16, _dtype.bfloat16)}
_LOCAL = threading.local()   # .state: this thread's {device type: autocast dtype} (enabled)
_NO_STATE: dict = {}
_COUNTS: dict = {}      # device type -> how many threads have it enabled (wrappers installed)
_LOCK = threading.RLock()


def _state():
    """This thread's {device type: dtype} of enabled regions (autocast is thread-local)."""
    return getattr(_LOCAL, "state", _NO_STATE)


def _set(device, dtype):
    """Enable (dtype) or disable (None) autocast for ``device`` in this thread."""
    with _LOCK:
        state = _LOCAL.__dict__.setdefault("state", {})
        before = device in state
        if dtype is None:
            state.pop(device, None)
        else:
            state[device] = dtype
        if before != (dtype is not None):
            _COUNTS[device] = _COUNTS.get(device, 0) + (-1 if before else 1)
        _sync()
_INSTALLED: list = []   # (owner, name, original) while wrappers are in place
_PLAN: dict = {}        # cached: where each listed function is bound


def is_autocast_available(device_type):
    """is_autocast_available(device_type) -> bool

    Whether autocast supports ``device_type`` ("cpu" and "cuda" in corelib).
    """
    return device_type in _LISTS


def is_autocast_enabled(device_type="cuda"):
    """is_autocast_enabled(device_type="cuda") -> bool

    Whether an enabled autocast region for ``device_type`` is active.
    """
    return device_type in _state()


def get_autocast_dtype(device_type):
    """get_autocast_dtype(device_type) -> corelib.dtype

    The dtype autocast casts to on ``device_type`` (the active region's, else the default).
    """
    if device_type not in _LISTS:
        raise RuntimeError(f"unsupported autocast device_type '{device_type}'")
    return _state().get(device_type) or _default_dtype(device_type)


# ---------------------------------------------------------------------------------------------
# the wrappers
def _eligible(x):
    return isinstance(x, Tensor) and x.dtype.is_floating_point and x.dtype is not _dtype.float64


def _cast(x, dtype):
    if _eligible(x) and x.dtype is not dtype:
        return x.to(dtype)
    if isinstance(x, (list, tuple)) and any(_eligible(v) for v in x):
        return type(x)(_cast(v, dtype) for v in x)
    return x


def _first_device_type(args, kwargs):
    for x in args:
        if isinstance(x, Tensor):
            return x.device.type
        if isinstance(x, (list, tuple)) and x and isinstance(x[0], Tensor):
            return x[0].device.type
    for x in kwargs.values():
        if isinstance(x, Tensor):
            return x.device.type
    return None


def _wrap(fn, name):
    def wrapper(*args, **kwargs):
        device = _first_device_type(args, kwargs)
        lower = getattr(_LOCAL, "state", _NO_STATE).get(device)
        policy = None if lower is None else _ACTIVE[device].get(fn)
        if policy is None:
            return fn(*args, **kwargs)
        if policy == "banned":
            raise RuntimeError(
                f"corelib.nn.functional.{name} and corelib.nn.BCELoss are unsafe to autocast.\n"
                f"Many models use a sigmoid layer right before the binary cross entropy layer.\n"
                f"In this case, combine the two layers using corelib.nn.functional."
                f"binary_cross_entropy_with_logits\nor corelib.nn.BCEWithLogitsLoss.  "
                f"binary_cross_entropy_with_logits and BCEWithLogits are\nsafe to autocast.")
        to = lower if policy == "lower" else _dtype.float32
        args = tuple(_cast(a, to) for a in args)
        kwargs = {k: _cast(v, to) for k, v in kwargs.items()}
        return fn(*args, **kwargs)
    functools.update_wrapper(wrapper, fn)
    wrapper.__wrapped_by_autocast__ = True
    return wrapper


_ACTIVE: dict = {}      # device type -> {original function: "lower" | "fp32" | "banned"}


def _namespaces():
    import corelib
    from corelib import linalg
    from corelib._ops import rnn
    from corelib.nn import functional
    return {"corelib": corelib, "functional": functional, "linalg": linalg, "rnn": rnn}


def _policies(device_type):
    """{original function: policy} for ``device_type``'s lists."""
    spaces = _namespaces()
    table = {}
    for policy, where in _LISTS[device_type].items():
        for space, names in where.items():
            owner = spaces[space]
            for name in names:
                fn = getattr(Tensor if name.startswith("__") else owner, name, None)
                if callable(fn):
                    table[fn] = policy
    return table


def _plan(devices):
    """[(owner, attribute, wrapper, function)]: every binding, in corelib's modules and the
    Tensor class, of the functions listed for ``devices``, with its wrapper (cached until
    more modules are imported)."""
    if _PLAN.get("key") != len(sys.modules):
        _PLAN.clear()
        _PLAN["key"] = len(sys.modules)
        _PLAN["modules"] = [m for n, m in list(sys.modules.items())
                            if m is not None and (n == "corelib" or n.startswith("corelib."))
                            and not n.startswith("corelib.amp")]
        _PLAN["tables"] = {device: _policies(device) for device in _LISTS}
    if devices not in _PLAN:
        functions = {id(fn): fn for d in devices for fn in _PLAN["tables"][d]}
        wrappers = {key: _WRAPPERS.get(key) or _WRAPPERS.setdefault(key, _wrap(fn, fn.__name__))
                    for key, fn in functions.items()}
        found = []
        for owner in _PLAN["modules"] + [Tensor]:
            for attr, value in list(vars(owner).items()):
                if id(value) in functions and functions[id(value)] is value:
                    found.append((owner, attr, wrappers[id(value)], value))
        _PLAN[devices] = found
    return _PLAN[devices]


_WRAPPERS: dict = {}
_INSTALLED_FOR = [frozenset()]


def _sync():
    """Install exactly the wrappers the enabled regions need (none outside every region)."""
    devices = frozenset(d for d, n in _COUNTS.items() if n > 0)
    if devices == _INSTALLED_FOR[0]:
        return
    while _INSTALLED:
        owner, attr, fn = _INSTALLED.pop()
        setattr(owner, attr, fn)
    _INSTALLED_FOR[0] = devices
    if devices:
        found = _plan(devices)
        _ACTIVE.update(_PLAN["tables"])
        for owner, attr, wrapper, fn in found:
            setattr(owner, attr, wrapper)
            _INSTALLED.append((owner, attr, fn))


# ---------------------------------------------------------------------------------------------
class autocast:
    """autocast(device_type, dtype=None, enabled=True, cache_enabled=None)

    Context manager (and decorator) running listed ops in lower precision within its region.
    """

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        from .._device import device as _device
        _device(device_type)   # RuntimeError for an invalid device string, as PyTorch
        self.device = device_type
        self.fast_dtype = dtype
        self._enabled = bool(enabled)
        self._cache_enabled = True if cache_enabled is None else bool(cache_enabled)
        if not is_autocast_available(device_type):
            if self._enabled:
                warnings.warn(f"User provided device_type of '{device_type}', but autocast "
                              f"is not available for it. Disabling autocast.")
            self._enabled = False
            return
        if dtype is None:
            self.fast_dtype = _default_dtype(device_type)
        if self._enabled and self.fast_dtype not in _SUPPORTED[device_type]:
            names = ", ".join(f"corelib.{d.name}" for d in _SUPPORTED[device_type])
            warnings.warn(f"In {device_type.upper()} autocast, but the target dtype is not "
                          f"supported. Disabling autocast.\n{device_type.upper()} Autocast only "
                          f"supports dtypes of {names} currently.")
            self._enabled = False
        elif self._enabled and not _stores(device_type, self.fast_dtype):
            warnings.warn(f"In {device_type.upper()} autocast, but the backend of device "
                          f"'{device_type}' does not store {self.fast_dtype}. Disabling "
                          f"autocast.")
            self._enabled = False

    def __enter__(self):
        self._prev = _state().get(self.device)
        _set(self.device, self.fast_dtype if self._enabled else None)
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        _set(self.device, self._prev)
        return False

    def __call__(self, func):
        """Use the autocast object as a decorator: ``func`` runs within the region."""
        @functools.wraps(func)
        def decorate_autocast(*args, **kwargs):
            with self:
                return func(*args, **kwargs)
        return decorate_autocast

    def __repr__(self):
        return (f"autocast(device_type={self.device!r}, dtype={self.fast_dtype}, "
                f"enabled={self._enabled})")


def custom_fwd(fwd=None, *, device_type, cast_inputs=None):
    """custom_fwd(fwd=None, *, device_type, cast_inputs=None)

    Decorator for a custom autograd Function's forward: with ``cast_inputs`` it runs in that
    dtype with autocast off, otherwise under the caller's autocast state.
    """
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        if cast_inputs is not None and is_autocast_enabled(device_type):
            args = tuple(_cast(a, cast_inputs) for a in args)
            kwargs = {k: _cast(v, cast_inputs) for k, v in kwargs.items()}
            with autocast(device_type, enabled=False):
                return fwd(*args, **kwargs)
        return fwd(*args, **kwargs)
    return decorate_fwd


def custom_bwd(bwd=None, *, device_type):
    """custom_bwd(bwd=None, *, device_type)

    Decorator for a custom autograd Function's backward (runs it with autocast disabled).
    """
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args, **kwargs):
        with autocast(device_type, enabled=False):
            return bwd(*args, **kwargs)
    return decorate_bwd
