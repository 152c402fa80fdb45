"""``corelib.autograd.Function``: user-defined ops with ``forward``/``backward``, as PyTorch."""
from __future__ import annotations

from .grad_mode import STATE, no_grad
from .graph import ANOMALY, Node, SavedTensor, edge_of

__all__ = ["Function", "FunctionCtx", "once_differentiable"]


def _only_tensors(values, method, cls=RuntimeError, verb="accept"):
    """PyTorch's check of ctx.save_for_backward / mark_dirty / mark_non_differentiable."""
    from .._tensor import Tensor
    for i, t in enumerate(values):
        if t is not None and not isinstance(t, Tensor):
            raise cls(f"{method} can only {verb} variables, but argument {i} is of type "
                      f"{type(t).__name__}")


class FunctionCtx:
    """The ``ctx`` passed to forward and backward."""

    def save_for_backward(self, *tensors):
        _only_tensors(tensors, "save_for_backward", TypeError, "save")
        self._saved = tuple(None if t is None else SavedTensor(t) for t in tensors)

    @property
    def saved_tensors(self):
        saved = getattr(self, "_saved", ())
        if saved is None:
            from .graph import _FREED_MSG
            raise RuntimeError(_FREED_MSG)
        name = getattr(self, "_name", "Function")
        return tuple(None if s is None else s.unpack(name) for s in saved)

    def mark_non_differentiable(self, *tensors):
        _only_tensors(tensors, "mark_non_differentiable")
        self._non_diff = getattr(self, "_non_diff", set()) | {id(t) for t in tensors}

    def mark_dirty(self, *tensors):
        _only_tensors(tensors, "mark_dirty")
        self._dirty = {id(t) for t in tensors}

    def set_materialize_grads(self, value):
        self._materialize = bool(value)


class BackwardNode(Node, FunctionCtx):
    """Graph node of one Function application; it is also the ctx."""

    def name(self):
        return self._cls.__name__ + "Backward"

    def apply(self, grads):
        if getattr(self, "_released", False):
            from .graph import _FREED_MSG
            raise RuntimeError(_FREED_MSG)
        if getattr(self, "_materialize", True):
            grads = [g if g is not None else _zeros_like_output(self, i)
                     for i, g in enumerate(grads)]
        result = self._cls.backward(self, *grads)
        return _validate_grads(self, result if isinstance(result, tuple) else (result,))

    def release(self):
        self._saved = None
        self._released = True


def _validate_grads(node, result):
    """Check a custom backward's results as PyTorch does: one per forward input (extra Nones
    dropped), Tensor or None, None for non-Tensor inputs, a shape the input's expands to (then
    summed to the input's shape), the input's device; cast to the input's dtype."""
    from .._tensor import Tensor
    n = len(node.next_edges)
    if len(result) > n and all(r is None for r in result[n:]):
        result = result[:n]
    if len(result) != n:
        raise RuntimeError(f"function {node.name()} returned an incorrect number of gradients "
                           f"(expected {n}, got {len(result)})")
    out = []
    for i, (g, meta) in enumerate(zip(result, node._in_meta)):
        if g is None:
            out.append(None)
            continue
        if not isinstance(g, Tensor):
            raise RuntimeError(f"expected Variable or None (got {type(g).__name__})")
        if meta is None:
            raise RuntimeError(f"function {node.name()} returned a gradient different than None "
                               f"at position {i + 1}, but the corresponding forward input was "
                               f"not a Variable")
        if node.next_edges[i] is None:
            out.append(None)   # input needs no gradient: PyTorch discards it unchecked
            continue
        shape, dtype, device = meta
        gshape = tuple(g.shape)
        if gshape != shape:
            from .._ops.shape import broadcast_shape, sum_to_shape
            try:
                ok = broadcast_shape(shape, gshape) == gshape
            except RuntimeError:
                ok = False
            if not ok:
                raise RuntimeError(f"Function {node.name()} returned an invalid gradient at index "
                                   f"{i} - got {list(gshape)} but expected shape compatible "
                                   f"with {list(shape)}")
            g = sum_to_shape(g, shape)
        if g.device is not device:
            raise RuntimeError(f"Function {node.name()} returned an invalid gradient at index {i} "
                               f"- expected device {device} but got {g.device}")
        if g.dtype is not dtype:
            g = g.to(dtype)
        out.append(g)
    return tuple(out)


def _zeros_like_output(node, i):
    from .._ops.creation import zeros
    shape, dtype, device = node._out_meta[i]
    return zeros(shape, dtype=dtype, device=device)


class Function:
    """Subclass with ``@staticmethod forward(ctx, *args)`` and ``backward(ctx, *grads)``;
    call ``Fn.apply(*args)``."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward mode AD.")

    vjp = backward

    @classmethod
    def apply(cls, *args, **kwargs):
        from .._tensor import Tensor
        node = BackwardNode.__new__(BackwardNode)
        node.pre_hooks = node.hooks = None
        node._cls = cls
        node._name = cls.__name__ + "Backward"
        tensor_args = [a for a in args if isinstance(a, Tensor)]
        node.needs_input_grad = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        track = STATE.grad_enabled and any(node.needs_input_grad)
        with no_grad():
            outputs = cls.forward(node, *args, **kwargs)
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        if not track:
            return outputs
        node.next_edges = tuple(edge_of(a) if isinstance(a, Tensor) else None for a in args)
        if ANOMALY:
            ANOMALY[0](node)
        node._in_meta = tuple((tuple(a.shape), a.dtype, a.device) if isinstance(a, Tensor)
                              else None for a in args)
        non_diff = getattr(node, "_non_diff", set())
        wrapped = []
        inputs_by_id = {id(a) for a in tensor_args}
        node.num_outputs = len(outs)
        node._out_meta = []
        for i, o in enumerate(outs):
            if not isinstance(o, Tensor):
                wrapped.append(o)
                node._out_meta.append(None)
                continue
            node._out_meta.append((tuple(o.shape), o.dtype, o.device))
            if id(o) in non_diff or not o.dtype.is_floating_point:
                wrapped.append(o)
                continue
            if id(o) in inputs_by_id and id(o) not in getattr(node, "_dirty", ()):
                o = o.detach()  # an input returned as-is becomes a new output (a view)
            o._grad_fn = node
            o._output_nr = i
            o._requires_grad = True
            wrapped.append(o)
        return wrapped[0] if single else tuple(wrapped)


def once_differentiable(fn):
    def wrapper(ctx, *args):
        with no_grad():
            return fn(ctx, *args)
    wrapper.__name__ = fn.__name__
    return wrapper
