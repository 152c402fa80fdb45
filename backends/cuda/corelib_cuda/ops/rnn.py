"""Whole-sequence recurrences: rnn_sequence and rnn_sequence_backward (the CPU backend's
kernels of the same names and signatures; see corelib/_ops/rnn.py for the math).

The host runs the time steps: per step one cuBLAS matmul (array API) and one elementwise cell
kernel (kernels/rnn.cu) that reads the step's matmul result, bias and input projections and
writes the activations workspace, the states and the output row; backward is the mirror
(cell-gradient kernel, then the dgates @ w_hh matmul). The weight gradient is one matmul over
all steps. Operands are made contiguous once per call; each step's arrays are contiguous rows
handed by pointer.
"""
from __future__ import annotations

from .. import sources
from ._util import BLOCK, CTYPE, FLOATS, empty, grid_for, i32, i64, launch, xp
from .elementwise import KERNELS as _ELEMENTWISE, contiguous_copy
from .reduction import reduce as _reduce

_add = _ELEMENTWISE["add"]

sources.register("rnn", "rnn.cu",
                 lambda: "".join(f"RNN_KERNELS({dt}, {CTYPE[dt]})\n" for dt in FLOATS))


def _dtype(arr):
    dt = arr.dtype.name
    if dt not in FLOATS:
        raise TypeError(f'"rnn_sequence" has no CUDA kernel for dtype {dt}')
    return dt


def _contiguous(arr):
    return None if arr is None else arr if arr.flags.c_contiguous else contiguous_copy(arr)


def _run(name, dt, n, args):
    if n:
        launch(sources.kernel("rnn", f"{name}_{dt}"), (grid_for(n),), (BLOCK,), args)


def _order(steps, reverse):
    return range(steps - 1, -1, -1) if reverse else range(steps)


def _copy(arr):
    return contiguous_copy(arr)


def rnn_sequence(x, h0, c0, w_hh, b_hh, mode, reverse):
    """x (T, N, G*H); returns (y, h_n, c_n, acts, c_all) (None where the mode has none)."""
    dt = _dtype(x)
    x, h0, c0, b_hh = _contiguous(x), _contiguous(h0), _contiguous(c0), _contiguous(b_hh)
    steps, n, gates = x.shape
    hid = h0.shape[-1]
    lstm, gru = mode == "LSTM", mode == "GRU"
    y = empty((steps, n, hid), dt)
    acts = empty((steps, n, 4 * hid), dt) if lstm or gru else None
    c_all = empty((2, steps, n, hid), dt) if lstm else None
    hh = empty((n, gates), dt)
    wt = w_hh.T
    h, c = h0, c0
    size = n * hid
    for t in _order(steps, reverse):
        xp().matmul(h, wt, out=hh)                     # array API: cuBLAS matmul
        if lstm:
            _run("lstm_forward", dt, size, (hh, b_hh, x[t], c, acts[t], c_all[0, t],
                                            c_all[1, t], y[t], i64(n), i64(hid)))
            c = c_all[0, t]
        elif gru:
            _run("gru_forward", dt, size, (hh, b_hh, x[t], h, acts[t], y[t], i64(n),
                                           i64(hid)))
        else:
            _run("rnn_forward", dt, size, (hh, b_hh, x[t], y[t], i64(n), i64(hid),
                                           i32(mode == "RNN_RELU")))
        h = y[t]
    return y, _copy(h), (_copy(c) if lstm else None), acts, c_all


def rnn_sequence_backward(dy, dh_n, dc_n, h0, c0, w_hh, b_hh, y, acts, c_all, mode, reverse):
    """Backpropagation through time: (d x_proj, d h0, d c0, d w_hh, d b_hh)."""
    dt = _dtype(y)
    dy, h0, c0 = _contiguous(dy), _contiguous(h0), _contiguous(c0)
    steps, n, hid = y.shape
    gates = w_hh.shape[0]
    lstm, gru = mode == "LSTM", mode == "GRU"
    dx = empty((steps, n, gates), dt)
    dhh = empty((steps, n, gates), dt) if gru else dx
    dh = _copy(dh_n)
    dc = _copy(dc_n) if lstm else None
    order = list(_order(steps, reverse))
    if steps == 0:
        dw = xp().zeros(w_hh.shape, dt)
        return dx, dh, dc, dw, None if b_hh is None else xp().zeros(b_hh.shape, dt)
    direct = empty((n, hid), dt) if gru else None
    size = n * hid
    for k in range(steps - 1, -1, -1):
        t = order[k]
        h_prev = h0 if k == 0 else y[order[k - 1]]
        if lstm:
            c_prev = c0 if k == 0 else c_all[0, order[k - 1]]
            _run("lstm_backward", dt, size, (acts[t], c_prev, c_all[1, t], dy[t], dh, dc, dx[t],
                                             i64(n), i64(hid)))
            xp().matmul(dx[t], w_hh, out=dh)           # array API: cuBLAS matmul
        elif gru:
            _run("gru_backward", dt, size, (acts[t], h_prev, dy[t], dh, dx[t], dhh[t], direct,
                                            i64(n), i64(hid)))
            xp().matmul(dhh[t], w_hh, out=dh)          # array API: cuBLAS matmul
            _add(dh, direct, out=dh)
        else:
            _run("rnn_backward", dt, size, (y[t], dy[t], dh, dx[t], i64(n), i64(hid),
                                            i32(mode == "RNN_RELU")))
            xp().matmul(dx[t], w_hh, out=dh)           # array API: cuBLAS matmul
    rest = slice(0, steps - 1) if reverse else slice(1, steps)
    prev = slice(1, steps) if reverse else slice(0, steps - 1)
    dw = xp().matmul(dhh[order[0]].T, h0)              # array API: cuBLAS matmul
    if steps > 1:
        _add(dw, xp().matmul(dhh[rest].reshape(-1, gates).T, y[prev].reshape(-1, hid)), out=dw)
    db = None if b_hh is None else _reduce("sum", dhh, (0, 1))
    return dx, dh, dc, dw, db


KERNELS = {
    "rnn_sequence": rnn_sequence,
    "rnn_sequence_backward": rnn_sequence_backward,
}
