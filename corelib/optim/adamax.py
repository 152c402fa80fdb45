"""Adamax (Adam with the infinity norm), as torch.optim.Adamax."""
from __future__ import annotations

from .optimizer import (Optimizer, adam_defaults, addcdiv_, evaluate_closure, lerp_, maximum_,
                        next_step, no_grad_step, step_grads, weight_decay_)

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Adamax with betas, eps, weight decay and maximize."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, *,
                 maximize=False):
        defaults = adam_defaults(lr, betas, eps, weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    @no_grad_step
    def step(self, closure=None):
        loss = evaluate_closure(closure)
        for group in self.param_groups:
            lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
            weight_decay = group["weight_decay"]
            for p, grad, state in step_grads(group, self.state):
                step = next_step(state, p, "exp_avg", "exp_inf")
                grad = weight_decay_(p, grad, lr, weight_decay)
                exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
                lerp_(exp_avg, grad, 1 - beta1)
                maximum_(exp_inf.mul_(beta2), grad.abs().add_(eps))
                addcdiv_(p, exp_avg, exp_inf, -lr / (1 - beta1 ** step))
        return loss
