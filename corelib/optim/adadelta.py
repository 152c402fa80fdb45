"""Adadelta, as torch.optim.Adadelta."""
from __future__ import annotations

from .optimizer import (Optimizer, addcmul_, check_hyper, evaluate_closure, next_step, no_grad_step,
                        step_grads, weight_decay_)

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta with decay ``rho``, eps, weight decay and maximize."""

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False):
        check_hyper("learning rate", lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        check_hyper("epsilon value", eps)
        check_hyper("weight_decay value", weight_decay)
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize}
        super().__init__(params, defaults)

    @no_grad_step
    def step(self, closure=None):
        loss = evaluate_closure(closure)
        for group in self.param_groups:
            lr, rho, eps, weight_decay = group["lr"], group["rho"], group["eps"], \
                group["weight_decay"]
            for p, grad, state in step_grads(group, self.state):
                next_step(state, p, "square_avg", "acc_delta")
                grad = weight_decay_(p, grad, lr, weight_decay)
                square_avg, acc_delta = state["square_avg"], state["acc_delta"]
                addcmul_(square_avg.mul_(rho), grad, grad, 1 - rho)
                std = square_avg.add(eps).sqrt_()
                delta = acc_delta.add(eps).sqrt_().div_(std).mul_(grad)
                addcmul_(acc_delta.mul_(rho), delta, delta, 1 - rho)
                p.add_(delta, alpha=-lr)
        return loss
