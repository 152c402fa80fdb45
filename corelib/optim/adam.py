"""Adam (and its decoupled-weight-decay form used by AdamW), as torch.optim.Adam."""
from __future__ import annotations

from .._ops.creation import zeros_like
from .optimizer import (Optimizer, addcdiv_, addcmul_, check_betas, check_hyper,
                        evaluate_closure, lerp_, maximum_, no_grad_step, step_grads)

__all__ = ["Adam"]


class Adam(Optimizer):
    """Adam with amsgrad, L2 or decoupled weight decay and maximize."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, maximize=False, decoupled_weight_decay=False):
        check_hyper("learning rate", lr)
        check_hyper("epsilon value", eps)
        check_betas(betas)
        check_hyper("weight_decay value", weight_decay)
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay,
                    "amsgrad": amsgrad, "maximize": maximize,
                    "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    @no_grad_step
    def step(self, closure=None):
        loss = evaluate_closure(closure)
        for group in self.param_groups:
            lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
            weight_decay, amsgrad = group["weight_decay"], group["amsgrad"]
            decoupled = group["decoupled_weight_decay"]
            for p, grad, state in step_grads(group, self.state):
                if not state:
                    state["step"] = 0.0
                    state["exp_avg"] = zeros_like(p)
                    state["exp_avg_sq"] = zeros_like(p)
                    if amsgrad:
                        state["max_exp_avg_sq"] = zeros_like(p)
                state["step"] = step = state["step"] + 1
                if weight_decay != 0:
                    if decoupled:
                        p.mul_(1 - lr * weight_decay)
                    else:
                        grad = grad.add(p, alpha=weight_decay)
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                lerp_(exp_avg, grad, 1 - beta1)
                addcmul_(exp_avg_sq.mul_(beta2), grad, grad, 1 - beta2)
                step_size = lr / (1 - beta1 ** step)
                bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
                if amsgrad:
                    second = maximum_(state["max_exp_avg_sq"], exp_avg_sq)
                else:
                    second = exp_avg_sq
                denom = second.sqrt().div_(bias_correction2_sqrt).add_(eps)
                addcdiv_(p, exp_avg, denom, -step_size)
        return loss
