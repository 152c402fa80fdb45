"""Views and shape ops. Views share storage (the backend's own views) and the version counter
of their base; each remembers how to replay itself from the base so that an in-place write
through a view can be rebased into the base's autograd history (see ``rebase_view``)."""
from __future__ import annotations

import builtins

from .._tensor import Tensor, Size
from ..autograd.grad_mode import STATE
from .core import Op, call, method, wrap_dim, dims_arg

# public API, re-exported by corelib/__init__.py
__all__ = ["broadcast_shapes", "broadcast_to", "broadcast_tensors", "reshape", "view", "expand", "permute", "transpose", "swapaxes", "swapdims", "t", "adjoint", "movedim", "moveaxis", "squeeze", "unsqueeze", "flatten", "unflatten", "ravel", "contiguous", "clone"]


def broadcast_shape(*shapes):
    """The broadcast of several shapes (PyTorch/NumPy rules) or a RuntimeError."""
    if len(shapes) == 1:
        return tuple(shapes[0])
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


def broadcast_shapes(*shapes):
    return Size(broadcast_shape(*[(s,) if isinstance(s, int) else tuple(s) for s in shapes]))


def sum_to_shape(g, shape):
    """Reduce a broadcast gradient back to ``shape`` (the one central unbroadcast)."""
    shape = tuple(shape)
    gshape = g._data.shape
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    dims = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(shape)
                                      if n == 1 and gshape[i + lead] != 1)
    from .reduction import sum as _sum
    if dims:
        g = _sum(g, dims, keepdim=True)
    return reshape(g, shape) if g._data.shape != shape else g


# ---------------------------------------------------------------------------------------------
# view bookkeeping
def make_view(out, src, replay):
    """Mark ``out`` as a view of ``src``'s base; ``replay(base)`` recreates it."""
    base = src._base
    if base is None:
        out._base = src
        out._view_fn = replay
    else:
        parent = src._view_fn
        out._base = base
        out._view_fn = lambda b: replay(parent(b))
    out._vbox = src._shared_box()
    return out


def _shape_arg(shape, op):
    if len(shape) == 1 and not isinstance(shape[0], int):
        shape = tuple(shape[0])
    try:
        return tuple(int(s) for s in shape)
    except TypeError:
        raise TypeError(f"{op}(): argument 'shape' must be a sequence of ints, got {shape!r}")


def infer_shape(shape, numel, op):
    """Resolve one -1 entry of a target shape against ``numel``."""
    if -1 not in shape:
        n = 1
        for s in shape:
            n *= s
        if n != numel or builtins.any(s < 0 for s in shape):
            raise RuntimeError(f"{op}(): shape '{list(shape)}' is invalid for input of size "
                               f"{numel}")
        return shape
    if shape.count(-1) > 1:
        raise RuntimeError(f"{op}(): only one dimension can be inferred")
    known = 1
    for s in shape:
        if s != -1:
            known *= s
    if known == 0 or numel % known:
        raise RuntimeError(f"{op}(): shape '{list(shape)}' is invalid for input of size {numel}")
    return tuple(numel // known if s == -1 else s for s in shape)


# ---------------------------------------------------------------------------------------------
# reshape / view / expand / permute
_reshape = Op("reshape", lambda g, out, x_shape, shape: (reshape(g, x_shape),), saves="meta")
_view = Op("view", lambda g, out, x_shape, shape: (reshape(g, x_shape),), saves="meta")


@method()
def reshape(input, *shape):
    """A tensor with the same data and the given shape (a view when possible)."""
    shape = infer_shape(_shape_arg(shape, "reshape"), input.numel(), "reshape")
    if shape == input._data.shape:
        return input
    out = call(_reshape, (input,), input.dtype, {"shape": shape})
    return make_view(out, input, lambda b: reshape(b, shape))


@method()
def view(input, *shape):
    """A view with the given shape; errors if the strides do not allow it (use reshape)."""
    if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list, Size)):
        from .elementwise import cast
        from .. import _dtype
        return cast(input, _dtype.as_dtype(shape[0], "view"))   # view(dtype): same-size only
    shape = infer_shape(_shape_arg(shape, "view"), input.numel(), "view")
    out = call(_view, (input,), input.dtype, {"shape": shape})
    return make_view(out, input, lambda b: view(b, shape))


Tensor.view_as = lambda self, other: view(self, other.shape)
Tensor.reshape_as = lambda self, other: reshape(self, other.shape)


def _expand_vjp(g, out, x_shape, shape):
    return (sum_to_shape(g, x_shape),)


_expand = Op("expand", _expand_vjp, saves="meta")


@method()
def expand(input, *sizes):
    """Broadcast singleton dims to ``sizes`` (-1 keeps a dim) without copying."""
    sizes = _shape_arg(sizes, "expand")
    ndim = input.ndim
    if len(sizes) < ndim:
        raise RuntimeError(f"expand(): the number of sizes provided ({len(sizes)}) must be "
                           f"greater or equal to the number of dimensions in the tensor ({ndim})")
    lead = len(sizes) - ndim
    shape = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"expand(): the expanded size of the tensor (-1) isn't "
                                   f"allowed in a leading, non-existing dimension {i}")
            shape.append(s)
        else:
            cur = input._data.shape[i - lead]
            if s == -1:
                s = cur
            elif cur != 1 and s != cur:
                raise RuntimeError(f"expand(): The expanded size of the tensor ({s}) must match "
                                   f"the existing size ({cur}) at non-singleton dimension {i}.  "
                                   f"Target sizes: {list(sizes)}.  Tensor sizes: "
                                   f"{list(input._data.shape)}")
            shape.append(s)
    shape = tuple(shape)
    if shape == input._data.shape:
        return input
    out = call(_expand, (input,), input.dtype, {"shape": shape})
    return make_view(out, input, lambda b: expand(b, shape))


def broadcast_to(input, shape):
    return expand(input, tuple(shape))


Tensor.broadcast_to = broadcast_to
Tensor.expand_as = lambda self, other: expand(self, other.shape)


def broadcast_tensors(*tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    shape = broadcast_shape(*(t._data.shape for t in tensors))
    return tuple(expand(t, shape) for t in tensors)


def _permute_vjp(g, out, x, dims):
    inverse = [0] * len(dims)
    for i, d in enumerate(dims):
        inverse[d] = i
    return (permute(g, tuple(inverse)),)


_permute = Op("permute", _permute_vjp, saves=None)


@method()
def permute(input, *dims):
    dims = _shape_arg(dims, "permute")
    ndim = input.ndim
    if len(dims) != ndim:
        raise RuntimeError(f"permute(): number of dims don't match in permute (got {len(dims)} "
                           f"dims for a {ndim}-d tensor)")
    dims = tuple(wrap_dim(d, ndim, "permute") for d in dims)
    if len(set(dims)) != ndim:
        raise RuntimeError(f"permute(): repeated dim in {list(dims)}")
    if dims == tuple(range(ndim)):
        return input
    out = call(_permute, (input,), input.dtype, {"dims": dims})
    return make_view(out, input, lambda b: permute(b, dims))


@method()
def transpose(input, dim0, dim1):
    ndim = input.ndim
    if ndim == 0:
        return input
    d0, d1 = wrap_dim(dim0, ndim, "transpose"), wrap_dim(dim1, ndim, "transpose")
    dims = list(range(ndim))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return permute(input, tuple(dims))


swapaxes = swapdims = transpose
Tensor.swapaxes = Tensor.swapdims = transpose


@method()
def t(input):
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{input.ndim}D")
    return transpose(input, 0, 1) if input.ndim == 2 else input


def adjoint(input):
    return transpose(input, -2, -1)


Tensor.T = property(lambda self: permute(self, tuple(reversed(range(self.ndim)))))
Tensor.mT = property(lambda self: transpose(self, -2, -1))
Tensor.mH = Tensor.mT
Tensor.H = property(lambda self: t(self))


def movedim(input, source, destination):
    ndim = input.ndim
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim(): Invalid source or destination dims: source ({src} dims)"
                           f" should contain the same number of dims as destination ({dst} dims)")
    src = [wrap_dim(d, ndim, "movedim") for d in src]
    dst = [wrap_dim(d, ndim, "movedim") for d in dst]
    order = [None] * ndim
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(d for d in range(ndim) if d not in src)
    order = [next(rest) if o is None else o for o in order]
    return permute(input, tuple(order))


moveaxis = movedim
Tensor.movedim = Tensor.moveaxis = movedim


@method()
def squeeze(input, dim=None):
    shape = input._data.shape
    if dim is None:
        new = tuple(s for s in shape if s != 1)
    else:
        dims = dims_arg(dim, input.ndim, "squeeze") if shape else ()
        new = tuple(s for i, s in enumerate(shape) if not (i in dims and s == 1))
    return reshape(input, new) if new != shape else input


@method()
def unsqueeze(input, dim):
    ndim = input.ndim
    d = wrap_dim(dim, ndim + 1, "unsqueeze")
    shape = list(input._data.shape)
    shape.insert(d, 1)
    return reshape(input, tuple(shape))


@method()
def flatten(input, start_dim=0, end_dim=-1):
    shape = input._data.shape
    if not shape:
        return reshape(input, (1,))
    s = wrap_dim(start_dim, len(shape), "flatten")
    e = wrap_dim(end_dim, len(shape), "flatten")
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    n = 1
    for x in shape[s:e + 1]:
        n *= x
    return reshape(input, shape[:s] + (n,) + shape[e + 1:])


@method()
def unflatten(input, dim, sizes):
    shape = input._data.shape
    d = wrap_dim(dim, len(shape), "unflatten")
    sizes = infer_shape(tuple(sizes), shape[d], "unflatten")
    return reshape(input, shape[:d] + sizes + shape[d + 1:])


def ravel(input):
    return reshape(contiguous(input), (-1,))


Tensor.ravel = ravel


# ---------------------------------------------------------------------------------------------
# memory layout
_contiguous = Op("contiguous", lambda g, out, x: (g,), saves=None)
_clone = Op("clone", lambda g, out, x: (g,), saves=None)
_is_contiguous = Op("is_contiguous")
_strides = Op("strides")


@method()
def is_contiguous(input, memory_format=None):
    return input.device.type == "meta" or bool(_is_contiguous.kernel(input.device.type)(
        input._data))


@method()
def contiguous(input, memory_format=None):
    if is_contiguous(input):
        return input
    return call(_contiguous, (input,), input.dtype)


@method()
def clone(input, *, memory_format=None):
    """A copy with its own storage; gradients flow back to ``input``."""
    return call(_clone, (input,), input.dtype)


@method()
def stride(input, dim=None):
    strides = tuple(_strides.kernel(input.device.type)(input._data))
    return strides if dim is None else strides[wrap_dim(dim, input.ndim, "stride")]


def storage_offset(input):
    return 0
