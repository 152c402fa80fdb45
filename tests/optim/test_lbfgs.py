"""LBFGS against torch.optim.LBFGS: both line-search modes, history limits, state dicts."""
from __future__ import annotations

import numpy as np
import pytest

import corelib
from corelib import optim
from optim_helpers import (assert_params_close, initial_arrays, make_params, optimizer_pair, run,
                           to_numpy)

from torch_reference import torch

CASES = [dict(), dict(line_search_fn="strong_wolfe"),
         dict(lr=0.5, max_iter=4, history_size=2),
         dict(max_iter=6, history_size=3, line_search_fn="strong_wolfe"),
         dict(lr=0.8, max_iter=5, max_eval=7, tolerance_change=1e-6),
         dict(max_iter=50, tolerance_grad=1e-5, line_search_fn="strong_wolfe")]


@pytest.mark.parametrize("kwargs", CASES, ids=[str(i) for i in range(len(CASES))])
def test_lbfgs_matches_torch(kwargs):
    ours, our_params, theirs, their_params = optimizer_pair("LBFGS", kwargs, torch)
    our_losses = run(corelib, ours, our_params, 4, closure_style=True)
    their_losses = run(torch, theirs, their_params, 4, closure_style=True)
    np.testing.assert_allclose(our_losses, their_losses, rtol=1e-9)
    assert_params_close(our_params, their_params, rtol=1e-8, atol=1e-10)
    our_state = ours.state[our_params[0]]
    their_state = theirs.state[their_params[0]]
    assert our_state["func_evals"] == their_state["func_evals"]
    assert our_state["n_iter"] == their_state["n_iter"]
    assert len(our_state["old_dirs"]) == len(their_state["old_dirs"])


def test_lbfgs_converges_on_quadratic():
    target = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]])
    for line_search in (None, "strong_wolfe"):
        x = corelib.zeros(2, 3, dtype=corelib.float64, requires_grad=True)
        opt = optim.LBFGS([x], line_search_fn=line_search)
        goal = corelib.tensor(target)

        def closure():
            opt.zero_grad()
            loss = ((x - goal) ** 2 * 3.0).sum()
            loss.backward()
            return loss

        opt.step(closure)
        np.testing.assert_allclose(to_numpy(x), target, atol=1e-6)


def test_lbfgs_state_dict_round_trip():
    kwargs = dict(max_iter=3, history_size=4, line_search_fn="strong_wolfe")
    arrays = initial_arrays(2)
    reference_params = make_params(corelib, arrays)
    reference = optim.LBFGS(reference_params, **kwargs)
    run(corelib, reference, reference_params, 4, closure_style=True)
    params = make_params(corelib, arrays)
    first = optim.LBFGS(params, **kwargs)
    run(corelib, first, params, 2, closure_style=True)
    resumed_params = make_params(corelib, {k: to_numpy(p) for k, p in
                                           zip(("w", "v", "unused"), params)})
    resumed = optim.LBFGS(resumed_params, **kwargs)
    resumed.load_state_dict(first.state_dict())
    run(corelib, resumed, resumed_params, 2, closure_style=True)
    assert_params_close(resumed_params, reference_params, rtol=1e-12, atol=1e-14)


def test_lbfgs_unknown_line_search():
    params = make_params(corelib, initial_arrays())
    opt = optim.LBFGS(params, line_search_fn="armijo")
    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        run(corelib, opt, params, 1, closure_style=True)
