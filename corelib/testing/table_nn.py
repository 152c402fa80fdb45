"""Op table: corelib.nn.functional (convolution, pooling, softmax, norms, embedding, losses)."""
import numpy as np

import corelib
import corelib.nn.functional as F
from .opinfo import (OpInfo, Sample, make_tensor, to_numpy, special_tensor, reduction_special,
                     unary_special, binary_special, SPECIAL_MATRIX, TIES_MATRIX, NAN, INF)


def _t(shape, dtype, device, **kw):
    return make_tensor(shape, dtype, device, **kw)


def _idx(shape, high, device, low=0):
    return make_tensor(shape, "int64", device, low=low, high=high)


def _const(values, dtype, device):
    return corelib.tensor(np.asarray(values, dtype=dtype), device=device)


def _samples(build):
    """Turn ``build(t, dtype, device) -> [Sample]`` into a sample factory."""
    def samples(dtype, device):
        def t(*shape, **kw):
            return _t(shape, dtype, device, **kw)
        return build(t, dtype, device)
    return samples


def _F(name):
    return "nn.functional." + name


# ---------------------------------------------------------------------------------------------
# NumPy references
def _np_softmax(x, dim, dtype=None):
    if x.ndim == 0:
        return np.ones_like(x)
    e = np.exp(x - x.max(dim, keepdims=True)) if x.size else x
    return e / e.sum(dim, keepdims=True) if x.size else x


def _np_log_softmax(x, dim, dtype=None):
    if x.ndim == 0 or x.size == 0:
        return np.zeros_like(x)
    m = x.max(dim, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(dim, keepdims=True))


def _np_linear(x, w, b=None):
    out = x @ w.T
    return out if b is None else out + b


def _np_layer_norm(x, shape, weight=None, bias=None, eps=1e-5):
    dims = tuple(range(x.ndim - len(shape), x.ndim))
    out = (x - x.mean(dims, keepdims=True)) / np.sqrt(x.var(dims, keepdims=True) + eps)
    if weight is not None:
        out = out * weight
    return out if bias is None else out + bias


def _np_reduce(loss, reduction):
    return {"none": loss, "mean": np.mean(loss), "sum": np.sum(loss)}[reduction]


def _np_mse(x, t, reduction="mean"):
    return _np_reduce((x - t) ** 2, reduction)


def _np_l1(x, t, reduction="mean"):
    return _np_reduce(np.abs(x - t), reduction)


def _np_cross_entropy(x, t, weight=None, ignore_index=-100, reduction="mean",
                      label_smoothing=0.0):
    logp = _np_log_softmax(x, 1)
    c = x.shape[1]
    w = np.ones(c, dtype=x.dtype) if weight is None else weight
    keep = t != ignore_index
    safe = np.where(keep, t, 0)
    picked = np.take_along_axis(logp, safe[:, None], 1)[:, 0]
    wt = w[safe] * keep
    nll = -picked * wt
    smooth = -(logp * w.reshape((1, c) + (1,) * (x.ndim - 2))).sum(1) * keep
    if reduction == "mean":
        nll, smooth = nll.sum() / wt.sum(), smooth.sum() / wt.sum()
    elif reduction == "sum":
        nll, smooth = nll.sum(), smooth.sum()
    return (1 - label_smoothing) * nll + label_smoothing / c * smooth


def _np_bce_logits(x, t, weight=None, reduction="mean", pos_weight=None):
    pw = 1.0 if pos_weight is None else pos_weight
    loss = (1 - t) * x + (1 + (pw - 1) * t) * np.logaddexp(0, -x)
    if weight is not None:
        loss = loss * weight
    return _np_reduce(loss, reduction)


def _np_adaptive_avg_1d(x, output_size):
    n = x.shape[-1]
    cols = [x[..., i * n // output_size: -(-(i + 1) * n // output_size)].mean(-1)
            for i in range(output_size)]
    return np.stack(cols, -1)


def _np_pixel_shuffle(x, r):
    n, c, h, w = x.shape
    out = np.zeros((n, c // (r * r), h * r, w * r), x.dtype)
    for ch in range(c):
        oc, rem = divmod(ch, r * r)
        i, j = divmod(rem, r)
        out[:, oc, i::r, j::r] = x[:, ch]
    return out


# ---------------------------------------------------------------------------------------------
# samples
def _linear_samples(t, dtype, device):
    return [Sample((t(3, 4), t(5, 4), t(5))), Sample((t(2, 3, 4), t(5, 4))),
            Sample((t(4), t(2, 4), t(2))), Sample((t(1, 4), t(3, 4), t(3))),
            Sample((t(0, 4), t(3, 4), t(3))), Sample((t(3, 4, noncontiguous=True), t(5, 4)))]


def _conv1d_samples(t, dtype, device):
    return [Sample((t(2, 3, 7), t(4, 3, 3), t(4))),
            Sample((t(1, 2, 6), t(3, 2, 3)), dict(stride=2, padding=1)),
            Sample((t(1, 2, 7), t(2, 2, 2)), dict(dilation=2, padding=(1,))),
            Sample((t(2, 4, 6), t(6, 2, 3), t(6)), dict(groups=2)),
            Sample((t(1, 2, 5), t(2, 2, 4)), dict(padding="same", dilation=1)),
            Sample((t(1, 2, 5), t(2, 2, 3)), dict(padding="valid")),
            Sample((t(2, 6), t(2, 2, 3), t(2))),
            Sample((t(0, 2, 5), t(2, 2, 3))),
            Sample((t(2, 3, 6, noncontiguous=True), t(2, 3, 2)))]


def _conv2d_samples(t, dtype, device):
    return [Sample((t(2, 3, 5, 5), t(4, 3, 3, 3), t(4)), dict(padding=1)),
            Sample((t(1, 2, 4, 4), t(3, 2, 2, 2), t(3))),
            Sample((t(1, 2, 5, 4), t(2, 2, 3, 2)), dict(stride=(2, 1), padding=(1, 0))),
            Sample((t(1, 1, 6, 6), t(2, 1, 2, 2)), dict(dilation=2, stride=2)),
            Sample((t(1, 3, 4, 4), t(3, 1, 3, 3), t(3)), dict(groups=3, padding=1)),
            Sample((t(1, 4, 3, 3), t(4, 2, 2, 2)), dict(groups=2)),
            Sample((t(1, 1, 5, 4), t(2, 1, 2, 3)), dict(padding="same", dilation=(2, 1))),
            Sample((t(2, 4, 4), t(2, 2, 3, 3)), dict(padding=1)),
            Sample((t(0, 2, 4, 4), t(3, 2, 3, 3))),
            Sample((t(2, 2, 4, 4, noncontiguous=True), t(2, 2, 3, 3)))]


def _conv3d_samples(t, dtype, device):
    return [Sample((t(1, 2, 3, 4, 4), t(2, 2, 2, 2, 2), t(2))),
            Sample((t(1, 1, 3, 3, 3), t(2, 1, 2, 2, 2)), dict(padding=1, stride=2))]


def _conv_t1d_samples(t, dtype, device):
    return [Sample((t(2, 3, 5), t(3, 2, 3), t(2))),
            Sample((t(1, 2, 4), t(2, 3, 3)), dict(stride=2, padding=1, output_padding=1)),
            Sample((t(1, 4, 4), t(4, 1, 3)), dict(groups=2, dilation=2)),
            Sample((t(2, 4), t(2, 3, 2)))]


def _conv_t2d_samples(t, dtype, device):
    return [Sample((t(2, 3, 4, 4), t(3, 2, 3, 3), t(2))),
            Sample((t(1, 2, 3, 3), t(2, 2, 3, 3)), dict(stride=2, padding=1, output_padding=1)),
            Sample((t(1, 2, 3, 3), t(2, 1, 2, 2)), dict(stride=(2, 1), groups=2, dilation=2)),
            Sample((t(1, 2, 3, 3, noncontiguous=True), t(2, 2, 2, 2)))]


def _pool1d_samples(t, dtype, device):
    return [Sample((t(2, 3, 8), 2)), Sample((t(1, 2, 7), 3), dict(stride=2, padding=1)),
            Sample((t(1, 2, 8), 3), dict(stride=2, ceil_mode=True)),
            Sample((t(3, 7), 2), dict(stride=1)),
            Sample((t(2, 2, 6, noncontiguous=True), 2))]


def _max_pool1d_samples(t, dtype, device):
    return _pool1d_samples(t, dtype, device) + [
        Sample((t(1, 2, 9), 2), dict(dilation=2, return_indices=True))]


def _pool2d_samples(t, dtype, device):
    return [Sample((t(2, 3, 4, 4), 2)), Sample((t(1, 2, 5, 5), 3), dict(stride=2, padding=1)),
            Sample((t(1, 2, 5, 6), (2, 3)), dict(stride=(2, 2), ceil_mode=True)),
            Sample((t(2, 5, 5), 2), dict(stride=1)),
            Sample((t(0, 2, 4, 4), 2)),
            Sample((t(1, 2, 4, 4, noncontiguous=True), 2))]


def _max_pool2d_samples(t, dtype, device):
    return _pool2d_samples(t, dtype, device) + [
        Sample((t(1, 2, 7, 7), 3), dict(stride=2, padding=1, dilation=2)),
        Sample((t(1, 2, 5, 5), 2), dict(return_indices=True, ceil_mode=True))]


def _avg_pool2d_samples(t, dtype, device):
    return _pool2d_samples(t, dtype, device) + [
        Sample((t(1, 2, 5, 5), 3), dict(stride=2, padding=1, count_include_pad=False)),
        Sample((t(1, 2, 5, 5), 3), dict(stride=2, padding=1, ceil_mode=True)),
        Sample((t(1, 2, 4, 4), 2), dict(divisor_override=3))]


def _avg_pool1d_samples(t, dtype, device):
    return _pool1d_samples(t, dtype, device) + [
        Sample((t(1, 2, 7), 3), dict(stride=2, padding=1, count_include_pad=False))]


def _adaptive1d_samples(t, dtype, device):
    return [Sample((t(2, 3, 8), 4)), Sample((t(1, 2, 7), 3)), Sample((t(3, 5), 5)),
            Sample((t(1, 2, 5), 7))]


def _adaptive2d_samples(t, dtype, device):
    return [Sample((t(2, 3, 4, 4), 2)), Sample((t(1, 2, 5, 7), (3, 4))),
            Sample((t(2, 5, 6), (None, 4))), Sample((t(1, 2, 4, 4, noncontiguous=True), 1))]


def _adaptive_max2d_samples(t, dtype, device):
    return _adaptive2d_samples(t, dtype, device) + [
        Sample((t(1, 2, 5, 7), (2, 3)), dict(return_indices=True))]


def _softmax_samples(t, dtype, device):
    out = [Sample((t(3, 4), 1)), Sample((t(2, 3, 4), 0)), Sample((t(2, 3, 4), -1)),
           Sample((t(), 0)), Sample((t(0, 3), 1)), Sample((t(5), 0)),
           Sample((t(3, 4, noncontiguous=True), 0))]
    if dtype == "float32":
        out.append(Sample((t(2, 3), 1), dict(dtype=corelib.float64)))
    return out


def _layer_norm_samples(t, dtype, device):
    return [Sample((t(3, 4), (4,), t(4), t(4))), Sample((t(2, 3, 4), (3, 4))),
            Sample((t(2, 3, 4), [4], t(4)), dict(eps=1e-3)),
            Sample((t(0, 4), (4,))), Sample((t(3, 4, noncontiguous=True), (4,), t(4), t(4)))]


def _group_norm_samples(t, dtype, device):
    return [Sample((t(2, 6, 3), 3, t(6), t(6))), Sample((t(2, 4, 2, 2), 2)),
            Sample((t(1, 4, 3), 4, t(4), t(4)), dict(eps=1e-3))]


def _instance_norm_samples(t, dtype, device):
    return [Sample((t(2, 3, 4),)), Sample((t(2, 3, 3, 3),), dict(weight=t(3), bias=t(3)))]


def _bn(input, weight=None, bias=None, *, stats=None, training=False, momentum=0.1):
    rm = corelib.tensor(stats[0], dtype=input.dtype, device=input.device)
    rv = corelib.tensor(stats[1], dtype=input.dtype, device=input.device)
    return F.batch_norm(input, rm, rv, weight, bias, training, momentum)


def _torch_bn(input, weight=None, bias=None, *, stats=None, training=False, momentum=0.1):
    import torch
    rm = torch.tensor(stats[0], dtype=input.dtype)
    rv = torch.tensor(stats[1], dtype=input.dtype)
    return torch.nn.functional.batch_norm(input, rm, rv, weight, bias, training, momentum)


def _bn_samples(t, dtype, device):
    stats = ([0.1, -0.2, 0.3], [1.0, 0.5, 2.0])
    return [Sample((t(4, 3), t(3), t(3)), dict(stats=stats, training=True)),
            Sample((t(2, 3, 2, 2),), dict(stats=stats, training=True)),
            Sample((t(2, 3, 4), t(3), t(3)), dict(stats=stats, training=False)),
            Sample((t(2, 3, 2, 2, noncontiguous=True), t(3)), dict(stats=stats, training=True))]


def _embedding_samples(t, dtype, device):
    return [Sample((_idx((2, 3), 5, device), t(5, 4))),
            Sample((_const([[1, 3], [3, 0]], np.int64, device), t(4, 2))),
            Sample((_idx((0,), 3, device), t(3, 2)))]


def _embedding_padding_samples(t, dtype, device):
    """padding_idx rows get no gradient (so no gradcheck; tested against torch elsewhere)."""
    return [Sample((_idx((4,), 6, device), t(6, 3)), dict(padding_idx=2)),
            Sample((_const([[1, 3], [3, 0]], np.int64, device), t(4, 2)), dict(padding_idx=-1))]


def _one_hot_samples(dtype, device):
    return [Sample((_idx((5,), 4, device),)), Sample((_idx((2, 3), 3, device), 5)),
            Sample((_idx((0,), 3, device), 3))]


def _interp_samples(t, dtype, device):
    return [Sample((t(1, 2, 3, 4),), dict(scale_factor=2)),
            Sample((t(1, 2, 5, 4),), dict(size=(3, 7))),
            Sample((t(1, 2, 3, 4),), dict(size=(5, 6), mode="bilinear", align_corners=False)),
            Sample((t(1, 2, 3, 4),), dict(size=(5, 6), mode="bilinear", align_corners=True)),
            Sample((t(1, 2, 4, 4),), dict(scale_factor=0.5, mode="bilinear")),
            Sample((t(2, 2, 5),), dict(scale_factor=1.5, mode="linear")),
            Sample((t(1, 2, 5, 4),), dict(size=(3, 7), mode="nearest-exact")),
            Sample((t(1, 2, 5, 4),), dict(size=(3, 2), mode="area"))]


def _sdpa_samples(t, dtype, device):
    mask = corelib.tensor(np.tril(np.ones((3, 4), bool)) | np.eye(3, 4, 1, dtype=bool),
                          device=device)
    return [Sample((t(2, 3, 4), t(2, 4, 4), t(2, 4, 5))),
            Sample((t(1, 2, 3, 4), t(1, 2, 4, 4), t(1, 2, 4, 2)), dict(attn_mask=mask)),
            Sample((t(2, 3, 4), t(2, 4, 4), t(2, 4, 3)), dict(attn_mask=t(3, 4))),
            Sample((t(2, 4, 3), t(2, 4, 3), t(2, 4, 3)), dict(is_causal=True, scale=0.3))]


def _binary_samples(**kw):
    def build(t, dtype, device):
        return [Sample((t(3, 4), t(3, 4)), dict(kw)), Sample((t(5), t(5)), dict(kw)),
                Sample((t(3, 4, noncontiguous=True), t(3, 4)), dict(kw))]
    return build


def _loss_samples(extra=(dict(),), low=None, high=None, tlow=None, thigh=None):
    def build(t, dtype, device):
        out = []
        for kw in extra:
            for red in ("none", "mean", "sum"):
                out.append(Sample((t(3, 4, low=low, high=high), t(3, 4, low=tlow, high=thigh)),
                                  dict(kw, reduction=red)))
        out.append(Sample((t(2, 3, low=low, high=high, noncontiguous=True),
                           t(2, 3, low=tlow, high=thigh))))
        out.append(Sample((t(0, low=low, high=high), t(0, low=tlow, high=thigh)),
                          dict(reduction="sum")))
        return out
    return build


def _ce_samples(t, dtype, device):
    w = _Fixed(t(5, low=0.5, high=2))
    return [Sample((t(4, 5), _idx((4,), 5, device))),
            Sample((t(4, 5), _idx((4,), 5, device)), dict(reduction="none")),
            Sample((t(4, 5), _idx((4,), 5, device)), dict(reduction="sum", weight=w)),
            Sample((t(4, 5), _const([1, -100, 4, 0], np.int64, device)),
                   dict(weight=w)),
            Sample((t(4, 5), _const([1, 7, 4, 7], np.int64, device)),
                   dict(ignore_index=7, label_smoothing=0.2)),
            Sample((t(4, 5), _idx((4,), 5, device)), dict(label_smoothing=0.1, weight=w)),
            Sample((t(4, 5), _idx((4,), 5, device)), dict(label_smoothing=0.3,
                                                          reduction="none")),
            Sample((t(2, 3, 2, 2), _idx((2, 2, 2), 3, device))),
            Sample((t(2, 3, 2, 2), _idx((2, 2, 2), 3, device)), dict(reduction="none")),
            Sample((t(5), _const(2, np.int64, device))),
            Sample((t(3, 4), t(3, 4, low=0, high=1))),
            Sample((t(3, 4), t(3, 4, low=0, high=1)), dict(
                label_smoothing=0.2, weight=_Fixed(t(4, low=0.5, high=2)))),
            Sample((t(3, 4, noncontiguous=True), _idx((3,), 4, device)))]


def _nll_samples(t, dtype, device):
    return [Sample((t(4, 5), _idx((4,), 5, device))),
            Sample((t(4, 5), _const([1, -100, 4, 0], np.int64, device)),
                   dict(weight=_Fixed(t(5, low=0.5, high=2)))),
            Sample((t(4, 5), _idx((4,), 5, device)), dict(reduction="none")),
            Sample((t(2, 3, 2, 2), _idx((2, 2, 2), 3, device)), dict(reduction="sum")),
            Sample((t(5), _const(3, np.int64, device)))]


def _bce_samples(t, dtype, device):
    return [Sample((t(3, 4, low=0.05, high=0.95), t(3, 4, low=0, high=1)), dict(reduction=r))
            for r in ("none", "mean", "sum")] + [
        Sample((t(5, low=0.05, high=0.95), t(5, low=0, high=1)),
               dict(weight=_Fixed(t(5, low=0, high=2))))]


def _bce_logits_samples(t, dtype, device):
    return [Sample((t(3, 4, low=-20, high=20), t(3, 4, low=0, high=1)), dict(reduction=r))
            for r in ("none", "mean", "sum")] + [
        Sample((t(3, 4), t(3, 4, low=0, high=1)), dict(
            pos_weight=_Fixed(t(4, low=0.5, high=3)), weight=_Fixed(t(3, 4, low=0, high=2))))]


def _kl_samples(t, dtype, device):
    return [Sample((t(3, 4), t(3, 4, low=0, high=1)), dict(reduction="batchmean")),
            Sample((t(3, 4), t(3, 4, low=-2, high=0)), dict(reduction="sum", log_target=True)),
            Sample((t(3, 4), t(3, 4, low=0, high=1)), dict(reduction="none"))]


def _pm1(n, dtype, device):
    return _const([1.0 if i % 3 else -1.0 for i in range(n)], dtype, device)


def _ranking_samples(t, dtype, device):
    return [Sample((t(5), t(5), _pm1(5, dtype, device)), dict(margin=m, reduction=r))
            for m, r in ((0.0, "mean"), (0.5, "none"), (1.0, "sum"))]


def _hinge_samples(t, dtype, device):
    return [Sample((t(2, 3), _const([[1., -1., 1.], [-1., -1., 1.]], dtype, device)),
                   dict(margin=m, reduction=r)) for m, r in ((1.0, "mean"), (2.0, "none"))]


def _cos_emb_samples(t, dtype, device):
    return [Sample((t(4, 3), t(4, 3), _pm1(4, dtype, device)), dict(margin=m, reduction=r))
            for m, r in ((0.0, "mean"), (0.2, "none"), (-0.3, "sum"))]


def _triplet_samples(t, dtype, device):
    return [Sample((t(4, 3), t(4, 3), t(4, 3)), dict(margin=1.0)),
            Sample((t(4, 3), t(4, 3), t(4, 3)), dict(p=1, swap=True, reduction="none"))]


def _soft_margin_samples(t, dtype, device):
    target = _Fixed(_const(np.sign(np.arange(12).reshape(3, 4) % 3 - 0.5), dtype, device))
    return [Sample((t(3, 4), target), dict(reduction=r)) for r in ("none", "mean")]


def _multilabel_samples(t, dtype, device):
    tgt = _const((np.arange(12).reshape(3, 4) % 3 == 0).astype(float), dtype, device)
    return [Sample((t(3, 4), tgt)), Sample((t(3, 4), tgt), dict(weight=t(4), reduction="none"))]


def _poisson_samples(t, dtype, device):
    return [Sample((t(3, 4), t(3, 4, low=0, high=4))),
            Sample((t(3, 4, low=0.1, high=3), t(3, 4, low=0, high=4)),
                   dict(log_input=False, full=True, reduction="sum"))]


def _gaussian_samples(t, dtype, device):
    return [Sample((t(3, 4), t(3, 4), t(3, 4, low=0.1, high=2))),
            Sample((t(3, 4), t(3, 4), t(3, low=0.1, high=2)), dict(full=True, reduction="none")),
            Sample((t(3, 4), t(3, 4), t(3, 1, low=0.1, high=2)), dict(reduction="sum"))]


def _unary(**kw):
    def build(t, dtype, device):
        return [Sample((t(3, 4),), dict(kw)), Sample((t(),), dict(kw)),
                Sample((t(0, 2),), dict(kw)),
                Sample((t(2, 3, noncontiguous=True),), dict(kw))]
    return build


def _glu_samples(t, dtype, device):
    return [Sample((t(3, 4),)), Sample((t(2, 6, 2),), dict(dim=1)),
            Sample((t(4, 2, noncontiguous=True),), dict(dim=0))]


def _prelu_samples(t, dtype, device):
    return [Sample((t(2, 3, 4), t(3))), Sample((t(3, 4), t(1))), Sample((t(2, 3, 2, 2), t(3)))]


def _cos_samples(t, dtype, device):
    return [Sample((t(4, 3), t(4, 3))), Sample((t(2, 3, 4), t(3, 4)), dict(dim=-1)),
            Sample((t(4, 3), t(4, 3)), dict(dim=0, eps=1e-6))]


def _pairwise_samples(t, dtype, device):
    return [Sample((t(4, 3), t(4, 3))), Sample((t(4, 3), t(3)), dict(p=1, keepdim=True)),
            Sample((t(4, 3), t(4, 3)), dict(p=3.0))]


def _normalize_samples(t, dtype, device):
    return [Sample((t(4, 3),)), Sample((t(2, 3, 4),), dict(p=1, dim=-1)),
            Sample((t(3, 4, noncontiguous=True),), dict(dim=0))]


def _unfold_samples(t, dtype, device):
    return [Sample((t(2, 2, 4, 4), 2)), Sample((t(1, 2, 5, 4), (2, 3)), dict(padding=1, stride=2)),
            Sample((t(1, 1, 5, 5), 2), dict(dilation=2))]


def _fold_samples(t, dtype, device):
    return [Sample((t(2, 8, 9), (4, 4), 2)),
            Sample((t(1, 12, 6), (5, 4), (2, 3)), dict(padding=1, stride=2))]


def _pixel_samples(up):
    def build(t, dtype, device):
        if up:
            return [Sample((t(1, 8, 2, 3), 2)), Sample((t(2, 9, 2, 2), 3)), Sample((t(4, 2, 2), 2))]
        return [Sample((t(1, 2, 4, 6), 2)), Sample((t(2, 1, 6, 3), 3))]
    return build


def _dropout_samples(t, dtype, device):
    return [Sample((t(3, 4),), dict(p=0.3, training=False)), Sample((t(3, 4),), dict(p=0.0)),
            Sample((t(2, 3, 4),), dict(training=False))]


def _bilinear_samples(t, dtype, device):
    return [Sample((t(3, 2), t(3, 4), t(5, 2, 4), t(5))),
            Sample((t(2, 2, 3), t(2, 2, 2), t(1, 3, 2)))]


def _np_bilinear(x1, x2, w, b=None):
    out = np.einsum("...i,kij,...j->...k", x1, w, x2)
    return out if b is None else out + b


class _Fixed:
    """A tensor argument held out of gradient checks (PyTorch does not differentiate it)."""

    def __init__(self, tensor):
        self.tensor = tensor

    def __repr__(self):
        return f"fixed{tuple(self.tensor.shape)}"


def _unfix(convert):
    def unfix(a):
        return convert(a.tensor) if isinstance(a, _Fixed) else a
    return unfix


def _with_fixed(fn, convert):
    unfix = _unfix(convert)

    def wrapper(*args, **kwargs):
        return fn(*(unfix(a) for a in args), **{k: unfix(v) for k, v in kwargs.items()})
    return wrapper


def _as_torch(t):
    import torch
    return torch.from_numpy(np.array(to_numpy(t)))


def _nondiff(name, ref=None, **kw):
    """An entry whose _Fixed arguments are not differentiated (as in PyTorch)."""
    def torch_ref(*args, **kwargs):
        import torch
        return _with_fixed(getattr(torch.nn.functional, name), _as_torch)(*args, **kwargs)
    if ref is not None:
        kw["ref"] = _with_fixed(ref, to_numpy)
    return dict(op=_with_fixed(getattr(F, name), lambda t: t), torch_ref=torch_ref, **kw)


def _info(name, op, build, **kw):
    kw.setdefault("torch_ref", _F(name))
    return OpInfo(name, op, _samples(build), **kw)


CONV_TOL = dict(atol=1e-4, rtol=1e-5)

OPS = [
    _info("linear", F.linear, _linear_samples, ref=_np_linear, gradgrad=True),
    _info("bilinear", F.bilinear, _bilinear_samples, ref=_np_bilinear, atol=1e-4),
    _info("conv1d", F.conv1d, _conv1d_samples, gradgrad=True, **CONV_TOL),
    _info("conv2d", F.conv2d, _conv2d_samples, gradgrad=True, **CONV_TOL),
    _info("conv3d", F.conv3d, _conv3d_samples, **CONV_TOL),
    _info("conv_transpose1d", F.conv_transpose1d, _conv_t1d_samples, gradgrad=True, **CONV_TOL),
    _info("conv_transpose2d", F.conv_transpose2d, _conv_t2d_samples, **CONV_TOL),
    _info("unfold", F.unfold, _unfold_samples, gradgrad=True),
    _info("fold", F.fold, _fold_samples),
    _info("max_pool1d", F.max_pool1d, _max_pool1d_samples),
    _info("max_pool2d", F.max_pool2d, _max_pool2d_samples, gradgrad=True),
    _info("avg_pool1d", F.avg_pool1d, _avg_pool1d_samples),
    _info("avg_pool2d", F.avg_pool2d, _avg_pool2d_samples, gradgrad=True),
    _info("adaptive_avg_pool1d", F.adaptive_avg_pool1d, _adaptive1d_samples,
          ref=lambda x, o: _np_adaptive_avg_1d(x, o)),
    _info("adaptive_avg_pool2d", F.adaptive_avg_pool2d, _adaptive2d_samples),
    _info("adaptive_max_pool1d", F.adaptive_max_pool1d, _adaptive1d_samples),
    _info("adaptive_max_pool2d", F.adaptive_max_pool2d, _adaptive_max2d_samples),
    _info("softmax", F.softmax, _softmax_samples, ref=_np_softmax, gradgrad=True),
    _info("log_softmax", F.log_softmax, _softmax_samples, ref=_np_log_softmax, gradgrad=True),
    _info("softmin", F.softmin, _softmax_samples,
          ref=lambda x, dim, dtype=None: _np_softmax(-x, dim)),
    _info("dropout", F.dropout, _dropout_samples, ref=lambda x, p=0.5, training=True: x),
    _info("layer_norm", F.layer_norm, _layer_norm_samples, ref=_np_layer_norm, gradgrad=True,
          atol=1e-5),
    _info("group_norm", F.group_norm, _group_norm_samples, gradgrad=True),
    _info("batch_norm", _bn, _bn_samples, torch_ref=_torch_bn, gradgrad=True),
    _info("instance_norm", F.instance_norm, _instance_norm_samples),
    _info("embedding", F.embedding, _embedding_samples, gradgrad=True,
          ref=lambda idx, w, padding_idx=None: w[idx]),
    _info("embedding", F.embedding, _embedding_padding_samples, grad=False, variant="padding",
          ref=lambda idx, w, padding_idx=None: w[idx]),
    OpInfo("one_hot", F.one_hot, _one_hot_samples, dtypes=("int64",), grad=False,
           torch_ref=_F("one_hot")),
    _info("interpolate", F.interpolate, _interp_samples),
    _info("pixel_shuffle", F.pixel_shuffle, _pixel_samples(True),
          ref=lambda x, r: _np_pixel_shuffle(x, r) if x.ndim == 4 else _np_pixel_shuffle(
              x[None], r)[0]),
    _info("pixel_unshuffle", F.pixel_unshuffle, _pixel_samples(False)),
    _info("cosine_similarity", F.cosine_similarity, _cos_samples),
    _info("pairwise_distance", F.pairwise_distance, _pairwise_samples),
    _info("normalize", F.normalize, _normalize_samples),
    _info("scaled_dot_product_attention", F.scaled_dot_product_attention, _sdpa_samples,
          atol=1e-5),
    _info("logsigmoid", F.logsigmoid, _unary(), ref=lambda x: -np.logaddexp(0, -x)),
    _info("tanhshrink", F.tanhshrink, _unary(), ref=lambda x: x - np.tanh(x)),
    _info("softshrink", F.softshrink, _unary(lambd=0.7)),
    _info("hardshrink", F.hardshrink, _unary(lambd=0.7),
          ref=lambda x, lambd: np.where(np.abs(x) <= lambd, 0, x).astype(x.dtype)),
    _info("threshold", F.threshold, _unary(threshold=0.5, value=-2.0),
          ref=lambda x, threshold, value: np.where(x <= threshold, value, x).astype(x.dtype)),
    _info("glu", F.glu, _glu_samples),
    _info("prelu", F.prelu, _prelu_samples),
    _info("mse_loss", F.mse_loss, _loss_samples(), ref=_np_mse, gradgrad=True),
    _info("l1_loss", F.l1_loss, _loss_samples(), ref=_np_l1),
    _info("smooth_l1_loss", F.smooth_l1_loss, _loss_samples((dict(), dict(beta=0.5)))),
    _info("huber_loss", F.huber_loss, _loss_samples((dict(delta=0.7),))),
    _info("cross_entropy", build=_ce_samples, **_nondiff("cross_entropy"),
          gradgrad=True),
    _info("cross_entropy", build=lambda t, d, dev: _ce_samples(t, d, dev)[:7],
          **dict(_nondiff("cross_entropy", ref=_np_cross_entropy), torch_ref=None), grad=False,
          variant="numpy"),
    _info("nll_loss", build=_nll_samples, **_nondiff("nll_loss"),
          gradgrad=True),
    _info("binary_cross_entropy", build=_bce_samples,
          **_nondiff("binary_cross_entropy")),
    _info("binary_cross_entropy_with_logits", build=_bce_logits_samples,
          **_nondiff("binary_cross_entropy_with_logits", ref=_np_bce_logits), gradgrad=True),
    _info("kl_div", F.kl_div, _kl_samples),
    _info("margin_ranking_loss", F.margin_ranking_loss, _ranking_samples),
    _info("hinge_embedding_loss", F.hinge_embedding_loss, _hinge_samples),
    _info("cosine_embedding_loss", F.cosine_embedding_loss, _cos_emb_samples),
    _info("triplet_margin_loss", F.triplet_margin_loss, _triplet_samples),
    _info("soft_margin_loss", build=_soft_margin_samples,
          **_nondiff("soft_margin_loss")),
    _info("multilabel_soft_margin_loss", F.multilabel_soft_margin_loss, _multilabel_samples),
    _info("poisson_nll_loss", F.poisson_nll_loss, _poisson_samples),
    _info("gaussian_nll_loss", F.gaussian_nll_loss, _gaussian_samples),
]


# ---------------------------------------------------------------------------------------------
# special (forward-only) samples: NaN/inf and ties where the op defines them (NaN wins in max
# pooling, the first index of a tie), zero-size batches and strided inputs the regular samples
# lack; compared with PyTorch (and the entry's NumPy reference where it has one)
def _sp(build):
    """A special sample factory from ``build(t, m, dtype, device)``: ``t(*shape, nc=False)``
    a random input, ``m(values, nc=False)`` one holding the given (special) values."""
    def samples(dtype, device):
        def t(*shape, nc=False, **kw):
            return _t(shape, dtype, device, noncontiguous=nc, **kw)

        def m(values, nc=False):
            return special_tensor(values, dtype, device, nc)
        return build(t, m, dtype, device)
    return samples


_S3 = [SPECIAL_MATRIX]            # (1, 4, 5): one channel of NaN/inf rows
_T3 = [TIES_MATRIX]


def _max_pool1d_special(t, m, dtype, device):
    return [Sample((m(_S3), 2), dict(stride=1, return_indices=True)),
            Sample((m(_S3, nc=True), 3), dict(stride=2, padding=1, return_indices=True)),
            Sample((m(_T3), 2), dict(stride=1, return_indices=True)),
            Sample((t(0, 2, 6), 2))]


def _max_pool2d_special(t, m, dtype, device):
    return [Sample((m([_S3]), 2), dict(stride=1, return_indices=True)),
            Sample((m([_S3], nc=True), 3), dict(stride=2, padding=1, return_indices=True)),
            Sample((m([_T3]), 2), dict(stride=1, return_indices=True))]


def _adaptive_max_special(two_d):
    def build(t, m, dtype, device):
        x = m([_S3]) if two_d else m(_S3)
        out = [Sample((x, (2, 3) if two_d else 3), dict(return_indices=True)),
               Sample((m([_T3]) if two_d else m(_T3), 2), dict(return_indices=True))]
        if not two_d:
            out += [Sample((t(0, 2, 6), 3)), Sample((t(2, 3, 6, nc=True), 4))]
        return out
    return build


def _avg_special(dims):
    def build(t, m, dtype, device):
        x = m([_S3]) if dims == 2 else m(_S3)
        out = [Sample((x, 2), dict(stride=1)), Sample((x, 3), dict(stride=2, padding=1))]
        if dims == 1:
            out.append(Sample((t(0, 2, 6), 2)))
        return out
    return build


def _adaptive_avg_special(two_d):
    # no NaN/inf sample: windows that do not divide the input are averaged with a resampling
    # matrix, whose zero weights turn an infinity elsewhere in the row into NaN (PyTorch sums
    # each window) -- a known difference
    def build(t, m, dtype, device):
        out = [Sample((t(0, 2, 4, 4) if two_d else t(0, 2, 6), 2))]
        if not two_d:
            out.append(Sample((t(2, 3, 6, nc=True), 4)))
        return out
    return build


def _softmax_special():
    return reduction_special(dict(dim=1), dict(dim=0))


_NN_SPECIAL = {
    "softmax": dict(special=_softmax_special()),
    "log_softmax": dict(special=_softmax_special()),
    "softmin": dict(special=_softmax_special()),
    "max_pool1d": dict(special=_sp(_max_pool1d_special)),
    "max_pool2d": dict(special=_sp(_max_pool2d_special)),
    "adaptive_max_pool1d": dict(special=_sp(_adaptive_max_special(False))),
    "adaptive_max_pool2d": dict(special=_sp(_adaptive_max_special(True))),
    "avg_pool1d": dict(special=_sp(_avg_special(1))),
    "avg_pool2d": dict(special=_sp(_avg_special(2))),
    "adaptive_avg_pool1d": dict(special=_sp(_adaptive_avg_special(False))),
    "adaptive_avg_pool2d": dict(special=_sp(_adaptive_avg_special(True))),
    # zero-size batches and strided inputs
    "conv3d": dict(special=_sp(lambda t, m, d, dev: [
        Sample((t(0, 2, 3, 4, 4), t(2, 2, 2, 2, 2), t(2))),
        Sample((t(1, 2, 3, 4, 4, nc=True), t(2, 2, 2, 2, 2)))])),
    "conv_transpose1d": dict(special=_sp(lambda t, m, d, dev: [
        Sample((t(0, 3, 5), t(3, 2, 3), t(2))), Sample((t(2, 3, 5, nc=True), t(3, 2, 3)))])),
    "conv_transpose2d": dict(special=_sp(lambda t, m, d, dev: [
        Sample((t(0, 3, 4, 4), t(3, 2, 3, 3), t(2)))])),
    "group_norm": dict(special=_sp(lambda t, m, d, dev: [
        Sample((t(0, 6, 3), 3, t(6), t(6))), Sample((t(2, 4, 4, nc=True), 2)),
        Sample((m(_S3 * 2), 2))])),
    "instance_norm": dict(special=_sp(lambda t, m, d, dev: [
        Sample((t(2, 3, 4, nc=True),)), Sample((m(_S3),))])),
    "layer_norm": dict(special=_sp(lambda t, m, d, dev: [Sample((m(SPECIAL_MATRIX), (5,)))])),
    "interpolate": dict(special=_sp(lambda t, m, d, dev: [
        Sample((t(0, 2, 3, 4),), dict(scale_factor=2)),
        Sample((t(1, 2, 3, 4, nc=True),), dict(size=(5, 6), mode="bilinear"))])),
    "pixel_shuffle": dict(special=_sp(lambda t, m, d, dev: [
        Sample((t(0, 8, 2, 3), 2)), Sample((t(1, 8, 2, 3, nc=True), 2))])),
    # (no zero-size batch: PyTorch returns such an input unchanged, shape and all)
    "pixel_unshuffle": dict(special=_sp(lambda t, m, d, dev: [
        Sample((t(1, 2, 4, 6, nc=True), 2))])),
    "glu": dict(special=_sp(lambda t, m, d, dev: [Sample((t(0, 4),)),
                                                  Sample((m(SPECIAL_MATRIX[:2]),), dict(dim=0))])),
    "normalize": dict(special=_sp(lambda t, m, d, dev: [Sample((t(0, 3),)),
                                                        Sample((m(SPECIAL_MATRIX),))])),
    "cosine_similarity": dict(special=_sp(lambda t, m, d, dev: [
        Sample((t(0, 3), t(0, 3))), Sample((t(4, 3, nc=True), t(4, 3)))])),
    "pairwise_distance": dict(special=_sp(lambda t, m, d, dev: [
        Sample((t(0, 3), t(0, 3))), Sample((t(4, 3, nc=True), t(4, 3))),
        Sample((m(SPECIAL_MATRIX), t(4, 5)))])),
    "prelu": dict(special=_sp(lambda t, m, d, dev: [
        Sample((t(0, 3, 4), t(3))), Sample((t(2, 3, 4, nc=True), t(3))),
        Sample((m(_S3), t(4)))])),
    "unfold": dict(special=_sp(lambda t, m, d, dev: [Sample((t(1, 2, 4, 4, nc=True), 2))])),
    "fold": dict(special=_sp(lambda t, m, d, dev: [Sample((t(2, 8, 9, nc=True), (4, 4), 2))])),
    "logsigmoid": dict(special=unary_special()),
    "tanhshrink": dict(special=unary_special()),
    "softshrink": dict(special=unary_special(lambd=0.7)),
    "hardshrink": dict(special=unary_special(lambd=0.7)),
    "threshold": dict(special=unary_special(threshold=0.5, value=-2.0)),
    "mse_loss": dict(special=binary_special(scalars=(), reduction="none")),
    "l1_loss": dict(special=binary_special(scalars=(), reduction="none")),
    "smooth_l1_loss": dict(special=binary_special(scalars=(), reduction="none")),
    "huber_loss": dict(special=binary_special(scalars=(), reduction="none")),
}
for _info in OPS:
    for _key, _value in _NN_SPECIAL.get(_info.id, {}).items():
        setattr(_info, _key, _value)
