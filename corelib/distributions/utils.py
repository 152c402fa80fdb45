"""Helpers shared by the distributions (PyTorch's torch.distributions.utils)."""
from __future__ import annotations

import functools
from numbers import Number

import corelib
from corelib import Tensor

__all__ = ["broadcast_all", "logits_to_probs", "probs_to_logits", "clamp_probs", "lazy_property",
           "tril_matrix_to_vec", "vec_to_tril_matrix"]

euler_constant = 0.57721566490153286060


def broadcast_all(*values):
    """broadcast_all(*values) -> tuple of Tensors

    Broadcast tensors and Python numbers to one shape; numbers become tensors of the first
    tensor's dtype and device (the default dtype when all are numbers).
    """
    if not all(isinstance(v, (Tensor, Number)) for v in values):
        raise ValueError("Input arguments must all be instances of numbers.Number, "
                         "corelib.Tensor or objects implementing __torch_function__.")
    if not all(isinstance(v, Tensor) for v in values):
        like = next((v for v in values if isinstance(v, Tensor)), None)
        dtype = like.dtype if like is not None else corelib.get_default_dtype()
        device = like.device if like is not None else None
        values = [v if isinstance(v, Tensor) else corelib.tensor(v, dtype=dtype, device=device)
                  for v in values]
    return tuple(corelib.broadcast_tensors(*values))


def _standard_normal(shape, dtype, device):
    return corelib.randn(tuple(shape), dtype=dtype, device=device)


def _sum_rightmost(value, dim):
    """Sum out the ``dim`` rightmost dimensions of ``value``."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:-dim]) + (-1,)).sum(-1)


def logits_to_probs(logits, is_binary=False):
    """logits_to_probs(logits, is_binary=False) -> Tensor

    Probabilities from logits: sigmoid for binary events, softmax over the last dim otherwise.
    """
    if is_binary:
        return corelib.sigmoid(logits)
    return corelib.softmax(logits, -1)


def clamp_probs(probs):
    """clamp_probs(probs) -> Tensor

    Clamp probabilities into [eps, 1 - eps] of their dtype.
    """
    eps = corelib.finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary=False):
    """probs_to_logits(probs, is_binary=False) -> Tensor

    Logits from probabilities (log-odds for binary events, log-probabilities otherwise).
    """
    ps_clamped = clamp_probs(probs)
    if is_binary:
        return corelib.log(ps_clamped) - corelib.log1p(-ps_clamped)
    return corelib.log(ps_clamped)


class lazy_property:
    """lazy_property(wrapped)

    A property computed on first access and then stored on the instance.
    """

    def __init__(self, wrapped):
        self.wrapped = wrapped
        functools.update_wrapper(self, wrapped)

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return self
        with corelib.enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


def tril_matrix_to_vec(mat, diag=0):
    """tril_matrix_to_vec(mat, diag=0) -> Tensor

    The lower-triangular entries (below diagonal ``diag``) of ``mat`` as a vector, row by row.
    """
    n = mat.shape[-1]
    rows, cols = corelib.tril_indices(n, n, offset=diag, device=mat.device)
    return mat[..., rows, cols]


def vec_to_tril_matrix(vec, diag=0):
    """vec_to_tril_matrix(vec, diag=0) -> Tensor

    The lower-triangular matrix whose entries (below diagonal ``diag``) are ``vec``.
    """
    m = vec.shape[-1]
    n = int(round((-(1 + 2 * diag) + ((1 + 2 * diag) ** 2 + 8 * m + 4 * abs(diag) * (
        diag + 1)) ** 0.5) / 2))
    eps = corelib.finfo(vec.dtype).eps
    if not abs(n * (n + 1) / 2 + diag * n - m) < eps * 10 and not (
            (n * (n + 1)) // 2 + diag * n == m):
        raise ValueError(f"The size of last dimension is {m} which cannot be expressed as "
                         f"the lower triangular part of a square D x D matrix.")
    rows, cols = corelib.tril_indices(n, n, offset=diag, device=vec.device)
    flat = rows * n + cols
    out = corelib.zeros(tuple(vec.shape[:-1]) + (n * n,), dtype=vec.dtype, device=vec.device)
    out = out.index_add(-1, flat, vec)
    return out.reshape(tuple(vec.shape[:-1]) + (n, n))
