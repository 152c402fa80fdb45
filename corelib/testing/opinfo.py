"""The op test table: one ``OpInfo`` per op, with sample inputs and references.

This is also the backend conformance kit: a third-party backend runs the same table against
its device (``pytest --pyargs corelib.testing`` style, see tests/ops/). Each entry says how to
call the op, which dtypes it supports, how to build samples (several shapes incl. 0-d, empty,
non-contiguous views and broadcasting) and how to check it:

* ``ref``: an independent NumPy reference taking NumPy arrays (same args and kwargs);
* ``torch_ref``: the name (or callable) of the PyTorch equivalent, used when torch is
  installed; it also checks the result dtype, so promotion rules are compared too;
* gradients: ``gradcheck`` in float64 (``grad=False`` for non-differentiable ops) and
  ``gradgradcheck`` unless ``gradgrad=False``; an entry declared differentiable fails when its
  output comes back without autograd history;
* ``special``: forward-only samples with the values where kernels go wrong (NaN, inf, -inf,
  signed zeros, ties, zero-size and strided inputs, rank-deficient matrices), checked against
  ``special_ref`` (a NumPy reference that encodes PyTorch's rule there, e.g. NaN wins in
  max/argmax/sort; by default ``ref``; None: PyTorch only) and PyTorch. Gradients never see
  them. ``Sample.outputs`` names the outputs such a sample compares where the rest is not
  defined (indices of tied values).

Sample factories build every tensor (inputs, indices, masks, weights, constants) on the device
they are given, never on the cpu unless a sample means to mix devices the way PyTorch allows
(a 0-d cpu operand, cpu indices); references get NumPy arrays (``to_numpy``).
"""
from __future__ import annotations

import itertools
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

import corelib

FLOATS = ("float32", "float64")
ALL_FLOATS = ("float16", "float32", "float64")
INTS = ("uint8", "int8", "int16", "int32", "int64")
SIGNED_INTS = ("int8", "int16", "int32", "int64")
NUMERIC = FLOATS + ("int32", "int64")
ALL_NUMERIC = ALL_FLOATS + INTS
ALL = ALL_NUMERIC + ("bool",)


@dataclass
class Sample:
    """One call: ``op(*args, **kwargs)``. Tensors inside args are corelib tensors."""
    args: tuple
    kwargs: dict = field(default_factory=dict)
    name: str = ""
    outputs: tuple | None = None    # positions of the outputs to compare (None: all)

    def __repr__(self):
        def show(a):
            if isinstance(a, corelib.Tensor):
                return f"T{tuple(a.shape)}:{a.dtype.name}" + ("" if _contiguous(a) else "nc")
            if isinstance(a, (list, tuple)):
                return "[" + ",".join(show(x) for x in a) + "]"
            return repr(a)
        kw = ",".join(f"{k}={show(v)}" for k, v in self.kwargs.items())
        return f"{self.name}({','.join(show(a) for a in self.args)}{',' if kw else ''}{kw})"


def _contiguous(t):
    """``t.is_contiguous()``, or True where the device has no kernel to tell (a repr must not
    need one)."""
    from corelib.dispatch import KernelNotImplementedError
    try:
        return t.is_contiguous()
    except KernelNotImplementedError:
        return True


@dataclass
class OpInfo:
    name: str
    op: Callable                              # the corelib callable
    samples: Callable[[str, str], list]       # (dtype name, device) -> [Sample]
    dtypes: tuple = FLOATS
    ref: Callable | None = None               # NumPy reference
    torch_ref: Any = "same"                   # torch function name/callable; None to skip
    grad: bool = True
    gradgrad: bool = True      # gradgradcheck too (False where PyTorch has no 2nd derivative)
    grad_dtypes: tuple = ("float64",)
    atol: float = 1e-5
    rtol: float = 1.3e-6
    check_dtype: bool = True                  # compare result dtype with torch's
    variant: str = ""                         # label for entries that share a name
    special: Callable | None = None           # (dtype, device) -> forward-only special samples
    special_ref: Any = "same"                 # their NumPy reference ("same": ref; None: none)
    special_dtypes: tuple | None = None       # default: float32 (else the first float dtype)
    special_skip: dict = field(default_factory=dict)   # device type -> reason to skip them

    @property
    def id(self):
        return self.name + (f"[{self.variant}]" if self.variant else "")

    @property
    def special_types(self):
        """The dtypes the special samples run in."""
        if self.special_dtypes is not None:
            return tuple(d for d in self.special_dtypes if d in self.dtypes)
        floats = [d for d in ("float32", "float64", "float16") if d in self.dtypes]
        return tuple(floats[:1]) or self.dtypes[:1]


# ---------------------------------------------------------------------------------------------
# sample builders
_GENERATORS = []


def sample_rng(seed):
    """A NumPy generator for sample data (``seed_samples`` restarts it)."""
    rng = np.random.default_rng(seed)
    _GENERATORS.append((rng, seed))
    return rng


def seed_samples(key):
    """Restart every sample generator from ``key`` (e.g. "add-float32"): an entry's samples
    are then the same data on every device, whichever tests ran before."""
    base = zlib.crc32(key.encode())
    for rng, seed in _GENERATORS:
        rng.bit_generator.state = np.random.default_rng([base, seed]).bit_generator.state


_rng = sample_rng(1234)


def make_tensor(shape, dtype, device="cpu", *, low=None, high=None, requires_grad=False,
                noncontiguous=False, exclude_zero=False):
    """A random tensor made from NumPy data; ``noncontiguous`` returns a strided view."""
    shape = tuple(shape)
    dt = np.dtype(dtype)
    full_shape = shape[:-1] + (shape[-1] * 2,) if noncontiguous and shape else shape
    if dt.kind == "b":
        arr = np.asarray(_rng.random(full_shape) > 0.5)
    elif dt.kind in "iu":
        lo = 0 if dt.kind == "u" else (-9 if low is None else low)
        hi = 10 if high is None else high
        lo = max(lo, 0) if dt.kind == "u" else lo
        arr = np.asarray(_rng.integers(lo, hi, size=full_shape)).astype(dt)
        if exclude_zero:
            arr[arr == 0] = 1
    else:
        lo = -3.0 if low is None else low
        hi = 3.0 if high is None else high
        arr = np.asarray(_rng.random(full_shape) * (hi - lo) + lo).astype(dt)
        if exclude_zero:
            arr[np.abs(arr) < 0.1] = 0.5
    t = strided_view(arr, device) if noncontiguous and shape else corelib.tensor(arr, device=device)
    if requires_grad:
        t.requires_grad_(True)
    return t


def strided_view(arr, device):
    """``arr[..., ::2]`` on ``device`` as a strided view, made by slicing there; a contiguous
    tensor of the same values where the device has no slicing kernel (it cannot hold such
    views), so its other checks still run."""
    from corelib.dispatch import KernelNotImplementedError, registry
    try:
        registry.kernel("getitem", corelib.device(device).type)
    except KernelNotImplementedError:
        return corelib.tensor(arr[..., ::2], device=device)
    return corelib.tensor(arr, device=device)[..., ::2]


UNARY_SHAPES = [(), (0,), (7,), (3, 4), (2, 3, 4)]


def unary_samples(low=None, high=None, shapes=UNARY_SHAPES, **kwargs):
    """Sample factory for elementwise unary ops (incl. 0-d, empty, non-contiguous)."""
    def samples(dtype, device):
        out = [Sample((make_tensor(s, dtype, device, low=low, high=high),), dict(kwargs))
               for s in shapes]
        out.append(Sample((make_tensor((3, 5), dtype, device, low=low, high=high,
                                       noncontiguous=True),), dict(kwargs)))
        return out
    samples.kwargs = kwargs    # unary_special reuses them
    return samples


BINARY_SHAPES = [((), ()), ((5,), (5,)), ((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)),
                 ((0, 3), (3,)), ((3, 4), ())]


def binary_samples(low=None, high=None, scalars=(2.5, -3), exclude_zero=False, **kwargs):
    """Sample factory for broadcasting binary ops (tensor-tensor and tensor-scalar)."""
    def samples(dtype, device):
        out = []
        for sa, sb in BINARY_SHAPES:
            out.append(Sample((make_tensor(sa, dtype, device, low=low, high=high),
                               make_tensor(sb, dtype, device, low=low, high=high,
                                           exclude_zero=exclude_zero)), dict(kwargs)))
        out.append(Sample((make_tensor((3, 4), dtype, device, low=low, high=high,
                                       noncontiguous=True),
                           make_tensor((3, 4), dtype, device, low=low, high=high,
                                       exclude_zero=exclude_zero)), dict(kwargs)))
        for s in scalars:
            if np.dtype(dtype).kind == "u" and s < 0:
                continue
            out.append(Sample((make_tensor((3, 4), dtype, device, low=low, high=high), s),
                              dict(kwargs)))
        if corelib.device(device).type != "cpu":
            # a 0-d cpu tensor operand joins the device's tensor, as a Python scalar would
            out.append(Sample((make_tensor((3, 4), dtype, device, low=low, high=high),
                               make_tensor((), dtype, "cpu", low=low, high=high,
                                           exclude_zero=exclude_zero)), dict(kwargs),
                              name="cpu_scalar"))
        return out
    samples.kwargs, samples.scalars = kwargs, scalars    # binary_special reuses them
    return samples


REDUCTION_DIMS = [dict(), dict(dim=0), dict(dim=-1, keepdim=True), dict(dim=(0, 2)),
                  dict(dim=1)]


def reduction_samples(low=None, high=None, dims=REDUCTION_DIMS, empty_ok=True):
    def samples(dtype, device):
        out = [Sample((make_tensor((2, 3, 4), dtype, device, low=low, high=high),), dict(kw))
               for kw in dims]
        out.append(Sample((make_tensor((), dtype, device, low=low, high=high),)))
        out.append(Sample((make_tensor((3, 4), dtype, device, low=low, high=high,
                                       noncontiguous=True),), dict(dim=1)))
        if empty_ok:
            out.append(Sample((make_tensor((0, 3), dtype, device),), dict(dim=1)))
        return out
    return samples


# ---------------------------------------------------------------------------------------------
# special values (forward-only samples)
NAN, INF = float("nan"), float("inf")
SPECIAL_VALUES = (NAN, INF, -INF, 0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0)
SPECIAL_PAIRS = (NAN, INF, -INF, 0.0, -0.0, 1.0, -2.5)   # binary: every ordered pair


def is_float(dtype):
    """Whether the dtype name is a floating one."""
    return np.dtype(dtype).kind == "f"


def special_tensor(values, dtype, device, noncontiguous=False):
    """A tensor holding ``values`` (nested lists / an array) as ``dtype`` on ``device``;
    ``noncontiguous``: the same values as an ``[..., ::2]`` view of a padded buffer."""
    arr = np.asarray(values, dtype=np.float64)
    arr = arr.astype(dtype) if is_float(dtype) or np.isfinite(arr).all() else arr
    if noncontiguous and arr.ndim:
        full = np.full(arr.shape[:-1] + (2 * arr.shape[-1],), 7, dtype=arr.dtype)
        full[..., ::2] = arr
        return strided_view(full, device)
    return corelib.tensor(arr, device=device)


def unary_special(values=SPECIAL_VALUES, **kwargs):
    """NaN, +-inf and signed zeros among ordinary values: 1-d, a 2-d strided view holding
    them in two orders, and a 0-d NaN (float dtypes only)."""
    def samples(dtype, device):
        if not is_float(dtype):
            return []
        v = np.asarray(values, dtype=np.float64)
        return [Sample((special_tensor(v, dtype, device),), dict(kwargs)),
                Sample((special_tensor(np.stack([v, v[::-1]]), dtype, device, True),),
                       dict(kwargs)),
                Sample((special_tensor(NAN, dtype, device),), dict(kwargs))]
    return samples


def binary_special(values=SPECIAL_PAIRS, scalars=(INF, NAN), **kwargs):
    """Every ordered pair of special values (a column broadcast against a row; the first
    operand also as a strided view) and special Python scalars."""
    def samples(dtype, device):
        if not is_float(dtype):
            return []
        v = np.asarray(values, dtype=np.float64)
        col, row = v[:, None], v[None, :]
        out = [Sample((special_tensor(col, dtype, device), special_tensor(row, dtype, device)),
                      dict(kwargs)),
               Sample((special_tensor(np.broadcast_to(col, (len(v), len(v))), dtype, device,
                                      True), special_tensor(v, dtype, device)), dict(kwargs))]
        out += [Sample((special_tensor(v, dtype, device), s), dict(kwargs)) for s in scalars]
        return out
    return samples


def filled_special(factory, extra=None):
    """The samples of ``factory`` with every non-empty floating tensor argument refilled with
    special values (cycled; strided inputs stay strided), plus ``extra(dtype, device)``
    samples (e.g. zero-size ones): for ops that move or combine values, NaN and infinities
    must come out where NumPy and PyTorch put them."""
    def fill(a, dtype, device):
        if isinstance(a, corelib.Tensor):
            if not a.dtype.is_floating_point or a.numel() == 0:
                return a
            vals = np.resize(np.asarray(SPECIAL_VALUES), tuple(a.shape))
            return special_tensor(vals, a.dtype.name, device,
                                  noncontiguous=a.ndim > 0 and not _contiguous(a))
        if isinstance(a, (list, tuple)) and any(isinstance(x, corelib.Tensor) for x in a):
            return type(a)(fill(x, dtype, device) for x in a)
        return a

    def samples(dtype, device):
        out = []
        if is_float(dtype):
            for s in factory(dtype, device):
                out.append(Sample(tuple(fill(a, dtype, device) for a in s.args),
                                  {k: fill(v, dtype, device) for k, v in s.kwargs.items()},
                                  s.name, s.outputs))
        return out + (extra(dtype, device) if extra else [])
    return samples


# rows: a NaN (twice), +inf tied with +inf, inf with -inf, all -inf
SPECIAL_MATRIX = [[1.0, NAN, 2.0, NAN, 0.5], [INF, 1.0, 2.0, INF, -3.0],
                  [-INF, 1.0, INF, 0.0, 2.0], [-INF, -INF, -INF, -INF, -INF]]
# rows with repeated maxima and minima (and one constant row)
TIES_MATRIX = [[1, 3, 3, 0, 3], [2, 2, 2, 2, 2], [0, -1, 4, -1, 4], [5, 1, 1, 5, 2]]


def reduction_special(*kwarg_sets, nans=True, ties=False, empty=None, outputs=None,
                      ties_outputs=None):
    """Special samples of an op reducing (or scanning) along dims: the NaN/inf matrix with
    every kwarg set and as a strided view; ``ties``: the tied matrix (any dtype) with every
    kwarg set, comparing ``ties_outputs`` (None: all); ``empty``: kwargs for a (0, 3) input."""
    def samples(dtype, device):
        out = []
        if nans and is_float(dtype):
            out += [Sample((special_tensor(SPECIAL_MATRIX, dtype, device),), dict(kw),
                           outputs=outputs) for kw in kwarg_sets]
            out.append(Sample((special_tensor(SPECIAL_MATRIX, dtype, device, True),),
                              dict(kwarg_sets[0]), outputs=outputs))
        if ties:
            out += [Sample((special_tensor(TIES_MATRIX, dtype, device),), dict(kw),
                           outputs=ties_outputs) for kw in kwarg_sets]
        if empty is not None:
            out.append(Sample((special_tensor(np.zeros((0, 3)), dtype, device),), dict(empty),
                              outputs=ties_outputs))
        return out
    return samples


# ---------------------------------------------------------------------------------------------
# conversion helpers for references
def to_numpy(x):
    if isinstance(x, corelib.Tensor):
        return x.detach().cpu().numpy()
    if isinstance(x, (list, tuple)):
        return type(x)(to_numpy(v) for v in x)
    if isinstance(x, dict):
        return {k: to_numpy(v) for k, v in x.items()}
    return x


def to_torch(x, torch):
    if isinstance(x, corelib.Tensor):
        t = torch.from_numpy(np.array(x.detach().cpu().numpy(), order="C"))
        return t.requires_grad_(x.requires_grad) if x.requires_grad else t
    if isinstance(x, corelib.dtype):
        return getattr(torch, x.name)
    if isinstance(x, (list, tuple)):
        return type(x)(to_torch(v, torch) for v in x)
    if isinstance(x, dict):
        return {k: to_torch(v, torch) for k, v in x.items()}
    return x


def flatten_outputs(out):
    if isinstance(out, (list, tuple)):
        return list(itertools.chain.from_iterable(flatten_outputs(o) for o in out))
    return [out]
