"""End to end: an nn model trained with corelib.optim follows torch's training trajectory."""
from __future__ import annotations

import numpy as np
import pytest

import corelib
from optim_helpers import to_numpy

from torch_reference import torch


def _model(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))


def _train(lib, weights, optimizer_name, kwargs, data, target):
    model = _model(lib).double()
    with lib.no_grad():
        for p, w in zip(model.parameters(), weights):
            p.copy_(lib.tensor(w))
    module = corelib.optim if lib is corelib else torch.optim
    scheduler_module = corelib.optim.lr_scheduler if lib is corelib else torch.optim.lr_scheduler
    opt = getattr(module, optimizer_name)(model.parameters(), **kwargs)
    sched = scheduler_module.StepLR(opt, step_size=4, gamma=0.5)
    x, y = lib.tensor(data), lib.tensor(target)
    losses = []
    for _ in range(12):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
    return losses, [to_numpy(p) for p in model.parameters()]


@pytest.mark.parametrize("name,kwargs", [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
                                         ("Adam", dict(lr=0.01, amsgrad=True)),
                                         ("AdamW", dict(lr=0.01)),
                                         ("RMSprop", dict(lr=0.01, centered=True))])
def test_mlp_training_matches_torch(name, kwargs):
    rng = np.random.default_rng(3)
    shapes = [(8, 4), (8,), (1, 8), (1,)]
    weights = [rng.normal(scale=0.5, size=s) for s in shapes]
    data, target = rng.normal(size=(16, 4)), rng.normal(size=(16, 1))
    ours = _train(corelib, weights, name, kwargs, data, target)
    theirs = _train(torch, weights, name, kwargs, data, target)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-9)
    assert ours[0][-1] < ours[0][0]
    for a, b in zip(ours[1], theirs[1]):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)
