"""Recurrent layers: RNN, LSTM, GRU and their cells (PyTorch parameter names and layout)."""
from __future__ import annotations

import math
import numbers
import warnings

import corelib

from ..._ops.rnn import rnn_sequence
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module
from ..utils.rnn import PackedSequence, _packed_forward

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


# -- one time step of each cell type, on pre-computed input projections -------------------
# ``x_proj`` holds the input projection of the step (and, in a layer, already both biases);
# ``b_hh`` is None there. Each step is a handful of ops on (N, gates * H) rows.
def _rnn_step(activation):
    def step(x_proj, state, w_hh, b_hh):
        return activation(x_proj + F.linear(state, w_hh, b_hh))
    return step


def _lstm_step(x_proj, state, w_hh, b_hh):
    h, c = state
    gates = x_proj + F.linear(h, w_hh, b_hh)
    i, f, g, o = gates.chunk(4, -1)
    c = corelib.sigmoid(f) * c + corelib.sigmoid(i) * corelib.tanh(g)
    return corelib.sigmoid(o) * corelib.tanh(c), c


def _gru_step(x_proj, h, w_hh, b_hh):
    x_r, x_z, x_n = x_proj.chunk(3, -1)
    h_r, h_z, h_n = F.linear(h, w_hh, b_hh).chunk(3, -1)
    r = corelib.sigmoid(x_r + h_r)
    z = corelib.sigmoid(x_z + h_z)
    n = corelib.tanh(x_n + r * h_n)
    return n + z * (h - n)


def _step_fn(mode):
    if mode == "LSTM":
        return _lstm_step
    if mode == "GRU":
        return _gru_step
    return _rnn_step(corelib.tanh if mode == "RNN_TANH" else corelib.relu)


def _run_direction(step, x, state, w_ih, w_hh, b_ih, b_hh, reverse, is_lstm, is_gru):
    """Run one layer in one direction over x (L, N, H_in); returns (outputs (L, N, H), state).

    The input projections of all time steps are one matmul; the per-step rows come from one
    ``unbind`` and the per-step outputs are joined by one ``stack``, so backward moves O(L)
    data (one stack of the row gradients, one cat of the outputs' gradient) rather than a
    full-size gradient per step. Both biases go into the projection when they commute with
    the step (all but GRU, whose hidden bias sits inside ``r * (W_hn h + b_hn)``)."""
    if b_ih is not None and not is_gru:
        x_proj = F.linear(x, w_ih, b_ih + b_hh)
        b_hh = None
    else:
        x_proj = F.linear(x, w_ih, b_ih)
    rows = x_proj.unbind(0)
    outputs = [None] * len(rows)
    for t in (range(len(rows) - 1, -1, -1) if reverse else range(len(rows))):
        state = step(rows[t], state, w_hh, b_hh)
        outputs[t] = state[0] if is_lstm else state
    return corelib.stack(outputs, 0), state


def _run_fused(mode, x, state, w_ih, w_hh, b_ih, b_hh, reverse):
    """One layer-direction as the rnn_sequence primitive: the input projections of all steps
    as one matmul (with both biases where they commute with the step), then the whole
    recurrence and its backward (through time) as one kernel each."""
    if b_ih is not None and mode != "GRU":
        x_proj, b_hh = F.linear(x, w_ih, b_ih + b_hh), None
    else:
        x_proj = F.linear(x, w_ih, b_ih)
    h0, c0 = state if mode == "LSTM" else (state, None)
    result = rnn_sequence(x_proj, h0, c0, w_hh, b_hh, mode, reverse)
    return result[0], (tuple(result[1:]) if mode == "LSTM" else result[1])


class RNNBase(Module):
    """Shared parameter layout and the multi-layer, bidirectional loop."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0, device=None,
                 dtype=None):
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        num_directions = 2 if bidirectional else 1
        if not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1 or \
                isinstance(dropout, bool):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"dropout option adds dropout after all but last recurrent layer, so "
                          f"non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=2)
        if not isinstance(hidden_size, int):
            raise TypeError(f"hidden_size should be of type int, got: "
                            f"{type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in _GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        gate_size = _GATES[mode] * hidden_size
        fk = {"device": device, "dtype": dtype}
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                real_hidden = proj_size if proj_size > 0 else hidden_size
                layer_input = input_size if layer == 0 else real_hidden * num_directions
                w_ih = Parameter(corelib.empty((gate_size, layer_input), **fk))
                w_hh = Parameter(corelib.empty((gate_size, real_hidden), **fk))
                layer_params = [w_ih, w_hh]
                if bias:
                    layer_params += [Parameter(corelib.empty(gate_size, **fk)),
                                     Parameter(corelib.empty(gate_size, **fk))]
                if proj_size > 0:
                    layer_params.append(Parameter(corelib.empty((proj_size, hidden_size),
                                                                **fk)))
                suffix = "_reverse" if direction == 1 else ""
                names = ["weight_ih_l{}{}", "weight_hh_l{}{}"]
                if bias:
                    names += ["bias_ih_l{}{}", "bias_hh_l{}{}"]
                if proj_size > 0:
                    names += ["weight_hr_l{}{}"]
                names = [n.format(layer, suffix) for n in names]
                for name, param in zip(names, layer_params):
                    setattr(self, name, param)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    @property
    def _flat_weights(self):
        return [getattr(self, n, None) for n in self._flat_weights_names]

    @property
    def all_weights(self):
        return [[getattr(self, w) for w in weights] for weights in self._all_weights]

    def flatten_parameters(self):
        """No-op (cuDNN weight packing does not apply)."""

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)

    # -- forward ---------------------------------------------------------------------------
    def _check_input(self, input):
        if input.dim() not in (2, 3):
            raise ValueError(f"{type(self).__name__}: Expected input to be 2D or 3D, got "
                             f"{input.dim()}D instead")
        if self.input_size != input.size(-1):
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.size(-1)}")

    def _check_hidden(self, hx, expected, name="hidden"):
        if tuple(hx.shape) != tuple(expected):
            raise RuntimeError(f"Expected {name} size {tuple(expected)}, got {list(hx.shape)}")

    def _layer_weights(self, layer, direction):
        weights = [getattr(self, n) for n in self._all_weights[
            layer * (2 if self.bidirectional else 1) + direction]]
        w_ih, w_hh = weights[0], weights[1]
        b_ih, b_hh = (weights[2], weights[3]) if self.bias else (None, None)
        w_hr = weights[-1] if self.proj_size > 0 else None
        return w_ih, w_hh, b_ih, b_hh, w_hr

    def _run(self, x, states):
        """x: (L, N, H_in); states: per (layer, direction) initial states. Returns output and
        the final states in the same order."""
        is_lstm = self.mode == "LSTM"
        step = _step_fn(self.mode)
        num_directions = 2 if self.bidirectional else 1
        finals = []
        for layer in range(self.num_layers):
            outs = []
            for direction in range(num_directions):
                w_ih, w_hh, b_ih, b_hh, w_hr = self._layer_weights(layer, direction)
                if w_hr is None:
                    output, final = _run_fused(self.mode, x, states[len(finals)], w_ih, w_hh,
                                               b_ih, b_hh, direction == 1)
                else:
                    output, final = _run_direction(_projected(step, w_hr), x,
                                                   states[len(finals)], w_ih, w_hh, b_ih,
                                                   b_hh, direction == 1, is_lstm,
                                                   self.mode == "GRU")
                outs.append(output)
                finals.append(final)
            x = outs[0] if num_directions == 1 else corelib.cat(outs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        return x, finals

    def _forward_common(self, input, hx):
        self._check_input(input)
        batched = input.dim() == 3
        if not batched:
            input = input.unsqueeze(1)
        elif self.batch_first:
            input = input.transpose(0, 1)
        return input, batched


def _projected(step, w_hr):
    """An LSTM step whose hidden state is projected by ``w_hr`` (proj_size > 0)."""
    def projected_step(x_proj, state, w_hh, b_hh):
        h, c = step(x_proj, state, w_hh, b_hh)
        return F.linear(h, w_hr), c
    return projected_step


class RNN(RNNBase):
    """Elman RNN with tanh or ReLU nonlinearity."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' "
                             f"or 'relu'.")
        super().__init__(mode, *args, **kwargs)

    def forward(self, input, hx=None):
        if isinstance(input, PackedSequence):
            return _packed_forward(self, input, hx)
        input, batched = self._forward_common(input, hx)
        num_directions = 2 if self.bidirectional else 1
        expected = (self.num_layers * num_directions, input.shape[1], self.hidden_size)
        if hx is None:
            hx = corelib.zeros(expected, dtype=input.dtype, device=input.device)
        else:
            if batched and hx.dim() != 3 or not batched and hx.dim() != 2:
                raise RuntimeError(f"For {'batched 3-D' if batched else 'unbatched 2-D'} "
                                   f"input, hx should also be {'3-D' if batched else '2-D'} but "
                                   f"got {hx.dim()}-D tensor")
            if not batched:
                hx = hx.unsqueeze(1)
            self._check_hidden(hx, expected)
        output, finals = self._run(input, list(hx.unbind(0)))
        h_n = corelib.stack(finals, 0)
        return _finish(self, output, batched), (h_n if batched else h_n.squeeze(1))


class GRU(RNN):
    """Gated recurrent unit (gate order r, z, n as PyTorch)."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        self.nonlinearity = "tanh"
        RNNBase.__init__(self, "GRU", *args, **kwargs)


class LSTM(RNNBase):
    """Long short-term memory (gate order i, f, g, o as PyTorch); optional projections."""

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)

    def forward(self, input, hx=None):
        if isinstance(input, PackedSequence):
            return _packed_forward(self, input, hx)
        input, batched = self._forward_common(input, hx)
        num_directions = 2 if self.bidirectional else 1
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        n = input.shape[1]
        h_shape = (self.num_layers * num_directions, n, real_hidden)
        c_shape = (self.num_layers * num_directions, n, self.hidden_size)
        if hx is None:
            h0 = corelib.zeros(h_shape, dtype=input.dtype, device=input.device)
            c0 = corelib.zeros(c_shape, dtype=input.dtype, device=input.device)
        else:
            h0, c0 = hx
            want = 3 if batched else 2
            if h0.dim() != want or c0.dim() != want:
                raise RuntimeError(f"For {'batched 3-D' if batched else 'unbatched 2-D'} input,"
                                   f" hx and cx should also be {want}-D but got "
                                   f"({h0.dim()}-D, {c0.dim()}-D) tensors")
            if not batched:
                h0, c0 = h0.unsqueeze(1), c0.unsqueeze(1)
            self._check_hidden(h0, h_shape)
            self._check_hidden(c0, c_shape, "cell")
        states = list(zip(h0.unbind(0), c0.unbind(0)))
        output, finals = self._run(input, states)
        h_n = corelib.stack([h for h, _ in finals], 0)
        c_n = corelib.stack([c for _, c in finals], 0)
        if not batched:
            h_n, c_n = h_n.squeeze(1), c_n.squeeze(1)
        return _finish(self, output, batched), (h_n, c_n)


def _finish(module, output, batched):
    if not batched:
        return output.squeeze(1)
    return output.transpose(0, 1) if module.batch_first else output


class RNNCellBase(Module):
    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        fk = {"device": device, "dtype": dtype}
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(corelib.empty((num_chunks * hidden_size, input_size), **fk))
        self.weight_hh = Parameter(corelib.empty((num_chunks * hidden_size, hidden_size), **fk))
        if bias:
            self.bias_ih = Parameter(corelib.empty(num_chunks * hidden_size, **fk))
            self.bias_hh = Parameter(corelib.empty(num_chunks * hidden_size, **fk))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    reset_parameters = RNNBase.reset_parameters

    def _prepare(self, input, hx, state_count):
        if input.dim() not in (1, 2):
            raise ValueError(f"{type(self).__name__}: Expected input to be 1D or 2D, got "
                             f"{input.dim()}D instead")
        if hx is not None:
            for h in (hx if state_count == 2 else (hx,)):
                if h.dim() not in (1, 2):
                    raise ValueError(f"{type(self).__name__}: Expected hidden to be 1D or 2D, "
                                     f"got {h.dim()}D instead")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
        if hx is None:
            zeros = corelib.zeros((input.size(0), self.hidden_size), dtype=input.dtype,
                                  device=input.device)
            hx = (zeros, zeros) if state_count == 2 else zeros
        elif not batched:
            hx = tuple(h.unsqueeze(0) for h in hx) if state_count == 2 else hx.unsqueeze(0)
        return input, hx, batched

    def _cell(self, step, input, hx, state_count):
        input, hx, batched = self._prepare(input, hx, state_count)
        out = step(F.linear(input, self.weight_ih, self.bias_ih), hx, self.weight_hh,
                   self.bias_hh)
        if not batched:
            out = tuple(o.squeeze(0) for o in out) if state_count == 2 else out.squeeze(0)
        return out


class RNNCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        mode = "RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU"
        return self._cell(_step_fn(mode), input, hx, 1)


class LSTMCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        return self._cell(_lstm_step, input, hx, 2)


class GRUCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        return self._cell(_gru_step, input, hx, 1)
