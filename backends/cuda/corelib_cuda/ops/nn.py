"""nn kernels: convolution, pooling, embedding, linear, one-hot, attention, layer norm and
ReLU's gradient (kernels/conv.cu, pool.cu, embedding.cu, attention.cu, fused.cu).

Convolution is the im2col kernel plus one batched cuBLAS matmul (groups and batch are matmul
batch axes); its input gradient is a matmul plus the col2im kernel (a per-element gather, so no
atomics), its weight gradient im2col plus a matmul. Spatial ops take up to three spatial dims;
``padding`` arrives as ((lo, hi), ...) for convolutions and unfold/fold, as ints for pools.
Max pools only compute indices (flat positions in each input plane); pool_gather reads the
values and pool_scatter (atomicAdd) is its transpose. Linear layers are cuBLAS matmuls plus the
elementwise add kernel for the bias. Scaled dot-product attention is two cuBLAS matmuls around
one in-place masked-softmax row kernel each way; layer norm one row kernel forward, a row
kernel (dx) plus a column kernel (dweight, dbias) backward.
"""
from __future__ import annotations

import math

import numpy as np

from .. import sources
from ._util import (ALL, BLOCK, CTYPE, FLOATS, NUMERIC, empty, f64, grid_for, i32, i64, launch,
                    layout, device_int64, xp)
from .elementwise import KERNELS as _ELEMENTWISE, astype, contiguous_copy, copy_into
from .norm import normalize, normalize_backward
from .reduction import KERNELS as _REDUCTIONS, row_config, split_layout

MAX_SPATIAL = 3            # NN_MAX_SPATIAL in kernels/nn_window.cuh
INDEX_DTYPES = ("int32", "int64")
_ACC = {"float16": "float32", "float32": "float32", "float64": "float64"}   # atomicAdd types
_add = _ELEMENTWISE["add"]
_mul = _ELEMENTWISE["mul"]


# ---------------------------------------------------------------------------------------------
# sources: one instantiation line per kernel and dtype
def _lines(macro, name, dtypes, index_dtypes=None):
    """``macro(name_dt, T)`` per dtype, or ``macro(name_dt_it, T, I)`` per dtype and index
    dtype."""
    if index_dtypes is None:
        return [f"{macro}({name}_{dt}, {CTYPE[dt]})" for dt in dtypes]
    return [f"{macro}({name}_{dt}_{it}, {CTYPE[dt]}, {CTYPE[it]})"
            for dt in dtypes for it in index_dtypes]


def _conv_source():
    return "\n".join(_lines("IM2COL_KERNEL", "im2col", NUMERIC)
                     + _lines("COL2IM_KERNEL", "col2im", NUMERIC)) + "\n"


def _pool_source():
    lines = (_lines("MAX_POOL_INDICES_KERNEL", "max_pool_indices", NUMERIC)
             + _lines("ADAPTIVE_MAX_POOL_INDICES_KERNEL", "adaptive_max_pool_indices", NUMERIC)
             + _lines("POOL_GATHER_KERNEL", "pool_gather", NUMERIC)
             + _lines("AVG_POOL_KERNEL", "avg_pool", FLOATS)
             + _lines("AVG_POOL_BACKWARD_KERNEL", "avg_pool_backward", FLOATS)
             + [f"POOL_SCATTER_KERNEL(pool_scatter_{dt}, {CTYPE[dt]}, {CTYPE[_ACC[dt]]})"
                for dt in FLOATS])
    return "\n".join(lines) + "\n"


def _embedding_source():
    lines = (_lines("EMBEDDING_KERNEL", "embedding", ALL, INDEX_DTYPES)
             + _lines("EMBEDDING_RENORM_KERNEL", "embedding_renorm", FLOATS, INDEX_DTYPES)
             + [f"EMBEDDING_BACKWARD_KERNEL(embedding_backward_{dt}_{it}, {CTYPE[dt]}, "
                f"{CTYPE[it]}, {CTYPE[_ACC[dt]]})" for dt in FLOATS for it in INDEX_DTYPES])
    return "\n".join(lines) + "\n"


sources.register("conv", "conv.cu", _conv_source)
sources.register("pool", "pool.cu", _pool_source)
sources.register("embedding", "embedding.cu", _embedding_source)


# ---------------------------------------------------------------------------------------------
# helpers
def _prod(xs):
    return math.prod(int(v) for v in xs)


def _strides(arr):
    """Element strides of ``arr``."""
    return tuple(s // arr.itemsize for s in arr.strides)


def _dtype(op, arr, dtypes):
    dt = arr.dtype.name
    if dt not in dtypes:
        raise TypeError(f'"{op}" has no CUDA kernel for dtype {dt}')
    return dt


def _contiguous(arr):
    return arr if arr.flags.c_contiguous else contiguous_copy(arr)


def _window(in_size, out_size, kernel=(), stride=(), pad=(), dilation=(), a=(), b=()):
    """The device meta array of a Window (kernels/nn_window.cuh); missing fields are 0."""
    nsp = len(in_size)
    if nsp > MAX_SPATIAL:
        raise NotImplementedError(f"CUDA nn kernels support at most {MAX_SPATIAL} spatial "
                                  f"dims, got {nsp}")
    fields = [in_size, out_size, kernel, stride, pad, dilation]
    values = [v for f in fields for v in (tuple(f) or (0,) * nsp)]
    for strides in (a, b):
        values += list(strides) + [0] * (nsp + 2 - len(strides))
    return device_int64(tuple(int(v) for v in values))


def _run(source, name, total, args):
    """Launch a grid-stride kernel over ``total`` items (nothing to do when empty)."""
    if total:
        launch(sources.kernel(source, name), (grid_for(total),), (BLOCK,), args)


# ---------------------------------------------------------------------------------------------
# convolution: columns (N, C*K, P) -- or (C*K, N, P) for the weight gradient -- and one matmul
def _conv_out(size, k, s, d):
    return max((size - d * (k - 1) - 1) // s + 1, 0)


def _im2col_into(x, cols, col_strides, kernel, stride, padding, dilation, out_size):
    """Write the sliding windows of ``x`` (N, C, *S) into ``cols`` (strides (n, row, pos))."""
    n, c = x.shape[:2]
    dt = _dtype("im2col", x, NUMERIC)
    meta = _window(x.shape[2:], out_size, kernel, stride, [lo for lo, _ in padding], dilation,
                   _strides(x), col_strides)
    _run("conv", f"im2col_{dt}", n * c * _prod(kernel) * _prod(out_size),
         (x, cols, meta, i32(len(kernel)), i64(n), i64(c)))
    return cols


def _col2im(cols, input_shape, kernel, stride, padding, dilation, out_size):
    """Sum columns (N, C*K, P) (any strides) onto a new contiguous (N, C, *S) image."""
    n, c = input_shape[:2]
    dt = _dtype("col2im", cols, NUMERIC)
    x = empty(input_shape, dt)
    meta = _window(input_shape[2:], out_size, kernel, stride, [lo for lo, _ in padding],
                   dilation, (), _strides(cols))
    _run("conv", f"col2im_{dt}", x.size, (cols, x, meta, i32(len(kernel)), i64(n), i64(c)))
    return x


def _conv_out_size(x_shape, kernel, stride, padding, dilation):
    return tuple(_conv_out(x_shape[2 + i] + sum(padding[i]), kernel[i], stride[i], dilation[i])
                 for i in range(len(kernel)))


def convolution(x, w, b, stride, padding, dilation, groups, input_shape=None,
                weight_shape=None):
    """N-d convolution: im2col, then (G, Og, Cg*K) @ (N, G, Cg*K, P) on cuBLAS."""
    n, c = x.shape[:2]
    o, kernel = w.shape[0], tuple(w.shape[2:])
    out_size = _conv_out_size(x.shape, kernel, stride, padding, dilation)
    p, ck, k = _prod(out_size), _prod(w.shape[1:]), _prod(kernel)
    cols = empty((n, c * k, p), x.dtype)
    _im2col_into(x, cols, (c * k * p, p, 1), kernel, stride, padding, dilation, out_size)
    out = xp().matmul(w.reshape(groups, o // groups, ck),      # array API: cuBLAS matmul
                      cols.reshape(n, groups, ck, p))
    out = out.reshape((n, o) + out_size)
    if b is not None:
        _add(out, b.reshape((o,) + (1,) * len(kernel)), out=out)
    return out


def convolution_backward_input(g, w, input_shape, stride, padding, dilation, groups):
    """Gradient of conv w.r.t. its input: (G, Cg*K, Og) @ (N, G, Og, P), then col2im."""
    n, o = g.shape[:2]
    out_size, kernel = tuple(g.shape[2:]), tuple(w.shape[2:])
    p, ck = _prod(out_size), _prod(w.shape[1:])
    wt = w.reshape(groups, o // groups, ck).transpose(0, 2, 1)
    cols = xp().matmul(wt, g.reshape(n, groups, o // groups, p))   # array API: cuBLAS matmul
    cols = cols.reshape(n, groups * ck, p)
    return _col2im(cols, tuple(input_shape), kernel, stride, padding, dilation, out_size)


def convolution_backward_weight(x, g, weight_shape, stride, padding, dilation, groups):
    """Gradient of conv w.r.t. its weight: (G, Og, N*P) @ columns (G, N*P, Cg*K)."""
    n, c = x.shape[:2]
    o, kernel = weight_shape[0], tuple(weight_shape[2:])
    out_size = tuple(g.shape[2:])
    p, k = _prod(out_size), _prod(kernel)
    cols = empty((c * k, n, p), x.dtype)
    _im2col_into(x, cols, (p, n * p, 1), kernel, stride, padding, dilation, out_size)
    if n == 1:
        gt = g.reshape((o, n) + out_size)
    else:
        gt = copy_into(empty((o, n) + out_size, g.dtype), g.swapaxes(0, 1))
    ck = c // groups * k
    gw = xp().matmul(gt.reshape(groups, o // groups, n * p),     # array API: cuBLAS matmul
                     cols.reshape(groups, ck, n * p).transpose(0, 2, 1))
    return gw.reshape(tuple(weight_shape))


def im2col(x, kernel_size, stride, padding, dilation):
    """F.unfold: (N, C, *S) -> (N, C*prod(kernel), L)."""
    n, c = x.shape[:2]
    out_size = _conv_out_size(x.shape, kernel_size, stride, padding, dilation)
    k, p = _prod(kernel_size), _prod(out_size)
    cols = empty((n, c * k, p), x.dtype)
    return _im2col_into(x, cols, (c * k * p, p, 1), kernel_size, stride, padding, dilation,
                        out_size)


def col2im(cols, output_size, kernel_size, stride, padding, dilation):
    """F.fold: (N, C*prod(kernel), L) -> (N, C, *output_size), overlapping windows summed."""
    n = cols.shape[0]
    c = cols.shape[1] // _prod(kernel_size)
    shape = (n, c) + tuple(output_size)
    out_size = _conv_out_size(shape, kernel_size, stride, padding, dilation)
    return _col2im(cols, shape, kernel_size, stride, padding, dilation, out_size)


# ---------------------------------------------------------------------------------------------
# pooling
def _pool_out(shape, kernel, stride, padding, dilation, ceil_mode):
    """PyTorch's pooling output size (a last ceil_mode window must start inside the input)."""
    out = []
    for n, k, s, p, d in zip(shape, kernel, stride, padding, dilation):
        span = n + 2 * p - d * (k - 1) - 1
        o = (-(-span // s) if ceil_mode else span // s) + 1
        if ceil_mode and (o - 1) * s >= n + p:
            o -= 1
        out.append(max(o, 0))
    return tuple(out)


def _planes(x, nsp):
    """``x`` (*lead, *S) as (N, C, *S) (a view unless the lead dims do not merge), and lead."""
    lead = tuple(x.shape[:x.ndim - nsp])
    if len(lead) == 2:
        return x, lead
    planes = (_prod(lead[:-1]), lead[-1]) if lead else (1, 1)
    return x.reshape(planes + tuple(x.shape[x.ndim - nsp:])), lead


def max_pool_indices(x, kernel_size, stride, padding, dilation, ceil_mode):
    """Flat (per-plane) input indices of the window maxima: the first maximum wins, NaN
    propagates."""
    dt = _dtype("max_pool_indices", x, NUMERIC)
    nsp = len(kernel_size)
    x4, lead = _planes(x, nsp)
    out_size = _pool_out(x.shape[-nsp:], kernel_size, stride, padding, dilation, ceil_mode)
    idx = empty(lead + out_size, "int64")
    meta = _window(x4.shape[2:], out_size, kernel_size, stride, padding, dilation, _strides(x4))
    _run("pool", f"max_pool_indices_{dt}", idx.size,
         (x4, idx, meta, i32(nsp), i64(x4.shape[0]), i64(x4.shape[1])))
    return idx


def adaptive_max_pool_indices(x, output_size):
    """Flat input indices of the maxima over PyTorch's adaptive windows."""
    dt = _dtype("adaptive_max_pool_indices", x, NUMERIC)
    nsp = len(output_size)
    x4, lead = _planes(x, nsp)
    idx = empty(lead + tuple(output_size), "int64")
    meta = _window(x4.shape[2:], output_size, a=_strides(x4))
    _run("pool", f"adaptive_max_pool_indices_{dt}", idx.size,
         (x4, idx, meta, i32(nsp), i64(x4.shape[0]), i64(x4.shape[1])))
    return idx


def pool_gather(x, indices, unique=False):
    """Values of ``x`` (N, C, *S) at per-plane flat ``indices`` (N, C, *O): max-pool forward."""
    dt = _dtype("pool_gather", x, NUMERIC)
    idx = _contiguous(indices)
    y = empty(idx.shape, dt)
    meta = _window(x.shape[2:], idx.shape[2:], a=_strides(x))
    _run("pool", f"pool_gather_{dt}", y.size,
         (x, idx, y, meta, i32(x.ndim - 2), i64(x.shape[0]), i64(x.shape[1])))
    return y


def pool_scatter(g, indices, input_shape, unique=False):
    """Sum ``g`` into zeros of ``input_shape`` at per-plane flat ``indices`` (max-pool backward;
    atomicAdd, or plain stores when the indices are ``unique``)."""
    dt = _dtype("pool_scatter", g, FLOATS)
    input_shape = tuple(input_shape)
    out = xp().zeros(input_shape, _ACC[dt])      # array API: zero fill
    if g.size:
        ndim, meta = layout(g.shape, (g, indices))
        launch(sources.kernel("pool", f"pool_scatter_{dt}"), (grid_for(g.size),), (BLOCK,),
               (g, indices, out, meta, i32(ndim), i64(g.size), i64(_prod(g.shape[2:])),
                i64(_prod(input_shape[2:])), i32(bool(unique))))
    return out if _ACC[dt] == dt else astype(out, dt)


def _avg_args(count_include_pad, divisor_override):
    return i32(bool(count_include_pad)), i64(int(divisor_override or 0))


def avg_pool(x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    dt = _dtype("avg_pool", x, FLOATS)
    nsp = len(kernel_size)
    ones = (1,) * nsp
    x4, lead = _planes(x, nsp)
    out_size = _pool_out(x.shape[-nsp:], kernel_size, stride, padding, ones, ceil_mode)
    y = empty(lead + out_size, dt)
    meta = _window(x4.shape[2:], out_size, kernel_size, stride, padding, ones, _strides(x4))
    _run("pool", f"avg_pool_{dt}", y.size,
         (x4, y, meta, i32(nsp), i64(x4.shape[0]), i64(x4.shape[1]),
          *_avg_args(count_include_pad, divisor_override)))
    return y


def avg_pool_backward(g, input_shape, kernel_size, stride, padding, ceil_mode,
                      count_include_pad, divisor_override):
    dt = _dtype("avg_pool_backward", g, FLOATS)
    nsp = len(kernel_size)
    g4, _ = _planes(g, nsp)
    dx = empty(tuple(input_shape), dt)
    meta = _window(tuple(input_shape[-nsp:]), g.shape[-nsp:], kernel_size, stride, padding,
                   (1,) * nsp, _strides(g4))
    _run("pool", f"avg_pool_backward_{dt}", dx.size,
         (g4, dx, meta, i32(nsp), i64(g4.shape[0]), i64(g4.shape[1]),
          *_avg_args(count_include_pad, divisor_override)))
    return dx


# ---------------------------------------------------------------------------------------------
# embedding and one-hot (indices outside [0, num) are not checked: see kernels/embedding.cu)
def _index(op, indices):
    _dtype(op, indices, INDEX_DTYPES)
    return _contiguous(indices)


def embedding(weight, indices, num_weights=None, padding_idx=None):
    dt = _dtype("embedding", weight, ALL)
    idx = _index("embedding", indices)
    num, dim = weight.shape
    out = empty(idx.shape + (dim,), dt)
    ws0, ws1 = _strides(weight)
    _run("embedding", f"embedding_{dt}_{idx.dtype.name}", out.size,
         (weight, idx, out, i64(idx.size), i64(dim), i64(num), i64(ws0), i64(ws1)))
    return out


def embedding_backward(g, indices, num_weights, padding_idx):
    """Rows of ``g`` summed (atomicAdd) into zeros (num_weights, dim) at ``indices``; the
    padding_idx row stays zero."""
    dt = _dtype("embedding_backward", g, FLOATS)
    idx = _index("embedding_backward", indices)
    dim = g.shape[-1]
    acc = xp().zeros((num_weights, dim), _ACC[dt])     # array API: zero fill
    if g.size:
        ndim, meta = layout(g.shape, (g,))
        launch(sources.kernel("embedding", f"embedding_backward_{dt}_{idx.dtype.name}"),
               (grid_for(g.size),), (BLOCK,),
               (g, idx, acc, meta, i32(ndim), i64(g.size), i64(dim), i64(num_weights),
                i64(-1 if padding_idx is None else padding_idx)))
    return acc if _ACC[dt] == dt else astype(acc, dt)


def embedding_renorm_(weight, indices, max_norm, norm_type):
    """Rescale (in place) the rows of ``weight`` used by ``indices`` to norm <= max_norm."""
    dt = _dtype("embedding_renorm_", weight, FLOATS)
    idx = _index("embedding_renorm_", indices)
    num, dim = weight.shape
    if idx.size == 0 or dim == 0:
        return weight
    claimed = xp().zeros(num, "int32")                # array API: zero fill
    block = min(256, 32 * -(-dim // 32))
    ws0, ws1 = _strides(weight)
    launch(sources.kernel("embedding", f"embedding_renorm_{dt}_{idx.dtype.name}"),
           (min(idx.size, 1024),), (block,),
           (weight, idx, claimed, i64(idx.size), i64(dim), i64(num), i64(ws0), i64(ws1),
            f64(max_norm), f64(norm_type)))
    return weight


def _index_range(idx):
    """(min, max) of a non-empty int64 array (one kernel, then a host read: a sync)."""
    bounds = xp().asarray(np.array([np.iinfo(np.int64).max, np.iinfo(np.int64).min]))
    launch(sources.kernel("embedding", "index_range"), (grid_for(idx.size),), (BLOCK,),
           (idx, i64(idx.size), bounds))
    lo, hi = bounds.tolist()
    return lo, hi


def one_hot(indices, num_classes):
    """int64 one-hot with a trailing class dim. num_classes=-1 infers max + 1 (this reads the
    indices' range on the host, as PyTorch does); otherwise nothing is checked."""
    idx = _contiguous(indices)
    if idx.dtype.name != "int64":
        raise TypeError(f'"one_hot" has no CUDA kernel for dtype {idx.dtype.name}')
    if num_classes < 0:
        if idx.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        lo, hi = _index_range(idx)
        if lo < 0:
            raise RuntimeError("Class values must be non-negative.")
        num_classes = hi + 1
    out = empty(idx.shape + (num_classes,), "int64")
    _run("embedding", "one_hot", out.size, (idx, out, i64(idx.size), i64(num_classes)))
    return out


# ---------------------------------------------------------------------------------------------
# linear layers: cuBLAS matmuls (array API), bias added by the elementwise kernel
def linear(x, w, b):
    out = xp().matmul(x, w.T)                  # array API: cuBLAS matmul
    if b is not None:
        _add(out, b, out=out)
    return out


def linear_backward_input(g, w):
    return xp().matmul(g, w)                   # array API: cuBLAS matmul


def linear_backward_weight(g, x):
    return xp().matmul(g.reshape(-1, g.shape[-1]).T,      # array API: cuBLAS matmul
                       x.reshape(-1, x.shape[-1]))


# ---------------------------------------------------------------------------------------------
# scaled dot-product attention: cuBLAS matmuls around the in-place row kernels of
# kernels/attention.cu (masked softmax forward, softmax gradient backward); the probabilities
# are kept for backward
sources.register("attention", "attention.cu",
                 lambda: "".join(f"ATTENTION_KERNELS({dt}, {CTYPE[dt]})\n" for dt in FLOATS))


def _attention_rows(s):
    """(rows, len) of a contiguous scores array, made contiguous if the matmul's was not."""
    s = s if s.flags.c_contiguous else contiguous_copy(s)
    lk = s.shape[-1]
    return s, (s.size // lk if lk else 0), lk


def scaled_dot_product_attention(q, k, v, mask, scale, is_causal):
    """(out, probs) of softmax(q @ k^T * scale + mask) @ v (see corelib/_ops/attention.py)."""
    dt = q.dtype.name
    if dt not in FLOATS:
        raise TypeError(f'"scaled_dot_product_attention" has no CUDA kernel for dtype {dt}')
    s, rows, lk = _attention_rows(xp().matmul(q, k.swapaxes(-1, -2)))   # cuBLAS matmul
    if rows and lk:
        operand = s if mask is None else mask
        nk, nr, meta, _ = split_layout(s.shape, (operand,), (s.ndim - 1,))
        grid, block = row_config(rows, lk)
        name = "attn_softmax_bool" if mask is not None and mask.dtype == np.bool_ else \
            "attn_softmax"
        launch(sources.kernel("attention", f"{name}_{dt}"), grid, block,
               (s, operand, meta, i32(nk), i32(nr), i64(rows), i64(lk), i64(s.shape[-2]),
                i32(mask is not None), i32(bool(is_causal)), f64(scale)))
    return xp().matmul(s, v), s                                          # cuBLAS matmul


def scaled_dot_product_attention_backward(g, q, k, v, probs, scale, mask_grad):
    """(dq, dk, dv, ds) from the saved probabilities."""
    dt = q.dtype.name
    dv = xp().matmul(probs.swapaxes(-1, -2), g)                          # cuBLAS matmuls
    ds, rows, lk = _attention_rows(xp().matmul(g, v.swapaxes(-1, -2)))
    if rows and lk:
        grid, block = row_config(rows, lk)
        launch(sources.kernel("attention", f"attn_softmax_backward_{dt}"), grid, block,
               (ds, probs, i64(rows), i64(lk)))
    dq = xp().matmul(ds, k)
    dk = xp().matmul(ds.swapaxes(-1, -2), q)
    _mul(dq, float(scale), out=dq)
    _mul(dk, float(scale), out=dk)
    return dq, dk, dv, (ds if mask_grad else None)


# ---------------------------------------------------------------------------------------------
# fused kernels (kernels/fused.cu): ReLU's gradient, layer norm and its backward
sources.register("fused", "fused.cu",
                 lambda: "".join(f"FUSED_KERNELS({dt}, {CTYPE[dt]})\n" for dt in FLOATS))


def threshold_backward(g, x, threshold):
    """g where x > threshold, else 0."""
    dt = g.dtype.name
    if dt not in FLOATS:
        raise TypeError(f'"threshold_backward" has no CUDA kernel for dtype {dt}')
    shape = np.broadcast_shapes(g.shape, x.shape)
    y = empty(shape, dt)
    n = y.size
    if n:
        ndim, meta = layout(shape, (g, x, y))
        launch(sources.kernel("fused", f"threshold_backward_{dt}"), (grid_for(n),), (BLOCK,),
               (g, x, y, meta, i32(ndim), i64(n), f64(threshold)))
    return y



def _ln_rows(x, normalized_ndim):
    n = 1
    for d in x.shape[x.ndim - normalized_ndim:]:
        n *= d
    return n, (x.size // n if n else 0)


def layer_norm(x, weight, bias, normalized_ndim, eps):
    """(y, mean, rstd) of layer norm over the trailing ``normalized_ndim`` dims (one kernel)."""
    dt = x.dtype.name
    if dt not in FLOATS:
        raise TypeError(f'"layer_norm" has no CUDA kernel for dtype {dt}')
    x, weight, bias = (None if a is None else a if a.flags.c_contiguous else contiguous_copy(a)
                       for a in (x, weight, bias))
    lead = x.shape[:x.ndim - normalized_ndim]
    n, rows = _ln_rows(x, normalized_ndim)
    y = empty(x.shape, dt)
    if not (rows and n):
        nan = xp().full(lead, np.nan, dtype=dt)
        return y, nan, xp().full(lead, np.nan, dtype=dt)
    mean, rstd = empty(lead, dt), empty(lead, dt)
    grid, block = row_config(rows, n)
    launch(sources.kernel("fused", f"layer_norm_{dt}"), grid, block,
           (x, x if weight is None else weight, x if bias is None else bias, y, mean, rstd,
            i64(rows), i64(n), f64(eps), i32(weight is not None), i32(bias is not None)))
    return y, mean, rstd


def layer_norm_backward(g, x, mean, rstd, weight, normalized_ndim, input_grad, weight_grad,
                        bias_grad):
    """(dx, dweight, dbias), each None unless asked for: a row kernel for dx, a column kernel
    for the weight and bias gradients."""
    dt = x.dtype.name
    g, x, weight = (None if a is None else a if a.flags.c_contiguous else contiguous_copy(a)
                    for a in (g, x, weight))
    trailing = x.shape[x.ndim - normalized_ndim:]
    n, rows = _ln_rows(x, normalized_ndim)
    dx = empty(x.shape, dt) if input_grad else None
    dw = xp().zeros(trailing, dtype=dt) if weight_grad else None
    db = xp().zeros(trailing, dtype=dt) if bias_grad else None
    if not (rows and n):
        return dx, dw, db
    if input_grad:
        grid, block = row_config(rows, n)
        launch(sources.kernel("fused", f"layer_norm_backward_{dt}"), grid, block,
               (g, x, mean, rstd, x if weight is None else weight, dx, i64(rows), i64(n),
                i32(weight is not None)))
    if weight_grad or bias_grad:
        launch(sources.kernel("fused", f"layer_norm_params_backward_{dt}"), (grid_for(n),),
               (BLOCK,), (g, x, mean, rstd, x if dw is None else dw, x if db is None else db,
                          i64(rows), i64(n), i32(bool(weight_grad)), i32(bool(bias_grad))))
    return dx, dw, db


# ---------------------------------------------------------------------------------------------
# batch norm in training: the normalize row kernel over the non-channel dims, reductions for
# the statistics and the parameter gradients, elementwise kernels for the affine part
def _channel(x):
    return (0,) + tuple(range(2, x.ndim)), (1, x.shape[1]) + (1,) * (x.ndim - 2)


def batch_norm(x, weight, bias, eps):
    """(y, mean, var): y = (x - mean) / sqrt(var + eps) * weight + bias, var biased."""
    dt = x.dtype.name
    if dt not in FLOATS:
        raise TypeError(f'"batch_norm" has no CUDA kernel for dtype {dt}')
    dims, shape = _channel(x)
    if x.size == 0:
        nan = xp().full(x.shape[1], np.nan, dtype=dt)
        return empty(x.shape, dt), nan, xp().full(x.shape[1], np.nan, dtype=dt)
    y = normalize(x, dims, eps)
    if weight is not None:
        y = _mul(y, weight.reshape(shape))
    if bias is not None:
        y = _add(y, bias.reshape(shape))
    return y, _REDUCTIONS["mean"](x, dims, False), _REDUCTIONS["var"](x, dims, False, 0)


def batch_norm_backward(g, x, mean, var, weight, eps, input_grad, weight_grad, bias_grad):
    """(dx, dweight, dbias), each None unless asked for (the statistics are recomputed by the
    normalize kernels)."""
    dims, shape = _channel(x)
    if x.size == 0:
        zeros = (lambda: xp().zeros(x.shape[1], dtype=x.dtype.name))
        return (empty(x.shape, x.dtype.name) if input_grad else None,
                zeros() if weight_grad else None, zeros() if bias_grad else None)
    db = _REDUCTIONS["sum"](g, dims, False) if bias_grad else None
    dw = _REDUCTIONS["sum"](_mul(g, normalize(x, dims, eps)), dims, False) \
        if weight_grad else None
    dx = None
    if input_grad:
        gw = g if weight is None else _mul(g, weight.reshape(shape))
        dx = normalize_backward(gw, x, dims, eps)
    return dx, dw, db


KERNELS = {
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
    "embedding": embedding,
    "embedding_backward": embedding_backward,
    "embedding_renorm_": embedding_renorm_,
    "one_hot": one_hot,
    "scaled_dot_product_attention": scaled_dot_product_attention,
    "scaled_dot_product_attention_backward": scaled_dot_product_attention_backward,
    "threshold_backward": threshold_backward,
    "batch_norm": batch_norm,
    "batch_norm_backward": batch_norm_backward,
    "layer_norm": layer_norm,
    "layer_norm_backward": layer_norm_backward,
}
