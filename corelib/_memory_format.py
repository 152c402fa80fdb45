"""torch.memory_format: the layout a conversion (``Tensor.to``, ``x.float()``, ...) gives its
result. ``contiguous_format`` is row-major, ``preserve_format`` keeps the input's strides,
``channels_last`` (4-D) / ``channels_last_3d`` (5-D) store the channel dim innermost, built
from frontend views (permute, contiguous, permute back), so any backend gives them."""
from __future__ import annotations

__all__ = ["memory_format", "contiguous_format", "preserve_format", "channels_last",
           "channels_last_3d"]


class memory_format:
    """memory_format: the memory layout of a tensor (contiguous_format, preserve_format,
    channels_last, channels_last_3d)."""
    __slots__ = ("_name",)

    def __init__(self, name):
        self._name = name

    def __repr__(self):
        return f"corelib.{self._name}"

    def __reduce__(self):
        return self._name


contiguous_format = memory_format("contiguous_format")
preserve_format = memory_format("preserve_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")

_CHANNELS_LAST_RANK = {channels_last: 4, channels_last_3d: 5}


def check(fmt, op):
    """``fmt`` if it is a memory_format or None, else TypeError naming ``op``."""
    if fmt is not None and not isinstance(fmt, memory_format):
        raise TypeError(f"{op}(): argument 'memory_format' must be corelib.memory_format, not "
                        f"{type(fmt).__name__}")
    return fmt


def apply(t, fmt, op):
    """``t`` laid out as ``fmt`` asks (a view or copy; values and gradients unchanged)."""
    check(fmt, op)
    if fmt is None or fmt is preserve_format:
        return t
    if fmt is contiguous_format:
        return t.contiguous()
    rank = _CHANNELS_LAST_RANK[fmt]
    if t.ndim != rank:
        raise RuntimeError(f"required rank {rank} tensor to use {fmt._name} format")
    last = (0,) + tuple(range(2, rank)) + (1,)          # N, spatial..., C
    back = (0, rank - 1) + tuple(range(1, rank - 1))
    return t.permute(*last).contiguous().permute(*back)
