"""Op table: shape and movement ops (joining, splitting views, diagonals, flips, padding)."""
import numpy as np

import corelib
from corelib._ops.shape import pad as _pad
from .opinfo import OpInfo, Sample, ALL, NUMERIC, make_tensor, filled_special


def _samples(build):
    """A sample factory from ``build(t)``, where ``t(shape, noncontiguous=False)`` makes an
    input tensor of the dtype and device under test (``t.repeats(values)``: an int64 one)."""
    def samples(dtype, device):
        def t(shape, nc=False, **kw):
            return make_tensor(shape, dtype, device, noncontiguous=nc, **kw)
        t.repeats = lambda values: corelib.tensor(values, device=device)   # int64 on device
        return [s if isinstance(s, Sample) else Sample(*s) for s in build(t)]
    return samples


def _unary(*calls, shapes=((3, 4), (2, 3, 4), (0, 4)), nc_shape=(3, 4)):
    """Samples applying each kwargs/args variant in ``calls`` to several inputs."""
    def build(t):
        out = []
        for args, kw in calls:
            out += [((t(s),) + args, dict(kw)) for s in shapes]
            out.append(((t(nc_shape, nc=True),) + args, dict(kw)))
        return out
    return _samples(build)


def _cat_samples(t):
    return [(([t((2, 3)), t((1, 3)), t((4, 3), nc=True)],), {}),
            (([t((2, 3)), t((2, 1)), t((2, 0))], -1), {}),
            (([t((2, 3))],), {}),
            (([t((0,)), t((2, 3)), t((0,))],), {}),
            (([t((3,)), t((2,))],), {})]


def _np_cat(tensors, dim=0):
    kept = [a for a in tensors if not (a.ndim == 1 and a.shape[0] == 0)] or tensors[:1]
    return np.concatenate(kept, axis=dim)


def _stack_samples(t):
    return [(([t((2, 3)), t((2, 3), nc=True)],), {}), (([t((2, 3)), t((2, 3))], -1), {}),
            (([t(()), t(())],), {}), (([t((0, 2)), t((0, 2))], 1), {})]


def _mixed_cat_samples(dtype, device):
    return [Sample(([make_tensor((2, 3), dtype, device), make_tensor((1, 3), "int32", device),
                     make_tensor((1, 3), "bool", device)],)),
            Sample(([make_tensor((2,), "uint8", device), make_tensor((3,), dtype, device)],))]


def _nary(t):
    return [(([t(()), t(())],), {}), (([t((3,)), t((3,), nc=True)],), {}),
            (([t((2, 3)), t((2, 3))],), {}), (([t((2, 3, 2)), t((2, 3, 2))],), {})]


def _split_samples(t):
    return [((t((5, 4)), 2), {}), ((t((5, 4)), [1, 3], 1), {}), ((t((5, 4), nc=True), 3, -1), {}),
            ((t((0, 4)), 2), {}), ((t((6,)), [2, 0, 4]), {})]


def _chunk_samples(t):
    return [((t((5, 4)), 2), {}), ((t((5, 4)), 3, 1), {}), ((t((5, 4), nc=True), 4, -1), {}),
            ((t((7,)), 3), {})]


def _tensor_split_samples(t):
    return [((t((7, 4)), 3), {}), ((t((7, 4)), [1, 5]), {}), ((t((5, 4), nc=True), 3, 1), {}),
            ((t((6,)), [-2, 2, 10]), {}), ((t((2, 5)), (4, 1), 1), {})]


def _np_tensor_split(a, spec, dim=0):
    return np.array_split(a, spec if isinstance(spec, int) else
                          [min(i if i >= 0 else i + a.shape[dim], a.shape[dim]) for i in spec],
                          axis=dim)


def _np_split(a, spec, dim=0):
    n = a.shape[dim]
    if isinstance(spec, int):
        cuts = list(range(spec, n, spec))
    else:
        cuts = list(np.cumsum(spec)[:-1])
    return np.split(a, cuts, axis=dim) if n else [a]


def _np_chunk(a, chunks, dim=0):
    n = a.shape[dim]
    if n == 0:            # PyTorch: ``chunks`` empty pieces
        return [a] * chunks
    return _np_split(a, -(-n // chunks), dim)


def _np_diag_embed(a, offset=0, dim1=-2, dim2=-1):
    n = a.shape[-1] + abs(offset)
    out = np.zeros(a.shape[:-1] + (n, n), dtype=a.dtype)
    idx = np.arange(a.shape[-1])
    rows, cols = (idx, idx + offset) if offset >= 0 else (idx - offset, idx)
    out[..., rows, cols] = a
    nd = out.ndim
    d1, d2 = dim1 % nd, dim2 % nd
    rest = [d for d in range(nd) if d not in (d1, d2)]
    order = [None] * nd
    for d, src in zip(rest, range(nd - 2)):
        order[d] = src
    order[d1], order[d2] = nd - 2, nd - 1
    return np.transpose(out, order)


def _np_repeat_interleave(a, repeats, dim=None):
    return np.repeat(a, repeats, axis=dim)


def _np_pad(a, pad, mode="constant", value=None):
    k = len(pad) // 2
    widths = [(0, 0)] * (a.ndim - k) + [(pad[2 * i], pad[2 * i + 1]) for i in reversed(range(k))]
    crop = tuple(slice(max(-l, 0), a.shape[d] - max(-r, 0)) for d, (l, r) in enumerate(widths))
    a = a[crop]
    widths = [(max(l, 0), max(r, 0)) for l, r in widths]
    np_mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge",
               "circular": "wrap"}[mode]
    if mode == "constant":
        return np.pad(a, widths, constant_values=0 if value is None else value)
    return np.pad(a, widths, mode=np_mode)


def _pad_samples(t):
    return [((t((2, 3)), (1, 2)), {}), ((t((2, 3, 4)), (1, 0, 2, 1)), dict(value=1.5)),
            ((t((2, 5)), (-1, 2)), {}), ((t((0, 3)), (1, 1)), {}),
            ((t((2, 4), nc=True), (2, 1, 1, 1)), {}),
            ((t((1, 2, 4)), (3, 1, 1, 0)), dict(mode="reflect")),
            ((t((1, 2, 4), nc=True), (3, 2)), dict(mode="reflect")),
            ((t((1, 2, 3)), (2, 4, 1, 1)), dict(mode="replicate")),
            ((t((2, 3, 3)), (3, 2, 0, 2)), dict(mode="circular"))]


def _meshgrid_samples(t):
    return [((t((3,)), t((2,))), {}), ((t((3,)), t((2,)), t(())), dict(indexing="xy")),
            ((t((3,), nc=True), t((0,))), dict(indexing="ij")), ((t((4,)),), {})]


def _np_meshgrid(*arrays, indexing="ij"):
    return np.meshgrid(*[a.reshape(-1) for a in arrays], indexing=indexing)


def _movement(t):
    return [((t((3, 4, 2)), (0, 2), (2, 0)), {}), ((t((3, 4), nc=True), -1, 0), {})]


V = dict(dtypes=ALL)
OPS = [
    OpInfo("cat", corelib.cat, _samples(_cat_samples), ref=_np_cat, **V),
    OpInfo("cat", corelib.cat, _mixed_cat_samples, variant="promotion", dtypes=NUMERIC,
           grad=False),
    OpInfo("concatenate", corelib.concatenate, _samples(_cat_samples), ref=_np_cat,
           dtypes=("float32",), grad=False),
    OpInfo("stack", corelib.stack, _samples(_stack_samples), ref=lambda ts, dim=0: np.stack(
        ts, dim), **V),
    OpInfo("hstack", corelib.hstack, _samples(_nary), ref=np.hstack, **V),
    OpInfo("vstack", corelib.vstack, _samples(_nary), ref=np.vstack, **V),
    OpInfo("dstack", corelib.dstack, _samples(_nary), ref=np.dstack, **V),
    OpInfo("column_stack", corelib.column_stack, _samples(_nary), ref=np.column_stack, **V),
    OpInfo("split", corelib.split, _samples(_split_samples), ref=_np_split, gradgrad=True, **V),
    OpInfo("chunk", corelib.chunk, _samples(_chunk_samples), ref=_np_chunk, gradgrad=True, **V),
    OpInfo("tensor_split", corelib.tensor_split, _samples(_tensor_split_samples),
           ref=_np_tensor_split, **V),
    OpInfo("unbind", corelib.unbind, _unary(((), {}), ((1,), {}), ((-1,), {}),
                                            shapes=((3, 4), (2, 3, 4))),
           ref=lambda a, dim=0: list(np.moveaxis(a, dim, 0)), gradgrad=True, **V),
    OpInfo("narrow", corelib.narrow, _unary(((0, 1, 1), {}), ((-1, -3, 2), {}),
                                            shapes=((3, 4), (2, 3, 4))),
           ref=lambda a, dim, start, length: np.take(
               a, range(start % a.shape[dim], start % a.shape[dim] + length), axis=dim), **V),
    OpInfo("select", corelib.select, _unary(((0, 1), {}), ((-1, -2), {}),
                                            shapes=((3, 4), (2, 3, 4))),
           ref=lambda a, dim, index: np.take(a, index, axis=dim), **V),
    OpInfo("diagonal", corelib.diagonal, _unary(((), {}), ((1,), {}), ((), dict(
        offset=-1, dim1=1, dim2=0)), ((), dict(offset=5))),
           ref=lambda a, offset=0, dim1=0, dim2=1: np.diagonal(a, offset, dim1, dim2),
           gradgrad=True, **V),
    OpInfo("diagonal", corelib.diagonal, _unary(((0, -1, 0), {}), shapes=((2, 3, 4),),
                                                nc_shape=(2, 3, 4)),
           ref=lambda a, o, d1, d2: np.diagonal(a, o, d1, d2), variant="3d", **V),
    OpInfo("diag_embed", corelib.diag_embed, _unary(((), {}), ((1,), {}), ((-1, 0, 1), {}),
                                                    shapes=((3,), (2, 3), (0,)),
                                                    nc_shape=(2, 3)),
           ref=_np_diag_embed, **V),
    OpInfo("diag", corelib.diag, _unary(((), {}), ((1,), {}), ((-2,), {}),
                                        shapes=((3,), (3, 4), (0,), (0, 2))),
           ref=np.diag, **V),
    OpInfo("diagflat", corelib.diagflat, _unary(((), {}), ((-1,), {}), shapes=((3,), (2, 2))),
           ref=np.diagflat, **V),
    OpInfo("trace", corelib.trace, _unary(((), {}), shapes=((3, 4), (4, 2), (0, 3))),
           ref=lambda a: np.trace(a).astype(a.dtype if a.dtype.kind == "f" else np.int64),
           dtypes=NUMERIC),
    OpInfo("tril", corelib.tril, _unary(((), {}), ((1,), {}), ((-1,), {})), ref=np.tril, **V),
    OpInfo("triu", corelib.triu, _unary(((), {}), ((2,), {}), ((-1,), {})), ref=np.triu, **V),
    OpInfo("flip", corelib.flip, _unary((((0,),), {}), (((0, -1),), {}),
                                        shapes=((3, 4), (2, 3, 4), (0, 2))),
           ref=lambda a, dims: np.flip(a, dims), **V),
    OpInfo("fliplr", corelib.fliplr, _unary(((), {})), ref=np.fliplr, **V),
    OpInfo("flipud", corelib.flipud, _unary(((), {}), shapes=((3,), (3, 4), (0, 2))),
           ref=np.flipud, **V),
    OpInfo("roll", corelib.roll, _unary(((1,), {}), ((-2, 1), {}), (((1, 3), (0, -1)), {}),
                                        shapes=((3, 4), (2, 3, 4))),
           ref=lambda a, shifts, dims=None: np.roll(a, shifts, dims), **V),
    OpInfo("rot90", corelib.rot90, _unary(((), {}), ((2,), {}), ((-1, (1, 0)), {}),
                                          ((3, (0, 1)), {})),
           ref=lambda a, k=1, dims=(0, 1): np.rot90(a, k, dims), **V),
    OpInfo("repeat", corelib.Tensor.repeat, _unary(((2, 1), {}), ((1, 2, 3), {}),
                                                   shapes=((3, 4), (0, 2)), nc_shape=(2, 3)),
           ref=lambda a, *r: np.tile(a, r), torch_ref=lambda x, *r: x.repeat(*r), **V),
    OpInfo("tile", corelib.tile, _unary((((2,),), {}), (((2, 1, 2),), {}),
                                        shapes=((3, 4), (3,)), nc_shape=(2, 3)),
           ref=np.tile, **V),
    OpInfo("repeat_interleave", corelib.repeat_interleave,
           _unary(((2,), {}), ((3, 1), {}), ((2, -1), {}), shapes=((3, 4), (0, 2)),
                  nc_shape=(2, 3)),
           ref=_np_repeat_interleave, **V),
    OpInfo("repeat_interleave", corelib.repeat_interleave,
           _samples(lambda t: [((t((3, 2), nc=nc), t.repeats([1, 0, 2]), 0), {})
                               for nc in (False, True)] +
                    [((t((3, 2), nc=nc), t.repeats([2]), 1), {}) for nc in (False, True)]),
           ref=lambda a, r, dim: np.repeat(a, r, axis=dim), variant="tensor", **V),
    OpInfo("meshgrid", corelib.meshgrid, _samples(_meshgrid_samples), ref=_np_meshgrid, **V),
    OpInfo("movedim", corelib.movedim, _samples(_movement), ref=np.moveaxis, **V),
    OpInfo("swapaxes", corelib.swapaxes, _samples(lambda t: [((t((3, 4, 2)), 0, -1), {})]),
           ref=np.swapaxes, **V),
    OpInfo("broadcast_to", corelib.broadcast_to, _unary((((2, 3, 4),), {}), shapes=((3, 1),),
                                                        nc_shape=(3, 4)),
           ref=np.broadcast_to, **V),
    OpInfo("broadcast_tensors", corelib.broadcast_tensors, lambda dt, dev: [
        Sample((make_tensor((3, 1), dt, dev), make_tensor((4,), dt, dev),
                make_tensor((), dt, dev))),
        Sample((make_tensor((2, 1, 3), dt, dev, noncontiguous=True), make_tensor((0, 1), dt, dev)))],
        ref=np.broadcast_arrays, **V),
    OpInfo("unflatten", corelib.unflatten, _unary(((1, (2, -1)), {}), shapes=((3, 4),)),
           ref=lambda a, d, s: a.reshape(a.shape[:d] + tuple(s) + a.shape[d + 1:]), **V),
    OpInfo("squeeze", corelib.squeeze, _unary((((0, -1),), {}), shapes=((1, 3, 1),),
                                              nc_shape=(1, 4)),
           ref=lambda a, dims: np.squeeze(a, tuple(d for d in dims if a.shape[d] == 1)), **V),
    OpInfo("pad", _pad, _samples(_pad_samples), ref=_np_pad, torch_ref="nn.functional.pad",
           dtypes=("float32", "float64"), gradgrad=True),
    OpInfo("pad", _pad, _samples(lambda t: _pad_samples(t)[:5]), ref=_np_pad,
           torch_ref="nn.functional.pad", variant="constant", dtypes=("int64", "bool"),
           grad=False),
]


# ---------------------------------------------------------------------------------------------
# special (forward-only) samples: every entry's samples refilled with NaN/+-inf/signed zeros
# (values that are only moved must arrive unchanged), plus zero-size inputs where the regular
# samples lack them
_EMPTY = {
    "hstack": lambda t: [(([t((0, 3)), t((0, 2))],), {})],
    "vstack": lambda t: [(([t((0, 3)), t((2, 3))],), {})],
    "dstack": lambda t: [(([t((0, 3)), t((0, 3))],), {})],
    "column_stack": lambda t: [(([t((0,)), t((0, 2))],), {})],
    "chunk": lambda t: [((t((0, 4)), 2), {}), ((t((4, 0)), 3, 1), {})],
    "tensor_split": lambda t: [((t((0, 4)), 2), {}), ((t((5, 0)), [1, 3]), {})],
    "unbind": lambda t: [((t((2, 0)),), {}), ((t((0, 3)), 1), {})],
    "narrow": lambda t: [((t((0, 4)), 1, 1, 2), {}), ((t((3, 4)), 0, 1, 0), {})],
    "select": lambda t: [((t((0, 4)), 1, 2), {})],
    "diagonal[3d]": lambda t: [((t((0, 3, 4)), 0, -1, 0), {})],
    "diagflat": lambda t: [((t((0,)),), {})],
    "roll": lambda t: [((t((0, 3)), 1), {}), ((t((0, 3)), 2, 1), {})],
    "tile": lambda t: [((t((0, 2)), (2,)), {})],
    "repeat_interleave[tensor]": lambda t: [((t((0, 2)), t.repeats(np.zeros(0, np.int64)), 0),
                                             {})],
    "movedim": lambda t: [((t((0, 3, 2)), 0, 2), {})],
    "swapaxes": lambda t: [((t((0, 3, 2)), 0, -1), {}), ((t((3, 4, 2), nc=True), 0, 1), {})],
    "broadcast_to": lambda t: [((t((0, 1)), (0, 3)), {})],
    "unflatten": lambda t: [((t((0, 4)), 1, (2, 2)), {})],
    "squeeze": lambda t: [((t((1, 0, 1)), (0, 2)), {})],
}
for _info in OPS:
    if "float32" not in _info.dtypes:
        continue
    _extra = _EMPTY.get(_info.id)
    _info.special = filled_special(_info.samples, _samples(_extra) if _extra else None)
    _info.special_dtypes = ("float32",)
