"""RMSprop, as torch.optim.RMSprop."""
from __future__ import annotations

from .._ops.creation import zeros_like
from .optimizer import (Optimizer, addcdiv_, addcmul_, check_hyper, evaluate_closure, lerp_,
                        no_grad_step, step_grads)

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
                if not state:
                    state["step"] = 0.0
                    state["square_avg"] = zeros_like(p)
                    if momentum > 0:
                        state["momentum_buffer"] = zeros_like(p)
                    if centered:
                        state["grad_avg"] = zeros_like(p)
                state["step"] += 1
                if weight_decay != 0:
                    grad = grad.add(p, alpha=weight_decay)
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
