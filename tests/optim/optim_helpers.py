"""Shared pieces of the optimizer tests: a deterministic loss and torch/corelib trajectories."""
from __future__ import annotations

import numpy as np

import corelib

SHAPES = {"w": (2, 3), "v": (2, 3), "unused": (2,)}


def initial_arrays(seed=0):
    rng = np.random.default_rng(seed)
    return {name: rng.uniform(-1.0, 1.0, size=shape) for name, shape in SHAPES.items()}


def loss_fn(w, v):
    """Rosenbrock-like coupled quadratic/quartic function of two tensors (both libraries)."""
    return ((v - w ** 2) ** 2 + (1 - w) ** 2 * 0.5).sum() + (v * w * 0.25).sum()


def make_params(lib, arrays, dtype=None, device="cpu"):
    """Leaf tensors of ``lib`` (corelib or torch) holding copies of ``arrays``."""
    dtype = dtype or lib.float64
    return [lib.tensor(arrays[name].copy(), dtype=dtype, requires_grad=True, device=device)
            for name in SHAPES]


def to_numpy(t):
    return np.array(t.detach().tolist(), dtype=np.float64)


def run(lib, opt, params, steps, closure_style=False):
    """``steps`` optimizer steps on loss_fn(w, v); the third parameter never gets a grad."""
    w, v, _ = params

    def closure():
        opt.zero_grad()
        loss = loss_fn(w, v)
        loss.backward()
        return loss

    losses = []
    for _ in range(steps):
        if closure_style:
            losses.append(float(opt.step(closure).detach()))
        else:
            loss = closure()
            opt.step()
            losses.append(float(loss.detach()))
    return losses


def optimizer_pair(name, kwargs, torch, arrays=None, groups=None, device="cpu"):
    """(corelib optimizer, its params, torch optimizer, its params) from the same init; the
    corelib parameters live on ``device`` (torch's on its CPU)."""
    arrays = arrays or initial_arrays()
    out = []
    for lib, module in ((corelib, corelib.optim), (torch, torch.optim)):
        params = make_params(lib, arrays, device=device if lib is corelib else "cpu")
        spec = params if groups is None else [dict(g, params=[params[i] for i in g["params"]])
                                              for g in groups]
        out += [getattr(module, name)(spec, **kwargs), params]
    return out


def assert_params_close(ours, theirs, rtol=1e-10, atol=1e-12):
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=rtol, atol=atol)
