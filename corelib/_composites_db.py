"""Top-level functions of PyTorch's OpInfo database, as composites of frontend ops (gradients
come from those): histogram/histogramdd, segment_reduce, nonzero_static, constant_pad_nd,
empty_permuted, fill/zero_, unsafe_chunk/unsafe_split, index_reduce, nextafter, gradient."""
from __future__ import annotations

import builtins
import math
from collections import namedtuple

from . import _dtype
from ._tensor import Tensor
from ._ops.core import method, wrap_dim
from ._ops import creation as _creation
from ._ops.creation import arange, full, linspace, tensor, zeros
from ._ops.elementwise import abs, cast, isnan, where
from ._ops.shape import cat, reshape, stack

__all__ = ["histogram", "histogramdd", "segment_reduce", "nonzero_static", "constant_pad_nd",
           "empty_permuted", "fill", "zero_", "unsafe_chunk", "unsafe_split", "index_reduce",
           "nextafter", "gradient", "polygamma"]

from .special import polygamma  # noqa: E402  (torch.polygamma is torch.special.polygamma)


def _polygamma_method(self, n):
    """polygamma(n) -> Tensor

    See corelib.polygamma().
    """
    return polygamma(n, self)


_polygamma_method.__name__ = "polygamma"
Tensor.polygamma = _polygamma_method

_histogram_result = namedtuple("histogram", ["hist", "bin_edges"])
_histogramdd_result = namedtuple("histogramdd", ["hist", "bin_edges"])


def _tensor_arg(x, op, name="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(x).__name__}")
    return x


def _edges(x, bins, lo_hi, op, dim):
    """Bin edges of one dim: a given 1-D tensor, or ``bins`` + 1 equal bins over the range
    (the data's min/max; an empty range widened by 0.5 on each side; (0, 1) for no data)."""
    if isinstance(bins, Tensor):
        if bins.ndim != 1:
            raise RuntimeError(f"{op}(): bins tensor should have one dimension, but got "
                               f"{bins.ndim} dimensions")
        return cast(bins, x.dtype)
    bins = int(bins)
    if bins <= 0:
        raise RuntimeError(f"{op}(): bins must be > 0, but got {bins} for dimension {dim}")
    if lo_hi is not None:
        lo, hi = float(lo_hi[0]), float(lo_hi[1])
    elif x.numel() == 0:
        lo, hi = 0.0, 1.0
    else:
        lo, hi = float(x.min().item()), float(x.max().item())
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise RuntimeError(f"torch.{op}: dimension {dim}'s range [{lo}, {hi}] is not finite")
    if lo > hi:
        raise RuntimeError(f"{op}(): min should not exceed max, but got min {lo} max {hi}")
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    return linspace(lo, hi, bins + 1, dtype=x.dtype, device=x.device)


def _bin_index(x, edges):
    """(index, inside): each value's bin (right edge of the last bin included)."""
    from ._composites import searchsorted   # noqa: PLC0415
    nb = edges.shape[0] - 1
    idx = searchsorted(edges.contiguous(), x.contiguous(), right=True) - 1
    idx = where(idx == nb, nb - 1, idx)
    inside = (x >= edges[0]) & (x <= edges[-1]) & ~isnan(x) if nb > 0 else x != x
    return where(inside, idx, 0), inside


def _hist_weights(x, weight, op):
    if weight is None:
        return _creation.ones(tuple(x.shape), dtype=x.dtype, device=x.device)
    if tuple(weight.shape) != tuple(x.shape):
        raise RuntimeError(f"{op}(): if weight tensor is provided it should have the same "
                           f"shape as the input tensor excluding its innermost dimension")
    return cast(weight, x.dtype)


def histogram(input, bins, *, range=None, weight=None, density=False, out=None):
    """histogram(input, bins, *, range=None, weight=None, density=False, out=None) -> (Tensor, Tensor)

    Histogram of the values of input: counts (or summed weights) per bin and the bin edges.
    """
    x = _tensor_arg(input, "histogram")
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"torch.histogram: input tensor and bins tensors should have the "
                           f"same dtype, but got input {x.dtype}")
    flat = x.reshape(-1)
    w = _hist_weights(x, weight, "histogram").reshape(-1)
    hist, edges = _histogramdd_flat(flat.reshape(-1, 1), [bins], range, w, density,
                                    "histogram")
    result = _histogram_result(hist, edges[0])
    if out is not None:
        out[0].copy_(result[0])
        out[1].copy_(result[1])
    return result


def histogramdd(input, bins, *, range=None, weight=None, density=False, out=None):
    """histogramdd(input, bins, *, range=None, weight=None, density=False, out=None) -> (Tensor, Tensor[])

    Multi-dimensional histogram of the points in input's innermost dimension.
    """
    x = _tensor_arg(input, "histogramdd")
    if x.ndim < 1:
        raise RuntimeError("torch.histogramdd: input tensor should have at least 1 dimension")
    d = x.shape[-1]
    pts = x.reshape(-1, d)
    w = None if weight is None else _hist_weights(x[..., 0], weight, "histogramdd").reshape(-1)
    if w is None:
        w = _creation.ones((pts.shape[0],), dtype=x.dtype, device=x.device)
    if isinstance(bins, (int, Tensor)) and not (isinstance(bins, Tensor) and bins.ndim == 1
                                                and d == 1):
        bins = [bins] * d if not isinstance(bins, Tensor) else list(bins)
    bins = list(bins)
    if len(bins) != d:
        raise RuntimeError(f"torch.histogramdd: expected {d} sequences of bin edges for each "
                           f"dimension, but got {len(bins)}")
    hist, edges = _histogramdd_flat(pts, bins, range, w, density, "histogramdd")
    return _histogramdd_result(hist, tuple(edges))


def _histogramdd_flat(pts, bins, range, w, density, op):
    d = pts.shape[1]
    if range is not None and len(range) != 2 * d:
        raise RuntimeError(f"torch.{op}: for a {d}-dimensional histogram range should have "
                           f"{2 * d} elements, but got {len(range)}")
    edges, flat_idx, inside, sizes = [], None, None, []
    for k in builtins.range(d):
        col = pts[:, k]
        e = _edges(col, bins[k], None if range is None else range[2 * k:2 * k + 2], op, k)
        idx, ins = _bin_index(col, e)
        nb = e.shape[0] - 1
        edges.append(e)
        sizes.append(nb)
        flat_idx = idx if flat_idx is None else flat_idx * nb + idx
        inside = ins if inside is None else inside & ins
    total = 1
    for s in sizes:
        total *= s
    counts = zeros((total,), dtype=pts.dtype, device=pts.device)
    if pts.shape[0] and total:
        counts = counts.scatter_add(0, flat_idx, where(inside, w, 0.0))
    hist = counts.reshape(tuple(sizes))
    if density:
        volume = None
        for k, e in enumerate(edges):
            shape = [1] * d
            shape[k] = sizes[k]
            width = (e[1:] - e[:-1]).reshape(tuple(shape))
            volume = width if volume is None else volume * width
        hist = hist / (hist.sum() * volume)
    return hist, edges


# ---------------------------------------------------------------------------------------------
_SEGMENT_REDUCTIONS = ("sum", "mean", "max", "min", "prod")


def segment_reduce(data, reduce, *, lengths=None, indices=None, offsets=None, axis=0,
                   unsafe=False, initial=None):
    """segment_reduce(data, reduce, *, lengths=None, indices=None, offsets=None, axis=0, unsafe=False, initial=None) -> Tensor

    Reduce ("sum", "mean", "max", "min", "prod") consecutive segments of data along axis,
    given by their lengths or offsets; an empty segment gives initial (or the reduction's
    identity; NaN for mean).
    """
    x = _tensor_arg(data, "segment_reduce", "data")
    if reduce not in _SEGMENT_REDUCTIONS:
        raise RuntimeError(f"segment_reduce(): reduction {reduce!r} is not supported (expected "
                           f"one of {', '.join(_SEGMENT_REDUCTIONS)})")
    if indices is not None:
        raise NotImplementedError("segment_reduce(): indices based reduction is not supported "
                                  "yet (as in PyTorch)")
    if (lengths is None) == (offsets is None):
        raise RuntimeError("segment_reduce(): exactly one of lengths or offsets must be given")
    axis = wrap_dim(axis, x.ndim, "segment_reduce")
    if lengths is not None:
        lengths = _tensor_arg(lengths, "segment_reduce", "lengths")
        if lengths.ndim != axis + 1:
            raise RuntimeError(f"segment_reduce(): expected lengths of {axis + 1} dims for "
                               f"axis={axis}, got {lengths.ndim}")
        ends = lengths.cumsum(-1)
        starts = ends - lengths
        if not unsafe and bool((lengths < 0).any()):
            raise RuntimeError("segment_reduce(): lengths contains negative value!")
        if not unsafe and lengths.shape[-1] and bool((ends[..., -1] != x.shape[axis]).any()):
            raise RuntimeError("segment_reduce(): Expected all rows of lengths along axis to "
                               "sum to data.size(lengths.dim()-1) when !unsafe.")
    else:
        offsets = _tensor_arg(offsets, "segment_reduce", "offsets")
        if offsets.ndim != axis + 1:
            raise RuntimeError(f"segment_reduce(): expected offsets of {axis + 1} dims for "
                               f"axis={axis}, got {offsets.ndim}")
        starts, ends = offsets[..., :-1], offsets[..., 1:]
    n = x.shape[axis]
    s = starts.shape[-1]
    lead = tuple(x.shape[:axis])
    rest = tuple(x.shape[axis + 1:])
    pos = arange(n, device=x.device)
    # member[..., j, i]: position i of the axis belongs to segment j
    member = (pos >= starts.unsqueeze(-1)) & (pos < ends.unsqueeze(-1))       # lead + (S, N)
    member = member.reshape(lead + (s, n) + (1,) * len(rest))
    vals = x.unsqueeze(axis)                                                 # lead+(1,N)+rest
    count = member.sum(axis + 1)                                             # lead+(S,1..)
    if reduce in ("sum", "mean"):
        out = where(member, vals, 0.0).sum(axis + 1)
        if initial is not None:
            out = out + initial
        if reduce == "mean":
            empty = count == 0
            out = where(empty, math.nan if initial is None else float(initial),
                        out / where(empty, 1, count))
    elif reduce == "prod":
        out = where(member, vals, 1.0).prod(axis + 1)
        if initial is not None:
            out = out * initial
    else:
        fill_value = -math.inf if reduce == "max" else math.inf
        out = where(member, vals, fill_value)
        out = out.amax(axis + 1) if reduce == "max" else out.amin(axis + 1)
        if initial is not None:
            bound = full((), float(initial), dtype=x.dtype, device=x.device)
            from ._ops.elementwise import maximum, minimum   # noqa: PLC0415
            out = maximum(out, bound) if reduce == "max" else minimum(out, bound)
    return out


def nonzero_static(input, *, size, fill_value=-1):
    """nonzero_static(input, *, size, fill_value=-1) -> Tensor

    The first ``size`` indices of nonzero elements, as nonzero() gives them, padded with
    fill_value to shape (size, input.ndim).
    """
    x = _tensor_arg(input, "nonzero_static")
    size = int(size)
    if size < 0:
        raise RuntimeError(f"nonzero_static: 'size' must be an non-negative integer, got {size}")
    idx = x.nonzero()[:size]
    if idx.shape[0] < size:
        pad = full((size - idx.shape[0], x.ndim), fill_value, dtype=_dtype.int64,
                   device=x.device)
        idx = cat([idx, pad])
    return idx


def constant_pad_nd(input, pad, value=0):
    """constant_pad_nd(input, pad, value=0) -> Tensor

    Pad (or, with negative amounts, crop) the trailing dims by ``pad`` (last dim first) with
    the constant value.
    """
    from .nn import functional as F   # noqa: PLC0415
    return F.pad(_tensor_arg(input, "constant_pad_nd"), tuple(pad), mode="constant",
                 value=value)


def empty_permuted(size, physical_layout, *, dtype=None, layout=None, device=None,
                   requires_grad=False, pin_memory=False):
    """empty_permuted(size, physical_layout, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False) -> Tensor

    An uninitialized tensor of shape ``size`` whose memory holds its dims in the order
    ``physical_layout`` (outermost first).
    """
    size, perm = tuple(size), tuple(physical_layout)
    if sorted(perm) != list(builtins.range(len(size))):
        raise RuntimeError(f"empty_permuted(): physical_layout {list(perm)} is not a "
                           f"permutation of the {len(size)} dims")
    phys = _creation.empty(tuple(size[p] for p in perm), dtype=dtype, device=device)
    inverse = [0] * len(perm)
    for i, p in enumerate(perm):
        inverse[p] = i
    out = phys.permute(*inverse) if perm else phys
    return out.requires_grad_(True) if requires_grad else out


def fill(input, value):
    """fill(input, value) -> Tensor

    A tensor shaped like input filled with value (a number or a 0-d tensor); gradients flow
    to a tensor value.
    """
    x = _tensor_arg(input, "fill")
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(f"fill only supports 0-dimension value tensor but got tensor "
                               f"with {value.ndim} dimensions.")
        return cast(value, x.dtype).expand(tuple(x.shape)).clone()
    return full(tuple(x.shape), value, dtype=x.dtype, device=x.device)


def zero_(input):
    """zero_(input) -> Tensor

    Fill input with zeros in place.
    """
    return _tensor_arg(input, "zero_").zero_()


@method()
def unsafe_chunk(input, chunks, dim=0):
    """unsafe_chunk(input, chunks, dim=0) -> List of Tensors

    chunk() without the view-aliasing checks (the same result in corelib).
    """
    return _tensor_arg(input, "unsafe_chunk").chunk(chunks, dim)


@method()
def unsafe_split(input, split_size_or_sections, dim=0):
    """unsafe_split(tensor, split_size_or_sections, dim=0) -> List of Tensors

    split() without the view-aliasing checks (the same result in corelib).
    """
    return _tensor_arg(input, "unsafe_split").split(split_size_or_sections, dim)


# ---------------------------------------------------------------------------------------------
_INDEX_REDUCTIONS = ("prod", "mean", "amax", "amin")


@method()
def index_reduce(input, dim, index, source, reduce, *, include_self=True, out=None):
    """index_reduce(input, dim, index, source, reduce, *, include_self=True, out=None) -> Tensor

    Reduce ("prod", "mean", "amax", "amin") the slices of source into input at the positions
    index gives along dim (with or without input's own values).
    """
    x = _tensor_arg(input, "index_reduce")
    if reduce not in _INDEX_REDUCTIONS:
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or "
                           f"amin but got {reduce}.")
    dim = wrap_dim(dim, builtins.max(x.ndim, 1), "index_reduce")
    index = _tensor_arg(index, "index_reduce", "index")
    if index.ndim > 1:
        raise IndexError("index_reduce_(): Index is supposed to be a vector")
    n = x.shape[dim] if x.ndim else 1
    k = index.shape[0] if index.ndim else 1
    # hit[j, i]: source slice i goes to input slice j; moved to the front for broadcasting
    hit = index.reshape(1, k) == arange(n, device=x.device).reshape(n, 1)       # (n, k)
    xs = x.movedim(dim, 0) if x.ndim else x.reshape(1)
    src = source.movedim(dim, 0) if source.ndim else source.reshape(1)
    tail = (1,) * (xs.ndim - 1)
    hit_b = hit.reshape((n, k) + tail)
    vals = src.unsqueeze(0)                                                     # (1, k, ...)
    hits = hit_b.sum(1)                                                         # (n, 1...)
    touched = hits > 0
    if reduce == "prod":
        r = where(hit_b, vals, 1.0).prod(1)
        r = r * xs if include_self else r
    elif reduce == "mean":
        r = where(hit_b, vals, 0.0).sum(1)
        cnt = hits + 1 if include_self else hits
        r = (r + xs if include_self else r) / where(cnt == 0, 1, cnt).to(r.dtype)
    else:
        big = math.inf if reduce == "amin" else -math.inf
        r = where(hit_b, vals, big)
        r = r.amax(1) if reduce == "amax" else r.amin(1)
        if include_self:
            from ._ops.elementwise import maximum, minimum   # noqa: PLC0415
            r = maximum(r, xs) if reduce == "amax" else minimum(r, xs)
    r = cast(where(touched, r, xs), x.dtype)
    result = r.movedim(0, dim) if x.ndim else r.reshape(())
    return result if out is None else out.copy_(result)


def nextafter(input, other, *, out=None):
    """nextafter(input, other, *, out=None) -> Tensor

    The next floating-point value after input towards other, elementwise.
    """
    x = _tensor_arg(input, "nextafter")
    y = other if isinstance(other, Tensor) else tensor(other, dtype=x.dtype, device=x.device)
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"\"nextafter_cpu\" not implemented for '{x.dtype}'")
    from ._ops.shape import broadcast_tensors as _bt  # noqa: PLC0415
    x, y = _bt(x, y)
    info = _dtype.finfo(x.dtype)
    tiny = info.smallest_normal * info.eps      # the smallest subnormal
    up = y > x
    # the spacing of x: eps * 2^floor(log2|x|) for normal x, the subnormal step below
    ax = abs(x)
    normal = ax >= info.smallest_normal
    safe = where(normal, ax, 1.0)
    exponent = safe.log2().floor()
    exponent = where(exponent.exp2() > safe, exponent - 1, exponent)     # log2 rounded up
    exponent = where((exponent + 1).exp2() <= safe, exponent + 1, exponent)
    step = where(normal, (exponent - math.log2(1.0 / info.eps)).exp2(), tiny)
    # going towards zero from an exact power of two, the spacing below is half as wide
    pow2 = normal & (exponent.exp2() == ax)
    toward_zero = (up & (x < 0)) | (~up & (x > 0))
    step = where(pow2 & toward_zero & (ax > info.smallest_normal), step / 2, step)
    moved = where(up, x + step, x - step)
    moved = where(x == 0, where(up, tiny, -tiny), moved)
    result = where(x == y, y, moved)
    result = where(isnan(x) | isnan(y), x + y, result)
    result = cast(result, x.dtype)
    return result if out is None else out.copy_(result)


def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """gradient(input, *, spacing=1, dim=None, edge_order=1) -> List of Tensors

    Second-order central differences of input in the interior and first- or second-order
    one-sided differences at the edges, along each dim (uniform spacing or coordinates).
    """
    x = _tensor_arg(input, "gradient")
    if edge_order not in (1, 2):
        raise RuntimeError(f"torch.gradient only supports edge_order=1 and edge_order=2, got "
                           f"{edge_order}")
    if dim is None:
        dims = list(builtins.range(x.ndim))
    elif isinstance(dim, int):
        dims = [wrap_dim(dim, x.ndim, "gradient")]
    else:
        dims = [wrap_dim(d, x.ndim, "gradient") for d in dim]
    if spacing is None:
        spacing = 1
    if isinstance(spacing, (list, tuple)):
        spacings = list(spacing)
        if len(spacings) != len(dims):
            raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar "
                               f"or it's spacing and dim arguments to have the same length, "
                               f"but got a spacing argument of length {len(spacings)} and a "
                               f"dim argument of length {len(dims)}.")
    else:
        spacings = [spacing] * len(dims)
    out = []
    for d, h in zip(dims, spacings):
        n = x.shape[d]
        if n < edge_order + 1:
            raise RuntimeError(f"torch.gradient expected each dimension size to be at least "
                               f"edge_order+1")
        out.append(_gradient_1d(x, d, h, edge_order))
    return tuple(out)


def _gradient_1d(x, d, h, edge_order):
    xf = x if x.dtype.is_floating_point else cast(x, _dtype.get_default_dtype())
    n = xf.shape[d]
    f = lambda a, b: xf.narrow(d, a, b - a)   # noqa: E731
    if not isinstance(h, Tensor):
        h = float(h)
        interior = (f(2, n) - f(0, n - 2)) / (2 * h)
        if edge_order == 1:
            first = (f(1, 2) - f(0, 1)) / h
            last = (f(n - 1, n) - f(n - 2, n - 1)) / h
        else:
            first = (-1.5 * f(0, 1) + 2 * f(1, 2) - 0.5 * f(2, 3)) / h
            last = (0.5 * f(n - 3, n - 2) - 2 * f(n - 2, n - 1) + 1.5 * f(n - 1, n)) / h
        return cat([first, interior, last], d)
    # coordinates: non-uniform spacing (numpy's formulas)
    shape = [1] * xf.ndim
    shape[d] = -1
    c = cast(h, xf.dtype)
    dx = c[1:] - c[:-1]
    h1 = dx[:-1].reshape(shape)
    h2 = dx[1:].reshape(shape)
    a = -h2 / (h1 * (h1 + h2))
    b = (h2 - h1) / (h1 * h2)
    cc = h1 / (h2 * (h1 + h2))
    interior = a * f(0, n - 2) + b * f(1, n - 1) + cc * f(2, n)
    if edge_order == 1:
        first = (f(1, 2) - f(0, 1)) / dx[0]
        last = (f(n - 1, n) - f(n - 2, n - 1)) / dx[-1]
    else:
        d1, d2 = dx[0], dx[1]
        first = (-(2 * d1 + d2) / (d1 * (d1 + d2)) * f(0, 1) + (d1 + d2) / (d1 * d2) * f(1, 2)
                 - d1 / (d2 * (d1 + d2)) * f(2, 3))
        d1, d2 = dx[-2], dx[-1]
        last = (d2 / (d1 * (d1 + d2)) * f(n - 3, n - 2) - (d2 + d1) / (d1 * d2) * f(n - 2, n - 1)
                + (2 * d2 + d1) / (d2 * (d1 + d2)) * f(n - 1, n))
    return cat([first, interior, last], d)


_GRID_MODES = ("bilinear", "nearest", "bicubic")
_GRID_PADDING = ("zeros", "border", "reflection")


def _grid_sampler(op, input, grid, interpolation_mode, padding_mode, align_corners):
    from .nn import functional as F   # noqa: PLC0415
    try:
        mode, padding = _GRID_MODES[interpolation_mode], _GRID_PADDING[padding_mode]
    except (IndexError, TypeError):
        raise RuntimeError(f"{op}(): unknown interpolation_mode {interpolation_mode!r} or "
                           f"padding_mode {padding_mode!r}") from None
    return F.grid_sample(input, grid, mode=mode, padding_mode=padding,
                         align_corners=align_corners)


def grid_sampler_2d(input, grid, interpolation_mode, padding_mode, align_corners):
    """grid_sampler_2d(input, grid, interpolation_mode, padding_mode, align_corners) -> Tensor

    nn.functional.grid_sample of a 4-D input with the modes as integers (interpolation 0
    bilinear, 1 nearest, 2 bicubic; padding 0 zeros, 1 border, 2 reflection).
    """
    return _grid_sampler("grid_sampler_2d", input, grid, interpolation_mode, padding_mode,
                         align_corners)


def grid_sampler_3d(input, grid, interpolation_mode, padding_mode, align_corners):
    """grid_sampler_3d(input, grid, interpolation_mode, padding_mode, align_corners) -> Tensor

    nn.functional.grid_sample of a 5-D input with the modes as integers (as grid_sampler_2d).
    """
    return _grid_sampler("grid_sampler_3d", input, grid, interpolation_mode, padding_mode,
                         align_corners)


__all__ += ["grid_sampler_2d", "grid_sampler_3d"]


@method()
def igamma(input, other, *, out=None):
    """igamma(input, other, *, out=None) -> Tensor

    The regularized lower incomplete gamma function (special.gammainc).
    """
    from .special import gammainc   # noqa: PLC0415
    return gammainc(input, other, out=out)


@method()
def igammac(input, other, *, out=None):
    """igammac(input, other, *, out=None) -> Tensor

    The regularized upper incomplete gamma function (special.gammaincc).
    """
    from .special import gammaincc   # noqa: PLC0415
    return gammaincc(input, other, out=out)


__all__ += ["igamma", "igammac"]


@method()
def i0(input, *, out=None):
    """i0(input, *, out=None) -> Tensor

    The modified Bessel function of the first kind of order 0 (special.i0).
    """
    from .special import i0 as _i0   # noqa: PLC0415
    return _i0(input, out=out)


__all__ += ["i0"]


def _chunk_cat(tensors, dim, num_chunks, *, out=None):
    """_chunk_cat(tensors, dim, num_chunks, *, out=None) -> Tensor

    Each tensor split into num_chunks equal chunks along dim (the last zero-padded), each chunk
    flattened, and the chunks of all tensors concatenated: shape (*leading, num_chunks, -1).
    """
    if not tensors:
        raise RuntimeError("_chunk_cat expects a non-empty input tensor list")
    if num_chunks < 1:
        raise RuntimeError("_chunk_cat expects positive num_chunks")
    pieces, d = [], None
    for x in tensors:
        _tensor_arg(x, "_chunk_cat", "tensors")
        d = wrap_dim(dim, x.ndim, "_chunk_cat")
        size = x.shape[d]
        chunk = -(-size // num_chunks)
        if chunk * num_chunks > size:
            shape = list(x.shape)
            shape[d] = chunk * num_chunks - size
            x = cat([x, zeros(tuple(shape), dtype=x.dtype, device=x.device)], d)
        pieces.append(x.reshape(tuple(x.shape[:d]) + (num_chunks, -1)))
    result = cat(pieces, d + 1)
    return result if out is None else out.copy_(result)


def _rdiv(self, other):
    """__rdiv__(other) -> Tensor

    other / self (PyTorch's name for the reflected division).
    """
    return self.__rtruediv__(other)


_rdiv.__name__ = "__rdiv__"
Tensor.__rdiv__ = _rdiv
__all__ += ["_chunk_cat"]
