"""The op table of the ONNX exporter: corelib op name -> emitter (beside corelib/_ops).

An emitter ``emit(g, call)`` gets the graph being built (``g``, see corelib/onnx/__init__.py)
and one traced kernel call: ``call.args`` (the kernel's positional arguments: raw arrays,
Python scalars, None), ``call.params`` (its keyword parameters; with dynamic axes, a size that
follows an axis is a ``Sym``) and ``call.result`` (the traced output). It adds ONNX nodes
with ``g.node`` and returns the output's value name (a list for ops with several outputs; None
for outputs that are not produced). ``g.v(arg, call)`` names an argument (arrays by their
traced value, scalars as constants of the call's dtype); ``g.ints([...])`` builds an int64
shape vector, dynamic where an entry is a ``Sym``. Ops whose inputs are all constants never
reach the table: they are folded into constants.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["OPS"]

_INT64_MAX = np.iinfo(np.int64).max
_INT64_MIN = np.iinfo(np.int64).min


# -- elementwise -------------------------------------------------------------------------------
def unary(op_type, **attrs):
    """Emitter of a one-input ONNX operator."""
    return lambda g, c: g.node(op_type, [g.v(c.args[0], c)], **attrs)


def binary(op_type):
    """Emitter of a two-input ONNX operator (scalars become constants of the op's dtype)."""
    return lambda g, c: g.node(op_type, [g.v(c.args[0], c), g.v(c.args[1], c)])


def _pow(g, c):
    x, e = c.args
    if not isinstance(e, np.ndarray) and e == 2:
        xv = g.v(x, c)
        return g.node("Mul", [xv, xv])
    return g.node("Pow", [g.v(x, c), g.v(e, c)])


def _silu(g, c):
    x = g.v(c.args[0], c)
    return g.node("Mul", [x, g.node("Sigmoid", [x])])


def _mish(g, c):
    x = g.v(c.args[0], c)
    return g.node("Mul", [x, g.node("Tanh", [g.node("Softplus", [x])])])


def _square(g, c):
    x = g.v(c.args[0], c)
    return g.node("Mul", [x, x])


def _gelu(g, c):
    approximate = c.params.get("approximate", "none")
    x = g.v(c.args[0], c)
    if g.opset >= 20:
        return g.node("Gelu", [x], approximate=approximate)
    half, one = g.scalar(0.5, c), g.scalar(1.0, c)
    if approximate == "tanh":   # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        cube = g.node("Mul", [x, g.node("Mul", [x, x])])
        inner = g.node("Add", [x, g.node("Mul", [cube, g.scalar(0.044715, c)])])
        t = g.node("Tanh", [g.node("Mul", [inner, g.scalar(math.sqrt(2 / math.pi), c)])])
    else:                       # 0.5 x (1 + erf(x / sqrt(2)))
        t = g.node("Erf", [g.node("Mul", [x, g.scalar(1 / math.sqrt(2), c)])])
    return g.node("Mul", [g.node("Mul", [x, half]), g.node("Add", [t, one])])


def _softplus(g, c):
    beta, threshold = c.params.get("beta", 1.0), c.params.get("threshold", 20.0)
    x = g.v(c.args[0], c)
    if beta == 1.0:
        soft = g.node("Softplus", [x])
        bx = x
    else:
        bx = g.node("Mul", [x, g.scalar(beta, c)])
        soft = g.node("Div", [g.node("Softplus", [bx]), g.scalar(beta, c)])
    return g.node("Where", [g.node("Greater", [bx, g.scalar(threshold, c)]), x, soft])


def _clip(lo_key, hi_key):
    def emit(g, c):
        lo = c.params[lo_key] if lo_key else c.args[1]
        hi = c.params[hi_key] if hi_key else c.args[2]
        return g.node("Clip", [g.v(c.args[0], c), "" if lo is None else g.v(lo, c),
                               "" if hi is None else g.v(hi, c)])
    return emit


def _where(g, c):
    cond, a, b = c.args
    return g.node("Where", [g.v(cond, c), g.v(a, c), g.v(b, c)])


def _cast(g, c):
    return g.node("Cast", [g.v(c.args[0], c)], to=g.elem_type(c.result.dtype))


# -- reductions --------------------------------------------------------------------------------
def _reduce_node(g, op_type, x, dims, keepdim):
    if op_type == "ReduceSum" or g.opset >= 18:
        return g.node(op_type, [x, g.ints(list(dims))], keepdims=int(keepdim))
    return g.node(op_type, [x], axes=list(dims), keepdims=int(keepdim))


def reduce(op_type):
    """Emitter of an ONNX reduction over the op's ``dim`` with its ``keepdim``."""
    return lambda g, c: _reduce_node(g, op_type, g.v(c.args[0], c), c.params["dim"],
                                     c.params["keepdim"])


def _moments(root):
    def emit(g, c):
        x, dims = g.v(c.args[0], c), c.params["dim"]
        d = g.node("Sub", [x, _reduce_node(g, "ReduceMean", x, dims, True)])
        total = _reduce_node(g, "ReduceSum", g.node("Mul", [d, d]), dims, c.params["keepdim"])
        count = int(np.prod([c.args[0].shape[i] for i in dims])) - c.params["correction"]
        out = g.node("Div", [total, g.scalar(max(count, 0), c)])
        return g.node("Sqrt", [out]) if root else out
    return emit


def _arg(op_type):
    def emit(g, c):
        x, dim = g.v(c.args[0], c), c.params["dim"]
        if dim is None:
            x, dim = g.node("Reshape", [x, g.ints([-1])]), 0
        return g.node(op_type, [x], axis=dim, keepdims=int(c.params["keepdim"]))
    return emit


def _cumsum(g, c):
    return g.node("CumSum", [g.v(c.args[0], c), g.const(np.array(c.params["dim"], np.int64))])


# -- shapes and indexing ------------------------------------------------------------------------
def _strip_ones(src, dst):
    """Axes to unsqueeze (dst longer) or squeeze (src longer) if that is all a reshape does."""
    long, short = (dst, src) if len(dst) >= len(src) else (src, dst)
    axes, j = [], 0
    for i, d in enumerate(long):
        if j < len(short) and d == short[j]:
            j += 1
        elif d == 1:
            axes.append(i)
        else:
            return None
    return axes if j == len(short) else None


def _reshape(g, c):
    x, src, dst = c.args[0], c.args[0].shape, c.result.shape
    if src == dst:
        return g.node("Identity", [g.v(x, c)])
    target = list(c.params.get("shape", dst))
    axes = None if any(g.is_sym(d) for d in target) else _strip_ones(src, dst)
    if axes is not None and len(src) != len(dst):
        return g.node("Unsqueeze" if len(dst) > len(src) else "Squeeze",
                      [g.v(x, c), g.ints(axes)])
    return g.node("Reshape", [g.v(x, c), g.ints(target, reshape=True)])


def _permute(g, c):
    return g.node("Transpose", [g.v(c.args[0], c)], perm=list(c.params["dims"]))


def _expand(g, c):
    return g.node("Expand", [g.v(c.args[0], c), g.ints(list(c.params["shape"]))])


def _cat(g, c):
    arrays = [a for a in c.args if isinstance(a, np.ndarray)]
    return g.node("Concat", [g.v(a, c) for a in arrays], axis=c.params["dim"])


def _getitem(g, c):
    x = c.args[0]
    key = c.params["key"]
    key = key if isinstance(key, tuple) else (key,)
    if any(isinstance(k, np.ndarray) or isinstance(k, (list, tuple)) for k in key):
        g.unsupported(c, "indexing with arrays in getitem is not mapped")
    if Ellipsis in key:
        i = key.index(Ellipsis)
        fill = x.ndim - sum(1 for k in key if k is not None and k is not Ellipsis)
        key = key[:i] + (slice(None),) * fill + key[i + 1:]
    starts, ends, axes, steps, squeeze, unsqueeze = [], [], [], [], [], []
    dim = out_dim = 0
    for k in key:
        if k is None:
            unsqueeze.append(out_dim)
            out_dim += 1
            continue
        if g.is_sym(k) or isinstance(k, slice) and g.is_sym(k.step):
            g.varies(k)
        if isinstance(k, slice):
            start, stop, step = k.start, k.stop, 1 if k.step is None else k.step
            if (start, stop, step) != (None, None, 1):
                axes.append(dim)
                steps.append(step)
                starts.append((0 if step > 0 else -1) if start is None else start)
                ends.append((_INT64_MAX if step > 0 else _INT64_MIN) if stop is None else stop)
            out_dim += 1
        else:   # an integer
            axes.append(dim)
            steps.append(1)
            starts.append(k)
            ends.append(_INT64_MAX if k == -1 else k + 1)
            squeeze.append(dim)
        dim += 1
    out = g.v(x, c)
    if axes:
        out = g.node("Slice", [out, g.ints(starts), g.ints(ends), g.ints(axes), g.ints(steps)])
    if squeeze:
        out = g.node("Squeeze", [out, g.ints(squeeze)])
    if unsqueeze:
        out = g.node("Unsqueeze", [out, g.ints(unsqueeze)])
    return out if out != g.v(x, c) else g.node("Identity", [out])


def _index_select(g, c):
    x, idx = c.args
    return g.node("Gather", [g.v(x, c), g.v(idx, c)], axis=c.params["dim"])


def _constant_pad(g, c):
    widths = c.params["widths"]
    pads = [lo for lo, _ in widths] + [hi for _, hi in widths]
    if any(p < 0 for p in pads):
        g.unsupported(c, "negative padding is not mapped")
    return g.node("Pad", [g.v(c.args[0], c), g.ints(pads), g.scalar(c.params["value"], c)],
                  mode="constant")


def _tri(upper):
    def emit(g, c):
        return g.node("Trilu", [g.v(c.args[0], c),
                                g.const(np.array(c.params["diagonal"], np.int64))], upper=upper)
    return emit


def _full(g, c):
    value = np.array([c.params["value"]], dtype=c.result.dtype)
    return g.node("ConstantOfShape", [g.ints(list(c.params["shape"]))], value=value)


def _arange(g, c):
    return g.node("Range", [g.int_scalar(c.params[k], c.result.dtype)
                            for k in ("start", "end", "step")])


# -- nn ----------------------------------------------------------------------------------------
def _linear(g, c):
    x, w, b = c.args
    if x.ndim == 2:
        return g.node("Gemm", [g.v(x, c), g.v(w, c)] + ([g.v(b, c)] if b is not None else []),
                      transB=1)
    out = g.node("MatMul", [g.v(x, c), g.node("Transpose", [g.v(w, c)], perm=[1, 0])])
    return out if b is None else g.node("Add", [out, g.v(b, c)])


def _conv(g, c):
    x, w, b = c.args
    p = c.params
    pads = [lo for lo, _ in p["padding"]] + [hi for _, hi in p["padding"]]
    return g.node("Conv", [g.v(x, c), g.v(w, c)] + ([g.v(b, c)] if b is not None else []),
                  kernel_shape=list(w.shape[2:]), strides=list(p["stride"]), pads=pads,
                  dilations=list(p["dilation"]), group=p["groups"])


def _pair(p):
    return list(p) + list(p)


def _max_pool_indices(g, c):   # the values come from pool_gather, which emits MaxPool
    p = c.params
    return g.defer(c, lambda x: g.node(
        "MaxPool", [x], kernel_shape=list(p["kernel_size"]), strides=list(p["stride"]),
        pads=_pair(p["padding"]), dilations=list(p["dilation"]), ceil_mode=int(p["ceil_mode"])))


def _adaptive_max_pool_indices(g, c):
    x, out = c.args[0], tuple(c.params["output_size"])
    spatial = x.shape[2:]
    if all(o == 1 for o in out):
        return g.defer(c, lambda v: g.node("GlobalMaxPool", [v]))
    if any(s % o for s, o in zip(spatial, out)):
        g.unsupported(c, f"adaptive max pooling from {spatial} to {out}: sizes not divisible")
    k = [s // o for s, o in zip(spatial, out)]
    return g.defer(c, lambda v: g.node("MaxPool", [v], kernel_shape=k, strides=k))


def _pool_gather(g, c):
    x, idx = c.args
    return g.resolve_deferred(idx, c)(g.v(x, c))


def _global(c):
    """Whether a pooling covers the whole (possibly dynamic) spatial extent: one window."""
    p, x = c.params, c.args[0]
    kernel = [getattr(k, "value", k) for k in p["kernel_size"]]
    return kernel == list(x.shape[2:]) and not any(
        getattr(q, "value", q) for q in p["padding"])


def _avg_pool(g, c):
    p = c.params
    if p.get("divisor_override") is not None:
        g.unsupported(c, "divisor_override is not mapped")
    if _global(c):   # adaptive_avg_pool(1): follows dynamic spatial axes
        return g.node("GlobalAveragePool", [g.v(c.args[0], c)])
    return g.node("AveragePool", [g.v(c.args[0], c)], kernel_shape=list(p["kernel_size"]),
                  strides=list(p["stride"]), pads=_pair(p["padding"]),
                  ceil_mode=int(p["ceil_mode"]), count_include_pad=int(p["count_include_pad"]))


def _softmax(op_type):
    return lambda g, c: g.node(op_type, [g.v(c.args[0], c)], axis=c.params["dim"])


def _normalize(g, c):
    x, dims, eps = c.args[0], tuple(c.params["dim"]), c.params["eps"]
    xv = g.v(x, c)
    trailing = dims == tuple(range(x.ndim - len(dims), x.ndim))
    static = not any(g.is_sym(d) for d in g.sym_shape(x)[x.ndim - len(dims):])
    if trailing and static and g.opset >= 17:   # (its scale has the normalized dims' shape)
        scale = g.const(np.ones(x.shape[x.ndim - len(dims):], x.dtype))
        return g.node("LayerNormalization", [xv, scale], axis=x.ndim - len(dims), epsilon=eps)
    d = g.node("Sub", [xv, _reduce_node(g, "ReduceMean", xv, dims, True)])
    var = _reduce_node(g, "ReduceMean", g.node("Mul", [d, d]), dims, True)
    return g.node("Div", [d, g.node("Sqrt", [g.node("Add", [var, g.scalar(eps, c)])])])


def _layer_norm(g, c):
    """The fused layer_norm (y, mean, rstd): LayerNormalization (the statistics are not
    exported)."""
    x, weight, bias = c.args
    k, eps = c.params["normalized_ndim"], c.params["eps"]
    xv, trailing = g.v(x, c), x.shape[x.ndim - k:]
    if g.opset >= 17:
        scale = g.v(weight, c) if weight is not None else g.const(np.ones(trailing, x.dtype))
        y = g.node("LayerNormalization", [xv, scale] + ([g.v(bias, c)] if bias is not None
                                                        else []), axis=x.ndim - k, epsilon=eps)
    else:
        dims = tuple(range(x.ndim - k, x.ndim))
        d = g.node("Sub", [xv, _reduce_node(g, "ReduceMean", xv, dims, True)])
        var = _reduce_node(g, "ReduceMean", g.node("Mul", [d, d]), dims, True)
        y = g.node("Div", [d, g.node("Sqrt", [g.node("Add", [var, g.scalar(eps, c)])])])
        if weight is not None:
            y = g.node("Mul", [y, g.v(weight, c)])
        if bias is not None:
            y = g.node("Add", [y, g.v(bias, c)])
    return [y, None, None]


def _batch_norm(g, c):
    """The fused batch_norm in training (y, mean, var): the statistics over every dim but the
    channel's, as ReduceMean nodes (also what the running statistics are updated from)."""
    x, weight, bias = c.args
    xv, eps = g.v(x, c), c.params["eps"]
    dims = (0,) + tuple(range(2, x.ndim))
    channel = g.ints([1, -1] + [1] * (x.ndim - 2))
    mean = _reduce_node(g, "ReduceMean", xv, dims, True)
    d = g.node("Sub", [xv, mean])
    var = _reduce_node(g, "ReduceMean", g.node("Mul", [d, d]), dims, True)
    y = g.node("Div", [d, g.node("Sqrt", [g.node("Add", [var, g.scalar(eps, c)])])])
    if weight is not None:
        y = g.node("Mul", [y, g.node("Reshape", [g.v(weight, c), channel])])
    if bias is not None:
        y = g.node("Add", [y, g.node("Reshape", [g.v(bias, c), channel])])
    flat = g.ints([-1])
    return [y, g.node("Reshape", [mean, flat]), g.node("Reshape", [var, flat])]


def _embedding(g, c):
    weight, idx = c.args[:2]
    return g.node("Gather", [g.v(weight, c), g.v(idx, c)], axis=0)


# corelib's gate order -> ONNX's: LSTM i f g o -> i o f c; GRU r z n -> z r h
_RNN = {"LSTM": ("LSTM", (0, 3, 1, 2)), "GRU": ("GRU", (1, 0, 2)),
        "RNN_TANH": ("RNN", (0,)), "RNN_RELU": ("RNN", (0,))}


def _rnn_sequence(g, c):
    """One layer-direction over input projections x (T, N, G*H): ONNX's LSTM/GRU/RNN. When x
    is a linear of constant weights (as nn.LSTM/GRU/RNN make it), that linear is folded in as
    the operator's input weights; otherwise the input weight is an identity reordering gates."""
    x, h0, c0, w_hh, b_hh = c.args
    mode = c.params["mode"]
    op_type, order = _RNN[mode]
    hid = h0.shape[-1]
    rows = np.concatenate([np.arange(k * hid, (k + 1) * hid) for k in order])
    gh = len(order) * hid
    proj = g.producer(x)
    if proj is not None and proj.op == "linear" and proj.args[0].ndim == 3 and \
            all(a is None or g.is_const(a) for a in proj.args[1:]):
        x_in, w_ih, b_ih = proj.args
        inputs = [g.v(x_in, c), g.const(w_ih[rows][None])]
        b_in = np.zeros(gh, x.dtype) if b_ih is None else b_ih[rows]
    else:
        inputs = [g.v(x, c), g.const(np.eye(gh, dtype=x.dtype)[rows][None])]
        b_in = np.zeros(gh, x.dtype)
    inputs.append(g.node("Unsqueeze", [g.node("Gather", [g.v(w_hh, c), g.const(rows)], axis=0),
                                       g.ints([0])]))
    b_rec = g.const(np.zeros(gh, x.dtype)) if b_hh is None else \
        g.node("Gather", [g.v(b_hh, c), g.const(rows)], axis=0)
    inputs.append(g.node("Unsqueeze", [g.node("Concat", [g.const(b_in), b_rec], axis=0),
                                       g.ints([0])]))
    inputs.append("")   # sequence_lens
    for state in ((h0, c0) if mode == "LSTM" else (h0,)):
        inputs.append("" if g.is_zero(state) else
                      g.node("Unsqueeze", [g.v(state, c), g.ints([0])]))
    attrs = dict(hidden_size=hid, direction="reverse" if c.params["reverse"] else "forward")
    if mode == "GRU":
        attrs["linear_before_reset"] = 1
    if op_type == "RNN":
        attrs["activations"] = ["Relu" if mode == "RNN_RELU" else "Tanh"]
    outs = g.node(op_type, inputs, outputs=3 if mode == "LSTM" else 2, **attrs)
    y = g.node("Squeeze", [outs[0], g.ints([1])])
    states = [g.node("Squeeze", [s, g.ints([0])]) for s in outs[1:]]
    return [y] + states + [None] * (5 - 1 - len(states))


def _sdpa(g, c):
    """softmax(q k^T scale + mask) v as MatMul/Softmax (outputs: values, probabilities)."""
    q, k, v, mask = c.args
    perm = list(range(k.ndim))
    perm[-2:] = perm[-1], perm[-2]
    s = g.node("MatMul", [g.v(q, c), g.node("Transpose", [g.v(k, c)], perm=perm)])
    s = g.node("Mul", [s, g.scalar(c.params["scale"], c)])
    if mask is not None:
        s = g.node("Where", [g.v(mask, c), s, g.scalar(-np.inf, c)]) if mask.dtype == bool \
            else g.node("Add", [s, g.v(mask, c)])
    if c.params.get("is_causal"):
        lq, lk = g.sym_shape(q)[-2], g.sym_shape(k)[-2]
        ones = g.node("ConstantOfShape", [g.ints([lq, lk])], value=np.array([1], np.int64))
        keep = g.node("Cast", [g.node("Trilu", [ones], upper=0)], to=g.elem_type(np.bool_))
        s = g.node("Where", [keep, s, g.scalar(-np.inf, c)])
    p = g.node("Softmax", [s], axis=-1)
    return [g.node("MatMul", [p, g.v(v, c)]), p]


def _identity(g, c):
    return g.node("Identity", [g.v(c.args[0], c)])


# -- more elementwise, reductions and indexing -----------------------------------------------------
def _plus_one(op_type, then=None):
    """log1p (Add then Log) and expm1 (Exp then Sub)."""
    def emit(g, c):
        x = g.v(c.args[0], c)
        if op_type == "Log":
            return g.node("Log", [g.node("Add", [x, g.scalar(1, c)])])
        return g.node("Sub", [g.node("Exp", [x]), g.scalar(1, c)])
    return emit


def _log_base(base):
    return lambda g, c: g.node("Div", [g.node("Log", [g.v(c.args[0], c)]),
                                       g.scalar(math.log(base), c)])


def _exp2(g, c):
    return g.node("Pow", [g.scalar(2.0, c), g.v(c.args[0], c)])


def _trunc(g, c):
    x = g.v(c.args[0], c)
    return g.node("Where", [g.node("Less", [x, g.scalar(0, c)]), g.node("Ceil", [x]),
                            g.node("Floor", [x])])


def _floored(remainder):
    """floor_divide / remainder (Python's sign rules) of floating operands."""
    def emit(g, c):
        if c.result.dtype.kind != "f":
            if remainder:
                return g.node("Mod", [g.v(c.args[0], c), g.v(c.args[1], c)], fmod=0)
            g.unsupported(c, "integer floor division is not mapped")
        a, b = g.v(c.args[0], c), g.v(c.args[1], c)
        q = g.node("Floor", [g.node("Div", [a, b])])
        return g.node("Sub", [a, g.node("Mul", [q, b])]) if remainder else q
    return emit


def _logaddexp(g, c):
    a, b = g.v(c.args[0], c), g.v(c.args[1], c)
    m = g.node("Max", [a, b])
    total = g.node("Add", [g.node("Exp", [g.node("Sub", [a, m])]),
                           g.node("Exp", [g.node("Sub", [b, m])])])
    return g.node("Add", [m, g.node("Log", [total])])


def _hypot(g, c):
    a, b = g.v(c.args[0], c), g.v(c.args[1], c)
    return g.node("Sqrt", [g.node("Add", [g.node("Mul", [a, a]), g.node("Mul", [b, b])])])


def _isinf(pos, neg):
    return lambda g, c: g.node("IsInf", [g.v(c.args[0], c)], detect_positive=pos,
                               detect_negative=neg)


def _isfinite(g, c):
    x = g.v(c.args[0], c)
    return g.node("Not", [g.node("Or", [g.node("IsNaN", [x]), g.node("IsInf", [x])])])


def _nan_to_num(g, c):
    x = c.args[0]
    info = np.finfo(x.dtype)
    out = g.v(x, c)
    nan, pos, neg = (c.params.get(k) for k in ("nan", "posinf", "neginf"))
    out = g.node("Where", [g.node("IsNaN", [out]), g.scalar(0.0 if nan is None else nan, c),
                           out])
    out = g.node("Where", [g.node("IsInf", [out], detect_negative=0),
                           g.scalar(info.max if pos is None else pos, c), out])
    return g.node("Where", [g.node("IsInf", [out], detect_positive=0),
                            g.scalar(info.min if neg is None else neg, c), out])


def _bitwise(op_type):
    def emit(g, c):
        if c.result.dtype == np.bool_:
            return g.node({"BitwiseAnd": "And", "BitwiseOr": "Or", "BitwiseXor": "Xor"}[op_type],
                          [g.v(c.args[0], c), g.v(c.args[1], c)])
        if g.opset < 18:
            g.unsupported(c, "bitwise ops of integers need opset 18")
        return g.node(op_type, [g.v(c.args[0], c), g.v(c.args[1], c)])
    return emit


def _any_all(op_type):
    def emit(g, c):
        x = g.node("Cast", [g.v(c.args[0], c)], to=g.elem_type(np.bool_))
        x = g.node("Cast", [x], to=g.elem_type(np.int32))
        out = _reduce_node(g, op_type, x, c.params["dim"], c.params["keepdim"])
        return g.node("Cast", [out], to=g.elem_type(np.bool_))
    return emit


def _count_nonzero(g, c):
    x = c.args[0]
    nonzero = g.node("Not", [g.node("Equal", [g.v(x, c), g.const(np.zeros((), x.dtype))])])
    out = _reduce_node(g, "ReduceSum", g.node("Cast", [nonzero], to=g.elem_type(np.int64)),
                       c.params["dim"], False)
    return out


def _vector_norm(g, c):
    x, p, dims, keep = g.v(c.args[0], c), c.params["ord"], c.params["dim"], c.params["keepdim"]
    if p == 2:
        return _reduce_node(g, "ReduceL2", x, dims, keep)
    if p == 1:
        return _reduce_node(g, "ReduceL1", x, dims, keep)
    if p == math.inf:
        return _reduce_node(g, "ReduceMax", g.node("Abs", [x]), dims, keep)
    if p == -math.inf:
        return _reduce_node(g, "ReduceMin", g.node("Abs", [x]), dims, keep)
    if p == 0:
        nonzero = g.node("Cast", [g.node("Not", [g.node("Equal", [x, g.scalar(0, c)])])],
                         to=g.elem_type(c.result.dtype))
        return _reduce_node(g, "ReduceSum", nonzero, dims, keep)
    powered = g.node("Pow", [g.node("Abs", [x]), g.scalar(p, c)])
    return g.node("Pow", [_reduce_node(g, "ReduceSum", powered, dims, keep),
                          g.scalar(1 / p, c)])


def _gather_elements(g, c):
    x, idx = c.args[:2]
    return g.node("GatherElements", [g.v(x, c), g.v(idx, c)], axis=c.params["dim"])


def _topk_indices(g, c):
    x, p = c.args[0], c.params
    _, indices = g.node("TopK", [g.v(x, c), g.ints([p["k"]])], outputs=2, axis=p["dim"],
                        largest=int(p.get("largest", True)), sorted=1)
    return indices


def _one_hot(g, c):
    idx = c.args[0]
    return g.node("OneHot", [g.v(idx, c), g.ints([c.params["num_classes"]]),
                             g.const(np.array([0, 1], c.result.dtype))], axis=-1)


def _index(g, c):
    """x[..., idx, ...] with one integer array among full slices: Gather."""
    x, key = c.args[0], c.params["key"]
    key = key if isinstance(key, tuple) else (key,)
    arrays = [i for i, k in enumerate(key) if isinstance(k, np.ndarray)]
    plain = all(isinstance(k, np.ndarray) or k == slice(None) for k in key)
    if len(arrays) != 1 or not plain or key[arrays[0]].dtype == np.bool_:
        g.unsupported(c, "advanced indexing other than by one integer array is not mapped")
    idx = key[arrays[0]]
    idx_name = g.v(idx, c)
    if idx.dtype != np.int64:
        idx_name = g.node("Cast", [idx_name], to=g.elem_type(np.int64))
    return g.node("Gather", [g.v(x, c), idx_name], axis=arrays[0])


def _write(g, c, x, key, value, accumulate=False):
    """x with x[key] = value (or += value): Where for a boolean mask, ScatterND for one
    integer array on the first axis, ScatterElements at fixed positions for basic keys."""
    key = key if isinstance(key, tuple) else (key,)
    xv, vv = g.v(x, c), g.v(value, c)
    arrays = [k for k in key if isinstance(k, np.ndarray)]
    if len(key) == 1 and arrays and arrays[0].dtype == np.bool_ and arrays[0].shape == x.shape:
        mask = g.v(key[0], c)
        return g.node("Where", [mask, g.node("Add", [xv, vv]) if accumulate else vv, xv])
    if len(key) == 1 and arrays and arrays[0].dtype != np.bool_:
        idx = g.v(key[0], c)
        if arrays[0].dtype != np.int64:
            idx = g.node("Cast", [idx], to=g.elem_type(np.int64))
        n = g.const(np.array(x.shape[0], np.int64))   # negative indices count from the end
        idx = g.node("Where", [g.node("Less", [idx, g.const(np.array(0, np.int64))]),
                               g.node("Add", [idx, n]), idx])
        region = g.ints(list(arrays[0].shape) + list(g.sym_shape(x)[1:]))
        updates = g.node("Expand", [vv, region])
        attrs = {"reduction": "add"} if accumulate else {}
        return g.node("ScatterND", [xv, g.node("Unsqueeze", [idx, g.ints([-1])]), updates],
                      **attrs)
    if arrays or any(g.is_sym(d) for d in g.sym_shape(x)):
        g.unsupported(c, "writes by this key (or into a tensor with dynamic axes) are not "
                         "mapped")
    positions = np.arange(x.size, dtype=np.int64).reshape(x.shape)[key]
    updates = g.node("Reshape", [g.node("Expand", [vv, g.ints(positions.shape)]),
                                 g.ints([-1])])
    flat = g.node("ScatterElements", [g.node("Reshape", [xv, g.ints([-1])]),
                                      g.const(positions.ravel()), updates], axis=0,
                  **({"reduction": "add"} if accumulate else {}))
    return g.node("Reshape", [flat, g.ints(list(x.shape))])


def _copy(g, c):
    """dst.copy_(src): src cast to dst's dtype and broadcast to its shape."""
    dst, source = c.args
    v = g.v(source, c)
    if np.asarray(source).dtype != dst.dtype:
        v = g.node("Cast", [v], to=g.elem_type(dst.dtype))
    return g.node("Expand", [v, g.ints(g.sym_shape(dst))])


def _setitem(g, c):
    x, key, value = c.args
    return _write(g, c, x, key, value)


def _index_put(g, c):
    x, value = c.args
    return _write(g, c, x, c.params["key"], value, c.params.get("accumulate", False))


def _repeat(g, c):
    x, reps = c.args[0], list(c.params["repeats"])
    v = g.v(x, c)
    if len(reps) > x.ndim:
        v = g.node("Unsqueeze", [v, g.ints(range(len(reps) - x.ndim))])
    return g.node("Tile", [v, g.ints(reps)])


def _flip(g, c):
    dims = list(c.params["dims"])
    n = len(dims)
    return g.node("Slice", [g.v(c.args[0], c), g.ints([-1] * n), g.ints([_INT64_MIN] * n),
                            g.ints(dims), g.ints([-1] * n)])


def _conv_transpose(g, c):
    """convolution_backward_input(x, w): the transposed convolution (ConvTranspose)."""
    x, w = c.args
    p = c.params
    spatial = x.shape[2:]
    lo = [a for a, _ in p["padding"]]
    hi = [b for _, b in p["padding"]]
    out = p["input_shape"][2:]
    extra = [o - ((i - 1) * s - (a + b) + d * (k - 1) + 1) for o, i, s, a, b, d, k in
             zip(out, spatial, p["stride"], lo, hi, p["dilation"], w.shape[2:])]
    return g.node("ConvTranspose", [g.v(x, c), g.v(w, c)], kernel_shape=list(w.shape[2:]),
                  strides=list(p["stride"]), pads=lo + hi, dilations=list(p["dilation"]),
                  group=p["groups"], output_padding=extra)


def _erfc(g, c):
    return g.node("Sub", [g.scalar(1, c), unary("Erf")(g, c)])


def _frac(g, c):
    return g.node("Sub", [g.v(c.args[0], c), _trunc(g, c)])


def _div_trunc(g, c):
    if c.result.dtype.kind != "f":   # ONNX's integer Div truncates
        return binary("Div")(g, c)
    q = g.node("Div", [g.v(c.args[0], c), g.v(c.args[1], c)])
    return g.node("Where", [g.node("Less", [q, g.scalar(0, c)]), g.node("Ceil", [q]),
                            g.node("Floor", [q])])


def _lerp(g, c):
    a, b, w = (g.v(x, c) for x in c.args)
    return g.node("Add", [a, g.node("Mul", [w, g.node("Sub", [b, a])])])


def _roll(g, c):
    x = c.args[0]
    out = g.v(x, c)
    for shift, dim in zip(c.params["shifts"], c.params["dims"]):
        n = x.shape[dim]
        s = shift % n if n else 0
        if s:   # the last s entries first
            tail = g.node("Slice", [out, g.ints([n - s]), g.ints([n]), g.ints([dim])])
            head = g.node("Slice", [out, g.ints([0]), g.ints([n - s]), g.ints([dim])])
            out = g.node("Concat", [tail, head], axis=dim)
    return out if out != g.v(x, c) else g.node("Identity", [out])


# ---------------------------------------------------------------------------------------------
# the table
OPS = {
    # elementwise
    "add": binary("Add"), "sub": binary("Sub"), "mul": binary("Mul"), "div": binary("Div"),
    "pow": _pow, "maximum": binary("Max"), "minimum": binary("Min"),
    "fmod": lambda g, c: g.node("Mod", [g.v(c.args[0], c), g.v(c.args[1], c)], fmod=1),
    "eq": binary("Equal"), "ne": lambda g, c: g.node("Not", [binary("Equal")(g, c)]),
    "lt": binary("Less"), "le": binary("LessOrEqual"), "gt": binary("Greater"),
    "ge": binary("GreaterOrEqual"), "logical_and": binary("And"), "logical_or": binary("Or"),
    "logical_xor": binary("Xor"), "logical_not": unary("Not"),
    "neg": unary("Neg"), "abs": unary("Abs"), "exp": unary("Exp"), "log": unary("Log"),
    "sqrt": unary("Sqrt"), "rsqrt": lambda g, c: g.node("Reciprocal", [unary("Sqrt")(g, c)]),
    "reciprocal": unary("Reciprocal"), "square": _square, "sign": unary("Sign"),
    "floor": unary("Floor"), "ceil": unary("Ceil"), "round": unary("Round"),
    "sin": unary("Sin"), "cos": unary("Cos"), "tan": unary("Tan"), "asin": unary("Asin"),
    "acos": unary("Acos"), "atan": unary("Atan"), "sinh": unary("Sinh"), "cosh": unary("Cosh"),
    "asinh": unary("Asinh"), "acosh": unary("Acosh"), "atanh": unary("Atanh"), "erfc": _erfc,
    "frac": _frac, "div_trunc": _div_trunc, "lerp": _lerp,
    "tanh": unary("Tanh"), "erf": unary("Erf"), "isnan": unary("IsNaN"),
    "isinf": unary("IsInf"), "sigmoid": unary("Sigmoid"), "relu": unary("Relu"),
    "gelu": _gelu, "silu": _silu, "mish": _mish, "softplus": _softplus,
    "elu": lambda g, c: g.node("Elu", [g.v(c.args[0], c)], alpha=c.params["alpha"]),
    "leaky_relu": lambda g, c: g.node("LeakyRelu", [g.v(c.args[0], c)],
                                      alpha=c.params["negative_slope"]),
    "hardtanh": _clip("min_val", "max_val"), "clamp": _clip(None, None),
    "hardsigmoid": unary("HardSigmoid", alpha=1 / 6, beta=0.5),
    "hardswish": unary("HardSwish"), "where": _where, "astype": _cast,
    "log1p": _plus_one("Log"), "expm1": _plus_one("Exp"), "log2": _log_base(2),
    "log10": _log_base(10), "exp2": _exp2, "trunc": _trunc, "remainder": _floored(True),
    "floor_divide": _floored(False), "logaddexp": _logaddexp, "hypot": _hypot,
    "isfinite": _isfinite, "isposinf": _isinf(1, 0), "isneginf": _isinf(0, 1),
    "nan_to_num": _nan_to_num, "bitwise_and": _bitwise("BitwiseAnd"),
    "bitwise_or": _bitwise("BitwiseOr"), "bitwise_xor": _bitwise("BitwiseXor"),
    "bitwise_not": lambda g, c: g.node("Not" if c.result.dtype == np.bool_ else "BitwiseNot",
                                       [g.v(c.args[0], c)]),
    # reductions
    "sum": reduce("ReduceSum"), "mean": reduce("ReduceMean"), "amax": reduce("ReduceMax"),
    "amin": reduce("ReduceMin"), "prod": reduce("ReduceProd"), "var": _moments(False),
    "std": _moments(True), "argmax": _arg("ArgMax"), "argmin": _arg("ArgMin"),
    "cumsum": _cumsum, "logsumexp": reduce("ReduceLogSumExp"), "any": _any_all("ReduceMax"),
    "all": _any_all("ReduceMin"), "count_nonzero": _count_nonzero,
    "vector_norm": _vector_norm, "topk_indices": _topk_indices,
    # shapes, indexing, creation
    "reshape": _reshape, "view": _reshape, "permute": _permute, "expand": _expand,
    "cat": _cat, "getitem": _getitem, "index_select": _index_select,
    "constant_pad": _constant_pad, "tril": _tri(0), "triu": _tri(1), "full": _full,
    "arange": _arange, "contiguous": _identity, "clone": _identity, "index": _index,
    "gather": _gather_elements, "gather_along": _gather_elements, "repeat": _repeat,
    "flip": _flip, "roll": _roll, "one_hot": _one_hot, "setitem": _setitem,
    "index_put": _index_put, "copy_": _copy,
    # nn
    "linear": _linear, "matmul": binary("MatMul"), "convolution": _conv,
    "convolution_backward_input": _conv_transpose,
    "max_pool_indices": _max_pool_indices,
    "adaptive_max_pool_indices": _adaptive_max_pool_indices, "pool_gather": _pool_gather,
    "avg_pool": _avg_pool, "softmax": _softmax("Softmax"),
    "log_softmax": _softmax("LogSoftmax"), "normalize": _normalize, "layer_norm": _layer_norm,
    "batch_norm": _batch_norm,
    "embedding": _embedding,
    "rnn_sequence": _rnn_sequence, "scaled_dot_product_attention": _sdpa,
}
