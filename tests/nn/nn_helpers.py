"""Helpers for the nn tests: copy weights between torch and corelib modules and compare them."""
from __future__ import annotations

import numpy as np

import corelib


def to_core(t):
    """A torch tensor (or numpy array) as a corelib tensor with the same values and dtype."""
    arr = t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)
    return corelib.tensor(arr)


def to_numpy(t):
    return np.asarray(t.detach().cpu().numpy()) if hasattr(t, "detach") else np.asarray(t)


def copy_torch_state(torch_mod, core_mod):
    """Load torch_mod's state dict into core_mod (keys must match exactly)."""
    torch_sd = torch_mod.state_dict()
    core_keys = list(core_mod.state_dict().keys())
    assert core_keys == list(torch_sd.keys())
    result = core_mod.load_state_dict({k: to_core(v) for k, v in torch_sd.items()})
    assert not result.missing_keys and not result.unexpected_keys


def flat_tensors(out):
    if out is None:
        return []
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in flat_tensors(o)]
    return [out]


def assert_close(core_t, torch_t, rtol=1e-6, atol=1e-8, what=""):
    a, b = to_numpy(core_t), to_numpy(torch_t)
    assert a.shape == b.shape, f"{what}: shape {a.shape} != {b.shape}"
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=what)
