"""Op table: fused primitives of the transformer and CNN hot paths -- attention
(corelib._ops.attention, through F.scaled_dot_product_attention), layer_norm (through
F.layer_norm) and threshold_backward (ReLU's gradient; both corelib._ops.fused) -- against
NumPy references of the unfused math and PyTorch."""
import numpy as np

import corelib
import corelib.nn.functional as F
from corelib._ops.fused import threshold_backward
from .opinfo import OpInfo, Sample, make_tensor


def _sdpa_samples(dtype, device):
    def t(*shape, **kw):
        return make_tensor(shape, dtype, device, low=-1.0, high=1.0, **kw)

    def mask(rows):
        return corelib.tensor(np.asarray(rows, bool), device=device)
    keep = mask([[1, 0, 1, 1, 0], [0, 0, 0, 0, 0], [1, 1, 0, 1, 1]])   # row 1: masked out
    return [
        Sample((t(2, 3, 4), t(2, 5, 4), t(2, 5, 3))),
        Sample((t(3, 4), t(5, 4), t(5, 2)), dict(scale=0.7)),                  # no batch dims
        Sample((t(2, 3, 4), t(2, 5, 4), t(2, 5, 3)), dict(attn_mask=keep)),
        Sample((t(1, 2, 3, 4), t(1, 2, 5, 4), t(1, 2, 5, 2)), dict(attn_mask=t(3, 5))),
        Sample((t(2, 2, 3, 2), t(2, 2, 5, 2), t(2, 2, 5, 2)), dict(attn_mask=t(2, 1, 3, 5))),
        Sample((t(2, 4, 3), t(2, 4, 3), t(2, 4, 3)), dict(is_causal=True, scale=0.3)),
        Sample((t(1, 5, 2), t(1, 3, 2), t(1, 3, 2)), dict(is_causal=True)),      # L > S
        Sample((t(2, 1, 3, 4), t(1, 2, 5, 4), t(2, 2, 5, 3))),                   # broadcast
        Sample((t(2, 3, 4, noncontiguous=True), t(2, 5, 4).transpose(0, 1).contiguous()
                .transpose(0, 1), t(2, 5, 3))),                                  # views
        Sample((t(2, 0, 4), t(2, 5, 4), t(2, 5, 3))),                            # empty
    ]


def _np_sdpa(q, k, v, attn_mask=None, is_causal=False, scale=None):
    scale = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    s = (q @ np.swapaxes(k, -1, -2)) * scale
    lq, lk = s.shape[-2:]
    keep = np.ones((lq, lk), bool)
    if is_causal:
        keep = np.tril(keep)
    if attn_mask is not None and attn_mask.dtype == bool:
        keep = keep & attn_mask
    elif attn_mask is not None:
        s = s + attn_mask
    keep = np.broadcast_to(keep, s.shape)
    s = np.where(keep, s, -np.inf)
    top = np.where(keep.any(-1, keepdims=True), s.max(-1, keepdims=True, initial=-np.inf), 0)
    e = np.where(keep, np.exp(s - top), 0)
    total = e.sum(-1, keepdims=True)
    p = e / np.where(total == 0, 1, total)
    return (p @ v).astype(q.dtype)


def _threshold_backward_samples(dtype, device):
    def t(*shape, **kw):
        return make_tensor(shape, dtype, device, **kw)
    return [Sample((t(3, 4), t(3, 4)), dict(threshold=0.0)),
            Sample((t(2, 3, 4), t(3, 4)), dict(threshold=0.5)),
            Sample((t(3, 4, noncontiguous=True), t(3, 4)), dict(threshold=-1.0)),
            Sample((t(), t()), dict(threshold=0.0)),
            Sample((t(0, 3), t(0, 3)), dict(threshold=0.0))]


def _layer_norm_samples(dtype, device):
    def t(*shape, **kw):
        return make_tensor(shape, dtype, device, **kw)
    return [Sample((t(3, 4), (4,), None, t(4))),                        # bias only
            Sample((t(2, 3, 4), (3, 4), t(3, 4), t(3, 4)), dict(eps=1e-3)),
            Sample((t(3, 1), (1,), t(1), t(1))),                        # rows of one
            Sample((t(2, 5, noncontiguous=True), (5,), t(5), None)),
            Sample((t(2, 0, 3), (3,), t(3), t(3)))]


def _np_layer_norm(x, shape, weight=None, bias=None, eps=1e-5):
    dims = tuple(range(x.ndim - len(shape), x.ndim))
    x64 = x.astype(np.float64)
    out = (x64 - x64.mean(dims, keepdims=True)) / np.sqrt(x64.var(dims, keepdims=True) + eps)
    out = out * (1 if weight is None else weight) + (0 if bias is None else bias)
    return out.astype(x.dtype)


def _torch_threshold_backward(g, x, threshold):
    import torch
    return torch.ops.aten.threshold_backward(g, x, threshold)


OPS = [
    OpInfo("scaled_dot_product_attention", F.scaled_dot_product_attention, _sdpa_samples,
           ref=_np_sdpa, torch_ref="nn.functional.scaled_dot_product_attention",
           variant="fused", atol=1e-5),
    OpInfo("layer_norm", F.layer_norm, _layer_norm_samples, ref=_np_layer_norm,
           dtypes=("float32", "float64"), variant="fused", atol=1e-5),
    OpInfo("threshold_backward", threshold_backward, _threshold_backward_samples,
           dtypes=("float16", "float32", "float64"),
           ref=lambda g, x, threshold: np.where(x > threshold, g, 0).astype(g.dtype),
           torch_ref=_torch_threshold_backward),
]
