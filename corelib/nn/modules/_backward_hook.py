"""Full backward hooks: identity Functions around a module's tensor inputs and outputs."""
from __future__ import annotations

from ..._tensor import Tensor
from ...autograd.function import Function


class _Identity(Function):
    """Identity on its tensor args; backward hands the gradients to ``callback``."""

    @staticmethod
    def forward(ctx, callback, *tensors):
        ctx.callback = callback
        ctx.set_materialize_grads(False)
        return tensors

    @staticmethod
    def backward(ctx, *grads):
        result = ctx.callback(grads)
        return (None,) + tuple(grads if result is None else result)


class BackwardHook:
    """Calls ``hook(module, grad_input, grad_output)`` for one forward call of ``module``."""

    def __init__(self, module, hooks):
        self.module = module
        self.hooks = hooks
        self.grad_output = None
        self.n_inputs = 0
        self.inputs_tracked = False

    def _call_hooks(self, grad_input):
        grad_input = tuple(grad_input)
        for hook in self.hooks:
            result = hook(self.module, grad_input, self.grad_output)
            if result is not None:
                result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
                if len(result) != len(grad_input):
                    raise RuntimeError(f"Backward hook returned an invalid number of grad_input,"
                                       f" got {len(result)}, but expected {len(grad_input)}")
                grad_input = result
        return grad_input

    def _wrap(self, values, callback):
        positions = [i for i, v in enumerate(values) if isinstance(v, Tensor)]
        if not positions:
            return values, 0
        tensors = _Identity.apply(callback, *(values[i] for i in positions))
        values = list(values)
        for i, t in zip(positions, tensors):
            values[i] = t
        return values, len(positions)

    def setup_input(self, args):
        tracked = [a for a in args if isinstance(a, Tensor) and a.requires_grad]
        self.inputs_tracked = bool(tracked)
        if not self.inputs_tracked:
            return args
        values, self.n_inputs = self._wrap(args, self._call_hooks)
        return tuple(values)

    def setup_output(self, result):
        def capture(grads):
            self.grad_output = tuple(grads)
            if not self.inputs_tracked:
                self._call_hooks((None,))
            return None
        single = isinstance(result, Tensor)
        values, _ = self._wrap((result,) if single else tuple(result)
                               if isinstance(result, (tuple, list)) else (result,), capture)
        return values[0] if single or not isinstance(result, (tuple, list)) else \
            type(result)(values) if isinstance(result, tuple) else list(values)
