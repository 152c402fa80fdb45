"""More of torch.nn.functional (re-exported by corelib.nn.functional), composites of frontend
ops measured against PyTorch's OpInfo database: multi_head_attention_forward (what
nn.MultiheadAttention runs), linear_cross_entropy (and nn.LinearCrossEntropyOptions),
multilabel_margin_loss, adaptive_max_pool3d, upsample_nearest, upsample_bilinear."""
from __future__ import annotations

import dataclasses
import warnings

import corelib

from . import functional as F

__all__ = ["multi_head_attention_forward", "linear_cross_entropy", "multilabel_margin_loss",
           "adaptive_max_pool3d", "adaptive_max_pool3d_with_indices", "upsample_nearest",
           "upsample_bilinear"]


def _float_mask(mask, dtype):
    """A boolean mask (True = masked) as an additive float mask; float masks pass through."""
    if mask is None or mask.dtype.is_floating_point:
        return mask
    return corelib.zeros(tuple(mask.shape), dtype=dtype, device=mask.device).masked_fill(
        mask, float("-inf"))


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    """multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training=True, key_padding_mask=None, need_weights=True, attn_mask=None, use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None, v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True, is_causal=False) -> (Tensor, Optional[Tensor])

    Multi-head attention of (L, N, E) or (L, E) inputs, the computation of nn.MultiheadAttention.
    """
    is_batched = query.dim() == 3
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but "
                             f"got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    # PyTorch's fast path: without weights to return, one fused attention op, with the causal
    # hint in place of the mask when no padding mask has to be merged in
    fused_causal = is_causal and key_padding_mask is None and not need_weights
    if fused_causal:
        attn_mask = None
    key_padding_mask = _float_mask(key_padding_mask, query.dtype)
    attn_mask = _float_mask(attn_mask, query.dtype)
    if use_separate_proj_weight:
        w_q, w_k, w_v = q_proj_weight, k_proj_weight, v_proj_weight
    else:
        w_q, w_k, w_v = in_proj_weight.chunk(3)
    b_q = b_k = b_v = None
    if in_proj_bias is not None:
        b_q, b_k, b_v = in_proj_bias.chunk(3)
    q = F.linear(query, w_q, b_q)
    k = F.linear(key, w_k, b_k)
    v = F.linear(value, w_v, b_v)
    if attn_mask is not None and attn_mask.dim() == 2:
        attn_mask = attn_mask.unsqueeze(0)
    if bias_k is not None and bias_v is not None:
        k = corelib.cat([k, bias_k.expand(1, bsz, embed_dim)])
        v = corelib.cat([v, bias_v.expand(1, bsz, embed_dim)])
        if attn_mask is not None:
            attn_mask = F.pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = F.pad(key_padding_mask, (0, 1))
    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = k.reshape(k.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    v = v.reshape(v.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    if add_zero_attn:
        zeros = corelib.zeros((bsz * num_heads, 1, head_dim), dtype=q.dtype, device=q.device)
        k = corelib.cat([k, zeros], dim=1)
        v = corelib.cat([v, zeros], dim=1)
        if attn_mask is not None:
            attn_mask = F.pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = F.pad(key_padding_mask, (0, 1))
    src_len = k.shape[1]
    if key_padding_mask is not None:
        key_padding_mask = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(
            bsz, num_heads, 1, src_len).reshape(bsz * num_heads, 1, src_len)
        attn_mask = key_padding_mask if attn_mask is None else attn_mask + key_padding_mask
    if not need_weights:
        if attn_mask is not None:
            attn_mask = attn_mask.unsqueeze(0) if attn_mask.shape[0] == 1 else \
                attn_mask.reshape(bsz, num_heads, -1, src_len)
        out = F.scaled_dot_product_attention(
            q.reshape(bsz, num_heads, tgt_len, head_dim),
            k.reshape(bsz, num_heads, src_len, head_dim),
            v.reshape(bsz, num_heads, src_len, head_dim), attn_mask,
            dropout_p if training else 0.0, is_causal=fused_causal)
        out = out.permute(2, 0, 1, 3).reshape(tgt_len * bsz, embed_dim)
        out = F.linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, embed_dim)
        return (out if is_batched else out.squeeze(1)), None
    scores = corelib.bmm(q * (1.0 / head_dim) ** 0.5, k.transpose(-2, -1))
    if attn_mask is not None:
        scores = scores + attn_mask
    weights = F.softmax(scores, dim=-1)
    if training and dropout_p > 0.0:
        weights = F.dropout(weights, p=dropout_p)
    out = corelib.bmm(weights, v).transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
    out = F.linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, embed_dim)
    if not is_batched:
        out = out.squeeze(1)
    if not need_weights:
        return out, None
    weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
    if average_attn_weights:
        weights = weights.mean(dim=1)
    return out, (weights.squeeze(0) if not is_batched else weights)


@dataclasses.dataclass(frozen=True)
class LinearCrossEntropyOptions:
    """LinearCrossEntropyOptions(allow_retain_graph=False, batch_chunk_size=None, chunking_method='auto', acc_policy='auto', acc_dtype=None)

    Chunking options of linear_cross_entropy: the batch is processed ``batch_chunk_size`` rows
    at a time (None: one chunk), so the (batch, classes) logits are never all built at once.
    corelib's backward recomputes through autograd, so ``allow_retain_graph``, ``acc_policy``
    and ``acc_dtype`` do not change results; ``chunking_method`` is recorded only.
    """
    allow_retain_graph: bool = False
    batch_chunk_size: int | None = None
    chunking_method: str | None = "auto"
    acc_policy: str | None = "auto"
    acc_dtype: object = None

    def __post_init__(self):
        if self.batch_chunk_size is not None and (not isinstance(self.batch_chunk_size, int)
                                                  or self.batch_chunk_size <= 0):
            raise ValueError(f"LinearCrossEntropyOptions: batch_chunk_size must be a positive "
                             f"int or None, got {self.batch_chunk_size!r}")


def linear_cross_entropy(input, linear_weight, target, *, linear_bias=None, weight=None,
                         reduction="mean", ignore_index=None, label_smoothing=0.0, options=None):
    """linear_cross_entropy(input, linear_weight, target, *, linear_bias=None, weight=None, reduction='mean', ignore_index=None, label_smoothing=0.0, options=None) -> Tensor

    cross_entropy(linear(input, linear_weight, linear_bias), target), optionally a chunk of the
    batch at a time (``options``).
    """
    for name, t in (("input", input), ("linear_weight", linear_weight), ("target", target)):
        F._tensor_arg(t, "linear_cross_entropy", name)
    if input.dim() < 1 or input.dim() > 2:
        raise RuntimeError(f"linear_cross_entropy(): expected input with dimensionality 1 or "
                           f"2, got {input.dim()}")
    if linear_weight.dim() < 2:
        raise RuntimeError(f"linear_cross_entropy(): expected linear_weight with "
                           f"dimensionality at least 2, got {linear_weight.dim()}")
    batch, in_features = tuple(input.shape[:-1]), input.shape[-1]
    if in_features != linear_weight.shape[-1]:
        raise RuntimeError(f"linear_cross_entropy(): expected equal input and linear_weight "
                           f"last dimensions (in_features), got {input.shape[-1]} and "
                           f"{linear_weight.shape[-1]}, respectively")
    num_classes, out_features = linear_weight.shape[0], tuple(linear_weight.shape[1:-1])
    if linear_bias is not None and tuple(linear_bias.shape) != (num_classes, *out_features):
        raise RuntimeError(f"linear_cross_entropy(): expected linear_bias shape "
                           f"{(num_classes, *out_features)}, got {tuple(linear_bias.shape)}")
    if out_features and not batch:
        raise RuntimeError(f"linear_cross_entropy(): K-dimensional loss defined by "
                           f"linear_weight shape {tuple(linear_weight.shape)} requires batched "
                           f"input, (N, {in_features}), got unbatched input with shape "
                           f"{tuple(input.shape)}")
    if options is not None and not isinstance(options, LinearCrossEntropyOptions):
        raise TypeError(f"linear_cross_entropy(): argument 'options' must be "
                        f"LinearCrossEntropyOptions or None, not {type(options).__name__}")
    logits_shape = (*batch, num_classes, *out_features)
    probabilities = tuple(target.shape) == logits_shape
    if probabilities and ignore_index is not None:
        raise RuntimeError("linear_cross_entropy(): ignore_index cannot be specified when "
                           "target contains probabilities")
    ignore_index = -100 if ignore_index is None else ignore_index
    chunked = options is not None and options.batch_chunk_size is not None and batch and \
        not out_features and not probabilities and label_smoothing == 0.0 and \
        reduction in ("mean", "sum", "none")
    if out_features:
        flat = num_classes
        for d in out_features:
            flat *= d
        linear_weight = linear_weight.reshape(flat, in_features)
        if linear_bias is not None:
            linear_bias = linear_bias.reshape(flat)
    if not chunked:
        logits = F.linear(input, linear_weight, linear_bias).reshape(logits_shape)
        return F.cross_entropy(logits, target, weight=weight, reduction=reduction,
                               ignore_index=ignore_index, label_smoothing=label_smoothing)
    step = options.batch_chunk_size
    pieces = []
    for start in range(0, batch[0], step):
        rows = slice(start, start + step)
        logits = F.linear(input[rows], linear_weight, linear_bias)
        pieces.append(F.cross_entropy(logits, target[rows], weight=weight, reduction="none",
                                      ignore_index=ignore_index))
    losses = corelib.cat(pieces)
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    kept = target != ignore_index
    if weight is None:
        total = kept.sum().to(losses.dtype)
    else:
        total = (weight[target.clamp(min=0)] * kept).sum()
    return losses.sum() / total


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction='mean') -> Tensor

    Multi-class multi-label hinge loss: sum over target classes j (up to the first -1) and
    non-target classes i of max(0, 1 - (x[j] - x[i])), divided by the number of classes.
    """
    F._tensor_arg(input, "multilabel_margin_loss")
    F._tensor_arg(target, "multilabel_margin_loss", "target")
    if input.dim() > 2 or tuple(target.shape) != tuple(input.shape):
        raise RuntimeError(f"multilabel_margin_loss(): inconsistent target size: "
                           f"{list(target.shape)} for input of size: {list(input.shape)}")
    x = input.reshape(1, -1) if input.dim() < 2 else input
    t = target.reshape(tuple(x.shape))
    c = x.shape[1]
    if c and bool(((t < -1) | (t >= c)).any()):
        raise RuntimeError("multilabel_margin_loss(): target out of range")
    valid = (t != -1).to(corelib.int64).cumprod(1).bool()            # before the first -1
    safe = t.clamp(min=0)
    classes = corelib.arange(c, device=x.device)
    onehot = (safe.unsqueeze(-1) == classes) & valid.unsqueeze(-1)   # (N, j, i)
    is_target = onehot.any(1)                                        # (N, i)
    x_y = x.gather(1, safe)                                          # (N, j)
    margins = F.relu(1.0 - x_y.unsqueeze(-1) + x.unsqueeze(1))       # (N, j, i)
    keep = valid.unsqueeze(-1) & ~is_target.unsqueeze(1)
    loss = (margins * keep).sum((1, 2)) / max(c, 1)
    if input.dim() < 2:
        loss = loss.reshape(())
    return F._reduce(loss, F._reduction(size_average, reduce, reduction))


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """adaptive_max_pool3d(input, output_size, return_indices=False) -> Tensor

    3-D max pooling to a given output size.
    """
    return F._adaptive_max("adaptive_max_pool3d", 3, input, output_size, return_indices)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=True):
    """adaptive_max_pool3d_with_indices(input, output_size, return_indices=True) -> (Tensor, Tensor)

    3-D adaptive max pooling that also returns the argmax indices.
    """
    return F._adaptive_max("adaptive_max_pool3d", 3, input, output_size, True)


def upsample_nearest(input, size=None, scale_factor=None):
    """upsample_nearest(input, size=None, scale_factor=None) -> Tensor

    Nearest-neighbour upsampling (deprecated in PyTorch: interpolate(..., mode='nearest')).
    """
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return F.interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """upsample_bilinear(input, size=None, scale_factor=None) -> Tensor

    Bilinear upsampling with align_corners=True (deprecated in PyTorch: interpolate(...,
    mode='bilinear', align_corners=True)).
    """
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return F.interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
