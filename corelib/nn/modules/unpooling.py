"""MaxUnpool1d/2d/3d: partial inverses of max pooling (F.max_unpool*)."""
from __future__ import annotations

from .. import functional as F
from .module import Module

__all__ = ["MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d"]


class _MaxUnpoolNd(Module):
    n = 0

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        op = type(self).__name__
        self.kernel_size = F._ntuple(kernel_size, self.n, op, "kernel_size")
        self.stride = F._ntuple(stride if stride is not None else kernel_size, self.n, op,
                                "stride")
        self.padding = F._ntuple(padding, self.n, op, "padding")

    def forward(self, input, indices, output_size=None):
        fn = getattr(F, f"max_unpool{self.n}d")
        return fn(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """MaxUnpool1d(kernel_size, stride=None, padding=0)

    Partial inverse of MaxPool1d: maxima back at their indices, zeros elsewhere.
    """
    n = 1


class MaxUnpool2d(_MaxUnpoolNd):
    """MaxUnpool2d(kernel_size, stride=None, padding=0)

    Partial inverse of MaxPool2d: maxima back at their indices, zeros elsewhere.
    """
    n = 2


class MaxUnpool3d(_MaxUnpoolNd):
    """MaxUnpool3d(kernel_size, stride=None, padding=0)

    Partial inverse of MaxPool3d: maxima back at their indices, zeros elsewhere.
    """
    n = 3
