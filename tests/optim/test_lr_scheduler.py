"""Learning-rate schedulers: lr (and momentum) sequences equal to torch.optim.lr_scheduler's."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import corelib
from corelib import optim
from corelib.optim import lr_scheduler

from torch_reference import torch

STEPS = 30


def _optimizer(lib, name="SGD", **kwargs):
    params = [lib.zeros(2, dtype=lib.float64, requires_grad=True),
              lib.zeros(3, dtype=lib.float64, requires_grad=True)]
    module = corelib.optim if lib is corelib else torch.optim
    kwargs = kwargs or ({"momentum": 0.9} if name == "SGD" else {})
    return getattr(module, name)([{"params": params[:1]}, {"params": params[1:], "lr": 0.3}],
                                 lr=0.1, **kwargs)


def _sched_module(lib):
    return lr_scheduler if lib is corelib else torch.optim.lr_scheduler


def _record(opt, sched, steps, metrics=None, epochs=None):
    """lr, momentum/beta1 of every group and get_last_lr() after each step."""
    out = []

    def snapshot():
        groups = opt.param_groups
        out.append([g["lr"] for g in groups] + list(sched.get_last_lr()) +
                   [g["betas"][0] if "betas" in g else g.get("momentum") for g in groups])

    snapshot()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(steps):
            opt.step()
            if metrics is not None:
                sched.step(metrics[i])
            elif epochs is not None:
                sched.step(epochs[i])
            else:
                sched.step()
            snapshot()
    return out


SCHEDULERS = {
    "StepLR": lambda m, o: m.StepLR(o, step_size=4, gamma=0.5),
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, milestones=[3, 7, 7, 20], gamma=0.3),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, gamma=0.9),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, T_max=7, eta_min=0.01),
    "CosineAnnealingLR-zero-min": lambda m, o: m.CosineAnnealingLR(o, T_max=10),
    "CosineAnnealingWarmRestarts": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=5),
    "CosineAnnealingWarmRestarts-mult": lambda m, o: m.CosineAnnealingWarmRestarts(
        o, T_0=3, T_mult=2, eta_min=0.001),
    "LambdaLR": lambda m, o: m.LambdaLR(o, lr_lambda=lambda e: 0.95 ** e + e % 3),
    "LambdaLR-list": lambda m, o: m.LambdaLR(o, lr_lambda=[lambda e: 1 / (e + 1),
                                                           lambda e: 0.9 ** e]),
    "MultiplicativeLR": lambda m, o: m.MultiplicativeLR(o, lr_lambda=lambda e: 0.9 + 0.01 * e),
    "LinearLR": lambda m, o: m.LinearLR(o, start_factor=0.25, end_factor=0.9, total_iters=12),
    "LinearLR-default": lambda m, o: m.LinearLR(o),
    "ConstantLR": lambda m, o: m.ConstantLR(o, factor=0.5, total_iters=6),
    "PolynomialLR": lambda m, o: m.PolynomialLR(o, total_iters=20, power=2.0),
    "PolynomialLR-linear": lambda m, o: m.PolynomialLR(o, total_iters=8),
    "OneCycleLR-cos": lambda m, o: m.OneCycleLR(o, max_lr=[1.0, 2.0], total_steps=STEPS),
    "OneCycleLR-linear-3phase": lambda m, o: m.OneCycleLR(
        o, max_lr=0.5, epochs=3, steps_per_epoch=10, anneal_strategy="linear",
        three_phase=True, pct_start=0.25, div_factor=10.0, final_div_factor=100.0),
    "OneCycleLR-no-momentum": lambda m, o: m.OneCycleLR(o, max_lr=0.5, total_steps=STEPS + 5,
                                                        cycle_momentum=False),
    "CyclicLR": lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4),
    "CyclicLR-triangular2": lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=[0.1, 0.2],
                                                    step_size_up=3, step_size_down=5,
                                                    mode="triangular2"),
    "CyclicLR-exp_range": lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4,
                                                  mode="exp_range", gamma=0.95),
    "SequentialLR": lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.1, total_iters=5), m.ExponentialLR(o, gamma=0.9),
            m.StepLR(o, step_size=3)], milestones=[5, 15]),
    "ChainedScheduler": lambda m, o: m.ChainedScheduler(
        [m.ConstantLR(o, factor=0.5, total_iters=4), m.ExponentialLR(o, gamma=0.9),
         m.MultiStepLR(o, milestones=[10, 20])]),
}
ADAM_SCHEDULERS = {
    "OneCycleLR-adam": lambda m, o: m.OneCycleLR(o, max_lr=0.01, total_steps=STEPS,
                                                 base_momentum=0.8, max_momentum=0.9),
    "CyclicLR-adam": lambda m, o: m.CyclicLR(o, base_lr=0.001, max_lr=0.01, step_size_up=5),
}


def _pair(make, optimizer_name="SGD"):
    out = []
    for lib in (corelib, torch):
        opt = _optimizer(lib, optimizer_name)
        out += [opt, make(_sched_module(lib), opt)]
    return out


@pytest.mark.parametrize("name", list(SCHEDULERS) + list(ADAM_SCHEDULERS))
def test_lr_sequence_matches_torch(name):
    make = SCHEDULERS.get(name) or ADAM_SCHEDULERS[name]
    our_opt, ours, their_opt, theirs = _pair(make, "SGD" if name in SCHEDULERS else "Adam")
    assert _record(our_opt, ours, STEPS) == _record(their_opt, theirs, STEPS)
    assert getattr(ours, "last_epoch", None) == getattr(theirs, "last_epoch", None)
    assert our_opt.param_groups[0].get("initial_lr") == their_opt.param_groups[0].get(
        "initial_lr")


@pytest.mark.parametrize("kwargs", [
    dict(), dict(patience=2, factor=0.5), dict(mode="max", patience=1, threshold=0.05),
    dict(patience=1, threshold_mode="abs", threshold=0.5, cooldown=2),
    dict(mode="max", threshold_mode="abs", patience=0, min_lr=[0.02, 0.05]),
    dict(patience=0, factor=0.5, min_lr=0.09, eps=1e-3)], ids=lambda kw: str(sorted(kw)))
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    metrics = [10, 9, 9.5, 9.2, 9.1, 8, 8.5, 9, 9, 9, 9, 7, 7.1, 7.01, 7.2, 6, 6, 6, 6, 6,
               5.9, 5.99, 6.5, 7, 8, 9, 10, 10, 10, 11]
    records = []
    for lib in (corelib, torch):
        opt = _optimizer(lib)
        sched = _sched_module(lib).ReduceLROnPlateau(opt, **kwargs)
        records.append(_record(opt, sched, STEPS, metrics=metrics))
    assert records[0] == records[1]


@pytest.mark.parametrize("T_mult", [1, 2])
def test_warm_restarts_fractional_epochs_match_torch(T_mult):
    epochs = [i / 3 for i in range(STEPS)] + [0.5, 17.25, 4]
    records = []
    for lib in (corelib, torch):
        opt = _optimizer(lib)
        sched = _sched_module(lib).CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=T_mult,
                                                               eta_min=0.01)
        records.append(_record(opt, sched, len(epochs), epochs=epochs))
    assert records[0] == records[1]


@pytest.mark.parametrize("name", ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR",
                                  "LinearLR", "ConstantLR", "PolynomialLR"])
def test_closed_form_with_epoch_argument_matches_torch(name):
    epochs = [3, 5, 5, 9, 2, 12]
    records = []
    for lib in (corelib, torch):
        opt = _optimizer(lib)
        sched = SCHEDULERS[name](_sched_module(lib), opt)
        records.append(_record(opt, sched, len(epochs), epochs=epochs))
    assert records[0] == records[1]


STATE_CASES = ["StepLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts-mult", "LambdaLR",
               "MultiplicativeLR", "LinearLR", "PolynomialLR", "OneCycleLR-cos", "CyclicLR",
               "SequentialLR", "ChainedScheduler"]


@pytest.mark.parametrize("name", STATE_CASES)
def test_scheduler_state_dict_round_trip(name):
    """Save optimizer + scheduler after k steps, load into fresh ones, continue: same lrs."""
    make = SCHEDULERS[name]
    ref_opt = _optimizer(corelib)
    reference = _record(ref_opt, make(lr_scheduler, ref_opt), 20)
    opt = _optimizer(corelib)
    sched = make(lr_scheduler, opt)
    first = _record(opt, sched, 8)
    opt_state, sched_state = opt.state_dict(), sched.state_dict()
    assert "optimizer" not in sched_state
    new_opt = _optimizer(corelib)
    new_sched = make(lr_scheduler, new_opt)
    new_opt.load_state_dict(opt_state)
    new_sched.load_state_dict(sched_state)
    assert getattr(new_sched, "last_epoch", None) == getattr(sched, "last_epoch", None)
    resumed = _record(new_opt, new_sched, 12)
    assert first + resumed[1:] == reference


def test_reduce_lr_on_plateau_state_dict_round_trip():
    metrics = [5, 5, 5, 4, 4, 4, 4, 3, 3, 3, 3, 3]
    opt = _optimizer(corelib)
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=1, cooldown=1)
    reference = _record(opt, sched, 12, metrics=metrics)
    opt = _optimizer(corelib)
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=1, cooldown=1)
    first = _record(opt, sched, 5, metrics=metrics)
    new_opt = _optimizer(corelib)
    new_sched = lr_scheduler.ReduceLROnPlateau(new_opt, patience=7, mode="max")
    new_opt.load_state_dict(opt.state_dict())
    new_sched.load_state_dict(sched.state_dict())
    assert first + _record(new_opt, new_sched, 7, metrics=metrics[5:])[1:] == reference


def test_lambda_state_dict_keeps_callable_objects():
    class Factor:
        def __init__(self, base):
            self.base = base

        def __call__(self, epoch):
            return self.base ** epoch

    opt = _optimizer(corelib)
    sched = lr_scheduler.LambdaLR(opt, [Factor(0.5), lambda e: 1.0])
    state = sched.state_dict()
    assert state["lr_lambdas"] == [{"base": 0.5}, None]
    other = lr_scheduler.LambdaLR(_optimizer(corelib), [Factor(0.9), lambda e: 2.0])
    other.load_state_dict(state)
    assert other.lr_lambdas[0].base == 0.5


def test_initial_lr_and_resume_errors_like_torch():
    for lib in (corelib, torch):
        opt = _optimizer(lib)
        with pytest.raises(KeyError, match="initial_lr"):
            _sched_module(lib).StepLR(opt, step_size=2, last_epoch=3)
        sched = _sched_module(lib).StepLR(opt, step_size=2)
        assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.3]
        assert sched.get_last_lr() == [0.1, 0.3] and sched.last_epoch == 0


SCHEDULER_ERRORS = {
    "not an optimizer": lambda m, o: m.StepLR(object(), step_size=2),
    "constant factor": lambda m, o: m.ConstantLR(o, factor=1.5),
    "linear start": lambda m, o: m.LinearLR(o, start_factor=0),
    "linear end": lambda m, o: m.LinearLR(o, end_factor=2.0),
    "lambda count": lambda m, o: m.LambdaLR(o, [lambda e: 1.0]),
    "multiplicative not callable": lambda m, o: m.MultiplicativeLR(o, 0.5),
    "warm restarts T_0": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=0),
    "warm restarts T_mult": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0),
    "warm restarts negative epoch": lambda m, o: m.CosineAnnealingWarmRestarts(o, 2).step(-1),
    "onecycle no steps": lambda m, o: m.OneCycleLR(o, max_lr=1.0),
    "onecycle pct": lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=10, pct_start=1.5),
    "onecycle anneal": lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=10,
                                                 anneal_strategy="exp"),
    "onecycle max_lr list": lambda m, o: m.OneCycleLR(o, max_lr=[1.0], total_steps=10),
    "onecycle too many steps": lambda m, o: _step_n(m.OneCycleLR(o, max_lr=1.0, total_steps=2),
                                                    3),
    "plateau factor": lambda m, o: m.ReduceLROnPlateau(o, factor=1.0),
    "plateau mode": lambda m, o: m.ReduceLROnPlateau(o, mode="avg"),
    "plateau threshold mode": lambda m, o: m.ReduceLROnPlateau(o, threshold_mode="pct"),
    "plateau min_lr": lambda m, o: m.ReduceLROnPlateau(o, min_lr=[0.1]),
    "sequential milestones": lambda m, o: m.SequentialLR(o, [m.StepLR(o, 2)], milestones=[3]),
    "sequential plateau": lambda m, o: m.SequentialLR(
        o, [m.StepLR(o, 2), m.ReduceLROnPlateau(o)], milestones=[3]),
    "chained empty": lambda m, o: m.ChainedScheduler([]),
}


def _step_n(sched, n):
    for _ in range(n):
        sched.step()


@pytest.mark.parametrize("case", list(SCHEDULER_ERRORS))
def test_scheduler_errors_like_torch(case):
    fn = SCHEDULER_ERRORS[case]
    with pytest.raises(Exception) as expected:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn(torch.optim.lr_scheduler, _optimizer(torch))
    with pytest.raises(expected.type) as info:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn(lr_scheduler, _optimizer(corelib))
    assert str(info.value) == str(expected.value)


def test_scheduler_drives_training_like_torch():
    """StepLR + SGD on a real loss: parameters follow torch's trajectory."""
    data = np.linspace(-1, 1, 6)
    results = []
    for lib in (corelib, torch):
        x = lib.tensor(data.copy(), requires_grad=True)
        module = corelib.optim if lib is corelib else torch.optim
        opt = module.SGD([x], lr=0.2, momentum=0.5)
        sched = _sched_module(lib).StepLR(opt, step_size=3, gamma=0.5)
        for _ in range(10):
            opt.zero_grad()
            ((x - 0.5) ** 4).sum().backward()
            opt.step()
            sched.step()
        results.append(np.array(x.detach().tolist()))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)
