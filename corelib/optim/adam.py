"""Adam (and its decoupled-weight-decay form used by AdamW), as torch.optim.Adam."""
from __future__ import annotations

from .optimizer import (Optimizer, adam_defaults, adam_moments_, addcdiv_, evaluate_closure,
                        maximum_, next_step, no_grad_step, step_grads, weight_decay_)

__all__ = ["Adam"]


class Adam(Optimizer):
    """Adam with amsgrad, L2 or decoupled weight decay and maximize."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, maximize=False, decoupled_weight_decay=False):
        defaults = adam_defaults(lr, betas, eps, weight_decay, amsgrad=amsgrad, maximize=maximize,
                                 decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    @no_grad_step
    def step(self, closure=None):
        loss = evaluate_closure(closure)
        for group in self.param_groups:
            lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
            weight_decay, amsgrad = group["weight_decay"], group["amsgrad"]
            decoupled = group["decoupled_weight_decay"]
            for p, grad, state in step_grads(group, self.state):
                step = next_step(state, p, "exp_avg", "exp_avg_sq",
                                 "max_exp_avg_sq" if amsgrad else None)
                grad = weight_decay_(p, grad, lr, weight_decay, decoupled)
                exp_avg, exp_avg_sq = adam_moments_(state, grad, beta1, beta2)
                step_size = lr / (1 - beta1 ** step)
                bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
                if amsgrad:
                    second = maximum_(state["max_exp_avg_sq"], exp_avg_sq)
                else:
                    second = exp_avg_sq
                denom = second.sqrt().div_(bias_correction2_sqrt).add_(eps)
                addcdiv_(p, exp_avg, denom, -step_size)
        return loss
