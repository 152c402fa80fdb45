"""More of PyTorch's top-level functions and Tensor methods, as composites of frontend ops
(second batch; see corelib._composites)."""
from __future__ import annotations

import builtins
import itertools
import math
import os

from . import _dtype
from ._tensor import Tensor
from ._ops.core import method, wrap_dim
from ._ops.creation import arange, tensor, zeros
from ._ops.elementwise import abs, cast, cos, where
from ._ops.reduction import any as _any, cumsum, sum as _sum, vector_norm
from ._ops.shape import cat, narrow, reshape, stack, unsqueeze

__all__ = ["rad2deg", "deg2rad", "heaviside", "isin", "cartesian_prod", "combinations",
           "block_diag", "trapezoid", "trapz", "cumulative_trapezoid", "dist", "renorm",
           "vander", "ldexp", "rsub", "scalar_tensor", "unravel_index", "is_nonzero",
           "is_same_size", "is_signed", "is_complex", "is_conj", "is_neg", "conj",
           "resolve_conj", "resolve_neg", "conj_physical", "isreal", "hann_window", "hamming_window",
           "blackman_window", "bartlett_window", "get_num_threads", "set_num_threads",
           "get_num_interop_threads", "set_num_interop_threads",
           "get_float32_matmul_precision", "set_float32_matmul_precision", "typename",
           "compile", "sinc", "lgamma", "digamma", "mvlgamma", "angle", "frexp", "gcd", "lcm",
           "select_scatter", "slice_scatter", "diagonal_scatter", "real", "imag"]


def _tensor_arg(x, op, name="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(x).__name__}")
    return x


def _floating(x):
    return x if x.dtype.is_floating_point else cast(x, _dtype.get_default_dtype())


@method()
def rad2deg(input):
    """rad2deg(input) -> Tensor

    Angles in radians converted to degrees.
    """
    return _floating(_tensor_arg(input, "rad2deg")) * (180.0 / math.pi)


@method()
def deg2rad(input):
    """deg2rad(input) -> Tensor

    Angles in degrees converted to radians.
    """
    return _floating(_tensor_arg(input, "deg2rad")) * (math.pi / 180.0)


@method()
def rad2deg_(input):
    """rad2deg_() -> Tensor

    In-place version of rad2deg().
    """
    return input.copy_(rad2deg(input))


@method()
def deg2rad_(input):
    """deg2rad_() -> Tensor

    In-place version of deg2rad().
    """
    return input.copy_(deg2rad(input))


@method()
def heaviside(input, values):
    """heaviside(input, values) -> Tensor

    The Heaviside step function: 0 where input < 0, values where input == 0, 1 where input > 0.
    """
    _tensor_arg(input, "heaviside")
    _tensor_arg(values, "heaviside", "values")
    if input.dtype is not values.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different "
                           "dtypes.")
    return where(input == 0, values, cast(input > 0, input.dtype))


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """isin(elements, test_elements, *, assume_unique=False, invert=False) -> Tensor

    Boolean tensor: whether each element of ``elements`` is in ``test_elements``.
    """
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin(): at least one of elements and test_elements must be a Tensor")
    device = (elements if isinstance(elements, Tensor) else test_elements).device
    e = elements if isinstance(elements, Tensor) else tensor(elements, device=device)
    t = test_elements if isinstance(test_elements, Tensor) else tensor(test_elements,
                                                                       device=device)
    found = _any(unsqueeze(e, -1) == reshape(t, (-1,)), -1) if t.numel() else \
        zeros(e.shape, dtype=_dtype.bool, device=device)
    return ~found if invert else found


def cartesian_prod(*tensors):
    """cartesian_prod(*tensors) -> Tensor

    Cartesian product of 1-D tensors, one row per combination (like itertools.product).
    """
    if len(tensors) == 1:
        return tensors[0]
    from ._ops.shape import meshgrid
    grids = meshgrid(*tensors, indexing="ij")
    return stack([reshape(g, (-1,)) for g in grids], 1)


def combinations(input, r=2, with_replacement=False):
    """combinations(input, r=2, with_replacement=False) -> Tensor

    All length-r combinations of the elements of a 1-D tensor, one row each.
    """
    _tensor_arg(input, "combinations")
    if input.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return zeros((0,), dtype=input.dtype, device=input.device)
    pick = itertools.combinations_with_replacement if with_replacement else \
        itertools.combinations
    rows = list(pick(range(input.shape[0]), r))
    if not rows:
        return zeros((0, r), dtype=input.dtype, device=input.device)
    index = tensor([i for row in rows for i in row], dtype=_dtype.int64, device=input.device)
    return reshape(input[index], (len(rows), r))


def block_diag(*tensors):
    """block_diag(*tensors) -> Tensor

    Block diagonal matrix from the given tensors (0-D and 1-D ones as single rows).
    """
    blocks = [reshape(t, (1, -1)) if t.ndim < 2 else t for t in tensors]
    if not blocks:
        return zeros((0, 0))
    for t in blocks:
        if t.ndim != 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer "
                               f"dimensions. Input 0 has {t.ndim} dimensions")
    dtype = blocks[0].dtype
    for t in blocks[1:]:
        dtype = _dtype.promote_types(dtype, t.dtype)
    width = builtins.sum(t.shape[1] for t in blocks)
    from ._ops.shape import pad
    rows, left = [], 0
    for t in blocks:
        rows.append(pad(cast(t, dtype), (left, width - left - t.shape[1])))
        left += t.shape[1]
    return cat(rows, 0)


def _trapezoid_parts(op, y, x, dx, dim):
    _tensor_arg(y, op, "y")
    d = wrap_dim(dim, y.ndim, op)
    n = y.shape[d]
    if n == 0:
        return None, d
    avg = (narrow(y, d, 1, n - 1) + narrow(y, d, 0, n - 1)) / 2
    if x is None:
        return avg * (1.0 if dx is None else dx), d
    if not isinstance(x, Tensor):
        return avg * x, d
    if x.ndim == 1:
        shape = [1] * y.ndim
        shape[d] = x.shape[0]
        x = reshape(x, tuple(shape))
        xd = d
    else:
        xd = wrap_dim(dim, x.ndim, op)
    m = x.shape[xd]
    return avg * (narrow(x, xd, 1, m - 1) - narrow(x, xd, 0, m - 1)), d


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """trapezoid(y, x=None, *, dx=None, dim=-1) -> Tensor

    Trapezoidal rule integral of y along dim, at points x or with spacing dx (default 1).
    """
    parts, d = _trapezoid_parts("trapezoid", y, x, dx, dim)
    if parts is None:
        shape = list(y.shape)
        del shape[d]
        return zeros(tuple(shape), dtype=_floating(y).dtype, device=y.device)
    return _sum(parts, d)


def trapz(y, x=None, *, dx=None, dim=-1):
    """trapz(y, x, *, dim=-1) -> Tensor

    Alias for trapezoid().
    """
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """cumulative_trapezoid(y, x=None, *, dx=None, dim=-1) -> Tensor

    Running trapezoidal rule integral of y along dim (one element shorter than y).
    """
    parts, d = _trapezoid_parts("cumulative_trapezoid", y, x, dx, dim)
    if parts is None:
        return _floating(y)
    return cumsum(parts, d)


@method()
def dist(input, other, p=2):
    """dist(input, other, p=2) -> Tensor

    The p-norm of input - other.
    """
    return vector_norm(input - other, p)


@method()
def renorm(input, p, dim, maxnorm):
    """renorm(input, p, dim, maxnorm) -> Tensor

    Sub-tensors along dim whose p-norm exceeds maxnorm scaled down to norm maxnorm.
    """
    _tensor_arg(input, "renorm")
    if p <= 0:
        raise RuntimeError(f"renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    d = wrap_dim(dim, input.ndim, "renorm")
    others = tuple(i for i in range(input.ndim) if i != d)
    norm = vector_norm(input, p, others, keepdim=True)   # differentiated through, as PyTorch
    return input * where(norm > maxnorm, maxnorm / (norm + 1e-7), 1.0)


@method()
def renorm_(input, p, dim, maxnorm):
    """renorm_(p, dim, maxnorm) -> Tensor

    In-place version of renorm().
    """
    return input.copy_(renorm(input, p, dim, maxnorm))


def vander(x, N=None, increasing=False):
    """vander(x, N=None, increasing=False) -> Tensor

    Vandermonde matrix of 1-D x: columns are powers of x (decreasing unless increasing).
    """
    _tensor_arg(x, "vander", "x")
    if x.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x.shape[0] if N is None else N
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    powers = arange(n, device=x.device)
    if not increasing:
        powers = (n - 1) - powers
    base = x if x.dtype.is_floating_point else cast(x, _dtype.int64)
    return unsqueeze(base, 1) ** cast(powers, base.dtype)


@method()
def ldexp(input, other, *, out=None):
    """ldexp(input, other, *, out=None) -> Tensor

    input * 2 ** other.
    """
    result = _floating(input) * 2.0 ** _floating(other if isinstance(other, Tensor)
                                                   else tensor(other, device=input.device))
    return result if out is None else out.copy_(result)


def rsub(input, other, *, alpha=1):
    """rsub(input, other, *, alpha=1) -> Tensor

    other - alpha * input.
    """
    return other - alpha * input


def scalar_tensor(s, *, dtype=None, layout=None, device=None, pin_memory=False,
                  requires_grad=False):
    """scalar_tensor(s, *, dtype=None, device=None, requires_grad=False) -> Tensor

    0-D tensor holding s (default dtype floating point).
    """
    return tensor(s, dtype=dtype or _dtype.get_default_dtype(), device=device,
                  requires_grad=requires_grad)


def unravel_index(indices, shape):
    """unravel_index(indices, shape) -> tuple of Tensors

    Flat indices converted to coordinate tensors of an array of the given shape.
    """
    if not isinstance(indices, Tensor):
        indices = tensor(indices)
    if indices.dtype.is_floating_point or indices.dtype is _dtype.bool:
        raise TypeError("expected 'indices' to be integer dtype, but got "
                        f"{indices.dtype}")
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if any(s < 0 for s in shape):
        raise ValueError("'shape' cannot have negative values, but got "
                         f"{tuple(shape)}")
    total = math.prod(shape)
    if bool(((indices < -total) | (indices >= total)).any()):
        raise ValueError("'indices' must be in range [-{0}, {1}]".format(total, total - 1)
                         if total else "'indices' must be in range")
    flat = where(indices < 0, indices + total, indices)
    out, stride = [], 1
    for s in reversed(shape):
        out.append((flat // stride) % s)
        stride *= s
    return tuple(reversed(out))


@method()
def is_nonzero(input):
    """is_nonzero(input) -> bool

    Whether a one-element tensor's value is non-zero.
    """
    n = input.numel()
    if n == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if n > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return builtins.bool(input.item())


@method()
def is_same_size(input, other):
    """is_same_size(input, other) -> bool

    Whether the two tensors have the same shape.
    """
    return tuple(input.shape) == tuple(other.shape)


@method()
def is_signed(input):
    """is_signed(input) -> bool

    Whether the dtype is a signed type.
    """
    return input.dtype.is_signed


def is_complex(input):
    """is_complex(input) -> bool

    Whether the dtype is complex (never, in corelib).
    """
    return input.dtype.is_complex


@method()
def is_conj(input):
    """is_conj(input) -> bool

    Whether the conjugate bit is set (never: corelib has no complex dtypes).
    """
    return False


@method()
def is_neg(input):
    """is_neg(input) -> bool

    Whether the negative bit is set (never, in corelib).
    """
    return False


@method()
def conj(input):
    """conj(input) -> Tensor

    The complex conjugate; input itself for real dtypes.
    """
    return input


@method()
def resolve_conj(input):
    """resolve_conj(input) -> Tensor

    input with a pending conjugation materialized; input itself for real dtypes.
    """
    return input


@method()
def resolve_neg(input):
    """resolve_neg(input) -> Tensor

    input with a pending negation materialized; input itself in corelib.
    """
    return input


@method()
def conj_physical(input, *, out=None):
    """conj_physical(input, *, out=None) -> Tensor

    Elementwise complex conjugate, computed; a copy for real dtypes.
    """
    result = input.clone()
    return result if out is None else out.copy_(result)


@method()
def isreal(input):
    """isreal(input) -> Tensor

    Boolean tensor: whether each element is real (all, for real dtypes).
    """
    return input == input if input.dtype.is_floating_point else \
        zeros(input.shape, dtype=_dtype.bool, device=input.device) == 0


# ---------------------------------------------------------------------------------------------
# window functions
def _window(op, window_length, periodic, dtype, device, requires_grad, terms):
    if window_length < 0:
        raise RuntimeError(f"{op} requires non-negative window_length, got "
                           f"window_length={window_length}")
    dtype = _dtype.get_default_dtype() if dtype is None else dtype
    if not dtype.is_floating_point:
        raise RuntimeError(f"{op} expects floating point dtypes, got: {dtype}")
    if window_length <= 1:
        from ._ops.creation import ones
        return ones((window_length,), dtype=dtype, device=device, requires_grad=requires_grad)
    m = window_length + 1 if periodic else window_length
    n = arange(window_length, dtype=_dtype.float64, device=device) * (2 * math.pi / (m - 1))
    out = terms(n, m)
    out = cast(out, dtype)
    return out.requires_grad_() if requires_grad else out


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                requires_grad=False):
    """hann_window(window_length, periodic=True, *, dtype=None, device=None, requires_grad=False) -> Tensor

    The Hann window 0.5 - 0.5 cos(2πn / (N - 1)) (N = window_length + 1 when periodic).
    """
    return _window("hann_window", window_length, periodic, dtype, device, requires_grad,
                   lambda n, m: 0.5 - 0.5 * cos(n))


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None,
                   layout=None, device=None, requires_grad=False):
    """hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None, device=None, requires_grad=False) -> Tensor

    The Hamming window alpha - beta cos(2πn / (N - 1)).
    """
    return _window("hamming_window", window_length, periodic, dtype, device, requires_grad,
                   lambda n, m: alpha - beta * cos(n))


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                    requires_grad=False):
    """blackman_window(window_length, periodic=True, *, dtype=None, device=None, requires_grad=False) -> Tensor

    The Blackman window 0.42 - 0.5 cos(2πn / (N - 1)) + 0.08 cos(4πn / (N - 1)).
    """
    return _window("blackman_window", window_length, periodic, dtype, device, requires_grad,
                   lambda n, m: 0.42 - 0.5 * cos(n) + 0.08 * cos(2 * n))


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                    requires_grad=False):
    """bartlett_window(window_length, periodic=True, *, dtype=None, device=None, requires_grad=False) -> Tensor

    The triangular Bartlett window 1 - |2n / (N - 1) - 1|.
    """
    return _window("bartlett_window", window_length, periodic, dtype, device, requires_grad,
                   lambda n, m: 1 - abs(n / math.pi - 1))


# ---------------------------------------------------------------------------------------------
# global settings
def _default_threads():
    """OMP_NUM_THREADS when set to a positive integer (as PyTorch), else the CPU count."""
    try:
        n = int(os.environ.get("OMP_NUM_THREADS", ""))
    except ValueError:
        n = 0
    return n if n > 0 else os.cpu_count() or 1


_SETTINGS = {"threads": _default_threads(), "interop": os.cpu_count() or 1,
             "matmul_precision": "highest"}


def get_num_threads():
    """get_num_threads() -> int

    The number of threads used for intra-op parallelism.
    """
    return _SETTINGS["threads"]


def set_num_threads(int):
    """set_num_threads(int) -> None

    Set the number of threads used for intra-op parallelism (recorded; backends choose).
    """
    if not isinstance(int, builtins.int) or int <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    _SETTINGS["threads"] = int


def get_num_interop_threads():
    """get_num_interop_threads() -> int

    The number of threads used for inter-op parallelism.
    """
    return _SETTINGS["interop"]


def set_num_interop_threads(int):
    """set_num_interop_threads(int) -> None

    Set the number of threads used for inter-op parallelism (recorded).
    """
    if not isinstance(int, builtins.int) or int <= 0:
        raise RuntimeError("Expected positive number of threads")
    _SETTINGS["interop"] = int


def get_float32_matmul_precision():
    """get_float32_matmul_precision() -> str

    The float32 matmul precision setting: 'highest', 'high' or 'medium'.
    """
    return _SETTINGS["matmul_precision"]


def set_float32_matmul_precision(precision):
    """set_float32_matmul_precision(precision) -> None

    Set the float32 matmul precision; corelib always computes at 'highest'.
    """
    if precision not in ("highest", "high", "medium"):
        raise RuntimeError(f"Invalid precision {precision}")
    _SETTINGS["matmul_precision"] = precision


def typename(obj):
    """typename(obj) -> str

    The type name of obj: 'torch.FloatTensor'-style for tensors.
    """
    if isinstance(obj, Tensor):
        names = {"float32": "Float", "float64": "Double", "float16": "Half",
                 "bfloat16": "BFloat16", "int64": "Long", "int32": "Int", "int16": "Short",
                 "int8": "Char", "uint8": "Byte", "bool": "Bool"}
        return f"torch.{names.get(obj.dtype.name, obj.dtype.name)}Tensor"
    module = type(obj).__module__
    name = type(obj).__qualname__
    return name if module in ("builtins", None) else f"{module}.{name}"


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None,
            options=None, disable=False):
    """compile(model=None, *, fullgraph=False, dynamic=None, backend='inductor', mode=None, options=None, disable=False)

    Returns ``model`` unchanged (also as a decorator): corelib runs eagerly, so compiled code is the same code.
    """
    if model is None:
        return lambda fn: fn
    if not callable(model):
        raise RuntimeError("torch.compile() expects a callable or a torch.nn.Module")
    return model


@method()
def sinc(input, *, out=None):
    """sinc(input, *, out=None) -> Tensor

    The normalized sinc function sin(πx) / (πx), 1 at x = 0 (as corelib.special.sinc).
    """
    from .special import sinc as _sinc
    return _sinc(input, out=out)


@method()
def sinc_(input):
    """sinc_() -> Tensor

    In-place version of sinc().
    """
    return input.copy_(sinc(input))


@method()
def fill_diagonal_(input, fill_value, wrap=False):
    """fill_diagonal_(fill_value, wrap=False) -> Tensor

    Fill the main diagonal (all dims equal beyond 2-D) with fill_value in place; wrap restarts it below a tall matrix.
    """
    if input.ndim < 2:
        raise RuntimeError("dimensions must larger than 1")
    if input.ndim > 2 and len(set(input.shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    rows, cols = input.shape[0], input.shape[1]
    if input.ndim > 2 or not wrap or rows <= cols + 1:
        k = arange(builtins.min(input.shape), device=input.device)
        index = (k,) * input.ndim
    else:
        flat = arange(0, rows * cols, cols + 1, device=input.device)
        index = (flat // cols, flat % cols)
    from ._ops.creation import full
    values = full((index[0].shape[0],), fill_value, dtype=input.dtype, device=input.device)
    return input.index_put_(index, values)


@method()
def sum_to_size(input, *size):
    """sum_to_size(*size) -> Tensor

    Sum this tensor down to ``size``, which it must be broadcastable from.
    """
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    lead = input.ndim - len(size)
    if lead < 0 or any(s != 1 and s != input.shape[lead + i] for i, s in enumerate(size)):
        raise RuntimeError(f"size {{{', '.join(map(str, size))}}} is not expandable to size "
                           f"{{{', '.join(map(str, input.shape))}}}.")
    dims = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(size)
                                      if s == 1 and input.shape[lead + i] != 1)
    out = _sum(input, dims, keepdim=True) if dims else input
    return reshape(out, tuple(size))


@method()
def hardshrink(input, lambd=0.5):
    """hardshrink(lambd=0.5) -> Tensor

    See corelib.nn.functional.hardshrink().
    """
    from .nn.functional import hardshrink as _hardshrink
    return _hardshrink(input, lambd)


@method()
def prelu(input, weight):
    """prelu(weight) -> Tensor

    See corelib.nn.functional.prelu().
    """
    from .nn.functional import prelu as _prelu
    return _prelu(input, weight)


@method()
def lgamma(input, *, out=None):
    """lgamma(input, *, out=None) -> Tensor

    Natural log of the absolute value of the gamma function (as corelib.special.gammaln).
    """
    from .special import gammaln
    return gammaln(input, out=out)


@method()
def digamma(input, *, out=None):
    """digamma(input, *, out=None) -> Tensor

    The logarithmic derivative of the gamma function (as corelib.special.digamma).
    """
    from .special import digamma as _digamma
    return _digamma(input, out=out)


@method()
def mvlgamma(input, p, *, out=None):
    """mvlgamma(input, p, *, out=None) -> Tensor

    The multivariate log-gamma function of dimension p (as corelib.special.multigammaln).
    """
    from .special import multigammaln
    return multigammaln(input, p, out=out)


for _name in ("lgamma", "digamma"):
    def _inplace(input, _name=_name):
        return input.copy_(getattr(Tensor, _name)(input))
    _inplace.__name__ = _inplace.__qualname__ = _name + "_"
    _inplace.__doc__ = f"{_name}_() -> Tensor\n\nIn-place version of {_name}()."
    setattr(Tensor, _name + "_", _inplace)
del _name


@method()
def angle(input, *, out=None):
    """angle(input, *, out=None) -> Tensor

    Elementwise argument: 0 for non-negative real values, π for negative ones (NaN kept).
    """
    x = _floating(_tensor_arg(input, "angle"))
    result = where(x < 0, math.pi, where(x != x, x, 0.0 * x))
    return result if out is None else out.copy_(result)


@method()
def frexp(input):
    """frexp(input) -> (Tensor mantissa, Tensor exponent)

    Decompose input into mantissa in [0.5, 1) (by magnitude) and integer exponent: input = mantissa * 2 ** exponent.
    """
    from ._ops.elementwise import floor, isfinite, log2
    x = _tensor_arg(input, "frexp")
    if not x.dtype.is_floating_point:
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    finite = isfinite(x) & (x != 0)
    safe = where(finite, x, 1.0)
    exponent = floor(log2(abs(safe))) + 1
    mantissa = safe / 2.0 ** exponent
    # rounding in log2 can land one off at exact powers of two
    over = abs(mantissa) >= 1
    exponent = where(over, exponent + 1, exponent)
    mantissa = where(over, mantissa / 2, mantissa)
    under = abs(mantissa) < 0.5
    exponent = where(under, exponent - 1, exponent)
    mantissa = where(under, mantissa * 2, mantissa)
    from . import return_types
    return return_types.get("frexp", ("mantissa", "exponent"))(
        where(finite, mantissa, x), cast(where(finite, exponent, 0.0), _dtype.int32))


def _integer_args(op, a, b):
    if a.dtype.is_floating_point or b.dtype.is_floating_point or a.dtype is _dtype.bool:
        raise RuntimeError(f"\"{op}_cpu\" not implemented for '{a.dtype}'")
    return a, b


@method()
def gcd(input, other, *, out=None):
    """gcd(input, other, *, out=None) -> Tensor

    Elementwise greatest common divisor (non-negative; gcd(0, 0) = 0).
    """
    a, b = _integer_args("gcd", input, other)
    a, b = abs(a), abs(b)
    while bool((b != 0).any()):
        nonzero = b != 0
        a, b = where(nonzero, b, a), where(nonzero, a % where(nonzero, b, 1), 0)
    return a if out is None else out.copy_(a)


@method()
def lcm(input, other, *, out=None):
    """lcm(input, other, *, out=None) -> Tensor

    Elementwise least common multiple (0 when either is 0).
    """
    a, b = _integer_args("lcm", input, other)
    g = gcd(a, b)
    result = where(g == 0, 0, abs(a // where(g == 0, 1, g) * b))
    return result if out is None else out.copy_(result)


@method()
def select_scatter(input, src, dim, index):
    """select_scatter(input, src, dim, index) -> Tensor

    Copy of input with src written into the slice input.select(dim, index).
    """
    out = input.clone()
    out.select(dim, index).copy_(src)
    return out


@method()
def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """slice_scatter(input, src, dim=0, start=None, end=None, step=1) -> Tensor

    Copy of input with src written into the slice start:end:step along dim.
    """
    out = input.clone()
    d = wrap_dim(dim, input.ndim, "slice_scatter")
    key = (slice(None),) * d + (slice(start, end, step),)
    out[key] = src
    return out


@method()
def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """diagonal_scatter(input, src, offset=0, dim1=0, dim2=1) -> Tensor

    Copy of input with src written into its diagonal (offset, dim1, dim2).
    """
    out = input.clone()
    out.diagonal(offset, dim1, dim2).copy_(src)
    return out


def real(input):
    """real(input) -> Tensor

    The real part: input itself for real dtypes.
    """
    return input


def imag(input):
    """imag(input) -> Tensor

    The imaginary part; an error for real dtypes (corelib has no complex dtypes yet).
    """
    raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")


@method()
def adjoint(input):
    """adjoint() -> Tensor

    View of the conjugate transpose of the last two dims (the transpose, for real dtypes).
    """
    return input.transpose(-2, -1)
