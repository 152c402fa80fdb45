"""corelib.masked: PyTorch's torch.masked reductions and normalizations on strided tensors.

Each function takes a boolean ``mask`` (broadcast to the input's shape; ``None`` means all
elements are valid), replaces the masked-out elements by the identity of the operation
(0 for sum, 1 for prod, -inf for amax/logsumexp/softmax, +inf for amin/softmin, NaN for
median) and runs the ordinary frontend op, so gradients come from autograd and masked-out
elements get zero gradient. Slices with every element masked out give the identity of the
reduction (sum 0, prod 1, amax -inf, ...) or NaN where the identity is undefined (mean,
var, std, median, softmax).

Not here: ``MaskedTensor`` and sparse (COO/CSR) inputs.
"""
from __future__ import annotations

import math

from .. import _dtype
from .._tensor import Tensor
from ..autograd.function import Function as _Function

__all__ = ["sum", "prod", "cumsum", "cumprod", "amax", "amin", "argmax", "argmin", "mean",
           "median", "logsumexp", "logaddexp", "norm", "var", "std", "softmax", "log_softmax",
           "softmin", "normalize"]

_INT_TO_INT64 = ("uint8", "bool", "int8", "int16", "int32")


def _corelib():
    import corelib
    return corelib


def _check_tensor(x, op, name="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"masked.{op}(): argument '{name}' must be Tensor, not "
                        f"{type(x).__name__}")


def _canonical_dim(dim, ndim, op):
    """dim as a sorted tuple of non-negative dims (None and () mean every dim)."""
    if dim is None or dim == ():
        return tuple(range(ndim))
    ndim = max(ndim, 1)
    dims = []
    for d in ((dim,) if isinstance(dim, int) else dim):
        if d in dims:
            raise RuntimeError(f"masked.{op}(): dim={d} appears multiple times in the list "
                               "of dims")
        if d >= ndim or d < -ndim:
            raise IndexError(f"masked.{op}(): Dimension out of range (expected to be in range "
                             f"of [{-ndim}, {ndim - 1}], but got {d})")
        dims.append(d % ndim)
    return tuple(sorted(dims))


def _input_mask(input, mask, op):
    """The boolean mask broadcast to input's shape."""
    c = _corelib()
    if not isinstance(mask, Tensor):
        raise TypeError(f"masked.{op}(): argument 'mask' must be Tensor, not "
                        f"{type(mask).__name__}")
    if tuple(mask.shape) != tuple(input.shape):
        if mask.ndim > input.ndim:
            raise IndexError(f"masked.{op}(): expected broadcastable mask (got mask "
                             "dimensionality higher than of the input)")
        mask = c.broadcast_to(mask, tuple(input.shape))
    return mask.to(dtype=_dtype.bool)


def _identity(op, input, ord=2.0):
    """The reduction identity of ``op`` as a 0-d tensor of input's dtype (None: undefined)."""
    c = _corelib()
    dtype = input.dtype
    value = None
    if op in ("sum", "cumsum", "normalize"):
        value = 0
    elif op in ("prod", "cumprod"):
        value = 1
    elif op in ("amax", "argmax", "logaddexp", "logsumexp", "amin", "argmin"):
        big = op in ("amin", "argmin")
        if dtype.is_floating_point:
            value = math.inf if big else -math.inf
        elif dtype.is_signed or dtype is _dtype.uint8:
            info = c.iinfo(dtype)
            value = info.max if big else info.min
    elif op == "norm":
        if ord == -math.inf:
            if not dtype.is_floating_point:
                raise RuntimeError(f"masked.norm(): ord=-inf needs a floating point input, "
                                   f"got {dtype}")
            value = math.inf
        else:
            value = 0
    elif op == "median":
        value = math.nan
    if value is None:
        raise NotImplementedError(f"masked.{op}(): no identity on {dtype} input")
    return c.tensor(value, dtype=dtype, device=input.device)


class _Combine(_Function):
    """where(mask, input, fill) whose gradient is exactly 0 at masked-out elements, even where
    the incoming gradient is not finite there (as PyTorch's masked ops)."""

    @staticmethod
    def forward(ctx, input, mask, fill):
        ctx.save_for_backward(mask)
        return _corelib().where(mask, input, fill)

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        return _corelib().where(mask, grad, 0.0), None, None


def _combine(op, input, mask, ord=2.0):
    """input with the masked-out elements replaced by the identity of ``op``."""
    if mask is None:
        return input
    return _Combine.apply(input, _input_mask(input, mask, op), _identity(op, input, ord))


def _reduce_dims(dims):
    return dims if dims else None


def _sum_dtype(input, dtype):
    if dtype is None:
        dtype = _dtype.int64 if input.dtype.name in _INT_TO_INT64 else input.dtype
    return dtype


def sum(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """sum(input, dim, *, keepdim=False, dtype=None, mask=None) -> Tensor

    Sum of the elements of input over dim, masked-out elements excluded (identity 0).
    """
    _check_tensor(input, "sum")
    dtype = _sum_dtype(input, dtype)
    dims = _canonical_dim(dim, input.ndim, "sum")
    x = _combine("sum", input, mask)
    return _corelib().sum(x, _reduce_dims(dims), bool(keepdim), dtype=dtype)


def prod(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """prod(input, dim, *, keepdim=False, dtype=None, mask=None) -> Tensor

    Product of the elements of input over dim, masked-out elements excluded (identity 1).
    """
    _check_tensor(input, "prod")
    dtype = _sum_dtype(input, dtype)
    dims = _canonical_dim(dim, input.ndim, "prod")
    result = _combine("prod", input, mask).to(dtype=dtype)
    if input.ndim == 0:
        return result.clone() if result is input else result
    for d in reversed(dims):
        result = result.prod(dim=d, keepdim=bool(keepdim))
    return result.clone() if result is input else result


def cumsum(input, dim, *, dtype=None, mask=None):
    """cumsum(input, dim, *, dtype=None, mask=None) -> Tensor

    Cumulative sum of input along dim, masked-out elements counting as 0.
    """
    _check_tensor(input, "cumsum")
    dtype = input.dtype if dtype is None else dtype
    d = _canonical_dim(dim, input.ndim, "cumsum")[0] if input.ndim else 0
    x = _combine("sum", input, mask)
    return _corelib().cumsum(x, d, dtype=dtype).to(dtype=dtype)


def cumprod(input, dim, *, dtype=None, mask=None):
    """cumprod(input, dim, *, dtype=None, mask=None) -> Tensor

    Cumulative product of input along dim, masked-out elements counting as 1.
    """
    _check_tensor(input, "cumprod")
    dtype = input.dtype if dtype is None else dtype
    d = _canonical_dim(dim, input.ndim, "cumprod")[0] if input.ndim else 0
    x = _combine("prod", input, mask)
    return _corelib().cumprod(x, d, dtype=dtype).to(dtype=dtype)


def _minmax(op, input, dim, keepdim, dtype, mask):
    _check_tensor(input, op)
    dtype = input.dtype if dtype is None else dtype
    x = _combine(op, input, mask)
    dims = _canonical_dim(dim, x.ndim, op)
    return getattr(_corelib(), op)(x, dims, bool(keepdim)).to(dtype=dtype)


def amax(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """amax(input, dim, *, keepdim=False, dtype=None, mask=None) -> Tensor

    Maximum of the elements of input over dim, masked-out elements excluded (identity -inf).
    """
    return _minmax("amax", input, dim, keepdim, dtype, mask)


def amin(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """amin(input, dim, *, keepdim=False, dtype=None, mask=None) -> Tensor

    Minimum of the elements of input over dim, masked-out elements excluded (identity +inf).
    """
    return _minmax("amin", input, dim, keepdim, dtype, mask)


def _arg(op, input, dim, keepdim, dtype, mask):
    _check_tensor(input, op)
    dtype = input.dtype if dtype is None else dtype
    x = _combine(op, input, mask)
    return getattr(_corelib(), op)(x, dim, bool(keepdim)).to(dtype=dtype)


def argmax(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """argmax(input, dim, *, keepdim=False, dtype=None, mask=None) -> Tensor

    Index of the maximum of input along dim among the masked-in elements (dtype defaults to input's).
    """
    return _arg("argmax", input, dim, keepdim, dtype, mask)


def argmin(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """argmin(input, dim, *, keepdim=False, dtype=None, mask=None) -> Tensor

    Index of the minimum of input along dim among the masked-in elements (dtype defaults to input's).
    """
    return _arg("argmin", input, dim, keepdim, dtype, mask)


def _count(input, mask, dim, keepdim, op):
    c = _corelib()
    dims = _canonical_dim(dim, input.ndim, op)
    if mask is None:
        ones = c.ones(tuple(input.shape), dtype=_dtype.int64, device=input.device)
        return c.sum(ones, _reduce_dims(dims), bool(keepdim)), None
    inmask = _input_mask(input, mask, op)
    return c.sum(inmask, _reduce_dims(dims), bool(keepdim)), inmask


def mean(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """mean(input, dim, *, keepdim=False, dtype=None, mask=None) -> Tensor

    Mean of the masked-in elements of input over dim (NaN where every element is masked out).
    """
    _check_tensor(input, "mean")
    source = "Optional"
    if dtype is None:
        dtype, source = input.dtype, "Input"
    if not (dtype.is_floating_point or dtype.is_complex):
        raise ValueError(f"masked.mean(): Could not infer output dtype. {source} dtype must be "
                         f"either a floating point or complex dtype. Got: {dtype}")
    count, inmask = _count(input, mask, dim, keepdim, "mean")
    total = sum(input, dim, keepdim=keepdim, dtype=dtype, mask=inmask)
    return total / count


def median(input, dim=-1, *, keepdim=False, dtype=None, mask=None):
    """median(input, dim=-1, *, keepdim=False, dtype=None, mask=None) -> Tensor

    Median of the masked-in elements of input along dim (NaN where every element is masked out).
    """
    _check_tensor(input, "median")
    c = _corelib()
    dtype = input.dtype if dtype is None else dtype
    d = _canonical_dim(dim, input.ndim, "median")[0] if input.ndim else 0
    is_float = input.dtype.is_floating_point
    if not is_float:
        input = input.to(dtype=_dtype.float32)
    x = _combine("median", input, mask)
    out = c.nanmedian(x, d, bool(keepdim)).values
    if is_float:
        return out
    if bool(c.isnan(out).any()):
        raise ValueError("masked.median(): expects no fully masked out rows if dtype is not "
                         "floating point")
    return out.to(dtype=dtype)


def logsumexp(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """logsumexp(input, dim, *, keepdim=False, dtype=None, mask=None) -> Tensor

    log(sum(exp(input))) over dim, masked-out elements excluded (identity -inf).
    """
    _check_tensor(input, "logsumexp")
    dtype = input.dtype if dtype is None else dtype
    dims = _canonical_dim(dim, input.ndim, "logsumexp")
    x = _combine("logsumexp", input, mask)
    return _corelib().logsumexp(x, dims, keepdim=bool(keepdim)).to(dtype=dtype)


def logaddexp(input, other, *, dtype=None, input_mask=None, other_mask=None):
    """logaddexp(input, other, *, dtype=None, input_mask=None, other_mask=None) -> Tensor

    log(exp(input) + exp(other)) elementwise, masked-out elements of either taken as -inf.
    """
    _check_tensor(input, "logaddexp")
    _check_tensor(other, "logaddexp", "other")
    dtype = input.dtype if dtype is None else dtype
    a = _combine("logaddexp", input, input_mask)
    b = _combine("logaddexp", other, other_mask)
    return _corelib().logaddexp(a, b).to(dtype=dtype)


def norm(input, ord=2.0, dim=None, *, keepdim=False, dtype=None, mask=None):
    """norm(input, ord, dim, *, keepdim=False, dtype=None, mask=None) -> Tensor

    Vector ord-norm of the masked-in elements of input over dim (identity 0; +inf for ord=-inf).
    """
    _check_tensor(input, "norm")
    c = _corelib()
    dtype = input.dtype if dtype is None else dtype
    x = _combine("norm", input, mask, ord)
    dims = _canonical_dim(dim, input.ndim, "norm")
    return c.linalg.vector_norm(x, ord, _reduce_dims(dims), bool(keepdim), dtype=dtype)


def _std_var(op, input, dim, unbiased, correction_opt, keepdim, dtype, mask, take_sqrt):
    _check_tensor(input, op)
    c = _corelib()
    if unbiased is not None and correction_opt is not None:
        raise RuntimeError(f"masked.{op}(): only one of unbiased and correction may be given")
    correction = 1.0
    if unbiased is not None:
        correction = 1.0 if unbiased else 0.0
    if correction_opt is not None:
        correction = float(correction_opt)
    if dtype is None:
        dtype = input.dtype
        if not (dtype.is_floating_point or dtype.is_complex):
            dtype = _dtype.float32
    compute_dtype = dtype
    if not (compute_dtype.is_floating_point or compute_dtype.is_complex):
        compute_dtype = _dtype.float32
    count, inmask = _count(input, mask, dim, True, op)
    sample_total = sum(input, dim, keepdim=True, dtype=dtype, mask=inmask)
    x = input - sample_total / count
    total = sum(x * x, dim, keepdim=keepdim, dtype=compute_dtype, mask=inmask)
    if not keepdim:
        count = count.reshape(tuple(total.shape))
    if correction != 0:
        count = count.to(dtype=compute_dtype) - correction
        count = c.maximum(count, count.new_zeros([]))
    output = (total / count).to(dtype=dtype)
    return c.sqrt(output) if take_sqrt else output


def var(input, dim=None, unbiased=None, *, correction=None, keepdim=False, dtype=None,
        mask=None):
    """var(input, dim, unbiased=None, *, correction=None, keepdim=False, dtype=None, mask=None) -> Tensor

    Variance of the masked-in elements of input over dim (NaN where every element is masked out).
    """
    return _std_var("var", input, dim, unbiased, correction, keepdim, dtype, mask, False)


def std(input, dim=None, unbiased=None, *, correction=None, keepdim=False, dtype=None,
        mask=None):
    """std(input, dim, unbiased=None, *, correction=None, keepdim=False, dtype=None, mask=None) -> Tensor

    Standard deviation of the masked-in elements of input over dim (NaN where all are masked out).
    """
    return _std_var("std", input, dim, unbiased, correction, keepdim, dtype, mask, True)


def _softmax_like(op, identity, input, dim, dtype, mask):
    _check_tensor(input, op)
    from ..nn import functional as F
    dtype = input.dtype if dtype is None else dtype
    d = _canonical_dim(dim, input.ndim, op)[0] if input.ndim else 0
    x = _combine(identity, input, mask)
    if op == "softmin":
        return F.softmax(-x, d, dtype=dtype)
    return getattr(F, op)(x, d, dtype=dtype)


def softmax(input, dim, *, dtype=None, mask=None):
    """softmax(input, dim, *, dtype=None, mask=None) -> Tensor

    Softmax of input along dim over the masked-in elements (masked-out elements get 0).
    """
    return _softmax_like("softmax", "amax", input, dim, dtype, mask)


def log_softmax(input, dim, *, dtype=None, mask=None):
    """log_softmax(input, dim, *, dtype=None, mask=None) -> Tensor

    Log-softmax of input along dim over the masked-in elements (masked-out elements get -inf).
    """
    return _softmax_like("log_softmax", "amax", input, dim, dtype, mask)


def softmin(input, dim, *, dtype=None, mask=None):
    """softmin(input, dim, *, dtype=None, mask=None) -> Tensor

    Softmin (softmax of -input) along dim over the masked-in elements (masked-out elements get 0).
    """
    return _softmax_like("softmin", "amin", input, dim, dtype, mask)


def normalize(input, ord, dim, *, eps=1e-12, dtype=None, mask=None):
    """normalize(input, ord, dim, *, eps=1e-12, dtype=None, mask=None) -> Tensor

    input divided by max(its masked ord-norm along dim, eps), masked-out elements set to 0.
    """
    _check_tensor(input, "normalize")
    c = _corelib()
    dtype = input.dtype if dtype is None else dtype
    x = _combine("sum", input, mask)
    nrm = norm(input, ord, dim, keepdim=True, dtype=dtype, mask=mask)
    denom = c.maximum(nrm, nrm.new_full([], eps))
    return x / denom
