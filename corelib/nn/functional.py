"""corelib.nn.functional: PyTorch's torch.nn.functional on corelib ops.

Hot paths (convolution, pooling, softmax, normalization, embedding) call the primitives of
corelib._ops.nn, which have their own kernels; losses and the less hot helpers are composites
of frontend ops, so their gradients (and second derivatives) come for free. Only the corelib
frontend is used here: no array library, no backend.
"""
from __future__ import annotations

import math
import warnings

from .. import _dtype
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from .._ops import nn as _nn
from .._ops.creation import rand, tensor, zeros_like
from .._ops.elementwise import abs, cast, exp, log, relu, sigmoid, sqrt, tanh, where
from .._ops.reduction import amax, mean, sum as _sum
from .._ops.shape import reshape, unsqueeze
from .._ops.core import wrap_dim
from .._ops.nn import softmax, log_softmax

# activations defined by the elementwise family: re-exported from corelib by name (lazily, so
# this module imports before corelib's namespace is filled)
_FROM_CORELIB = ("relu6", "leaky_relu", "elu", "selu", "celu", "gelu", "silu", "mish",
                 "softplus", "softsign", "hardtanh", "hardsigmoid", "hardswish", "rrelu",
                 "relu_", "elu_", "leaky_relu_", "hardtanh_")


def __getattr__(name):
    if name in _FROM_CORELIB:
        import corelib
        if hasattr(corelib, name):
            return getattr(corelib, name)
    if name == "pad":
        from .._ops.shape import pad
        return pad
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ---------------------------------------------------------------------------------------------
# argument helpers
def _tensor_arg(x, op, name="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(x).__name__}")
    return x


def _ntuple(value, n, op, name):
    if isinstance(value, (list, tuple)):
        if len(value) == 1:
            value = tuple(value) * n
        if len(value) != n:
            raise RuntimeError(f"{op}(): expected {name} to be a single integer value or a list "
                               f"of {n} values to match the convolution dimensions, but got "
                               f"{name}={list(value)}")
        return tuple(int(v) for v in value)
    return (int(value),) * n


def _float_input(x, op, integers=False):
    if not x.dtype.is_floating_point and not (integers and x.dtype is not _dtype.bool):
        raise RuntimeError(f"{op}(): \"{op}\" not implemented for '{x.dtype}' (expected a "
                           f"floating point input)")
    return x


def _integer_via_float64(compute, x, *operands):
    """An integer convolution or average pool, as PyTorch's CPU kernels: computed in float64
    (exact while sums stay below 2**53) and truncated toward zero to x's dtype (C's integer
    division in the average)."""
    args = [None if t is None else t.to(_dtype.float64) for t in (x,) + operands]
    return compute(*args).trunc().to(x.dtype)


def _batched(x, nsp, op, allow_unbatched=True):
    """x as (N, C, *spatial) plus whether a batch dim was added."""
    if x.ndim == nsp + 2:
        return x, False
    if allow_unbatched and x.ndim == nsp + 1:
        return unsqueeze(x, 0), True
    want = f"{nsp + 1}D (unbatched) or {nsp + 2}D (batched)" if allow_unbatched else \
        f"{nsp + 2}D"
    raise RuntimeError(f"{op}(): Expected {want} input, but got input of size: "
                       f"{list(x.shape)}")


def _unbatch(out, added):
    return reshape(out, tuple(out.shape[1:])) if added else out


# ---------------------------------------------------------------------------------------------
# linear layers
def linear(input, weight, bias=None):
    """input @ weight.T + bias."""
    _tensor_arg(input, "linear")
    _tensor_arg(weight, "linear", "weight")
    if weight.ndim != 2 or input.ndim == 0:
        raise RuntimeError(f"linear(): expected a 2-D weight and an input with at least one "
                           f"dim, got weight {list(weight.shape)} and input {list(input.shape)}")
    if input.shape[-1] != weight.shape[1]:
        rows = input.numel() // max(input.shape[-1], 1) if input.ndim > 1 else 1
        raise RuntimeError(f"linear(): mat1 and mat2 shapes cannot be multiplied ({rows}x"
                           f"{input.shape[-1]} and {weight.shape[1]}x{weight.shape[0]})")
    _same_dtype("linear", input, weight, bias)
    return _nn.linear_op(input, weight, bias)


def _same_dtype(op, input, *others):
    for o in others:
        if o is not None and o.dtype is not input.dtype:
            raise RuntimeError(f"{op}(): expected all tensors to have the same dtype, but "
                               f"input is {input.dtype} and another argument is {o.dtype}")


def bilinear(input1, input2, weight, bias=None):
    """out[..., k] = input1 @ weight[k] @ input2 + bias[k]."""
    o, i1, i2 = weight.shape
    if input1.shape[-1] != i1 or input2.shape[-1] != i2:
        raise RuntimeError(f"bilinear(): input sizes {list(input1.shape)} and "
                           f"{list(input2.shape)} do not match weight {list(weight.shape)}")
    w = reshape(weight.permute(0, 2, 1), (o * i2, i1))
    t = reshape(_nn.linear_op(input1, w), tuple(input1.shape[:-1]) + (o, i2))
    out = _sum(t * unsqueeze(input2, -2), -1)
    return out if bias is None else out + bias


# ---------------------------------------------------------------------------------------------
# convolution
def _conv_padding(padding, kernel, dilation, stride, op):
    nsp = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * nsp
        if padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError(f"{op}(): padding='same' is not supported for strided "
                                   f"convolutions")
            pads = []
            for k, d in zip(kernel, dilation):
                total = d * (k - 1)
                pads.append((total // 2, total - total // 2))
            return tuple(pads)
        raise ValueError(f"{op}(): Invalid padding string '{padding}', should be one of "
                         f"['valid', 'same']")
    p = _ntuple(padding, nsp, op, "padding")
    if any(v < 0 for v in p):
        raise RuntimeError(f"{op}(): negative padding is not supported")
    return tuple((v, v) for v in p)


def _conv_operands(nsp, op, input, weight, bias):
    """Check a convolution's operands; returns (input with a batch dim, whether one was added)."""
    _tensor_arg(input, op)
    _tensor_arg(weight, op, "weight")
    x, added = _batched(input, nsp, op)
    _float_input(x, op, integers=True)
    _same_dtype(op, x, weight, bias)
    if weight.ndim != nsp + 2:
        raise RuntimeError(f"{op}(): Expected {nsp + 2}-dimensional weight, but got weight of "
                           f"size {list(weight.shape)}")
    return x, added


def _convnd(nsp, op, input, weight, bias, stride, padding, dilation, groups):
    x, added = _conv_operands(nsp, op, input, weight, bias)
    groups = int(groups)
    if groups <= 0:
        raise RuntimeError(f"{op}(): non-positive groups is not supported")
    stride = _ntuple(stride, nsp, op, "stride")
    dilation = _ntuple(dilation, nsp, op, "dilation")
    if any(s <= 0 for s in stride):
        raise RuntimeError(f"{op}(): non-positive stride is not supported")
    kernel = tuple(weight.shape[2:])
    pads = _conv_padding(padding, kernel, dilation, stride, op)
    c = x.shape[1]
    if weight.shape[0] % groups or c != weight.shape[1] * groups:
        raise RuntimeError(f"{op}(): Given groups={groups}, weight of size "
                           f"{list(weight.shape)}, expected input{list(x.shape)} to have "
                           f"{weight.shape[1] * groups} channels, but got {c} channels instead")
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise RuntimeError(f"{op}(): Given weight of size {list(weight.shape)}, expected bias "
                           f"to be 1-dimensional with {weight.shape[0]} elements, but got bias "
                           f"of size {list(bias.shape)} instead")
    for n, (lo, hi), k, d in zip(x.shape[2:], pads, kernel, dilation):
        if n + lo + hi < d * (k - 1) + 1:
            raise RuntimeError(f"{op}(): Calculated padded input size per channel: "
                               f"{n + lo + hi}. Kernel size: {d * (k - 1) + 1}. Kernel size "
                               f"can't be greater than actual input size")
    geo = dict(stride=stride, padding=pads, dilation=dilation, groups=groups)
    if not x.dtype.is_floating_point:
        return _unbatch(_integer_via_float64(
            lambda a, w, b: _nn.convolution(a, w, b, geo), x, weight, bias), added)
    return _unbatch(_nn.convolution(x, weight, bias, geo), added)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution over (N, C, L) or (C, L)."""
    return _convnd(1, "conv1d", input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution over (N, C, H, W) or (C, H, W)."""
    return _convnd(2, "conv2d", input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution over (N, C, D, H, W) or (C, D, H, W)."""
    return _convnd(3, "conv3d", input, weight, bias, stride, padding, dilation, groups)


def _conv_transposend(nsp, op, input, weight, bias, stride, padding, output_padding, groups,
                      dilation):
    x, added = _conv_operands(nsp, op, input, weight, bias)
    groups = int(groups)
    stride = _ntuple(stride, nsp, op, "stride")
    dilation = _ntuple(dilation, nsp, op, "dilation")
    pad = _ntuple(padding, nsp, op, "padding")
    out_pad = _ntuple(output_padding, nsp, op, "output_padding")
    if x.shape[1] != weight.shape[0] or weight.shape[0] % groups:
        raise RuntimeError(f"{op}(): Given transposed=1, weight of size {list(weight.shape)}, "
                           f"expected input{list(x.shape)} to have {weight.shape[0]} channels, "
                           f"but got {x.shape[1]} channels instead")
    for op_, s, d in zip(out_pad, stride, dilation):
        if op_ >= s and op_ >= d:
            raise RuntimeError(f"{op}(): output padding must be smaller than either stride or "
                               f"dilation, but got output_padding={out_pad}, stride={stride}, "
                               f"dilation={dilation}")
    kernel = tuple(weight.shape[2:])
    size = tuple((n - 1) * s - 2 * p + d * (k - 1) + o + 1 for n, s, p, d, k, o in
                 zip(x.shape[2:], stride, pad, dilation, kernel, out_pad))
    if any(n <= 0 for n in size):
        raise RuntimeError(f"{op}(): Given input size {list(x.shape)}, calculated output size "
                           f"{list(size)} is too small")
    out_channels = weight.shape[1] * groups
    geo = dict(stride=stride, padding=tuple((p, p) for p in pad), dilation=dilation,
               groups=groups)

    def transposed(x, weight, bias):
        out = _nn.conv_backward_input(x, weight, (x.shape[0], out_channels) + size, geo)
        return out if bias is None else out + reshape(bias, (out_channels,) + (1,) * nsp)
    if not x.dtype.is_floating_point:
        return _unbatch(_integer_via_float64(transposed, x, weight, bias), added)
    return _unbatch(transposed(x, weight, bias), added)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Transposed 1-D convolution (the gradient of conv1d w.r.t. its input)."""
    return _conv_transposend(1, "conv_transpose1d", input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Transposed 2-D convolution (the gradient of conv2d w.r.t. its input)."""
    return _conv_transposend(2, "conv_transpose2d", input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    return _conv_transposend(3, "conv_transpose3d", input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """im2col: (N, C, H, W) -> (N, C * kh * kw, L)."""
    _tensor_arg(input, "unfold")
    x, added = _batched(input, 2, "unfold")
    k = _ntuple(kernel_size, 2, "unfold", "kernel_size")
    d = _ntuple(dilation, 2, "unfold", "dilation")
    p = _ntuple(padding, 2, "unfold", "padding")
    s = _ntuple(stride, 2, "unfold", "stride")
    for n, kk, dd, pp in zip(x.shape[2:], k, d, p):
        if n + 2 * pp < dd * (kk - 1) + 1:
            raise RuntimeError(f"unfold(): Given input with spatial size {list(x.shape[2:])}, "
                               f"kernel_size={list(k)}, dilation={list(d)}, padding={list(p)}, "
                               f"calculated shape of the array of sliding blocks is "
                               f"non-positive")
    return _unbatch(_nn.im2col(x, k, s, tuple((v, v) for v in p), d), added)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """col2im: (N, C * kh * kw, L) -> (N, C, *output_size), overlaps summed."""
    _tensor_arg(input, "fold")
    x, added = (input, False) if input.ndim == 3 else _batched(input, 1, "fold")
    size = _ntuple(output_size, 2, "fold", "output_size")
    k = _ntuple(kernel_size, 2, "fold", "kernel_size")
    d = _ntuple(dilation, 2, "fold", "dilation")
    p = _ntuple(padding, 2, "fold", "padding")
    s = _ntuple(stride, 2, "fold", "stride")
    blocks = 1
    for n, kk, dd, pp, ss in zip(size, k, d, p, s):
        blocks *= (n + 2 * pp - dd * (kk - 1) - 1) // ss + 1
    if x.shape[1] % (k[0] * k[1]) or x.shape[2] != blocks:
        raise RuntimeError(f"fold(): expected input of size (N, C * {k[0] * k[1]}, {blocks}), "
                           f"but got {list(x.shape)}")
    return _unbatch(_nn.col2im(x, size, k, s, tuple((v, v) for v in p), d), added)


# ---------------------------------------------------------------------------------------------
# pooling
def _pool_args(nsp, op, kernel_size, stride, padding, dilation=1):
    k = _ntuple(kernel_size, nsp, op, "kernel_size")
    s = k if stride is None or (isinstance(stride, (list, tuple)) and not stride) else \
        _ntuple(stride, nsp, op, "stride")
    p = _ntuple(padding, nsp, op, "padding")
    d = _ntuple(dilation, nsp, op, "dilation")
    if any(v <= 0 for v in k + s + d):
        raise RuntimeError(f"{op}(): kernel_size, stride and dilation must be greater than zero,"
                           f" got kernel_size={k}, stride={s}, dilation={d}")
    for kk, pp, dd in zip(k, p, d):
        if pp > (dd * (kk - 1) + 1) // 2 or pp < 0:
            raise RuntimeError(f"{op}(): pad should be at most half of effective kernel size, "
                               f"but got pad={pp}, kernel_size={kk} and dilation={dd}")
    return k, s, p, d


def _check_pool_size(x, k, s, p, d, ceil_mode, op):
    for n, kk, ss, pp, dd in zip(x.shape[2:], k, s, p, d):
        span = n + 2 * pp - dd * (kk - 1) - 1
        o = (-(-span // ss) if ceil_mode else span // ss) + 1
        if ceil_mode and (o - 1) * ss >= n + pp:
            o -= 1
        if o <= 0:
            raise RuntimeError(f"{op}(): Given input size: {list(x.shape[1:])}. Calculated "
                               f"output size is too small (kernel_size={list(k)}, "
                               f"stride={list(s)}, padding={list(p)})")


def _max_poolnd(nsp, op, input, kernel_size, stride, padding, dilation, ceil_mode,
                return_indices):
    _tensor_arg(input, op)
    x, added = _batched(input, nsp, op)
    k, s, p, d = _pool_args(nsp, op, kernel_size, stride, padding, dilation)
    _check_pool_size(x, k, s, p, d, ceil_mode, op)
    idx = _nn.max_pool_indices(x, k, s, p, d, ceil_mode)
    disjoint = all(ss >= dd * (kk - 1) + 1 for kk, ss, dd in zip(k, s, d))
    out = _unbatch(_nn.pool_gather(x, idx, disjoint), added)
    return (out, _unbatch(idx, added)) if return_indices else out


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    return _max_poolnd(1, "max_pool1d", input, kernel_size, stride, padding, dilation,
                       ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    return _max_poolnd(2, "max_pool2d", input, kernel_size, stride, padding, dilation,
                       ceil_mode, return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    return _max_poolnd(3, "max_pool3d", input, kernel_size, stride, padding, dilation,
                       ceil_mode, return_indices)


max_pool1d_with_indices = max_pool1d
max_pool2d_with_indices = max_pool2d


def _avg_poolnd(nsp, op, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                divisor_override=None):
    _tensor_arg(input, op)
    x, added = _batched(input, nsp, op)
    _float_input(x, op, integers=True)
    k, s, p, d = _pool_args(nsp, op, kernel_size, stride, padding)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError(f"{op}(): divisor must be not zero")
    _check_pool_size(x, k, s, p, d, ceil_mode, op)
    params = dict(kernel_size=k, stride=s, padding=p, ceil_mode=bool(ceil_mode),
                  count_include_pad=bool(count_include_pad),
                  divisor_override=None if divisor_override is None else int(divisor_override))
    if not x.dtype.is_floating_point:
        return _unbatch(_integer_via_float64(lambda a: _nn.avg_pool(a, params), x), added)
    return _unbatch(_nn.avg_pool(x, params), added)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    return _avg_poolnd(1, "avg_pool1d", input, kernel_size, stride, padding, ceil_mode,
                       count_include_pad)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    return _avg_poolnd(2, "avg_pool2d", input, kernel_size, stride, padding, ceil_mode,
                       count_include_pad, divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    return _avg_poolnd(3, "avg_pool3d", input, kernel_size, stride, padding, ceil_mode,
                       count_include_pad, divisor_override)


def _adaptive_size(output_size, x, nsp, op):
    if isinstance(output_size, int):
        output_size = (output_size,) * nsp
    size = tuple(x.shape[2 + i] if o is None else int(o) for i, o in enumerate(output_size))
    if len(size) != nsp:
        raise RuntimeError(f"{op}(): output_size must be {nsp} values, got {output_size}")
    if any(o < 0 for o in size):
        raise RuntimeError(f"{op}(): elements of output_size must be non-negative, got {size}")
    if x.numel() == 0 and any(n == 0 for n in x.shape[2:]):
        raise RuntimeError(f"{op}(): Expected input to have non-zero size for non-batch "
                           f"dimensions, but input has sizes {list(x.shape)}")
    return size


def _resample_matrix(rows, in_size, dtype, device):
    """A constant (out, in) matrix from a list of {input index: weight} per output row."""
    data = [[0.0] * in_size for _ in rows]
    for r, entries in zip(data, rows):
        for j, w in entries.items():
            r[j] += w
    return tensor(data, dtype=dtype, device=device).reshape(len(rows), in_size)


def _apply_separable(x, matrices):
    """Apply one (out, in) matrix along each trailing spatial dim of x."""
    nsp = len(matrices)
    for i, m in enumerate(matrices):
        if m is None:
            continue
        dim = x.ndim - nsp + i
        moved = x.transpose(dim, -1) if dim != x.ndim - 1 else x
        moved = _nn.linear_op(moved, m)
        x = moved.transpose(dim, -1) if dim != x.ndim - 1 else moved
    return x


def _adaptive_avg(op, nsp, input, output_size):
    _tensor_arg(input, op)
    x, added = _batched(input, nsp, op)
    _float_input(x, op)
    size = _adaptive_size(output_size, x, nsp, op)
    in_size = tuple(x.shape[2:])
    if all(o > 0 and n % o == 0 for n, o in zip(in_size, size)):
        k = tuple(n // o for n, o in zip(in_size, size))
        params = dict(kernel_size=k, stride=k, padding=(0,) * nsp, ceil_mode=False,
                      count_include_pad=True, divisor_override=None)
        return _unbatch(_nn.avg_pool(x, params), added)
    mats = []
    for n, o in zip(in_size, size):
        rows = []
        for i in range(o):
            a, b = i * n // o, -(-(i + 1) * n // o)
            rows.append({j: 1.0 / (b - a) for j in range(a, b)})
        mats.append(_resample_matrix(rows, n, x.dtype, x.device))
    return _unbatch(_apply_separable(x, mats), added)


def adaptive_avg_pool1d(input, output_size):
    return _adaptive_avg("adaptive_avg_pool1d", 1, input, output_size)


def adaptive_avg_pool2d(input, output_size):
    return _adaptive_avg("adaptive_avg_pool2d", 2, input, output_size)


def adaptive_avg_pool3d(input, output_size):
    return _adaptive_avg("adaptive_avg_pool3d", 3, input, output_size)


def _adaptive_max(op, nsp, input, output_size, return_indices):
    _tensor_arg(input, op)
    x, added = _batched(input, nsp, op)
    size = _adaptive_size(output_size, x, nsp, op)
    idx = _nn.adaptive_max_pool_indices(x, size)
    out = _unbatch(_nn.pool_gather(x, idx), added)
    return (out, _unbatch(idx, added)) if return_indices else out


def adaptive_max_pool1d(input, output_size, return_indices=False):
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, return_indices)


# ---------------------------------------------------------------------------------------------
# resampling and rearrangement
def _interp_rows(mode, in_size, out_size, scale, align_corners):
    """Per output index, the {input index: weight} of one spatial dim."""
    rows = []
    if mode in ("nearest", "nearest-exact"):
        s = in_size / out_size if scale is None else 1.0 / scale
        for i in range(out_size):
            src = math.floor((i + 0.5) * s) if mode == "nearest-exact" else math.floor(i * s)
            rows.append({min(src, in_size - 1): 1.0})
        return rows
    if mode == "bicubic":   # PyTorch's cubic convolution (A = -0.75), edge samples clamped
        for i in range(out_size):
            if align_corners:
                src = i * (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
            else:   # unlike linear, not clamped at 0
                src = (i + 0.5) * (in_size / out_size if scale is None else 1.0 / scale) - 0.5
            i0 = math.floor(src)
            row = {}
            for k, w in enumerate(_cubic_weights(src - i0)):
                j = min(max(i0 - 1 + k, 0), in_size - 1)
                row[j] = row.get(j, 0.0) + w
            rows.append(row)
        return rows
    for i in range(out_size):
        if align_corners:
            src = i * (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
        else:
            s = in_size / out_size if scale is None else 1.0 / scale
            src = max((i + 0.5) * s - 0.5, 0.0)
        i0 = min(int(math.floor(src)), in_size - 1)
        i1 = min(i0 + 1, in_size - 1)
        lam = src - i0
        row = {i0: 1.0 - lam}
        row[i1] = row.get(i1, 0.0) + lam
        rows.append(row)
    return rows


def _cubic_weights(t, a=-0.75):
    """Weights of the samples at offsets -1, 0, 1, 2 for a point t in [0, 1) past sample 0."""
    def near(x):   # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):    # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return far(t + 1), near(t), near(1 - t), far(2 - t)


_INTERP_NDIM = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize (N, C, *spatial) by ``size`` or ``scale_factor``: nearest, nearest-exact,
    (bi/tri)linear, bicubic (align_corners) or area."""
    _tensor_arg(input, "interpolate")
    nsp = input.ndim - 2
    if nsp < 1:
        raise ValueError(f"interpolate(): expected a 3-D, 4-D or 5-D input, got "
                         f"{input.ndim}-D")
    if mode in _INTERP_NDIM and _INTERP_NDIM[mode] != nsp:
        raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs "
                                  f"{_INTERP_NDIM[mode] + 2}D input")
    if mode not in ("nearest", "nearest-exact", "area") and mode not in _INTERP_NDIM:
        raise NotImplementedError(f"interpolate(): mode '{mode}' is not supported")
    if align_corners is not None and mode not in _INTERP_NDIM:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if (size is None) == (scale_factor is None):
        raise ValueError("only one of size or scale_factor should be defined")
    in_size = tuple(input.shape[2:])
    if size is not None:
        out_size = _ntuple(size, nsp, "interpolate", "size")
        scales = (None,) * nsp
    else:
        scales = tuple(float(v) for v in (scale_factor if isinstance(scale_factor, (list, tuple))
                                          else (scale_factor,) * nsp))
        if len(scales) != nsp:
            raise ValueError(f"interpolate(): scale_factor shape must match input shape. Input "
                             f"is {nsp}D, scale_factor size is {len(scales)}")
        out_size = tuple(int(math.floor(n * s)) for n, s in zip(in_size, scales))
        if recompute_scale_factor:
            scales = (None,) * nsp
    if mode == "area":
        return _adaptive_avg("interpolate", nsp, input, out_size)
    x = _float_input(input, "interpolate") if mode in _INTERP_NDIM else input
    mats = [None if (o == n and sc in (None, 1.0)) else
            _resample_matrix(_interp_rows(mode, n, o, sc, bool(align_corners)), n, x.dtype,
                             x.device)
            for n, o, sc in zip(in_size, out_size, scales)]
    return _apply_separable(x, mats)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    return interpolate(input, size, scale_factor, mode, align_corners)


def pixel_shuffle(input, upscale_factor):
    """(*, C*r*r, H, W) -> (*, C, H*r, W*r)."""
    r = int(upscale_factor)
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle(): expected channels ({c}) to be divisible by "
                           f"the square of upscale_factor ({r * r})")
    lead = tuple(lead)
    n = len(lead)
    x = reshape(input, lead + (c // (r * r), r, r, h, w))
    x = x.permute(tuple(range(n)) + (n, n + 3, n + 1, n + 4, n + 2))
    return reshape(x, lead + (c // (r * r), h * r, w * r))


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H*r, W*r) -> (*, C*r*r, H, W)."""
    r = int(downscale_factor)
    *lead, c, h, w = input.shape
    if h % r or w % r:
        raise RuntimeError(f"pixel_unshuffle(): expected height ({h}) and width ({w}) to be "
                           f"divisible by downscale_factor ({r})")
    lead = tuple(lead)
    n = len(lead)
    x = reshape(input, lead + (c, h // r, r, w // r, r))
    x = x.permute(tuple(range(n)) + (n, n + 2, n + 4, n + 1, n + 3))
    return reshape(x, lead + (c * r * r, h // r, w // r))


# ---------------------------------------------------------------------------------------------
# softmax family and activations not defined by the elementwise family
def softmin(input, dim=None, _stacklevel=3, dtype=None):
    return softmax(-input if dtype is None else -cast(input, _dtype.as_dtype(dtype, "softmin")),
                   dim)


def logsigmoid(input):
    """log(sigmoid(x)), computed stably as min(x, 0) - log(1 + exp(-|x|))."""
    x = _float_input(_tensor_arg(input, "logsigmoid"), "logsigmoid")
    return where(x < 0, x, 0.0) - _log1p(exp(-abs(x)))


def _log1p(x):
    import corelib
    fn = getattr(corelib, "log1p", None)
    return fn(x) if fn is not None else log(1 + x)


def tanhshrink(input):
    return input - tanh(input)


def softshrink(input, lambd=0.5):
    if lambd < 0:
        raise RuntimeError(f"softshrink(): lambda must be greater or equal to 0, but found to "
                           f"be {lambd}.")
    # input * 0 keeps a NaN (PyTorch)
    return where(input > lambd, input - lambd, where(input < -lambd, input + lambd, input * 0))


def hardshrink(input, lambd=0.5):
    return where(abs(input) <= lambd, 0.0, input)   # a NaN passes (PyTorch)


def threshold(input, threshold, value, inplace=False):
    """value where input <= threshold, else input."""
    return _threshold(input, threshold, value, inplace)


def threshold_(input, threshold, value):
    return _threshold(input, threshold, value, True)


def _threshold(input, threshold, value, inplace):
    out = where(input <= threshold, value, input)   # a NaN passes (PyTorch)
    if out.dtype is not input.dtype:
        out = cast(out, input.dtype)
    if inplace:
        return input.copy_(out)
    return out


def glu(input, dim=-1):
    """a * sigmoid(b) for the two halves a, b of ``input`` along ``dim``."""
    d = wrap_dim(dim, input.ndim, "glu")
    n = input.shape[d]
    if n % 2:
        raise RuntimeError(f"glu(): Halving dimension must be even, but dimension {d} is size "
                           f"{n}")
    lead = (slice(None),) * d
    return input[lead + (slice(0, n // 2),)] * sigmoid(input[lead + (slice(n // 2, n),)])


def prelu(input, weight):
    """max(0, x) + weight * min(0, x), weight per channel (dim 1) or a single value."""
    if weight.numel() != 1:
        c = input.shape[1] if input.ndim >= 2 else input.shape[0] if input.ndim == 1 else 1
        if weight.numel() != c:
            raise RuntimeError(f"prelu(): Mismatch of parameter numbers and input channel size. "
                               f"Found parameter numbers = {weight.numel()} and channel size = "
                               f"{c}.")
        if input.ndim >= 2:
            weight = reshape(weight, (c,) + (1,) * (input.ndim - 2))
    elif weight.ndim > input.ndim:   # a single weight keeps the input's shape (0-d input too)
        weight = reshape(weight, ())
    return where(input > 0, input, weight * input)


# ---------------------------------------------------------------------------------------------
# dropout (masks come from corelib's default generator: corelib.manual_seed reproduces them)
def _check_p(p):
    if p < 0 or p > 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _dropout_with_mask(input, p, mask_shape, inplace):
    keep = 1.0 - p
    if keep == 0:
        scale = zeros_like(input) if mask_shape == tuple(input.shape) else \
            _zeros(mask_shape, input)
    else:
        r = rand(mask_shape, dtype=input.dtype, device=input.device)
        scale = cast(r < keep, input.dtype) * (1.0 / keep)
    if inplace:
        return input.mul_(scale)
    return input * scale


def _zeros(shape, like):
    from .._ops.creation import zeros
    return zeros(shape, dtype=like.dtype, device=like.device)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero elements with probability p and scale the rest by 1/(1-p) (training only)."""
    _check_p(p)
    if not training or p == 0:
        return input
    return _dropout_with_mask(input, p, tuple(input.shape), inplace)


def _feature_dropout(op, input, p, training, inplace, spatial):
    _check_p(p)
    if input.ndim not in (spatial + 1, spatial + 2):
        raise RuntimeError(f"{op}(): Expected {spatial + 1}D or {spatial + 2}D input, but "
                           f"received a {input.ndim}D input")
    if not training or p == 0:
        return input
    batched = input.ndim == spatial + 2
    lead = 2 if batched else 1
    return _dropout_with_mask(input, p, tuple(input.shape[:lead]) + (1,) * spatial, inplace)


def dropout1d(input, p=0.5, training=True, inplace=False):
    return _feature_dropout("dropout1d", input, p, training, inplace, 1)


def dropout2d(input, p=0.5, training=True, inplace=False):
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-"
                      "wise 1D dropout behavior is desired - input is interpreted as shape "
                      "(N, C, L), where C is the channel dim. This behavior will change in a "
                      "future release to interpret the input as one without a batch dimension, "
                      "i.e. shape (C, H, W). To maintain the 1D channel-wise dropout behavior, "
                      "please switch to using dropout1d instead.")
        return _feature_dropout("dropout2d", input, p, training, inplace, 1)
    return _feature_dropout("dropout2d", input, p, training, inplace, 2)


def dropout3d(input, p=0.5, training=True, inplace=False):
    return _feature_dropout("dropout3d", input, p, training, inplace, 3)


_SELU_ALPHA_SCALE = 1.7580993408473766


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout that keeps SELU's self-normalizing mean and variance."""
    _check_p(p)
    if not training or p == 0:
        return input
    if p == 1:
        return input * 0.0
    keep = 1.0 - p
    a = 1.0 / math.sqrt((_SELU_ALPHA_SCALE ** 2 * p + 1) * keep)
    mask = cast(rand(tuple(input.shape), dtype=input.dtype, device=input.device) < keep,
                input.dtype)
    b = (mask - 1) * (_SELU_ALPHA_SCALE * a) + _SELU_ALPHA_SCALE * a * p
    out = input * (mask * a) + b
    return input.copy_(out) if inplace else out


# ---------------------------------------------------------------------------------------------
# normalization
def _channel_shape(x, c):
    return (c,) + (1,) * (x.ndim - 2)


def _affine(out, weight, bias, shape):
    if weight is not None:
        out = out * reshape(weight, shape)
    if bias is not None:
        out = out + reshape(bias, shape)
    return out


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalize over the trailing ``normalized_shape`` dims, then scale and shift."""
    _tensor_arg(input, "layer_norm")
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else \
        tuple(normalized_shape)
    k = len(shape)
    if k == 0 or tuple(input.shape[input.ndim - k:]) != shape or input.ndim < k:
        raise RuntimeError(f"layer_norm(): Given normalized_shape={list(shape)}, expected input "
                           f"with shape [*, {', '.join(map(str, shape))}], but got input of "
                           f"size{list(input.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != shape:
            raise RuntimeError(f"layer_norm(): Expected {name} to be of same shape as "
                               f"normalized_shape, but got {name} of shape {list(t.shape)} and "
                               f"normalized_shape = {list(shape)}")
    x = _float_input(input, "layer_norm")
    if all(t is None or (t.dtype is x.dtype and t.device is x.device) for t in (weight, bias)):
        from .._ops.fused import layer_norm as fused_layer_norm   # one kernel each way
        return fused_layer_norm(x, weight, bias, k, eps)
    out = _nn.normalize_dims(x, tuple(range(x.ndim - k, x.ndim)), eps)
    return _affine(out, weight, bias, shape)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalize over groups of channels (and all spatial positions) per sample."""
    _tensor_arg(input, "group_norm")
    if input.ndim < 2:
        raise RuntimeError(f"group_norm(): Expected at least 2 dimensions for input tensor but "
                           f"received {input.ndim}")
    n, c = input.shape[:2]
    if c % num_groups:
        raise RuntimeError(f"group_norm(): Expected number of channels in input to be "
                           f"divisible by num_groups, but got input of shape "
                           f"{list(input.shape)} and num_groups={num_groups}")
    x = _float_input(input, "group_norm")
    out = _nn.normalize_dims(reshape(x, (n, num_groups, x.numel() // max(n * num_groups, 1))),
                             (2,), eps)
    return _affine(reshape(out, tuple(x.shape)), weight, bias, _channel_shape(x, c))


def _update_running(running_mean, running_var, m, var, momentum):
    """running = (1 - momentum) * running + momentum * batch statistic (unbiased var)."""
    with no_grad():
        if running_mean is not None:
            running_mean.mul_(1 - momentum).add_(m * momentum)
        if running_var is not None:
            running_var.mul_(1 - momentum).add_(var * momentum)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Batch normalization over (N, C, *); in training the batch statistics are used and the
    running statistics updated in place, in eval the running statistics are used."""
    _tensor_arg(input, "batch_norm")
    x = _float_input(input, "batch_norm")
    if input.ndim < 2:
        if input.numel() == 0:   # as PyTorch: an empty input gives an empty output
            return x.clone()
        raise IndexError(f"batch_norm(): Dimension out of range (expected to be in range of "
                         f"[-1, 0], but got 1)")
    c = x.shape[1]
    shape = _channel_shape(x, c)
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and t.numel() != c:
            raise RuntimeError(f"batch_norm(): {name} should contain {c} elements not "
                               f"{t.numel()}")
    dims = (0,) + tuple(range(2, x.ndim))
    if training and x.numel() == 0:   # nothing to normalize; running stats unchanged
        return _affine(_nn.normalize_dims(x, dims, eps), weight, bias, shape)
    if training:
        count = x.numel() // max(c, 1)
        if count <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input "
                             f"size {list(x.shape)}")
        unbiased = count / (count - 1)
        if all(t is None or (t.dtype is x.dtype and t.device is x.device and t.ndim == 1)
               for t in (weight, bias)):
            from .._ops.fused import batch_norm as fused_batch_norm   # one kernel each way
            out, m, var = fused_batch_norm(x, weight, bias, eps)
            _update_running(running_mean, running_var, m, var * unbiased, momentum)
            return out
        with no_grad():
            m = mean(x, dims)
            xc = x - reshape(m, shape)
            var = _sum(xc * xc, dims) / (count - 1)
        _update_running(running_mean, running_var, m, var, momentum)
        return _affine(_nn.normalize_dims(x, dims, eps), weight, bias, shape)
    if running_mean is None or running_var is None:
        raise RuntimeError("batch_norm(): running_mean and running_var must be defined in "
                           "evaluation mode")
    scale = 1 / sqrt(running_var + eps)
    if weight is not None:
        scale = scale * weight
    shift = -running_mean * scale
    if bias is not None:
        shift = shift + bias
    return x * reshape(scale, shape) + reshape(shift, shape)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Normalize each (sample, channel) plane over its spatial positions."""
    _tensor_arg(input, "instance_norm")
    if input.ndim < 3:
        raise ValueError(f"instance_norm(): expected 3D or more input (got {input.ndim}D)")
    x = _float_input(input, "instance_norm")
    n, c = x.shape[:2]
    if not use_input_stats:
        return batch_norm(x, running_mean, running_var, weight, bias, False, momentum, eps)
    spatial = tuple(range(2, x.ndim))
    if running_mean is not None or running_var is not None:
        with no_grad():   # running stats: batch averages of the per-instance statistics
            count = x.numel() // max(n * c, 1)
            m = mean(x, spatial, keepdim=True)
            var = _sum((x - m) * (x - m), spatial) / max(count - 1, 1)
            if running_mean is not None:
                running_mean.mul_(1 - momentum).add_(mean(reshape(m, (n, c)), 0) * momentum)
            if running_var is not None:
                running_var.mul_(1 - momentum).add_(mean(var, 0) * momentum)
    out = _nn.normalize_dims(x, spatial, eps)
    return _affine(out, weight, bias, _channel_shape(x, c))


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """x / (k + alpha / size * sum of x^2 over ``size`` neighbouring channels) ** beta."""
    dim = input.ndim
    if dim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {dim} dimensions)")
    if input.numel() == 0:   # as PyTorch
        return input
    # channel-window sums via a 1-D average pool over padded channels
    pad_lo, pad_hi = size // 2, (size - 1) // 2
    n, c = input.shape[:2]
    flat = reshape(input * input, (n, c, -1)).transpose(1, 2)           # (N, L, C)
    from .._ops.shape import pad as _pad
    flat = _pad(flat, (pad_lo, pad_hi))
    params = dict(kernel_size=(size,), stride=(1,), padding=(0,), ceil_mode=False,
                  count_include_pad=True, divisor_override=None)
    div = _nn.avg_pool(flat, params).transpose(1, 2)
    div = reshape(div, tuple(input.shape))
    return input / (div * alpha + k) ** beta


# ---------------------------------------------------------------------------------------------
# embedding and one-hot
def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` picked by integer ``input``; the padding_idx row gets no gradient."""
    _tensor_arg(input, "embedding")
    _tensor_arg(weight, "embedding", "weight")
    if input.dtype not in (_dtype.int64, _dtype.int32):
        raise RuntimeError(f"embedding(): Expected tensor for argument #1 'indices' to have one "
                           f"of the following scalar types: Long, Int; but got {input.dtype} "
                           f"instead")
    if weight.ndim != 2:
        raise RuntimeError("embedding(): 'weight' must be 2-D")
    num = weight.shape[0]
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx = padding_idx + num if padding_idx < 0 else int(padding_idx)
    if scale_grad_by_freq:
        raise NotImplementedError("embedding(): scale_grad_by_freq is not supported")
    if max_norm is not None:
        with no_grad():
            _nn.embedding_renorm_(weight, input, max_norm, norm_type)
    return _nn.embedding_lookup(weight, input, padding_idx)


def one_hot(tensor, num_classes=-1):
    """int64 one-hot encoding with a trailing class dim (num_classes=-1: max + 1)."""
    _tensor_arg(tensor, "one_hot", "tensor")
    if tensor.dtype is not _dtype.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    return _nn.one_hot_op(tensor, num_classes)


# ---------------------------------------------------------------------------------------------
# distances
def _vector_norm(x, p, dim, keepdim=False):
    if p == 2:
        return sqrt(_sum(x * x, dim, keepdim=keepdim))
    if p == 1:
        return _sum(abs(x), dim, keepdim=keepdim)
    if p == math.inf:
        return amax(abs(x), dim, keepdim=keepdim)
    if p == 0:
        return _sum(cast(x != 0, x.dtype), dim, keepdim=keepdim)
    return _sum(abs(x) ** p, dim, keepdim=keepdim) ** (1.0 / p)


def _clamp_min(x, v):
    return where(x < v, v, x)   # a NaN passes, as clamp_min's


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1 * x2) / (max(|x1|, eps) * max(|x2|, eps)) along ``dim`` (broadcasting)."""
    from .._ops.shape import broadcast_tensors
    a, b = broadcast_tensors(x1, x2)
    d = wrap_dim(dim, a.ndim, "cosine_similarity")
    na = _clamp_min(_vector_norm(a, 2, d, keepdim=True), eps)
    nb = _clamp_min(_vector_norm(b, 2, d, keepdim=True), eps)
    return _sum((a / na) * (b / nb), d)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """p-norm of x1 - x2 + eps over the last dim."""
    out_ndim = builtin_max(x1.ndim, x2.ndim)
    d = x1 - x2 + eps
    return _vector_norm(d, p, out_ndim - 1 if out_ndim else 0, keepdim=keepdim)


builtin_max = max


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p, eps) along ``dim``."""
    d = wrap_dim(dim, input.ndim, "normalize") if input.ndim else 0
    denom = _clamp_min(_vector_norm(input, p, d, keepdim=True), eps)
    result = input / denom
    if out is not None:
        return out.copy_(result)
    return result


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """softmax(q @ k^T * scale + mask) @ v (PyTorch's semantics: boolean masks keep where
    True, float masks add, ``is_causal`` masks j > l and excludes ``attn_mask``; rows masked
    everywhere give 0). One fused op (corelib._ops.attention) unless dropout_p > 0."""
    from .._ops import attention
    from .._ops.shape import broadcast_shapes, expand
    op = "scaled_dot_product_attention"
    for name, t in (("query", query), ("key", key), ("value", value)):
        _tensor_arg(t, op, name)
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise RuntimeError(f"{op}(): Expected query, key, and value to all be at least 2 "
                           f"dimensional, but got query.dim: {query.ndim} key.dim: {key.ndim} "
                           f"and value.dim: {value.ndim} instead.")
    if not (query.dtype is key.dtype is value.dtype):
        raise RuntimeError(f"{op}(): Expected query, key, and value to have the same dtype, "
                           f"but got query.dtype: {query.dtype} key.dtype: {key.dtype} and "
                           f"value.dtype: {value.dtype} instead.")
    if not query.dtype.is_floating_point:
        raise RuntimeError(f"{op}(): expected floating-point query, key and value, got "
                           f"{query.dtype}")
    if attn_mask is not None:
        _tensor_arg(attn_mask, op, "attn_mask")
        if is_causal:
            raise RuntimeError(f"{op}(): Explicit attn_mask should not be set when "
                               f"is_causal=True")
        if attn_mask.dtype is not _dtype.bool and attn_mask.dtype is not query.dtype:
            raise RuntimeError(f"{op}(): Expected attn_mask dtype to be bool or float or to "
                               f"match query dtype, but got attn_mask.dtype: "
                               f"{attn_mask.dtype} and  query.dtype: {query.dtype} instead.")
    if key.shape[-1] != query.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"{op}(): shapes do not match: query {list(query.shape)}, key "
                           f"{list(key.shape)}, value {list(value.shape)}")
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        rep = query.shape[-3] // key.shape[-3]
        key = key.repeat_interleave(rep, -3)
        value = value.repeat_interleave(rep, -3)
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    if dropout_p > 0:
        weights = attention.attention_probs(query, key, attn_mask, scale, is_causal)
        from .._ops.linalg import matmul
        return matmul(dropout(weights, dropout_p, training=True), value)
    shapes = [tuple(t.shape[:-2]) for t in (query, key, value)]
    if attn_mask is not None and attn_mask.ndim > 2:
        shapes.append(tuple(attn_mask.shape[:-2]))
    batch = broadcast_shapes(*shapes)
    q, k, v = (t if tuple(t.shape[:-2]) == batch else expand(t, batch + tuple(t.shape[-2:]))
               for t in (query, key, value))
    return attention.sdpa(q, k, v, attn_mask, scale, is_causal)


# ---------------------------------------------------------------------------------------------
# losses
def _reduction(size_average, reduce, reduction):
    """The reduction string, honouring the legacy size_average/reduce flags."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    return ("mean" if size_average else "sum") if reduce else "none"


def _reduce(loss, reduction):
    if reduction == "none":
        return loss
    if reduction == "mean":
        return mean(loss)
    if reduction == "sum":
        return _sum(loss)
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _pointwise_loss(op, input, target):
    _tensor_arg(input, op)
    _tensor_arg(target, op, "target")
    if tuple(input.shape) != tuple(target.shape):
        warnings.warn(f"Using a target size ({tuple(target.shape)}) that is different to the "
                      f"input size ({tuple(input.shape)}). This will likely lead to incorrect "
                      f"results due to broadcasting. Please ensure they have the same size.",
                      stacklevel=3)
    return input - target


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    d = _pointwise_loss("mse_loss", input, target)
    loss = d * d
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, _reduction(size_average, reduce, reduction))


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    loss = abs(_pointwise_loss("l1_loss", input, target))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, _reduction(size_average, reduce, reduction))


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    d = abs(_pointwise_loss("smooth_l1_loss", input, target))
    loss = d if beta == 0 else where(d < beta, d * d * (0.5 / beta), d - 0.5 * beta)
    return _reduce(loss, _reduction(size_average, reduce, reduction))


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    d = abs(_pointwise_loss("huber_loss", input, target))
    loss = where(d < delta, d * d * 0.5, (d - 0.5 * delta) * delta)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def _class_input(input, target, op):
    """(N, C, *d) input and (N, *d) target (a single sample gets a batch dim)."""
    _tensor_arg(input, op)
    _tensor_arg(target, op, "target")
    if input.ndim == 1:
        if target.ndim != 0 and not target.dtype.is_floating_point:
            raise RuntimeError(f"{op}(): 1D input expects a 0D target, got target of size "
                               f"{list(target.shape)}")
        return unsqueeze(input, 0), unsqueeze(target, 0), True
    if input.ndim == 0:
        raise RuntimeError(f"{op}(): input tensor should be 1D or more, got 0D")
    return input, target, False


def _check_class_target(x, t, op):
    if t.dtype.is_floating_point:
        return
    if t.dtype not in (_dtype.int64, _dtype.int32, _dtype.int16, _dtype.int8, _dtype.uint8):
        raise RuntimeError(f"{op}(): expected target of integer dtype, got {t.dtype}")
    if x.shape[0] != t.shape[0]:
        raise ValueError(f"Expected input batch_size ({x.shape[0]}) to match target batch_size "
                         f"({t.shape[0]}).")
    if tuple(t.shape) != (x.shape[0],) + tuple(x.shape[2:]):
        raise RuntimeError(f"{op}(): expected target size {[x.shape[0]] + list(x.shape[2:])}, "
                           f"got {list(t.shape)}")


def _target_weights(target, weight, ignore_index, dtype):
    """Per-element class weight of the targets (0 where ignored)."""
    keep = target != ignore_index
    if weight is None:
        return cast(keep, dtype)
    safe = where(keep, target, 0)
    w = _nn.embedding_lookup(reshape(weight, (-1, 1)), safe)
    return reshape(w, tuple(target.shape)) * cast(keep, dtype)


def _nll(x, t, weight, ignore_index, reduction, squeeze):
    if weight is not None and tuple(weight.shape) != (x.shape[1],):
        raise RuntimeError(f"weight tensor should be defined either for all {x.shape[1]} "
                           f"classes or no classes but got weight tensor of shape: "
                           f"{list(weight.shape)}")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if weight is None:   # the common case: one fused kernel
        loss = _nn.nll_loss_op(x, t, ignore_index, reduction)
        return reshape(loss, tuple(loss.shape[1:])) if squeeze and reduction == "none" \
            else loss
    picked = _nn.class_gather(x, t, ignore_index)
    w = _target_weights(t, weight, ignore_index, x.dtype)
    loss = -picked * w if weight is not None else -picked
    if reduction == "none":
        return reshape(loss, tuple(loss.shape[1:])) if squeeze else loss
    if reduction == "sum":
        return _sum(loss)
    if reduction == "mean":
        return _sum(loss) / _sum(w)
    raise ValueError(f"{reduction} is not a valid value for reduction")


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log likelihood of class-index targets for log-probabilities (N, C, *d)."""
    x, t, squeeze = _class_input(input, target, "nll_loss")
    _check_class_target(x, t, "nll_loss")
    if t.dtype.is_floating_point:
        raise RuntimeError(f"nll_loss(): expected scalar type Long but found {t.dtype}")
    return _nll(x, t, weight, ignore_index, _reduction(size_average, reduce, reduction),
                squeeze)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """log_softmax over the class dim followed by nll_loss (class indices) or by the soft-label
    cross entropy (class probabilities); optional label smoothing."""
    reduction = _reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"cross_entropy(): label_smoothing must be between 0.0 and 1.0. Got: "
                           f"{label_smoothing}")
    x, t, squeeze = _class_input(input, target, "cross_entropy")
    _check_class_target(x, t, "cross_entropy")
    c = x.shape[1]
    logp = log_softmax(x, 1)
    wshape = (1, c) + (1,) * (x.ndim - 2)
    if t.dtype.is_floating_point:
        if tuple(t.shape) != tuple(x.shape):
            raise RuntimeError(f"cross_entropy(): expected target of size {list(x.shape)} for "
                               f"class probabilities, got {list(t.shape)}")
        if label_smoothing > 0:
            t = t * (1 - label_smoothing) + label_smoothing / c
        prod = logp * t
        if weight is not None:
            prod = prod * reshape(weight, wshape)
        loss = -_sum(prod, 1)
        if reduction == "mean":
            return _sum(loss) / (x.numel() // c) if x.numel() else _sum(loss) * math.nan
        out = _reduce(loss, reduction)
        return reshape(out, ()) if squeeze and reduction == "none" else out
    nll = _nll(logp, t, weight, ignore_index, reduction, squeeze)
    if label_smoothing == 0:
        return nll
    keep = cast(t != ignore_index, x.dtype)
    per_class = logp if weight is None else logp * reshape(weight, wshape)
    smooth = -_sum(per_class, 1) * keep
    if reduction == "mean":
        denom = _sum(_target_weights(t, weight, ignore_index, x.dtype))
        smooth = _sum(smooth) / denom
    elif reduction == "sum":
        smooth = _sum(smooth)
    elif squeeze:
        smooth = reshape(smooth, ())
    return nll * (1 - label_smoothing) + smooth * (label_smoothing / c)


def _check_same_size(op, input, target):
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(f"Using a target size ({_size_str(target)}) that is different to the "
                         f"input size ({_size_str(input)}) is deprecated. Please ensure they "
                         f"have the same size.")


def _size_str(t):
    return f"torch.Size({list(t.shape)})"


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """-(t log x + (1 - t) log(1 - x)), logs clamped at -100 like PyTorch."""
    _tensor_arg(input, "binary_cross_entropy")
    _check_same_size("binary_cross_entropy", input, target)
    for name, t in (("input", input), ("target", target)):
        with no_grad():   # NaN fails the test too, as in PyTorch
            bad = _sum(cast(~((t >= 0) & (t <= 1)), _dtype.int64)).item() \
                if t.numel() and not t.is_meta else 0
        if bad:
            raise RuntimeError(f"all elements of {name} should be between 0 and 1")
    log_x = where(input > 0, log(where(input > 0, input, 1.0)), -100.0)
    log_x = where(log_x > -100, log_x, -100.0)
    one_minus = 1 - input
    log_1mx = where(one_minus > 0, log(where(one_minus > 0, one_minus, 1.0)), -100.0)
    log_1mx = where(log_1mx > -100, log_1mx, -100.0)
    loss = -(target * log_x + (1 - target) * log_1mx)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, _reduction(size_average, reduce, reduction))


def _softplus_neg(x):
    """log(1 + exp(-x)), stably."""
    return relu(-x) + _log1p(exp(-abs(x)))


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction="mean", pos_weight=None):
    """Sigmoid + binary cross entropy in one stable expression (optional pos_weight)."""
    _tensor_arg(input, "binary_cross_entropy_with_logits")
    _check_same_size("binary_cross_entropy_with_logits", input, target)
    sp = _softplus_neg(input)
    if pos_weight is None:
        loss = (1 - target) * input + sp
    else:
        loss = (1 - target) * input + ((pos_weight - 1) * target + 1) * sp
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, _reduction(size_average, reduce, reduction))


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """target * (log(target) - input) pointwise; 'batchmean' divides the sum by the batch."""
    if log_target:
        loss = exp(target) * (target - input)
    else:
        safe = where(target > 0, target, 1.0)
        loss = target * log(safe) - target * input
    reduction = _reduction(size_average, reduce, reduction)
    if reduction == "batchmean":
        return _sum(loss) / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    if log_input:
        loss = exp(input) - target * input
    else:
        loss = input - target * log(input + eps)
    if full:
        safe = where(target > 1, target, 1.0)
        stirling = safe * log(safe) - safe + 0.5 * log(2 * math.pi * safe)
        loss = loss + where(target > 1, stirling, 0.0)
    return _reduce(loss, _reduction(size_average, reduce, reduction))


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """0.5 * (log(var) + (input - target)^2 / var) (+ const if full); var clamped at eps."""
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = unsqueeze(var, -1)
        elif not (tuple(input.shape[:-1]) == tuple(var.shape[:-1]) and var.shape[-1] == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not valid")
    with no_grad():
        if not var.is_meta and _sum(cast(var < 0, _dtype.int64)).item():
            raise ValueError("var has negative entry/entries")
    clamped = var + (where(var > eps, var, eps) - var).detach()
    d = input - target
    loss = 0.5 * (log(clamped) + d * d / clamped)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                        reduction="mean"):
    loss = relu(-target * (input1 - input2) + margin)
    return _reduce(loss, _reduction(size_average, reduce, reduction))


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    zero = zeros_like(input)
    loss = where(target != 1, relu(margin - input), zero) + where(target != -1, input, zero)
    return _reduce(loss, _reduction(size_average, reduce, reduction))


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    loss = _log1p(exp(-target * input))
    return _reduce(loss, _reduction(size_average, reduce, reduction))


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    loss = _sum(loss, input.ndim - 1) / input.shape[-1]
    return _reduce(loss, _reduction(size_average, reduce, reduction))


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                          reduction="mean"):
    """1 - cos for target 1, max(0, cos - margin) for target -1."""
    d = input1.ndim - 1
    eps = 1e-12
    prod = _sum(input1 * input2, d)
    m1 = _sum(input1 * input1, d) + eps
    m2 = _sum(input2 * input2, d) + eps
    cos = prod / sqrt(m1 * m2)
    zero = zeros_like(cos)
    loss = where(target == 1, 1 - cos, zero) + where(target == -1, relu(cos - margin), zero)
    return _reduce(loss, _reduction(size_average, reduce, reduction))


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    d_ap = pairwise_distance(anchor, positive, p, eps)
    d_an = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_pn = pairwise_distance(positive, negative, p, eps)
        d_an = where(d_pn < d_an, d_pn, d_an)
    loss = relu(margin + d_ap - d_an)
    return _reduce(loss, _reduction(size_average, reduce, reduction))


from ._functional_extra import *  # noqa: E402,F401,F403  (more composites, same namespace)
from ._functional_db import *  # noqa: E402,F401,F403  (multi_head_attention_forward, ...)


def __dir__():
    """Module attributes plus the activations served by ``__getattr__``."""
    import corelib
    defined = vars(corelib)   # not hasattr: corelib's __getattr__ would load every backend
    return sorted(set(globals()) | {n for n in _FROM_CORELIB if n in defined} | {"pad"})
