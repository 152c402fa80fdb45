"""PyTorch's ``*_copy`` functions: the view op's result copied into a new contiguous tensor
(``X_copy(input, ...) == X(input, ...).clone()`` with contiguous memory), so the result never
shares storage with the input. Gradients come from the view op and the copy."""
from __future__ import annotations

from ._tensor import Tensor

__all__ = ["alias_copy", "diagonal_copy", "expand_copy", "narrow_copy", "permute_copy",
           "split_with_sizes_copy", "squeeze_copy", "t_copy", "transpose_copy", "unbind_copy",
           "unfold_copy", "unsqueeze_copy", "view_copy"]


def _tensor_arg(x, op, name="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(x).__name__}")
    return x


def _copy(view):
    """A contiguous copy of ``view`` that shares no storage with it."""
    out = view.contiguous()
    return view.clone() if out is view else out


def alias_copy(input):
    """alias_copy(input) -> Tensor

    A copy of input (the copying version of torch.alias).
    """
    _tensor_arg(input, "alias_copy")
    return _copy(input)


def diagonal_copy(input, offset=0, dim1=0, dim2=1):
    """diagonal_copy(input, offset=0, dim1=0, dim2=1) -> Tensor

    A contiguous copy of diagonal(input, offset, dim1, dim2).
    """
    _tensor_arg(input, "diagonal_copy")
    return _copy(input.diagonal(offset, dim1, dim2))


def expand_copy(input, size, *, implicit=False):
    """expand_copy(input, size, *, implicit=False) -> Tensor

    A contiguous copy of input.expand(size).
    """
    _tensor_arg(input, "expand_copy")
    return _copy(input.expand(*size) if isinstance(size, (list, tuple)) else input.expand(size))


def narrow_copy(input, dim, start, length):
    """narrow_copy(input, dim, start, length) -> Tensor

    A contiguous copy of narrow(input, dim, start, length).
    """
    _tensor_arg(input, "narrow_copy")
    return _copy(input.narrow(dim, start, length))


def permute_copy(input, dims):
    """permute_copy(input, dims) -> Tensor

    A contiguous copy of input.permute(dims).
    """
    _tensor_arg(input, "permute_copy")
    dims = tuple(dims)
    if not dims and input.ndim == 0:
        return _copy(input)
    return _copy(input.permute(*dims))


def split_with_sizes_copy(input, split_sizes, dim=0):
    """split_with_sizes_copy(input, split_sizes, dim=0) -> List[Tensor]

    Contiguous copies of the pieces of split_with_sizes(input, split_sizes, dim).
    """
    _tensor_arg(input, "split_with_sizes_copy")
    return [_copy(p) for p in input.split_with_sizes(list(split_sizes), dim)]


def squeeze_copy(input, dim=None):
    """squeeze_copy(input, dim=None) -> Tensor

    A contiguous copy of squeeze(input, dim).
    """
    _tensor_arg(input, "squeeze_copy")
    return _copy(input.squeeze() if dim is None else input.squeeze(dim))


def t_copy(input):
    """t_copy(input) -> Tensor

    A contiguous copy of input.t().
    """
    _tensor_arg(input, "t_copy")
    return _copy(input.t())


def transpose_copy(input, dim0, dim1):
    """transpose_copy(input, dim0, dim1) -> Tensor

    A contiguous copy of transpose(input, dim0, dim1).
    """
    _tensor_arg(input, "transpose_copy")
    return _copy(input.transpose(dim0, dim1))


def unbind_copy(input, dim=0):
    """unbind_copy(input, dim=0) -> tuple of Tensors

    Contiguous copies of the slices unbind(input, dim).
    """
    _tensor_arg(input, "unbind_copy")
    return tuple(_copy(p) for p in input.unbind(dim))


def unfold_copy(input, dimension, size, step):
    """unfold_copy(input, dimension, size, step) -> Tensor

    A contiguous copy of input.unfold(dimension, size, step).
    """
    _tensor_arg(input, "unfold_copy")
    return _copy(input.unfold(dimension, size, step))


def unsqueeze_copy(input, dim):
    """unsqueeze_copy(input, dim) -> Tensor

    A contiguous copy of unsqueeze(input, dim).
    """
    _tensor_arg(input, "unsqueeze_copy")
    return _copy(input.unsqueeze(dim))


def view_copy(input, size):
    """view_copy(input, size) -> Tensor

    A contiguous copy of input.view(size) (size a shape, or a dtype to reinterpret as).
    """
    _tensor_arg(input, "view_copy")
    if isinstance(size, (list, tuple)):
        return _copy(input.view(*size))
    return _copy(input.view(size))
