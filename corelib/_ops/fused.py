"""Fused kernels of training hot paths (one kernel where the composite took several ops).

``threshold_backward(g, x, threshold)``: g where x > threshold, else 0 -- ReLU's gradient (with
x its output, threshold 0) in one kernel instead of compare, cast and multiply. Linear in g, so
its derivative is itself; x's gradient is zero (almost everywhere), as in PyTorch.
"""
from __future__ import annotations

from . import rules as R
from .core import Op, call
from .creation import zeros_like

__all__ = []


_threshold_backward = Op(
    "threshold_backward",
    lambda gg, out, g, x, threshold: (threshold_backward(gg, x, threshold), zeros_like(x)),
    saves=((), (0, 1)),
    sig="(Array g, Array x, *, float threshold) -> Array",
    rule=R.broadcast,
    doc="g where x > threshold, else 0 (ReLU's gradient from its output)")


def threshold_backward(g, x, threshold=0.0):
    """g where x > threshold, else 0 (g and x of one floating dtype, broadcastable)."""
    return call(_threshold_backward, (g, x), g.dtype, {"threshold": float(threshold)})
