"""Elementwise kernels. Operands arrive in the compute dtype; every kernel takes ``out=``."""
from __future__ import annotations

import numpy as np


def ufunc(f):
    """A ufunc as a kernel: ``out=...`` makes 0-d results arrays, not NumPy scalars (a scalar
    could not be viewed or written in place); a caller's ``out=`` overrides it. (A closure is
    measured faster than functools.partial here.)"""
    if f.nin == 1:
        return lambda a, out=...: f(a, out=out)
    return lambda a, b, out=...: f(a, b, out=out)


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
        return np.trunc(np.true_divide(a, b), out=... if out is None else out)
    q = np.floor_divide(a, b)
    fix = (np.remainder(a, b) != 0) & ((np.asarray(a) < 0) != (np.asarray(b) < 0))
    r = np.asarray(q + fix)
    if out is None:
        return r.astype(q.dtype, copy=False)
    np.copyto(out, r, casting="unsafe")
    return out


def _relu(x, out=...):
    return np.maximum(x, x.dtype.type(0), out=out)


def _astype(x, dtype):
    return x.astype(dtype)


def _copy(dst, src):
    np.copyto(dst, src, casting="unsafe")


KERNELS = {
    "astype": _astype,
    "copy_": _copy,
    "add": ufunc(np.add),
    "sub": ufunc(np.subtract),
    "mul": ufunc(np.multiply),
    "div": ufunc(np.true_divide),
    "floor_divide": ufunc(np.floor_divide),
    "div_trunc": _div_trunc,
    "pow": ufunc(np.power),
    "neg": ufunc(np.negative),
    "exp": ufunc(np.exp),
    "log": ufunc(np.log),
    "sqrt": ufunc(np.sqrt),
    "tanh": ufunc(np.tanh),
    "sigmoid": _sigmoid,
    "abs": ufunc(np.abs),
    "sign": ufunc(np.sign),
    "sin": ufunc(np.sin),
    "cos": ufunc(np.cos),
    "relu": _relu,
    "eq": ufunc(np.equal),
    "ne": ufunc(np.not_equal),
    "lt": ufunc(np.less),
    "le": ufunc(np.less_equal),
    "gt": ufunc(np.greater),
    "ge": ufunc(np.greater_equal),
    "logical_and": ufunc(np.logical_and),
    "logical_or": ufunc(np.logical_or),
    "logical_xor": ufunc(np.logical_xor),
    "logical_not": ufunc(np.logical_not),
    "where": _where,
}
