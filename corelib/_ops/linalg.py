"""Linear algebra: the matmul family, einsum, decompositions and solvers.

Primitives with a kernel: ``matmul`` (every product op reduces to it), ``linalg_inv``, ``_det``,
``_slogdet``, ``_solve``, ``_cholesky``, ``_qr``, ``_svd``, ``_svdvals``, ``_eigh``,
``_eigvalsh``, ``_pinv`` and ``_cross``. Everything else (mm, bmm, tensordot, kron, einsum,
matrix_power, lstsq, ...) is composite frontend code, so gradients (and double backward) come
from the primitives' rules, which are written with frontend ops. Decompositions with several
outputs (slogdet, qr, svd, eigh) are ``autograd.Function`` nodes whose backward also uses
frontend ops only.
"""
from __future__ import annotations

import builtins
import math
import string
from collections import namedtuple

from .. import _dtype
from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import STATE
from . import rules as R
from .core import Op, call, device_of, method, record, wrap_dim
from .creation import arange, eye, zeros
from .elementwise import cast, promote, where, write_out
from .reduction import sum as _sum
from .shape import broadcast_shape, expand, movedim, permute, reshape

_make = Tensor._make
_NO_PARAMS = {}

# public API, re-exported by corelib/__init__.py
__all__ = ["matmul", "mm", "bmm", "mv", "dot", "vdot", "inner", "outer", "ger", "addmm",
           "addmv", "addbmm", "baddbmm", "addr", "tensordot", "kron", "einsum", "chain_matmul",
           "inverse", "det", "logdet", "slogdet", "cholesky", "qr", "svd", "pinverse",
           "matrix_power", "cross", "lu", "lu_solve", "lu_unpack", "ormqr", "geqrf",
           "triangular_solve", "cholesky_solve", "cholesky_inverse", "matrix_exp",
           "svd_lowrank", "pca_lowrank"]


class LinAlgError(RuntimeError):
    """A matrix is singular / not positive-definite (``torch.linalg.LinAlgError``)."""


# named results, as torch.return_types
slogdet_result = namedtuple("slogdet", ["sign", "logabsdet"])
qr_result = namedtuple("qr", ["Q", "R"])
svd_result = namedtuple("svd", ["U", "S", "Vh"])
svd_legacy_result = namedtuple("svd", ["U", "S", "V"])
eigh_result = namedtuple("eigh", ["eigenvalues", "eigenvectors"])
lstsq_result = namedtuple("lstsq", ["solution", "residuals", "rank", "singular_values"])


# ---------------------------------------------------------------------------------------------
# small helpers (composites used by the derivative rules)
def _eye_as(n, x):
    return eye(n, dtype=x.dtype, device=x.device)


def _tril(x, diagonal=0):
    n, m = x.shape[-2:]
    rows = arange(n, device=x.device).unsqueeze(-1)
    return where(rows - arange(m, device=x.device) >= -diagonal, x, 0.0)


def _diagonal(x):
    """The diagonal of the last two (square) dims."""
    return _sum(x * _eye_as(x.shape[-1], x), -1)


def _diag_embed(v):
    return v.unsqueeze(-1) * _eye_as(v.shape[-1], v)


def _off_diagonal_inverse(d):
    """1 / d off the diagonal, 0 on it (d is a batch of square matrices)."""
    mask = _eye_as(d.shape[-1], d) > 0
    return where(mask, 0.0, 1 / where(mask, 1.0, d))


def _tensor_arg(x, op, name):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{name}' (position {1 if name == 'input' else 2}) "
                        f"must be Tensor, not {type(x).__name__}")
    return x


def _check_matrix(A, op, square=True, name="A"):
    """A batch of (square) floating matrices, checked with torch's messages."""
    _tensor_arg(A, op, "input" if name == "A" else name)
    if A.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor {name} must have at least 2 dimensions.")
    if square and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{op}: {name} must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")
    if A.dtype.category != 2:
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. Got "
                           f"{_TYPE_WORD.get(A.dtype.name, A.dtype.name)}")
    return A


_TYPE_WORD = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char",
              "uint8": "Byte", "bool": "Bool", "float32": "Float", "float64": "Double",
              "float16": "Half", "bfloat16": "BFloat16"}


def _linalg_errors(fn, op, problem):
    """Run ``fn()``; a backend LinAlgError becomes corelib.linalg.LinAlgError."""
    try:
        return fn()
    except (ValueError, RuntimeError) as exc:
        cause = exc.__cause__ if exc.__cause__ is not None else exc
        if type(cause).__name__ == "LinAlgError":
            raise LinAlgError(f"{op}: {problem}") from None
        raise


_SINGULAR = "The input matrix is singular, so the operation could not be completed."


# ---------------------------------------------------------------------------------------------
# multi-output primitives: one autograd.Function per op
class _Decomposition(Function):
    """Runs ``op``'s kernel (a tuple of arrays); backward calls ``op.vjp(grads, outs, *inputs,
    **params)``, which returns one gradient per input."""
    op = None
    out_dtypes = ()   # per output: None (the first input's dtype) or a fixed dtype

    @staticmethod
    def forward(ctx, op, params, *inputs):
        dev = device_of(inputs, op.name)
        dtype = inputs[0].dtype
        datas = op.kernel(dev.type)(*(x._data for x in inputs), **params)
        fixed = ctx._cls.out_dtypes
        outs = tuple(_make(d, dev, (fixed[i] if i < len(fixed) else None) or dtype)
                     for i, d in enumerate(datas))
        ctx.params, ctx.n_inputs = params, len(inputs)
        ctx.save_for_backward(*inputs, *outs)
        return outs

    @staticmethod
    def backward(ctx, *grads):
        saved = ctx.saved_tensors
        inputs, outs = saved[:ctx.n_inputs], saved[ctx.n_inputs:]
        return (None, None) + tuple(ctx._cls.op.vjp(grads, outs, *inputs, **ctx.params))


def _decomposition(name, vjp, sig, rule, doc, out_dtypes=()):
    op = Op(name, vjp, sig=sig, rule=rule, doc=doc)
    cls = type("".join(p.capitalize() for p in name.split("_")), (_Decomposition,),
               {"op": op, "out_dtypes": tuple(out_dtypes)})

    def run(params, *inputs, problem=None):
        if problem is None:
            return cls.apply(op, params, *inputs)
        return _linalg_errors(lambda: cls.apply(op, params, *inputs),
                              name.replace("_", ".", 1), problem)
    return run


# ---------------------------------------------------------------------------------------------
# matmul
def _matmul_vjp(g, out, a, b):
    """1-d operands are promoted to matrices and squeezed back; broadcast batch dims are
    reduced by the engine. ("cross" saving: a is None when b needs no gradient and vice
    versa; the out ndim tells whether the missing operand was a vector.)"""
    a_vec = a.ndim == 1 if a is not None else g.ndim < b.ndim
    b_vec = b.ndim == 1 if b is not None else g.ndim < a.ndim
    g2 = g.unsqueeze(-1) if b_vec else g
    if a_vec:
        g2 = g2.unsqueeze(-2)
    ga = gb = None
    if b is not None:
        ga = matmul(g2, b.unsqueeze(-1).mT if b_vec else b.mT)
        if a_vec:
            ga = ga.squeeze(-2)
    if a is not None:
        a2 = a.unsqueeze(0) if a_vec else a
        if a2.ndim > 2 and b is not None and b.ndim == 2:
            # a stack times a matrix: one GEMM over the flattened stack
            rows = math.prod(a2.shape[:-1])   # not -1: ambiguous for empty tensors
            gb = matmul(reshape(a2, (rows, a2.shape[-1])).mT,
                        reshape(g2, (rows, g2.shape[-1])))
        else:
            gb = matmul(a2.mT, g2)
        if b_vec:
            gb = gb.squeeze(-1)
    return ga, gb


_matmul = Op("matmul", _matmul_vjp, saves="cross",
             sig="(Array a, Array b) -> Array",
             rule=R.matmul,
             core=True,
             doc=("matrix product, NumPy semantics (1-d operands are vectors, batch dims "
                  "broadcast)"))


def _matmul_shape_error(a_shape, b_shape):
    if len(a_shape) == 1 and len(b_shape) == 1:
        return (f"inconsistent tensor size, expected tensor [{a_shape[0]}] and src "
                f"[{b_shape[0]}] to have the same number of elements, but got {a_shape[0]} and "
                f"{b_shape[0]} elements respectively")
    if len(b_shape) == 1:
        return (f"size mismatch, got input ({a_shape[-2]}), mat ({a_shape[-2]}x{a_shape[-1]}), "
                f"vec ({b_shape[0]})")
    if len(a_shape) <= 2 and len(b_shape) == 2:
        rows = a_shape[0] if len(a_shape) == 2 else 1
        return (f"mat1 and mat2 shapes cannot be multiplied ({rows}x{a_shape[-1]} and "
                f"{b_shape[0]}x{b_shape[1]})")
    return (f"Expected size for first two dimensions of batch2 tensor to be: "
            f"[{b_shape[0] if len(b_shape) > 2 else 1}, {a_shape[-1]}] but got: "
            f"[{b_shape[0] if len(b_shape) > 2 else 1}, {b_shape[-2]}].")


def _check_matmul(a, b, op):
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        bad, name = (a, "input") if not isinstance(a, Tensor) else (b, "other")
        raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(bad).__name__}")
    sa, sb = a._data.shape, b._data.shape
    if not sa or not sb:
        raise RuntimeError(f"both arguments to {op} need to be at least 1D, but they are "
                           f"{len(sa)}D and {len(sb)}D")
    if a.dtype is not b.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{_c_name(a.dtype)} != {_c_name(b.dtype)}")
    if a.dtype is _dtype.bool:
        raise RuntimeError(f"{op}(): \"addmm_impl_cpu_\" not implemented for 'Bool'")
    if sa[-1] != sb[-2 if len(sb) > 1 else 0]:
        raise RuntimeError(_matmul_shape_error(sa, sb))
    if len(sa) > 2 or len(sb) > 2:
        broadcast_shape(sa[:-2], sb[:-2])


def _c_name(dt):
    return {"float32": "float", "float64": "double", "int64": "long int", "int32": "int",
            "float16": "c10::Half", "int16": "short int", "int8": "signed char",
            "uint8": "unsigned char"}.get(dt.name, dt.name)


@method("matmul", "__matmul__")
def matmul(input, other, *, out=None):
    """Matrix product with NumPy/PyTorch semantics: 1-d operands are vectors, leading dims
    broadcast. Same-dtype 2-d floats go straight to BLAS."""
    if isinstance(input, Tensor) and isinstance(other, Tensor) and \
            input.dtype is other.dtype and input.device is other.device and out is None:
        sa, sb = input._data.shape, other._data.shape
        if len(sa) == 2 and len(sb) == 2 and sa[1] == sb[0] and input.dtype.category == 2:
            dev = input.device   # the training hot path: no checks beyond these
            t = _make((_matmul.kernels.get(dev.type) or _matmul.kernel(dev.type))(
                input._data, other._data), dev, input.dtype)
            if (input._requires_grad or other._requires_grad) and STATE.grad_enabled:
                record(_matmul, t, (input, other), _NO_PARAMS)
            return t
    _check_matmul(input, other, "matmul")
    result = call(_matmul, (input, other), input.dtype)
    return result if out is None else write_out(result, out, "matmul")


Tensor.__rmatmul__ = lambda self, other: matmul(other, self)


def _check_ndim(x, n, op, name, what):
    _tensor_arg(x, op, name)
    if x.ndim != n:
        raise RuntimeError(f"{op}(): {name} must be a {what}" if n != 3 else
                           f"{op}(): batch{name[-1]} must be a 3D tensor")
    return x


@method()
def mm(input, mat2, *, out=None):
    """Product of two 2-d matrices."""
    _check_ndim(input, 2, "mm", "self", "matrix")
    _check_ndim(mat2, 2, "mm", "mat2", "matrix")
    return matmul(input, mat2, out=out)


@method()
def bmm(input, mat2, *, out=None):
    """Batched product of (b, n, m) and (b, m, p) tensors (no broadcasting)."""
    _check_ndim(input, 3, "bmm", "batch1", "")
    _check_ndim(mat2, 3, "bmm", "batch2", "")
    if input.shape[0] != mat2.shape[0] or input.shape[2] != mat2.shape[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{input.shape[0]}, {input.shape[2]}] but got: "
                           f"[{mat2.shape[0]}, {mat2.shape[1]}].")
    return matmul(input, mat2, out=out)


@method()
def mv(input, vec, *, out=None):
    """Matrix-vector product."""
    _check_ndim(input, 2, "mv", "self", "matrix")
    _tensor_arg(vec, "mv", "vec")
    if vec.ndim != 1 or input.shape[1] != vec.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({input.shape[0]}), mat "
                           f"({input.shape[0]}x{input.shape[1]}), vec "
                           f"({'x'.join(map(str, vec.shape))})")
    return matmul(input, vec, out=out)


def _check_vectors(a, b, op):
    _tensor_arg(a, op, "input")
    _tensor_arg(b, op, "tensor")
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.dtype is not b.dtype:
        raise RuntimeError(f"{op} : expected both vectors to have same dtype, but found "
                           f"{_TYPE_WORD[a.dtype.name]} and {_TYPE_WORD[b.dtype.name]}")


@method()
def dot(input, tensor, *, out=None):
    """Inner product of two 1-d tensors of one dtype."""
    _check_vectors(input, tensor, "dot")
    return matmul(input, tensor, out=out)


@method()
def vdot(input, other, *, out=None):
    """conj(input) . other; for real tensors the same as dot."""
    _check_vectors(input, other, "vdot")
    return matmul(input, other, out=out)


@method()
def inner(input, other, *, out=None):
    """Sum product over the last dims (a scalar operand multiplies)."""
    if input.ndim == 0 or other.ndim == 0:
        result = input * other
    else:
        if input.shape[-1] != other.shape[-1]:
            raise RuntimeError(f"inner() the last dimension must match on both input tensors "
                               f"but got shapes {list(input.shape)} and {list(other.shape)}")
        result = tensordot(input, other, ([-1], [-1]))
    return result if out is None else write_out(result, out, "inner")


@method("outer", "ger")
def outer(input, vec2, *, out=None):
    """Outer product of two vectors (types promote, as torch.outer)."""
    _tensor_arg(input, "outer", "input")
    _tensor_arg(vec2, "outer", "vec2")
    if input.ndim != 1 or vec2.ndim != 1:
        raise RuntimeError(f"outer: Expected 1-D argument self, but got {input.ndim}-D"
                           if input.ndim != 1 else
                           f"outer: Expected 1-D argument vec2, but got {vec2.ndim}-D")
    result = input.unsqueeze(-1) * vec2
    return result if out is None else write_out(result, out, "outer")


ger = outer


def _scaled_sum(input, product, beta, alpha, op):
    """beta * input + alpha * product; beta == 0 ignores input (NaN included), as torch."""
    if alpha != 1:
        product = product * alpha
    if beta == 0:
        shape = broadcast_shape(input._data.shape, product._data.shape)
        if shape != product._data.shape:
            raise RuntimeError(f"{op}(): input of shape {list(input.shape)} can not be "
                               f"broadcast to {list(product.shape)}")
        if product.dtype is not input.dtype:
            product = cast(product, input.dtype)
        if input.requires_grad and STATE.grad_enabled:   # zero gradient for input, no NaNs
            never = zeros((), dtype=_dtype.bool, device=input.device)
            product = product + where(never, input, 0.0)
        return product
    if broadcast_shape(input._data.shape, product._data.shape) != product._data.shape:
        raise RuntimeError(f"{op}(): The expanded size of the tensor ({product.shape[-1]}) "
                           f"must match the existing size ({input.shape[-1]}) at non-singleton "
                           f"dimension {input.ndim - 1}.  Target sizes: {list(product.shape)}."
                           f"  Tensor sizes: {list(input.shape)}")
    return (input if beta == 1 else input * beta) + product


def _fused(name, product_fn):
    def fn(input, a, b, *, beta=1, alpha=1, out=None):
        result = _scaled_sum(input, product_fn(a, b), beta, alpha, name)
        return result if out is None else write_out(result, out, name)
    fn.__name__ = fn.__qualname__ = name
    setattr(Tensor, name, fn)
    return fn


def _addbmm_product(b1, b2):
    """sum_b b1[b] @ b2[b] as one GEMM: (n, B*k) @ (B*k, p)."""
    if b1.shape[0] != b2.shape[0] or b1.shape[2] != b2.shape[1]:
        bmm(b1, b2)   # raises torch's message
    n = b1.shape[1]
    return matmul(reshape(permute(b1, (1, 0, 2)), (n, -1)), reshape(b2, (-1, b2.shape[2])))


addmm = _fused("addmm", mm)
addmv = _fused("addmv", mv)
addr = _fused("addr", outer)
baddbmm = _fused("baddbmm", bmm)
addbmm = _fused("addbmm", lambda b1, b2: _addbmm_product(
    _check_ndim(b1, 3, "addbmm", "batch1", ""), _check_ndim(b2, 3, "addbmm", "batch2", "")))
addmm.__doc__ = "beta * input + alpha * (mat1 @ mat2)"
addmv.__doc__ = "beta * input + alpha * (mat @ vec)"
addr.__doc__ = "beta * input + alpha * outer(vec1, vec2)"
baddbmm.__doc__ = "beta * input + alpha * bmm(batch1, batch2)"
addbmm.__doc__ = "beta * input + alpha * sum over the batch of bmm(batch1, batch2)"


def tensordot(a, b, dims=2, out=None):
    """Contract ``dims`` (an int: last dims of a with first of b; or two lists of dims)."""
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
        if len(da) != len(db):
            raise RuntimeError(f"both dimension lists should have same length, but got "
                               f"{len(da)} and {len(db)}")
    da = [wrap_dim(d, a.ndim, "tensordot") for d in da]
    db = [wrap_dim(d, b.ndim, "tensordot") for d in db]
    for i, j in zip(da, db):
        if b.shape[j] == 1 and a.shape[i] != 1:   # as PyTorch: a size-1 dim broadcasts
            a = _sum(a, i, keepdim=True)
        elif a.shape[i] == 1 and b.shape[j] != 1:
            b = _sum(b, j, keepdim=True)
        elif a.shape[i] != b.shape[j]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{a.shape[i]} in dim {i} and second has size {b.shape[j]} in "
                               f"dim {j}")
    if a.dtype is not b.dtype:
        raise RuntimeError(f"expected scalar type {_TYPE_WORD[a.dtype.name]} but found "
                           f"{_TYPE_WORD[b.dtype.name]}")
    free_a = [d for d in range(a.ndim) if d not in da]
    free_b = [d for d in range(b.ndim) if d not in db]
    k = _prod(a.shape[d] for d in da)
    sa = [a.shape[d] for d in free_a]
    sb = [b.shape[d] for d in free_b]
    left = reshape(permute(a, tuple(free_a + da)), (_prod(sa), k))
    right = reshape(permute(b, tuple(db + free_b)), (k, _prod(sb)))
    result = reshape(matmul(left, right), tuple(sa + sb))
    return result if out is None else write_out(result, out, "tensordot")


def _prod(values):
    n = 1
    for v in values:
        n *= v
    return n


@method()
def kron(input, other, *, out=None):
    """Kronecker product (types promote)."""
    (a, b), _ = promote((input, other), "kron")
    nd = builtins.max(a.ndim, b.ndim)
    sa = (1,) * (nd - a.ndim) + tuple(a.shape)
    sb = (1,) * (nd - b.ndim) + tuple(b.shape)
    a = reshape(a, tuple(x for s in sa for x in (s, 1)))
    b = reshape(b, tuple(x for s in sb for x in (1, s)))
    result = reshape(a * b, tuple(x * y for x, y in zip(sa, sb)))
    return result if out is None else write_out(result, out, "kron")


# ---------------------------------------------------------------------------------------------
# einsum
_PATHS: dict = {}
_OPT_EINSUM = {"enabled": True, "strategy": "auto"}   # corelib.backends.opt_einsum's flags


def einsum(equation, *operands):
    """Einstein summation (ellipsis, implicit output, repeated indices, broadcasting).

    Design: no einsum kernel. The contraction order comes from ``opt_einsum.contract_path``
    (cached per equation and shapes); each pairwise contraction is done with differentiable
    frontend ops (diagonal, sum, permute, reshape, one batched matmul), so gradients and
    double backward come for free and every step runs at GEMM speed.
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    for i, x in enumerate(operands):
        if not isinstance(x, Tensor):
            raise TypeError(f"einsum(): operand {i} must be Tensor, not {type(x).__name__}")
        if x.dtype is not operands[0].dtype:
            raise RuntimeError(f"expected scalar type {_TYPE_WORD[operands[0].dtype.name]} but "
                               f"found {_TYPE_WORD[x.dtype.name]}")
    key = (equation, tuple(x._data.shape for x in operands))
    plan = _PLANS.get(key)
    if plan:
        return _run_plan(plan, operands)
    terms, output = _parse_einsum(equation, operands)
    sizes = {}
    for term, x in zip(terms, operands):
        for c, n in zip(term, x.shape):
            if sizes.get(c, 1) == 1:
                sizes[c] = n
            elif n != 1 and n != sizes[c]:
                raise RuntimeError(f"einsum(): operands do not broadcast with remapped shapes "
                                   f"(original->remapped): subscript {c} has size {n} and "
                                   f"{sizes[c]}")
    if plan is None and len(_PLANS) < 4096:
        plan = _PLANS[key] = _make_plan(terms, output, key[1], operands)
        if plan:
            return _run_plan(plan, operands)
    xs = list(operands)
    ts = list(terms)
    summed = False   # torch: a sum over one operand's dim makes integer results int64
    for i in range(len(xs)):
        others = set(output).union(*(t for j, t in enumerate(ts) if j != i))
        xs[i], ts[i] = _prepare(xs[i], ts[i], others)
        summed = summed or len(ts[i]) < len(set(terms[i]))
    for i, j in _einsum_path(ts, output, xs):
        x, tx = xs[i], ts[i]
        y, ty = xs[j], ts[j]
        for k in sorted((i, j), reverse=True):
            del xs[k], ts[k]
        keep = set(output).union(*ts)
        x, t, broadcast_sum = _contract(x, tx, y, ty, keep, sizes)
        xs.append(x)
        ts.append(t)
        summed = summed or broadcast_sum
    x, t = _prepare(xs[0], ts[0], set(output))
    summed = summed or len(t) < len(set(ts[0]))
    for c in output:
        if c not in t:
            raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation "
                               f"for any input operand")
    result = permute(x, tuple(t.index(c) for c in output)) if output else x
    dtype = operands[0].dtype
    if summed and dtype.category < 2:
        dtype = _dtype.int64
    return result if result.dtype is dtype else cast(result, dtype)


_PLANS: dict = {}   # (equation, shapes) -> the pairwise matmul steps, or False (general path)


def _make_plan(terms, output, shapes, operands):
    """The contraction as a fixed list of (i, j, swap, x perm, y perm, x (B, M, K), y (B, K, N),
    result shape) steps and a final permutation, when it needs nothing but permutes, reshapes
    and matmuls (no diagonals, no sums within an operand, no broadcasting); else False."""
    if len(terms) < 2:
        return False
    ts, shp = list(terms), [tuple(s) for s in shapes]
    for i, term in enumerate(ts):
        others = set(output).union(*(t for j, t in enumerate(ts) if j != i))
        if len(set(term)) != len(term) or any(c not in others for c in term):
            return False
    steps = []
    for i, j in _einsum_path(ts, output, operands):
        tx, ty, sx, sy = ts[i], ts[j], shp[i], shp[j]
        for k in sorted((i, j), reverse=True):
            del ts[k], shp[k]
        keep = set(output).union(*ts)
        common = [c for c in tx if c in ty]
        if any(sx[tx.index(c)] != sy[ty.index(c)] for c in common):
            return False
        batch = [c for c in common if c in keep]
        summed = [c for c in common if c not in keep]
        swap = _moves(ty, batch, summed, True) + _moves(tx, batch, summed, False) < \
            _moves(tx, batch, summed, True) + _moves(ty, batch, summed, False)
        if swap:
            tx, ty, sx, sy = ty, tx, sy, sx
            batch = [c for c in tx if c in ty and c in keep]
            summed = [c for c in tx if c in ty and c not in keep]
        xo = [c for c in tx if c not in ty]
        yo = [c for c in ty if c not in tx]
        px = tuple(tx.index(c) for c in batch + xo + summed)
        py = tuple(ty.index(c) for c in batch + summed + yo)
        size = dict(zip(tx, sx))
        size.update(zip(ty, sy))
        bs, ks = [size[c] for c in batch], [size[c] for c in summed]
        ms, ns = [size[c] for c in xo], [size[c] for c in yo]
        steps.append((i, j, swap, None if px == tuple(range(len(px))) else px,
                      None if py == tuple(range(len(py))) else py,
                      (_prod(bs), _prod(ms), _prod(ks)), (_prod(bs), _prod(ks), _prod(ns)),
                      tuple(bs + ms + ns)))
        ts.append("".join(batch + xo + yo))
        shp.append(tuple(bs + ms + ns))
    t = ts[0]
    if sorted(t) != sorted(output):
        return False
    final = tuple(t.index(c) for c in output)
    return steps, None if final == tuple(range(len(final))) else final


def _run_plan(plan, operands):
    steps, final = plan
    xs = list(operands)
    for i, j, swap, px, py, sx, sy, sr in steps:
        x, y = xs[i], xs[j]
        for k in sorted((i, j), reverse=True):
            del xs[k]
        if swap:
            x, y = y, x
        if px is not None:
            x = permute(x, px)
        if py is not None:
            y = permute(y, py)
        if x._data.shape != sx:
            x = reshape(x, sx)
        if y._data.shape != sy:
            y = reshape(y, sy)
        r = matmul(x, y)
        xs.append(r if r._data.shape == sr else reshape(r, sr))
    return xs[0] if final is None else permute(xs[0], final)


def _parse_einsum(equation, operands):
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(operands):
        more = "more" if len(operands) > len(terms) else "fewer"
        raise RuntimeError(f"einsum(): {more} operands were provided than specified in the "
                           f"equation")
    letters = set(c for c in eq if c.isalpha())
    for c in eq:
        if not (c.isalpha() or c in ".,->"):
            raise RuntimeError(f"einsum(): invalid subscript given at index {eq.index(c)} in "
                               f"the equation string, subscripts must be in [a-zA-Z]")
    free = [c for c in string.ascii_letters if c not in letters]
    n_ell = 0
    for term, x in zip(terms, operands):
        if "..." in term:
            n_ell = builtins.max(n_ell, x.ndim - (len(term) - 3))
    ell = "".join(free[:n_ell])
    out_terms = []
    for i, (term, x) in enumerate(zip(terms, operands)):
        if "..." in term:
            k = x.ndim - (len(term) - 3)
            if k < 0:
                raise RuntimeError(f"einsum(): the number of subscripts in the equation "
                                   f"({len(term) - 3}) is more than the number of dimensions "
                                   f"({x.ndim}) for operand {i}")
            term = term.replace("...", ell[n_ell - k:])
        elif len(term) != x.ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation "
                               f"({len(term)}) does not match the number of dimensions "
                               f"({x.ndim}) for operand {i} and no ellipsis was given")
        out_terms.append(term)
    if arrow:
        output = rhs.replace("...", ell)
        if len(set(output)) != len(output):
            raise RuntimeError(f"einsum(): output subscript {output} appears more than once in "
                               f"the output")
    else:
        counts = {}
        for term in out_terms:
            for c in term:
                counts[c] = counts.get(c, 0) + 1
        output = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    return out_terms, output


def _prepare(x, term, needed):
    """Take diagonals of repeated subscripts and sum subscripts needed nowhere else."""
    while len(set(term)) != len(term):
        c = next(c for c in term if term.count(c) > 1)
        i = term.index(c)
        j = term.index(c, i + 1)
        x = movedim(x, (i, j), (-2, -1))
        term = "".join(t for k, t in enumerate(term) if k not in (i, j)) + c
        x = _diagonal(x) if x.shape[-1] == x.shape[-2] else _sum(x, -1)
    dims = [k for k, c in enumerate(term) if c not in needed]
    if dims:
        x = _sum(x, tuple(dims))
        term = "".join(c for c in term if c in needed)
    return x, term


def _contract(x, tx, y, ty, keep, sizes):
    """One pairwise contraction as a batched matmul: (batch, m, k) @ (batch, k, n)."""
    broadcast_sum = False
    for c in [c for c in tx if c in ty and c not in keep]:
        # a contracted dim of size 1 in one operand: sum the other operand over it
        i, j = tx.index(c), ty.index(c)
        if x.shape[i] != y.shape[j]:
            x, tx = _sum(x, i), tx.replace(c, "")
            y, ty = _sum(y, j), ty.replace(c, "")
            broadcast_sum = True
    batch = [c for c in tx if c in ty and c in keep]
    summed = [c for c in tx if c in ty and c not in keep]
    if _moves(ty, batch, summed, True) + _moves(tx, batch, summed, False) < \
            _moves(tx, batch, summed, True) + _moves(ty, batch, summed, False):
        # y @ x needs fewer transposed operands (and lays the result out as they come)
        x, tx, y, ty = y, ty, x, tx
        batch = [c for c in tx if c in ty and c in keep]
        summed = [c for c in tx if c in ty and c not in keep]
    xo = [c for c in tx if c not in ty]
    yo = [c for c in ty if c not in tx]
    x = permute(x, tuple(tx.index(c) for c in batch + xo + summed))
    y = permute(y, tuple(ty.index(c) for c in batch + summed + yo))
    bs = tuple(sizes[c] for c in batch)
    ks = tuple(sizes[c] for c in summed)
    xs = tuple(x.shape[len(batch):len(batch) + len(xo)])
    ys = tuple(y.shape[len(batch) + len(summed):])
    x = reshape(expand(x, bs + xs + ks), (_prod(bs), _prod(xs), _prod(ks)))
    y = reshape(expand(y, bs + ks + ys), (_prod(bs), _prod(ks), _prod(ys)))
    result = reshape(matmul(x, y), bs + xs + ys)
    return result, "".join(batch + xo + yo), broadcast_sum


def _moves(term, batch, summed, left):
    """Whether ``term``'s operand must be permuted to be the left (batch, free, summed) or
    right (batch, summed, free) matmul operand."""
    free = [c for c in term if c not in batch and c not in summed]
    order = batch + (free + summed if left else summed + free)
    return int(list(term) != order)


def _einsum_path(terms, output, xs):
    """Pairwise contraction order (list of (i, j) positions, as opt_einsum's)."""
    if len(terms) < 3:
        return [(0, 1)] if len(terms) == 2 else []
    if not _OPT_EINSUM["enabled"]:
        return [(0, 1)] * (len(terms) - 1)
    shapes = tuple(tuple(x.shape) for x in xs)
    key = (",".join(terms) + "->" + output, shapes, _OPT_EINSUM["strategy"])
    path = _PATHS.get(key)
    if path is None:
        try:
            import opt_einsum
            path = opt_einsum.contract_path(key[0], *shapes, shapes=True,
                                            optimize=key[2])[0]
        except ImportError:
            path = [(0, 1)] * (len(terms) - 1)
        path = _PATHS[key] = [tuple(p) for p in path]
    return path


# ---------------------------------------------------------------------------------------------
# chains
def multi_dot(tensors, *, out=None):
    """Product of a chain of matrices in the cheapest order; the first and last may be 1-d."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    first_vec, last_vec = tensors[0].ndim == 1, tensors[-1].ndim == 1
    if first_vec:
        tensors[0] = tensors[0].unsqueeze(0)
    if last_vec:
        tensors[-1] = tensors[-1].unsqueeze(-1)
    for i, t in enumerate(tensors):
        if t.ndim != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {t.ndim}D")
        if i and tensors[i - 1].shape[1] != t.shape[0]:
            a, b = tensors[i - 1].shape, t.shape
            raise RuntimeError(f"multi_dot(): tensors {i - 1} and {i} with shapes "
                               f"({a[0]}, {a[1]}) and ({b[0]}, {b[1]}) cannot be multiplied")
    dims = [t.shape[0] for t in tensors] + [tensors[-1].shape[1]]
    n = len(tensors)
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = float("inf")
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k

    def product(i, j):
        if i == j:
            return tensors[i]
        k = split[i][j]
        return matmul(product(i, k), product(k + 1, j))
    result = product(0, n - 1)
    if first_vec:
        result = result.squeeze(0)
    if last_vec:
        result = result.squeeze(-1)
    return result if out is None else write_out(result, out, "multi_dot")


def chain_matmul(*matrices, out=None):
    """Deprecated torch.chain_matmul: multi_dot of 2-d matrices."""
    if len(matrices) == 1:
        return matrices[0].clone()
    return multi_dot(matrices, out=out)


# ---------------------------------------------------------------------------------------------
# inverse, determinants, solve
_inv = Op("linalg_inv", lambda g, out, A: (-(out.mT @ g @ out.mT),), saves="out",
          sig="(Array A) -> Array",
          rule=R.same,
          doc="inverse of square matrices (LinAlgError if singular)")


def inv(A, *, out=None):
    """Inverse of a batch of square matrices (LinAlgError if singular)."""
    _check_matrix(A, "linalg.inv")
    result = _linalg_errors(lambda: call(_inv, (A,), A.dtype), "linalg.inv", _SINGULAR)
    return result if out is None else write_out(result, out, "linalg.inv")


def _det_vjp(g, det, A):
    scale = (g * det).unsqueeze(-1).unsqueeze(-1)
    if not bool((det == 0).any()):
        return (scale * inv(A).mT,)
    # singular: the adjugate through the SVD, adj(A)^T = det(U) det(V) U diag(prod_{j!=i} s_j) V^T
    U, S, Vh = svd_linalg(A)
    k = S.shape[-1]
    unit = _eye_as(k, S)
    adj = 0
    for i in range(k):
        p = 1
        for j in range(k):
            if j != i:
                p = p * S[..., j:j + 1]
        adj = adj + p * unit[i]
    sign = (det_(U.detach()) * det_(Vh.detach())).unsqueeze(-1).unsqueeze(-1)
    return (g.unsqueeze(-1).unsqueeze(-1) * sign * ((U * adj.unsqueeze(-2)) @ Vh),)


_det = Op("linalg_det", _det_vjp, saves="both",
          sig="(Array A) -> Array",
          rule=R.batch_scalar,
          doc="determinant of square matrices")


def det_(A):
    """Determinant of a batch of square matrices."""
    _check_matrix(A, "linalg.det")
    return call(_det, (A,), A.dtype)


def _slogdet_vjp(grads, outs, A):
    return (grads[1].unsqueeze(-1).unsqueeze(-1) * inv(A).mT,)


_slogdet_run = _decomposition("linalg_slogdet", _slogdet_vjp, "(Array A) -> (Array, Array)",
                              R.slogdet, "sign and log|det| of square matrices")


def slogdet_linalg(A, *, out=None):
    """(sign, log|det|) of a batch of square matrices."""
    _check_matrix(A, "linalg.slogdet")
    return slogdet_result(*_slogdet_run(_NO_PARAMS, A))


def logdet(input):
    """log det(A): NaN for a negative determinant, -inf for a singular matrix."""
    sign, logabs = slogdet_linalg(input)
    return where(sign < 0, float("nan"), logabs)


def _solve_vjp(g, X, A, B):
    gB = solve(A.mT, g)
    return -(gB @ X.mT), gB


_solve = Op("linalg_solve", _solve_vjp, saves="both",
            sig="(Array A, Array B) -> Array",
            rule=R.solve,
            doc="X with A X = B for square A and matrices B (batch dims broadcast)")


def solve(A, B, *, left=True, out=None):
    """X with A @ X = B (or X @ A = B when left=False); B may be a (batch of) vector(s)."""
    _check_matrix(A, "linalg.solve")
    _tensor_arg(B, "linalg.solve", "B")
    if A.dtype is not B.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found "
                           f"A of type {_TYPE_WORD[A.dtype.name]} and B of type "
                           f"{_TYPE_WORD[B.dtype.name]} instead")
    if not left:
        result = solve(A.mT, B.mT).mT
        return result if out is None else write_out(result, out, "linalg.solve")
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    B2 = B.unsqueeze(-1) if vector else B
    if B2.shape[-2] != A.shape[-1]:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"AX = B ({A.shape[-2]}x{A.shape[-1]} and "
                           f"{B2.shape[-2]}x{B2.shape[-1]})")
    broadcast_shape(A.shape[:-2], B2.shape[:-2])
    result = _linalg_errors(lambda: call(_solve, (A, B2), A.dtype), "torch.linalg.solve",
                            "The solver failed because the input matrix is singular.")
    if vector:
        result = result.squeeze(-1)
    return result if out is None else write_out(result, out, "linalg.solve")


# ---------------------------------------------------------------------------------------------
# factorizations
def _cholesky_vjp(g, out, A, upper):
    L, gL = (out.mT, g.mT) if upper else (out, g)
    P = L.mT @ _tril(gL)
    phi = _tril(P) - 0.5 * _diag_embed(_diagonal(P))
    L_inv = inv(L)
    S = L_inv.mT @ phi @ L_inv
    return (0.5 * (S + S.mT),)


_cholesky = Op("linalg_cholesky", _cholesky_vjp, saves="out",
               sig="(Array A, *, bool upper) -> Array",
               rule=R.same,
               doc="Cholesky factor L (upper: L^T) of positive-definite matrices")


def cholesky_linalg(A, *, upper=False, out=None):
    """Cholesky factor L (A = L L^T) or U = L^T with upper=True; reads the lower triangle."""
    _check_matrix(A, "linalg.cholesky")
    result = _linalg_errors(
        lambda: call(_cholesky, (A,), A.dtype, {"upper": bool(upper)}), "linalg.cholesky",
        "The factorization could not be completed because the input is not "
        "positive-definite.")
    return result if out is None else write_out(result, out, "linalg.cholesky")


def _qr_vjp(grads, outs, A, mode):
    gQ, gR = grads
    Q, R = outs
    m, n = A.shape[-2:]
    if mode == "r":
        raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed "
                           "when mode='r'. Please use linalg.qr(A, mode='reduced') if you are "
                           "going to differentiate through linalg.qr.")
    if mode == "complete" and m > n:
        raise RuntimeError("The QR decomposition is not differentiable when mode='complete' "
                           "and nrows > ncols.")
    if m >= n:
        return (_qr_square_vjp(Q, R, gQ, gR),)
    # wide: A = [X | Y] with X = Q U square; Y = Q V
    import corelib
    U, V, gU, gV = R[..., :m], R[..., m:], gR[..., :m], gR[..., m:]
    Y = A[..., m:]
    gX = _qr_square_vjp(Q, U, gQ + Y @ gV.mT, gU)
    return (corelib.cat([gX, Q @ gV], dim=-1),)


def _qr_square_vjp(Q, R, gQ, gR):
    """gA = (gQ + Q copyltu(M)) R^{-T}, M = R gR^T - gQ^T Q (tall or square A)."""
    M = R @ gR.mT - gQ.mT @ Q
    low = _tril(M, -1)
    b = gQ + Q @ (low + low.mT + _diag_embed(_diagonal(M)))
    return solve(R, b.mT).mT


_qr_run = _decomposition("linalg_qr", _qr_vjp, "(Array A, *, str mode) -> (Array, Array)", R.qr,
                         "Q, R with A = QR (mode 'reduced', 'complete'; 'r': Q is empty)")


def qr_linalg(A, mode="reduced", *, out=None):
    """QR decomposition; mode 'reduced', 'complete' or 'r' (Q is then empty)."""
    _check_matrix(A, "linalg.qr", square=False)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           f"'reduced' (default), 'r', or 'complete'")
    return qr_result(*_qr_run({"mode": mode}, A))


def _svd_vjp(grads, outs, A, full_matrices):
    gU, gS, gVh = grads
    U, S, Vh = outs
    m, n = A.shape[-2:]
    k = builtins.min(m, n)
    if full_matrices and m != n:
        U, Vh, gU, gVh = U[..., :k], Vh[..., :k, :], gU[..., :k], gVh[..., :k, :]
    V, gV = Vh.mT, gVh.mT
    UgU = U.mT @ gU
    VgV = V.mT @ gV
    S2 = S * S
    F = _off_diagonal_inverse(S2.unsqueeze(-2) - S2.unsqueeze(-1))
    J = F * (UgU - UgU.mT)
    K = F * (VgV - VgV.mT)
    inner_ = _diag_embed(gS) + J * S.unsqueeze(-2) + S.unsqueeze(-1) * K
    gA = U @ inner_ @ Vh
    if m > k:
        gA = gA + ((gU - U @ UgU) / S.unsqueeze(-2)) @ Vh
    if n > k:
        gA = gA + U @ ((gV - V @ VgV) / S.unsqueeze(-2)).mT
    return (gA,)


_svd_run = _decomposition("linalg_svd", _svd_vjp,
                          "(Array A, *, bool full_matrices) -> (Array, Array, Array)", R.svd,
                          "U, S, Vh with A = U diag(S) Vh, S descending")


def svd_linalg(A, full_matrices=True, *, driver=None, out=None):
    """A = U diag(S) Vh; singular values descending."""
    _check_matrix(A, "linalg.svd", square=False)
    return svd_result(*_svd_run({"full_matrices": bool(full_matrices)}, A))


def _svdvals_vjp(g, S, A):
    U, S2, Vh = svd_linalg(A, full_matrices=False)
    return ((U * g.unsqueeze(-2)) @ Vh,)


_svdvals = Op("linalg_svdvals", _svdvals_vjp,
              sig="(Array A) -> Array",
              rule=R.svdvals,
              doc="singular values, descending")


def svdvals(A, *, driver=None, out=None):
    """Singular values, descending."""
    _check_matrix(A, "linalg.svdvals", square=False)
    result = call(_svdvals, (A,), A.dtype)
    return result if out is None else write_out(result, out, "linalg.svdvals")


def _eigh_vjp(grads, outs, A, UPLO):
    gL, gV = grads
    L, V = outs
    VgV = V.mT @ gV
    F = _off_diagonal_inverse(L.unsqueeze(-2) - L.unsqueeze(-1))
    return (V @ (_diag_embed(gL) + F * (0.5 * (VgV - VgV.mT))) @ V.mT,)


_eigh_run = _decomposition("linalg_eigh", _eigh_vjp, "(Array A, *, str UPLO) -> (Array, Array)",
                           R.eigh, "eigenvalues (ascending) and eigenvectors of symmetric matrices")


def _check_uplo(UPLO, op):
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"{op}: Expected UPLO argument to be 'L' or 'U', but got {UPLO}")


def eigh(A, UPLO="L", *, out=None):
    """Eigenvalues (ascending) and orthonormal eigenvectors of a symmetric matrix."""
    _check_matrix(A, "linalg.eigh")
    _check_uplo(UPLO, "linalg.eigh")
    return eigh_result(*_eigh_run({"UPLO": UPLO}, A))


def _eigvalsh_vjp(g, out, A, UPLO):
    L, V = eigh(A, UPLO)
    return ((V * g.unsqueeze(-2)) @ V.mT,)


_eigvalsh = Op("linalg_eigvalsh", _eigvalsh_vjp,
               sig="(Array A, *, str UPLO) -> Array",
               rule=R.eigvalsh,
               doc="eigenvalues (ascending) of symmetric matrices")


def eigvalsh(A, UPLO="L", *, out=None):
    """Eigenvalues (ascending) of a symmetric matrix."""
    _check_matrix(A, "linalg.eigvalsh")
    _check_uplo(UPLO, "linalg.eigvalsh")
    result = call(_eigvalsh, (A,), A.dtype, {"UPLO": UPLO})
    return result if out is None else write_out(result, out, "linalg.eigvalsh")


# ---------------------------------------------------------------------------------------------
# pseudo-inverse, least squares, powers, rank
def _pinv_vjp(g, P, A, atol, rtol, hermitian):
    """dP for P = A^+ at constant rank (Golub & Pereyra):
    gA = -P^T g P^T + (I - A P) g^T P P^T + P^T P g^T (I - P A)."""
    gt = g.mT
    PPt, PtP = P @ P.mT, P.mT @ P
    X = PtP @ gt
    return (-(P.mT @ g @ P.mT) + (gt @ PPt - A @ (P @ gt @ PPt)) + (X - (X @ P) @ A),)


_pinv = Op("linalg_pinv", _pinv_vjp, saves="both",
           sig="(Array A, *, float atol, float rtol, bool hermitian) -> Array",
           rule=R.pinv,
           doc="Moore-Penrose pseudo-inverse (singular values <= max(atol, rtol * s_max) dropped)")


def _tolerances(A, atol, rtol, op):
    for name, v in (("atol", atol), ("rtol", rtol)):
        if isinstance(v, Tensor):
            raise NotImplementedError(f"{op}: tensor {name} is not supported; pass a float")
    if rtol is None:
        rtol = 0.0 if atol is not None and atol > 0 else \
            _dtype.finfo(A.dtype).eps * builtins.max(A.shape[-2:])
    return float(atol or 0.0), float(rtol)


def _tensor_cutoff(A, atol, rtol, s_max):
    """max(atol, rtol * s_max) with tolerance tensors broadcast over A's batch (torch's
    defaults: rtol = eps * max(m, n), or 0 where a given atol is positive); keepdim (..., 1)."""
    eps = _dtype.finfo(A.dtype).eps * builtins.max(A.shape[-2:])
    if atol is None:
        atol_t = 0.0
    else:
        atol_t = atol if isinstance(atol, Tensor) else float(atol)
    if rtol is None:
        rtol = eps if atol is None else where(atol_t > 0, 0.0, eps) \
            if isinstance(atol_t, Tensor) else (0.0 if atol_t > 0 else eps)
    if isinstance(atol_t, Tensor):
        atol_t = cast(atol_t, A.dtype).unsqueeze(-1)
    if isinstance(rtol, Tensor):
        rtol = cast(rtol, A.dtype).unsqueeze(-1)
    cutoff = rtol * s_max
    return where(cutoff > atol_t, cutoff, atol_t)


def _pinv_tensor_tolerances(A, atol, rtol, hermitian):
    """pinv with tensor tolerances, composed from svd (eigh if hermitian); pinv is invariant
    to the factors' signs, so the gradient through the decomposition is the pinv gradient."""
    m, n = A.shape[-2:]
    if A.numel() == 0:
        shape = broadcast_shape(tuple(A.shape[:-2]), *(tuple(t.shape) for t in (atol, rtol)
                                                       if isinstance(t, Tensor)))
        return zeros(shape + (n, m), dtype=A.dtype, device=A.device)
    if hermitian:
        w, V = eigh(A)
        s = abs(w)
        cutoff = _tensor_cutoff(A, atol, rtol, _max_last(s))
        keep = s > cutoff
        w_inv = where(keep, 1 / where(keep, w, 1.0), 0.0)
        return (V * w_inv.unsqueeze(-2)) @ V.mT
    U, S, Vh = svd_linalg(A, full_matrices=False)
    cutoff = _tensor_cutoff(A, atol, rtol, S[..., :1])
    keep = S > cutoff
    s_inv = where(keep, 1 / where(keep, S, 1.0), 0.0)
    return (Vh.mT * s_inv.unsqueeze(-2)) @ U.mT


def pinv(A, *, atol=None, rtol=None, hermitian=False, out=None):
    """Moore-Penrose pseudo-inverse (singular values <= max(atol, rtol * s_max) dropped)."""
    _check_matrix(A, "linalg.pinv", square=False)
    if isinstance(atol, Tensor) or isinstance(rtol, Tensor):
        result = _pinv_tensor_tolerances(A, atol, rtol, hermitian)
        return result if out is None else write_out(result, out, "linalg.pinv")
    atol, rtol = _tolerances(A, atol, rtol, "linalg.pinv")
    result = call(_pinv, (A,), A.dtype, {"atol": atol, "rtol": rtol,
                                         "hermitian": bool(hermitian)})
    return result if out is None else write_out(result, out, "linalg.pinv")


def pinverse(input, rcond=1e-15):
    """torch.pinverse: pinv with rtol=rcond."""
    return pinv(input, rtol=rcond)


def lstsq(A, B, rcond=None, *, driver=None):
    """Least-squares solution of A X = B (minimum norm), with residuals, rank and singular
    values as torch's CPU drivers report them (default 'gelsy': rank only)."""
    _check_matrix(A, "linalg.lstsq", square=False)
    _tensor_arg(B, "linalg.lstsq", "B")
    if driver not in (None, "gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError(f"torch.linalg.lstsq: parameter `driver` should be one of (gels, "
                           f"gelsy, gelsd, gelss)")
    driver = driver or "gelsy"
    vector = B.ndim == A.ndim - 1
    B2 = B.unsqueeze(-1) if vector else B
    if B2.shape[-2] != A.shape[-2]:
        raise RuntimeError(f"torch.linalg.lstsq: input.size(-2) should match other.size(-2)")
    m, n = A.shape[-2:]
    rtol = _dtype.finfo(A.dtype).eps * builtins.max(m, n) if rcond is None or rcond < 0 \
        else float(rcond)
    solution = pinv(A, rtol=rtol) @ B2
    empty = zeros((0,), dtype=A.dtype, device=A.device)
    rank = empty
    if driver != "gels":
        rank = matrix_rank(A.detach(), rtol=rtol)
    full_rank = driver == "gels" or bool((rank == builtins.min(m, n)).all())
    residuals = empty
    if driver != "gelsy" and m > n and full_rank:
        residuals = _sum((A @ solution - B2) ** 2, -2)
        if vector:
            residuals = residuals.squeeze(-1)
    sv = svdvals(A.detach()) if driver in ("gelsd", "gelss") else empty
    if vector:
        solution = solution.squeeze(-1)
    if driver == "gels":
        rank = zeros((0,), dtype=_dtype.int64, device=A.device)
    return lstsq_result(solution, residuals, rank, sv)


@method()
def matrix_power(input, n):
    """input ** n by repeated squaring (n < 0 inverts first; n == 0 gives the identity)."""
    _tensor_arg(input, "matrix_power", "input")
    if input.ndim < 2 or input.shape[-1] != input.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but "
                           f"they are {input.shape[-2] if input.ndim > 1 else 1} by "
                           f"{input.shape[-1] if input.ndim else 1} matrices")
    if n == 0:
        out = expand(_eye_as(input.shape[-1], input), tuple(input.shape)).clone()
        if input.requires_grad:   # in the graph with a zero gradient, as PyTorch's result
            out = where(zeros(tuple(input.shape), dtype=_dtype.bool, device=input.device),
                        input, out)
        return out
    x = inv(input) if n < 0 else input
    n = -n if n < 0 else n
    result = None
    while n:
        if n & 1:
            result = x if result is None else matmul(result, x)
        n >>= 1
        if n:
            x = matmul(x, x)
    return result


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False, tol=None, out=None):
    """Number of singular values above max(atol, rtol * s_max) (int64)."""
    _check_matrix(A, "linalg.matrix_rank", square=False)
    if tol is not None:
        atol, rtol = tol, 0.0
    if isinstance(atol, Tensor) or isinstance(rtol, Tensor):
        s = abs(eigvalsh(A)) if hermitian else svdvals(A)
        if s.shape[-1] == 0:
            result = _sum(s > 0, -1)
            shape = broadcast_shape(tuple(result.shape), *(
                tuple(t.shape) for t in (atol, rtol) if isinstance(t, Tensor)))
            result = expand(result, shape)
        else:
            s_max = _max_last(s) if hermitian else s[..., :1]
            result = _sum(s > _tensor_cutoff(A, atol, rtol, s_max), -1)
        return result if out is None else write_out(result, out, "linalg.matrix_rank")
    atol, rtol = _tolerances(A, atol, rtol, "linalg.matrix_rank")
    s = abs(eigvalsh(A)) if hermitian else svdvals(A)
    if s.shape[-1] == 0:
        result = _sum(s > 0, -1)
    else:
        s_max = _max_last(s) if hermitian else s[..., :1]   # svdvals are descending
        cutoff = where(s_max * rtol > atol, s_max * rtol, atol)
        result = _sum(s > cutoff, -1)
    return result if out is None else write_out(result, out, "linalg.matrix_rank")


def _max_last(s):
    """max over the last dim, keepdim (eigenvalue counts are small)."""
    m = s[..., :1]
    for i in range(1, s.shape[-1]):
        m = where(s[..., i:i + 1] > m, s[..., i:i + 1], m)
    return m


# ---------------------------------------------------------------------------------------------
# cross product
def _cross_vjp(g, out, a, b, dim):
    return (None if b is None else _cross_call(b, g, dim),
            None if a is None else _cross_call(g, a, dim))


_cross = Op("linalg_cross", _cross_vjp, saves="cross",
            sig="(Array a, Array b, *, dim dim) -> Array",
            rule=R.broadcast,
            doc="cross product of 3-vectors along dim, broadcast")


def _cross_call(a, b, dim):
    return call(_cross, (a, b), a.dtype, {"dim": dim})


def cross_linalg(input, other, *, dim=-1, out=None):
    """Cross product of 3-vectors along ``dim`` (broadcasting)."""
    _tensor_arg(input, "linalg.cross", "input")
    _tensor_arg(other, "linalg.cross", "other")
    if input.dtype is not other.dtype:
        raise RuntimeError(f"expected scalar type {_TYPE_WORD[input.dtype.name]} but found "
                           f"{_TYPE_WORD[other.dtype.name]}")
    if input.ndim != other.ndim:
        raise RuntimeError(f"linalg.cross: inputs must have the same number of dimensions.")
    shape = broadcast_shape(input._data.shape, other._data.shape)
    d = wrap_dim(dim, len(shape), "linalg.cross")
    if input.shape[d] != 3 or other.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{input.shape[d]} and {other.shape[d]}")
    result = _cross_call(input, other, d)
    return result if out is None else write_out(result, out, "linalg.cross")


@method()
def cross(input, other, dim=None, *, out=None):
    """torch.cross: dim=None picks the first dim of size 3 (deprecated default)."""
    if dim is None:
        shape = broadcast_shape(input._data.shape, other._data.shape)
        dim = next((i for i, n in enumerate(shape) if n == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    return cross_linalg(input, other, dim=dim, out=out)


# ---------------------------------------------------------------------------------------------
# torch.* (legacy) names
@method()
def inverse(input, *, out=None):
    return inv(input, out=out)


@method()
def det(input):
    return det_(input)


@method()
def slogdet(input):
    return slogdet_linalg(input)


Tensor.logdet = logdet


@method()
def cholesky(input, upper=False, *, out=None):
    return cholesky_linalg(input, upper=upper, out=out)


@method()
def qr(input, some=True, *, out=None):
    return qr_linalg(input, "reduced" if some else "complete")


@method()
def svd(input, some=True, compute_uv=True, *, out=None):
    """Legacy torch.svd: returns V (not Vh); compute_uv=False gives zero U and V."""
    U, S, Vh = svd_linalg(input, full_matrices=not some)
    if not compute_uv:
        return svd_legacy_result(zeros(tuple(U.shape), dtype=U.dtype, device=U.device), S,
                                 zeros(tuple(Vh.shape), dtype=Vh.dtype, device=Vh.device))
    return svd_legacy_result(U, S, Vh.mT)


Tensor.pinverse = pinverse


# ---------------------------------------------------------------------------------------------
# triangular solves and the solvers built on them
#
# Design: composites. A triangular solve is linalg.solve on the masked triangle (an upper
# triangle: LU with partial pivoting keeps the diagonal pivots, so it is back substitution; a
# lower triangle is flipped to an upper one first), so its gradient is solve's, masked to the
# triangle, as torch's. cholesky_solve / cholesky_inverse / lu_solve are two such solves.
solve_ex_result = namedtuple("linalg_solve_ex", ["result", "info"])
cholesky_ex_result = namedtuple("linalg_cholesky_ex", ["L", "info"])
triangular_solve_result = namedtuple("triangular_solve", ["solution", "cloned_coefficient"])
lu_factor_result = namedtuple("linalg_lu_factor", ["LU", "pivots"])
lu_factor_ex_result = namedtuple("linalg_lu_factor_ex", ["LU", "pivots", "info"])
lu_result = namedtuple("linalg_lu", ["P", "L", "U"])
lu_unpack_result = namedtuple("lu_unpack", ["P", "L", "U"])
geqrf_result = namedtuple("geqrf", ["a", "tau"])


def _triangle(A, upper, unitriangular):
    from .shape import tril, triu
    if unitriangular:
        T = triu(A, 1) if upper else tril(A, -1)
        return T + _eye_as(A.shape[-1], A)
    return triu(A) if upper else tril(A)


def _check_same_dtype(A, B, op):
    if A.dtype is not B.dtype:
        raise RuntimeError(f"{op}: Expected A and B to have the same dtype, but found A of "
                           f"type {_TYPE_WORD.get(A.dtype.name, A.dtype.name)} and B of type "
                           f"{_TYPE_WORD.get(B.dtype.name, B.dtype.name)} instead")


def _check_solve_rhs(op, A, B, n, left):
    """B of a solve with the (n x n) matrix A: a tensor of A's dtype, at least 2-D, whose rows
    (columns if not left) match n."""
    _tensor_arg(B, op, "B")
    if B.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor B must have at least 2 dimensions.")
    _check_same_dtype(A, B, op)
    if (B.shape[-2] if left else B.shape[-1]) != n:
        eq = "AX = B" if left else "XA = B"
        raise RuntimeError(f"{op}: Incompatible shapes of A and B for the equation {eq} "
                           f"({n}x{n} and {B.shape[-2]}x{B.shape[-1]})")


def solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None):
    """linalg.solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None):
    X with A X = B (X A = B if not left) for triangular A; only A's triangle is read."""
    op = "linalg.solve_triangular"
    _check_matrix(A, op)
    n = A.shape[-1]
    _check_solve_rhs(op, A, B, n, left)
    broadcast_shape(A.shape[:-2], B.shape[:-2])
    result = _solve_triangular(A, B, bool(upper), bool(left), bool(unitriangular))
    return result if out is None else write_out(result, out, op)


def _solve_triangular(A, B, upper, left=True, unitriangular=False):
    from .shape import flip
    if not left:
        return _solve_triangular(A.mT, B.mT, not upper, True, unitriangular).mT
    T = _triangle(A, upper, unitriangular)
    if upper:
        return _upper_solve(T, B)
    # lower: reversing rows and columns makes the triangle upper (back substitution again)
    return flip(_upper_solve(flip(T, (-2, -1)), flip(B, (-2,))), (-2,))


def _upper_solve(T, B):
    try:
        return solve(T, B)
    except LinAlgError:
        # a zero on the diagonal: back substitution row by row gives torch's inf / nan
        from .shape import cat
        n = T.shape[-1]
        rows = []
        below = None
        for i in range(n - 1, -1, -1):
            r = B[..., i:i + 1, :]
            if below is not None:
                r = r - T[..., i:i + 1, i + 1:] @ below
            r = r / T[..., i:i + 1, i:i + 1]
            rows.insert(0, r)
            below = cat(rows, dim=-2)
        return below


@method()
def triangular_solve(input, A, upper=True, transpose=False, unitriangular=False, *, out=None):
    """triangular_solve(b, A, upper=True, transpose=False, unitriangular=False): (solution,
    cloned_coefficient) with A X = b (A^T X = b if transpose); deprecated torch name."""
    op = "triangular_solve"
    _check_matrix(A, op)
    _tensor_arg(input, op, "input")
    if input.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor b must have at least 2 dimensions.")
    if input.shape[-2] != A.shape[-1]:
        raise RuntimeError(f"{op}: Incompatible matrix sizes for triangular_solve: each A "
                           f"matrix is {A.shape[-2]} by {A.shape[-1]} but each b matrix is "
                           f"{input.shape[-2]} by {input.shape[-1]}")
    _check_same_dtype(A, input, op)
    batch = broadcast_shape(A.shape[:-2], input.shape[:-2])
    coef = expand(A, batch + tuple(A.shape[-2:]))
    if transpose:
        X = _solve_triangular(coef.mT, input, not upper, True, bool(unitriangular))
    else:
        X = _solve_triangular(coef, input, bool(upper), True, bool(unitriangular))
    return triangular_solve_result(X, coef.clone())


@method()
def cholesky_solve(input, input2, upper=False, *, out=None):
    """cholesky_solve(B, L, upper=False): X with A X = B for A = L L^T (U^T U if upper), L
    the Cholesky factor."""
    op = "cholesky_solve"
    _check_matrix(input2, op, name="L")
    _tensor_arg(input, op, "input")
    if input.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor B must have at least 2 dimensions.")
    _check_same_dtype(input2, input, op)
    if input.shape[-2] != input2.shape[-1]:
        raise RuntimeError(f"{op}: Incompatible matrix sizes for cholesky_solve: each A matrix "
                           f"is {input2.shape[-2]} by {input2.shape[-1]} but each b matrix is "
                           f"{input.shape[-2]} by {input.shape[-1]}")
    result = _CholeskySolve.apply(input, input2, bool(upper))
    return result if out is None else write_out(result, out, op)


def _cholesky_solve(B, L, upper):
    L = L.mT if upper else L
    return _solve_triangular(L.mT, _solve_triangular(L, B, False), True)


class _CholeskySolve(Function):
    """Forward reads only the factor's triangle; the gradient is torch's, which differentiates
    A = L L^T over the whole of L: gL = -(G X^T + X G^T) L with G = A^-1 g."""

    @staticmethod
    def forward(ctx, B, L, upper):
        X = _cholesky_solve(B, L, upper)
        ctx.upper = upper
        ctx.save_for_backward(L, X)
        return X

    @staticmethod
    def backward(ctx, g):
        L, X = ctx.saved_tensors
        gB = _CholeskySolve.apply(g, L, ctx.upper)
        common = gB @ X.mT
        common = common + common.mT
        gL = -(L @ common) if ctx.upper else -(common @ L)
        return gB, gL, None


@method()
def cholesky_inverse(input, upper=False, *, out=None):
    """cholesky_inverse(L, upper=False): (L L^T)^-1 (or (U^T U)^-1) from a Cholesky factor."""
    op = "cholesky_inverse"
    _check_matrix(input, op)
    result = _CholeskyInverse.apply(input, bool(upper))
    return result if out is None else write_out(result, out, op)


class _CholeskyInverse(Function):
    """(L L^T)^-1 from L's triangle; torch's gradient gL = -(Ainv (g + g^T) Ainv) L."""

    @staticmethod
    def forward(ctx, L, upper):
        eye_ = expand(_eye_as(L.shape[-1], L), tuple(L.shape))
        X = _cholesky_solve(eye_, L, upper)
        X = 0.5 * (X + X.mT)
        ctx.upper = upper
        ctx.save_for_backward(L, X)
        return X

    @staticmethod
    def backward(ctx, g):
        L, X = ctx.saved_tensors
        common = X @ ((g + g.mT) @ X)
        return (-(L @ common) if ctx.upper else -(common @ L)), None


def solve_ex(A, B, *, left=True, check_errors=False, out=None):
    """linalg.solve_ex(A, B, *, left=True, check_errors=False): (result, info); info is 0, or
    (a singular A, check_errors=False) the first zero pivot of its LU factorization, with a
    NaN result."""
    from .._dtype import int32
    try:
        result = solve(A, B, left=left)
        info = zeros(tuple(A.shape[:-2]), dtype=int32, device=A.device)
    except LinAlgError:
        if check_errors:
            raise
        _, _, info = lu_factor_ex(A.detach())
        bad = info > 0
        unit = _eye_as(A.shape[-1], A)
        result = solve(where(bad.unsqueeze(-1).unsqueeze(-1), unit, A), B, left=left)
        vector = result.ndim == bad.ndim + 1
        mask = bad.unsqueeze(-1) if vector else bad.unsqueeze(-1).unsqueeze(-1)
        result = where(mask, float("nan"), result)
    if out is not None:
        write_out(result, out[0], "linalg.solve_ex")
    return solve_ex_result(result, info)


def cholesky_ex(A, *, upper=False, check_errors=False, out=None):
    """linalg.cholesky_ex(A, *, upper=False, check_errors=False): (L, info); info is 0, or the
    order of the first leading minor that is not positive-definite (L is then not usable)."""
    from .._dtype import int32
    try:
        L = cholesky_linalg(A, upper=upper)
        info = zeros(tuple(A.shape[:-2]), dtype=int32, device=A.device)
    except LinAlgError:
        if check_errors:
            raise
        n = A.shape[-1]
        sym = _tril(A.detach())
        sym = sym + _tril(sym, -1).mT
        info = zeros(tuple(A.shape[:-2]), dtype=int32, device=A.device)
        for j in range(n, 0, -1):   # leading minors: the smallest failing order wins
            w = eigvalsh(sym[..., :j, :j])
            info = where(w[..., 0] <= 0, j, info)
        info = cast(info, int32)
        bad = (info > 0).unsqueeze(-1).unsqueeze(-1)
        L = cholesky_linalg(where(bad, _eye_as(n, A), A), upper=upper)
        L = where(bad, float("nan"), L)
    return cholesky_ex_result(L, info)


# ---------------------------------------------------------------------------------------------
# LU: one primitive (getrf's packed factors, pivots and info); unpacking, solves and linalg.lu
# are composites, so their gradients come from the factorization's rule below.
def _lu_backward(gL, gU, P, L, U):
    """PyTorch's linalg_lu_backward (A = P L U; gL, gU may have entries outside the free
    triangles, which are ignored)."""
    from .shape import cat, tril, triu
    m, n = L.shape[-2], U.shape[-1]
    k = builtins.min(m, n)
    if m == n:
        gA = tril(L.mT @ gL, -1) + triu(gU @ U.mT)
        gA = _solve_triangular(U.mT, gA, False, left=False)
        gA = _solve_triangular(L.mT, gA, True, unitriangular=True)
    elif m < n:
        gA = L.mT @ gL - triu(gU) @ U.mT
        gA = _solve_triangular(U[..., :k].mT, tril(gA, -1), False, left=False)
        gA = cat([gA + triu(gU[..., :k]), gU[..., k:]], dim=-1)
        gA = _solve_triangular(L.mT, gA, True, unitriangular=True)
    else:
        gA = gU @ U.mT - L.mT @ tril(gL, -1)
        gA = _solve_triangular(L[..., :k, :].mT, triu(gA), True, unitriangular=True)
        gA = cat([gA + tril(gL[..., :k, :], -1), gL[..., k:, :]], dim=-2)
        gA = _solve_triangular(U.mT, gA, False, left=False)
    return P @ gA


def _lu_factor_vjp(grads, outs, A):
    gLU = grads[0]
    LU, pivots = outs[0], outs[1]
    m, n = LU.shape[-2:]
    k = builtins.min(m, n)
    P, L, U = lu_unpack(LU, pivots)
    return (_lu_backward(gLU[..., :, :k], gLU[..., :k, :], P, L, U),)


def _lu_factor_rule(A, **params):
    from ..contract import Meta
    *batch, m, n = A.shape
    batch = tuple(batch)
    return (Meta(A.shape, A.dtype), Meta(batch + (builtins.min(m, n),), "int32"),
            Meta(batch, "int32"))


_lu_factor_run = _decomposition(
    "linalg_lu_factor", _lu_factor_vjp, "(Array A) -> (Array, Array, Array)", _lu_factor_rule,
    "getrf: packed L (unit, below the diagonal) and U, 1-based int32 row-swap pivots, int32 "
    "info (first zero pivot, 1-based; 0 if none) with A = P L U",
    out_dtypes=(None, _dtype.int32, _dtype.int32))


def _check_pivot(pivot, op):
    if not pivot:
        raise RuntimeError(f"{op}: LU without pivoting is not implemented on the CPU")


def lu_factor_ex(A, *, pivot=True, check_errors=False, out=None):
    """linalg.lu_factor_ex(A, *, pivot=True, check_errors=False): (LU, pivots, info), LAPACK's
    packed LU factorization with partial pivoting (info > 0: U has a zero pivot)."""
    op = "linalg.lu_factor_ex"
    _check_matrix(A, op, square=False)
    _check_pivot(pivot, op)
    LU, pivots, info = _lu_factor_run(_NO_PARAMS, A)
    if check_errors and bool((info > 0).any()):
        raise LinAlgError(f"{op}: The factorization could not be completed because the input "
                          f"is singular.")
    return lu_factor_ex_result(LU, pivots, info)


def lu_factor(A, *, pivot=True, out=None):
    """linalg.lu_factor(A, *, pivot=True): (LU, pivots), the packed LU factorization with
    partial pivoting; a zero pivot in U is an error (use lu_factor_ex or lu for those)."""
    op = "torch.linalg.lu_factor"
    _check_matrix(A, "linalg.lu_factor", square=False)
    _check_pivot(pivot, "linalg.lu_factor")
    LU, pivots, info = _lu_factor_run(_NO_PARAMS, A)
    if info.numel() and bool((info > 0).any()):
        i = int(next(v for v in info.cpu().numpy().reshape(-1) if v > 0))
        raise RuntimeError(f"{op}: U[{i},{i}] is zero and using it on lu_solve would result "
                           f"in a division by zero. If you still want to perform the "
                           f"factorization, consider calling linalg.lu(A, pivot) or "
                           f"linalg.lu_factor_ex(A, pivot)")
    return lu_factor_result(LU, pivots)


def _pivots_to_permutation(pivots, m):
    """perm with (P^T A)[i] = A[perm[i]] from LAPACK's 1-based sequential row swaps (a host
    loop over the swaps, vectorized over the batch: pivots are small integer tensors)."""
    import numpy as np
    from .creation import tensor
    batch = tuple(pivots.shape[:-1])
    piv = np.asarray(pivots.detach().cpu().numpy(), dtype=np.int64).reshape(
        (_prod(batch), pivots.shape[-1]))
    perm = np.tile(np.arange(m, dtype=np.int64), (piv.shape[0], 1))
    rows = np.arange(piv.shape[0])
    for i in range(piv.shape[1]):
        j = piv[:, i] - 1
        if ((j < 0) | (j >= m)).any():
            raise RuntimeError(f"lu_unpack: pivots must be between 1 and {m}, but got "
                               f"{int(j[(j < 0) | (j >= m)][0]) + 1}")
        here = perm[:, i].copy()
        perm[:, i] = perm[rows, j]
        perm[rows, j] = here
    return tensor(perm.reshape(batch + (m,)), device=pivots.device)


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True, *, out=None):
    """lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True): (P, L, U) from
    a packed LU factorization and its pivots (empty tensors for what is not unpacked)."""
    from .shape import tril, triu
    op = "lu_unpack"
    _tensor_arg(LU_data, op, "LU_data")
    _tensor_arg(LU_pivots, op, "LU_pivots")
    if LU_data.ndim < 2:
        raise RuntimeError(f"torch.lu_unpack: Expected tensor with 2 or more dimensions. Got "
                           f"size: {list(LU_data.shape)} instead")
    m, n = LU_data.shape[-2:]
    k = builtins.min(m, n)
    if LU_pivots.dtype is not _dtype.int32:
        raise RuntimeError(f"torch.lu_unpack: LU_pivots is expected to be a contiguous tensor "
                           f"of torch.int32 dtype. Note: this function is intended to be used "
                           f"with the output produced by torch.linalg.lu_factor")
    empty = zeros((0,), dtype=LU_data.dtype, device=LU_data.device)
    L = U = P = empty
    if unpack_data:
        L = tril(LU_data[..., :, :k], -1) + eye(m, k, dtype=LU_data.dtype,
                                                  device=LU_data.device)
        U = triu(LU_data[..., :k, :])
    if unpack_pivots:
        perm = _pivots_to_permutation(LU_pivots, m)
        rows = arange(m, device=LU_data.device).unsqueeze(-1)
        P = cast(perm.unsqueeze(-2) == rows, LU_data.dtype)
    return lu_unpack_result(P, L, U)


def lu_linalg(A, *, pivot=True, out=None):
    """linalg.lu(A, *, pivot=True): (P, L, U) with A = P L U, L unit lower triangular (m x k),
    U upper triangular (k x n), k = min(m, n)."""
    _check_matrix(A, "linalg.lu", square=False)
    _check_pivot(pivot, "linalg.lu")
    LU, pivots, _ = _lu_factor_run(_NO_PARAMS, A)
    return lu_result(*lu_unpack(LU, pivots))


def lu_solve_linalg(LU, pivots, B, *, left=True, adjoint=False, out=None):
    """linalg.lu_solve(LU, pivots, B, *, left=True, adjoint=False): X with A X = B (X A = B
    if not left; A^T in place of A if adjoint) from A's packed LU factorization."""
    op = "linalg.lu_solve"
    _check_matrix(LU, op, name="LU")
    n = LU.shape[-1]
    _check_solve_rhs(op, LU, B, n, left)
    if not left:   # X A = B  <=>  A^T X^T = B^T
        return lu_solve_linalg(LU, pivots, B.mT, left=True, adjoint=not adjoint).mT
    P, L, U = lu_unpack(LU, pivots)
    if adjoint:    # U^T L^T P^T X = B
        Y = _solve_triangular(U.mT, B, False)
        result = P @ _solve_triangular(L.mT, Y, True, unitriangular=True)
    else:
        Y = _solve_triangular(L, P.mT @ B, False, unitriangular=True)
        result = _solve_triangular(U, Y, True)
    return result if out is None else write_out(result, out, op)


@method()
def lu_solve(input, LU_data, LU_pivots, *, out=None):
    """lu_solve(b, LU_data, LU_pivots): X with A X = b from A's packed LU factorization
    (deprecated torch name of linalg.lu_solve)."""
    return lu_solve_linalg(LU_data, LU_pivots, input, out=out)


@method()
def lu(input, pivot=True, get_infos=False, out=None):
    """lu(A, pivot=True, get_infos=False): (LU, pivots[, infos]), the packed LU
    factorization (deprecated torch name of linalg.lu_factor_ex)."""
    LU, pivots, info = lu_factor_ex(input, pivot=pivot)
    return (LU, pivots, info) if get_infos else (LU, pivots)


# ---------------------------------------------------------------------------------------------
# Householder QR: geqrf is a primitive (LAPACK's packed reflectors, not differentiable, as in
# torch); householder_product and ormqr apply the reflectors with frontend ops, so they are
# differentiable in both arguments.
def _geqrf_vjp(grads, outs, A):
    raise RuntimeError("the derivative for 'geqrf' is not implemented.")


def _geqrf_rule(A, **params):
    from ..contract import Meta
    *batch, m, n = A.shape
    return Meta(A.shape, A.dtype), Meta(tuple(batch) + (builtins.min(m, n),), A.dtype)


_geqrf_run = _decomposition(
    "linalg_geqrf", _geqrf_vjp, "(Array A) -> (Array, Array)", _geqrf_rule,
    "geqrf: R on and above the diagonal, Householder vectors below it, and their scales tau")


@method()
def geqrf(input, *, out=None):
    """geqrf(input): (a, tau), LAPACK's QR factorization: R on and above the diagonal of a,
    the Householder reflectors (unit leading entry implied) below it."""
    _check_matrix(input, "geqrf", square=False)
    return geqrf_result(*_geqrf_run(_NO_PARAMS, input))


def _reflectors(A, k):
    """The Householder vectors (columns) of geqrf's packed output: unit diagonal, zeros above."""
    from .shape import tril
    m = A.shape[-2]
    return tril(A[..., :, :k], -1) + eye(m, k, dtype=A.dtype, device=A.device)


def householder_product(A, tau, *, out=None):
    """linalg.householder_product(A, tau): the first n columns of H_1 ... H_k,
    H_i = I - tau_i v_i v_i^T with v_i the i-th column of A below the diagonal (1 on it)."""
    op = "torch.linalg.householder_product"
    _check_matrix(A, "linalg.householder_product", square=False)
    _tensor_arg(tau, op, "tau")
    m, n = A.shape[-2:]
    if m < n:
        raise RuntimeError(f"{op}: input.shape[-2] must be greater than or equal to "
                           f"input.shape[-1]")
    if tau.ndim < 1 or tau.shape[-1] > n:
        raise RuntimeError(f"{op}: input.shape[-1] must be greater than or equal to "
                           f"tau.shape[-1]")
    if tau.ndim != A.ndim - 1:
        raise RuntimeError(f"{op}: Expected tau to have one dimension less than input, but "
                           f"got tau.ndim equal to {tau.ndim} and input.ndim is equal to "
                           f"{A.ndim}")
    _check_same_dtype(A, tau, op)
    k = tau.shape[-1]
    V = _reflectors(A, k)
    Q = expand(eye(m, n, dtype=A.dtype, device=A.device),
               broadcast_shape(tuple(A.shape[:-2]), tuple(tau.shape[:-1])) + (m, n))
    if k == 0 and STATE.grad_enabled and (A.requires_grad or tau.requires_grad):
        # the identity, still an output of A (zero gradient), as torch's
        never = zeros((), dtype=_dtype.bool, device=A.device)
        Q = where(never, A[..., :, :n] + _sum(tau, -1).unsqueeze(-1).unsqueeze(-1), Q)
    for i in range(k - 1, -1, -1):
        v = V[..., :, i:i + 1]
        Q = Q - (tau[..., i:i + 1].unsqueeze(-1) * v) @ (v.mT @ Q)
    result = Q
    return result if out is None else write_out(result, out, "linalg.householder_product")


orgqr = householder_product


@method()
def ormqr(input, input2, input3, left=True, transpose=False, *, out=None):
    """ormqr(input, tau, other, left=True, transpose=False): other multiplied by the Q of
    geqrf's (input, tau): Q other, Q^T other (transpose), or other Q / other Q^T (left=False)."""
    op = "torch.ormqr"
    _check_matrix(input, "ormqr", square=False)
    _tensor_arg(input2, "ormqr", "tau")
    _tensor_arg(input3, "ormqr", "other")
    A, tau, C = input, input2, input3
    if C.ndim < 2:
        raise RuntimeError(f"{op}: other must have at least 2 dimensions.")
    if C.ndim != A.ndim:
        raise RuntimeError(f"{op}: input and other must have the same number of dimensions")
    rows = C.shape[-2] if left else C.shape[-1]
    if A.shape[-2] != rows:
        which = "other.shape[-2]" if left else "other.shape[-1]"
        raise RuntimeError(f"{op}: input.shape[-2] must be equal to {which}")
    k = tau.shape[-1] if tau.ndim else 0
    if tau.ndim != A.ndim - 1 or k > rows or k > A.shape[-1]:
        raise RuntimeError(f"{op}: tau.shape[-1] must be less than or equal to "
                           f"input.shape[-2]")
    _check_same_dtype(A, tau, op)
    _check_same_dtype(A, C, op)
    V = _reflectors(A, k)
    # Q = H_1 ... H_k: Q C applies H_k first, Q^T C H_1 first; C Q H_1 first, C Q^T H_k first
    order = range(k) if left == bool(transpose) else range(k - 1, -1, -1)
    result = C
    for i in order:
        v = V[..., :, i:i + 1]
        t = tau[..., i:i + 1].unsqueeze(-1)
        if left:
            result = result - (t * v) @ (v.mT @ result)
        else:
            result = result - (result @ v) @ (t * v).mT
    return result if out is None else write_out(result, out, "ormqr")


# ---------------------------------------------------------------------------------------------
# tensor solves, condition number, matrix exponential (composites)
def tensorinv(A, ind=2, *, out=None):
    """linalg.tensorinv(A, ind=2): the tensor inverse: tensordot(tensorinv(A), A, ind) is the
    identity; A.shape[ind:] + A.shape[:ind] is the result's shape."""
    _tensor_arg(A, "linalg.tensorinv", "A")
    if ind <= 0:
        raise RuntimeError(f"linalg.tensorinv: Expected a strictly positive integer for 'ind', "
                           f"but got {ind}")
    rows, cols = tuple(A.shape[:ind]), tuple(A.shape[ind:])
    p, q = _prod(rows), _prod(cols)
    if p != q:
        raise RuntimeError(f"linalg.tensorinv: Expected self to satisfy the requirement "
                           f"prod(self.shape[ind:]) == prod(self.shape[:ind]), but got {q} != {p}")
    result = reshape(inv(reshape(A, (p, q))), cols + rows)
    return result if out is None else write_out(result, out, "linalg.tensorinv")


def tensorsolve(A, B, dims=None, *, out=None):
    """linalg.tensorsolve(A, B, dims=None): X with tensordot(A, X, X.ndim) == B (dims of A
    are first moved to the end)."""
    _tensor_arg(A, "linalg.tensorsolve", "A")
    _tensor_arg(B, "linalg.tensorsolve", "B")
    if dims is not None:
        dims = [wrap_dim(d, A.ndim, "linalg.tensorsolve") for d in dims]
        A = movedim(A, tuple(dims), tuple(range(A.ndim - len(dims), A.ndim)))
    x_shape = tuple(A.shape[B.ndim:])
    p, q = _prod(B.shape), _prod(x_shape)
    if _prod(A.shape[:B.ndim]) != p or p != q:
        raise RuntimeError(f"linalg.tensorsolve: Expected self to satisfy the requirement "
                           f"prod(self.shape[other.ndim:]) == prod(self.shape[:other.ndim]), "
                           f"but got {q} != {p}")
    result = reshape(solve(reshape(A, (p, q)), reshape(B, (p,))), x_shape)
    return result if out is None else write_out(result, out, "linalg.tensorsolve")


def cond(A, p=None, *, out=None):
    """linalg.cond(A, p=None): the condition number ||A||_p ||A^-1||_p (p None/2/-2 from the
    singular values: s_max / s_min or its inverse)."""
    import corelib
    op = "linalg.cond"
    _check_matrix(A, op, square=p not in (None, 2, -2))
    if p in (None, 2, -2):
        s = svdvals(A)
        if s.shape[-1] == 0:
            result = zeros(tuple(A.shape[:-2]), dtype=A.dtype, device=A.device)
        else:
            result = s[..., 0] / s[..., -1] if p != -2 else s[..., -1] / s[..., 0]
    else:
        if p not in ("fro", "nuc", float("inf"), -float("inf"), 1, -1):
            raise RuntimeError(f"linalg.cond got an invalid norm type: {p}")
        result = corelib.linalg.matrix_norm(A, p) * corelib.linalg.matrix_norm(inv(A), p)
    return result if out is None else write_out(result, out, op)


_PADE13 = (64764752532480000., 32382376266240000., 7771770303897600., 1187353796428800.,
           129060195264000., 10559470521600., 670442572800., 33522128640., 1323241920.,
           40840800., 960960., 16380., 182., 1.)
_THETA13 = 5.371920351148152


@method()
def matrix_exp(input):
    """matrix_exp(A): the matrix exponential, by scaling and squaring with the degree-13 Pade
    approximant (Higham 2005); differentiable through its matmuls and solve."""
    import math
    from .reduction import amax
    A = _check_matrix(input, "linalg.matrix_exp")
    n = A.shape[-1]
    if A.numel() == 0:
        return A.clone()
    if n == 1:
        from .elementwise import exp
        return exp(A)
    norm1 = float(amax(_sum(abs(A.detach()), -2)).item())   # the largest 1-norm of the batch
    s = 0
    if norm1 > _THETA13 and math.isfinite(norm1):
        s = builtins.max(0, int(math.ceil(math.log2(norm1 / _THETA13))))
    if s:
        A = A / (2.0 ** s)
    b = _PADE13
    I = _eye_as(n, A)
    A2 = A @ A
    A4 = A2 @ A2
    A6 = A4 @ A2
    U = A @ (A6 @ (b[13] * A6 + b[11] * A4 + b[9] * A2) + b[7] * A6 + b[5] * A4 + b[3] * A2
             + b[1] * I)
    V = A6 @ (b[12] * A6 + b[10] * A4 + b[8] * A2) + b[6] * A6 + b[4] * A4 + b[2] * A2 \
        + b[0] * I
    R = solve(V - U, V + U)
    for _ in range(s):
        R = R @ R
    return R


# ---------------------------------------------------------------------------------------------
# LDL^T (Bunch-Kaufman): LAPACK's sytrf / sytrs storage; not differentiable, as in torch
ldl_factor_result = namedtuple("linalg_ldl_factor", ["LD", "pivots"])
ldl_factor_ex_result = namedtuple("linalg_ldl_factor_ex", ["LD", "pivots", "info"])


def _ldl_factor_vjp(grads, outs, A, hermitian):
    raise RuntimeError("the derivative for 'linalg_ldl_factor_ex' is not implemented.")


def _ldl_factor_rule(A, **params):
    from ..contract import Meta
    batch = tuple(A.shape[:-2])
    return Meta(A.shape, A.dtype), Meta(batch + (A.shape[-1],), "int32"), Meta(batch, "int32")


_ldl_factor_run = _decomposition(
    "linalg_ldl_factor", _ldl_factor_vjp, "(Array A, *, bool hermitian) -> (Array, Array, Array)",
    _ldl_factor_rule,
    "sytrf (lower): L D L^T with Bunch-Kaufman pivoting, packed (upper triangle zero), 1-based "
    "int32 pivots (negative pairs mark 2x2 blocks of D), int32 info (D singular: > 0)",
    out_dtypes=(None, _dtype.int32, _dtype.int32))


def _ldl_solve_rule(LD, pivots, B, **params):
    from ..contract import Meta
    batch = R.broadcast_shape(tuple(LD.shape[:-2]), tuple(pivots.shape[:-1]), tuple(B.shape[:-2]))
    return Meta(batch + tuple(B.shape[-2:]), B.dtype)


_ldl_solve = Op("linalg_ldl_solve", None,
                sig="(Array LD, Array pivots, Array B, *, bool hermitian) -> Array",
                rule=_ldl_solve_rule,
                doc="sytrs: X with A X = B from sytrf's packed factors and pivots")


def ldl_factor_ex(A, *, hermitian=False, check_errors=False, out=None):
    """linalg.ldl_factor_ex(A, *, hermitian=False, check_errors=False): (LD, pivots, info),
    LAPACK's Bunch-Kaufman LDL^T factorization of a symmetric matrix (lower triangle read)."""
    op = "torch.linalg.ldl_factor_ex"
    _check_matrix(A, "linalg.ldl_factor_ex")
    LD, pivots, info = _ldl_factor_run({"hermitian": bool(hermitian)}, A)
    if check_errors and info.numel() and bool((info > 0).any()):
        raise LinAlgError(f"{op}: The factorization could not be completed because the input "
                          f"is singular.")
    return ldl_factor_ex_result(LD, pivots, info)


def ldl_factor(A, *, hermitian=False, out=None):
    """linalg.ldl_factor(A, *, hermitian=False): (LD, pivots), the Bunch-Kaufman LDL^T
    factorization of a symmetric matrix; a singular D is an error."""
    LD, pivots, info = ldl_factor_ex(A, hermitian=hermitian)
    if info.numel() and bool((info > 0).any()):
        raise LinAlgError("torch.linalg.ldl_factor: The factorization could not be completed "
                          "because the input is singular.")
    return ldl_factor_result(LD, pivots)


def ldl_solve(LD, pivots, B, *, hermitian=False, out=None):
    """linalg.ldl_solve(LD, pivots, B, *, hermitian=False): X with A X = B from ldl_factor's
    (LD, pivots)."""
    op = "torch.linalg.ldl_solve"
    _check_matrix(LD, "linalg.ldl_solve", name="LD")
    _tensor_arg(pivots, op, "pivots")
    _tensor_arg(B, op, "B")
    if B.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor B must have at least 2 dimensions.")
    if pivots.dtype is not _dtype.int32:
        raise RuntimeError(f"{op}: Expected pivots to be integers. Got {pivots.dtype}")
    if pivots.shape[-1] != LD.shape[-1] or B.shape[-2] != LD.shape[-1]:
        raise RuntimeError(f"{op}: Incompatible shapes of LD ({list(LD.shape)}), pivots "
                           f"({list(pivots.shape)}) and B ({list(B.shape)})")
    _check_same_dtype(LD, B, op)
    result = call(_ldl_solve, (LD, pivots, B), B.dtype, {"hermitian": bool(hermitian)})
    return result if out is None else write_out(result, out, "linalg.ldl_solve")


# ---------------------------------------------------------------------------------------------
# randomized low-rank SVD / PCA (Halko, Martinsson & Tropp 2009), as torch's _lowrank module
def _approximate_basis(A, q, niter, M):
    from .creation import randn
    R = randn(A.shape[-1], q, dtype=A.dtype, device=A.device)
    X = A @ R if M is None else A @ R - M @ R
    Q = qr_linalg(X).Q
    for _ in range(niter):
        X = A.mT @ Q if M is None else A.mT @ Q - M.mT @ Q
        Q = qr_linalg(X).Q
        X = A @ Q if M is None else A @ Q - M @ Q
        Q = qr_linalg(X).Q
    return Q


def svd_lowrank(A, q=6, niter=2, M=None):
    """svd_lowrank(A, q=6, niter=2, M=None): (U, S, V), an approximate rank-q SVD of A - M
    by a randomized range finder with niter power iterations (random: seeded by manual_seed)."""
    _check_matrix(A, "svd_lowrank", square=False)
    q = 6 if q is None else q
    m, n = A.shape[-2:]
    if M is not None:
        M = expand(M, tuple(A.shape))
    if m < n:
        A = A.mT
        M = None if M is None else M.mT
    Q = _approximate_basis(A, q, 2 if niter is None else niter, M)
    B = Q.mT @ A if M is None else Q.mT @ A - Q.mT @ M
    U, S, Vh = svd_linalg(B, full_matrices=False)
    U, V = Q @ U, Vh.mT
    if m < n:
        U, V = V, U
    return U, S, V


def pca_lowrank(A, q=None, center=True, niter=2):
    """pca_lowrank(A, q=None, center=True, niter=2): (U, S, V), the principal components of A
    (rows are samples; centered unless center=False) by svd_lowrank, q = min(6, m, n) default."""
    from .reduction import mean
    _check_matrix(A, "pca_lowrank", square=False)
    m, n = A.shape[-2:]
    if q is None:
        q = builtins.min(6, m, n)
    elif not (q >= 0 and q <= builtins.min(m, n)):
        raise ValueError(f"q(={q}) must be non-negative integer and not greater than "
                         f"min(m, n)={builtins.min(m, n)}")
    if not niter >= 0:
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    if center:
        A = A - mean(A, -2, keepdim=True)
    return svd_lowrank(A, q, niter=niter)
