"""Elementwise kernels. Operands arrive in the compute dtype; every kernel takes ``out=``."""
from __future__ import annotations

import numpy as np


def _sigmoid(x, out=None):
    # numerically stable for both signs: exp of a non-positive number only
    e = np.exp(-np.abs(x))
    pos = 1.0 / (1.0 + e)
    return np.where(x >= 0, pos, e * pos, out=out) if out is not None else \
        np.where(x >= 0, pos, e * pos).astype(x.dtype, copy=False)


def _where(cond, a, b, out=None):
    r = np.where(cond, a, b)
    if out is None:
        return r
    np.copyto(out, r)
    return out


def _div_trunc(a, b, out=None):
    if np.asarray(a).dtype.kind == "f":
        return np.trunc(np.true_divide(a, b), out=out)
    q = np.floor_divide(a, b)
    fix = (np.remainder(a, b) != 0) & ((np.asarray(a) < 0) != (np.asarray(b) < 0))
    r = q + fix
    if out is None:
        return r.astype(q.dtype, copy=False)
    np.copyto(out, r, casting="unsafe")
    return out


def _relu(x, out=None):
    return np.maximum(x, x.dtype.type(0), out=out)


def _astype(x, dtype):
    return x.astype(dtype)


def _copy(dst, src):
    np.copyto(dst, src, casting="unsafe")


KERNELS = {
    "astype": _astype,
    "copy_": _copy,
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "div": np.true_divide,
    "floor_divide": np.floor_divide,
    "div_trunc": _div_trunc,
    "pow": np.power,
    "neg": np.negative,
    "exp": np.exp,
    "log": np.log,
    "sqrt": np.sqrt,
    "tanh": np.tanh,
    "sigmoid": _sigmoid,
    "abs": np.abs,
    "sign": np.sign,
    "sin": np.sin,
    "cos": np.cos,
    "relu": _relu,
    "eq": np.equal,
    "ne": np.not_equal,
    "lt": np.less,
    "le": np.less_equal,
    "gt": np.greater,
    "ge": np.greater_equal,
    "logical_and": np.logical_and,
    "logical_or": np.logical_or,
    "logical_xor": np.logical_xor,
    "logical_not": np.logical_not,
    "where": _where,
}
