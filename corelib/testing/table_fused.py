"""Op table: fused primitives of the nn layers (the whole-sequence recurrence rnn_sequence),
checked against NumPy and PyTorch references of the unfused math."""
import numpy as np

from corelib._ops.rnn import rnn_sequence
from .opinfo import OpInfo, Sample, make_tensor

GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _rnn_samples(mode):
    def samples(dtype, device):
        def t(*shape):
            return make_tensor(shape, dtype, device, low=-1.0, high=1.0)
        out = []
        for steps, n, hid, reverse, bias in ((3, 2, 3, False, True), (3, 2, 3, True, False),
                                             (1, 1, 2, False, True), (0, 2, 2, False, True)):
            g = GATES[mode] * hid
            c0 = t(n, hid) if mode == "LSTM" else None
            out.append(Sample((t(steps, n, g), t(n, hid), c0, t(g, hid), t(g) if bias else None),
                              dict(mode=mode, reverse=reverse)))
        # non-contiguous operands (a time-major view of batch-first projections)
        g = GATES[mode] * 2
        x = make_tensor((2, 3, g), dtype, device, low=-1.0, high=1.0).transpose(0, 1)
        c0 = t(2, 2) if mode == "LSTM" else None
        out.append(Sample((x, t(2, 2), c0, t(g, 2), t(g)), dict(mode=mode, reverse=False)))
        return out
    return samples


def _reference(sigmoid, tanh, relu, stack, matmul):
    """The recurrence written step by step with NumPy or torch functions."""
    def rnn(x, h0, c0, w_hh, b_hh, mode, reverse):
        steps = x.shape[0]
        order = range(steps - 1, -1, -1) if reverse else range(steps)
        h, c, ys = h0, c0, [None] * steps
        hid = h0.shape[-1]
        for t in order:
            hh = matmul(h, w_hh.T) + (0 if b_hh is None else b_hh)
            if mode == "LSTM":
                pre = x[t] + hh
                i, f = sigmoid(pre[:, :hid]), sigmoid(pre[:, hid:2 * hid])
                g, o = tanh(pre[:, 2 * hid:3 * hid]), sigmoid(pre[:, 3 * hid:])
                c = f * c + i * g
                h = o * tanh(c)
            elif mode == "GRU":
                r = sigmoid(x[t, :, :hid] + hh[:, :hid])
                z = sigmoid(x[t, :, hid:2 * hid] + hh[:, hid:2 * hid])
                n = tanh(x[t, :, 2 * hid:] + r * hh[:, 2 * hid:])
                h = (1 - z) * n + z * h
            else:
                h = (tanh if mode == "RNN_TANH" else relu)(x[t] + hh)
            ys[t] = h
        y = stack(ys) if steps else x[:, :, :hid] * 0   # (0, N, H), on the inputs' graph
        return (y, h, c) if mode == "LSTM" else (y, h)
    return rnn


def _np_ref(*args, **kwargs):
    def sigmoid(v):
        return 1 / (1 + np.exp(-v))
    out = _reference(sigmoid, np.tanh, lambda v: np.maximum(v, 0), np.stack,
                     np.matmul)(*args, **kwargs)
    return tuple(np.asarray(o, dtype=args[0].dtype) for o in out)


def _torch_ref(*args, **kwargs):
    import torch
    return _reference(torch.sigmoid, torch.tanh, torch.relu, torch.stack,
                      torch.matmul)(*args, **kwargs)


OPS = [
    OpInfo("rnn_sequence", rnn_sequence, _rnn_samples(mode), ref=_np_ref, torch_ref=_torch_ref,
           variant=mode, atol=1e-5)
    for mode in GATES
]
