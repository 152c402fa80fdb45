"""Padding layers: constant/zero, reflection, replication and circular."""
from __future__ import annotations

from .. import functional as F
from .module import Module
from .utils import _ntuple

__all__ = ["ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "ZeroPad1d", "ZeroPad2d",
           "ZeroPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
           "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "CircularPad1d",
           "CircularPad2d", "CircularPad3d"]


class _PadNd(Module):
    mode = None
    n = 1

    def __init__(self, padding):
        super().__init__()
        self.padding = _ntuple(2 * self.n)(padding)

    def forward(self, input):
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    mode = "constant"

    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


def _make(base, prefix, n):
    cls = type(f"{prefix}{n}d", (base,), {"n": n, "__module__": __name__,
                                           "__doc__": f"{prefix} ({n}-D)."})
    return cls


def _mode_base(mode):
    return type(f"_{mode.capitalize()}PadNd", (_PadNd,), {"mode": mode, "__module__": __name__})


_Reflect, _Replicate, _Circular = (_mode_base(m) for m in ("reflect", "replicate", "circular"))
ConstantPad1d, ConstantPad2d, ConstantPad3d = (_make(_ConstantPadNd, "ConstantPad", n)
                                               for n in (1, 2, 3))
ZeroPad1d, ZeroPad2d, ZeroPad3d = (_make(_ZeroPadNd, "ZeroPad", n) for n in (1, 2, 3))
ReflectionPad1d, ReflectionPad2d, ReflectionPad3d = (_make(_Reflect, "ReflectionPad", n)
                                                     for n in (1, 2, 3))
ReplicationPad1d, ReplicationPad2d, ReplicationPad3d = (_make(_Replicate, "ReplicationPad", n)
                                                        for n in (1, 2, 3))
CircularPad1d, CircularPad2d, CircularPad3d = (_make(_Circular, "CircularPad", n)
                                               for n in (1, 2, 3))
