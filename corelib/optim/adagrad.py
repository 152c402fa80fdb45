"""Adagrad, as torch.optim.Adagrad."""
from __future__ import annotations

from .._ops.creation import full_like
from .optimizer import (Optimizer, addcdiv_, addcmul_, check_hyper, evaluate_closure, no_grad_step,
                        step_grads, weight_decay_)

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad with lr decay, weight decay, initial accumulator value and maximize."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, *, maximize=False):
        check_hyper("learning rate", lr)
        check_hyper("lr_decay value", lr_decay)
        check_hyper("weight_decay value", weight_decay)
        check_hyper("initial_accumulator_value value", initial_accumulator_value)
        check_hyper("epsilon value", eps)
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value,
                    "maximize": maximize}
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p, group):
        state = self.state[p]
        if not state:
            state["step"] = 0.0
            state["sum"] = full_like(p, group["initial_accumulator_value"])
        return state

    def share_memory(self):
        """Accepted for PyTorch compatibility (no-op: one process)."""

    @no_grad_step
    def step(self, closure=None):
        loss = evaluate_closure(closure)
        for group in self.param_groups:
            lr, lr_decay, eps = group["lr"], group["lr_decay"], group["eps"]
            weight_decay = group["weight_decay"]
            for p, grad, state in step_grads(group, self.state):
                if not state:   # a group added after construction
                    state = self._init_state(p, group)
                state["step"] = step = state["step"] + 1
                grad = weight_decay_(p, grad, lr, weight_decay)
                clr = lr / (1 + (step - 1) * lr_decay)
                std = addcmul_(state["sum"], grad, grad, 1).sqrt().add_(eps)
                addcdiv_(p, grad, std, -clr)
        return loss
