"""Autograd graph nodes and the backward engine.

A node stands for one op application. It keeps the op record, the values its derivative rule
needs (inputs and/or output, with the version each had when saved), and one edge per input:
``(node, output_nr)`` or None. Leaves that require grad get an ``AccumulateGrad`` node.

The engine is iterative (Kahn's algorithm over dependency counts), so graph depth is bounded
only by memory; derivative rules are frontend code, so ``create_graph=True`` simply runs them
with grad mode on.
"""
from __future__ import annotations

import weakref

from .grad_mode import STATE

__all__ = ["Node", "OpNode", "AccumulateGrad", "backward", "grad"]

_FREED_MSG = ("Trying to backward through the graph a second time (or directly access saved "
              "tensors after they have already been freed). Saved intermediate values of the graph "
              "are freed when you call .backward() or autograd.grad(). Specify retain_graph=True "
              "if you need to backward through the graph a second time or if you need to access "
              "saved tensors after calling backward.")


# Anomaly mode (autograd.anomaly_mode): holds the node-creation callback while on, else empty,
# so the hot path pays one truth test.
ANOMALY: list = []


def version_of(t):
    box = t._vbox
    return 0 if box is None else box[0]


class Node:
    """Base class: ``next_edges``, ``apply(grads) -> input grads``, hooks."""
    __slots__ = ("next_edges", "pre_hooks", "hooks", "__weakref__")
    num_outputs = 1

    def name(self):
        return type(self).__name__

    def register_prehook(self, fn, output_nr=0):
        if self.pre_hooks is None:
            self.pre_hooks = {}
        self.pre_hooks.setdefault(output_nr, []).append(fn)
        return _Handle(self.pre_hooks[output_nr], fn)

    def register_hook(self, fn):
        if self.hooks is None:
            self.hooks = []
        self.hooks.append(fn)
        return _Handle(self.hooks, fn)

    def release(self):
        pass

    def __repr__(self):
        return f"<{self.name()} object at {id(self):#x}>"


class _Handle:
    __slots__ = ("hooks", "fn")

    def __init__(self, hooks, fn):
        self.hooks, self.fn = hooks, fn

    def remove(self):
        if self.fn in self.hooks:
            self.hooks.remove(self.fn)


class SavedTensor:
    """An input saved for backward plus the version it had; checked when unpacked."""
    __slots__ = ("tensor", "version")

    def __init__(self, tensor):
        self.tensor = tensor
        box = tensor._vbox
        self.version = 0 if box is None else box[0]

    def unpack(self, op_name):
        current = version_of(self.tensor)
        if current != self.version:
            raise RuntimeError(
                f"one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: an input of {op_name} is at version {current}; expected "
                f"version {self.version} instead.")
        return self.tensor


class OpNode(Node):
    """A node for one primitive-op application (see corelib._ops.core.Op)."""
    __slots__ = ("op", "params", "saved_inputs", "saved_out", "out_ref", "input_meta", "freed")

    def name(self):
        return self.op.node_name

    def apply(self, grads):
        if self.freed:
            raise RuntimeError(_FREED_MSG)
        op = self.op
        if op.saves_meta:
            inputs = self.input_meta
        elif self.saved_inputs is not None:
            inputs = tuple(s.unpack(op.node_name) if isinstance(s, SavedTensor) else s
                           for s in self.saved_inputs)
        else:   # nothing saved: the rule gets one None per input
            inputs = (None,) * len(self.next_edges)
        out = None
        if self.saved_out is not None:
            out = self.saved_out.materialize(self, op.node_name)
        return op.vjp(grads[0], out, *inputs, **self.params)

    def release(self):
        self.saved_inputs = self.saved_out = None
        self.freed = True


class SavedOutput:
    """The output of a node, saved as data + version box, re-wrapped with the node as grad_fn."""
    __slots__ = ("data", "dtype", "device", "box", "version")

    def __init__(self, out):
        if out._vbox is None:
            out._vbox = [0]
        self.data, self.dtype, self.device = out._data, out.dtype, out.device
        self.box, self.version = out._vbox, out._vbox[0]

    def materialize(self, node, op_name):
        if self.box[0] != self.version:
            raise RuntimeError(
                f"one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: the output of {op_name} is at version {self.box[0]}; "
                f"expected version {self.version} instead. Hint: the operation that failed "
                f"was {op_name}; avoid modifying its output in place.")
        from .._tensor import Tensor
        return Tensor._make(self.data, self.device, self.dtype, node if STATE.grad_enabled
                            else None)


class AccumulateGrad(Node):
    """Sink for a leaf: adds the incoming gradient into ``leaf.grad``."""
    __slots__ = ("variable",)

    def __init__(self, variable):
        self.variable = variable
        self.next_edges = ()
        self.pre_hooks = self.hooks = None

    def apply(self, grads, owned=False):
        accumulate_into(self.variable, grads[0], STATE.grad_enabled, owned)
        return ()


def accumulate_into(t, g, create_graph, owned=False):
    """leaf.grad += g, as PyTorch does: the first gradient is stored as is when the engine
    knows nothing else references it (``owned``), else as a copy (it may alias another buffer
    or be a read-only broadcast view); later ones are added in place unless a graph is being
    built."""
    if g is None:
        return
    if t.grad is None:
        t.grad = g if create_graph else g.detach() if owned else g.detach().clone()
    elif create_graph or t.grad.requires_grad:
        t.grad = t.grad + g
    else:
        t.grad.add_(g.detach())


def grad_accumulator(t):
    node = t._accum() if t._accum is not None else None
    if node is None:
        node = AccumulateGrad(t)
        t._accum = weakref.ref(node)
    return node


def edge_of(t):
    """The graph edge for input tensor ``t``: (node, output_nr) or None."""
    if t._grad_fn is not None:
        return (t._grad_fn, t._output_nr)
    if t._requires_grad:
        return (grad_accumulator(t), 0)
    return None


def _call_hooks(hooks, g):
    for hook in hooks:
        r = hook(g)
        if r is not None:
            check_hook_result(hook, g, r)
            g = r
    return g


def check_hook_result(hook, old, new):
    """A tensor hook may replace a gradient only by a tensor of the same size, type and device
    (PyTorch's messages)."""
    from .._tensor import Tensor
    name = getattr(hook, "__name__", repr(hook))
    if not isinstance(new, Tensor):
        raise TypeError(f"expected Variable, but hook returned '{type(new).__name__}'")
    if new.dtype is not old.dtype:
        raise RuntimeError(f"hook '{name}' has changed the type of value (was {old.type()} got "
                           f"{new.type()})")
    if new.device is not old.device:
        raise RuntimeError(f"hook '{name}' has changed the type of value (was {old.device} got "
                           f"{new.device})")
    if new._data.shape != old._data.shape:
        raise RuntimeError(f"hook '{name}' has changed the size of value")


def _unaliased(g, produced, received, saved):
    """g appears once among a node's results and is neither one of its incoming gradients nor
    a tensor it saved (so only the engine references it)."""
    count = 0
    for x in produced:
        if x is g:
            count += 1
    return count == 1 and all(x is not g for x in received) and \
        (saved is None or all(getattr(x, "tensor", None) is not g for x in saved))


def _apply_checked(node, grads):
    """node.apply under anomaly mode: failures name the forward stack, NaN/inf results raise."""
    from . import anomaly_mode
    try:
        result = node.apply(grads)
    except Exception:
        anomaly_mode.warn_failure(node)
        raise
    anomaly_mode.check_results(node, result if isinstance(result, tuple) else (result,))
    return result


def run_backward(roots, root_grads, retain_graph, create_graph, capture=None,
                 accumulate=True, allow_unused=False):
    """Propagate ``root_grads`` from ``roots`` (tensors) through the graph.

    capture: optional list of edges whose incoming gradient should be returned (autograd.grad);
    then leaves are not accumulated into.
    """
    from .._ops.shape import sum_to_shape

    # 1. dependency counts of every node reachable from the roots (iterative DFS)
    root_edges = [edge_of(t) for t in roots]
    deps: dict = {}
    stack = [e[0] for e in root_edges if e is not None]
    seen = set(map(id, stack))
    while stack:
        node = stack.pop()
        for edge in node.next_edges:
            if edge is None:
                continue
            child = edge[0]
            deps[child] = deps.get(child, 0) + 1
            if id(child) not in seen:
                seen.add(id(child))
                stack.append(child)

    captured = {}
    capture_at = {}
    if capture is not None:
        for i, edge in enumerate(capture):
            if edge is not None:
                capture_at.setdefault((edge[0], edge[1]), []).append(i)

    # 2. seed buffers with the root gradients
    buffers: dict = {}
    owned: dict = {}   # id -> gradient tensor referenced only by the engine (may be stolen)

    def add_to(node, nr, g):
        buf = buffers.get(node)
        if buf is None:
            buf = buffers[node] = [None] * node.num_outputs
        buf[nr] = g if buf[nr] is None else buf[nr] + g

    for edge, g in zip(root_edges, root_grads):
        if edge is not None:
            add_to(edge[0], edge[1], g)

    ready = [e[0] for e in root_edges if e is not None and deps.get(e[0], 0) == 0]
    ready = list(dict.fromkeys(ready))
    prev_mode = STATE.grad_enabled
    STATE.grad_enabled = create_graph
    try:
        while ready:
            node = ready.pop()
            grads = buffers.pop(node, None) or [None] * node.num_outputs
            if node.pre_hooks:
                for nr, hooks in node.pre_hooks.items():
                    if grads[nr] is not None:
                        grads[nr] = _call_hooks(hooks, grads[nr])
            if capture_at:
                for nr in range(node.num_outputs):
                    for i in capture_at.get((node, nr), ()):
                        captured[i] = grads[nr]
            if isinstance(node, AccumulateGrad):
                if accumulate and capture is None:
                    node.apply(grads, owned.get(id(grads[0])) is grads[0])
                    if node.hooks:   # post-accumulate hooks (DDP's gradient buckets)
                        for hook in node.hooks:
                            hook((), grads)
                continue
            for g in grads:
                if g is not None:
                    input_grads = node.apply(grads) if not ANOMALY else \
                        _apply_checked(node, grads)
                    if not isinstance(input_grads, tuple):
                        input_grads = (input_grads,)
                    break
            else:
                input_grads = (None,) * len(node.next_edges)
            if node.hooks:
                for hook in node.hooks:
                    hook(input_grads, grads)
            fresh = type(node) is OpNode   # its rule's results are new tensors unless aliased
            kept = node.saved_inputs if fresh else None
            if not retain_graph:
                node.release()
            meta = getattr(node, "input_meta", None)
            for i, edge in enumerate(node.next_edges):
                if edge is None:
                    continue
                child, nr = edge
                g = input_grads[i] if i < len(input_grads) else None
                if g is not None:
                    if meta is not None and g._data.shape != meta[i]:
                        g = sum_to_shape(g, meta[i])
                    buf = buffers.get(child)
                    if buf is None:
                        buf = buffers[child] = [None] * child.num_outputs
                    if buf[nr] is None:
                        buf[nr] = g
                        if fresh and g._base is None and _unaliased(g, input_grads, grads, kept):
                            owned[id(g)] = g
                    else:
                        buf[nr] = buf[nr] + g
                        owned[id(buf[nr])] = buf[nr]
                deps[child] -= 1
                if deps[child] == 0:
                    ready.append(child)
    finally:
        STATE.grad_enabled = prev_mode

    if capture is not None:
        return [captured.get(i) for i in range(len(capture))]
    return None
