"""PyTorch's ``native_*`` normalization entry points: the normalized output together with the
statistics the backward pass saves (mean and reciprocal standard deviation), as composites of
frontend ops (gradients come from those ops)."""
from __future__ import annotations

import math

from ._tensor import Tensor

__all__ = ["native_layer_norm", "native_group_norm", "native_batch_norm",
           "_native_batch_norm_legit"]


def _c():
    import corelib
    return corelib


def _tensor_arg(x, op, name="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(x).__name__}")
    return x


def _affine(out, weight, bias, shape):
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def native_layer_norm(input, normalized_shape, weight, bias, eps):
    """native_layer_norm(input, normalized_shape, weight, bias, eps) -> (Tensor, Tensor, Tensor)

    Layer normalization over the trailing normalized_shape dims, with the mean and rstd it used.
    """
    _tensor_arg(input, "native_layer_norm")
    c = _c()
    shape = tuple(normalized_shape)
    axis = input.ndim - len(shape)
    if axis < 0 or tuple(input.shape[axis:]) != shape:
        raise RuntimeError(f"native_layer_norm(): normalized_shape {list(shape)} does not "
                           f"match the trailing dims of input of shape {list(input.shape)}")
    dims = tuple(range(axis, input.ndim))
    mean = input.mean(dims, keepdim=True) if dims else input.clone()
    centered = input - mean
    var = (centered * centered).mean(dims, keepdim=True) if dims else centered * 0
    rstd = c.rsqrt(var + eps)
    out = _affine(centered * rstd, weight, bias, shape)
    return out, mean.detach(), rstd.detach()


def native_group_norm(input, weight, bias, N, C, HxW, group, eps):
    """native_group_norm(input, weight, bias, N, C, HxW, group, eps) -> (Tensor, Tensor, Tensor)

    Group normalization of input (N, C, *) in group channel groups, with the (N, group) mean and rstd.
    """
    _tensor_arg(input, "native_group_norm")
    c = _c()
    if group <= 0 or C % group:
        raise RuntimeError(f"native_group_norm(): expected the number of channels C={C} to be "
                           f"divisible by group={group}")
    if input.numel() != N * C * HxW:
        raise RuntimeError(f"native_group_norm(): input of shape {list(input.shape)} does not "
                           f"have N * C * HxW = {N} * {C} * {HxW} elements")
    x = input.reshape(N, group, (C // group) * HxW)
    mean = x.mean(-1, keepdim=True)
    centered = x - mean
    var = (centered * centered).mean(-1, keepdim=True)
    rstd = c.rsqrt(var + eps)
    out = (centered * rstd).reshape(tuple(input.shape))
    out = _affine(out, weight, bias, (C,) + (1,) * (input.ndim - 2))
    return out, mean.reshape(N, group), rstd.reshape(N, group)


def _batch_norm(op, input, weight, bias, running_mean, running_var, training, momentum, eps):
    _tensor_arg(input, op)
    c = _c()
    if input.ndim < 2:
        raise RuntimeError(f"{op}(): expected input with at least 2 dims, got "
                           f"{list(input.shape)}")
    channels = input.shape[1]
    shape = (channels,) + (1,) * (input.ndim - 2)
    dims = (0,) + tuple(range(2, input.ndim))
    if training:
        mean = input.mean(dims)
        centered = input - mean.reshape(shape)
        var = (centered * centered).mean(dims)
        invstd = c.rsqrt(var + eps)
        out = _affine(centered * invstd.reshape(shape), weight, bias, shape)
        n = input.numel() // max(channels, 1)
        with c.no_grad():
            if running_mean is not None:
                running_mean.copy_(running_mean * (1 - momentum) + mean.detach() * momentum)
            if running_var is not None:
                unbiased = var.detach() * (n / (n - 1)) if n > 1 else \
                    c.full(tuple(var.shape), math.inf, dtype=var.dtype, device=var.device)
                running_var.copy_(running_var * (1 - momentum) + unbiased * momentum)
        return out, mean.detach(), invstd.detach()
    if running_mean is None or running_var is None:
        raise RuntimeError(f"{op}(): running_mean and running_var must be defined in "
                           "evaluation mode")
    invstd = c.rsqrt(running_var + eps)
    out = _affine((input - running_mean.reshape(shape)) * invstd.reshape(shape), weight, bias,
                  shape)
    empty = c.empty((0,), dtype=input.dtype, device=input.device)
    return out, empty, empty.clone()


def native_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps):
    """native_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps) -> (Tensor, Tensor, Tensor)

    Batch normalization of input (N, C, *), with the batch mean and invstd saved in training mode.
    """
    return _batch_norm("native_batch_norm", input, weight, bias, running_mean, running_var,
                       training, momentum, eps)


def _native_batch_norm_legit(input, weight, bias, *args):
    """_native_batch_norm_legit(input, weight, bias, running_mean, running_var, training, momentum, eps) -> (Tensor, Tensor, Tensor)

    native_batch_norm, also callable without running stats as (input, weight, bias, training, momentum, eps).
    """
    if len(args) == 3:
        training, momentum, eps = args
        running_mean = running_var = None
    elif len(args) == 5:
        running_mean, running_var, training, momentum, eps = args
    else:
        raise TypeError("_native_batch_norm_legit(): expected (input, weight, bias, "
                        "running_mean, running_var, training, momentum, eps) or (input, "
                        "weight, bias, training, momentum, eps)")
    return _batch_norm("_native_batch_norm_legit", input, weight, bias, running_mean,
                       running_var, training, momentum, eps)
