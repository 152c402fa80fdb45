"""Optimizer base class (PyTorch's torch.optim.Optimizer contract) and shared update helpers.

Written against the corelib frontend only. Updates run under ``corelib.no_grad()`` with in-place
ops on the parameters, so parameter identity (and views onto them) are preserved.
"""
from __future__ import annotations

import functools
from collections import OrderedDict, defaultdict
from copy import deepcopy
from itertools import chain

from .._ops.creation import zeros_like
from .._tensor import Tensor
from ..autograd.grad_mode import enable_grad, no_grad
from ..nn.modules.module import RemovableHandle, _add_hook  # noqa: F401 (RemovableHandle: API)
from .._ops import elementwise as _elementwise

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """Singleton marking an optimizer option without a default."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


def _with_step_hooks(step):
    """Wrap a subclass's ``step`` so that registered pre/post hooks run around it."""
    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        pre, post = self._optimizer_step_pre_hooks, self._optimizer_step_post_hooks
        if not pre and not post:
            return step(self, *args, **kwargs)
        for hook in list(pre.values()):
            result = hook(self, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(f"{step} must return None or a tuple of (new_args, "
                                       f"new_kwargs), but got {result}.")
                args, kwargs = result
        out = step(self, *args, **kwargs)
        for hook in list(post.values()):
            hook(self, args, kwargs)
        return out
    wrapper._hooked = True
    return wrapper


class Optimizer:
    """Base class of all optimizers.

    params: an iterable of Tensors, or of dicts (parameter groups) whose keys override
    ``defaults`` for that group.
    """
    # state keys kept as Python floats (PyTorch keeps 0-d tensors); loaded tensors are converted
    _float_state_keys = ("step",)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_hooked", False):
            cls.step = _with_step_hooks(step)

    def __init__(self, params, defaults):
        self.defaults = defaults
        self._optimizer_step_pre_hooks = OrderedDict()
        self._optimizer_step_post_hooks = OrderedDict()
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got " + _typename(params))
        self.state = defaultdict(dict)
        self.param_groups = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    # -- pickling and printing ----------------------------------------------------------------
    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state,
                "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.__dict__.setdefault("_optimizer_step_pre_hooks", OrderedDict())
        self.__dict__.setdefault("_optimizer_step_post_hooks", OrderedDict())

    def __repr__(self):
        text = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"

    # -- parameter groups ---------------------------------------------------------------------
    def add_param_group(self, param_group):
        """Add a parameter group (a dict with 'params' and optional per-group options)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            param_group["params"] = list(params)
        tensors, names = [], []
        for param in param_group["params"]:
            if isinstance(param, tuple):
                names.append(param[0])
                tensors.append(param[1])
            else:
                tensors.append(param)
        param_group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError("all optimizer params should be with/without names. Some param "
                                 "names are missing")
            param_group["param_names"] = names
        for param in tensors:
            if not isinstance(param, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + _typename(param))
            if not self.defaults.get("differentiable", None) and not (
                    param.is_leaf or param.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)
        if len(tensors) != len(set(map(id, tensors))):
            import warnings
            warnings.warn("optimizer contains a parameter group with duplicate parameters; "
                          "in future, this will cause an error; see "
                          "github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        seen = set()
        for group in self.param_groups:
            seen.update(map(id, group["params"]))
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
        if not seen.isdisjoint(map(id, tensors)):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # -- gradients and steps ------------------------------------------------------------------
    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all parameters (to None by default, else to zeros)."""
        for group in self.param_groups:
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if grad.grad_fn is not None:
                        grad.detach_()
                    else:
                        grad.requires_grad_(False)
                    grad.zero_()

    def step(self, closure=None):
        """Perform one optimization step; returns the closure's loss (if given)."""
        raise NotImplementedError

    def register_step_pre_hook(self, hook):
        """hook(optimizer, args, kwargs) -> None or (new_args, new_kwargs), run before step."""
        return _add_hook(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook):
        """hook(optimizer, args, kwargs) -> None, run after step."""
        return _add_hook(self._optimizer_step_post_hooks, hook)

    # -- state dict ---------------------------------------------------------------------------
    def state_dict(self):
        """{'state': {param index: state}, 'param_groups': [group with 'params' as indices]}."""
        mapping = {}
        start = 0

        def pack_group(group):
            nonlocal start
            packed = {k: v for k, v in group.items() if k != "params"}
            mapping.update({id(p): i for i, p in enumerate(group["params"], start)
                            if id(p) not in mapping})
            packed["params"] = [mapping[id(p)] for p in group["params"]]
            start += len(packed["params"])
            return packed

        param_groups = [pack_group(g) for g in self.param_groups]
        state = {(mapping[id(k)] if isinstance(k, Tensor) else k): v
                 for k, v in self.state.items()}
        return {"state": state, "param_groups": param_groups}

    def load_state_dict(self, state_dict):
        """Load a ``state_dict()``; state tensors are cast to their parameter's dtype/device."""
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match "
                             "the size of optimizer's group")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))
        float_keys = self._float_state_keys

        def cast(param, value, key=None):
            if isinstance(value, Tensor):
                if key in float_keys:
                    return float(value)
                if param.is_floating_point():
                    return value.to(dtype=param.dtype, device=param.device)
                return value.to(device=param.device)
            if isinstance(value, dict):
                return {k: cast(param, v, k) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return type(value)(cast(param, v) for v in value)
            return value

        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = cast(param, v)
            else:
                state[k] = v
        for group, new_group in zip(groups, saved_groups):
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
        self.__setstate__({"state": state, "param_groups": saved_groups})


def _typename(obj):
    if isinstance(obj, Tensor):
        return obj.type()
    return type(obj).__module__ + "." + type(obj).__qualname__ \
        if type(obj).__module__ != "builtins" else type(obj).__qualname__


# ---------------------------------------------------------------------------------------------
# helpers shared by the optimizers
def evaluate_closure(closure):
    """Run ``closure`` with gradients enabled (step() itself runs under no_grad)."""
    if closure is None:
        return None
    with enable_grad():
        return closure()


def check_hyper(name, value, low=0.0, message=None):
    """ValueError like PyTorch's when ``value`` < ``low``."""
    if not low <= value:
        raise ValueError(message or f"Invalid {name}: {value}")


def check_betas(betas):
    for i in (0, 1):
        if not 0.0 <= betas[i] < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {betas[i]}")


def adam_defaults(lr, betas, eps, weight_decay, **options):
    """Validate the Adam family's shared hyper-parameters (in PyTorch's order) and return the
    defaults dict: lr, betas, eps, weight_decay, then ``options``."""
    check_hyper("learning rate", lr)
    check_hyper("epsilon value", eps)
    check_betas(betas)
    check_hyper("weight_decay value", weight_decay)
    return {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay, **options}


def next_step(state, p, *buffers, **scalars):
    """Count one more step in a param's state and return the new step number.

    An empty state is first filled: 'step' = 0.0, then ``scalars``, then a zero tensor like
    ``p`` for each name in ``buffers`` (None entries are skipped)."""
    if not state:
        state["step"] = 0.0
        state.update(scalars)
        for name in buffers:
            if name is not None:
                state[name] = zeros_like(p)
    state["step"] = step = state["step"] + 1
    return step


def weight_decay_(p, grad, lr, weight_decay, decoupled=False):
    """Apply weight decay; returns the gradient to use.

    Decoupled decay shrinks ``p`` in place (AdamW); otherwise L2 decay returns grad + wd * p."""
    if weight_decay != 0:
        if decoupled:
            p.mul_(1 - lr * weight_decay)
        else:
            grad = grad.add(p, alpha=weight_decay)
    return grad


def adam_moments_(state, grad, beta1, beta2):
    """Update Adam's first/second moment estimates in place; returns (exp_avg, exp_avg_sq)."""
    exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
    lerp_(exp_avg, grad, 1 - beta1)
    addcmul_(exp_avg_sq.mul_(beta2), grad, grad, 1 - beta2)
    return exp_avg, exp_avg_sq


def step_grads(group, state):
    """Yield (param, grad, param_state) for the group's params that have a gradient.

    ``grad`` is negated (a new tensor) for ``maximize`` groups."""
    maximize = group.get("maximize", False)
    for p in group["params"]:
        grad = p.grad
        if grad is None:
            continue
        yield p, (-grad if maximize else grad), state[p]


# In-place update primitives. They follow PyTorch's formulas for addcmul_/addcdiv_/lerp_ and
# are composed of plain in-place arithmetic (one temporary each), which is cheaper than the
# general broadcasting/promoting ternary ops on this hot path.
def addcmul_(t, a, b, value=1.0):
    """t += value * a * b, in place."""
    prod = a.mul(b)
    return t.add_(prod.mul_(value) if value != 1 else prod)


def addcdiv_(t, a, b, value=1.0):
    """t += value * a / b, in place."""
    quot = a.div(b)
    return t.add_(quot.mul_(value) if value != 1 else quot)


def lerp_(t, end, weight):
    """t += weight * (end - t), in place (PyTorch's two-sided formula for scalar weights)."""
    diff = end.sub(t)
    if weight < 0.5:
        return t.add_(diff.mul_(weight))
    return t.copy_(end).sub_(diff.mul_(1.0 - weight))


def maximum_(t, other):
    """t = max(t, other) elementwise, in place."""
    return _elementwise.maximum(t, other, out=t)


def abs_max(t):
    """max(|t|) as a Python float."""
    return float(t.abs().max())


def dot(a, b):
    """Inner product of two 1-d tensors as a Python float."""
    return float(a.dot(b))


# step() implementations are decorated with this: updates must not be recorded by autograd
no_grad_step = no_grad()
