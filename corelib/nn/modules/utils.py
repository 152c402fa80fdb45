"""Helpers shared by the layer modules: argument parsing (``_pair`` and friends, as torch) and
weight/bias parameter creation and default initialisation."""
from __future__ import annotations

import math
from collections import abc
from itertools import repeat

import corelib

from .. import init
from ..parameter import Parameter


def _ntuple(n, name="parse"):
    def parse(x):
        if isinstance(x, abc.Iterable) and not isinstance(x, str):
            return tuple(x)
        return tuple(repeat(x, n))
    parse.__name__ = name
    return parse


_single = _ntuple(1, "_single")
_pair = _ntuple(2, "_pair")
_triple = _ntuple(3, "_triple")
_quadruple = _ntuple(4, "_quadruple")


def _reverse_repeat_tuple(t, n):
    """(a, b) -> (b, b, a, a) for n=2: the F.pad order of per-dim paddings."""
    return tuple(x for x in reversed(t) for _ in range(n))


def _weight_and_bias(module, weight_shape, bias_shape, bias, device=None, dtype=None):
    """Register uninitialised ``weight`` and (if ``bias``, else None) ``bias`` Parameters."""
    module.weight = Parameter(corelib.empty(weight_shape, device=device, dtype=dtype))
    if bias:
        module.bias = Parameter(corelib.empty(bias_shape, device=device, dtype=dtype))
    else:
        module.register_parameter("bias", None)


def _kaiming_reset(weight, bias, zero_bias_without_fan_in=True):
    """PyTorch's default Linear/Conv init: kaiming-uniform weight (a=sqrt(5)), bias uniform in
    +-1/sqrt(fan_in). With fan_in 0 the bias is zeroed, or left alone if not
    ``zero_bias_without_fan_in`` (Conv)."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(weight)
        if fan_in != 0 or zero_bias_without_fan_in:
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(bias, -bound, bound)


def factory_kwargs(device, dtype):
    return {"device": device, "dtype": dtype}


def consume_prefix_in_state_dict_if_present(state_dict, prefix):
    """Strip ``prefix`` (e.g. DDP's ``"module."``) from the keys of ``state_dict`` in place."""
    for key in sorted(state_dict.keys()):
        if key.startswith(prefix):
            state_dict[key[len(prefix):]] = state_dict.pop(key)
    metadata = getattr(state_dict, "_metadata", None)
    if metadata is not None:
        for key in list(metadata.keys()):
            if len(key) == 0:
                continue
            if key == prefix.replace(".", "") or key.startswith(prefix):
                metadata[key[len(prefix):] if key.startswith(prefix) else ""] = \
                    metadata.pop(key)
