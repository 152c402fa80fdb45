"""NAdam (Adam with Nesterov momentum), as torch.optim.NAdam."""
from __future__ import annotations

from .._ops.creation import zeros_like
from .optimizer import (Optimizer, addcdiv_, addcmul_, check_betas, check_hyper,
                        evaluate_closure, lerp_, no_grad_step, step_grads)

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """NAdam with momentum decay, L2 or decoupled weight decay and maximize."""
    _float_state_keys = ("step", "mu_product")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, maximize=False):
        check_hyper("learning rate", lr)
        check_hyper("epsilon value", eps)
        check_betas(betas)
        check_hyper("weight_decay value", weight_decay)
        check_hyper("momentum_decay value", momentum_decay)
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay,
                    "momentum_decay": momentum_decay,
                    "decoupled_weight_decay": decoupled_weight_decay, "maximize": maximize}
        super().__init__(params, defaults)

    @no_grad_step
    def step(self, closure=None):
        loss = evaluate_closure(closure)
        for group in self.param_groups:
            lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
            weight_decay, momentum_decay = group["weight_decay"], group["momentum_decay"]
            decoupled = group["decoupled_weight_decay"]
            for p, grad, state in step_grads(group, self.state):
                if not state:
                    state["step"] = 0.0
                    state["mu_product"] = 1.0
                    state["exp_avg"] = zeros_like(p)
                    state["exp_avg_sq"] = zeros_like(p)
                state["step"] = step = state["step"] + 1
                bias_correction2 = 1 - beta2 ** step
                if weight_decay != 0:
                    if decoupled:
                        p.mul_(1 - lr * weight_decay)
                    else:
                        grad = grad.add(p, alpha=weight_decay)
                mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
                state["mu_product"] = mu_product = state["mu_product"] * mu
                mu_product_next = mu_product * mu_next
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                lerp_(exp_avg, grad, 1 - beta1)
                addcmul_(exp_avg_sq.mul_(beta2), grad, grad, 1 - beta2)
                denom = exp_avg_sq.div(bias_correction2).sqrt_().add_(eps)
                addcdiv_(p, grad, denom, -lr * (1.0 - mu) / (1.0 - mu_product))
                addcdiv_(p, exp_avg, denom, -lr * mu_next / (1.0 - mu_product_next))
        return loss
