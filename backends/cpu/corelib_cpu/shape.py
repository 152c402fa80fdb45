"""View, layout and indexing kernels. Views are NumPy views, so writes are shared."""
from __future__ import annotations

import numpy as np


def _view(a, shape):
    try:
        return np.reshape(a, shape, copy=False)
    except ValueError:
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at "
                           "least one dimension spans across two contiguous subspaces). Use "
                           ".reshape(...) instead.") from None


def _getitem_backward(g, shape, key):
    out = np.zeros(shape, dtype=g.dtype)
    out[key] = g
    return out


def _accumulate_at(target, key, values):
    if all(not isinstance(k, np.ndarray) or k.dtype == bool for k in key):
        target[key] += values   # no repeated positions possible
    else:
        np.add.at(target, key, values)


def _index_backward(g, shape, key):
    out = np.zeros(shape, dtype=g.dtype)
    _accumulate_at(out, key, g)
    return out


def _index_put(x, value, key, accumulate):
    out = x.copy()
    if accumulate:
        _accumulate_at(out, key, np.broadcast_to(value, out[key].shape))
    else:
        out[key] = value
    return out


def _setitem(a, key, value):
    a[key] = value


def _strides(a):
    return tuple(s // a.itemsize for s in a.strides)


KERNELS = {
    "reshape": lambda a, shape: np.reshape(a, shape),
    "view": _view,
    "expand": lambda a, shape: np.broadcast_to(a, shape),
    "permute": lambda a, dims: np.transpose(a, dims),
    "contiguous": lambda a: np.array(a, order="C"),
    "clone": np.copy,
    "is_contiguous": lambda a: a.flags.c_contiguous,
    "strides": _strides,
    "getitem": lambda a, key: a[key + (Ellipsis,)] if Ellipsis not in key else a[key],
    "getitem_backward": _getitem_backward,
    "index": lambda a, key: np.asarray(a[key]),
    "index_backward": _index_backward,
    "index_put": _index_put,
    "setitem": _setitem,
}
