"""Rprop, as torch.optim.Rprop."""
from __future__ import annotations

import corelib

from .optimizer import Optimizer, check_hyper, evaluate_closure, next_step, no_grad_step, step_grads

__all__ = ["Rprop"]


class Rprop(Optimizer):
    """Rprop(params, lr=0.01, etas=(0.5, 1.2), step_sizes=(1e-06, 50), *, maximize=False)

    Resilient backpropagation: per-element step sizes grown or shrunk by the sign of successive gradients.
    """

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        check_hyper("learning rate", lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = {"lr": lr, "etas": tuple(etas), "step_sizes": tuple(step_sizes),
                    "maximize": maximize}
        super().__init__(params, defaults)

    @no_grad_step
    def step(self, closure=None):
        """step(closure=None) -> Optional[float]

        One Rprop update of every parameter with a gradient.
        """
        loss = evaluate_closure(closure)
        for group in self.param_groups:
            (etaminus, etaplus), (step_min, step_max) = group["etas"], group["step_sizes"]
            for p, grad, state in step_grads(group, self.state):
                if not state:
                    next_step(state, p, "prev")
                    state["step_size"] = corelib.full_like(grad, group["lr"])
                else:
                    next_step(state, p)
                prev, step_size = state["prev"], state["step_size"]
                sign = (grad * prev).sign()
                factor = sign.masked_fill(sign > 0, etaplus).masked_fill(sign < 0, etaminus) \
                    .masked_fill(sign == 0, 1.0)
                step_size.mul_(factor).clamp_(step_min, step_max)
                grad = grad.masked_fill(sign < 0, 0.0)
                p.sub_(grad.sign() * step_size)
                prev.copy_(grad)
        return loss
