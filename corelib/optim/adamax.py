"""Adamax (Adam with the infinity norm), as torch.optim.Adamax."""
from __future__ import annotations

from .._ops.creation import zeros_like
from .optimizer import (Optimizer, addcdiv_, check_betas, check_hyper, evaluate_closure, lerp_,
                        maximum_, no_grad_step, step_grads)

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Adamax with betas, eps, weight decay and maximize."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, *,
                 maximize=False):
        check_hyper("learning rate", lr)
        check_hyper("epsilon value", eps)
        check_betas(betas)
        check_hyper("weight_decay value", weight_decay)
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize}
        super().__init__(params, defaults)

    @no_grad_step
    def step(self, closure=None):
        loss = evaluate_closure(closure)
        for group in self.param_groups:
            lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
            weight_decay = group["weight_decay"]
            for p, grad, state in step_grads(group, self.state):
                if not state:
                    state["step"] = 0.0
                    state["exp_avg"] = zeros_like(p)
                    state["exp_inf"] = zeros_like(p)
                state["step"] = step = state["step"] + 1
                if weight_decay != 0:
                    grad = grad.add(p, alpha=weight_decay)
                exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
                lerp_(exp_avg, grad, 1 - beta1)
                maximum_(exp_inf.mul_(beta2), grad.abs().add_(eps))
                addcdiv_(p, exp_avg, exp_inf, -lr / (1 - beta1 ** step))
        return loss
