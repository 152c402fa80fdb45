"""Views and shape ops. Views share storage (the backend's own views) and the version counter
of their base; each remembers how to replay itself from the base so that an in-place write
through a view can be rebased into the base's autograd history (see ``rebase_view``)."""
from __future__ import annotations

import builtins
from contextlib import nullcontext

from .._tensor import Tensor, Size, int_list
from ..autograd.grad_mode import STATE, no_grad
from ..autograd.graph import Node
from . import rules as R
from .core import Op, call, method, wrap_dim, dims_arg
from .rules import broadcast_shape

# public API, re-exported by corelib/__init__.py
__all__ = ["broadcast_shapes", "broadcast_to", "broadcast_tensors", "reshape", "view", "expand",
           "permute", "transpose", "swapaxes", "swapdims", "t", "adjoint", "movedim",
           "moveaxis", "squeeze", "unsqueeze", "flatten", "unflatten", "ravel", "contiguous",
           "clone", "cat", "concat", "concatenate", "stack", "hstack", "vstack", "row_stack",
           "dstack", "column_stack", "atleast_1d", "atleast_2d", "atleast_3d", "split",
           "split_with_sizes", "chunk", "tensor_split", "hsplit", "vsplit", "dsplit", "unbind",
           "narrow", "select", "diagonal", "diag_embed", "diag", "diagflat", "trace", "tril",
           "triu", "flip", "fliplr", "flipud", "roll", "rot90", "repeat_interleave", "tile",
           "meshgrid"]


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
    if not STATE.grad_enabled and out._base._requires_grad or \
            getattr(src._view_fn, "no_grad_view", False):
        fn = out._view_fn   # PyTorch's CreationMeta::NO_GRAD_MODE, inherited by views of it
        out._view_fn = lambda b: fn(b)
        out._view_fn.no_grad_view = True
    return out


def _shape_arg(shape, op):
    return int_list(shape, op, _SIZE_ARG_NAMES.get(op, "shape"))


_SIZE_ARG_NAMES = {"expand": "size", "repeat": "repeats", "permute": "dims", "flip": "dims",
                   "tile": "dims"}


def _dims_kwarg(args, kwargs, op):
    """``*dims`` of flip/permute, or ``dims=`` given by keyword (PyTorch accepts both)."""
    if kwargs:
        extra = [k for k in kwargs if k != "dims"]
        if extra:
            raise TypeError(f"{op}() got an unexpected keyword argument '{extra[0]}'")
        if args:
            raise TypeError(f"{op}() got multiple values for argument 'dims'")
        return (kwargs["dims"],)
    if not args:
        raise TypeError(f'{op}() missing 1 required positional arguments: "dims"')
    return args


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
_reshape = Op("reshape", lambda g, out, x_shape, shape: (reshape(g, x_shape),), saves="meta",
              sig="(Array x, *, shape shape) -> Array",
              rule=R.reshape,
              core=True,
              doc=("x with a new shape, same number of elements (a view when the layout allows, "
                   "else a copy)"))
_view = Op("view", lambda g, out, x_shape, shape: (reshape(g, x_shape),), saves="meta",
           sig="(Array x, *, shape shape) -> Array(x)",
           rule=R.reshape,
           core=True,
           doc="a view of x with a new shape (the layout must allow it)")


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


_expand = Op("expand", _expand_vjp, saves="meta",
             sig="(Array x, *, shape shape) -> Array(x)",
             rule=R.expand,
             core=True,
             doc="a broadcast view of x (expanded dims repeat without copying)")


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


_permute = Op("permute", _permute_vjp, saves=None,
              sig="(Array x, *, int[] dims) -> Array(x)",
              rule=R.permute,
              core=True,
              doc="a view of x with its dims reordered")


@method()
def permute(input, *dims, **kwargs):
    dims = _dims_kwarg(dims, kwargs, "permute")
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
_contiguous = Op("contiguous", lambda g, out, x: (g,), saves=None,
                 sig="(Array x) -> Array",
                 rule=R.same,
                 doc="a C-contiguous copy of x")
_clone = Op("clone", lambda g, out, x: (g,), saves=None,
            sig="(Array x) -> Array",
            rule=R.same,
            core=True,
            doc="a copy of x with its own storage")
_is_contiguous = Op("is_contiguous", sig="(Array x) -> bool", doc="whether x is C-contiguous")
_strides = Op("strides", sig="(Array x) -> int[]", doc="x's strides, in elements")


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


def _storage_offset_kernel(input):
    return int(Op.all["storage_offset"].kernel(input.device.type)(input._data))


_storage_offset = Op("storage_offset",
                     sig="(Array x) -> int",
                     doc="x's offset into its storage, in elements")
Tensor.storage_offset = lambda self: 0 if self.device.type == "meta" else \
    _storage_offset_kernel(self)


# ---------------------------------------------------------------------------------------------
# in-place helper for the ops below
def apply_inplace(self, name, fn, *args, **kwargs):
    """``self.<name>_(...)``: compute ``fn(self, ...)`` out of place and write it into self.

    Errors (bad arguments, leaf or leaf-view checks) happen before self is touched."""
    from .elementwise import assign, check_inplace
    check_inplace(self, name)
    tracked = STATE.grad_enabled and (self._requires_grad or any(
        isinstance(a, Tensor) and a._requires_grad for a in args))
    result = fn(self.clone() if tracked else self, *args, **kwargs)
    if result.shape != self.shape:
        raise RuntimeError(f"{name}(): output with shape {list(self.shape)} doesn't match the "
                           f"broadcast shape {list(result.shape)}")
    assign(self, result)
    return self


def _tensors_arg(tensors, op):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}(): argument 'tensors' must be tuple of Tensors, not "
                        f"{type(tensors).__name__}")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): expected Tensor as element {i} in argument 0, but got "
                            f"{type(t).__name__}")
    return list(tensors)


def _int_arg(value, op, name):
    if isinstance(value, Tensor):
        return int(value.item())
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"{op}(): argument '{name}' must be int, not {type(value).__name__}")
    return value.__index__()


# ---------------------------------------------------------------------------------------------
# joining
def _cat_vjp(g, out, *shapes, dim):
    grads, start = [], 0
    for s in shapes:
        if len(s) == 1 and s[0] == 0 and len(g.shape) != 1:   # a skipped legacy empty tensor
            grads.append(reshape(narrow(g, dim, 0, 0), (0,)))
            continue
        grads.append(narrow(g, dim, start, s[dim]))
        start += s[dim]
    return tuple(grads)


_cat = Op("cat", _cat_vjp, saves="meta",
          sig="(*Array arrays, *, dim dim) -> Array",
          rule=R.cat,
          core=True,
          doc="arrays (one dtype) joined along dim; legacy empty 1-d arrays are skipped")


def cat(tensors, dim=0, *, out=None):
    """Concatenate along ``dim`` (types promoted; legacy empty 1-d tensors are skipped)."""
    from .. import _dtype
    from .elementwise import cast, write_out
    tensors = _tensors_arg(tensors, "cat")
    if not tensors:
        raise ValueError("cat(): expected a non-empty list of Tensors")   # PyTorch's class
    dtype = _dtype.result_type_from([t.dtype for t in tensors], [], [])
    for i, t in enumerate(tensors):
        if t.ndim == 0:
            raise RuntimeError(f"cat(): zero-dimensional tensor (at position {i}) cannot be "
                               f"concatenated")
    kept = [t for t in tensors if not (t.ndim == 1 and t._data.shape[0] == 0)]
    if not kept:
        result = cast(tensors[0], dtype).clone()
    else:
        ref = kept[0]._data.shape
        d = wrap_dim(dim, len(ref), "cat")
        for i, t in enumerate(tensors):
            s = t._data.shape
            if t.ndim == 1 and s[0] == 0:
                continue
            if len(s) != len(ref):
                raise RuntimeError(f"cat(): Tensors must have same number of dimensions: got "
                                   f"{len(ref)} and {len(s)}")
            for k in range(len(s)):
                if k != d and s[k] != ref[k]:
                    raise RuntimeError(f"cat(): Sizes of tensors must match except in dimension "
                                       f"{d}. Expected size {ref[k]} but got size {s[k]} for "
                                       f"tensor number {i} in the list.")
        result = call(_cat, tuple(cast(t, dtype) for t in tensors), dtype, {"dim": d})
    return result if out is None else write_out(result, out, "cat")


concat = concatenate = cat


def stack(tensors, dim=0, *, out=None):
    tensors = _tensors_arg(tensors, "stack")
    if not tensors:
        raise RuntimeError("stack(): expects a non-empty TensorList")
    first = tensors[0]._data.shape
    for i, t in enumerate(tensors):
        if t._data.shape != first:
            raise RuntimeError(f"stack(): stack expects each tensor to be equal size, but got "
                               f"{list(first)} at entry 0 and {list(t.shape)} at entry {i}")
    d = wrap_dim(dim, len(first) + 1, "stack")
    return cat([unsqueeze(t, d) for t in tensors], d, out=out)


def atleast_1d(*tensors):
    return _atleast(tensors, lambda t: reshape(t, (1,)) if t.ndim == 0 else t)


def atleast_2d(*tensors):
    return _atleast(tensors, lambda t: reshape(t, (1,) * (2 - t.ndim) + t.shape)
                    if t.ndim < 2 else t)


def atleast_3d(*tensors):
    def to3(t):
        if t.ndim == 0:
            return reshape(t, (1, 1, 1))
        if t.ndim == 1:
            return reshape(t, (1, t.shape[0], 1))
        if t.ndim == 2:
            return unsqueeze(t, -1)
        return t
    return _atleast(tensors, to3)


def _atleast(tensors, fn):
    if len(tensors) == 1:
        if isinstance(tensors[0], Tensor):
            return fn(tensors[0])
        tensors = tensors[0]
    return tuple(fn(t) for t in tensors)


def hstack(tensors, *, out=None):
    tensors = atleast_1d(_tensors_arg(tensors, "hstack"))
    return cat(tensors, 0 if all(t.ndim == 1 for t in tensors) else 1, out=out)


def vstack(tensors, *, out=None):
    return cat(atleast_2d(_tensors_arg(tensors, "vstack")), 0, out=out)


row_stack = vstack


def dstack(tensors, *, out=None):
    return cat(atleast_3d(_tensors_arg(tensors, "dstack")), 2, out=out)


def column_stack(tensors, *, out=None):
    tensors = [reshape(t, (t.numel(), 1)) if t.ndim <= 1 else t
               for t in _tensors_arg(tensors, "column_stack")]
    return cat(tensors, 1, out=out)


# ---------------------------------------------------------------------------------------------
# splitting: views sharing storage with the input
@method()
def narrow(input, dim, start, length):
    """The view ``input[..., start:start+length, ...]`` along ``dim``."""
    ndim = input.ndim
    if ndim == 0:
        raise RuntimeError("narrow(): cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, ndim, "narrow")
    size = input._data.shape[d]
    start, length = _int_arg(start, "narrow", "start"), _int_arg(length, "narrow", "length")
    if not -size <= start <= size:
        raise IndexError(f"narrow(): start out of range (expected to be in range of "
                         f"[{-size}, {size}], but got {start})")
    if start < 0:
        start += size
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start + length > size:
        raise RuntimeError(f"narrow(): start ({start}) + length ({length}) exceeds dimension "
                           f"size ({size}).")
    return input[(slice(None),) * d + (slice(start, start + length),)]


@method()
def select(input, dim, index):
    """The view ``input[..., index, ...]`` along ``dim`` (the dim is removed)."""
    ndim = input.ndim
    if ndim == 0:
        raise IndexError("select(): cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, ndim, "select")
    size = input._data.shape[d]
    index = _int_arg(index, "select", "index")
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(input.shape)} at dimension {d}")
    return input[(slice(None),) * d + (index % size if size else index,)]


def _split_sizes(sizes, total, dim, op):
    sizes = [_int_arg(s, op, "split_sizes") for s in sizes]
    if builtins.any(s < 0 for s in sizes) or builtins.sum(sizes) != total:
        raise RuntimeError(f"{op}(): split_with_sizes expects split_sizes to sum exactly to "
                           f"{total} (input tensor's size at dimension {dim}), but got "
                           f"split_sizes={sizes}")
    return sizes


def _split_dim(input, dim, op, message):
    """(dim wrapped, its size) of the 1-d or larger ``input`` a split op cuts along."""
    if input.ndim == 0:
        raise RuntimeError(f"{op}(): {message}")
    d = wrap_dim(dim, input.ndim, op)
    return d, input._data.shape[d]


def _pieces(input, d, sizes, op="split"):
    out, start = [], 0
    with no_grad() if op else nullcontext():
        for s in sizes:
            out.append(narrow(input, d, start, s))
            start += s
    return _multi_output(input, out, op, d, sizes) if op else tuple(out)


def _multi_output(input, views, op, d, sizes, stacked=False):
    """Views returned by a multi-view op (split/chunk/unbind), made under no_grad, get one
    shared backward node, so backward is one cat instead of one full-size gradient per view.
    As PyTorch, in-place writes into them are refused when they require grad (see
    elementwise.check_inplace)."""
    for v in views:
        fn = v._view_fn
        v._view_fn = (lambda f: lambda b: f(b))(fn)
        v._view_fn.multi_output = op
    if STATE.grad_enabled and input._requires_grad:
        from ..autograd.graph import edge_of
        node = SplitBackward(edge_of(input), d, sizes, stacked, input)
        for i, v in enumerate(views):
            v._grad_fn, v._output_nr, v._requires_grad = node, i, True
    return tuple(views)


class SplitBackward(Node):
    """Backward of split/chunk/unbind: the pieces' gradients (zeros for unused ones) joined."""
    __slots__ = ("num_outputs", "dim", "sizes", "stacked", "shape", "dtype", "device")

    def __init__(self, edge, dim, sizes, stacked, input):
        self.next_edges = (edge,)
        self.pre_hooks = self.hooks = None
        self.num_outputs = len(sizes)
        self.dim, self.sizes, self.stacked = dim, tuple(sizes), stacked
        self.shape, self.dtype, self.device = input._data.shape, input.dtype, input.device

    def name(self):
        return "UnbindBackward0" if self.stacked else "SplitWithSizesBackward0"

    def apply(self, grads):
        from .creation import zeros
        parts = []
        for g, n in zip(grads, self.sizes):
            if g is None:
                shape = list(self.shape)
                if self.stacked:
                    del shape[self.dim]
                else:
                    shape[self.dim] = n
                g = zeros(tuple(shape), dtype=self.dtype, device=self.device)
            parts.append(g)
        return (stack(parts, self.dim) if self.stacked else cat(parts, self.dim),)


@method()
def split(tensor, split_size_or_sections, dim=0):
    """Views of consecutive pieces: of one size (the last may be smaller) or of given sizes."""
    d, total = _split_dim(tensor, dim, "split", "split expects at least a 1-dimensional tensor")
    if isinstance(split_size_or_sections, (list, tuple)):
        return _pieces(tensor, d, _split_sizes(split_size_or_sections, total, d, "split"))
    size = _int_arg(split_size_or_sections, "split", "split_size")
    if size < 0 or (size == 0 and total != 0):
        raise RuntimeError(f"split(): split_size can only be 0 if dimension size is 0, but "
                           f"got dimension size of {total}")
    if total == 0:
        return (tensor,) if size == 0 else _pieces(tensor, d, [0])
    sizes = [size] * (total // size) + ([total % size] if total % size else [])
    return _pieces(tensor, d, sizes)


@method()
def split_with_sizes(input, split_sizes, dim=0):
    d = wrap_dim(dim, input.ndim, "split_with_sizes")
    return _pieces(input, d, _split_sizes(split_sizes, input._data.shape[d], d,
                                          "split_with_sizes"))


@method()
def chunk(input, chunks, dim=0):
    """At most ``chunks`` views of equal size (the last may be smaller)."""
    chunks = _int_arg(chunks, "chunk", "chunks")
    if chunks <= 0:
        raise RuntimeError(f"chunk(): chunk expects `chunks` to be greater than 0, got: {chunks}")
    d, total = _split_dim(input, dim, "chunk", "chunk expects at least a 1-dimensional tensor")
    if total == 0:
        return _pieces(input, d, [0] * chunks)
    return split(input, -(-total // chunks), d)


@method()
def tensor_split(input, indices_or_sections, dim=0):
    """Views split into n near-equal sections, or at the given indices."""
    d, total = _split_dim(input, dim, "tensor_split", "expected at least a 1-dimensional tensor")
    arg = indices_or_sections
    if isinstance(arg, Tensor):
        if arg.dtype.category != 1 or arg.ndim > 1:
            raise RuntimeError("tensor_split(): tensor_indices_or_sections must be a zero-dim "
                               "or one-dim tensor of dtype long")
        arg = arg.item() if arg.ndim == 0 else arg.tolist()
    if isinstance(arg, (list, tuple)):
        bounds = [0] + [builtins.min(builtins.max(_int_arg(i, "tensor_split", "indices") +
                                                  (total if i < 0 else 0), 0), total)
                        for i in arg] + [total]
        sizes = [builtins.max(b - a, 0) for a, b in zip(bounds, bounds[1:])]
        starts = bounds[:-1]
        return tuple(narrow(input, d, builtins.min(s, total), n) for s, n in zip(starts, sizes))
    n = _int_arg(arg, "tensor_split", "sections")
    if n <= 0:
        raise RuntimeError(f"tensor_split(): number of sections must be larger than 0, got {n}")
    q, r = divmod(total, n)
    return _pieces(input, d, [q + 1] * r + [q] * (n - r), None)   # plain views in torch


@method()
def unbind(input, dim=0):
    """A tuple of views, one per index along ``dim`` (the dim removed)."""
    if input.ndim == 0:
        raise IndexError("unbind(): Dimension specified as 0 but tensor has no dimensions")
    d = wrap_dim(dim, input.ndim, "unbind")
    n = input._data.shape[d]
    with no_grad():
        views = [select(input, d, i) for i in range(n)]
    return _multi_output(input, views, "unbind", d, [1] * n, stacked=True)


def hsplit(input, sections):
    return tensor_split(input, sections, 1 if input.ndim > 1 else 0)


def vsplit(input, sections):
    return tensor_split(input, sections, 0)


def dsplit(input, sections):
    return tensor_split(input, sections, 2)


Tensor.hsplit, Tensor.vsplit, Tensor.dsplit = hsplit, vsplit, dsplit


# ---------------------------------------------------------------------------------------------
# diagonals
def _diagonal_vjp(g, out, x_shape, offset, dim1, dim2):
    return (call(_diagonal_backward, (g,), g.dtype, {"shape": tuple(x_shape), "offset": offset,
                                                     "dim1": dim1, "dim2": dim2}),)


_diagonal = Op("diagonal", _diagonal_vjp, saves="meta",
               sig="(Array x, *, int offset, dim dim1, dim dim2) -> Array(x)",
               rule=R.diagonal,
               doc="a view of the offset diagonal of dims dim1, dim2, appended as the last dim")
_diagonal_backward = Op("diagonal_backward", lambda g, out, g_shape, shape, offset, dim1, dim2: (
    diagonal(g, offset, dim1, dim2),), saves="meta",
                        sig="(Array x, *, shape shape, int offset, dim dim1, dim dim2) -> Array",
                        rule=R.shape_param,
                        doc=("zeros of shape with x on the offset diagonal of dim1, dim2 "
                             "(diagonal's transpose)"))


@method()
def diagonal(input, offset=0, dim1=0, dim2=1):
    """A view of the diagonal of ``dim1``/``dim2``, appended as the last dim."""
    ndim = input.ndim
    if ndim < 2:
        raise RuntimeError(f"diagonal(): diagonal dimensions requires ndim larger than 1, got "
                           f"{ndim}")
    d1, d2 = wrap_dim(dim1, ndim, "diagonal"), wrap_dim(dim2, ndim, "diagonal")
    if d1 == d2:
        raise RuntimeError(f"diagonal(): diagonal dimensions cannot be identical {dim1}, {dim2}")
    params = {"offset": int(offset), "dim1": d1, "dim2": d2}
    out = call(_diagonal, (input,), input.dtype, params)
    return make_view(out, input, lambda b: diagonal(b, *params.values()))


@method()
def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Batched diagonal matrices whose ``offset`` diagonal (dims dim1, dim2) is ``input``."""
    ndim = input.ndim + 1
    if input.ndim == 0:
        raise RuntimeError("diag_embed(): input must be at least 1-dimensional")
    d1, d2 = wrap_dim(dim1, ndim, "diag_embed"), wrap_dim(dim2, ndim, "diag_embed")
    if d1 == d2:
        raise RuntimeError(f"diag_embed(): diagonal dimensions cannot be identical {dim1}, "
                           f"{dim2}")
    n = input._data.shape[-1] + builtins.abs(int(offset))
    batch = iter(input._data.shape[:-1])
    shape = tuple(n if i in (d1, d2) else next(batch) for i in range(ndim))
    return call(_diagonal_backward, (input,), input.dtype,
                {"shape": shape, "offset": int(offset), "dim1": d1, "dim2": d2})


@method()
def diag(input, diagonal=0):
    """1-d: a matrix with ``input`` on a diagonal; 2-d: a copy of one diagonal."""
    if input.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if input.ndim == 2:
        return clone(globals()["diagonal"](input, diagonal))
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")


@method()
def diagflat(input, offset=0):
    return diag_embed(reshape(input, (-1,)), offset, 0, 1)


@method()
def trace(input):
    if input.ndim != 2:
        raise RuntimeError(f"trace(): expected a matrix, but got tensor with dim {input.ndim}")
    from .reduction import sum as _sum
    return _sum(diagonal(input))


def _triangle(name):
    op = Op(name, lambda g, out, x, diagonal: (call(op, (g,), g.dtype,
                                                     {"diagonal": diagonal}),), saves=None,
            sig="(Array x, *, int diagonal) -> Array",
            rule=R.same,
            doc=f"the {'lower' if name == 'tril' else 'upper'} triangle of the last two dims, "
                "the rest zero")

    def fn(input, diagonal=0, *, out=None):
        if input.ndim < 2:
            raise RuntimeError(f"{name}(): input tensor must have at least 2 dimensions")
        result = call(op, (input,), input.dtype, {"diagonal": int(diagonal)})
        if out is not None:
            from .elementwise import write_out
            return write_out(result, out, name)
        return result
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"corelib.{name}(input, diagonal=0): the {name[-1]} triangle of the last 2 dims."
    setattr(Tensor, name, fn)
    setattr(Tensor, name + "_", lambda self, diagonal=0: apply_inplace(self, name + "_", fn,
                                                                       diagonal))
    return fn


tril = _triangle("tril")
triu = _triangle("triu")


# ---------------------------------------------------------------------------------------------
# reordering and repetition (copies)
_flip = Op("flip", lambda g, out, x, dims: (flip(g, dims),), saves=None,
           sig="(Array x, *, int[] dims) -> Array",
           rule=R.same,
           core=True,
           doc="a copy of x with the order along dims reversed")


@method()
def flip(input, *dims, **kwargs):
    """A copy with the order of elements along ``dims`` reversed."""
    dims = _dims_kwarg(dims, kwargs, "flip")
    dims = _shape_arg(dims, "flip")
    dims = tuple(wrap_dim(d, builtins.max(input.ndim, 1), "flip") for d in dims)
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"flip(): dim {dims[0]} appears multiple times in the list of dims")
    if input.ndim == 0 or not dims:
        return clone(input)
    return call(_flip, (input,), input.dtype, {"dims": dims})


@method()
def fliplr(input):
    if input.ndim < 2:
        raise RuntimeError("fliplr(): Input must be >= 2-d.")
    return flip(input, (1,))


@method()
def flipud(input):
    if input.ndim < 1:
        raise RuntimeError("flipud(): Input must be >= 1-d.")
    return flip(input, (0,))


_roll = Op("roll", lambda g, out, x, shifts, dims: (
    call(_roll, (g,), g.dtype, {"shifts": tuple(-s for s in shifts), "dims": dims}),),
    saves=None,
           sig="(Array x, *, int[] shifts, int[] dims) -> Array",
           rule=R.same,
           doc="x shifted cyclically by shifts along dims")


@method()
def roll(input, shifts, dims=None):
    """Elements shifted cyclically along ``dims`` (the flattened tensor when dims is None)."""
    shifts = int_list((shifts,), "roll", "shifts")
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"roll(): shifts and dimensions must align. shifts: "
                               f"{len(shifts)}, dims:0")
        return reshape(roll(flatten(input), shifts, 0), input.shape)
    dims = int_list((dims,), "roll", "dims")
    if len(shifts) != len(dims):
        raise RuntimeError(f"roll(): shifts and dimensions must align. shifts: {len(shifts)}, "
                           f"dims:{len(dims)}")
    dims = tuple(wrap_dim(d, input.ndim, "roll") for d in dims)
    return call(_roll, (input,), input.dtype, {"shifts": shifts, "dims": dims})


@method()
def rot90(input, k=1, dims=(0, 1)):
    """Rotation by 90 degrees k times in the plane ``dims`` (from the first towards the
    second)."""
    if len(dims) != 2:
        raise RuntimeError(f"rot90(): expected total rotation dims == 2, but got dims = "
                           f"{len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"rot90(): expected total dims >= 2, but got total dims = "
                           f"{input.ndim}")
    d0, d1 = (wrap_dim(d, input.ndim, "rot90") for d in dims)
    if d0 == d1:
        raise RuntimeError(f"rot90(): expected rotation dims to be different, but got dim0 = "
                           f"{d0} and dim1 = {d1}")
    k %= 4
    if k == 1:
        return transpose(flip(input, (d1,)), d0, d1)
    if k == 2:
        return flip(input, (d0, d1))
    if k == 3:
        return transpose(flip(input, (d0,)), d0, d1)
    return clone(input)


def _repeat_vjp(g, out, x_shape, repeats):
    lead = len(repeats) - len(x_shape)
    full = (1,) * lead + tuple(x_shape)
    split_shape = []
    for r, n in zip(repeats, full):
        split_shape += [r, n]
    from .reduction import sum as _sum
    g = _sum(reshape(g, tuple(split_shape)), tuple(range(0, 2 * len(full), 2)))
    return (reshape(g, tuple(x_shape)),)


_repeat = Op("repeat", _repeat_vjp, saves="meta",
             sig="(Array x, *, int[] repeats) -> Array",
             rule=R.repeat,
             doc="x tiled repeats times along each dim (new leading dims as needed)")


@method()
def repeat(input, *sizes):
    """The tensor tiled ``sizes`` times along each dim (new leading dims as needed)."""
    sizes = _shape_arg(sizes, "repeat")
    if len(sizes) < input.ndim:
        raise RuntimeError("repeat(): Number of dimensions of repeat dims can not be smaller "
                           "than number of dimensions of tensor")
    if builtins.any(s < 0 for s in sizes):
        raise RuntimeError(f"repeat(): Trying to create tensor with negative dimension: "
                           f"{list(sizes)}")
    return call(_repeat, (input,), input.dtype, {"repeats": sizes})


@method()
def tile(input, dims):
    dims = _shape_arg((dims,), "tile") if not isinstance(dims, int) else (dims,)
    return repeat(input, (1,) * (input.ndim - len(dims)) + tuple(dims))


_repeat_interleave = Op("repeat_interleave",
                        sig="(Array repeats) -> Array",
                        rule=R.DATA_DEPENDENT,
                        doc="each i repeated repeats[i] times, for 1-d int64 repeats (int64)")


@method()
def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Each element (or slice along ``dim``) repeated ``repeats`` times in place."""
    from .indexing import index_select
    if repeats is None:   # repeat_interleave(repeats): indices repeated by their counts
        if input.ndim != 1 or input.dtype.category != 1:
            raise RuntimeError("repeat_interleave(): repeats must be 1-d integral")
        return _repeat_index(input)
    if dim is None:
        input, d = reshape(input, (-1,)), 0
    else:
        d = wrap_dim(dim, builtins.max(input.ndim, 1), "repeat_interleave")
        if input.ndim == 0:
            input = reshape(input, (1,))
    n = input._data.shape[d]
    if isinstance(repeats, Tensor) and repeats.numel() == 1 and repeats.ndim <= 1:
        repeats = int(repeats.item())
    if isinstance(repeats, Tensor):
        if repeats.ndim != 1 or repeats._data.shape[0] != n:
            raise RuntimeError(f"repeat_interleave(): repeats must have the same size as input "
                               f"along dim, but got repeats.size(0) = {repeats.numel()} and "
                               f"input.size({d}) = {n}")
        return index_select(input, d, _repeat_index(repeats))
    repeats = _int_arg(repeats, "repeat_interleave", "repeats")
    if repeats < 0:
        raise RuntimeError("repeat_interleave(): repeats can not be negative")
    shape = input._data.shape
    x = expand(unsqueeze(input, d + 1), shape[:d + 1] + (repeats,) + shape[d + 1:])
    return reshape(x, shape[:d] + (n * repeats,) + shape[d + 1:])


def _repeat_index(repeats):
    from .. import _dtype
    from .elementwise import cast
    if repeats.dtype.category != 1:
        raise RuntimeError("repeat_interleave(): repeats has to be Long or Int tensor")
    if repeats.numel() and not repeats.is_meta and int((repeats < 0).sum().item()):
        raise RuntimeError("repeat_interleave(): repeats can not be negative")
    return call(_repeat_interleave, (cast(repeats, _dtype.int64),), _dtype.int64)


def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids (expanded views) from 0-d/1-d tensors; 'xy' swaps the first two."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    tensors = _tensors_arg(tensors, "meshgrid")
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"meshgrid(): indexing must be one of \"xy\" or \"ij\", but "
                           f"received: {indexing}")
    if builtins.any(t.ndim > 1 for t in tensors):
        raise RuntimeError("meshgrid(): Expected 0D or 1D tensor in the tensor list")
    sizes = [t.numel() for t in tensors]
    swap = indexing == "xy" and len(tensors) >= 2
    if swap:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    shape = tuple(sizes)
    out = []
    for i, t in enumerate(tensors):
        pos = {0: 1, 1: 0}.get(i, i) if swap else i
        view_shape = [1] * len(shape)
        view_shape[pos] = -1
        out.append(expand(reshape(t, tuple(view_shape)), shape))
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# padding (corelib.nn.functional.pad uses this)
_constant_pad = Op("constant_pad", lambda g, out, x_shape, widths, value: (
    g[tuple(slice(a, a + n) for (a, _), n in zip(widths, x_shape))],), saves="meta",
                   sig="(Array x, *, int[][] widths, Scalar value) -> Array",
                   rule=R.constant_pad,
                   doc="x padded with value by (before, after) widths per dim")


def _pad_index(n, left, right, mode):
    """Source positions (Python ints) of a padded dim of size n."""
    positions = range(-left, n + right)
    if mode == "reflect":
        return [(n - 1) - builtins.abs((n - 1) - builtins.abs(i)) for i in positions]
    if mode == "replicate":
        return [builtins.min(builtins.max(i, 0), n - 1) for i in positions]
    return [i % n for i in positions]   # circular


def pad(input, pad, mode="constant", value=None):
    """Pad the last len(pad)//2 dims; ``pad`` lists (left, right) from the last dim backwards.

    Modes: constant (negative widths crop), reflect, replicate, circular."""
    pad = tuple(_int_arg(p, "pad", "pad") for p in pad)
    if len(pad) % 2:
        raise RuntimeError("pad(): Padding length must be divisible by 2")
    if len(pad) // 2 > input.ndim:
        raise RuntimeError(f"pad(): Padding length should be less than or equal to two times "
                           f"the input dimension but got padding length {len(pad)} and input "
                           f"of dimension {input.ndim}")
    ndim, k = input.ndim, len(pad) // 2
    pairs = [(0, 0)] * (ndim - k) + [(pad[2 * i], pad[2 * i + 1]) for i in reversed(range(k))]
    if mode == "constant":
        x = input
        for d, (a, b) in enumerate(pairs):   # negative widths crop first
            if a < 0 or b < 0:
                n = x._data.shape[d]
                start, stop = builtins.max(-a, 0), n - builtins.max(-b, 0)
                if stop < start:
                    raise RuntimeError(f"pad(): The input size {n}, plus negative padding "
                                       f"{a} and {b} resulted in a negative output size")
                x = narrow(x, d, start, stop - start)
        widths = tuple((builtins.max(a, 0), builtins.max(b, 0)) for a, b in pairs)
        if value is None:
            value = 0
        if x.dtype.category < 2:
            value = int(value) if x.dtype.category == 1 else builtins.bool(value)
        if builtins.all(w == (0, 0) for w in widths):
            return clone(x)
        return call(_constant_pad, (x,), x.dtype, {"widths": widths, "value": value})
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"pad(): unsupported padding mode '{mode}'")
    if value is not None and value != 0:
        raise RuntimeError(f"pad(): Padding mode \"{mode}\" doesn't take in value argument")
    from .creation import tensor
    from .indexing import index_select
    x = input
    for d, (a, b) in enumerate(pairs):
        if a == 0 and b == 0:
            continue
        n = x._data.shape[d]
        if mode == "circular" and (a < 0 or b < 0):
            # as PyTorch: crop by the negative widths, then wrap around the cropped part
            start, stop = builtins.max(-a, 0), n - builtins.max(-b, 0)
            a, b = builtins.max(a, 0), builtins.max(b, 0)
            if stop < start or builtins.max(a, b) > builtins.max(stop - start, 0) or \
                    builtins.max(a, b) > n:
                raise RuntimeError(f"pad(): Padding value causes wrapping around more than "
                                   f"once (padding ({pairs[d][0]}, {pairs[d][1]}) at "
                                   f"dimension {d} of input {list(input.shape)})")
            x = narrow(x, d, start, stop - start)
            n = stop - start
            if a == 0 and b == 0:
                continue
        if n + a + b < 0 or (n + a + b == 0 and n > 0):
            raise RuntimeError(f"pad(): The input size {n}, plus negative padding {a} and {b} "
                               f"resulted in a negative output size")
        if (mode == "reflect" and builtins.max(a, b) >= n) or \
                (mode == "circular" and builtins.max(a, b) > n) or n == 0:
            raise RuntimeError(f"pad(): Padding size should be less than the corresponding "
                               f"input dimension for mode '{mode}', but got padding ({a}, {b}) "
                               f"at dimension {d} of input {list(input.shape)}")
        idx = tensor(_pad_index(n, a, b, mode), device=x.device)
        x = index_select(x, d, idx)
    return x if x is not input else clone(input)
