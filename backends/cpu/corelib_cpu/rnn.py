"""CPU kernels: whole-sequence recurrences (``rnn_sequence`` and its backward).

Forward runs the recurrence of one layer-direction in one call: per time step one
(N, H) x (H, G*H) matmul written straight into a preallocated (T, N, ...) buffer and a few
in-place NumPy passes, no temporaries. The buffer of gate activations (i, f, g, o for LSTM;
r, z, n and the hidden part of the n gate for GRU) and LSTM's cell states are the workspace
backward reads. Backward (backpropagation through time) first computes every factor that
does not depend on the incoming gradient for all steps at once (large, vectorised passes),
leaving about six small passes and one matmul per step; the weight gradient is one GEMM over
all steps (plus one for the initial state).
"""
from __future__ import annotations

import numpy as np


def _sigmoid_(a):
    """1 / (1 + exp(-a)) in place; exp overflowing to inf gives the exact limit 0."""
    np.negative(a, out=a)
    np.exp(a, out=a)
    a += 1
    np.reciprocal(a, out=a)
    return a


def _order(steps, reverse):
    return range(steps - 1, -1, -1) if reverse else range(steps)


def _gate_view(a, gates):
    """(N, G*H) rows as a (G, N, H) view (no copy)."""
    n = a.shape[0]
    return a.reshape(n, gates, -1).transpose(1, 0, 2)


def rnn_sequence(x, h0, c0, w_hh, b_hh, mode, reverse):
    """x (T, N, G*H) input projections; returns (y, h_n, c_n, acts, c_all) (see
    corelib/_ops/rnn.py; None where the mode has no such array).

    Workspace: LSTM acts (T, N, 4H) hold the gate activations i, f, g, o and c_all
    (2, T, N, H) every c_t and tanh(c_t); GRU acts (T, 4, N, H), gate-major, hold r, z, n
    and W_hn h + b_hn."""
    steps, n, gates = x.shape
    hid = h0.shape[-1]
    dt = x.dtype
    lstm, gru = mode == "LSTM", mode == "GRU"
    y = np.empty((steps, n, hid), dt)
    acts = np.empty((steps, n, 4 * hid), dt) if lstm else \
        np.empty((steps, 4, n, hid), dt) if gru else None
    c_all = np.empty((2, steps, n, hid), dt) if lstm else None
    wt = w_hh.T
    h, c = h0, c0
    i_, f_, g_, o_ = (slice(k * hid, (k + 1) * hid) for k in range(4))
    if lstm:
        gt = np.empty((n, hid), dt)
    if gru:
        s = np.empty((n, gates), dt)                   # h @ w_hh.T + b_hh of one step
        sg = _gate_view(s, 3)
    with np.errstate(over="ignore"):
        for t in _order(steps, reverse):
            hn = y[t]
            if lstm:
                a = acts[t]
                np.matmul(h, wt, out=a)
                if b_hh is not None:
                    a += b_hh
                a += x[t]
                np.tanh(a[:, g_], out=gt)
                _sigmoid_(a)                           # one pass over the row (g rewritten)
                np.positive(gt, out=a[:, g_])
                cn, tc = c_all[0, t], c_all[1, t]
                np.multiply(a[:, f_], c, out=cn)
                np.multiply(a[:, i_], gt, out=tc)
                cn += tc
                np.tanh(cn, out=tc)
                np.multiply(tc, a[:, o_], out=hn)
                c = cn
            elif gru:
                np.matmul(h, wt, out=s)
                if b_hh is not None:
                    s += b_hh
                a, xg = acts[t], _gate_view(x[t], 3)
                np.add(sg[:2], xg[:2], out=a[:2])      # r, z
                np.positive(sg[2], out=a[3])           # W_hn h + b_hn
                _sigmoid_(a[:2])
                np.multiply(a[0], a[3], out=a[2])
                a[2] += xg[2]
                np.tanh(a[2], out=a[2])                # n
                np.subtract(h, a[2], out=hn)
                hn *= a[1]
                hn += a[2]
            else:
                np.matmul(h, wt, out=hn)
                if b_hh is not None:
                    hn += b_hh
                hn += x[t]
                if mode == "RNN_TANH":
                    np.tanh(hn, out=hn)
                else:
                    np.maximum(hn, 0, out=hn)
            h = hn
    return (y, np.array(h, copy=True), np.array(c, copy=True) if lstm else None, acts, c_all)


def _times_prev(out, buf, first, reverse):
    """out *= each step's predecessor in forward order: ``first`` for the first step, ``buf``
    of the previous step otherwise."""
    if reverse:
        out[:-1] *= buf[1:]
        out[-1] *= first
    else:
        out[1:] *= buf[:-1]
        out[0] *= first


def rnn_sequence_backward(dy, dh_n, dc_n, h0, c0, w_hh, b_hh, y, acts, c_all, mode, reverse):
    """Backpropagation through time: (d x_proj, d h0, d c0, d w_hh, d b_hh)."""
    steps, n, hid = y.shape
    dt = y.dtype
    lstm, gru = mode == "LSTM", mode == "GRU"
    gates = w_hh.shape[0]
    dx = np.empty((steps, n, gates), dt)
    dhh = np.empty((steps, n, gates), dt) if gru else dx   # gradient of h @ w_hh.T + b_hh
    dh = np.array(dh_n, dtype=dt, copy=True)
    dc = np.array(dc_n, dtype=dt, copy=True) if lstm else None
    order = list(_order(steps, reverse))
    if steps == 0:
        return (dx, dh, dc, np.zeros_like(w_hh),
                None if b_hh is None else np.zeros_like(b_hh))
    tmp = np.empty((n, hid), dt)
    i_, f_, g_, o_ = (slice(k * hid, (k + 1) * hid) for k in range(4))
    with np.errstate(over="ignore", invalid="ignore"):
        if lstm:
            # factors for all steps at once: d[i, f, g, o] = [dc, dc, dc, dh] * k and
            # dc += dh * p
            c, tc = c_all
            i, f, g, o = (acts[..., s] for s in (i_, f_, g_, o_))
            k = np.subtract(1, acts)
            k *= acts                                   # sigmoid'(i, f, o) ...
            kg = k[..., g_]
            np.multiply(g, g, out=kg)
            np.subtract(1, kg, out=kg)                  # ... tanh'(g)
            kg *= i
            k[..., i_] *= g
            _times_prev(k[..., f_], c, c0, reverse)
            k[..., o_] *= tc
            p = np.multiply(tc, tc)
            np.subtract(1, p, out=p)
            p *= o
            for t in reversed(order):
                dh += dy[t]
                d = dx[t]
                np.multiply(dh, k[t, :, o_], out=d[:, o_])
                np.multiply(dh, p[t], out=tmp)
                dc += tmp
                np.multiply(k[t, :, :3 * hid].reshape(n, 3, hid), dc[:, None, :],
                            out=d.reshape(n, 4, hid)[:, :3])
                dc *= f[t]
                np.matmul(d, w_hh, out=dh)
        elif gru:
            r, z, new, hn = acts[:, 0], acts[:, 1], acts[:, 2], acts[:, 3]
            a = np.multiply(new, new)                   # d n_pre = dh (1 - z)(1 - n^2)
            np.subtract(1, a, out=a)
            a *= np.subtract(1, z)
            rr = np.subtract(1, r)                      # d r_pre = d n_pre * hn r (1 - r)
            rr *= r
            rr *= hn
            zz = np.negative(new)                       # d z_pre = dh (h_prev - n) z (1 - z)
            if reverse:
                zz[:-1] += y[1:]
                zz[-1] += h0
            else:
                zz[1:] += y[:-1]
                zz[0] += h0
            zz *= z
            zz *= np.subtract(1, z)
            for t in reversed(order):
                dh += dy[t]
                dv, ev = _gate_view(dx[t], 3), _gate_view(dhh[t], 3)
                np.multiply(dh, a[t], out=dv[2])
                np.multiply(dv[2], rr[t], out=dv[0])
                np.multiply(dh, zz[t], out=dv[1])
                np.positive(dx[t, :, :2 * hid], out=dhh[t, :, :2 * hid])
                np.multiply(dv[2], r[t], out=ev[2])
                np.multiply(dh, z[t], out=tmp)
                np.matmul(dhh[t], w_hh, out=dh)
                dh += tmp
        else:
            if mode == "RNN_TANH":
                deriv = np.multiply(y, y)
                np.subtract(1, deriv, out=deriv)
            else:
                deriv = (y > 0).astype(dt)
            for t in reversed(order):
                dh += dy[t]
                np.multiply(dh, deriv[t], out=dx[t])
                np.matmul(dx[t], w_hh, out=dh)
    # weight gradient: sum over steps of dhh_t.T @ h_prev_t, as one GEMM over the steps whose
    # predecessor is in y, plus one for h0
    rest = slice(0, steps - 1) if reverse else slice(1, steps)
    prev = slice(1, steps) if reverse else slice(0, steps - 1)
    dw = np.matmul(dhh[order[0]].T, h0)
    if steps > 1:
        dw += np.matmul(dhh[rest].reshape(-1, gates).T, y[prev].reshape(-1, hid))
    db = None if b_hh is None else dhh.sum((0, 1))
    return dx, dh, dc, dw, db


KERNELS = {
    "rnn_sequence": rnn_sequence,
    "rnn_sequence_backward": rnn_sequence_backward,
}
