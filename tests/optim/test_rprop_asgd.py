"""Rprop and ASGD against torch.optim (float64 trajectories, state, errors)."""
from __future__ import annotations

import numpy as np
import pytest

import corelib
from optim_helpers import assert_params_close, optimizer_pair, run, to_numpy

from torch_reference import torch

CASES = [("Rprop", dict()), ("Rprop", dict(lr=0.05, etas=(0.3, 1.5))),
         ("Rprop", dict(lr=0.05, step_sizes=(1e-3, 0.06))), ("Rprop", dict(maximize=True)),
         ("ASGD", dict()), ("ASGD", dict(lr=0.02, t0=3)),
         ("ASGD", dict(lr=0.02, lambd=0.1, alpha=0.5, t0=2, weight_decay=0.1)),
         ("ASGD", dict(lr=0.01, t0=4, maximize=True))]


@pytest.fixture(autouse=True)
def torch_float64():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


@pytest.mark.parametrize("name,kwargs", CASES, ids=lambda v: str(v))
def test_trajectory_matches_torch(name, kwargs, device):
    ours, our_params, theirs, their_params = optimizer_pair(name, kwargs, torch, device=device)
    our_losses = run(corelib, ours, our_params, 12)
    their_losses = run(torch, theirs, their_params, 12)
    np.testing.assert_allclose(our_losses, their_losses, rtol=1e-10)
    assert_params_close(our_params, their_params)
    assert our_params[2].grad is None
    key = "step_size" if name == "Rprop" else "ax"
    for p, q in zip(our_params[:2], their_params[:2]):
        np.testing.assert_allclose(to_numpy(ours.state[p][key]), to_numpy(theirs.state[q][key]),
                                   rtol=1e-10, atol=1e-12)
        if name == "ASGD":
            assert ours.state[p]["eta"] == pytest.approx(float(theirs.state[q]["eta"]))
            assert ours.state[p]["mu"] == pytest.approx(float(theirs.state[q]["mu"]))


def test_state_dict_round_trip():
    ours, params, _, _ = optimizer_pair("Rprop", dict(lr=0.05), torch)
    run(corelib, ours, params, 3)
    again = corelib.optim.Rprop(params, lr=0.05)
    again.load_state_dict(ours.state_dict())
    assert to_numpy(again.state[params[0]]["step_size"]).tolist() == \
        to_numpy(ours.state[params[0]]["step_size"]).tolist()


@pytest.mark.parametrize("name,kwargs", [("Rprop", dict(lr=-1)), ("Rprop", dict(etas=(1.5, 2))),
                                         ("ASGD", dict(lr=-1)), ("ASGD", dict(weight_decay=-1))])
def test_errors_like_torch(name, kwargs):
    p = [corelib.zeros(2, requires_grad=True)]
    with pytest.raises(ValueError) as ours:
        getattr(corelib.optim, name)(p, **kwargs)
    with pytest.raises(ValueError) as theirs:
        getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **kwargs)
    assert str(ours.value) == str(theirs.value)
