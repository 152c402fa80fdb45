"""ASGD (averaged SGD), as torch.optim.ASGD."""
from __future__ import annotations

from .optimizer import (Optimizer, check_hyper, evaluate_closure, next_step, no_grad_step,
                        step_grads, weight_decay_)

__all__ = ["ASGD"]


class ASGD(Optimizer):
    """ASGD(params, lr=0.01, lambd=0.0001, alpha=0.75, t0=1000000.0, weight_decay=0, maximize=False)

    Averaged stochastic gradient descent; the running average of the iterates is ``state['ax']``.
    """

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        check_hyper("learning rate", lr)
        check_hyper("weight_decay value", weight_decay)
        defaults = {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0,
                    "weight_decay": weight_decay, "maximize": maximize}
        super().__init__(params, defaults)

    @no_grad_step
    def step(self, closure=None):
        """step(closure=None) -> Optional[float]

        One ASGD update of every parameter with a gradient, then of its average.
        """
        loss = evaluate_closure(closure)
        for group in self.param_groups:
            lr, lambd, alpha, t0 = group["lr"], group["lambd"], group["alpha"], group["t0"]
            for p, grad, state in step_grads(group, self.state):
                step = next_step(state, p, "ax", eta=lr, mu=1.0)
                grad = weight_decay_(p, grad, lr, group["weight_decay"])
                eta, mu = state["eta"], state["mu"]
                p.mul_(1 - lambd * eta)
                p.add_(grad, alpha=-eta)
                if mu != 1:
                    state["ax"].add_(p.sub(state["ax"]).mul_(mu))
                else:
                    state["ax"].copy_(p)
                state["eta"] = lr / ((1 + lambd * lr * step) ** alpha)
                state["mu"] = 1 / max(1, step - t0)
        return loss
