"""Shape kernels: views, layout queries and movement copies.

Views (reshape when possible, view, permute, expand, diagonal, basic getitem) are the array
module's views and share storage with their base; their strides follow PyTorch's rules.
Copies compose the strided copy ``elementwise.copy_into`` (cat, flip, roll, repeat,
constant_pad, ...); tril/triu is a kernel of kernels/shape.cu.
"""
from __future__ import annotations

import itertools
import math

import numpy as np

from .. import sources
from ._util import ALL, BLOCK, CTYPE, empty, grid_for, i32, i64, launch, layout, xp
from .elementwise import contiguous_copy, copy_into

sources.register("shape", "shape.cu",
                 lambda: "".join(f"TRIANGLE_KERNEL(triangle_{dt}, {CTYPE[dt]})\n" for dt in ALL))


# ---------------------------------------------------------------------------------------------
# views
def estrides(a):
    """``a``'s strides in elements."""
    return tuple(s // a.itemsize for s in a.strides)


def as_strided(a, shape, strides, writeable=True):
    """A view of ``a``'s memory with ``shape`` and element ``strides``."""
    byte_strides = tuple(s * a.itemsize for s in strides)
    if xp() is np:
        return np.lib.stride_tricks.as_strided(a, tuple(shape), byte_strides,
                                               writeable=writeable and a.flags.writeable)
    return xp().lib.stride_tricks.as_strided(a, tuple(shape), byte_strides)


def view_strides(oldshape, oldstride, newshape):
    """Element strides of ``newshape`` viewing a tensor of (oldshape, oldstride), or None when
    no view exists (PyTorch's computeStride)."""
    if not oldshape:
        return (1,) * len(newshape)
    numel = math.prod(oldshape)
    if numel == 0 and tuple(oldshape) == tuple(newshape):
        return tuple(oldstride)
    newstride = [0] * len(newshape)
    if numel == 0:
        for d in reversed(range(len(newshape))):
            newstride[d] = 1 if d == len(newshape) - 1 else \
                max(newshape[d + 1], 1) * newstride[d + 1]
        return tuple(newstride)
    view_d = len(newshape) - 1
    chunk_base_stride = oldstride[-1]
    tensor_numel = view_numel = 1
    for tensor_d in reversed(range(len(oldshape))):
        tensor_numel *= oldshape[tensor_d]
        if tensor_d == 0 or (oldshape[tensor_d - 1] != 1 and
                             oldstride[tensor_d - 1] != tensor_numel * chunk_base_stride):
            while view_d >= 0 and (view_numel < tensor_numel or newshape[view_d] == 1):
                newstride[view_d] = view_numel * chunk_base_stride
                view_numel *= newshape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if tensor_d > 0:
                chunk_base_stride = oldstride[tensor_d - 1]
                tensor_numel = view_numel = 1
    return tuple(newstride) if view_d == -1 else None


def view(a, shape):
    strides = view_strides(a.shape, estrides(a), tuple(shape))
    if strides is None:
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at "
                           "least one dimension spans across two contiguous subspaces). Use "
                           ".reshape(...) instead.")
    return as_strided(a, shape, strides)


def reshape(a, shape):
    """A view when the strides allow one, else a contiguous copy."""
    strides = view_strides(a.shape, estrides(a), tuple(shape))
    if strides is None:
        return contiguous_copy(a).reshape(tuple(shape))
    return as_strided(a, shape, strides)


def expand(a, shape):
    """A read-only broadcast view; as PyTorch, only expanded dims get stride 0."""
    lead = len(shape) - a.ndim
    strides = (0,) * lead + tuple(0 if n != s else st for n, s, st in
                                  zip(a.shape, shape[lead:], estrides(a)))
    return as_strided(a, shape, strides, writeable=False)


def permute(a, dims):
    return xp().transpose(a, dims)


def diagonal(a, offset, dim1, dim2):
    """A writable view of a diagonal, appended as the last dim."""
    n1, n2 = a.shape[dim1], a.shape[dim2]
    start = [slice(None)] * a.ndim
    if offset >= 0:
        start[dim2] = slice(min(offset, n2), None)
        length = max(min(n1, n2 - offset), 0)
    else:
        start[dim1] = slice(min(-offset, n1), None)
        length = max(min(n1 + offset, n2), 0)
    s = a[tuple(start)]
    st = estrides(s)
    rest = [d for d in range(a.ndim) if d not in (dim1, dim2)]
    shape = tuple(a.shape[d] for d in rest) + (length,)
    return as_strided(s, shape, tuple(st[d] for d in rest) + (st[dim1] + st[dim2],))


def full_key(ndim, key):
    """``key`` with its Ellipsis expanded to slices (appended when absent)."""
    key = tuple(key)
    used = sum(key_width(k) for k in key)
    if used > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    ellipses = [i for i, k in enumerate(key) if k is Ellipsis]
    if len(ellipses) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    at = ellipses[0] if ellipses else len(key)
    return key[:at] + (slice(None),) * (ndim - used) + key[at + 1:]


def key_width(k):
    """How many dims of the indexed array a key entry consumes."""
    if k is None or k is Ellipsis:
        return 0
    if hasattr(k, "dtype") and k.dtype == np.bool_:
        return k.ndim
    return 1


def getitem(a, key):
    """Basic indexing (ints, slices, None, Ellipsis): a view. New axes get PyTorch's strides:
    applied left to right, None unsqueezes in front of the next (not yet indexed) dim."""
    key = full_key(a.ndim, key)
    dim = 0
    for k in key:
        if isinstance(k, int):
            n = a.shape[dim]
            if not -n <= k < n:
                raise IndexError(f"index {k} is out of bounds for dimension {dim} with size {n}")
        dim += k is not None
    if all(k is not None for k in key):
        return a[key + (Ellipsis,)]   # a 0-d view, not a scalar, when every dim is an int
    # every dim kept (ints as length-1 slices): its start is the view's, its dims the sliced ones
    r = a[tuple(slice(k % a.shape[d], k % a.shape[d] + 1) if isinstance(k, int) else k
                for d, k in enumerate(k for k in key if k is not None)) + (Ellipsis,)]
    a_strides, r_strides = estrides(a), estrides(r)
    shape, strides, d = [], [], 0
    for k in key:
        if k is None:
            shape.append(1)
            strides.append(a.shape[d] * a_strides[d] if d < a.ndim else 1)
        else:
            if not isinstance(k, int):
                shape.append(r.shape[d])
                strides.append(r_strides[d])
            d += 1
    return as_strided(r, shape, strides)


def getitem_backward(g, shape, key):
    out = xp().zeros(shape, dtype=g.dtype)
    copy_into(getitem(out, key), g)
    return out


def strides(a):
    return estrides(a)


def is_contiguous(a):
    return bool(a.flags.c_contiguous)


def storage_offset(a):
    """Elements between the start of ``a``'s allocation and its first element."""
    if not a.size:
        return 0
    data = a.data
    if hasattr(data, "mem"):   # CuPy: a MemoryPointer into its allocation
        return (data.ptr - data.mem.ptr) // a.itemsize
    root = a   # NumPy: the base chain ends at the owner (as_strided adds helper objects)
    while getattr(root, "base", None) is not None and hasattr(root.base, "__array_interface__"):
        root = root.base
    return (a.__array_interface__["data"][0] - root.__array_interface__["data"][0]) // a.itemsize


# ---------------------------------------------------------------------------------------------
# copies
def cat(*arrays, dim):
    """Concatenate; legacy empty 1-d arrays are skipped (as PyTorch) unless all are."""
    kept = [a for a in arrays if not (a.ndim == 1 and a.shape[0] == 0)] or list(arrays)
    shape = list(kept[0].shape)
    shape[dim] = sum(a.shape[dim] for a in kept)
    out = empty(shape, np.result_type(*(a.dtype for a in arrays)))
    start = 0
    for a in kept:
        n = a.shape[dim]
        copy_into(out[(slice(None),) * dim + (slice(start, start + n),)], a)
        start += n
    return out


def flip(a, dims):
    return contiguous_copy(a[tuple(slice(None, None, -1) if d in dims else slice(None)
                                   for d in range(a.ndim))])


def roll(a, shifts, dims):
    """Cyclic shift: per rolled dim two (destination, source) blocks; every combination is one
    strided copy."""
    shift = {}
    for s, d in zip(shifts, dims):
        shift[d] = shift.get(d, 0) + s
    out = empty(a.shape, a.dtype)
    if not a.size:
        return out
    parts = []
    for d in range(a.ndim):
        n, s = a.shape[d], shift.get(d, 0) % max(a.shape[d], 1)
        parts.append([(slice(None), slice(None))] if s == 0 else
                     [(slice(s, None), slice(0, n - s)), (slice(0, s), slice(n - s, None))])
    for combo in itertools.product(*parts):
        copy_into(out[tuple(c[0] for c in combo)], a[tuple(c[1] for c in combo)])
    return out


def repeat(a, repeats):
    """Tile: the output seen as (r0, n0, r1, n1, ...) is the input broadcast along the r dims."""
    full = (1,) * (len(repeats) - a.ndim) + a.shape
    out = empty(tuple(r * n for r, n in zip(repeats, full)), a.dtype)
    if out.size:
        split = tuple(x for r, n in zip(repeats, full) for x in (r, n))
        src = reshape(a, tuple(x for n in full for x in (1, n)))
        copy_into(out.reshape(split), src)
    return out


def constant_pad(a, widths, value):
    shape = tuple(n + lo + hi for n, (lo, hi) in zip(a.shape, widths))
    out = xp().full(shape, value, dtype=a.dtype)   # array-API fill of the border
    copy_into(out[tuple(slice(lo, lo + n) for n, (lo, _) in zip(a.shape, widths))], a)
    return out


def diagonal_backward(g, shape, offset, dim1, dim2):
    out = xp().zeros(shape, dtype=g.dtype)
    copy_into(diagonal(out, offset, dim1, dim2), g)
    return out


def _triangle(upper):
    def kernel(a, diagonal):
        out = empty(a.shape, a.dtype)
        n = out.size
        if n:
            ndim, meta = layout(a.shape, (a, out))
            launch(sources.kernel("shape", f"triangle_{a.dtype.name}"), (grid_for(n),),
                   (BLOCK,), (a, out, meta, i32(ndim), i64(n), i64(a.shape[-2]),
                              i64(a.shape[-1]), i64(diagonal), i32(upper)))
        return out
    kernel.__name__ = "triu" if upper else "tril"
    return kernel


KERNELS = {
    "reshape": reshape,
    "view": view,
    "expand": expand,
    "permute": permute,
    "diagonal": diagonal,
    "getitem": getitem,
    "strides": strides,
    "storage_offset": storage_offset,
    "is_contiguous": is_contiguous,
    "getitem_backward": getitem_backward,
    "diagonal_backward": diagonal_backward,
    "contiguous": contiguous_copy,
    "clone": contiguous_copy,
    "cat": cat,
    "flip": flip,
    "roll": roll,
    "repeat": repeat,
    "constant_pad": constant_pad,
    "tril": _triangle(False),
    "triu": _triangle(True),
}
