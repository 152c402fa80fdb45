"""corelib.nn.utils.rnn: PyTorch's packed and padded variable-length sequences.

A ``PackedSequence`` holds the time steps of a batch of sequences sorted by decreasing length,
step by step (``batch_sizes[t]`` sequences are still running at step t). nn.RNN, nn.LSTM and
nn.GRU accept one and return one, as PyTorch's do.
"""
from __future__ import annotations

from collections import namedtuple

import corelib

from ... import _dtype
from ..._tensor import Tensor

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence",
           "pad_sequence", "unpad_sequence", "pack_sequence", "unpack_sequence"]


class PackedSequence(namedtuple("PackedSequence",
                                ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """PackedSequence(data, batch_sizes, sorted_indices=None, unsorted_indices=None)

    The steps of a batch of variable-length sequences, packed by ``pack_padded_sequence``.
    """

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """to(*args, **kwargs) -> PackedSequence

        ``data`` (and the index tensors, to its device) converted by ``Tensor.to``.
        """
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        move = (lambda t: None if t is None else t.to(data.device))
        return type(self)(data, self.batch_sizes, move(self.sorted_indices),
                          move(self.unsorted_indices))

    def cpu(self):
        """cpu() -> PackedSequence

        A copy with ``data`` on the CPU.
        """
        return self.to("cpu")

    def cuda(self, *args, **kwargs):
        """cuda(device=None) -> PackedSequence

        A copy with ``data`` on a CUDA device.
        """
        return self.to(corelib.device("cuda", *args) if args else "cuda", **kwargs)

    @property
    def is_cuda(self):
        """Whether ``data`` is on a CUDA device."""
        return self.data.is_cuda

    def is_pinned(self):
        """is_pinned() -> bool

        Whether ``data`` is in pinned memory (never, in corelib).
        """
        return False


def invert_permutation(permutation):
    """invert_permutation(permutation) -> Optional[Tensor]

    The inverse of an index permutation (None for None).
    """
    if permutation is None:
        return None
    out = corelib.empty_like(permutation)
    return out.scatter_(0, permutation, corelib.arange(permutation.numel(),
                                                       device=permutation.device))


def _lengths_list(lengths):
    if isinstance(lengths, Tensor):
        if lengths.ndim != 1:
            raise RuntimeError(f"'lengths' argument should be a 1D tensor but got "
                               f"{lengths.ndim}D")
        return [int(v) for v in lengths.tolist()]
    return [int(v) for v in lengths]


def _pack(input, lengths, sorted_indices):
    """input (T, B, *) in batch order -> PackedSequence in ``sorted_indices`` order."""
    if sorted_indices is not None:
        input = input.index_select(1, sorted_indices)
        lengths = [lengths[i] for i in sorted_indices.tolist()]
    steps = lengths[0] if lengths else 0
    batch_sizes = [sum(1 for n in lengths if n > t) for t in range(steps)]
    mask = corelib.arange(steps, device=input.device).unsqueeze(1) < \
        corelib.tensor(lengths, device=input.device).unsqueeze(0)
    data = input[:steps][mask]
    return PackedSequence(data, corelib.tensor(batch_sizes, dtype=_dtype.int64),
                          sorted_indices, invert_permutation(sorted_indices))


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True) -> PackedSequence

    Pack a padded batch (T×B×* or B×T×*) of sequences of the given lengths.
    """
    lengths = _lengths_list(lengths)
    if enforce_sorted:
        if any(a < b for a, b in zip(lengths, lengths[1:])):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when "
                               "`enforce_sorted` is True. You can pass `enforce_sorted=False` "
                               "to pack_padded_sequence and/or pack_sequence to sidestep this "
                               "requirement if you do not need ONNX exportability.")
        sorted_indices = None
    else:
        order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
        sorted_indices = corelib.tensor(order, dtype=_dtype.int64, device=input.device)
    if batch_first:
        input = input.transpose(0, 1)
    if len(lengths) != input.shape[1]:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{len(lengths)} (batch_size={input.shape[1]})")
    if lengths and min(lengths) <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    if lengths and max(lengths) > input.shape[0]:
        raise RuntimeError(f"Expected sequence length to be at most {input.shape[0]}, but got "
                           f"{max(lengths)}")
    return _pack(input, lengths, sorted_indices)


def _sorted_lengths(batch_sizes):
    sizes = [int(b) for b in batch_sizes.tolist()]
    return [sum(1 for b in sizes if b > i) for i in range(sizes[0] if sizes else 0)]


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None) -> (Tensor, Tensor)

    Unpack a PackedSequence into a padded batch and the int64 lengths (original batch order).
    """
    data, batch_sizes = sequence.data, sequence.batch_sizes
    lengths = _sorted_lengths(batch_sizes)
    steps = len(batch_sizes)
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {steps}")
        steps = total_length
    batch = len(lengths)
    mask = corelib.arange(steps, device=data.device).unsqueeze(1) < \
        corelib.tensor(lengths, device=data.device).unsqueeze(0)
    where = corelib.nonzero(mask.reshape(-1)).reshape(-1)
    flat = corelib.full((steps * batch,) + tuple(data.shape[1:]), padding_value,
                        dtype=data.dtype, device=data.device)
    padded = flat.index_copy(0, where, data).reshape((steps, batch) + tuple(data.shape[1:]))
    lengths_t = corelib.tensor(lengths, dtype=_dtype.int64)
    if sequence.unsorted_indices is not None:
        padded = padded.index_select(1, sequence.unsorted_indices)
        lengths_t = lengths_t[sequence.unsorted_indices.cpu()]
    return (padded.transpose(0, 1) if batch_first else padded), lengths_t


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side='right') -> Tensor

    Stack variable-length tensors (L_i×*) into one padded T×B×* (or B×T×*) tensor.
    """
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got "
                         f"{padding_side}.")
    if isinstance(sequences, Tensor):
        sequences = sequences.unbind(0)
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        extra = longest - s.shape[0]
        pad = [0, 0] * (s.ndim - 1) + ([0, extra] if padding_side == "right" else [extra, 0])
        padded.append(corelib.nn.functional.pad(s, pad, value=padding_value) if extra else s)
    return corelib.stack(padded, 0 if batch_first else 1)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """unpad_sequence(padded_sequences, lengths, batch_first=False) -> List[Tensor]

    The inverse of ``pad_sequence``: the list of each sequence's first ``lengths[i]`` steps.
    """
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [seq[:n] for seq, n in zip(padded_sequences.unbind(0), _lengths_list(lengths))]


def pack_sequence(sequences, enforce_sorted=True):
    """pack_sequence(sequences, enforce_sorted=True) -> PackedSequence

    Pack a list of variable-length tensors (``pad_sequence`` then ``pack_padded_sequence``).
    """
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """unpack_sequence(packed_sequences) -> List[Tensor]

    The inverse of ``pack_sequence``: the list of variable-length tensors.
    """
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)


def _packed_forward(module, packed, hx):
    """nn.RNN/LSTM/GRU ``forward`` on a PackedSequence: each group of equal-length sequences
    runs as one batch over its own steps; results are packed again in the input's order.
    ``hx`` and the final states are in the original batch order, as in PyTorch."""
    padded, lengths = pad_packed_sequence(packed)
    lengths = lengths.tolist()
    steps, batch = padded.shape[0], padded.shape[1]
    is_lstm = isinstance(hx, tuple) or module.mode == "LSTM"
    groups = {}
    for i, n in enumerate(lengths):
        groups.setdefault(n, []).append(i)
    outs, finals, order = [], [], []
    for n, members in groups.items():
        idx = corelib.tensor(members, dtype=_dtype.int64, device=padded.device)
        x = padded[:n].index_select(1, idx)
        if module.batch_first:
            x = x.transpose(0, 1)
        h = None if hx is None else (tuple(t.index_select(1, idx) for t in hx) if is_lstm
                                     else hx.index_select(1, idx))
        out, final = type(module).forward(module, x, h)
        if module.batch_first:
            out = out.transpose(0, 1)
        if n < steps:
            out = corelib.nn.functional.pad(out, [0, 0, 0, 0, 0, steps - n])
        outs.append(out)
        finals.append(final)
        order.extend(members)
    inverse = invert_permutation(corelib.tensor(order, dtype=_dtype.int64,
                                                device=padded.device))
    output = corelib.cat(outs, 1).index_select(1, inverse)
    if is_lstm:
        final = tuple(corelib.cat([f[k] for f in finals], 1).index_select(1, inverse)
                      for k in range(2))
    else:
        final = corelib.cat(finals, 1).index_select(1, inverse)
    if batch == 0:
        raise RuntimeError("a PackedSequence must hold at least one sequence")
    return _pack(output, lengths, packed.sorted_indices), final
