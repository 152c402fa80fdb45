"""RMSprop, as torch.optim.RMSprop."""
from __future__ import annotations

from .optimizer import (Optimizer, addcdiv_, addcmul_, check_hyper, evaluate_closure, lerp_,
                        next_step, no_grad_step, step_grads, weight_decay_)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop with smoothing ``alpha``, momentum, centering, weight decay and maximize."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, maximize=False):
        check_hyper("learning rate", lr)
        check_hyper("epsilon value", eps)
        check_hyper("momentum value", momentum)
        check_hyper("weight_decay value", weight_decay)
        check_hyper("alpha value", alpha)
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps,
                    "centered": centered, "weight_decay": weight_decay, "maximize": maximize}
        super().__init__(params, defaults)

    @no_grad_step
    def step(self, closure=None):
        loss = evaluate_closure(closure)
        for group in self.param_groups:
            lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
            weight_decay, momentum, centered = group["weight_decay"], group["momentum"], \
                group["centered"]
            for p, grad, state in step_grads(group, self.state):
                next_step(state, p, "square_avg", "momentum_buffer" if momentum > 0 else None,
                          "grad_avg" if centered else None)
                grad = weight_decay_(p, grad, lr, weight_decay)
                square_avg = addcmul_(state["square_avg"].mul_(alpha), grad, grad, 1 - alpha)
                if centered:
                    grad_avg = lerp_(state["grad_avg"], grad, 1 - alpha)
                    avg = addcmul_(square_avg.clone(), grad_avg, grad_avg, -1).sqrt_()
                else:
                    avg = square_avg.sqrt()
                avg.add_(eps)
                if momentum > 0:
                    buf = addcdiv_(state["momentum_buffer"].mul_(momentum), grad, avg)
                    p.add_(buf, alpha=-lr)
                else:
                    addcdiv_(p, grad, avg, -lr)
        return loss
