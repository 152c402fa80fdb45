"""Optimizer trajectories, state dicts and errors against torch.optim (float64)."""
from __future__ import annotations

import copy

import numpy as np
import pytest

import corelib
from corelib import optim
from optim_helpers import (assert_params_close, initial_arrays, loss_fn, make_params,
                           optimizer_pair, run, to_numpy)

from torch_reference import torch

CONFIGS = {
    "SGD": [dict(lr=0.01), dict(lr=0.01, momentum=0.9), dict(lr=0.01, momentum=0.9, dampening=0.5),
            dict(lr=0.01, momentum=0.9, nesterov=True), dict(lr=0.01, weight_decay=0.1),
            dict(lr=0.005, momentum=0.5, weight_decay=0.1, maximize=True)],
    "Adam": [dict(), dict(lr=0.05), dict(lr=0.05, amsgrad=True), dict(lr=0.05, weight_decay=0.1),
             dict(lr=0.05, maximize=True), dict(lr=0.05, betas=(0.8, 0.99), eps=1e-3),
             dict(lr=0.05, amsgrad=True, weight_decay=0.1, maximize=True),
             dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)],
    "AdamW": [dict(), dict(lr=0.05, amsgrad=True), dict(lr=0.05, weight_decay=0.3),
              dict(lr=0.05, maximize=True, betas=(0.5, 0.9))],
    "RMSprop": [dict(), dict(lr=0.005, alpha=0.9), dict(lr=0.005, eps=1e-2),
                dict(lr=0.005, weight_decay=0.1), dict(lr=0.005, momentum=0.9),
                dict(lr=0.005, centered=True), dict(lr=0.005, centered=True, momentum=0.5),
                dict(lr=0.005, maximize=True)],
    "Adagrad": [dict(), dict(lr=0.1, lr_decay=0.1), dict(lr=0.1, weight_decay=0.1),
                dict(lr=0.1, initial_accumulator_value=0.5), dict(lr=0.1, eps=1e-2),
                dict(lr=0.1, maximize=True)],
    "Adadelta": [dict(), dict(lr=0.5, rho=0.5), dict(lr=0.5, eps=1e-3),
                 dict(lr=0.5, weight_decay=0.1), dict(lr=0.5, maximize=True)],
    "Adamax": [dict(), dict(lr=0.05, betas=(0.7, 0.9)), dict(lr=0.05, eps=1e-2),
               dict(lr=0.05, weight_decay=0.1), dict(lr=0.05, maximize=True)],
    "NAdam": [dict(), dict(lr=0.05, momentum_decay=0.01), dict(lr=0.05, weight_decay=0.1),
              dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True),
              dict(lr=0.05, maximize=True, betas=(0.8, 0.95))],
    "RAdam": [dict(), dict(lr=0.05, betas=(0.9, 0.9)), dict(lr=0.05, weight_decay=0.1),
              dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True),
              dict(lr=0.05, maximize=True, eps=1e-4)],
}
CASES = [pytest.param(name, kw, id=f"{name}-{i}") for name, kws in CONFIGS.items()
         for i, kw in enumerate(kws)]
NAMES = list(CONFIGS)


@pytest.fixture(autouse=True)
def torch_float64():
    """PyTorch keeps scalar optimizer state (step, NAdam's mu_product) in the default dtype."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


@pytest.mark.parametrize("name,kwargs", CASES)
def test_trajectory_matches_torch(name, kwargs, device):
    ours, our_params, theirs, their_params = optimizer_pair(name, kwargs, torch, device=device)
    our_losses = run(corelib, ours, our_params, 12)
    their_losses = run(torch, theirs, their_params, 12)
    assert np.isfinite(their_losses).all()
    np.testing.assert_allclose(our_losses, their_losses, rtol=1e-10)
    assert_params_close(our_params, their_params)
    assert our_params[2].grad is None and to_numpy(our_params[2]).tolist() == \
        initial_arrays()["unused"].tolist()


@pytest.mark.parametrize("name", NAMES)
def test_state_matches_torch(name):
    """Same per-parameter state keys and values, same group options as torch."""
    kwargs = CONFIGS[name][-1]
    ours, our_params, theirs, their_params = optimizer_pair(name, kwargs, torch)
    run(corelib, ours, our_params, 5)
    run(torch, theirs, their_params, 5)
    our_sd, their_sd = ours.state_dict(), theirs.state_dict()
    assert set(our_sd["state"]) == set(their_sd["state"])
    for idx, their_state in their_sd["state"].items():
        our_state = our_sd["state"][idx]
        assert set(our_state) == set(their_state)
        for key, value in their_state.items():
            if isinstance(value, torch.Tensor) and value.dim() > 0:
                np.testing.assert_allclose(to_numpy(our_state[key]), value.numpy(),
                                           rtol=1e-10, atol=1e-14)
            else:
                assert float(our_state[key]) == pytest.approx(float(value), rel=1e-12)
    for our_group, their_group in zip(our_sd["param_groups"], their_sd["param_groups"]):
        for key, value in our_group.items():
            assert their_group[key] == value, key


@pytest.mark.parametrize("name", NAMES)
def test_param_groups_override_defaults(name):
    kwargs = dict(CONFIGS[name][1])
    groups = [{"params": [0]}, {"params": [1], "lr": 0.002}]
    ours, our_params, theirs, their_params = optimizer_pair(name, kwargs, torch, groups=groups)
    assert ours.param_groups[1]["lr"] == 0.002
    assert ours.param_groups[0]["lr"] == ours.defaults["lr"]
    run(corelib, ours, our_params, 8)
    run(torch, theirs, their_params, 8)
    assert_params_close(our_params, their_params)


@pytest.mark.parametrize("name,kwargs", [pytest.param(n, CONFIGS[n][-1], id=n) for n in NAMES])
def test_state_dict_round_trip(name, kwargs):
    """Save after k steps, load into a fresh optimizer, continue: same as uninterrupted."""
    arrays = initial_arrays(1)
    reference_params = make_params(corelib, arrays)
    reference = getattr(optim, name)(reference_params, **kwargs)
    run(corelib, reference, reference_params, 10)

    first_params = make_params(corelib, arrays)
    first = getattr(optim, name)(first_params, **kwargs)
    run(corelib, first, first_params, 4)
    saved = first.state_dict()
    resumed_params = make_params(corelib, {k: to_numpy(p) for k, p in
                                           zip(("w", "v", "unused"), first_params)})
    resumed = getattr(optim, name)(resumed_params, lr=123.0)
    resumed.load_state_dict(saved)
    assert resumed.param_groups[0]["lr"] == first.param_groups[0]["lr"]
    assert resumed.param_groups[0]["params"][0] is resumed_params[0]
    run(corelib, resumed, resumed_params, 6)
    for a, b in zip(resumed_params, reference_params):
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=1e-12, atol=1e-14)


def test_state_dict_layout_like_torch():
    ours, our_params, theirs, their_params = optimizer_pair(
        "SGD", dict(lr=0.1, momentum=0.9), torch, groups=[{"params": [0, 2]}, {"params": [1]}])
    run(corelib, ours, our_params, 1)
    run(torch, theirs, their_params, 1)
    our_sd, their_sd = ours.state_dict(), theirs.state_dict()
    assert [g["params"] for g in our_sd["param_groups"]] == \
        [g["params"] for g in their_sd["param_groups"]] == [[0, 1], [2]]
    assert sorted(our_sd["state"]) == sorted(their_sd["state"]) == [0, 2]


def test_load_state_dict_casts_to_param_dtype():
    params64 = make_params(corelib, initial_arrays())
    opt = optim.Adam(params64, lr=0.1)
    run(corelib, opt, params64, 2)
    params32 = make_params(corelib, initial_arrays(), dtype=corelib.float32)
    opt32 = optim.Adam(params32, lr=0.1)
    opt32.load_state_dict(opt.state_dict())
    state = opt32.state[params32[0]]
    assert state["exp_avg"].dtype is corelib.float32
    assert state["step"] == 2
    np.testing.assert_allclose(to_numpy(state["exp_avg_sq"]),
                               to_numpy(opt.state[params64[0]]["exp_avg_sq"]), rtol=1e-6)


def test_load_state_dict_validates_groups():
    params = make_params(corelib, initial_arrays())
    saved = optim.SGD([{"params": params[:1]}, {"params": params[1:]}], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.SGD(params, lr=0.1).load_state_dict(saved)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        optim.SGD([{"params": params[:2]}, {"params": params[2:]}], lr=0.1).load_state_dict(saved)


def test_updates_are_in_place_and_keep_views():
    params = make_params(corelib, initial_arrays())
    view = params[0][0]
    before = to_numpy(view)
    opt = optim.Adam(params, lr=0.1)
    ids = [id(p) for p in params]
    run(corelib, opt, params, 1)
    assert [id(p) for p in opt.param_groups[0]["params"]] == ids
    assert not np.allclose(to_numpy(view), before)
    np.testing.assert_array_equal(to_numpy(view), to_numpy(params[0])[0])
    assert params[0].is_leaf and params[0].grad_fn is None


def test_step_returns_closure_loss_and_runs_without_grad():
    params = make_params(corelib, initial_arrays())
    opt = optim.SGD(params, lr=0.01)
    losses = run(corelib, opt, params, 3, closure_style=True)
    assert losses[0] == pytest.approx(float(loss_fn(*make_params(corelib, initial_arrays())[:2])))
    assert losses[2] < losses[0]
    assert opt.step() is None


def test_zero_grad():
    params = make_params(corelib, initial_arrays())
    opt = optim.SGD(params, lr=0.01)
    loss_fn(params[0], params[1]).backward()
    opt.zero_grad(set_to_none=False)
    assert to_numpy(params[0].grad).tolist() == np.zeros((2, 3)).tolist()
    assert params[2].grad is None
    opt.zero_grad()
    assert params[0].grad is None and params[1].grad is None


def test_step_hooks():
    params = make_params(corelib, initial_arrays())
    opt = optim.SGD(params, lr=0.01)
    calls = []
    pre = opt.register_step_pre_hook(lambda o, a, k: calls.append(("pre", o)))
    opt.register_step_post_hook(lambda o, a, k: calls.append(("post", o)))
    opt.step()
    assert calls == [("pre", opt), ("post", opt)]
    pre.remove()
    opt.step()
    assert calls[2:] == [("post", opt)]


def test_add_param_group_and_repr_like_torch():
    ours, our_params, theirs, their_params = optimizer_pair("SGD", dict(lr=0.1, momentum=0.9),
                                                            torch, groups=[{"params": [0]}])
    ours.add_param_group({"params": our_params[1], "lr": 0.5})
    theirs.add_param_group({"params": their_params[1], "lr": 0.5})
    assert ours.param_groups[1]["momentum"] == 0.9
    keep = ("lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize")
    expected = "\n".join(line for line in repr(theirs).splitlines()
                         if not line.startswith("    ") or line.split(":")[0].strip() in keep)
    assert repr(ours) == expected


# ---------------------------------------------------------------------------------------------
# errors: same exception types and messages as torch
def _torch_error(fn):
    with pytest.raises(Exception) as info:
        fn(torch, torch.optim)
    return info.type, str(info.value)


def _assert_same_error(fn):
    exc_type, message = _torch_error(fn)
    with pytest.raises(exc_type) as info:
        fn(corelib, optim)
    assert str(info.value) == message.replace("torch.", "corelib.")


ERRORS = {
    "negative lr": lambda lib, m: m.SGD(make_params(lib, initial_arrays()), lr=-0.1),
    "adam negative lr": lambda lib, m: m.Adam(make_params(lib, initial_arrays()), lr=-1.0),
    "adam beta0": lambda lib, m: m.Adam(make_params(lib, initial_arrays()), betas=(1.0, 0.9)),
    "adam beta1": lambda lib, m: m.Adam(make_params(lib, initial_arrays()), betas=(0.9, -0.1)),
    "adam eps": lambda lib, m: m.Adam(make_params(lib, initial_arrays()), eps=-1e-8),
    "adamw weight decay": lambda lib, m: m.AdamW(make_params(lib, initial_arrays()),
                                                 weight_decay=-0.1),
    "nadam beta": lambda lib, m: m.NAdam(make_params(lib, initial_arrays()), betas=(0.9, 1.5)),
    "radam beta": lambda lib, m: m.RAdam(make_params(lib, initial_arrays()), betas=(-0.9, 0.9)),
    "adamax beta": lambda lib, m: m.Adamax(make_params(lib, initial_arrays()), betas=(0.9, 1)),
    "rmsprop alpha": lambda lib, m: m.RMSprop(make_params(lib, initial_arrays()), alpha=-0.5),
    "rmsprop momentum": lambda lib, m: m.RMSprop(make_params(lib, initial_arrays()),
                                                 momentum=-0.5),
    "adagrad lr_decay": lambda lib, m: m.Adagrad(make_params(lib, initial_arrays()),
                                                 lr_decay=-0.5),
    "adagrad initial acc": lambda lib, m: m.Adagrad(make_params(lib, initial_arrays()),
                                                    initial_accumulator_value=-1.0),
    "adadelta rho": lambda lib, m: m.Adadelta(make_params(lib, initial_arrays()), rho=1.5),
    "sgd momentum": lambda lib, m: m.SGD(make_params(lib, initial_arrays()), lr=0.1,
                                         momentum=-0.5),
    "nesterov": lambda lib, m: m.SGD(make_params(lib, initial_arrays()), lr=0.1, nesterov=True),
    "lbfgs groups": lambda lib, m: m.LBFGS([{"params": p} for p in
                                            make_params(lib, initial_arrays())]),
    "duplicate across groups": lambda lib, m: _duplicate(lib, m),
    "empty": lambda lib, m: m.Adam([]),
    "tensor params": lambda lib, m: m.Adam(make_params(lib, initial_arrays())[0]),
    "set params": lambda lib, m: m.Adam([{"params": set(make_params(lib, initial_arrays()))}]),
    "non-leaf": lambda lib, m: m.Adam([make_params(lib, initial_arrays())[0] * 2]),
    "not a tensor": lambda lib, m: m.Adam([1.0, 2.0]),
    "missing group dict": lambda lib, m: m.SGD(make_params(lib, initial_arrays()),
                                               lr=0.1).add_param_group([1]),
    "load bad groups": lambda lib, m: m.SGD(make_params(lib, initial_arrays()),
                                            lr=0.1).load_state_dict(
        {"state": {}, "param_groups": []}),
}


def _duplicate(lib, m):
    p = make_params(lib, initial_arrays())
    return m.SGD([{"params": p[:2]}, {"params": p[1:]}], lr=0.1)


@pytest.mark.parametrize("case", list(ERRORS))
def test_errors_like_torch(case):
    _assert_same_error(ERRORS[case])


def test_duplicate_params_across_groups():
    def make(lib, m):
        p = make_params(lib, initial_arrays())
        opt = m.Adam([p[0]])
        opt.add_param_group({"params": [p[1], p[0]]})
    _assert_same_error(make)


def test_deepcopy_optimizer_state():
    params = make_params(corelib, initial_arrays())
    opt = optim.Adam(params, lr=0.1)
    run(corelib, opt, params, 2)
    saved = copy.deepcopy(opt.state_dict())
    run(corelib, opt, params, 1)
    assert saved["state"][0]["step"] == 2
    assert not np.allclose(to_numpy(saved["state"][0]["exp_avg"]),
                           to_numpy(opt.state[params[0]]["exp_avg"]))


@pytest.mark.parametrize("name", NAMES)
def test_float32_trajectory_close_to_torch(name):
    """float32 parameters and state stay float32 and track torch within float32 rounding."""
    arrays = initial_arrays()
    runs = []
    for lib, module in ((corelib, optim), (torch, torch.optim)):
        params = make_params(lib, arrays, dtype=lib.float32)
        opt = getattr(module, name)(params, **CONFIGS[name][1])
        run(lib, opt, params, 8)
        runs.append((opt, params))
    (ours, our_params), (_, their_params) = runs
    for p in our_params[:2]:
        assert p.dtype is corelib.float32
        for value in ours.state[p].values():
            if isinstance(value, corelib.Tensor):
                assert value.dtype is corelib.float32
    for a, b in zip(our_params, their_params):
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=2e-4, atol=2e-5)
