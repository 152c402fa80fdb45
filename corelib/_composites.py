"""Common PyTorch functions built from existing frontend ops (no kernels of their own).

Everything here composes corelib ops, so gradients (and higher-order gradients) come from the
ops used and every backend runs them unchanged.
"""
from __future__ import annotations

import builtins
import math

from . import _dtype
from ._tensor import Tensor
from ._ops.core import method, wrap_dim
from ._ops.creation import arange, full, tensor, zeros
from ._ops.elementwise import (cast, ceil, clamp, floor, isnan, lerp, logical_xor, round, sqrt,
                               where)
from ._ops.indexing import index_select, nonzero, take_along_dim
from ._ops.reduction import any as _any, sort, sum as _sum, vector_norm, write_out
from ._ops.shape import cat, movedim, narrow, reshape, unsqueeze

__all__ = ["searchsorted", "bucketize", "diff", "cdist", "quantile", "nanquantile", "cov",
           "corrcoef", "tril_indices", "triu_indices", "use_deterministic_algorithms",
           "are_deterministic_algorithms_enabled",
           "is_deterministic_algorithms_warn_only_enabled", "set_printoptions"]


def _tensor_arg(x, op, name="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(x).__name__}")
    return x


def _out(result, out, op):
    return result if out is None else write_out(result, out, op)


# ---------------------------------------------------------------------------------------------
# searching
def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,
                 sorter=None, out=None):
    """searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None, out=None) -> Tensor

    Indices where ``input`` would be inserted into the innermost dim of ``sorted_sequence`` to keep it sorted.
    """
    _tensor_arg(sorted_sequence, "searchsorted", "sorted_sequence")
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but "
                               f"got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, "
                               "got side of left while right was True")
        right = side == "right"
    scalar = not isinstance(input, Tensor)
    values = tensor(input, device=sorted_sequence.device) if scalar else input
    if sorted_sequence.ndim == 0:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or the "
                           "first N-1 dimensions of boundaries tensor and input value tensor "
                           "must match, but we got boundaries tensor [] and input value tensor "
                           f"{list(values.shape)}")
    seq = sorted_sequence
    if sorter is not None:
        if sorter.shape != seq.shape:
            raise RuntimeError("torch.searchsorted(): boundary and sorter must have the same "
                               f"size, but got boundary tensor {list(seq.shape)} and got sorter "
                               f"tensor {list(sorter.shape)}")
        seq = take_along_dim(seq, sorter, -1)
    if seq.ndim > 1 and (scalar or tuple(seq.shape[:-1]) != tuple(values.shape[:-1])):
        raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or the "
                           "first N-1 dimensions of boundaries tensor and input value tensor "
                           f"must match, but we got boundaries tensor {list(seq.shape)} and "
                           f"input value tensor {list(values.shape)}")
    common = _dtype.promote_types(seq.dtype, values.dtype)
    seq, values = cast(seq.detach(), common), cast(values.detach(), common)
    if seq.ndim == 1:
        below = seq <= unsqueeze(values, -1) if right else seq < unsqueeze(values, -1)
    else:
        seq = unsqueeze(seq, -2)
        v = unsqueeze(values, -1)
        below = seq <= v if right else seq < v
    idx = _sum(below, -1)
    # NaN inputs sort after everything, as in PyTorch
    idx = where(isnan(values), full((), seq.shape[-1], dtype=idx.dtype, device=idx.device),
                idx) if common.is_floating_point else idx
    return _out(cast(idx, _dtype.int32 if out_int32 else _dtype.int64), out, "searchsorted")


def bucketize(input, boundaries, *, out_int32=False, right=False, out=None):
    """bucketize(input, boundaries, *, out_int32=False, right=False, out=None) -> Tensor

    Index of the bucket of 1-D ``boundaries`` each element of ``input`` falls in.
    """
    _tensor_arg(boundaries, "bucketize", "boundaries")
    if boundaries.ndim != 1:
        raise RuntimeError(f"bucketize(): boundaries tensor must be 1 dimension but got dim("
                           f"{boundaries.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right, out=out)


# ---------------------------------------------------------------------------------------------
# differences and distances
@method()
def diff(input, n=1, dim=-1, prepend=None, append=None, *, out=None):
    """diff(input, n=1, dim=-1, prepend=None, append=None) -> Tensor

    The n-th forward difference along ``dim``, after concatenating ``prepend`` and ``append``.
    """
    _tensor_arg(input, "diff")
    if input.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = wrap_dim(dim, input.ndim, "diff")
    if n == 0:   # as PyTorch: a copy of input, prepend/append ignored
        return _out(input.clone(), out, "diff")
    parts = []
    for extra in (prepend, input, append):
        if extra is None:
            continue
        if not isinstance(extra, Tensor):
            shape = list(input.shape)
            shape[d] = 1
            extra = full(tuple(shape), extra, dtype=input.dtype, device=input.device)
        parts.append(extra)
    x = cat(parts, d) if len(parts) > 1 else input
    for _ in range(n):
        length = x.shape[d]
        if length == 0:
            break
        a, b = narrow(x, d, 1, length - 1), narrow(x, d, 0, length - 1)
        x = logical_xor(a, b) if x.dtype is _dtype.bool else a - b
    return _out(x, out, "diff")


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """cdist(x1, x2, p=2.0, compute_mode='use_mm_for_euclid_dist_if_necessary') -> Tensor

    p-norm distances between each pair of row vectors of ``x1`` (B×P×M) and ``x2`` (B×R×M).
    """
    _tensor_arg(x1, "cdist", "x1")
    _tensor_arg(x2, "cdist", "x2")
    if x1.ndim < 2 or x2.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: "
                           f"{x1.shape[-1]} X2: {x2.shape[-1]}")
    if not (x1.dtype.is_floating_point and x2.dtype.is_floating_point):
        raise RuntimeError(f"cdist only supports floating-point dtypes, X1 got: {x1.dtype}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    if compute_mode not in ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                            "donot_use_mm_for_euclid_dist"):
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    delta = unsqueeze(x1, -2) - unsqueeze(x2, -3)
    return vector_norm(delta, p, -1)


# ---------------------------------------------------------------------------------------------
# quantiles
_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(op, input, q, dim, keepdim, interpolation, out, ignore_nan):
    _tensor_arg(input, op)
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"{op}() input tensor must be either float or double dtype")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"{op}() interpolation must be one of linear, lower, higher, "
                           f"midpoint or nearest. Got {interpolation}")
    scalar_q = not isinstance(q, Tensor)
    if scalar_q:
        if not 0 <= q <= 1:
            raise RuntimeError(f"{op}() q must be in the range [0, 1] but got {q}")
        qt = tensor([float(q)], dtype=input.dtype, device=input.device)
    else:
        if q.ndim > 1:
            raise RuntimeError(f"{op}() q must be a scalar or 1D tensor")
        if q.dtype is not input.dtype:
            raise RuntimeError(f"{op}() q tensor must be same dtype as the input tensor")
        if q.numel() and not bool(((q >= 0) & (q <= 1)).all()):
            raise RuntimeError(f"{op}() q values must be in the range [0, 1]")
        qt = reshape(q, (-1,))
    if input.numel() == 0:
        raise RuntimeError(f"{op}() input tensor must be non-empty")
    if dim is None:
        x, out_shape = reshape(input, (-1,)), ((1,) * input.ndim if keepdim else ())
    else:
        d = wrap_dim(dim, max(input.ndim, 1), op)
        x = movedim(input, d, -1) if input.ndim else reshape(input, (1,))
        shape = list(input.shape)
        if shape:
            if keepdim:
                shape[d] = 1
            else:
                del shape[d]
        out_shape = tuple(shape)
    values = sort(x, -1).values                      # NaN sort last
    n = x.shape[-1]
    nan = isnan(x)
    if ignore_nan:
        count = cast(_sum(~nan, -1, keepdim=True), x.dtype)
        pos = qt * (count - 1)                        # (..., Q)
    else:
        pos = qt * (n - 1) + zeros(x.shape[:-1] + (1,), dtype=x.dtype, device=x.device)
    if interpolation == "lower":
        pos = floor(pos)
    elif interpolation == "higher":
        pos = ceil(pos)
    elif interpolation == "nearest":
        pos = round(pos)
    lo = clamp(floor(pos), 0, n - 1)
    hi = clamp(ceil(pos), 0, n - 1)
    lo_v = take_along_dim(values, cast(lo, _dtype.int64), -1)
    hi_v = take_along_dim(values, cast(hi, _dtype.int64), -1)
    if interpolation == "midpoint":
        result = lerp(lo_v, hi_v, 0.5 * (hi - lo))
    else:
        result = lerp(lo_v, hi_v, pos - lo)
    if not ignore_nan:
        result = where(_any(nan, -1, keepdim=True), full((), math.nan, dtype=x.dtype,
                                                        device=x.device), result)
    # (..., Q) -> (Q, *out_shape), or out_shape for a scalar q
    result = movedim(result, -1, 0)
    result = reshape(result, out_shape if scalar_q else (qt.shape[0],) + out_shape)
    return _out(result, out, op)


@method()
def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """quantile(input, q, dim=None, keepdim=False, *, interpolation='linear', out=None) -> Tensor

    The q-th quantiles of ``input`` along ``dim`` (all elements if None); NaN where a slice has NaN.
    """
    return _quantile("quantile", input, q, dim, keepdim, interpolation, out, False)


@method()
def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """nanquantile(input, q, dim=None, keepdim=False, *, interpolation='linear', out=None) -> Tensor

    ``quantile`` ignoring NaN values (NaN only where a slice is all NaN).
    """
    return _quantile("nanquantile", input, q, dim, keepdim, interpolation, out, True)


# ---------------------------------------------------------------------------------------------
# covariance
@method()
def cov(input, *, correction=1, fweights=None, aweights=None):
    """cov(input, *, correction=1, fweights=None, aweights=None) -> Tensor

    Covariance matrix of the variables in the rows of ``input`` (observations in columns).
    """
    _tensor_arg(input, "cov")
    if input.ndim > 2:
        raise ValueError(f"cov(): expected input to have two or fewer dimensions but got an "
                         f"input with {input.ndim} dimensions")
    x = reshape(input, (1, -1)) if input.ndim < 2 else input
    if x.dtype.category < 2:
        x = cast(x, _dtype.get_default_dtype())
    n_obs = x.shape[1]
    w = None
    for name, weights in (("fweights", fweights), ("aweights", aweights)):
        if weights is None:
            continue
        if weights.ndim > 1 or weights.numel() != n_obs:
            raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions and the "
                               f"same number of elements as the observations ({n_obs}) but got "
                               f"{weights.numel()}")
        if name == "fweights" and weights.dtype.is_floating_point:
            raise RuntimeError("cov(): expected fweights to have integral dtype but got "
                               f"fweights with {weights.dtype} dtype")
        if name == "aweights" and not weights.dtype.is_floating_point:
            raise RuntimeError("cov(): expected aweights to have floating point dtype but got "
                               f"aweights with {weights.dtype} dtype")
        w = weights if w is None else w * weights
    if w is None:
        w_sum = n_obs
        avg = x.mean(1)
    else:
        w = cast(w, x.dtype)
        w_sum = w.sum()
        avg = (x * w).sum(1) / w_sum
    if w is None or correction == 0 or aweights is None:
        norm = w_sum - correction
    else:
        norm = w_sum - correction * (w * aweights).sum() / w_sum
    norm = clamp(norm, min=0) if isinstance(norm, Tensor) else builtins.max(norm, 0)
    xm = x - unsqueeze(avg, 1)
    c = ((xm if w is None else xm * w) @ xm.t()) / norm
    return c.squeeze()


@method()
def corrcoef(input):
    """corrcoef(input) -> Tensor

    Pearson correlation coefficients of the variables in the rows of ``input``.
    """
    c = cov(input)
    if c.ndim == 0:
        return c / c
    std = sqrt(c.diagonal())
    c = c / unsqueeze(std, 1) / unsqueeze(std, 0)
    return clamp(c, -1, 1)


# ---------------------------------------------------------------------------------------------
# index helpers
def _tri_indices(op, row, col, offset, dtype, device, lower):
    if row < 0 or col < 0:
        raise RuntimeError(f"{op}(): row must be non-negative, got{row}" if row < 0 else
                           f"{op}(): col must be non-negative, got{col}")
    r = unsqueeze(arange(row, device=device), 1)
    c = unsqueeze(arange(col, device=device), 0)
    mask = (c - r <= offset) if lower else (c - r >= offset)
    return cast(nonzero(mask).t(), _dtype.as_dtype(dtype, op))


def tril_indices(row, col, offset=0, *, dtype=_dtype.long, device=None, layout=None):
    """tril_indices(row, col, offset=0, *, dtype=torch.long, device='cpu', layout=torch.strided) -> Tensor

    The 2×N coordinates of the lower triangle of a row×col matrix (diagonal shifted by ``offset``).
    """
    return _tri_indices("tril_indices", row, col, offset, dtype, device, True)


def triu_indices(row, col, offset=0, *, dtype=_dtype.long, device=None, layout=None):
    """triu_indices(row, col, offset=0, *, dtype=torch.long, device='cpu', layout=torch.strided) -> Tensor

    The 2×N coordinates of the upper triangle of a row×col matrix (diagonal shifted by ``offset``).
    """
    return _tri_indices("triu_indices", row, col, offset, dtype, device, False)


# ---------------------------------------------------------------------------------------------
# Tensor.unfold
@method("unfold")
def _tensor_unfold(self, dimension, size, step):
    """unfold(dimension, size, step) -> Tensor

    All slices of length ``size`` along ``dimension``, ``step`` apart, in a new last dim (a copy, not a view).
    """
    d = wrap_dim(dimension, builtins.max(self.ndim, 1), "unfold")
    length = self.shape[d] if self.ndim else 1
    if size > length:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {length} but size is "
                           f"{size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    x = self if self.ndim else reshape(self, (1,))
    count = (length - size) // step + 1
    idx = unsqueeze(arange(count, device=self.device) * step, 1) + \
        unsqueeze(arange(size, device=self.device), 0)
    picked = index_select(x, d, reshape(idx, (-1,)))
    shape = list(x.shape)
    shape[d:d + 1] = [count, size]
    out = movedim(reshape(picked, tuple(shape)), d + 1, -1)
    return out if self.ndim else reshape(out, (size,))


_tensor_unfold.__name__ = _tensor_unfold.__qualname__ = "unfold"


# ---------------------------------------------------------------------------------------------
# global settings
_DETERMINISTIC = {"mode": False, "warn_only": False}


def use_deterministic_algorithms(mode, *, warn_only=False):
    """use_deterministic_algorithms(mode, *, warn_only=False) -> None

    Ask for deterministic algorithms; corelib's kernels are deterministic, so this only records the flag.
    """
    if not isinstance(mode, builtins.bool):
        raise TypeError(f"use_deterministic_algorithms expects a bool, but got "
                        f"{type(mode).__name__}")
    _DETERMINISTIC.update(mode=mode, warn_only=builtins.bool(warn_only))


def are_deterministic_algorithms_enabled():
    """are_deterministic_algorithms_enabled() -> bool

    Whether ``use_deterministic_algorithms(True)`` is in effect.
    """
    return _DETERMINISTIC["mode"]


def is_deterministic_algorithms_warn_only_enabled():
    """is_deterministic_algorithms_warn_only_enabled() -> bool

    Whether deterministic mode was set with ``warn_only=True``.
    """
    return _DETERMINISTIC["mode"] and _DETERMINISTIC["warn_only"]


from ._format import set_printoptions  # noqa: E402
