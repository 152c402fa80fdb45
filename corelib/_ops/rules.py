"""Shape-and-dtype rules of the kernels (the ``rule=`` of op records).

A rule takes the kernel's operands as ``Meta`` (shape, dtype name) -- Python scalars and None
as they are -- and its keyword params (defaults filled in), and returns the result's ``Meta``,
a tuple of them (None for a backend-defined workspace), or None for kernels that only write
in place. Operands arrive promoted, as kernels see them (see corelib.hookspecs), so most rules
take the dtype of an operand. Rules raise ValueError/IndexError for operands the kernel cannot
take (``corelib.contract.infer`` reports them as RuntimeError naming the op).
"""
from __future__ import annotations

import builtins
import math

from ..contract import DATA_DEPENDENT, Meta, meta_of

__all__ = ["broadcast_shape", "DATA_DEPENDENT"]


def broadcast_shape(*shapes):
    """The broadcast of several shapes (PyTorch/NumPy rules) or a RuntimeError."""
    if not shapes:
        return ()
    first = shapes[0]
    for s in shapes:
        if s != first:
            break
    else:
        return tuple(first)
    ndim = builtins.max(len(s) for s in shapes)
    result = [1] * ndim
    for s in shapes:
        offset = ndim - len(s)
        for i, n in enumerate(s):
            r = result[offset + i]
            if r == 1:
                result[offset + i] = n
            elif n != 1 and n != r:
                raise RuntimeError(f"The size of tensor a ({r}) must match the size of tensor b "
                                   f"({n}) at non-singleton dimension {offset + i}"
                                   if len(shapes) == 2 else
                                   f"shape mismatch: objects cannot be broadcast to a single "
                                   f"shape: {[tuple(x) for x in shapes]}")
    return tuple(result)


def _arrays(args):
    return [a for a in args if isinstance(a, Meta)]


def _prod(values):
    n = 1
    for v in values:
        n *= v
    return n


# ---------------------------------------------------------------------------------------------
# elementwise
def same(x, *args, **params):
    """The first operand's shape and dtype."""
    return Meta(x.shape, x.dtype)


def same_bool(x, *args, **params):
    return Meta(x.shape, "bool")


def broadcast(*args, **params):
    """Broadcast shape of the array operands; dtype of the first array operand."""
    arrays = _arrays(args)
    if not arrays:
        raise ValueError("expected at least one array operand")
    return Meta(broadcast_shape(*(a.shape for a in arrays)), arrays[0].dtype)


def broadcast_bool(*args, **params):
    return Meta(broadcast(*args).shape, "bool")


def where(cond, a, b, **params):
    values = _arrays((a, b))
    if not values:
        raise ValueError("one of input and other must be an array")
    return Meta(broadcast_shape(*(x.shape for x in _arrays((cond, a, b)))), values[0].dtype)


def to_dtype(x, *args, dtype, **params):
    """The first operand's shape in the dtype named by the ``dtype`` param."""
    return Meta(x.shape, dtype)


def broadcast_to_dtype(*args, dtype, **params):
    return Meta(broadcast(*args).shape, dtype)


def written(*args, **params):
    """Kernels that only write into an operand: no result."""
    return None


# ---------------------------------------------------------------------------------------------
# reductions and index-returning ops
def _reduced(shape, dims, keepdim):
    if keepdim:
        return tuple(1 if i in dims else s for i, s in enumerate(shape))
    return tuple(s for i, s in enumerate(shape) if i not in dims)


def _check_dims(x, dims):
    for d in dims:
        if not 0 <= d < builtins.max(x.ndim, 1):
            raise IndexError(f"dim {d} out of range for a {x.ndim}-d array")


def reduce(x, *, dim, keepdim=False, **params):
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    _check_dims(x, dims)
    return Meta(_reduced(x.shape, dims, keepdim), x.dtype)


def reduce_bool(x, **params):
    return Meta(reduce(x, **params).shape, "bool")


def reduce_index(x, *, dim, keepdim=False, **params):
    """argmax/argmin: int64; ``dim=None`` is the 0-d result of a 0-d input."""
    if dim is None:
        return Meta((), "int64")
    return Meta(reduce(x, dim=dim, keepdim=keepdim).shape, "int64")


def count(x, *, dim, **params):
    return Meta(reduce(x, dim=dim).shape, "int64")


def same_index(x, *args, **params):
    """Indices in x's shape (sort, cummax/cummin)."""
    return Meta(x.shape, "int64")


def _set_dim(shape, dim, n):
    if not 0 <= dim < len(shape):
        raise IndexError(f"dim {dim} out of range for a {len(shape)}-d array")
    return shape[:dim] + (n,) + shape[dim + 1:]


def topk_index(x, *, dim, k, **params):
    return Meta(_set_dim(x.shape, dim, k), "int64")


def keep_one_index(x, *, dim, **params):
    """One index per slice along dim, the dim kept (kthvalue, median, mode)."""
    return Meta(_set_dim(x.shape, dim, 1), "int64")


def like_index(x, index, *args, **params):
    """Values of x at the positions of ``index``: index's shape, x's dtype."""
    return Meta(index.shape, x.dtype)


def shape_param(x, *args, shape, **params):
    """A result of the shape given by the ``shape`` param, in the first operand's dtype."""
    return Meta(tuple(shape), x.dtype)


def histc(x, *, bins, **params):
    return Meta((bins,), x.dtype)


# ---------------------------------------------------------------------------------------------
# shape and memory
def reshape(x, *, shape, **params):
    if _prod(shape) != _prod(x.shape):
        raise ValueError(f"shape {list(shape)} is invalid for input of size {_prod(x.shape)}")
    return Meta(tuple(shape), x.dtype)


def expand(x, *, shape, **params):
    return Meta(broadcast_shape(x.shape, tuple(shape)), x.dtype)


def permute(x, *, dims, **params):
    if sorted(dims) != list(range(x.ndim)):
        raise ValueError(f"dims {dims} are not a permutation of {x.ndim} dims")
    return Meta(tuple(x.shape[d] for d in dims), x.dtype)


def cat(*arrays, dim, **params):
    """Sizes add along dim; legacy empty 1-d arrays (shape (0,)) are skipped."""
    kept = [a for a in arrays if a.shape != (0,)] or list(arrays[:1])
    ref = kept[0].shape
    for a in kept:
        if len(a.shape) != len(ref) or any(n != r for i, (n, r) in enumerate(zip(a.shape, ref))
                                           if i != dim):
            raise ValueError(f"sizes of arrays must match except in dimension {dim}")
    return Meta(_set_dim(ref, dim, builtins.sum(a.shape[dim] for a in kept)), arrays[0].dtype)


def _diag_len(s1, s2, offset):
    return builtins.max(builtins.min(s1, s2 - offset) if offset >= 0 else
                        builtins.min(s1 + offset, s2), 0)


def diagonal(x, *, offset, dim1, dim2, **params):
    rest = tuple(s for i, s in enumerate(x.shape) if i not in (dim1, dim2))
    return Meta(rest + (_diag_len(x.shape[dim1], x.shape[dim2], offset),), x.dtype)


def repeat(x, *, repeats, **params):
    full = (1,) * (len(repeats) - x.ndim) + x.shape
    return Meta(tuple(n * r for n, r in zip(full, repeats)), x.dtype)


def constant_pad(x, *, widths, **params):
    return Meta(tuple(n + a + b for n, (a, b) in zip(x.shape, widths)), x.dtype)


def index_select(x, index, *, dim, **params):
    if x.ndim == 0:
        return Meta((), x.dtype)
    return Meta(_set_dim(x.shape, dim, _prod(index.shape)), x.dtype)


def index_key(x, *, key, **params):
    """NumPy indexing with a tuple key of ints, slices, None, Ellipsis and integer arrays
    (boolean masks make the shape depend on the data)."""
    key = tuple(meta_of(k) for k in (key if isinstance(key, tuple) else (key,)))
    used = builtins.sum(0 if k is None or k is Ellipsis else
                        (k.ndim if isinstance(k, Meta) and k.dtype == "bool" else 1) for k in key)
    for k in key:
        if isinstance(k, Meta) and k.dtype == "bool":
            raise NotImplementedError("indexing with a boolean mask: the shape of the result "
                                      "depends on the values of the mask")
    if used > x.ndim:
        raise IndexError(f"too many indices for tensor of dimension {x.ndim}")
    if Ellipsis in key:
        i = key.index(Ellipsis)
        key = key[:i] + (slice(None),) * (x.ndim - used) + key[i + 1:]
    else:
        key = key + (slice(None),) * (x.ndim - used)
    advanced = any(isinstance(k, Meta) for k in key)
    entries, dim = [], 0
    for k in key:
        if k is None:
            entries.append(("size", 1))
            continue
        n = x.shape[dim]
        if isinstance(k, slice):
            entries.append(("size", len(range(*k.indices(n)))))
        elif isinstance(k, Meta):
            entries.append(("adv", k.shape))
        else:
            k = int(k)
            if not -n <= k < n:
                raise IndexError(f"index {k} is out of bounds for dimension {dim} with size {n}")
            if advanced:
                entries.append(("adv", ()))
        dim += 1
    at = [i for i, e in enumerate(entries) if e[0] == "adv"]
    if not at:
        return Meta(tuple(e[1] for e in entries), x.dtype)
    adv_shape = broadcast_shape(*(entries[i][1] for i in at))
    rest = [e[1] for e in entries if e[0] == "size"]
    if at == list(range(at[0], at[-1] + 1)):   # adjacent: the broadcast shape goes there
        before = builtins.sum(1 for e in entries[:at[0]] if e[0] == "size")
        return Meta(tuple(rest[:before]) + adv_shape + tuple(rest[before:]), x.dtype)
    return Meta(adv_shape + tuple(rest), x.dtype)


# ---------------------------------------------------------------------------------------------
# linear algebra
def matmul(a, b, **params):
    if not a.ndim or not b.ndim:
        raise ValueError("both arguments to matmul need to be at least 1D")
    sa = (1,) + a.shape if a.ndim == 1 else a.shape
    sb = b.shape + (1,) if b.ndim == 1 else b.shape
    if sa[-1] != sb[-2]:
        raise ValueError(f"shapes cannot be multiplied ({sa[-2]}x{sa[-1]} and "
                         f"{sb[-2]}x{sb[-1]})")
    shape = broadcast_shape(sa[:-2], sb[:-2]) + (sa[-2], sb[-1])
    if b.ndim == 1:
        shape = shape[:-1]
    if a.ndim == 1:
        shape = shape[:-2] + shape[-1:] if b.ndim > 1 else shape[:-1]
    return Meta(shape, a.dtype)


def batch_scalar(A, **params):
    return Meta(A.shape[:-2], A.dtype)


def slogdet(A, **params):
    return Meta(A.shape[:-2], A.dtype), Meta(A.shape[:-2], A.dtype)


def solve(A, B, **params):
    return Meta(broadcast_shape(A.shape[:-2], B.shape[:-2]) + B.shape[-2:], A.dtype)


def qr(A, *, mode, **params):
    *batch, m, n = A.shape
    batch, k = tuple(batch), builtins.min(m, n)
    if mode == "r":
        return Meta((0,), A.dtype), Meta(batch + (k, n), A.dtype)
    q = m if mode == "complete" else k
    return Meta(batch + (m, q), A.dtype), Meta(batch + (q, n), A.dtype)


def svd(A, *, full_matrices, **params):
    *batch, m, n = A.shape
    batch, k = tuple(batch), builtins.min(m, n)
    um, vn = (m, n) if full_matrices else (k, k)
    return (Meta(batch + (m, um), A.dtype), Meta(batch + (k,), A.dtype),
            Meta(batch + (vn, n), A.dtype))


def svdvals(A, **params):
    return Meta(A.shape[:-2] + (builtins.min(A.shape[-2:]),), A.dtype)


def eigh(A, **params):
    return Meta(A.shape[:-1], A.dtype), Meta(A.shape, A.dtype)


def eigvalsh(A, **params):
    return Meta(A.shape[:-1], A.dtype)


def pinv(A, **params):
    return Meta(A.shape[:-2] + (A.shape[-1], A.shape[-2]), A.dtype)


# ---------------------------------------------------------------------------------------------
# nn
def linear(x, w, b=None, **params):
    return Meta(x.shape[:-1] + w.shape[:-1], x.dtype)


def linear_backward_input(g, w, **params):
    return Meta(g.shape[:-1] + w.shape[-1:], g.dtype)


def linear_backward_weight(g, x, **params):
    return Meta(g.shape[-1:] + x.shape[-1:], g.dtype)


def _window_out(n, k, s, lo, hi, d, ceil_mode=False):
    span = n + lo + hi - d * (k - 1) - 1
    o = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (o - 1) * s >= n + lo:
        o -= 1
    return o


def convolution(x, w, b=None, *, stride, padding, dilation, **params):
    out = tuple(_window_out(n, k, s, lo, hi, d) for n, k, s, (lo, hi), d in
                zip(x.shape[2:], w.shape[2:], stride, padding, dilation))
    return Meta(x.shape[:1] + w.shape[:1] + out, x.dtype)


def im2col(x, *, kernel_size, stride, padding, dilation, **params):
    blocks = _prod(_window_out(n, k, s, lo, hi, d) for n, k, s, (lo, hi), d in
                   zip(x.shape[2:], kernel_size, stride, padding, dilation))
    return Meta((x.shape[0], x.shape[1] * _prod(kernel_size), blocks), x.dtype)


def col2im(cols, *, output_size, kernel_size, **params):
    return Meta((cols.shape[0], cols.shape[1] // _prod(kernel_size)) + tuple(output_size),
                cols.dtype)


def _pool_out(x, kernel_size, stride, padding, dilation, ceil_mode):
    return x.shape[:2] + tuple(_window_out(n, k, s, p, p, d, ceil_mode) for n, k, s, p, d in
                               zip(x.shape[2:], kernel_size, stride, padding, dilation))


def max_pool_indices(x, *, kernel_size, stride, padding, dilation, ceil_mode, **params):
    return Meta(_pool_out(x, kernel_size, stride, padding, dilation, ceil_mode), "int64")


def avg_pool(x, *, kernel_size, stride, padding, ceil_mode, **params):
    return Meta(_pool_out(x, kernel_size, stride, padding, (1,) * len(kernel_size), ceil_mode),
                x.dtype)


def adaptive_pool_indices(x, *, output_size, **params):
    return Meta(x.shape[:2] + tuple(output_size), "int64")


def input_shape(x, *args, input_shape, **params):
    return Meta(tuple(input_shape), x.dtype)


def weight_shape(x, *args, weight_shape, **params):
    return Meta(tuple(weight_shape), x.dtype)


def embedding(weight, indices, **params):
    return Meta(indices.shape + weight.shape[1:], weight.dtype)


def embedding_backward(g, indices, *, num_weights, **params):
    return Meta((num_weights,) + g.shape[indices.ndim:], g.dtype)


def one_hot(indices, *, num_classes, **params):
    if num_classes < 0:
        raise NotImplementedError("one_hot with num_classes=-1: the number of classes depends "
                                  "on the values of the input")
    return Meta(indices.shape + (num_classes,), "int64")


def class_scatter(g, target, *, num_classes, **params):
    """(N, C, *d) from targets (N, *d) (C inserted at dim 1; a 0-d target gives (C,))."""
    return Meta(target.shape[:1] + (num_classes,) + target.shape[1:], g.dtype)


def nll_loss(x, target, *, reduction, **params):
    return Meta(target.shape if reduction == "none" else (), x.dtype)


def rnn_sequence(x, h0, c0, w_hh, b_hh, *, mode, **params):
    """(y, h_n, c_n or None, workspace, workspace); the workspaces are backend-defined."""
    y = Meta(x.shape[:2] + h0.shape[-1:], x.dtype)
    h = Meta(h0.shape, x.dtype)
    return y, h, (h if mode == "LSTM" else None), None, None


def rnn_sequence_backward(dy, dh_n, dc_n, h0, c0, w_hh, b_hh, y, acts, c_all, *, mode,
                          **params):
    return (Meta(y.shape[:2] + w_hh.shape[:1], y.dtype), Meta(h0.shape, y.dtype),
            Meta(h0.shape, y.dtype) if mode == "LSTM" else None, Meta(w_hh.shape, y.dtype),
            None if b_hh is None else Meta(b_hh.shape, y.dtype))


# ---------------------------------------------------------------------------------------------
# creation and random
def full(*, shape, dtype, **params):
    return Meta(tuple(shape), dtype)


def arange(*, start, end, step, dtype, **params):
    return Meta((builtins.max(math.ceil((end - start) / step), 0),), dtype)


def linspace(*, steps, dtype, **params):
    return Meta((steps,), dtype)


def eye(*, n, m, dtype, **params):
    return Meta((n, m), dtype)


def randperm(*, n, dtype, **params):
    return Meta((n,), dtype)


def multinomial(probs, *, num_samples, **params):
    return Meta(probs.shape[:-1] + (num_samples,), "int64")


def attention(q, k, v, mask=None, **params):
    """(out (..., L, Ev), probabilities (..., L, S))."""
    return Meta(q.shape[:-1] + v.shape[-1:], q.dtype), Meta(q.shape[:-1] + k.shape[-2:-1],
                                                            q.dtype)


def attention_backward(g, q, k, v, probs, *, mask_grad=False, **params):
    """(dq, dk, dv, d scores or None)."""
    return (Meta(q.shape, q.dtype), Meta(k.shape, q.dtype), Meta(v.shape, q.dtype),
            Meta(probs.shape, q.dtype) if mask_grad else None)
