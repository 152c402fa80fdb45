"""RAdam (rectified Adam), as torch.optim.RAdam."""
from __future__ import annotations

from .optimizer import (Optimizer, adam_defaults, adam_moments_, evaluate_closure, next_step,
                        no_grad_step, step_grads, weight_decay_)

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """RAdam with L2 or decoupled weight decay and maximize."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, maximize=False):
        defaults = adam_defaults(lr, betas, eps, weight_decay, maximize=maximize,
                                 decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    @no_grad_step
    def step(self, closure=None):
        loss = evaluate_closure(closure)
        for group in self.param_groups:
            lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
            weight_decay, decoupled = group["weight_decay"], group["decoupled_weight_decay"]
            rho_inf = 2 / (1 - beta2) - 1
            for p, grad, state in step_grads(group, self.state):
                step = next_step(state, p, "exp_avg", "exp_avg_sq")
                grad = weight_decay_(p, grad, lr, weight_decay, decoupled)
                exp_avg, exp_avg_sq = adam_moments_(state, grad, beta1, beta2)
                bias_correction1 = 1 - beta1 ** step
                bias_correction2 = 1 - beta2 ** step
                update = exp_avg / bias_correction1
                rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
                if rho_t > 5.0:
                    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                            / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                    adaptive = (bias_correction2 ** 0.5) / exp_avg_sq.sqrt().add_(eps)
                    update.mul_(lr).mul_(adaptive).mul_(rect)
                else:
                    update.mul_(lr)
                p.sub_(update)
        return loss
