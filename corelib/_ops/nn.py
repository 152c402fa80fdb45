"""nn primitives: ops with their own kernels and derivative rules (see core.py for the contract).

Every backward here is itself an op with a derivative rule, so second derivatives work: the
convolution and its two transposes are each other's derivatives, and likewise the pooling
gathers/scatters, softmax and its backward, embedding and its backward. Argument checking and
PyTorch's calling conventions live in corelib.nn.functional; these take normalised arguments.
"""
from __future__ import annotations

from .. import _dtype
from .._tensor import Tensor
from ..autograd.grad_mode import STATE
from . import rules as R
from .core import Op, as_tensor_arg, call, device_of, wrap_dim
from .elementwise import exp, sqrt, to_float
from .reduction import mean, sum as _sum
from .shape import reshape

# public API, re-exported by corelib/__init__.py (only names torch has at top level)
__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "softmax", "log_softmax", "layer_norm", "group_norm", "dropout", "max_pool1d",
           "max_pool2d", "avg_pool1d", "adaptive_avg_pool1d", "adaptive_max_pool1d",
           "pixel_shuffle", "pixel_unshuffle", "cosine_similarity", "pairwise_distance",
           "prelu", "threshold", "hardshrink", "bilinear"]


# ---------------------------------------------------------------------------------------------
# linear: x @ w.T + b (all gradients are linears again)
def _linear_vjp(g, out, x, w, b):
    gx = None if w is None else linear_backward_input(g, w)
    gw = None if x is None else linear_backward_weight(g, x)
    gb = None if b is None else _sum(g, tuple(range(g.ndim - 1))) if g.ndim > 1 else g
    return gx, gw, gb


# The three linear maps are each other's derivatives: linear(x, w) = x @ w.T,
# backward_input(g, w) = g @ w, backward_weight(g, x) = rows(g).T @ rows(x).
_linear = Op("linear", _linear_vjp, saves=((1,), (0,), (2,)),
             sig="(Array x, Array w, Array? b) -> Array",
             rule=R.linear,
             doc="x @ w.T + b")  # b only marks its grad
_linear_bi = Op("linear_backward_input", lambda gg, out, g, w: (
    None if w is None else linear_op(gg, w), None if g is None else linear_backward_weight(g, gg)),
    saves="cross",
                sig="(Array g, Array w) -> Array",
                rule=R.linear_backward_input,
                doc="g @ w (linear's gradient w.r.t. x)")
_linear_bw = Op("linear_backward_weight", lambda gg, out, g, x: (
    None if x is None else linear_op(x, gg), None if g is None else linear_backward_input(g, gg)),
    saves="cross",
                sig="(Array g, Array x) -> Array",
                rule=R.linear_backward_weight,
                doc="rows(g).T @ rows(x), leading dims flattened (linear's gradient w.r.t. w)")


def linear_op(x, w, b=None):
    return call(_linear, (x, w, b), x.dtype)


def linear_backward_input(g, w):
    return call(_linear_bi, (g, w), g.dtype)


def linear_backward_weight(g, x):
    return call(_linear_bw, (g, x), g.dtype)


# ---------------------------------------------------------------------------------------------
# convolution (N-d) and its transposes
def _geo(params):
    return {k: params[k] for k in ("stride", "padding", "dilation", "groups")}


def _conv_vjp(g, out, x, w, b, **params):
    geo = _geo(params)
    gx = None if w is None else conv_backward_input(g, w, params["input_shape"], geo)
    gw = None if x is None else conv_backward_weight(x, g, params["weight_shape"], geo)
    gb = None if b is None else _sum(g, (0,) + tuple(range(2, g.ndim)))
    return gx, gw, gb


def _conv_backward_input_vjp(gg, out, g, w, input_shape, **geo):
    trimmed, tgeo = _windows_of(gg, tuple(g.shape[2:]), tuple(w.shape[2:]), geo)
    dg = convolution(trimmed, w, None, tgeo)
    dw = conv_backward_weight(gg, g, tuple(w.shape), geo)
    return dg, dw


def _conv_backward_weight_vjp(gg, out, x, g, weight_shape, **geo):
    dx = conv_backward_input(g, gg, tuple(x.shape), geo)
    dg = convolution(x, gg, None, geo)
    return dx, dg


_conv = Op("convolution", _conv_vjp, saves=((1,), (0,), (2,)),
           sig=("(Array x, Array w, Array? b, *, int[] stride, int[][] padding, int[] dilation, "
                "int groups, shape input_shape, shape weight_shape) -> Array"),
           rule=R.convolution,
           doc=("N-d convolution (cross-correlation) of (N, C, *S) with (O, C / groups, *K), plus "
                "bias"))
_conv_bi = Op("convolution_backward_input", _conv_backward_input_vjp,
              sig=("(Array g, Array w, *, int[] stride, int[][] padding, int[] dilation, int "
                   "groups, shape input_shape) -> Array"),
              rule=R.input_shape,
              doc="convolution's gradient w.r.t. its input (a transposed convolution)")
_conv_bw = Op("convolution_backward_weight", _conv_backward_weight_vjp,
              sig=("(Array x, Array g, *, int[] stride, int[][] padding, int[] dilation, int "
                   "groups, shape weight_shape) -> Array"),
              rule=R.weight_shape,
              doc="convolution's gradient w.r.t. its weight")


def convolution(x, w, b, geo):
    """conv of (N, C, *S) with (O, C/groups, *K); geo: stride, padding ((lo, hi), ...),
    dilation, groups."""
    params = dict(geo, input_shape=tuple(x.shape), weight_shape=tuple(w.shape))
    return call(_conv, (x, w, b), x.dtype, params)


def conv_backward_input(g, w, input_shape, geo):
    return call(_conv_bi, (g, w), g.dtype, dict(geo, input_shape=tuple(input_shape)))


def _windows_of(x, out_spatial, kernel, geo):
    """x (and geo's padding) trimmed to the windows of a convolution with ``out_spatial``
    outputs: a transposed convolution's output_padding (up to the dilation) can leave x
    reaching past the last window. The high padding goes first, then x's own tail."""
    padding, crop = list(geo["padding"]), []
    for i, (lo, hi) in enumerate(padding):
        span = (out_spatial[i] - 1) * geo["stride"][i] + geo["dilation"][i] * (kernel[i] - 1) + 1
        extra = x.shape[2 + i] + lo + hi - span
        if out_spatial[i] and extra >= geo["stride"][i]:
            cut = min(hi, extra)
            padding[i] = (lo, hi - cut)
            crop.append((2 + i, x.shape[2 + i] - (extra - cut)))
    if not crop:
        return x, geo
    from .shape import narrow
    for d, n in crop:
        x = narrow(x, d, 0, n)
    return x, dict(geo, padding=tuple(padding))


def conv_backward_weight(x, g, weight_shape, geo):
    x, geo = _windows_of(x, tuple(g.shape[2:]), tuple(weight_shape[2:]), geo)
    return call(_conv_bw, (x, g), x.dtype, dict(geo, weight_shape=tuple(weight_shape)))


def _unfold_vjp(g, out, x_shape, kernel_size, stride, padding, dilation):
    return (col2im(g, tuple(x_shape[2:]), kernel_size, stride, padding, dilation),)


def _fold_vjp(g, out, c, output_size, kernel_size, stride, padding, dilation):
    return (im2col(g, kernel_size, stride, padding, dilation),)


_im2col = Op("im2col", _unfold_vjp, saves="meta",
             sig=("(Array x, *, int[] kernel_size, int[] stride, int[][] padding, int[] dilation) "
                  "-> Array"),
             rule=R.im2col,
             doc="sliding blocks of (N, C, *S) as (N, C * prod(kernel_size), blocks)")
_col2im = Op("col2im", _fold_vjp, saves=None,
             sig=("(Array cols, *, shape output_size, int[] kernel_size, int[] stride, int[][] "
                  "padding, int[] dilation) -> Array"),
             rule=R.col2im,
             doc=("blocks (N, C * prod(kernel_size), L) summed into (N, C, *output_size) "
                  "(im2col's transpose)"))


def im2col(x, kernel_size, stride, padding, dilation):
    return call(_im2col, (x,), x.dtype, dict(kernel_size=kernel_size, stride=stride,
                                             padding=padding, dilation=dilation))


def col2im(cols, output_size, kernel_size, stride, padding, dilation):
    return call(_col2im, (cols,), cols.dtype, dict(
        output_size=tuple(output_size), kernel_size=kernel_size, stride=stride,
        padding=padding, dilation=dilation))


# ---------------------------------------------------------------------------------------------
# pooling: max pools pick per-plane flat indices, then gather (scatter is its transpose)
_max_pool_indices = Op("max_pool_indices",
                       sig=("(Array x, *, int[] kernel_size, int[] stride, int[] padding, int[] "
                            "dilation, bool ceil_mode) -> Array"),
                       rule=R.max_pool_indices,
                       doc="per-plane flat index of each pooling window's maximum (int64)")
_adaptive_max_pool_indices = Op("adaptive_max_pool_indices",
                                sig="(Array x, *, shape output_size) -> Array",
                                rule=R.adaptive_pool_indices,
                                doc=("per-plane flat index of each adaptive window's maximum "
                                     "(int64)"))
_pool_gather = Op("pool_gather", lambda g, out, x, idx, unique: (
    pool_scatter(g, idx, tuple(x.shape), unique), None), saves=((0,), (0,)),
                  sig="(Array x, Array indices, *, bool unique) -> Array",
                  rule=R.like_index,
                  doc="x (N, C, *S) at per-plane flat indices (unique: no position picked twice)")
_pool_scatter = Op("pool_scatter", lambda gg, out, g, idx, input_shape, unique: (
    pool_gather(gg, idx, unique), None), saves=((), (0,)),
                   sig="(Array g, Array indices, *, shape input_shape, bool unique) -> Array",
                   rule=R.input_shape,
                   doc=("zeros of input_shape with g added at per-plane flat indices "
                        "(pool_gather's transpose)"))


def max_pool_indices(x, kernel_size, stride, padding, dilation, ceil_mode):
    return call(_max_pool_indices, (x,), _dtype.int64, dict(
        kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation,
        ceil_mode=bool(ceil_mode)))


def adaptive_max_pool_indices(x, output_size):
    return call(_adaptive_max_pool_indices, (x,), _dtype.int64,
                {"output_size": tuple(output_size)})


def pool_gather(x, indices, unique=False):
    """x (N, C, *S) at per-plane flat indices; ``unique``: no input position is picked twice
    (non-overlapping windows), which lets the backward scatter assign instead of add."""
    return call(_pool_gather, (x, indices), x.dtype, {"unique": bool(unique)})


def pool_scatter(g, indices, input_shape, unique=False):
    return call(_pool_scatter, (g, indices), g.dtype,
                {"input_shape": tuple(input_shape), "unique": bool(unique)})


def _avg_pool_vjp(g, out, x_shape, **params):
    return (avg_pool_backward(g, x_shape, params),)


def _avg_pool_backward_vjp(gg, out, g, input_shape, **params):
    return (avg_pool(gg, params),)


_avg_pool = Op("avg_pool", _avg_pool_vjp, saves="meta",
               sig=("(Array x, *, int[] kernel_size, int[] stride, int[] padding, bool ceil_mode, "
                    "bool count_include_pad, int? divisor_override) -> Array"),
               rule=R.avg_pool,
               doc="average over each pooling window of (N, C, *S)")
_avg_pool_backward = Op("avg_pool_backward", _avg_pool_backward_vjp, saves=None,
                        sig=("(Array g, *, int[] kernel_size, int[] stride, int[] padding, bool "
                             "ceil_mode, bool count_include_pad, int? divisor_override, shape "
                             "input_shape) -> Array"),
                        rule=R.input_shape,
                        doc="avg_pool's gradient (its transpose)")


def avg_pool(x, params):
    """params: kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override."""
    return call(_avg_pool, (x,), x.dtype, params)


def avg_pool_backward(g, input_shape, params):
    return call(_avg_pool_backward, (g,), g.dtype, dict(params, input_shape=tuple(input_shape)))


# ---------------------------------------------------------------------------------------------
# softmax / log_softmax (backwards use the saved output)
def _softmax_backward_vjp(gg, out, g, y, dim):
    dg = softmax_backward_data(gg, y, dim)
    dy = gg * (g - _sum(g * y, dim, keepdim=True)) - g * _sum(gg * y, dim, keepdim=True)
    return dg, dy


def _log_softmax_backward_vjp(gg, out, g, y, dim):
    p = exp(y)
    dg = gg - _sum(gg * p, dim, keepdim=True)
    dy = -gg * p * _sum(g, dim, keepdim=True)
    return dg, dy


_softmax = Op("softmax", lambda g, out, x, dim: (softmax_backward_data(g, out, dim),),
              saves="out",
              sig="(Array x, *, dim dim) -> Array",
              rule=R.same,
              doc="softmax along dim")
_log_softmax = Op("log_softmax", lambda g, out, x, dim: (log_softmax_backward_data(g, out, dim),),
                  saves="out",
                  sig="(Array x, *, dim dim) -> Array",
                  rule=R.same,
                  doc="log of softmax along dim")
_softmax_bw = Op("softmax_backward_data", _softmax_backward_vjp,
                 sig="(Array g, Array y, *, dim dim) -> Array",
                 rule=R.same,
                 doc="y * (g - sum(g * y, dim)), y the softmax output")
_log_softmax_bw = Op("log_softmax_backward_data", _log_softmax_backward_vjp,
                     sig="(Array g, Array y, *, dim dim) -> Array",
                     rule=R.same,
                     doc="g - exp(y) * sum(g, dim), y the log_softmax output")


def softmax_backward_data(g, y, dim):
    return call(_softmax_bw, (g, y), g.dtype, {"dim": dim})


def log_softmax_backward_data(g, y, dim):
    return call(_log_softmax_bw, (g, y), g.dtype, {"dim": dim})


def _softmax_dim(ndim, name):
    import warnings
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  f"to include dim=X as an argument.", stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def _softmax_family(op, name):
    def fn(input, dim=None, _stacklevel=3, dtype=None):
        as_tensor_arg(input, name)
        x = input
        if dtype is not None:
            from .elementwise import cast
            x = cast(x, _dtype.as_dtype(dtype, name))
        if not x.dtype.is_floating_point:
            raise RuntimeError(f"{name}(): \"{name}_lastdim_kernel_impl\" not implemented for "
                               f"'{x.dtype}'")
        if dim is None:
            dim = _softmax_dim(x.ndim, name)
        d = wrap_dim(dim, x.ndim, name)
        if x.ndim == 0:
            return reshape(call(op, (reshape(x, (1,)),), x.dtype, {"dim": 0}), ())
        return call(op, (x,), x.dtype, {"dim": d})
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"corelib.{name}(input, dim, dtype=None): numerically stable {name}."
    return fn


softmax = _softmax_family(_softmax, "softmax")
log_softmax = _softmax_family(_log_softmax, "log_softmax")
Tensor.softmax = lambda self, dim=None, dtype=None: softmax(self, dim, dtype=dtype)
Tensor.log_softmax = lambda self, dim=None, dtype=None: log_softmax(self, dim, dtype=dtype)


# ---------------------------------------------------------------------------------------------
# normalization: (x - mean) / sqrt(var + eps) over dims
def _normalize_composite_backward(g, x, dim, eps):
    """Differentiable form of normalize's gradient (used when building a graph)."""
    xc = x - mean(x, dim, keepdim=True)
    rstd = 1 / sqrt(mean(xc * xc, dim, keepdim=True) + eps)
    xhat = xc * rstd
    return rstd * (g - mean(g, dim, keepdim=True) - xhat * mean(g * xhat, dim, keepdim=True))


def _normalize_vjp(g, out, x, dim, eps):
    if STATE.grad_enabled:
        return (_normalize_composite_backward(g, x, dim, eps),)
    return (call(_normalize_backward, (g, x), g.dtype, {"dim": dim, "eps": eps}),)


_normalize = Op("normalize", _normalize_vjp,
                sig="(Array x, *, dims dim, float eps) -> Array",
                rule=R.same,
                doc="(x - mean) / sqrt(biased var + eps) over dims")
_normalize_backward = Op("normalize_backward",
                         sig="(Array g, Array x, *, dims dim, float eps) -> Array",
                         rule=R.same,
                         doc="normalize's gradient w.r.t. x")


def normalize_dims(x, dims, eps):
    """(x - mean) / sqrt(biased var + eps) over ``dims`` (a tuple of non-negative dims)."""
    return call(_normalize, (x,), x.dtype, {"dim": tuple(dims), "eps": float(eps)})


# ---------------------------------------------------------------------------------------------
# embedding, one-hot and class gathers (indices are non-differentiable inputs)
def _embedding_vjp(g, out, w, idx, num_weights, padding_idx):
    return embedding_backward(g, idx, num_weights, padding_idx), None


def _embedding_backward_vjp(gg, out, g, idx, num_weights, padding_idx):
    picked = embedding_lookup(gg, idx)
    if padding_idx is not None:
        picked = picked * reshape(to_float(idx != padding_idx), tuple(idx.shape) + (1,))
    return picked, None


_embedding = Op("embedding", _embedding_vjp, saves=((), (0,)),
                sig="(Array weight, Array indices, *, int num_weights, int? padding_idx) -> Array",
                rule=R.embedding,
                doc="rows of weight at int64 indices (indices.shape + weight.shape[1:])")
_embedding_bw = Op("embedding_backward", _embedding_backward_vjp, saves=((), (0,)),
                   sig="(Array g, Array indices, *, int num_weights, int? padding_idx) -> Array",
                   rule=R.embedding_backward,
                   doc="rows of g summed into num_weights rows at indices (padding_idx row zero)")
_embedding_renorm = Op("embedding_renorm_",
                       sig=("(Array! weight, Array indices, *, float max_norm, float norm_type) "
                            "-> None"),
                       rule=R.written,
                       doc="rescale in place the rows at indices whose norm exceeds max_norm")
_one_hot = Op("one_hot",
              sig="(Array indices, *, int num_classes) -> Array",
              rule=R.one_hot,
              doc="int64 one-hot encoding with a trailing class dim (num_classes=-1: max + 1)")


def embedding_lookup(weight, indices, padding_idx=None):
    return call(_embedding, (weight, indices), weight.dtype,
                {"num_weights": weight.shape[0], "padding_idx": padding_idx})


def embedding_backward(g, indices, num_weights, padding_idx):
    return call(_embedding_bw, (g, indices), g.dtype,
                {"num_weights": num_weights, "padding_idx": padding_idx})


def embedding_renorm_(weight, indices, max_norm, norm_type):
    """Rescale in place the rows of ``weight`` that ``indices`` use (no autograd)."""
    device_of((weight, indices), "embedding_renorm_")
    _embedding_renorm.kernel(weight.device.type)(weight._data, indices._data,
                                                 max_norm=float(max_norm),
                                                 norm_type=float(norm_type))
    weight._bump_version()
    return weight


def one_hot_op(indices, num_classes):
    return call(_one_hot, (indices,), _dtype.int64, {"num_classes": int(num_classes)})


_class_gather = Op("class_gather", lambda g, out, x, t, ignore_index: (
    class_scatter(g, t, x.shape[1], ignore_index), None), saves=((0,), (0,)),
                   sig="(Array x, Array target, *, int ignore_index) -> Array",
                   rule=R.like_index,
                   doc=("x[n, target[n, ...], ...] for x (N, C, *d); 0 where target == "
                        "ignore_index"))
_class_scatter = Op("class_scatter", lambda gg, out, g, t, num_classes, ignore_index: (
    class_gather(gg, t, ignore_index), None), saves=((), (0,)),
                    sig="(Array g, Array target, *, int num_classes, int ignore_index) -> Array",
                    rule=R.class_scatter,
                    doc=("zeros (N, num_classes, *d) with g at the target classes (class_gather's "
                         "transpose)"))


def class_gather(x, target, ignore_index):
    """x[n, target[n, ...], ...] for x (N, C, *d); 0 where target == ignore_index."""
    return call(_class_gather, (x, target), x.dtype, {"ignore_index": int(ignore_index)})


def class_scatter(g, target, num_classes, ignore_index):
    return call(_class_scatter, (g, target), g.dtype,
                {"num_classes": int(num_classes), "ignore_index": int(ignore_index)})


def _nll_vjp(g, out, x, t, ignore_index, reduction):
    return nll_loss_backward(g, t, x.shape[1], ignore_index, reduction), None


_nll_loss = Op("nll_loss", _nll_vjp, saves=((0,), (0,)),
               sig="(Array x, Array target, *, int ignore_index, str reduction) -> Array",
               rule=R.nll_loss,
               doc=("negative log-likelihood of log-probabilities x at target classes (reduction "
                    "'none', 'sum', 'mean')"))
_nll_loss_bw = Op("nll_loss_backward", lambda gg, out, g, t, num_classes, ignore_index,
                  reduction: (nll_loss_op(gg, t, ignore_index, reduction), None),
                  saves=((), (0,)),
                  sig=("(Array g, Array target, *, int num_classes, int ignore_index, str "
                       "reduction) -> Array"),
                  rule=R.class_scatter,
                  doc="nll_loss's gradient: -g (over the count for 'mean') at the targets")


def nll_loss_op(x, target, ignore_index, reduction):
    """Unweighted NLL of log-probabilities x (N, C, *d) at class indices target (N, *d):
    one kernel (gather, sum, divide by the count of non-ignored targets)."""
    return call(_nll_loss, (x, target), x.dtype,
                {"ignore_index": int(ignore_index), "reduction": reduction})


def nll_loss_backward(g, target, num_classes, ignore_index, reduction):
    """The gradient of nll_loss_op: -g (divided by the count for 'mean') at the targets.
    Both ops are linear in their first input and adjoint to each other, so each is the
    other's derivative (double backward for free)."""
    return call(_nll_loss_bw, (g, target), g.dtype,
                {"num_classes": int(num_classes), "ignore_index": int(ignore_index),
                 "reduction": reduction})


# ---------------------------------------------------------------------------------------------
# public names torch also has at top level: the implementations live in nn.functional
def __getattr__(name):
    if name in __all__:
        from ..nn import functional
        return getattr(functional, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
