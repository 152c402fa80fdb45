"""Whole-sequence recurrences: one primitive op pair for a layer-direction of RNN/LSTM/GRU.

``rnn_sequence(x_proj, h0, c0, w_hh, b_hh, mode, reverse)`` runs the recurrence of one layer
in one direction over the precomputed input projections ``x_proj`` (T, N, G*H) (G = 4 for
LSTM, gates i, f, g, o; 3 for GRU, gates r, z, n; 1 for RNN_TANH / RNN_RELU):

    hh_t = h_{t-1} @ w_hh.T + b_hh
    RNN:  h_t = act(x_t + hh_t)
    LSTM: i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of (x_t + hh_t); c_t = f c_{t-1} + i g;
          h_t = o tanh(c_t)
    GRU:  r, z = sigmoid(x_t[r, z] + hh_t[r, z]); n = tanh(x_t[n] + r hh_t[n]);
          h_t = n + z (h_{t-1} - n)

and returns (y, h_n) -- (y, h_n, c_n) for LSTM -- with y (T, N, H) the hidden state of every
step (``reverse`` runs t = T-1 .. 0; y stays in time order). The input projection of all steps
is one matmul done by the caller, so the kernel only has the (N, H) x (H, G*H) product and a
few elementwise passes per step; the weight gradient of backward is one matmul over all
steps. Backends keep the gate activations (and LSTM's cell states) as a workspace for the
backward kernel, which runs backpropagation through time in one call.

Derivative rule: the ``rnn_sequence_backward`` kernel; with ``create_graph`` a composite of
frontend ops (the same recurrence unrolled, then differentiated step by step) so higher-order
gradients work.
"""
from __future__ import annotations

from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import STATE
from . import rules as R
from .core import Op, device_of

__all__ = []

GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}
_make = Tensor._make


def _vjp(grads, x, h0, c0, w_hh, b_hh, y, acts, c_all, mode, reverse):
    """Gradients (x_proj, h0, c0, w_hh, b_hh) of rnn_sequence."""
    if STATE.grad_enabled:
        return _composite_vjp(grads, x, h0, c0, w_hh, b_hh, mode, reverse)
    dev = x.device
    lstm = mode == "LSTM"
    dy, dh_n = grads[0], grads[1]
    dc_n = grads[2] if lstm else None

    def raw(t):
        return None if t is None else t._data
    datas = _rnn_sequence_backward.kernel(dev.type)(
        raw(dy), raw(dh_n), raw(dc_n), raw(h0), raw(c0), raw(w_hh), raw(b_hh), raw(y),
        raw(acts), raw(c_all), mode=mode, reverse=reverse)
    dx, dh0, dc0, dw, db = (None if d is None else _make(d, dev, x.dtype) for d in datas)
    return (dx, dh0, dc0 if c0 is not None else None, dw, db if b_hh is not None else None)


_rnn_sequence = Op("rnn_sequence", _vjp,
                   sig=("(Array x, Array h0, Array? c0, Array w_hh, Array? b_hh, *, str mode, "
                        "bool reverse) -> (Array, Array, Array?, Any, Any)"),
                   rule=R.rnn_sequence,
                   doc=("one layer-direction of RNN/LSTM/GRU over input projections: y, h_n, c_n "
                        "and a backend-defined workspace"))
_rnn_sequence_backward = Op("rnn_sequence_backward",
                            sig=("(Array? dy, Array? dh_n, Array? dc_n, Array h0, Array? c0, "
                                 "Array w_hh, Array? b_hh, Array y, Any acts, Any c_all, *, str "
                                 "mode, bool reverse) -> (Array, Array, Array?, Array, Array?)"),
                            rule=R.rnn_sequence_backward,
                            doc=("backpropagation through time from rnn_sequence's workspace: dx, "
                                 "dh0, dc0, dw_hh, db_hh"))


class RnnSequence(Function):
    """Runs the rnn_sequence kernel (outputs plus a workspace); backward runs
    rnn_sequence_backward on the workspace."""

    @staticmethod
    def forward(ctx, params, x, h0, c0, w_hh, b_hh):
        dev = device_of((x, h0, c0, w_hh, b_hh), "rnn_sequence")
        dtype = x.dtype

        def raw(t):
            return None if t is None else t._data
        try:
            y, h_n, c_n, acts, c_all = _rnn_sequence.kernel(dev.type)(
                raw(x), raw(h0), raw(c0), raw(w_hh), raw(b_hh), **params)
        except (ValueError, TypeError, RuntimeError) as exc:
            raise type(exc)(f"rnn_sequence(): {exc}") from exc

        def wrap(d):
            return None if d is None else _make(d, dev, dtype)
        outs = (wrap(y), wrap(h_n)) + ((wrap(c_n),) if params["mode"] == "LSTM" else ())
        # the saved copy of y shares the output's version counter (in-place writes are caught)
        y_saved = wrap(y)
        y_saved._vbox = outs[0]._vbox = [0]
        ctx.params = params
        ctx.save_for_backward(x, h0, c0, w_hh, b_hh, y_saved, wrap(acts), wrap(c_all))
        return outs

    @staticmethod
    def backward(ctx, *grads):
        return (None,) + tuple(_rnn_sequence.vjp(grads, *ctx.saved_tensors, **ctx.params))


def rnn_sequence(x_proj, h0, c0, w_hh, b_hh, mode, reverse=False):
    """One layer-direction of a recurrent network (see the module docstring). ``c0`` is the
    LSTM's initial cell state (None otherwise); ``b_hh`` may be None."""
    if mode not in GATES:
        raise ValueError(f"rnn_sequence(): unknown mode {mode!r}")
    lstm = mode == "LSTM"
    if x_proj.ndim != 3 or h0.ndim != 2 or w_hh.ndim != 2:
        raise RuntimeError("rnn_sequence(): expected x_proj (T, N, G*H), h0 (N, H) and "
                           "w_hh (G*H, H)")
    n, hidden = h0.shape
    gh = GATES[mode] * hidden
    if tuple(x_proj.shape[1:]) != (n, gh) or tuple(w_hh.shape) != (gh, hidden) or \
            (b_hh is not None and tuple(b_hh.shape) != (gh,)) or \
            (lstm and (c0 is None or tuple(c0.shape) != (n, hidden))):
        raise RuntimeError(f"rnn_sequence(): shapes do not match for mode {mode}: x_proj "
                           f"{list(x_proj.shape)}, h0 {list(h0.shape)}, w_hh "
                           f"{list(w_hh.shape)}")
    if not lstm:
        c0 = None
    for t in (h0, c0, w_hh, b_hh):
        if t is not None and t.dtype is not x_proj.dtype:
            raise RuntimeError(f"rnn_sequence(): expected all tensors to have dtype "
                               f"{x_proj.dtype}, got {t.dtype}")
    if not x_proj.dtype.is_floating_point:
        raise RuntimeError("rnn_sequence(): expected floating-point tensors")
    return RnnSequence.apply({"mode": mode, "reverse": bool(reverse)}, x_proj, h0, c0, w_hh,
                             b_hh)


# ---------------------------------------------------------------------------------------------
# the derivative as frontend ops (differentiable: used when a graph of the gradient is built)
def _composite_vjp(grads, x, h0, c0, w_hh, b_hh, mode, reverse):
    from .elementwise import relu, sigmoid, tanh, where
    from .linalg import matmul
    from .nn import linear_op
    from .reduction import sum as _sum
    from .shape import cat, reshape, stack
    from .creation import zeros_like
    lstm, gru = mode == "LSTM", mode == "GRU"
    steps = x.shape[0]
    order = list(range(steps - 1, -1, -1)) if reverse else list(range(steps))
    rows = x.unbind(0)
    h, c, saved = h0, c0, {}
    for t in order:   # the forward pass again, recorded
        hh = linear_op(h, w_hh, b_hh)
        if lstm:
            i, f, g, o = (rows[t] + hh).chunk(4, -1)
            i, f, g, o = sigmoid(i), sigmoid(f), tanh(g), sigmoid(o)
            c_new = f * c + i * g
            tc = tanh(c_new)
            saved[t] = (h, c, i, f, g, o, tc)
            h, c = o * tc, c_new
        elif gru:
            x_r, x_z, x_n = rows[t].chunk(3, -1)
            h_r, h_z, h_n = hh.chunk(3, -1)
            r, z = sigmoid(x_r + h_r), sigmoid(x_z + h_z)
            n = tanh(x_n + r * h_n)
            saved[t] = (h, r, z, n, h_n)
            h = n + z * (h - n)
        else:
            a = (tanh if mode == "RNN_TANH" else relu)(rows[t] + hh)
            saved[t] = (h, a)
            h = a
    dy, dh = grads[0], grads[1]
    dc = grads[2] if lstm else None
    dys = dy.unbind(0)
    dxs, dhhs, prevs = [None] * steps, [None] * steps, [None] * steps
    for t in reversed(order):
        dh = dh + dys[t]
        direct = None
        if lstm:
            h_prev, c_prev, i, f, g, o, tc = saved[t]
            do = dh * tc * o * (1 - o)
            dc = dc + dh * o * (1 - tc * tc)
            dgates = cat([dc * g * i * (1 - i), dc * c_prev * f * (1 - f),
                          dc * i * (1 - g * g), do], -1)
            dc = dc * f
            dxs[t] = dhhs[t] = dgates
        elif gru:
            h_prev, r, z, n, h_n = saved[t]
            dn = dh * (1 - z) * (1 - n * n)
            dr = dn * h_n * r * (1 - r)
            dz = dh * (h_prev - n) * z * (1 - z)
            direct = dh * z
            dxs[t] = cat([dr, dz, dn], -1)
            dhhs[t] = cat([dr, dz, dn * r], -1)
        else:
            h_prev, a = saved[t]
            da = dh * (1 - a * a) if mode == "RNN_TANH" else where(a > 0, dh, 0.0)
            dxs[t] = dhhs[t] = da
        prevs[t] = h_prev
        dh = matmul(dhhs[t], w_hh)
        if direct is not None:
            dh = dh + direct
    if steps == 0:
        dx, dw = zeros_like(x), zeros_like(w_hh)
        db = None if b_hh is None else zeros_like(b_hh)
    else:
        dx = stack(dxs, 0)
        dhh = dx if dhhs[0] is dxs[0] else stack(dhhs, 0)
        gh = dhh.shape[-1]
        dw = matmul(reshape(dhh, (-1, gh)).mT, reshape(stack(prevs, 0), (-1, h0.shape[-1])))
        db = None if b_hh is None else _sum(dhh, (0, 1))
    return dx, dh, dc if c0 is not None else None, dw, db

