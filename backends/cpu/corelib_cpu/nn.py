"""CPU kernels: nn (convolution, pooling, softmax, normalization, embedding, class gathers).

Convolution is im2col plus one batched BLAS matmul per call (groups are the batch axis). The
columns are channel-major and, when the batch is larger than the output width, batch-innermost,
so that the per-kernel-position strided copies (im2col) and adds (col2im) run long inner loops;
Python loops only run over kernel positions. Spatial ops are N-d: ``padding`` arrives as
((lo, hi), ...) per spatial dim, ``stride``/``dilation``/``kernel_size`` as tuples.
"""
from __future__ import annotations

import functools
import itertools

import numpy as np
from numpy.lib.stride_tricks import as_strided


# ---------------------------------------------------------------------------------------------
# window helpers
def _pad(x, padding, value=0, order=None):
    """Pad the trailing spatial dims by ((lo, hi), ...); ``order`` optionally permutes the
    axes of the result (the copy is made once, already in that layout)."""
    nsp = len(padding)
    lead = x.ndim - nsp
    if order is not None:
        x = x.transpose(order)
        spatial_axes = [order.index(lead + i) for i in range(nsp)]
    else:
        spatial_axes = list(range(lead, x.ndim))
    if not any(lo or hi for lo, hi in padding):
        return x if order is None else np.ascontiguousarray(x)
    shape = list(x.shape)
    interior = [slice(None)] * x.ndim
    for ax, (lo, hi) in zip(spatial_axes, padding):
        interior[ax] = slice(lo, lo + shape[ax])
        shape[ax] += lo + hi
    out = np.full(shape, value, dtype=x.dtype)
    out[tuple(interior)] = x
    return out


def _windows(xp, kernel, stride, dilation, out_size):
    """Read-only view (..., *out_size, *kernel) of the sliding windows of ``xp``."""
    nsp = len(kernel)
    lead = xp.ndim - nsp
    st = xp.strides
    shape = xp.shape[:lead] + tuple(out_size) + tuple(kernel)
    strides = st[:lead] + tuple(st[lead + i] * stride[i] for i in range(nsp)) + \
        tuple(st[lead + i] * dilation[i] for i in range(nsp))
    return as_strided(xp, shape, strides, writeable=False)


def _kernel_slices(kpos, stride, dilation, out_size):
    """Slices of the padded input touched by kernel position ``kpos`` over all windows."""
    return tuple(slice(k * d, k * d + s * (o - 1) + 1, s)
                 for k, d, s, o in zip(kpos, dilation, stride, out_size))


def _crop(xp, shape, padding):
    nsp = len(padding)
    sl = tuple(slice(lo, lo + n) for (lo, _), n in zip(padding, shape[-nsp:]))
    return np.ascontiguousarray(xp[(Ellipsis,) + sl])


def _batch_last(n, out_size):
    """Whether the batch axis goes innermost in column layouts (longer inner loops)."""
    return bool(out_size) and n > out_size[-1]


def _window_index(slices, batch_last):
    return (slice(None),) + slices + (slice(None),) if batch_last else \
        (slice(None), slice(None)) + slices


def _col2im(cols, input_shape, kernel, stride, padding, dilation, batch_last=False):
    """Sum channel-major window columns (C, *kernel, N, *out) -- or (C, *kernel, *out, N) when
    ``batch_last`` -- onto an input of ``input_shape`` (N, C, *S): one strided add per kernel
    position."""
    nsp = len(kernel)
    n, c = input_shape[:2]
    out_size = cols.shape[1 + nsp:1 + 2 * nsp] if batch_last else cols.shape[2 + nsp:]
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(input_shape[2:], padding))
    acc = np.zeros((c,) + padded + (n,) if batch_last else (c, n) + padded, dtype=cols.dtype)
    if 0 not in out_size:
        for kpos in itertools.product(*(range(k) for k in kernel)):
            slices = _kernel_slices(kpos, stride, dilation, out_size)
            acc[_window_index(slices, batch_last)] += cols[(slice(None),) + kpos]
    acc = np.moveaxis(acc, -1, 0) if batch_last else acc.swapaxes(0, 1)
    sl = tuple(slice(lo, lo + s) for (lo, _), s in zip(padding, input_shape[2:]))
    return np.ascontiguousarray(acc[(Ellipsis,) + sl])


def _conv_out(size, k, s, d):
    return max((size - d * (k - 1) - 1) // s + 1, 0)


def _im2col(x, kernel, stride, padding, dilation, out_size=None, batch_last=False):
    """Channel-major columns (C, *kernel, N, *out) -- (C, *kernel, *out, N) when ``batch_last``
    -- of the padded input's sliding windows, one strided copy per kernel position."""
    n, c = x.shape[:2]
    nsp = len(kernel)
    if out_size is None:
        out_size = tuple(_conv_out(x.shape[2 + i] + sum(padding[i]), kernel[i], stride[i],
                                   dilation[i]) for i in range(nsp))
    spatial = tuple(range(2, 2 + nsp))
    if batch_last:
        src = _pad(x, padding, order=(1,) + spatial + (0,))       # (C, *Sp, N)
        cols = np.empty((c,) + tuple(kernel) + tuple(out_size) + (n,), dtype=x.dtype)
    else:
        src = _pad(x, padding, order=(1, 0) + spatial)            # (C, N, *Sp)
        cols = np.empty((c,) + tuple(kernel) + (n,) + tuple(out_size), dtype=x.dtype)
    for kpos in itertools.product(*(range(k) for k in kernel)):
        slices = _kernel_slices(kpos, stride, dilation, out_size)
        cols[(slice(None),) + kpos] = src[_window_index(slices, batch_last)]
    return cols, tuple(out_size)


def _prod(xs):
    p = 1
    for x in xs:
        p *= x
    return p


# ---------------------------------------------------------------------------------------------
# convolution and its two transposes: columns (G, Cg*K, N*P), weights (G, Og, Cg*K)
def _grad_matrix(g, groups, batch_last):
    """g (N, O, *out) as (G, Og, N*P), or (G, Og, P*N) when ``batch_last``."""
    n, o = g.shape[:2]
    p = _prod(g.shape[2:])
    order = (1, 2, 3, 0) if batch_last else (1, 2, 0, 3)
    return g.reshape(n, groups, o // groups, p).transpose(order).reshape(
        groups, o // groups, n * p)


def convolution(x, w, b, stride, padding, dilation, groups, input_shape=None,
                weight_shape=None):
    """N-d convolution; the shapes are for the derivative rule and unused here."""
    n = x.shape[0]
    o = w.shape[0]
    kernel = tuple(w.shape[2:])
    out_size = tuple(_conv_out(x.shape[2 + i] + sum(padding[i]), kernel[i], stride[i],
                               dilation[i]) for i in range(len(kernel)))
    last = _batch_last(n, out_size)
    cols, _ = _im2col(x, kernel, stride, padding, dilation, out_size, last)
    p = _prod(out_size)
    ck = w[0].size
    cols = cols.reshape(groups, ck, n * p)
    out = np.matmul(w.reshape(groups, o // groups, ck), cols)              # (G, Og, N*P)
    out = out.reshape((o, p, n) if last else (o, n, p))
    if b is not None:
        out += b.reshape(o, 1, 1)
    out = out.transpose(2, 0, 1) if last else out.swapaxes(0, 1)
    return np.ascontiguousarray(out).reshape((n, o) + out_size)


def convolution_backward_input(g, w, input_shape, stride, padding, dilation, groups):
    """Gradient of conv w.r.t. its input (= transposed convolution of ``g`` with ``w``)."""
    n, o = g.shape[:2]
    out_size = tuple(g.shape[2:])
    kernel = tuple(w.shape[2:])
    last = _batch_last(n, out_size)
    wm = w.reshape(groups, o // groups, -1).transpose(0, 2, 1)              # (G, Cg*K, Og)
    cols = np.matmul(wm, _grad_matrix(g, groups, last))                     # (G, Cg*K, N*P)
    lead = (groups * w.shape[1],) + kernel
    cols = cols.reshape(lead + out_size + (n,) if last else lead + (n,) + out_size)
    return _col2im(cols, tuple(input_shape), kernel, stride, padding, dilation, last)


def convolution_backward_weight(x, g, weight_shape, stride, padding, dilation, groups):
    """Gradient of conv w.r.t. its weight: windows of ``x`` contracted with ``g``."""
    n = x.shape[0]
    out_size = tuple(g.shape[2:])
    last = _batch_last(n, out_size)
    cols, _ = _im2col(x, tuple(weight_shape[2:]), stride, padding, dilation, out_size, last)
    cols = cols.reshape(groups, _prod(weight_shape[1:]), n * _prod(out_size))
    gw = np.matmul(_grad_matrix(g, groups, last), cols.transpose(0, 2, 1))  # (G, Og, Cg*K)
    return gw.reshape(weight_shape)


def im2col(x, kernel_size, stride, padding, dilation):
    """F.unfold: (N, C, *S) -> (N, C*prod(kernel), L)."""
    n, c = x.shape[:2]
    nsp = len(kernel_size)
    xp = _pad(x, padding)
    out_size = tuple(_conv_out(xp.shape[2 + i], kernel_size[i], stride[i], dilation[i])
                     for i in range(nsp))
    win = _windows(xp, kernel_size, stride, dilation, out_size)
    perm = (0, 1) + tuple(range(2 + nsp, 2 + 2 * nsp)) + tuple(range(2, 2 + nsp))
    return win.transpose(perm).reshape(n, c * _prod(kernel_size), _prod(out_size))


def col2im(cols, output_size, kernel_size, stride, padding, dilation):
    """F.fold: (N, C*prod(kernel), L) -> (N, C, *output_size), overlapping windows summed."""
    n = cols.shape[0]
    nsp = len(kernel_size)
    padded = [s + lo + hi for s, (lo, hi) in zip(output_size, padding)]
    out_size = tuple(_conv_out(padded[i], kernel_size[i], stride[i], dilation[i])
                     for i in range(nsp))
    c = cols.shape[1] // _prod(kernel_size)
    cols = cols.reshape((n, c) + tuple(kernel_size) + out_size)
    cols = np.moveaxis(cols, 0, 1 + nsp)                                    # (C, *K, N, *O)
    return _col2im(cols, (n, c) + tuple(output_size), kernel_size, stride, padding, dilation)


# ---------------------------------------------------------------------------------------------
# pooling
def _pool_geometry(shape, kernel, stride, padding, dilation, ceil_mode):
    """Output size and the extra right padding ceil_mode needs (PyTorch's pooling shape rule)."""
    out_size, extra = [], []
    for n, k, s, p, d in zip(shape, kernel, stride, padding, dilation):
        span = n + 2 * p - d * (k - 1) - 1
        o = (-(-span // s) if ceil_mode else span // s) + 1
        if ceil_mode and (o - 1) * s >= n + p:
            o -= 1
        o = max(o, 0)
        need = (o - 1) * s + d * (k - 1) + 1 if o else 0
        out_size.append(o)
        extra.append(max(need - (n + 2 * p), 0))
    return tuple(out_size), tuple(extra)


def _lowest(dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


@functools.lru_cache(maxsize=256)
def _window_tables(in_size, out_size, kernel_size, stride, padding, dilation):
    """Flat plane index of every window's start, and of every kernel position relative to it
    (a max-pool index is start + offset of the winning position)."""
    nsp = len(in_size)
    plane_strides = [_prod(in_size[d + 1:]) for d in range(nsp)]
    start = np.zeros(out_size, dtype=np.int64)
    for d in range(nsp):
        pos = (np.arange(out_size[d]) * stride[d] - padding[d]) * plane_strides[d]
        start = start + pos.reshape((-1,) + (1,) * (nsp - 1 - d))
    offsets = np.array([sum(k * dl * ps for k, dl, ps in zip(kpos, dilation, plane_strides))
                        for kpos in itertools.product(*(range(k) for k in kernel_size))],
                       dtype=np.int64)
    start.flags.writeable = offsets.flags.writeable = False
    return start, offsets


def max_pool_indices(x, kernel_size, stride, padding, dilation, ceil_mode):
    """Flat (per-plane) input indices of the window maxima, as PyTorch's return_indices.

    A running max over kernel positions (one strided slice each); the first maximum wins and
    NaN propagates, as in PyTorch."""
    nsp = len(kernel_size)
    in_size = x.shape[-nsp:]
    out_size, extra = _pool_geometry(in_size, kernel_size, stride, padding, dilation, ceil_mode)
    lead = x.shape[:-nsp]
    if 0 in out_size or 0 in lead:
        return np.zeros(lead + out_size, dtype=np.int64)
    pads = [(p, p + e) for p, e in zip(padding, extra)]
    # planes innermost (one transposed copy) when that makes the inner loops longer
    planes_last = _prod(lead) > out_size[-1]
    nlead = len(lead)
    order = tuple(range(nlead, nlead + nsp)) + tuple(range(nlead)) if planes_last else None
    xp = _pad(x, pads, _lowest(x.dtype), order=order)
    positions = _prod(kernel_size)
    small = np.int16 if positions < 2 ** 15 else np.int64

    def window(kpos):
        slices = _kernel_slices(kpos, stride, dilation, out_size)
        return xp[slices + (Ellipsis,)] if planes_last else xp[(Ellipsis,) + slices]
    views = [window(kpos) for kpos in itertools.product(*(range(k) for k in kernel_size))]
    best = views[0].copy()
    for v in views[1:]:
        np.maximum(best, v, out=best)          # NaN propagates
    # the first position holding the max (masked writes are slow: blend with 0/1 arithmetic)
    if x.dtype.kind == "f" and np.isnan(best).any():
        def hit(v):
            return (v == best) | (np.isnan(v) & np.isnan(best))
    else:
        def hit(v):
            return v == best
    arg = np.zeros(best.shape, dtype=small)
    for i in range(positions - 1, 0, -1):
        arg += hit(views[i]).astype(small) * (small(i) - arg)
    arg -= hit(views[0]).astype(small) * arg
    start, offsets = _window_tables(tuple(in_size), tuple(out_size), tuple(kernel_size),
                                    tuple(stride), tuple(padding), tuple(dilation))
    if not planes_last:
        return np.take(offsets, arg) + start
    flat = np.take(offsets, arg) + start.reshape(out_size + (1,) * nlead)
    return np.ascontiguousarray(np.moveaxis(flat, tuple(range(nsp)),
                                            tuple(range(nlead, nlead + nsp))))


def adaptive_max_pool_indices(x, output_size):
    """Flat input indices of the maxima over PyTorch's adaptive windows."""
    nsp = len(output_size)
    in_size = x.shape[-nsp:]
    lead = x.shape[:-nsp]
    result = np.zeros(lead + tuple(output_size), dtype=np.int64)
    bounds = [[(i * n // o, -(-(i + 1) * n // o)) for i in range(o)]
              for n, o in zip(in_size, output_size)]
    for cell in itertools.product(*(range(o) for o in output_size)):
        box = [bounds[d][c] for d, c in enumerate(cell)]
        region = x[(Ellipsis,) + tuple(slice(a, b) for a, b in box)]
        best = region.reshape(lead + (-1,)).argmax(-1)
        local = np.unravel_index(best, tuple(b - a for a, b in box))
        flat = 0
        for d in range(nsp):
            flat = flat * in_size[d] + box[d][0] + local[d]
        result[(Ellipsis,) + cell] = flat
    return result


def _plane_offsets(shape, ndim):
    """Flat offset of every (n, c) plane of an array of ``shape``, broadcastable to ndim."""
    plane = _prod(shape[2:])
    return (np.arange(shape[0] * shape[1], dtype=np.int64) * plane).reshape(
        tuple(shape[:2]) + (1,) * (ndim - 2))


def pool_gather(x, indices, unique=False):
    """Values of ``x`` (N, C, *S) at per-plane flat ``indices`` (N, C, *O): max-pool forward."""
    flat = indices + _plane_offsets(x.shape, indices.ndim)
    return np.take(np.ascontiguousarray(x).reshape(-1), flat)


def pool_scatter(g, indices, input_shape, unique=False):
    """Sum ``g`` into zeros of ``input_shape`` at per-plane flat ``indices`` (max-pool backward);
    with ``unique`` indices a plain assignment suffices."""
    input_shape = tuple(input_shape)
    flat = (indices + _plane_offsets(input_shape, g.ndim)).reshape(-1)
    if unique:
        out = np.zeros(_prod(input_shape), dtype=g.dtype)
        out[flat] = g.reshape(-1)
        return out.reshape(input_shape)
    acc = np.bincount(flat, weights=g.reshape(-1), minlength=_prod(input_shape))
    return acc.astype(g.dtype, copy=False).reshape(input_shape)


def _avg_divisor(in_size, out_size, kernel, stride, padding, count_include_pad, override,
                 dtype):
    if override:
        return dtype.type(override)
    nsp = len(in_size)
    div = 1
    for i, (n, o, k, s, p) in enumerate(zip(in_size, out_size, kernel, stride, padding)):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, n)
        cnt = (end - start).reshape((-1,) + (1,) * (nsp - 1 - i))
        div = div * cnt
    return np.asarray(div, dtype=dtype)


def avg_pool(x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    nsp = len(kernel_size)
    in_size = x.shape[-nsp:]
    ones = (1,) * nsp
    out_size, extra = _pool_geometry(in_size, kernel_size, stride, padding, ones, ceil_mode)
    xp = _pad(x, [(p, p + e) for p, e in zip(padding, extra)])
    acc = np.zeros(x.shape[:-nsp] + out_size, dtype=x.dtype)
    if acc.size:
        for kpos in itertools.product(*(range(k) for k in kernel_size)):
            acc += xp[(Ellipsis,) + _kernel_slices(kpos, stride, ones, out_size)]
    acc /= _avg_divisor(in_size, out_size, kernel_size, stride, padding, count_include_pad,
                        divisor_override, x.dtype)
    return acc


def avg_pool_backward(g, input_shape, kernel_size, stride, padding, ceil_mode,
                      count_include_pad, divisor_override):
    nsp = len(kernel_size)
    in_size = tuple(input_shape[-nsp:])
    ones = (1,) * nsp
    out_size, extra = _pool_geometry(in_size, kernel_size, stride, padding, ones, ceil_mode)
    gd = g / _avg_divisor(in_size, out_size, kernel_size, stride, padding, count_include_pad,
                          divisor_override, g.dtype)
    pads = [(p, p + e) for p, e in zip(padding, extra)]
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(in_size, pads))
    acc = np.zeros(tuple(input_shape[:-nsp]) + padded, dtype=g.dtype)
    if g.size:
        for kpos in itertools.product(*(range(k) for k in kernel_size)):
            acc[(Ellipsis,) + _kernel_slices(kpos, stride, ones, out_size)] += gd
    return _crop(acc, tuple(input_shape), pads)


# ---------------------------------------------------------------------------------------------
# softmax family
def softmax(x, dim):
    if x.size == 0:
        return x.copy()
    e = np.exp(x - x.max(dim, keepdims=True))
    e /= e.sum(dim, keepdims=True)
    return e


def log_softmax(x, dim):
    if x.size == 0:
        return x.copy()
    shifted = x - x.max(dim, keepdims=True)
    shifted -= np.log(np.exp(shifted).sum(dim, keepdims=True))
    return shifted


def softmax_backward_data(g, out, dim):
    return out * (g - (g * out).sum(dim, keepdims=True))


def log_softmax_backward_data(g, out, dim):
    return g - np.exp(out) * g.sum(dim, keepdims=True)


# ---------------------------------------------------------------------------------------------
# normalization: (x - mean) / sqrt(var + eps) over ``dim``
def _moments(x, dim, eps):
    mean = x.mean(dim, keepdims=True)
    xc = x - mean
    var = np.square(xc).mean(dim, keepdims=True)
    return xc, 1.0 / np.sqrt(var + x.dtype.type(eps))


def normalize(x, dim, eps):
    if x.size == 0:
        return x.copy()
    xc, rstd = _moments(x, dim, eps)
    xc *= rstd
    return xc


def normalize_backward(g, x, dim, eps):
    if x.size == 0:
        return g.copy()
    xc, rstd = _moments(x, dim, eps)
    xhat = xc * rstd
    return rstd * (g - g.mean(dim, keepdims=True) - xhat * (g * xhat).mean(dim, keepdims=True))


# ---------------------------------------------------------------------------------------------
# embedding, one-hot, class gathers
def _check_range(idx, n, what):
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = idx[(idx < 0) | (idx >= n)].flat[0]
        raise IndexError(f"{what} {bad} is out of bounds for size {n}")


def embedding(weight, indices, num_weights=None, padding_idx=None):
    _check_range(indices, weight.shape[0], "index")
    return np.take(weight, indices, axis=0)


def embedding_backward(g, indices, num_weights, padding_idx):
    dim = g.shape[-1]
    flat = indices.reshape(-1).astype(np.int64, copy=False)
    pos = (flat[:, None] * dim + np.arange(dim)).ravel()
    acc = np.bincount(pos, weights=g.reshape(-1), minlength=num_weights * dim)
    acc = acc.astype(g.dtype, copy=False).reshape(num_weights, dim)
    if padding_idx is not None:
        acc[padding_idx] = 0
    return acc


def embedding_renorm_(weight, indices, max_norm, norm_type):
    """Rescale (in place) the rows of ``weight`` used by ``indices`` to norm <= max_norm."""
    rows = np.unique(indices)
    if rows.size == 0:
        return weight
    norms = np.linalg.norm(weight[rows], ord=norm_type, axis=1)
    scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(weight.dtype)
    weight[rows] *= scale[:, None]
    return weight


def one_hot(indices, num_classes):
    if indices.size and indices.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if num_classes < 0:
        if indices.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(indices.max()) + 1
    elif indices.size and indices.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    return (indices[..., None] == np.arange(num_classes)).astype(np.int64)


def _targets(target, num_classes, ignore_index):
    keep = target != ignore_index
    safe = np.where(keep, target, 0)
    if safe.size and (safe.min() < 0 or safe.max() >= num_classes):
        bad = safe[(safe < 0) | (safe >= num_classes)].flat[0]
        raise IndexError(f"Target {bad} is out of bounds.")
    return np.expand_dims(safe, 1), np.expand_dims(keep, 1)


def class_gather(x, target, ignore_index):
    """x[n, target[n, ...], ...] (0 where target == ignore_index); x is (N, C, *d)."""
    safe, keep = _targets(target, x.shape[1], ignore_index)
    picked = np.take_along_axis(x, safe, axis=1) * keep
    return picked[:, 0]


def class_scatter(g, target, num_classes, ignore_index):
    """The transpose of class_gather: g placed at the target class of zeros (N, C, *d)."""
    safe, keep = _targets(target, num_classes, ignore_index)
    out = np.zeros((g.shape[0], num_classes) + g.shape[1:], dtype=g.dtype)
    np.put_along_axis(out, safe, np.expand_dims(g, 1) * keep, axis=1)
    return out


def nll_loss(x, target, ignore_index, reduction):
    picked = class_gather(x, target, ignore_index)
    if reduction == "none":
        return np.negative(picked, out=picked)
    total = -picked.sum(dtype=x.dtype)
    if reduction == "mean":
        total = total / x.dtype.type(np.count_nonzero(target != ignore_index))
    return np.asarray(total, dtype=x.dtype)


def nll_loss_backward(g, target, num_classes, ignore_index, reduction):
    scale = -g
    if reduction == "mean":
        scale = scale / g.dtype.type(np.count_nonzero(target != ignore_index))
    return class_scatter(np.broadcast_to(scale, target.shape), target, num_classes,
                         ignore_index)


def linear_backward_input(g, w):
    return np.asarray(np.matmul(g, w))


def linear_backward_weight(g, x):
    return np.matmul(g.reshape(-1, g.shape[-1]).T, x.reshape(-1, x.shape[-1]))


def linear(x, w, b):
    out = np.matmul(x, w.T)
    if b is not None:
        out += b
    return np.asarray(out)


KERNELS = {
    "nll_loss": nll_loss,
    "nll_loss_backward": nll_loss_backward,
    "linear": linear,
    "linear_backward_input": linear_backward_input,
    "linear_backward_weight": linear_backward_weight,
    "convolution": convolution,
    "convolution_backward_input": convolution_backward_input,
    "convolution_backward_weight": convolution_backward_weight,
    "im2col": im2col,
    "col2im": col2im,
    "max_pool_indices": max_pool_indices,
    "adaptive_max_pool_indices": adaptive_max_pool_indices,
    "pool_gather": pool_gather,
    "pool_scatter": pool_scatter,
    "avg_pool": avg_pool,
    "avg_pool_backward": avg_pool_backward,
    "softmax": softmax,
    "log_softmax": log_softmax,
    "softmax_backward_data": softmax_backward_data,
    "log_softmax_backward_data": log_softmax_backward_data,
    "normalize": normalize,
    "normalize_backward": normalize_backward,
    "embedding": embedding,
    "embedding_backward": embedding_backward,
    "embedding_renorm_": embedding_renorm_,
    "one_hot": one_hot,
    "class_gather": class_gather,
    "class_scatter": class_scatter,
}
