"""NAdam (Adam with Nesterov momentum), as torch.optim.NAdam."""
from __future__ import annotations

from .optimizer import (Optimizer, adam_defaults, adam_moments_, addcdiv_, check_hyper,
                        evaluate_closure, next_step, no_grad_step, step_grads, weight_decay_)

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """NAdam with momentum decay, L2 or decoupled weight decay and maximize."""
    _float_state_keys = ("step", "mu_product")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, maximize=False):
        defaults = adam_defaults(lr, betas, eps, weight_decay, momentum_decay=momentum_decay,
                                 decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
        check_hyper("momentum_decay value", momentum_decay)
        super().__init__(params, defaults)

    @no_grad_step
    def step(self, closure=None):
        loss = evaluate_closure(closure)
        for group in self.param_groups:
            lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
            weight_decay, momentum_decay = group["weight_decay"], group["momentum_decay"]
            decoupled = group["decoupled_weight_decay"]
            for p, grad, state in step_grads(group, self.state):
                step = next_step(state, p, "exp_avg", "exp_avg_sq", mu_product=1.0)
                bias_correction2 = 1 - beta2 ** step
                grad = weight_decay_(p, grad, lr, weight_decay, decoupled)
                mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
                state["mu_product"] = mu_product = state["mu_product"] * mu
                mu_product_next = mu_product * mu_next
                exp_avg, exp_avg_sq = adam_moments_(state, grad, beta1, beta2)
                denom = exp_avg_sq.div(bias_correction2).sqrt_().add_(eps)
                addcdiv_(p, grad, denom, -lr * (1.0 - mu) / (1.0 - mu_product))
                addcdiv_(p, exp_avg, denom, -lr * mu_next / (1.0 - mu_product_next))
        return loss
