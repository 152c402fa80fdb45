"""Fused kernels of training hot paths (one kernel where the composite took several ops).

``threshold_backward(g, x, threshold)``: g where x > threshold, else 0 -- ReLU's gradient (with
x its output, threshold 0) in one kernel instead of compare, cast and multiply. Linear in g, so
its derivative is itself; x's gradient is zero (almost everywhere), as in PyTorch.

``layer_norm(x, weight, bias, normalized_ndim, eps)``: (x - mean) / sqrt(var + eps) over the
trailing ``normalized_ndim`` dims, times weight plus bias, in one kernel returning (y, mean,
rstd) (mean and 1/std per row, kept for backward); ``layer_norm_backward`` returns (dx, dw,
db) in one pass over the rows. With ``create_graph`` the derivative is a composite of frontend
ops (higher-order gradients work).

``batch_norm(x, weight, bias, eps)``: batch norm in training in one kernel returning (y, mean,
var), the statistics of each channel (dim 1) over every other dim (the variance biased; the
caller updates running statistics from them); ``batch_norm_backward`` returns (dx, dw, db).
Derivatives as layer_norm's.
"""
from __future__ import annotations

from .._tensor import Tensor
from ..autograd.function import Function
from ..contract import Meta
from ..autograd.grad_mode import STATE
from . import rules as R
from .core import Op, call, device_of
from .creation import zeros_like

__all__ = []
_make = Tensor._make


_threshold_backward = Op(
    "threshold_backward",
    lambda gg, out, g, x, threshold: (threshold_backward(gg, x, threshold), zeros_like(x)),
    saves=((), (0, 1)),
    sig="(Array g, Array x, *, float threshold) -> Array",
    rule=R.broadcast,
    doc="g where x > threshold, else 0 (ReLU's gradient from its output)")


def threshold_backward(g, x, threshold=0.0):
    """g where x > threshold, else 0 (g and x of one floating dtype, broadcastable)."""
    return call(_threshold_backward, (g, x), g.dtype, {"threshold": float(threshold)})


def _raw(t):
    return None if t is None else t._data


def _layer_norm_vjp(g, x, weight, bias, mean, rstd, normalized_ndim, eps, needs):
    """Gradients (x, weight, bias) of layer_norm; ``needs`` says which are wanted."""
    if STATE.grad_enabled:
        return _composite_vjp(g, x, weight, tuple(range(x.ndim - normalized_ndim, x.ndim)),
                              tuple(range(x.ndim - normalized_ndim)), eps, needs)
    dev = x.device
    datas = _layer_norm_backward.kernel(dev.type)(
        _raw(g), _raw(x), _raw(mean), _raw(rstd), _raw(weight),
        normalized_ndim=normalized_ndim, input_grad=needs[0],
        weight_grad=needs[1] and weight is not None, bias_grad=needs[2] and bias is not None)
    return tuple(None if d is None else _make(d, dev, x.dtype) for d in datas)


def _layer_norm_rule(x, weight=None, bias=None, *, normalized_ndim, **params):
    """(y like x, mean and rstd over the leading dims)."""
    rows = Meta(x.shape[:len(x.shape) - normalized_ndim], x.dtype)
    return Meta(x.shape, x.dtype), rows, rows


def _layer_norm_backward_rule(g, x, mean, rstd, weight=None, *, input_grad, weight_grad,
                              bias_grad, normalized_ndim, **params):
    """(dx like x, dweight and dbias like the trailing dims; None where not asked)."""
    trailing = Meta(x.shape[len(x.shape) - normalized_ndim:], x.dtype)
    return (Meta(x.shape, x.dtype) if input_grad else None,
            trailing if weight_grad else None, trailing if bias_grad else None)


_layer_norm = Op(
    "layer_norm", _layer_norm_vjp,
    sig=("(Array x, Array? weight, Array? bias, *, int normalized_ndim, float eps) -> "
         "(Array, Array, Array)"),
    rule=_layer_norm_rule,
    doc=("(x - mean) / sqrt(var + eps) * weight + bias over the trailing dims, with the "
         "per-row mean and 1/std"))
_layer_norm_backward = Op(
    "layer_norm_backward",
    sig=("(Array g, Array x, Array mean, Array rstd, Array? weight, *, int normalized_ndim, "
         "bool input_grad, bool weight_grad, bool bias_grad) -> (Array?, Array?, Array?)"),
    rule=_layer_norm_backward_rule,
    doc="dx, dweight, dbias of layer_norm from the saved mean and 1/std")


def _run_norm(ctx, op, params, x, weight, bias):
    """(y, statistic, statistic) of a fused normalization kernel as tensors; saves what its
    backward kernel needs."""
    dev = device_of((x, weight, bias), op.name)
    try:
        datas = op.kernel(dev.type)(_raw(x), _raw(weight), _raw(bias), **params)
    except (ValueError, TypeError, RuntimeError) as exc:
        raise type(exc)(f"{op.name}(): {exc}") from exc
    y, s1, s2 = (_make(d, dev, x.dtype) for d in datas)
    ctx.params = dict(params, needs=tuple(ctx.needs_input_grad[1:]))
    ctx.save_for_backward(x, weight, bias, s1, s2)
    return y, s1, s2


class LayerNorm(Function):
    """Runs the fused kernel (output plus row statistics); backward runs the backward kernel
    on the saved statistics."""

    @staticmethod
    def forward(ctx, params, x, weight, bias):
        return _run_norm(ctx, _layer_norm, params, x, weight, bias)[0]

    @staticmethod
    def backward(ctx, g):
        return (None,) + tuple(_layer_norm.vjp(g, *ctx.saved_tensors, **ctx.params))


def layer_norm(x, weight, bias, normalized_ndim, eps):
    """The fused op on checked arguments (weight/bias None or shaped like the trailing
    ``normalized_ndim`` dims of floating-point x, of x's dtype)."""
    return LayerNorm.apply({"normalized_ndim": int(normalized_ndim), "eps": float(eps)},
                           x, weight, bias)


def _composite_vjp(g, x, weight, dims, sum_dims, eps, needs):
    """Differentiable gradients (x, weight, bias) of normalize(x over ``dims``) * weight +
    bias, the parameters' summed over ``sum_dims`` (weight already shaped to broadcast)."""
    from .nn import _normalize_composite_backward
    from .elementwise import sqrt
    from .reduction import mean as _mean, sum as _sum
    gw = g if weight is None else g * weight
    dx = _normalize_composite_backward(gw, x, dims, eps) if needs[0] else None
    dw = db = None
    if needs[1] and weight is not None:
        xc = x - _mean(x, dims, keepdim=True)
        xhat = xc / sqrt(_mean(xc * xc, dims, keepdim=True) + eps)
        dw = _sum(g * xhat, sum_dims) if sum_dims else g * xhat
    if needs[2]:
        db = _sum(g, sum_dims) if sum_dims else g
    return dx, dw, db


# ---------------------------------------------------------------------------------------------
# batch norm in training: statistics per channel (dim 1) over every other dim
def _channel_dims(x):
    return (0,) + tuple(range(2, x.ndim))


def _batch_norm_vjp(g, x, weight, bias, mean, var, eps, needs):
    """Gradients (x, weight, bias) of batch_norm; ``needs`` says which are wanted."""
    if STATE.grad_enabled:
        from .shape import reshape
        view = None if weight is None else reshape(weight, (-1,) + (1,) * (x.ndim - 2))
        return _composite_vjp(g, x, view, _channel_dims(x), _channel_dims(x), eps, needs)
    dev = x.device
    datas = _batch_norm_backward.kernel(dev.type)(
        _raw(g), _raw(x), _raw(mean), _raw(var), _raw(weight), eps=eps, input_grad=needs[0],
        weight_grad=needs[1] and weight is not None, bias_grad=needs[2] and bias is not None)
    return tuple(None if d is None else _make(d, dev, x.dtype) for d in datas)


def _batch_norm_rule(x, weight=None, bias=None, **params):
    """(y like x, mean and biased variance per channel)."""
    channels = Meta(x.shape[1:2], x.dtype)
    return Meta(x.shape, x.dtype), channels, channels


def _batch_norm_backward_rule(g, x, mean, var, weight=None, *, input_grad, weight_grad,
                              bias_grad, **params):
    """(dx like x, dweight and dbias per channel; None where not asked)."""
    channels = Meta(x.shape[1:2], x.dtype)
    return (Meta(x.shape, x.dtype) if input_grad else None,
            channels if weight_grad else None, channels if bias_grad else None)


_batch_norm = Op(
    "batch_norm", _batch_norm_vjp,
    sig=("(Array x, Array? weight, Array? bias, *, float eps) -> (Array, Array, Array)"),
    rule=_batch_norm_rule,
    doc=("(x - mean) / sqrt(var + eps) * weight + bias with the statistics of each channel "
         "(dim 1) over every other dim, and those statistics (mean, biased variance)"))
_batch_norm_backward = Op(
    "batch_norm_backward",
    sig=("(Array g, Array x, Array mean, Array var, Array? weight, *, float eps, "
         "bool input_grad, bool weight_grad, bool bias_grad) -> (Array?, Array?, Array?)"),
    rule=_batch_norm_backward_rule,
    doc="dx, dweight, dbias of batch_norm from the saved mean and variance")


class BatchNorm(Function):
    """Runs the fused kernel (output plus channel statistics, which are not differentiable);
    backward runs the backward kernel on the saved statistics."""

    @staticmethod
    def forward(ctx, params, x, weight, bias):
        y, mean, var = _run_norm(ctx, _batch_norm, params, x, weight, bias)
        ctx.mark_non_differentiable(mean, var)
        return y, mean, var

    @staticmethod
    def backward(ctx, g, *_statistics_grads):
        return (None,) + tuple(_batch_norm.vjp(g, *ctx.saved_tensors, **ctx.params))


def batch_norm(x, weight, bias, eps):
    """The fused op on checked arguments (weight/bias None or (C,) of floating-point x's
    dtype): (y, mean, biased variance)."""
    return BatchNorm.apply({"eps": float(eps)}, x, weight, bias)
