"""``repr(tensor)`` in PyTorch's style (torch/_tensor_str.py rules, simplified)."""
from __future__ import annotations

import math

from . import _dtype

PRECISION = 4
THRESHOLD = 1000
EDGEITEMS = 3
LINEWIDTH = 80
SCI_MODE = None   # None: chosen from the values; True/False: forced (set_printoptions)
_PROFILES = {"default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80),
             "full": (4, math.inf, 3, 80)}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None) -> None

    Set how tensors print: digits, summarization threshold and edge items, line width, notation.
    """
    global PRECISION, THRESHOLD, EDGEITEMS, LINEWIDTH, SCI_MODE
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"Invalid profile: {profile}")
        PRECISION, THRESHOLD, EDGEITEMS, LINEWIDTH = _PROFILES[profile]
    if precision is not None:
        PRECISION = precision
    if threshold is not None:
        THRESHOLD = threshold
    if edgeitems is not None:
        EDGEITEMS = edgeitems
    if linewidth is not None:
        LINEWIDTH = linewidth
    SCI_MODE = sci_mode


class _Formatter:
    """Chooses one number format (int / fixed / scientific) for all elements, like PyTorch."""

    def __init__(self, values, floating):
        self.floating = floating
        self.int_mode, self.sci_mode = True, False
        finite = [v for v in values if isinstance(v, float) and math.isfinite(v)] \
            if floating else values
        if floating:
            nonzero = [abs(v) for v in finite if v != 0]
            self.int_mode = all(v == math.ceil(v) for v in finite)
            if nonzero:
                hi, lo = max(nonzero), min(nonzero)
                if self.int_mode:
                    self.sci_mode = hi > 1e8
                else:
                    self.sci_mode = hi / lo > 1000 or hi > 1e8 or lo < 1e-4
        if floating and SCI_MODE is not None:
            self.sci_mode, self.int_mode = SCI_MODE, self.int_mode and not SCI_MODE
        self.width = max((len(self.fmt(v)) for v in values), default=1)

    def fmt(self, v):
        if isinstance(v, bool):
            return str(v)
        if not self.floating:
            return str(v)
        if not math.isfinite(v):
            return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
        if self.sci_mode:
            return f"{v:.{PRECISION}e}"
        if self.int_mode:
            return f"{v:.0f}."
        return f"{v:.{PRECISION}f}"

    def __call__(self, v):
        return self.fmt(v).rjust(self.width)


def _flatten(values, out):
    if isinstance(values, list):
        for v in values:
            _flatten(v, out)
    else:
        out.append(values)
    return out


def _summarize(values, depth, summarize):
    if not isinstance(values, list):
        return values
    if summarize and len(values) > 2 * EDGEITEMS:
        return [_summarize(v, depth + 1, summarize) for v in values[:EDGEITEMS]] + \
            [Ellipsis] + [_summarize(v, depth + 1, summarize) for v in values[-EDGEITEMS:]]
    return [_summarize(v, depth + 1, summarize) for v in values]


def _render(values, fmt, indent, ndim):
    if ndim == 0:
        return fmt(values)
    if ndim == 1:
        items = ["..." if v is Ellipsis else fmt(v) for v in values]
        per_line = max(1, (LINEWIDTH - indent) // (fmt.width + 2))
        lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    sep = "," + "\n" * (ndim - 1) + " " * (indent + 1)
    rows = ["..." if v is Ellipsis else _render(v, fmt, indent + 1, ndim - 1) for v in values]
    return "[" + sep.join(rows) + "]"


def tensor_repr(t):
    prefix = "tensor("
    suffixes = []
    shape = tuple(t.shape)
    numel = t.numel()
    meta = t.device.type == "meta"
    if meta:
        body = "..."
    elif numel == 0:
        body = "[]"
        if len(shape) != 1:
            suffixes.append(f"size={shape}")
    else:
        values = t.detach().cpu().tolist()
        summarize = numel > THRESHOLD
        shown = _summarize(values, 0, summarize)
        flat = [v for v in _flatten(shown if isinstance(shown, list) else [shown], [])
                if v is not Ellipsis]
        fmt = _Formatter(flat, t.dtype.is_floating_point)
        body = _render(shown, fmt, len(prefix), len(shape))
    if t.device.type != "cpu":
        suffixes.append(f"device='{t.device}'")
    default = (_dtype.get_default_dtype(), _dtype.int64, _dtype.bool)
    if meta:   # PyTorch: tensor(..., device='meta', size=(2, 3)), any non-default dtype shown
        suffixes.append(f"size={shape}")
        if t.dtype is not _dtype.get_default_dtype():
            suffixes.append(f"dtype={t.dtype!r}")
    elif t.dtype not in default or (numel == 0 and t.dtype is not _dtype.get_default_dtype()):
        suffixes.append(f"dtype={t.dtype!r}")
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    return prefix + ", ".join([body] + suffixes) + ")"
