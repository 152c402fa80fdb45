"""Fused attention: one primitive op pair for scaled dot-product attention.

``scaled_dot_product_attention(q, k, v, mask, scale, is_causal)`` computes, for q (..., L, E),
k (..., S, E), v (..., S, Ev) with equal batch dims (the frontend broadcasts them):

    s = q @ k^T * scale (+ mask: float masks add, boolean masks keep where True)
    s[l, j] = -inf where j > l (is_causal; combined with a mask when both are given)
    p = softmax(s, -1), rows masked everywhere giving 0 (PyTorch's safe softmax)
    out = p @ v

and returns (out, p): backends keep the probabilities for backward (batched GEMMs plus one
in-place masked-softmax pass each way). ``scaled_dot_product_attention_backward(g, q, k, v,
p, scale, mask_grad)`` returns (dq, dk, dv, ds), ds = p * (g @ v^T - rowsum(...)) being the
gradient of the masked scores (the float mask's gradient; None unless ``mask_grad``).

Derivative rule: the backward kernel; with ``create_graph`` a composite of frontend ops (the
probabilities recomputed on the graph), so higher-order gradients work.
"""
from __future__ import annotations

import math

from .. import _dtype
from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import STATE
from . import rules as R
from .core import Op, device_of

__all__ = []

_make = Tensor._make


def _raw(t):
    return None if t is None else t._data


def _sdpa_vjp(g, q, k, v, mask, probs, scale, is_causal, mask_grad):
    """Gradients (q, k, v, mask) of scaled_dot_product_attention."""
    if STATE.grad_enabled:
        return _composite_vjp(g, q, k, v, mask, scale, is_causal, mask_grad)
    dev = q.device
    datas = _sdpa_backward.kernel(dev.type)(_raw(g), _raw(q), _raw(k), _raw(v), _raw(probs),
                                            scale=scale, mask_grad=mask_grad)
    dq, dk, dv, ds = (None if d is None else _make(d, dev, q.dtype) for d in datas)
    if ds is not None:
        from .shape import sum_to_shape
        ds = sum_to_shape(ds, tuple(mask.shape))
    return dq, dk, dv, ds


_sdpa = Op("scaled_dot_product_attention", _sdpa_vjp,
           sig=("(Array q, Array k, Array v, Array? mask, *, float scale, bool is_causal) -> "
                "(Array, Array)"),
           rule=R.attention,
           doc=("softmax(q @ k^T * scale + mask, causal) @ v, and the probabilities (kept for "
                "backward)"))
_sdpa_backward = Op("scaled_dot_product_attention_backward",
                    sig=("(Array g, Array q, Array k, Array v, Array probs, *, float scale, bool "
                         "mask_grad) -> (Array, Array, Array, Array?)"),
                    rule=R.attention_backward,
                    doc=("dq, dk, dv and the scores' gradient (None unless mask_grad) from the "
                         "saved probabilities"))


class ScaledDotProductAttention(Function):
    """Runs the fused kernel (output plus probabilities); backward runs the backward kernel on
    the saved probabilities."""

    @staticmethod
    def forward(ctx, params, q, k, v, mask):
        dev = device_of((q, k, v, mask), "scaled_dot_product_attention")
        try:
            out, probs = _sdpa.kernel(dev.type)(_raw(q), _raw(k), _raw(v), _raw(mask), **params)
        except (ValueError, TypeError, RuntimeError) as exc:
            raise type(exc)(f"scaled_dot_product_attention(): {exc}") from exc
        ctx.params = dict(params, mask_grad=bool(ctx.needs_input_grad[4]))
        ctx.save_for_backward(q, k, v, mask, _make(probs, dev, q.dtype))
        return _make(out, dev, q.dtype)

    @staticmethod
    def backward(ctx, g):
        return (None,) + tuple(_sdpa.vjp(g, *ctx.saved_tensors, **ctx.params))


def sdpa(q, k, v, mask=None, scale=None, is_causal=False):
    """The fused op on checked arguments: q, k, v of one floating dtype with equal batch dims;
    ``mask`` None, boolean, or of q's dtype, broadcastable to (..., L, S)."""
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    return ScaledDotProductAttention.apply({"scale": scale, "is_causal": bool(is_causal)},
                                           q, k, v, mask)


# ---------------------------------------------------------------------------------------------
# the same math as frontend ops (dropout path; differentiable derivative under create_graph)
def attention_probs(q, k, mask, scale, is_causal):
    """softmax(q @ k^T * scale + mask) with causal masking and 0 for fully masked rows."""
    from .creation import arange
    from .elementwise import isneginf, logical_and, where
    from .linalg import matmul
    from .nn import softmax
    from .reduction import amax
    from .shape import reshape
    scores = matmul(q, k.transpose(-2, -1)) * scale
    lq, lk = q.shape[-2], k.shape[-2]
    if is_causal:
        rows = reshape(arange(lq, device=q.device), (lq, 1))
        causal = rows >= reshape(arange(lk, device=q.device), (1, lk))
        if mask is None or mask.dtype is _dtype.bool:
            mask = causal if mask is None else logical_and(mask, causal)
        else:
            mask = where(causal, mask, -math.inf)
    if mask is None:
        return softmax(scores, -1)
    if mask.dtype is _dtype.bool:
        scores = where(mask, scores, -math.inf)
    else:
        scores = scores + mask
    if not scores.shape[-1]:
        return softmax(scores, -1)
    dead = isneginf(amax(scores, -1, keepdim=True))    # rows masked everywhere: 0, no NaN
    return where(dead, 0.0, softmax(where(dead, 0.0, scores), -1))


def _composite_vjp(g, q, k, v, mask, scale, is_causal, mask_grad):
    from .linalg import matmul
    from .reduction import sum as _sum
    from .shape import sum_to_shape
    p = attention_probs(q, k, mask, scale, is_causal)
    dv = matmul(p.transpose(-2, -1), g)
    dp = matmul(g, v.transpose(-2, -1))
    ds = p * (dp - _sum(dp * p, -1, keepdim=True))
    dq = matmul(ds, k) * scale
    dk = matmul(ds.transpose(-2, -1), q) * scale
    dmask = sum_to_shape(ds, tuple(mask.shape)) if mask_grad else None
    return dq, dk, dv, dmask
