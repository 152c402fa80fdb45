"""More of torch.nn.functional, as composites of corelib frontend ops (re-exported by
corelib.nn.functional): rms_norm, embedding_bag, gumbel_softmax, pdist, channel_shuffle,
triplet_margin_with_distance_loss, multi_margin_loss."""
from __future__ import annotations

import itertools
import math

import corelib

from .. import _dtype
from .._tensor import Tensor
from . import functional as F

__all__ = ["rms_norm", "embedding_bag", "gumbel_softmax", "pdist", "channel_shuffle",
           "native_channel_shuffle", "triplet_margin_with_distance_loss", "multi_margin_loss",
           "rrelu", "rrelu_", "max_unpool1d", "max_unpool2d", "max_unpool3d", "affine_grid",
           "grid_sample", "feature_alpha_dropout", "lp_pool1d", "lp_pool2d", "lp_pool3d",
           "celu_", "selu_", "max_pool3d_with_indices", "adaptive_max_pool1d_with_indices",
           "adaptive_max_pool2d_with_indices", "ctc_loss"]


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """rms_norm(input, normalized_shape, weight=None, eps=None) -> Tensor

    Divide by the root mean square over the trailing ``normalized_shape`` dims, then scale by ``weight``.
    """
    F._tensor_arg(input, "rms_norm")
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else \
        tuple(normalized_shape)
    k = len(shape)
    if k == 0 or tuple(input.shape[input.ndim - k:]) != shape or input.ndim < k:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(str(s) for s in shape)}], but got input of size"
                           f"{list(input.shape)}")
    if weight is not None and tuple(weight.shape) != shape:
        raise RuntimeError(f"rms_norm(): Expected weight to be of same shape as "
                           f"normalized_shape, but got weight of shape {list(weight.shape)} and "
                           f"normalized_shape = {list(shape)}")
    if eps is None:
        eps = _dtype.finfo(input.dtype).eps
    dims = tuple(range(input.ndim - k, input.ndim))
    out = input * corelib.rsqrt(F.mean(input * input, dims, keepdim=True) + eps)
    return out if weight is None else out * weight


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False,
                  mode="mean", sparse=False, per_sample_weights=None, include_last_offset=False,
                  padding_idx=None):
    """embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode='mean', sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None) -> Tensor

    Sums, means or maxes of bags of embeddings: rows of a 2-D ``input``, or 1-D ``input`` cut at ``offsets``.
    """
    F._tensor_arg(input, "embedding_bag")
    F._tensor_arg(weight, "embedding_bag", "weight")
    if weight.ndim != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension "
                         f"{weight.ndim}")
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated "
                             "is a mini-batch of fixed length sequences. However, found offsets "
                             f"of type {type(offsets).__name__}")
        offsets = corelib.arange(0, input.numel(), input.shape[1], device=input.device)
        input = input.reshape(-1)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif input.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.ndim != 1:
            raise ValueError("offsets has to be a 1D Tensor")
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{input.ndim}")
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"mode has to be one of sum, mean or max")
    if per_sample_weights is not None:
        if mode != "sum":
            raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. "
                                      f"per_sample_weights is only supported for mode='sum' "
                                      f"(got mode='{mode}'). Please open a feature request on "
                                      f"GitHub.")
        if tuple(per_sample_weights.shape) != tuple(input.shape):
            raise ValueError(f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) "
                             f"is not None, then it must have the same shape as the input "
                             f"({input.shape})")
    offsets = offsets.to(_dtype.int64)
    bags = offsets.shape[0] - 1 if include_last_offset else offsets.shape[0]
    n, dim = input.shape[0], weight.shape[1]
    emb = F.embedding(input, weight, None, max_norm, norm_type, scale_grad_by_freq, sparse)
    # the bag of each input position (offsets past the end give empty bags)
    bag = corelib.searchsorted(offsets[:bags], corelib.arange(n, device=input.device),
                               right=True) - 1
    keep = bag >= 0
    if include_last_offset and bags >= 0:
        keep = keep & (corelib.arange(n, device=input.device) < offsets[bags])
    if padding_idx is not None:
        num = weight.shape[0]
        if not -num <= padding_idx < num:
            raise AssertionError("padding_idx must be within num_embeddings")
        keep = keep & (input != (padding_idx % num))
    bag = corelib.where(keep, bag, 0)
    w = keep.to(weight.dtype)
    if per_sample_weights is not None:
        w = w * per_sample_weights
    index = bag.unsqueeze(1).expand(n, dim)
    zeros = corelib.zeros(max(bags, 0), dim, dtype=weight.dtype, device=weight.device)
    if mode == "max":
        filled = corelib.where(keep.unsqueeze(1), emb, -math.inf)
        out = zeros.scatter_reduce(0, index, filled, "amax", include_self=False)
        return corelib.where(corelib.isinf(out) & (out < 0), 0.0, out)
    total = zeros.index_add(0, bag, emb * w.unsqueeze(1))
    if mode == "sum":
        return total
    count = corelib.zeros(max(bags, 0), dtype=weight.dtype, device=weight.device) \
        .index_add(0, bag, w)
    return total / corelib.clamp(count, min=1).unsqueeze(1)


def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1):
    """gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1) -> Tensor

    Samples from the Gumbel-Softmax distribution; ``hard=True`` returns one-hot samples with soft gradients.
    """
    F._tensor_arg(logits, "gumbel_softmax", "logits")
    gumbels = -corelib.empty_like(logits).exponential_().log()
    y_soft = F.softmax((logits + gumbels) / tau, dim)
    if not hard:
        return y_soft
    index = y_soft.argmax(dim, keepdim=True)
    y_hard = corelib.zeros_like(logits).scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft


def pdist(input, p=2):
    """pdist(input, p=2) -> Tensor

    p-norm distances between every pair of rows of a 2-D ``input``, upper triangle flattened.
    """
    F._tensor_arg(input, "pdist")
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    i, j = corelib.triu_indices(input.shape[0], input.shape[0], 1, device=input.device)
    return corelib.linalg.vector_norm(input[i] - input[j], p, -1)


def channel_shuffle(input, groups):
    """channel_shuffle(input, groups) -> Tensor

    Split the channels (dim 1) into ``groups`` groups and interleave them.
    """
    F._tensor_arg(input, "channel_shuffle")
    if input.ndim < 3:
        raise RuntimeError(f"channel_shuffle expects input to have at least 3 dimensions, but "
                           f"got input with sizes {list(input.shape)}")
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of "
                           f"groups:{groups}")
    n, c = input.shape[:2]
    if c % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels "
                           f"and {groups} groups.")
    rest = tuple(input.shape[2:])
    x = input.reshape((n, groups, c // groups) + rest).transpose(1, 2)
    return x.reshape((n, c) + rest)


native_channel_shuffle = channel_shuffle


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin=1.0, swap=False, reduction="mean"):
    """triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0, swap=False, reduction='mean') -> Tensor

    Triplet margin loss with a custom distance (default: ``pairwise_distance``).
    """
    if margin <= 0:
        raise ValueError(f"triplet_margin_with_distance_loss: expected margin to be greater "
                         f"than 0, got {margin} instead")
    dist = distance_function if distance_function is not None else F.pairwise_distance
    d_ap, d_an = dist(anchor, positive), dist(anchor, negative)
    if swap:
        d_an = corelib.minimum(d_an, dist(positive, negative))
    return F._reduce(F.relu(margin + d_ap - d_an), reduction)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    """multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None, reduction='mean') -> Tensor

    Multi-class hinge loss: mean over classes i != y of max(0, margin - x[y] + x[i])^p.
    """
    F._tensor_arg(input, "multi_margin_loss")
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.ndim != 1:
        raise ValueError("weight must be one-dimensional")
    x = input if input.ndim == 2 else input.reshape(1, -1)
    y = target.reshape(-1, 1)
    x_y = x.gather(1, y)
    z = F.relu(margin - x_y + x)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * weight[y]
    not_target = corelib.ones_like(x).scatter_(1, y, 0.0)
    loss = (z * not_target).sum(1) / x.shape[1]
    loss = loss if input.ndim == 2 else loss.reshape(())
    return F._reduce(loss, F._reduction(size_average, reduce, reduction))


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """rrelu(input, lower=1./8, upper=1./3, training=False, inplace=False) -> Tensor

    Leaky ReLU whose negative slope is drawn from U(lower, upper) in training, (lower+upper)/2 otherwise.
    """
    F._tensor_arg(input, "rrelu")
    if training:
        slope = corelib.empty_like(input).uniform_(lower, upper)
        out = corelib.where(input >= 0, input, input * slope)
    else:
        out = F.leaky_relu(input, (lower + upper) / 2)
    return input.copy_(out) if inplace else out


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    """rrelu_(input, lower=1./8, upper=1./3, training=False) -> Tensor

    In-place ``rrelu``.
    """
    return rrelu(input, lower, upper, training, inplace=True)


def _max_unpool(n, op, input, indices, kernel_size, stride, padding, output_size):
    F._tensor_arg(input, op)
    F._tensor_arg(indices, op, "indices")
    if input.ndim not in (n + 1, n + 2):
        raise RuntimeError(f"{op}(): Expected {n + 1}D or {n + 2}D input, but got "
                           f"{input.ndim}D")
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"{op}(): Expected shape of indices to be same as that of the input "
                           f"tensor ({list(input.shape)}) but got indices tensor with shape: "
                           f"{list(indices.shape)}")
    kernel = F._ntuple(kernel_size, n, op, "kernel_size")
    stride = kernel if stride is None else F._ntuple(stride, n, op, "stride")
    padding = F._ntuple(padding, n, op, "padding")
    spatial = tuple(input.shape[-n:])
    if output_size is None:
        size = tuple((spatial[i] - 1) * stride[i] - 2 * padding[i] + kernel[i] for i in range(n))
    else:
        size = tuple(output_size)[-n:]
        if len(size) != n:
            raise ValueError(f"output_size should be a sequence containing {n} or {n + 2} "
                             f"elements, but it has a length of '{len(tuple(output_size))}'")
    lead = tuple(input.shape[:-n])
    count = 1
    for s in size:
        count *= s
    flat_in = input.reshape(lead + (-1,))
    flat_idx = indices.reshape(lead + (-1,))
    out = corelib.zeros(lead + (count,), dtype=input.dtype, device=input.device)
    return out.scatter(-1, flat_idx, flat_in).reshape(lead + size)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None) -> Tensor

    Partial inverse of max_pool1d: the maxima put back at their indices, zeros elsewhere.
    """
    return _max_unpool(1, "max_unpool1d", input, indices, kernel_size, stride, padding,
                       output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None) -> Tensor

    Partial inverse of max_pool2d: the maxima put back at their indices, zeros elsewhere.
    """
    return _max_unpool(2, "max_unpool2d", input, indices, kernel_size, stride, padding,
                       output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None) -> Tensor

    Partial inverse of max_pool3d: the maxima put back at their indices, zeros elsewhere.
    """
    return _max_unpool(3, "max_unpool3d", input, indices, kernel_size, stride, padding,
                       output_size)


def _base_coords(n, align_corners, like):
    steps = corelib.arange(n, dtype=like.dtype, device=like.device)
    if n == 1:
        return steps * 0.0
    if align_corners:
        return steps * (2.0 / (n - 1)) - 1
    return (steps * 2 + 1) / n - 1


def affine_grid(theta, size, align_corners=None):
    """affine_grid(theta, size, align_corners=None) -> Tensor

    The sampling grid (N×H×W×2 or N×D×H×W×3) of the affine transforms ``theta`` for grid_sample.
    """
    F._tensor_arg(theta, "affine_grid", "theta")
    align_corners = bool(align_corners)
    if not theta.dtype.is_floating_point:
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    size = tuple(size)
    if len(size) == 4:
        if theta.ndim != 3 or tuple(theta.shape[-2:]) != (2, 3):
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size "
                             f"{size}. Got {tuple(theta.shape)}.")
        n, _, h, w = size
        xs, ys = _base_coords(w, align_corners, theta), _base_coords(h, align_corners, theta)
        base = corelib.stack([xs.unsqueeze(0).expand(h, w), ys.unsqueeze(1).expand(h, w),
                              corelib.ones(h, w, dtype=theta.dtype, device=theta.device)], -1)
        spatial = (h, w)
    elif len(size) == 5:
        if theta.ndim != 3 or tuple(theta.shape[-2:]) != (3, 4):
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size "
                             f"{size}. Got {tuple(theta.shape)}.")
        n, _, d, h, w = size
        xs, ys, zs = (_base_coords(k, align_corners, theta) for k in (w, h, d))
        shape = (d, h, w)
        base = corelib.stack([xs.reshape(1, 1, w).expand(shape), ys.reshape(1, h, 1).expand(shape),
                              zs.reshape(d, 1, 1).expand(shape),
                              corelib.ones(shape, dtype=theta.dtype, device=theta.device)], -1)
        spatial = shape
    else:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {size}.")
    if theta.shape[0] != n:
        raise ValueError(f"Expected theta to have batch size {n}, got {theta.shape[0]}")
    flat = base.reshape(1, -1, base.shape[-1])
    grid = flat.matmul(theta.transpose(1, 2))
    return grid.reshape((n,) + spatial + (len(spatial),))


def _reflect(x, twice_low, twice_high):
    if twice_low == twice_high:
        return x * 0.0
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    x = (x - low).abs()
    extra = corelib.fmod(x, span)
    flips = corelib.floor(x / span)
    return corelib.where(corelib.fmod(flips, 2) == 0, extra + low, span - extra + low)


def _source_coords(g, size, padding_mode, align_corners):
    x = (g + 1) / 2 * (size - 1) if align_corners else ((g + 1) * size - 1) / 2
    if padding_mode == "border":
        x = corelib.clamp(x, 0, size - 1)
    elif padding_mode == "reflection":
        x = _reflect(x, 0, 2 * (size - 1)) if align_corners else _reflect(x, -1, 2 * size - 1)
        x = corelib.clamp(x, 0, size - 1)
    return x


def _pad_tap(t, size, padding_mode, align_corners):
    """An integer tap coordinate moved in bounds by the padding mode (bicubic taps)."""
    if padding_mode == "border":
        return corelib.clamp(t, 0, size - 1)
    if padding_mode == "reflection":
        t = _reflect(t, 0, 2 * (size - 1)) if align_corners else _reflect(t, -1, 2 * size - 1)
        return corelib.clamp(t, 0, size - 1)
    return t


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """grid_sample(input, grid, mode='bilinear', padding_mode='zeros', align_corners=None) -> Tensor

    Sample a 4-D (5-D) input at the normalized (x, y[, z]) locations of ``grid``
    (N×H_out×W_out×2, or N×D_out×H_out×W_out×3); bicubic for 4-D input only.
    """
    F._tensor_arg(input, "grid_sample")
    F._tensor_arg(grid, "grid_sample", "grid")
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if input.ndim not in (4, 5):
        raise RuntimeError(f"grid_sampler(): expected 4D or 5D input and grid with same number "
                           f"of dimensions, but got input with sizes {list(input.shape)}")
    nsp = input.ndim - 2
    if mode == "bicubic" and nsp != 2:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    if grid.ndim != input.ndim or grid.shape[-1] != nsp or grid.shape[0] != input.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {nsp} in last "
                           f"dimension and the batch size of input, but got grid with sizes "
                           f"{list(grid.shape)}")
    align_corners = bool(align_corners)
    n, c = input.shape[:2]
    sizes = tuple(input.shape[2:])                  # (D,) H, W
    out_sp = tuple(grid.shape[1:-1])
    n_out = math.prod(out_sp)
    flat = input.reshape(n, c, math.prod(sizes))
    # grid's last dim lists x (W), y (H), z (D): coordinate k addresses spatial dim nsp-1-k
    g = [grid[..., nsp - 1 - d] for d in range(nsp)]   # in the order of the spatial dims

    def tap(coords, weight):
        valid = None
        index = None
        for t, size in zip(coords, sizes):
            ok = (t >= 0) & (t <= size - 1)
            valid = ok if valid is None else valid & ok
            t = corelib.clamp(t, 0, size - 1)
            index = t if index is None else index * size + t
        index = index.to(_dtype.int64).reshape(n, 1, n_out).expand(n, c, n_out)
        values = flat.gather(2, index).reshape((n, c) + out_sp)
        return values * (weight * valid.to(weight.dtype)).unsqueeze(1)

    if mode == "bicubic":
        # as PyTorch: floor of the unpadded coordinate; the padding moves each of the 4x4 taps
        src = [(t + 1) / 2 * (size - 1) if align_corners else ((t + 1) * size - 1) / 2
               for t, size in zip(g, sizes)]
        base = [corelib.floor(v).detach() for v in src]
        weights = [F._cubic_weights(v - b) for v, b in zip(src, base)]
        out = None
        for i in range(4):
            ty = _pad_tap(base[0] + (i - 1), sizes[0], padding_mode, align_corners)
            for j in range(4):
                tx = _pad_tap(base[1] + (j - 1), sizes[1], padding_mode, align_corners)
                term = tap((ty, tx), weights[0][i] * weights[1][j])
                out = term if out is None else out + term
        return out
    src = [_source_coords(t, size, padding_mode, align_corners) for t, size in zip(g, sizes)]
    if mode == "nearest":
        return tap([corelib.round(v) for v in src], corelib.ones_like(src[0]))
    base = [corelib.floor(v).detach() for v in src]
    frac = [v - b for v, b in zip(src, base)]
    out = None
    for corner in itertools.product((0, 1), repeat=nsp):
        weight = None
        for k, f in zip(corner, frac):
            w = f if k else 1 - f
            weight = w if weight is None else weight * w
        term = tap([b + k for b, k in zip(base, corner)], weight)
        out = term if out is None else out + term
    return out


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """feature_alpha_dropout(input, p=0.5, training=False, inplace=False) -> Tensor

    Alpha dropout of whole channels: each (N, C) feature map is kept or set to SELU's negative saturation.
    """
    F._tensor_arg(input, "feature_alpha_dropout")
    F._check_p(p)
    if not training or p == 0:
        return input
    if p == 1:
        return input * 0.0
    if input.ndim < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    keep = 1.0 - p
    alpha = F._SELU_ALPHA_SCALE
    a = 1.0 / math.sqrt((alpha ** 2 * p + 1) * keep)
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    mask = (corelib.rand(shape, dtype=input.dtype, device=input.device) < keep).to(input.dtype)
    out = input * (mask * a) + ((mask - 1) * (alpha * a) + alpha * a * p)
    return input.copy_(out) if inplace else out


def _lp_pool(n, input, norm_type, kernel_size, stride, ceil_mode):
    kernel = F._ntuple(kernel_size, n, f"lp_pool{n}d", "kernel_size")
    pool = getattr(F, f"avg_pool{n}d")
    out = pool(input.pow(norm_type), kernel, stride if stride is not None else kernel, 0,
               ceil_mode)
    count = 1
    for k in kernel:
        count *= k
    return (corelib.sign(out) * F.relu(corelib.abs(out))).mul(count).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False) -> Tensor

    1-D power-average pooling: (sum of x ** p over each window) ** (1 / p).
    """
    return _lp_pool(1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False) -> Tensor

    2-D power-average pooling: (sum of x ** p over each window) ** (1 / p).
    """
    return _lp_pool(2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False) -> Tensor

    3-D power-average pooling: (sum of x ** p over each window) ** (1 / p).
    """
    return _lp_pool(3, input, norm_type, kernel_size, stride, ceil_mode)


def celu_(input, alpha=1.0):
    """celu_(input, alpha=1.) -> Tensor

    In-place version of celu().
    """
    return input.copy_(F.celu(input, alpha))


def selu_(input):
    """selu_(input) -> Tensor

    In-place version of selu().
    """
    return input.copy_(F.selu(input))


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    """max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=True) -> (Tensor, Tensor)

    3-D max pooling that also returns the argmax indices.
    """
    return F.max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=True):
    """adaptive_max_pool1d_with_indices(input, output_size, return_indices=True) -> (Tensor, Tensor)

    1-D adaptive max pooling that also returns the argmax indices.
    """
    return F.adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=True):
    """adaptive_max_pool2d_with_indices(input, output_size, return_indices=True) -> (Tensor, Tensor)

    2-D adaptive max pooling that also returns the argmax indices.
    """
    return F.adaptive_max_pool2d(input, output_size, True)


_CTC_NEG = -1e30   # finite "log 0": keeps the gradients of impossible paths 0, not NaN


def _lse3(a, b, c):
    m = corelib.maximum(corelib.maximum(a, b), c).detach()
    return m + corelib.log(corelib.exp(a - m) + corelib.exp(b - m) + corelib.exp(c - m))


def _neg(shape, like):
    # zeros + NEG rather than full(): the CUDA backend's full() rejects this magnitude
    return corelib.zeros(shape, dtype=like.dtype, device=like.device) + _CTC_NEG


def _shift(x, k):
    pad = _neg((x.shape[0], k), x)
    return corelib.cat([pad, x[:, :x.shape[1] - k]], 1)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False):
    """ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction='mean', zero_infinity=False) -> Tensor

    Connectionist Temporal Classification loss of (T, N, C) log-probabilities against unaligned target sequences.
    """
    F._tensor_arg(log_probs, "ctc_loss", "log_probs")
    F._tensor_arg(targets, "ctc_loss", "targets")
    unbatched = log_probs.ndim == 2
    if unbatched:
        log_probs = log_probs.unsqueeze(1)
        targets = targets.unsqueeze(0)
    if log_probs.ndim != 3:
        raise RuntimeError(f"ctc_loss(): log_probs must be 2-D or 3-D, got {log_probs.ndim}-D")
    steps, batch, classes = log_probs.shape
    as_list = (lambda v: [int(i) for i in (v.tolist() if isinstance(v, Tensor) else
                                            (v if isinstance(v, (list, tuple)) else [v]))])
    in_lens, tgt_lens = as_list(input_lengths), as_list(target_lengths)
    if len(in_lens) != batch or len(tgt_lens) != batch:
        raise RuntimeError(f"ctc_loss(): expected input_lengths and target_lengths of size "
                           f"{batch}, got {len(in_lens)} and {len(tgt_lens)}")
    if any(n > steps for n in in_lens):
        raise RuntimeError(f"Expected input_lengths to have value at most {steps}, but got "
                           f"value {max(in_lens)}")
    longest = max(tgt_lens) if tgt_lens else 0
    if targets.ndim == 1 and not unbatched:          # concatenated targets
        flat, rows, start = targets.tolist(), [], 0
        for n in tgt_lens:
            rows.append(flat[start:start + n] + [blank] * (longest - n))
            start += n
        padded = corelib.tensor(rows, dtype=_dtype.int64, device=log_probs.device) \
            .reshape(batch, longest)
    else:
        padded = targets[:, :longest].to(_dtype.int64)
    width = 2 * longest + 1
    ext = corelib.full((batch, width), blank, dtype=_dtype.int64, device=log_probs.device)
    if longest:
        odd = corelib.arange(1, width, 2, device=log_probs.device)
        ext = ext.index_copy(1, odd, padded)
    # s -> s-2 allowed where ext[s] is a label differing from ext[s-2]
    prev2 = corelib.cat([corelib.full((batch, 2), -1, dtype=_dtype.int64,
                                      device=log_probs.device), ext[:, :-2]], 1)
    skip = (ext != blank) & (ext != prev2)
    emit = log_probs.gather(2, ext.unsqueeze(0).expand(steps, batch, width))
    neg = _neg((batch, width), log_probs)
    start = corelib.arange(width, device=log_probs.device).unsqueeze(0) < 2
    alpha = corelib.where(start, emit[0], neg)
    lengths = corelib.tensor(in_lens, dtype=_dtype.int64, device=log_probs.device)
    for t in range(1, steps):
        two = corelib.where(skip, _shift(alpha, 2), neg)
        step = _lse3(alpha, _shift(alpha, 1), two) + emit[t]
        alpha = corelib.where((lengths > t).unsqueeze(1), step, alpha)
    tl = corelib.tensor(tgt_lens, dtype=_dtype.int64, device=log_probs.device).unsqueeze(1)
    last = alpha.gather(1, 2 * tl).squeeze(1)
    before = alpha.gather(1, (2 * tl - 1).clamp(min=0)).squeeze(1)
    before = corelib.where(tl.squeeze(1) > 0, before, _neg((batch,), log_probs))
    m = corelib.maximum(last, before).detach()
    loss = -(m + corelib.log(corelib.exp(last - m) + corelib.exp(before - m)))
    impossible = (loss > 1e29) | (lengths == 0)
    loss = corelib.where(impossible, 0.0 if zero_infinity else math.inf, loss)
    if unbatched:
        loss = loss.squeeze(0)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return (loss / tl.squeeze(1).clamp(min=1).to(loss.dtype)).mean()
    raise ValueError(f"{reduction} is not a valid value for reduction")
