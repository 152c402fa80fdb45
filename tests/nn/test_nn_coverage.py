"""nn.RMSNorm, nn.EmbeddingBag and nn.utils.rnn (packed sequences through nn.RNN/LSTM/GRU)
against PyTorch."""
from __future__ import annotations

import numpy as np
import pytest

import corelib
from corelib.nn.utils import rnn as R

RNG = np.random.default_rng(0)


def _np(t):
    return np.array(t.detach().cpu().tolist())


def _c(a, device="cpu", grad=False):
    return corelib.tensor(a, dtype=corelib.float64, device=device, requires_grad=grad)


def _copy_weights(ours, theirs):
    ours.load_state_dict({k: corelib.tensor(v.detach().numpy()) for k, v in
                          theirs.state_dict().items()})


def test_rmsnorm_module(torch, device):
    x = RNG.normal(size=(2, 3, 4))
    for kwargs in (dict(), dict(eps=1e-2), dict(elementwise_affine=False)):
        ours = corelib.nn.RMSNorm([3, 4], dtype=corelib.float64, device=device, **kwargs)
        theirs = torch.nn.RMSNorm([3, 4], dtype=torch.float64, **kwargs)
        assert repr(ours) == repr(theirs)
        if ours.weight is not None:
            w = RNG.normal(size=(3, 4))
            ours.weight.data = _c(w, device)
            theirs.weight.data = torch.tensor(w)
        a, b = _c(x, device, True), torch.tensor(x, requires_grad=True)
        out, ref = ours(a), theirs(b)
        np.testing.assert_allclose(_np(out), ref.detach().numpy(), rtol=1e-10)
        out.sum().backward()
        ref.sum().backward()
        np.testing.assert_allclose(_np(a.grad), b.grad.numpy(), rtol=1e-8, atol=1e-12)
        if ours.weight is not None:
            np.testing.assert_allclose(_np(ours.weight.grad), theirs.weight.grad.numpy(),
                                       rtol=1e-8)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embeddingbag_module(torch, device, mode):
    theirs = torch.nn.EmbeddingBag(10, 3, mode=mode, padding_idx=0, dtype=torch.float64)
    ours = corelib.nn.EmbeddingBag(10, 3, mode=mode, padding_idx=0, dtype=corelib.float64,
                                   device=device)
    _copy_weights(ours, theirs)
    assert repr(ours) == repr(theirs)
    idx, off = [1, 0, 4, 5, 4, 3, 2, 9], [0, 2, 2, 5]
    out = ours(corelib.tensor(idx, device=device), corelib.tensor(off, device=device))
    ref = theirs(torch.tensor(idx), torch.tensor(off))
    np.testing.assert_allclose(_np(out), ref.detach().numpy(), rtol=1e-12)
    w = RNG.normal(size=tuple(ref.shape))
    (out * _c(w, device)).sum().backward()
    (ref * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(_np(ours.weight.grad), theirs.weight.grad.numpy(), rtol=1e-10,
                               atol=1e-12)


def _sequences(lengths, features=3):
    return [RNG.normal(size=(n, features)) for n in lengths]


@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_pack_pad_round_trip(torch, device, enforce_sorted):
    import torch.nn.utils.rnn as TR
    lengths = [5, 5, 3, 2] if enforce_sorted else [2, 5, 3, 5]
    arrays = _sequences(lengths)
    seqs = [_c(a, device) for a in arrays]
    tseqs = [torch.tensor(a) for a in arrays]
    packed = R.pack_sequence(seqs, enforce_sorted=enforce_sorted)
    ref = TR.pack_sequence(tseqs, enforce_sorted=enforce_sorted)
    np.testing.assert_array_equal(_np(packed.data), ref.data.numpy())
    assert packed.batch_sizes.tolist() == ref.batch_sizes.tolist()
    for ours, theirs in ((packed.sorted_indices, ref.sorted_indices),
                         (packed.unsorted_indices, ref.unsorted_indices)):
        assert (ours is None) == (theirs is None)
        assert ours is None or ours.tolist() == theirs.tolist()
    for batch_first in (False, True):
        padded, lens = R.pad_packed_sequence(packed, batch_first, padding_value=-1.0,
                                             total_length=6)
        tpadded, tlens = TR.pad_packed_sequence(ref, batch_first, padding_value=-1.0,
                                                total_length=6)
        np.testing.assert_array_equal(_np(padded), tpadded.numpy())
        assert lens.tolist() == tlens.tolist()
        again = R.pack_padded_sequence(padded, lens, batch_first,
                                       enforce_sorted=enforce_sorted)
        np.testing.assert_array_equal(_np(again.data), ref.data.numpy())
    for side in ("right", "left"):
        np.testing.assert_array_equal(_np(R.pad_sequence(seqs, True, 7.0, side)),
                                      TR.pad_sequence(tseqs, True, 7.0, side).numpy())
    for a, b in zip(R.unpack_sequence(packed), arrays):
        np.testing.assert_array_equal(_np(a), b)


def test_pack_errors():
    x = corelib.zeros(4, 2, 3)
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
        R.pack_padded_sequence(x, [2, 4])
    with pytest.raises(RuntimeError, match="Expected `len\\(lengths\\)` to be equal to "
                                           "batch_size"):
        R.pack_padded_sequence(x, [4, 3, 2])


def test_packed_gradient_flows_to_data(device):
    seqs = [_c(a, device, True) for a in _sequences([4, 2])]
    padded, _ = R.pad_packed_sequence(R.pack_sequence(seqs))
    (padded * 2).sum().backward()
    for s in seqs:
        assert (_np(s.grad) == 2).all()


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_rnn_accepts_packed_sequence(torch, device, cls, batch_first):
    import torch.nn.utils.rnn as TR
    torch.manual_seed(0)
    theirs = getattr(torch.nn, cls)(3, 4, num_layers=2, bidirectional=True,
                                    batch_first=batch_first, dtype=torch.float64)
    ours = getattr(corelib.nn, cls)(3, 4, num_layers=2, bidirectional=True,
                                    batch_first=batch_first, dtype=corelib.float64,
                                    device=device)
    _copy_weights(ours, theirs)
    arrays = _sequences([2, 5, 3, 5])
    seqs = [_c(a, device, True) for a in arrays]
    tseqs = [torch.tensor(a, requires_grad=True) for a in arrays]
    h0 = RNG.normal(size=(4, 4, 4))
    hx = (_c(h0, device), _c(h0, device)) if cls == "LSTM" else _c(h0, device)
    thx = (torch.tensor(h0), torch.tensor(h0)) if cls == "LSTM" else torch.tensor(h0)
    out, h = ours(R.pack_sequence(seqs, enforce_sorted=False), hx)
    ref, th = theirs(TR.pack_sequence(tseqs, enforce_sorted=False), thx)
    assert isinstance(out, R.PackedSequence)
    np.testing.assert_allclose(_np(out.data), ref.data.detach().numpy(), rtol=1e-9, atol=1e-12)
    for a, b in zip(h if cls == "LSTM" else (h,), th if cls == "LSTM" else (th,)):
        np.testing.assert_allclose(_np(a), b.detach().numpy(), rtol=1e-9, atol=1e-12)
    w = RNG.normal(size=tuple(ref.data.shape))
    (out.data * _c(w, device)).sum().backward()
    (ref.data * torch.tensor(w)).sum().backward()
    for s, t in zip(seqs, tseqs):
        np.testing.assert_allclose(_np(s.grad), t.grad.numpy(), rtol=1e-8, atol=1e-12)
    name = "weight_hh_l1_reverse"
    np.testing.assert_allclose(_np(getattr(ours, name).grad),
                               getattr(theirs, name).grad.numpy(), rtol=1e-8, atol=1e-12)
