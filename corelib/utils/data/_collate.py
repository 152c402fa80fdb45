"""``default_collate`` / ``default_convert``: samples -> batches, with PyTorch's rules.

Tensors are stacked along a new first dim; Python floats become a float64 tensor and ints
(bools) an int64 (bool) tensor; strings and bytes stay lists; mappings, namedtuples and
sequences are collated field by field (tuples come back as lists, as in PyTorch). NumPy
arrays and scalars are recognised by type (NumPy itself is never imported here) and
converted with ``corelib.as_tensor``.
"""
from __future__ import annotations

import collections.abc
import copy

import corelib

__all__ = ["default_collate", "default_convert"]

_ERROR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
          "found {}")


def _is_numpy(obj, kind):
    """``kind`` "array": a NumPy ndarray; "scalar": a NumPy scalar (np.float32(1), ...)."""
    cls = type(obj)
    if cls.__module__ != "numpy":
        return False
    if kind == "array":
        return cls.__name__ in ("ndarray", "memmap")
    return hasattr(obj, "dtype") and hasattr(obj, "item") and cls.__name__ != "ndarray"


def _numpy_to_tensor(arr):
    if arr.dtype.kind in "SaUO":   # strings / objects: nothing a tensor can hold
        raise TypeError(_ERROR.format(arr.dtype))
    return corelib.as_tensor(arr)


def _map_like(elem, values):
    """A mapping of ``elem``'s type holding ``values`` (a plain dict if that fails)."""
    if isinstance(elem, collections.abc.MutableMapping):
        clone = copy.copy(elem)
        clone.update(values)
        return clone
    try:
        return type(elem)(values)
    except TypeError:
        return values


def _sequence_like(elem, values):
    try:
        return type(elem)(values)
    except TypeError:
        return values


def default_collate(batch):
    """Merge a list of samples into a batch (see the module docstring for the rules)."""
    elem = batch[0]
    if isinstance(elem, corelib.Tensor):
        return corelib.stack(list(batch), 0)
    if _is_numpy(elem, "array"):
        return corelib.stack([_numpy_to_tensor(b) for b in batch], 0)
    if _is_numpy(elem, "scalar"):
        return corelib.as_tensor([b.item() for b in batch],
                                 dtype=_numpy_to_tensor(elem).dtype)
    if isinstance(elem, float):
        return corelib.tensor(batch, dtype=corelib.float64)
    if isinstance(elem, int):   # bools included: corelib.tensor infers bool for them
        return corelib.tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return _map_like(elem, {key: default_collate([d[key] for d in batch]) for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):   # namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(b) != size for b in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [default_collate(list(s)) for s in zip(*batch)]
        return fields if isinstance(elem, tuple) else _sequence_like(elem, fields)
    raise TypeError(_ERROR.format(type(elem)))


def default_convert(data):
    """NumPy arrays (also inside mappings and sequences) -> tensors; everything else as is."""
    if isinstance(data, corelib.Tensor):
        return data
    if _is_numpy(data, "array"):
        return data if data.dtype.kind in "SaUO" else corelib.as_tensor(data)
    if _is_numpy(data, "scalar"):
        return corelib.as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _map_like(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _sequence_like(data, [default_convert(d) for d in data])
    return data
