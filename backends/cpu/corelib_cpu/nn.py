"""CPU kernels: nn (convolution, pooling, softmax, normalization, layer norm, attention,
embedding, class gathers, ReLU's gradient).

Convolution is columns plus BLAS matmuls (see the convolution section: stride-1 columns are
contiguous shifted runs of the padded image, the input gradient at stride 1 is a convolution
too, scratch buffers are per-thread workspaces). The strided input gradient and F.fold sum
channel-major columns onto the image, one strided add per kernel position. Spatial ops are
N-d: ``padding`` arrives as ((lo, hi), ...) per spatial dim, ``stride``/``dilation``/
``kernel_size`` as tuples.
"""
from __future__ import annotations

import functools
import itertools
import threading

import numpy as np
from numpy.lib.stride_tricks import as_strided

from . import native


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


# ---------------------------------------------------------------------------------------------
# workspaces: per-thread scratch buffers (padded inputs, columns, GEMM results) reused from
# call to call instead of fresh allocations (and their page faults); never handed out
_LOCAL = threading.local()
_WORKSPACE_MAX = 8 << 20       # larger scratch is allocated per call, not kept
_COLUMN_BUDGET = 2 << 20       # columns per batch chunk: small enough to stay in cache


def _workspace(role, shape, dtype):
    cache = getattr(_LOCAL, "buffers", None)
    if cache is None:
        cache = _LOCAL.buffers = {}
    nbytes = _prod(shape) * dtype.itemsize
    buf = cache.get(role)
    if buf is None or buf.nbytes < nbytes:
        if nbytes > _WORKSPACE_MAX:
            return np.empty(shape, dtype)
        buf = cache[role] = np.empty(max(nbytes, 1), np.uint8)
    return buf[:nbytes].view(dtype).reshape(shape)


# ---------------------------------------------------------------------------------------------
# convolution and its two transposes
#
# Columns are channel-major, (C, K, N, L): C channels, K kernel positions, N images of a batch
# chunk, L output positions, so that one GEMM (O, C*K) x (C*K, N*L) per group covers the
# chunk. With stride 1 the columns of kernel position k are contiguous runs of the
# zero-padded image shifted by k's flat offset ("flat shift"): the output is computed on a
# grid as wide as the padded image (L = out[0] * prod(padded[1:])) and the extra positions are
# cropped, so building columns is one long copy per (channel, position, image) instead of a
# strided gather per output row. Other strides gather windows (one strided copy per kernel
# position). The input gradient at stride 1 runs the same machinery backwards when the input
# has less than half the output's channels (GEMM to columns, then each position's columns
# added onto the padded gradient with one shifted add), and otherwise is itself a convolution
# (of the output gradient with the flipped, transposed kernel). 1x1 convolutions are GEMMs.
class _Plan:
    __slots__ = ("nsp", "kernel", "stride", "padding", "dilation", "out", "padded", "flat",
                 "wide", "L", "shifts", "positions", "plane")

    def __init__(self, x_shape, kernel, stride, padding, dilation):
        nsp = self.nsp = len(kernel)
        self.kernel, self.stride, self.padding, self.dilation = kernel, stride, padding, dilation
        self.padded = tuple(s + lo + hi for s, (lo, hi) in zip(x_shape[2:], padding))
        self.plane = _prod(self.padded)
        self.out = tuple(_conv_out(self.padded[i], kernel[i], stride[i], dilation[i])
                         for i in range(nsp))
        self.positions = list(itertools.product(*(range(k) for k in kernel)))
        p = _prod(self.out)
        self.flat = all(s == 1 for s in stride) and nsp > 0
        if self.flat:
            st = [_prod(self.padded[i + 1:]) for i in range(nsp)]
            self.wide = (self.out[0],) + self.padded[1:]
            self.flat = _prod(self.wide) <= 1.6 * p or nsp == 1
        if self.flat:
            self.shifts = [sum(k * d * s for k, d, s in zip(kpos, dilation, st))
                           for kpos in self.positions]
        else:
            self.wide = self.out
        self.L = _prod(self.wide)

    def crop(self, lead):
        """Index of the valid outputs in an array of ``lead`` leading dims, then ``wide``."""
        return (slice(None),) * (lead + 1) + tuple(slice(0, o) for o in self.out[1:])

    def interior(self, lead):
        """Index of the unpadded input in an array of ``lead`` leading dims, then ``padded``."""
        return (slice(None),) * lead + tuple(slice(lo, p - hi) for (lo, hi), p in
                                             zip(self.padding, self.padded))

    def slack(self):
        return max(self.shifts) + self.L - self.plane if self.flat else 0

    def chunk(self, n, rows, itemsize):
        per_image = max(rows * len(self.positions) * self.L * itemsize, 1)
        return max(1, min(n, _COLUMN_BUDGET // per_image))

    def shifted(self, buf, shift, c, nb):
        """The (C, nb, L) run of every (channel, image) plane of ``buf`` (flat, channel-major
        padded planes) starting ``shift`` elements in (the ndarray constructor checks the
        bounds and costs a fraction of as_strided)."""
        it = buf.itemsize
        return np.ndarray((c, nb, self.L), buf.dtype, buf, shift * it,
                          (nb * self.plane * it, self.plane * it, it))


@functools.lru_cache(maxsize=128)
def _plan(x_shape, kernel, stride, padding, dilation):
    """The (immutable) plan of a geometry, built once: training repeats the same shapes."""
    return _Plan(x_shape, kernel, stride, padding, dilation)


def _plan_of(x_shape, kernel, stride, padding, dilation):
    try:
        return _plan(tuple(x_shape), tuple(kernel), tuple(stride),
                     tuple(tuple(p) for p in padding), tuple(dilation))
    except TypeError:   # an unhashable argument
        return _Plan(x_shape, kernel, stride, padding, dilation)


def _zero_border(xp, lead, padding, in_size):
    """Zero the padding frame of xp (*lead dims, *padded)."""
    for i, ((lo, hi), s) in enumerate(zip(padding, in_size)):
        pre = (slice(None),) * (lead + i)
        if lo:
            xp[pre + (slice(0, lo),)] = 0
        if hi:
            xp[pre + (slice(lo + s, None),)] = 0


def _columns(x, n0, nb, plan):
    """Channel-major columns (C, K, nb, L) of images n0:n0+nb of x (N, C, *S)."""
    c = x.shape[1]
    dt = x.dtype
    kcount = len(plan.positions)
    xs = x[n0:n0 + nb].swapaxes(0, 1)
    cols = _workspace("cols", (c, kcount, nb, plan.L), dt)
    if plan.flat:
        size = c * nb * plan.plane
        buf = _workspace("pad", (size + plan.slack(),), dt)
        xp = buf[:size].reshape((c, nb) + plan.padded)
        _zero_border(xp, 2, plan.padding, x.shape[2:])
        buf[size:] = 0
        xp[plan.interior(2)] = xs
        for k, shift in enumerate(plan.shifts):
            cols[:, k] = plan.shifted(buf, shift, c, nb)
        return cols
    if any(lo or hi for lo, hi in plan.padding):
        xp = _workspace("pad", (c, nb) + plan.padded, dt)
        _zero_border(xp, 2, plan.padding, x.shape[2:])
        xp[plan.interior(2)] = xs
    else:
        xp = xs
    shaped = cols.reshape((c, kcount, nb) + plan.out)
    for k, kpos in enumerate(plan.positions):
        shaped[:, k] = xp[(slice(None), slice(None)) + _kernel_slices(
            kpos, plan.stride, plan.dilation, plan.out)]
    return cols


def _wide_grad(g, n0, nb, plan):
    """g[n0:n0+nb] (nb, O, *out) channel-major on the wide grid, (O, nb, *wide), with zeros at
    the cropped positions (a view of g when nothing is cropped and nb == 1... else a copy)."""
    o = g.shape[1]
    gw = _workspace("gwide", (o, nb) + plan.wide, g.dtype)
    for i in range(1, plan.nsp):
        gw[(slice(None),) * (2 + i) + (slice(plan.out[i], None),)] = 0
    gw[plan.crop(2)] = g[n0:n0 + nb].swapaxes(0, 1)
    return gw


def _conv_out(size, k, s, d):
    return max((size - d * (k - 1) - 1) // s + 1, 0)


def _prod(xs):
    p = 1
    for x in xs:
        p *= x
    return p


def _pointwise(kernel, stride, padding):
    return all(k == 1 for k in kernel) and all(s == 1 for s in stride) and \
        not any(lo or hi for lo, hi in padding)


# direct convolution: 2-D, stride 1, float32/float64, compiled kernels (native/conv.cpp) on
# the zero-padded input, no columns. Chosen per shape (measured, docs/PERFORMANCE.md): when the
# contraction per output (C/G * KH * KW) is short, where columns + GEMM pay mostly for copies.
# The forward needs a block of output channels (it computes 6 at a time) and runs row by row
# when rows hold at least 1.5 vectors (two vectors at a time), else on whole planes as wide as
# the padded input (one crop copy after); the weight gradient needs rows of a whole vector and
# KW <= 5 (register blocking).
_DIRECT_DEPTH = 1024
_VECTOR = 32    # bytes per SIMD vector of the kernels


def _direct(plan, dtype, name, cg, og):
    if plan.nsp != 2 or plan.stride != (1, 1) or \
            cg * plan.kernel[0] * plan.kernel[1] > _DIRECT_DEPTH:
        return None
    if name == "forward" and (og < 6 or 2 * plan.out[0] * plan.padded[1] * dtype.itemsize <
                              3 * _VECTOR):
        return None
    if name == "weight" and (plan.kernel[1] > 5 or plan.out[1] * dtype.itemsize < _VECTOR):
        return None
    return native.kernel(name, dtype)


_DIRECT_DEPTH_1D = 128   # long 1-D rows of more taps than this: columns measured faster


def _direct_1d(shape, kernel, stride, padding, dilation, dtype, name, cg, og):
    """1-D convolutions at stride 1 and short contractions run the 2-D direct kernels on a
    unit height: the 2-D geometry's (stride, padding, dilation), or None."""
    if len(kernel) != 1 or tuple(stride) != (1,) or cg * kernel[0] > _DIRECT_DEPTH_1D:
        return None
    geometry = ((1, 1), ((0, 0), tuple(padding[0])), (1, dilation[0]))
    plan = _plan_of(tuple(shape[:2]) + (1,) + tuple(shape[2:]), (1,) + tuple(kernel),
                    *geometry)
    return geometry if _direct(plan, dtype, name, cg, og) is not None else None


def _direct_padded(x, plan):
    """x (N, C, H, W) zero-padded into a workspace (N, C, PH, PW), readable past its end as far
    as the kernels' last vector loads reach; returns the array and its address."""
    n, c = x.shape[:2]
    size = n * c * plan.plane
    slack = 2 * _VECTOR // x.itemsize + (plan.kernel[1] - 1) * plan.dilation[1]
    buf = _workspace("direct", (size + slack,), x.dtype)
    xp = buf[:size].reshape((n, c) + plan.padded)
    _zero_border(xp, 2, plan.padding, x.shape[2:])
    buf[size:] = 0
    xp[plan.interior(2)] = x
    return xp, buf.ctypes.data


_FLOPS_PER_THREAD = 4e6   # below this a thread costs more to start than it saves


def _threads(flops):
    """OS threads for a direct kernel of ``flops``: corelib.get_num_threads() for large ones."""
    from corelib import get_num_threads
    return max(1, min(get_num_threads(), int(flops // _FLOPS_PER_THREAD)))


def _check(code, op):
    """A compiled kernel's return code as an exception (0: done)."""
    if code == -2:
        raise MemoryError(f"{op}(): out of memory for the direct kernel's scratch")
    if code:
        raise RuntimeError(f"{op}(): the direct kernel rejected its arguments (code {code})")


def _group_offsets(groups, *per_group):
    """Byte offsets of group gi in arrays whose groups are ``per_group`` bytes apart."""
    return [[gi * step for step in per_group] for gi in range(groups)]


def _direct_convolution(fn, x, w, b, plan, groups):
    n, c = x.shape[:2]
    o = w.shape[0]
    (ph, pw), (kh, kw), (dh, dw), (oh, ow) = plan.padded, plan.kernel, plan.dilation, plan.out
    out = np.empty((n, o, oh, ow), x.dtype)
    rows = 2 * ow * x.itemsize >= 3 * _VECTOR
    # flat: planes computed as one row of oh * pw outputs (the wide grid), then cropped
    dest, kh_out, kw_out = (out, oh, ow) if rows else \
        (_workspace("gemm", (n, o, oh, pw), x.dtype), 1, oh * pw)
    _, xaddr = _direct_padded(x, plan)
    w = np.ascontiguousarray(w)
    b = None if b is None else np.ascontiguousarray(b)
    cg, og, it, p = c // groups, o // groups, x.itemsize, kh_out * kw_out
    threads = _threads(2.0 * n * og * p * cg * kh * kw)
    for dx, dwt, db, do in _group_offsets(groups, cg * ph * pw * it, og * cg * kh * kw * it,
                                          og * it, og * p * it):
        _check(fn(xaddr + dx, w.ctypes.data + dwt, None if b is None else b.ctypes.data + db,
                  dest.ctypes.data + do, n, cg, ph, pw, og, kh, kw, dh, dw, kh_out, kw_out,
                  c * ph * pw, o * p, threads), "convolution")
    if not rows:
        out[...] = dest[..., :ow]
    return out


def _direct_weight_grad(fn, x, g, weight_shape, plan, groups):
    """The weight gradient kernel reads whole vectors: g's rows are widened with zeros to a
    multiple of the vector width (a copy only when they are not already)."""
    n, c = x.shape[:2]
    o = g.shape[1]
    (ph, pw), (kh, kw), (dh, dw), (oh, ow) = plan.padded, plan.kernel, plan.dilation, plan.out
    lanes = _VECTOR // x.itemsize
    gw_ = -(-ow // lanes) * lanes
    if gw_ != ow or not g.flags.c_contiguous:
        wide = _workspace("gwide", (n, o, oh, gw_), g.dtype)
        wide[..., ow:] = 0
        wide[..., :ow] = g
        g = wide
    _, xaddr = _direct_padded(x, plan)
    grad = np.zeros(weight_shape, x.dtype)
    cg, og, it = c // groups, o // groups, x.itemsize
    threads = _threads(2.0 * n * og * oh * gw_ * cg * kh * kw)
    for dx, dg, dwt in _group_offsets(groups, cg * ph * pw * it, og * oh * gw_ * it,
                                      og * cg * kh * kw * it):
        _check(fn(xaddr + dx, g.ctypes.data + dg, grad.ctypes.data + dwt, n, cg, ph, pw, og,
                  kh, kw, dh, dw, oh, gw_, c * ph * pw, o * oh * gw_, threads),
               "convolution_backward_weight")
    return grad


def convolution(x, w, b, stride, padding, dilation, groups, input_shape=None,
                weight_shape=None):
    """N-d convolution; the shapes are for the derivative rule and unused here."""
    n, c = x.shape[:2]
    o = w.shape[0]
    kernel = tuple(w.shape[2:])
    as_2d = _direct_1d(x.shape, kernel, stride, padding, dilation, x.dtype, "forward",
                       c // groups, o // groups)
    if as_2d is not None:
        return convolution(x[:, :, None], w[:, :, None], b, *as_2d, groups)[:, :, 0]
    plan = _plan_of(x.shape, kernel, stride, padding, dilation)
    dt = x.dtype
    out = np.empty((n, o) + plan.out, dt)
    og, ck = o // groups, w[0].size
    wm = w.reshape(groups, og, ck)
    p = _prod(plan.out)
    if out.size == 0:
        return out
    if ck == 0:
        out[...] = 0 if b is None else b.reshape((o,) + (1,) * plan.nsp)
        return out
    direct = _direct(plan, dt, "forward", c // groups, og)
    if direct is not None:
        return _direct_convolution(direct, x, w, b, plan, groups)
    if _pointwise(kernel, stride, padding):
        np.matmul(wm, x.reshape(n, groups, c // groups, p), out=out.reshape(n, groups, og, p))
        if b is not None:
            out.reshape(n, o, p)[...] += b.reshape(o, 1)
        return out
    nb = plan.chunk(n, c, dt.itemsize)
    for n0 in range(0, n, nb):
        m = min(nb, n - n0)
        cols = _columns(x, n0, m, plan)
        gemm = _workspace("gemm", (groups, og, m * plan.L), dt)
        np.matmul(wm, cols.reshape(groups, ck, m * plan.L), out=gemm)
        valid = gemm.reshape((o, m) + plan.wide)[plan.crop(2)].swapaxes(0, 1)
        if b is None:
            out[n0:n0 + m] = valid
        else:   # the bias added while copying out (one pass)
            np.add(valid, b.reshape((o,) + (1,) * plan.nsp), out=out[n0:n0 + m])
    return out


def _flip_transpose(w, groups):
    """(O, C/G, *K) -> (C, O/G, *K) with the kernel flipped: the weight of the transposed
    convolution at stride 1."""
    o, cg = w.shape[:2]
    kernel = w.shape[2:]
    wg = w.reshape((groups, o // groups, cg) + kernel).swapaxes(1, 2)
    wg = wg[(Ellipsis,) + (slice(None, None, -1),) * len(kernel)]
    return np.ascontiguousarray(wg).reshape((groups * cg, o // groups) + kernel)


def convolution_backward_input(g, w, input_shape, stride, padding, dilation, groups):
    """Gradient of conv w.r.t. its input (= transposed convolution of ``g`` with ``w``)."""
    n, o = g.shape[:2]
    input_shape = tuple(input_shape)
    c = input_shape[1]
    out_size = tuple(g.shape[2:])
    kernel = tuple(w.shape[2:])
    dt = g.dtype
    as_2d = _direct_1d(input_shape, kernel, stride, padding, dilation, dt, "forward",
                       o // groups, c // groups)
    if as_2d is not None:
        shape_2d = input_shape[:2] + (1,) + input_shape[2:]
        return convolution_backward_input(g[:, :, None], w[:, :, None], shape_2d, *as_2d,
                                          groups)[:, :, 0]
    plan = _plan_of(input_shape, kernel, stride, padding, dilation)
    if plan.flat and plan.out == out_size and n and c and o and _prod(input_shape[2:]):
        reach = [d * (k - 1) for k, d in zip(kernel, dilation)]
        flipped = o <= 2 * c or _direct(plan, dt, "forward", o // groups, c // groups)
        if flipped and all(lo <= r and hi <= r for (lo, hi), r in zip(padding, reach)):
            # up to twice the input channels (measured), or any when the convolution is
            # direct: a convolution of g with the flipped kernel, whose copies are plain column
            # runs (faster than shifted adds)
            pads = tuple((r - lo, r - hi) for (lo, hi), r in zip(padding, reach))
            return convolution(g, _flip_transpose(w, groups), None, stride, pads, dilation,
                               groups)
        # columns = W^T g, each kernel position's columns added onto the padded gradient
        og, cg = o // groups, w.shape[1]
        wt = w.reshape(groups, og, cg * len(plan.positions)).swapaxes(1, 2)
        gx = np.empty(input_shape, dt)
        nb = plan.chunk(n, c, dt.itemsize)
        size_per = c * plan.plane
        for n0 in range(0, n, nb):
            m = min(nb, n - n0)
            gw = _wide_grad(g, n0, m, plan)
            cols = _workspace("cols", (groups, cg * len(plan.positions), m * plan.L), dt)
            np.matmul(wt, gw.reshape(groups, og, m * plan.L), out=cols)
            cols = cols.reshape((c, len(plan.positions), m, plan.L))
            size = size_per * m
            acc = _workspace("pad", (size + plan.slack(),), dt)
            acc[...] = 0
            for k, shift in enumerate(plan.shifts):
                view = plan.shifted(acc, shift, c, m)
                view += cols[:, k]
            gx[n0:n0 + m] = acc[:size].reshape((c, m) + plan.padded)[
                plan.interior(2)].swapaxes(0, 1)
        return gx
    # strided: one GEMM to columns, then the columns summed onto the image
    last = _batch_last(n, out_size)
    wm = w.reshape(groups, o // groups, -1).transpose(0, 2, 1)              # (G, Cg*K, Og)
    cols = np.matmul(wm, _grad_matrix(g, groups, last))                     # (G, Cg*K, N*P)
    lead = (groups * w.shape[1],) + kernel
    cols = cols.reshape(lead + out_size + (n,) if last else lead + (n,) + out_size)
    return _col2im(cols, input_shape, kernel, stride, padding, dilation, last)


def convolution_backward_weight(x, g, weight_shape, stride, padding, dilation, groups):
    """Gradient of conv w.r.t. its weight: windows of ``x`` contracted with ``g``."""
    n, c = x.shape[:2]
    o = g.shape[1]
    kernel = tuple(weight_shape[2:])
    as_2d = _direct_1d(x.shape, kernel, stride, padding, dilation, x.dtype, "weight",
                       c // groups, o // groups)
    if as_2d is not None:
        shape_2d = tuple(weight_shape[:2]) + (1,) + tuple(weight_shape[2:])
        return convolution_backward_weight(x[:, :, None], g[:, :, None], shape_2d, *as_2d,
                                           groups)[:, :, 0]
    plan = _plan_of(x.shape, kernel, stride, padding, dilation)
    dt = x.dtype
    og, ck = o // groups, _prod(weight_shape[1:])
    p = _prod(plan.out)
    gw = np.zeros((groups, og, ck), dt)
    if n == 0 or p == 0 or ck == 0:
        return gw.reshape(weight_shape)
    direct = _direct(plan, dt, "weight", c // groups, og)
    if direct is not None:
        return _direct_weight_grad(direct, x, g, weight_shape, plan, groups)
    if _pointwise(kernel, stride, padding):
        prods = np.matmul(g.reshape(n, groups, og, p),
                          x.reshape(n, groups, c // groups, p).swapaxes(-1, -2))
        return prods.sum(0).reshape(weight_shape)
    nb = plan.chunk(n, c, dt.itemsize)
    for n0 in range(0, n, nb):
        m = min(nb, n - n0)
        cols = _columns(x, n0, m, plan)
        if plan.L != p:
            gs = _wide_grad(g, n0, m, plan)
        else:
            gs = _workspace("gwide", (o, m, p), dt)
            gs[...] = g[n0:n0 + m].reshape(m, o, p).swapaxes(0, 1)
        gw += np.matmul(gs.reshape(groups, og, m * plan.L),
                        cols.reshape(groups, ck, m * plan.L).swapaxes(-1, -2))
    return gw.reshape(weight_shape)


# the strided input gradient: channel-major columns (G, Cg*K, N*P) summed onto the image
def _grad_matrix(g, groups, batch_last):
    """g (N, O, *out) as (G, Og, N*P), or (G, Og, P*N) when ``batch_last``."""
    n, o = g.shape[:2]
    p = _prod(g.shape[2:])
    order = (1, 2, 3, 0) if batch_last else (1, 2, 0, 3)
    return g.reshape(n, groups, o // groups, p).transpose(order).reshape(
        groups, o // groups, n * p)


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

    Each kernel position's candidates are first copied into one contiguous (K, *out) block
    (ufuncs on strided views are several times slower than on contiguous ones); then a running
    max over positions where a later candidate wins only if strictly greater (the first maximum
    wins), with the winning position blended in arithmetically (masked writes are slow). NaN
    wins, at its last position in the window, as in PyTorch (`val > maxval || isnan(val)`)."""
    nsp = len(kernel_size)
    in_size = x.shape[-nsp:]
    out_size, extra = _pool_geometry(in_size, kernel_size, stride, padding, dilation, ceil_mode)
    lead = x.shape[:-nsp]
    if 0 in out_size or 0 in lead:
        return np.zeros(lead + out_size, dtype=np.int64)
    xp = _pad(x, [(p, p + e) for p, e in zip(padding, extra)], _lowest(x.dtype))
    positions = list(itertools.product(*(range(k) for k in kernel_size)))
    shape = lead + out_size
    cands = _workspace("pool", (len(positions),) + shape, x.dtype)
    for k, kpos in enumerate(positions):
        cands[k] = xp[(Ellipsis,) + _kernel_slices(kpos, stride, dilation, out_size)]
    small = np.int8 if len(positions) < 128 else np.int16 if len(positions) < 2 ** 15 \
        else np.int64
    best = cands[0].copy()
    arg = np.zeros(shape, small)
    mask = np.empty(shape, bool)
    step = np.empty(shape, small)
    for i in range(1, len(positions)):
        np.greater(cands[i], best, out=mask)
        np.maximum(best, cands[i], out=best)
        np.subtract(small(i), arg, out=step)
        step *= mask
        arg += step
    low = best == _lowest(x.dtype)
    if low.any():   # all candidates lowest: the first in-bounds one wins, never a pad (PyTorch)
        inside = _pad(np.ones(in_size, bool), [(p, p + e) for p, e in zip(padding, extra)],
                      False)
        first = np.argmax(np.stack([inside[_kernel_slices(kpos, stride, dilation, out_size)]
                                    for kpos in positions]), axis=0).astype(small)
        arg = np.where(low, first, arg)
    if x.dtype.kind == "f":
        nan = np.isnan(best)
        if nan.any():
            last = len(positions) - 1 - np.argmax(np.isnan(cands[::-1]), axis=0)
            arg = np.where(nan, last.astype(small), arg)
    start, offsets = _window_tables(tuple(in_size), tuple(out_size), tuple(kernel_size),
                                    tuple(stride), tuple(padding), tuple(dilation))
    return np.take(offsets, arg) + start


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
        flat_region = region.reshape(lead + (_prod(region.shape[len(lead):]),))   # lead may be 0
        best = flat_region.argmax(-1)
        if x.dtype.kind == "f":   # NaN wins at its last position in the window (PyTorch)
            isnan = np.isnan(flat_region)
            last = flat_region.shape[-1] - 1 - np.argmax(isnan[..., ::-1], axis=-1)
            best = np.where(isnan.any(-1), last, best)
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
# Sums over trailing dims of float32/float64 arrays are matrix-vector products with a vector of
# ones (BLAS): NumPy's reduction over a short last axis pays per row and is several times
# slower on the (rows, features) shapes of attention and layer norm.
@functools.lru_cache(maxsize=64)
def _ones(n, dtype):
    v = np.ones(n, dtype)
    v.flags.writeable = False
    return v


def _sum_keep(x, dim):
    """x.sum(dim, keepdims=True); trailing dims, or the batch dim with every dim after the
    channel dim (batch norm's statistics), as BLAS matrix-vector products."""
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    nd = x.ndim
    if x.dtype.kind == "f" and x.dtype.itemsize >= 4 and dims and x.size and \
            (x.flags.c_contiguous or nd == 1):
        ordered = sorted(d % nd for d in dims)
        if ordered == list(range(nd - len(dims), nd)):
            inner = _prod(x.shape[nd - len(dims):])
            shape = x.shape[:nd - len(dims)] + (1,) * len(dims)
            return np.matmul(x.reshape(-1, inner), _ones(inner, x.dtype)).reshape(shape)
        if nd > 2 and ordered == [0] + list(range(2, nd)):
            inner = _prod(x.shape[2:])
            rows = np.matmul(x.reshape(-1, inner), _ones(inner, x.dtype))
            return rows.reshape(x.shape[:2]).sum(0).reshape((1, x.shape[1]) + (1,) * (nd - 2))
    return x.sum(dims, keepdims=True)


def _mean_keep(x, dim):
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    count = _prod(x.shape[d] for d in dims)
    total = _sum_keep(x, dims)
    total /= x.dtype.type(count) if count else x.dtype.type(np.nan)
    return total


def softmax(x, dim):
    if x.size == 0:
        return x.copy()
    e = np.subtract(x, x.max(dim, keepdims=True))
    np.exp(e, out=e)
    e /= _sum_keep(e, dim)
    return e


def log_softmax(x, dim):
    if x.size == 0:
        return x.copy()
    shifted = x - x.max(dim, keepdims=True)
    shifted -= np.log(_sum_keep(np.exp(shifted), dim))
    return shifted


def softmax_backward_data(g, out, dim):
    gy = np.multiply(g, out)                    # out * (g - sum(g * out))
    gy -= out * _sum_keep(gy, dim)
    return gy


def log_softmax_backward_data(g, out, dim):
    e = np.exp(out)
    e *= _sum_keep(g, dim)
    return np.subtract(g, e, out=e)


# ---------------------------------------------------------------------------------------------
# normalization: (x - mean) / sqrt(var + eps) over ``dim``
def _moments(x, dim, eps):
    xc = x - _mean_keep(x, dim)
    var = _mean_keep(np.square(xc), dim)
    var += x.dtype.type(eps)
    np.sqrt(var, out=var)
    return xc, np.reciprocal(var, out=var)


def normalize(x, dim, eps):
    if x.size == 0:
        return x.copy()
    xc, rstd = _moments(x, dim, eps)
    xc *= rstd
    return xc


def normalize_backward(g, x, dim, eps):
    if x.size == 0:
        return g.copy()
    xhat, rstd = _moments(x, dim, eps)
    xhat *= rstd
    gx = np.multiply(g, xhat)
    mgx = _mean_keep(gx, dim)
    np.multiply(xhat, mgx, out=gx)
    gx += _mean_keep(g, dim)
    np.subtract(g, gx, out=gx)
    gx *= rstd
    return gx


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
    """(safe, keep): target with ignored entries as class 0, and the mask of the others (None
    when nothing is ignored); IndexError for a target out of range."""
    if target.size:
        lo, hi = target.min(), target.max()
        if 0 <= lo and hi < num_classes and not lo <= ignore_index <= hi:
            return target, None
    keep = target != ignore_index
    safe = np.where(keep, target, 0)
    if safe.size and (safe.min() < 0 or safe.max() >= num_classes):
        bad = safe[(safe < 0) | (safe >= num_classes)].flat[0]
        raise IndexError(f"Target {bad} is out of bounds.")
    return safe, keep


def _class_index(safe):
    """Index of x[n, safe[n, ...], ...] for x (N, C, *d) and safe (N, *d)."""
    nd = safe.ndim
    lead = [np.arange(s).reshape((-1,) + (1,) * (nd - 1 - i)) for i, s in enumerate(safe.shape)]
    return (lead[0], safe) + tuple(lead[1:])


def class_gather(x, target, ignore_index):
    """x[n, target[n, ...], ...] (0 where target == ignore_index); x is (N, C, *d)."""
    safe, keep = _targets(target, x.shape[1], ignore_index)
    picked = x[_class_index(safe)]
    return picked if keep is None else picked * keep


def class_scatter(g, target, num_classes, ignore_index):
    """The transpose of class_gather: g placed at the target class of zeros (N, C, *d)."""
    safe, keep = _targets(target, num_classes, ignore_index)
    out = np.zeros((g.shape[0], num_classes) + g.shape[1:], dtype=g.dtype)
    out[_class_index(safe)] = g if keep is None else g * keep
    return out


def _kept(target, ignore_index):
    return np.count_nonzero(target != ignore_index)


def nll_loss(x, target, ignore_index, reduction):
    picked = class_gather(x, target, ignore_index)
    if reduction == "none":
        return np.negative(picked, out=picked)
    total = -picked.sum(dtype=x.dtype)
    if reduction == "mean":
        total = total / x.dtype.type(_kept(target, ignore_index))
    return np.asarray(total, dtype=x.dtype)


def nll_loss_backward(g, target, num_classes, ignore_index, reduction):
    scale = -g
    if reduction == "mean":
        scale = scale / g.dtype.type(_kept(target, ignore_index))
    return class_scatter(np.broadcast_to(scale, target.shape), target, num_classes,
                         ignore_index)


def _stack_matmul(a, b):
    """a (..., k) @ b (k, m) as one GEMM on the flattened stack (NumPy's matmul of an N-d
    stack is one small GEMM per matrix, several times slower); non-contiguous stacks (e.g.
    batch-first sequences seen time-major) are copied once."""
    if a.ndim > 2 and a.size:
        return np.matmul(a.reshape(-1, a.shape[-1]), b).reshape(a.shape[:-1] + b.shape[-1:])
    return np.asarray(np.matmul(a, b))


def linear_backward_input(g, w):
    return _stack_matmul(g, w)


def linear_backward_weight(g, x):
    return np.matmul(g.reshape(-1, g.shape[-1]).T, x.reshape(-1, x.shape[-1]))


def linear(x, w, b):
    out = _stack_matmul(x, w.T)
    if b is not None:
        out += b
    return out


# ---------------------------------------------------------------------------------------------
# scaled dot-product attention: batched GEMMs and one in-place masked softmax over the scores
@functools.lru_cache(maxsize=32)
def _causal_bias(lq, lk, dtype):
    """Additive (L, S) causal mask: 0 where j <= l, -inf above the diagonal."""
    bias = np.zeros((lq, lk), dtype)
    bias[np.triu_indices(lq, 1, lk)] = -np.inf
    bias.flags.writeable = False
    return bias


def scaled_dot_product_attention(q, k, v, mask, scale, is_causal):
    """(out, probs) of softmax(q @ k^T * scale + mask) @ v; rows masked everywhere give 0."""
    dt = q.dtype
    s = np.matmul(q, k.swapaxes(-1, -2))
    s *= dt.type(scale)
    masked = is_causal or mask is not None
    if mask is not None:
        if mask.dtype == np.bool_:
            np.copyto(s, dt.type(-np.inf), where=np.logical_not(mask))
        else:
            s += mask
    if is_causal:
        s += _causal_bias(s.shape[-2], s.shape[-1], dt)
    if s.size:
        top = s.max(-1, keepdims=True)
        if masked:
            top[np.isneginf(top)] = 0
        s -= top
        np.exp(s, out=s)
        total = _sum_keep(s, -1)
        if masked:
            total[total == 0] = 1
        s /= total
    return np.matmul(s, v), s


def scaled_dot_product_attention_backward(g, q, k, v, probs, scale, mask_grad):
    """(dq, dk, dv, ds): ds = p * (dp - rowsum(dp * p)) with dp = g @ v^T."""
    dt = q.dtype
    dv = np.matmul(probs.swapaxes(-1, -2), g)
    ds = np.matmul(g, v.swapaxes(-1, -2))
    if ds.size:
        ds -= _sum_keep(ds * probs, -1)
    ds *= probs
    dq = np.matmul(ds, k)
    dq *= dt.type(scale)
    dk = np.matmul(ds.swapaxes(-1, -2), q)
    dk *= dt.type(scale)
    return dq, dk, dv, (ds if mask_grad else None)


# ---------------------------------------------------------------------------------------------
# fused activation gradients
def threshold_backward(g, x, threshold):
    """g where x > threshold, else 0 (one multiply by the boolean mask; ``out=...`` keeps a
    0-d result an array)."""
    return np.multiply(g, np.greater(x, x.dtype.type(threshold)), out=...)


# ---------------------------------------------------------------------------------------------
# layer norm over the trailing dims: rows of length n; row sums as BLAS matrix-vector products
# (float16 computes in float32, as PyTorch does)
def _upcast_call(fn, arrays, **params):
    up = [None if a is None else a.astype(np.float32) for a in arrays]
    return tuple(None if r is None else r.astype(np.float16) for r in fn(*up, **params))


def layer_norm(x, weight, bias, normalized_ndim, eps):
    """(y, mean, rstd): y = (x - mean) * rstd * weight + bias, rstd = 1 / sqrt(var + eps)."""
    if x.dtype == np.float16:
        return _upcast_call(layer_norm, (x, weight, bias), normalized_ndim=normalized_ndim,
                            eps=eps)
    lead = x.shape[:x.ndim - normalized_ndim]
    dt = x.dtype
    n = _prod(x.shape[x.ndim - normalized_ndim:])
    if x.size == 0:
        nan = np.full(lead, np.nan, dt)
        return np.empty_like(x), nan, nan.copy()
    x2 = x.reshape(-1, n)
    ones, inv_n = _ones(n, dt), dt.type(1.0 / n)
    mean = np.matmul(x2, ones)
    mean *= inv_n
    y = np.subtract(x2, mean[:, None])
    rstd = np.matmul(np.square(y), ones)
    rstd *= inv_n
    rstd += dt.type(eps)
    np.sqrt(rstd, out=rstd)
    np.reciprocal(rstd, out=rstd)
    y *= rstd[:, None]
    if weight is not None:
        y *= weight.reshape(-1)
    if bias is not None:
        y += bias.reshape(-1)
    return y.reshape(x.shape), mean.reshape(lead), rstd.reshape(lead)


def layer_norm_backward(g, x, mean, rstd, weight, normalized_ndim, input_grad, weight_grad,
                        bias_grad):
    """(dx, dweight, dbias), each None unless asked for."""
    flags = dict(normalized_ndim=normalized_ndim, input_grad=input_grad,
                 weight_grad=weight_grad, bias_grad=bias_grad)
    if x.dtype == np.float16:
        return _upcast_call(layer_norm_backward, (g, x, mean, rstd, weight), **flags)
    dt = x.dtype
    trailing = x.shape[x.ndim - normalized_ndim:]
    n = _prod(trailing)
    if x.size == 0:
        return (np.empty_like(x) if input_grad else None,
                np.zeros(trailing, dt) if weight_grad else None,
                np.zeros(trailing, dt) if bias_grad else None)
    x2, g2 = x.reshape(-1, n), g.reshape(-1, n)
    down = _ones(x2.shape[0], dt)                        # column sums: ones @ rows
    r = rstd.reshape(-1, 1)
    xhat = np.subtract(x2, mean.reshape(-1, 1))
    xhat *= r
    db = np.matmul(down, g2).reshape(trailing) if bias_grad else None
    dw = np.matmul(down, np.multiply(g2, xhat)).reshape(trailing) if weight_grad else None
    if not input_grad:
        return None, dw, db
    gw = g2 * weight.reshape(-1) if weight is not None else g2
    ones, inv_n = _ones(n, dt), dt.type(1.0 / n)
    c1 = np.matmul(gw, ones)
    c1 *= inv_n
    c2 = np.matmul(gw * xhat, ones)
    c2 *= inv_n
    xhat *= c2[:, None]                                  # dx = (gw - c1 - xhat * c2) * rstd
    xhat += c1[:, None]
    dx = np.subtract(gw, xhat, out=xhat)
    dx *= r
    return dx.reshape(x.shape), dw, db

# ---------------------------------------------------------------------------------------------
# batch norm in training: statistics of each channel (dim 1) over every other dim, sums as
# BLAS matrix-vector products (_sum_keep); float16 computes in float32
def batch_norm(x, weight, bias, eps):
    """(y, mean, var): y = (x - mean) / sqrt(var + eps) * weight + bias, var biased."""
    if x.dtype == np.float16:
        return _upcast_call(batch_norm, (x, weight, bias), eps=eps)
    dt, c = x.dtype, x.shape[1]
    if x.size == 0:
        nan = np.full(c, np.nan, dt)
        return np.empty_like(x), nan, nan.copy()
    x = np.ascontiguousarray(x)
    dims, inv_n = _channel_dims(x.ndim), dt.type(c / x.size)
    mean = _sum_keep(x, dims)
    mean *= inv_n
    y = np.subtract(x, mean)
    var = _sum_keep(np.square(y), dims)
    var *= inv_n
    scale = np.sqrt(var + dt.type(eps))
    np.reciprocal(scale, out=scale)
    if weight is not None:
        scale *= weight.reshape(scale.shape)
    y *= scale
    if bias is not None:
        y += bias.reshape(scale.shape)
    return y, mean.reshape(c), var.reshape(c)


def batch_norm_backward(g, x, mean, var, weight, eps, input_grad, weight_grad, bias_grad):
    """(dx, dweight, dbias), each None unless asked for:
    dx = weight * rstd * (g - mean(g) - xhat * mean(g * xhat)), xhat = (x - mean) * rstd."""
    flags = dict(eps=eps, input_grad=input_grad, weight_grad=weight_grad, bias_grad=bias_grad)
    if x.dtype == np.float16:
        return _upcast_call(batch_norm_backward, (g, x, mean, var, weight), **flags)
    dt, c = x.dtype, x.shape[1]
    if x.size == 0:
        return (np.empty_like(x) if input_grad else None,
                np.zeros(c, dt) if weight_grad else None, np.zeros(c, dt) if bias_grad else None)
    g, x = np.ascontiguousarray(g), np.ascontiguousarray(x)
    dims, n = _channel_dims(x.ndim), x.size // c
    shape = (1, c) + (1,) * (x.ndim - 2)
    rstd = np.reciprocal(np.sqrt(var + dt.type(eps))).reshape(shape)
    xc = np.subtract(x, mean.reshape(shape))
    sum_g = _sum_keep(g, dims)
    sum_gxhat = _sum_keep(np.multiply(g, xc), dims)      # sum(g * xhat) = this * rstd
    sum_gxhat *= rstd
    db = sum_g.reshape(c) if bias_grad else None
    dw = sum_gxhat.reshape(c) if weight_grad else None
    if not input_grad:
        return None, dw, db
    a = rstd if weight is None else rstd * weight.reshape(shape)
    # dx = a * g - a * rstd * mean(g * xhat) * xc - a * mean(g)
    xc *= a * rstd * sum_gxhat / dt.type(n)
    dx = np.multiply(g, a)
    dx -= xc
    dx -= a * sum_g / dt.type(n)
    return dx, dw, db


def _channel_dims(nd):
    return (0,) + tuple(range(2, nd))


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
    "scaled_dot_product_attention": scaled_dot_product_attention,
    "scaled_dot_product_attention_backward": scaled_dot_product_attention_backward,
    "threshold_backward": threshold_backward,
    "layer_norm": layer_norm,
    "layer_norm_backward": layer_norm_backward,
    "batch_norm": batch_norm,
    "batch_norm_backward": batch_norm_backward,
}
