"""DistributedDataParallel: data-parallel training over a ``corelib.distributed`` group.

As PyTorch's: construction checks that every rank holds the same parameters (shapes and
dtypes) and broadcasts parameters and buffers from rank 0. Gradients are averaged with bucketed
all-reduces: parameters are grouped, in reverse registration order (roughly the order backward
produces their gradients), into buckets of at most ``bucket_cap_mb``; a post-accumulate-grad
hook copies a parameter's gradient into its bucket's flat buffer (kept across iterations) as soon
as it is accumulated, and a bucket whose parameters are all ready is divided by the world size
and all-reduced with ``async_op=True`` (MPI's non-blocking Iallreduce) while backward goes on. Buckets start in index order on every rank, so all ranks issue the same
collectives in the same order. The hook that completes the last bucket waits for all of them and
writes the averaged gradients back into ``param.grad``: when ``backward()`` returns, every rank
holds the same gradients, equal to those of one process on the concatenated batch (for a loss
that is a mean over equal local batches).

Buffers (BatchNorm's running statistics) are rank 0's at the start of every forward
(``broadcast_buffers=True``), as in PyTorch; like PyTorch's, each replica's BatchNorm normalises
with its own batch's statistics (SyncBatchNorm is not provided).

``no_sync()`` skips the reduction for forward passes inside it (gradients accumulate locally);
the next synchronised backward reduces the accumulated sums. ``find_unused_parameters=True``
walks the autograd graph from the forward's outputs and marks parameters it does not reach as
ready at the first hook; parameters no rank used keep their ``.grad`` untouched.

``state_dict()`` is the wrapper's, so its keys carry the ``module.`` prefix exactly as in
PyTorch: save ``ddp.module.state_dict()`` to load into the bare model, or strip the prefix with
``corelib.nn.modules.utils.consume_prefix_in_state_dict_if_present(sd, "module.")``.
"""
from __future__ import annotations

from contextlib import contextmanager

import corelib
from corelib import distributed as dist
from corelib.distributed.distributed_c10d import _all_reduce_unchecked

from ..modules.module import Module

__all__ = ["DistributedDataParallel"]

_UNFINISHED = (
    "Expected to have finished reduction in the prior iteration before starting a new one. "
    "This error indicates that your module has parameters that were not used in producing "
    "loss. You can enable unused parameter detection by passing the keyword argument "
    "`find_unused_parameters=True` to `corelib.nn.parallel.DistributedDataParallel`, and by "
    "making sure all `forward` function outputs participate in calculating loss.")


class _Bucket:
    """Parameters reduced together: one flat buffer (kept across iterations) and a view of it
    per parameter, into which each gradient is copied as soon as it is ready."""
    __slots__ = ("params", "pending", "flat", "views", "work")

    def __init__(self, params, tensors):
        self.params = params        # indices into DDP's parameter list
        self.pending = len(params)
        first = tensors[params[0]]
        self.flat = corelib.zeros(sum(tensors[i].numel() for i in params), dtype=first.dtype,
                                  device=first.device)
        self.views, offset = [], 0
        for i in params:
            n = tensors[i].numel()
            self.views.append(self.flat[offset:offset + n].view(tensors[i].shape))
            offset += n
        self.work = None


class DistributedDataParallel(Module):
    """Wrap ``module`` for data-parallel training (one process per replica).

    ``device_ids``, ``output_device``, ``dim``, ``check_reduction``,
    ``gradient_as_bucket_view`` and ``static_graph`` are accepted for PyTorch compatibility and
    change nothing here (one device per process; buckets are separate buffers)."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0,
                 broadcast_buffers=True, process_group=None, bucket_cap_mb=None,
                 find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False):
        super().__init__()
        if not dist.is_initialized():
            raise ValueError("Default process group has not been initialized, please make "
                             "sure to call init_process_group.")
        self.module = module
        self.process_group = process_group if process_group is not None else dist.group.WORLD
        self.device_ids, self.output_device, self.dim = device_ids, output_device, dim
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view, self.static_graph = gradient_as_bucket_view, static_graph
        self.bucket_bytes_cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * 2 ** 20)
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self._params = [p for p in module.parameters() if p.requires_grad]
        if not self._params:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't "
                               "have any parameter that requires a gradient.")
        self._world = dist.get_world_size(self.process_group)
        self._src = dist.get_global_rank(self.process_group, 0)
        self._verify_same_model()
        self._sync_module_states()
        self._buckets = self._assign_buckets()
        self._bucket_of = {i: (b, k) for b in self._buckets for k, i in enumerate(b.params)}
        self._ready = [False] * len(self._params)
        self._used = [True] * len(self._params)
        self._unused = []           # marked ready at the first hook of the iteration
        self._armed = False         # the last forward expects a synchronised backward
        self._next = 0              # the next bucket to start
        self._grad_hooks = [p.register_post_accumulate_grad_hook(self._hook_for(i))
                       for i, p in enumerate(self._params)]

    # -- construction ----------------------------------------------------------------------
    def _verify_same_model(self):
        mine = [(tuple(p.shape), p.dtype.name) for p in self._params]
        everyone = [None] * self._world
        dist.all_gather_object(everyone, mine, group=self.process_group)
        reference = everyone[0]
        for rank, theirs in enumerate(everyone):
            if len(theirs) != len(reference):
                raise RuntimeError(f"DDP expects same model across all ranks, but Rank "
                                   f"{rank} has {len(theirs)} params, while rank 0 has "
                                   f"inconsistent {len(reference)} params.")
            for i, (a, b) in enumerate(zip(reference, theirs)):
                if a != b:
                    raise RuntimeError(f"DDP expects same model across all ranks, but rank "
                                       f"{rank}'s parameter {i} has shape {b[0]} and dtype "
                                       f"{b[1]}, while rank 0's has shape {a[0]} and dtype "
                                       f"{a[1]}.")

    def _sync_module_states(self):
        self._broadcast_coalesced([*self.module.parameters(), *self.module.buffers()])

    def _broadcast_coalesced(self, tensors):
        """Rank 0's values of ``tensors``: one broadcast per dtype and device, not per tensor."""
        groups = {}
        for t in tensors:
            groups.setdefault((t.dtype, t.device), []).append(t)
        with corelib.no_grad():
            for members in groups.values():
                flat = corelib.cat([t.detach().reshape(-1) for t in members])
                dist.broadcast(flat, src=self._src, group=self.process_group)
                offset = 0
                for t in members:
                    n = t.numel()
                    t.detach().copy_(flat[offset:offset + n].view(t.shape))
                    offset += n

    def _assign_buckets(self):
        """Parameters in reverse order, split by dtype/device and by ``bucket_bytes_cap``."""
        buckets, open_ = [], {}
        for i in reversed(range(len(self._params))):
            p = self._params[i]
            key = (p.dtype, p.device)
            members, size = open_.get(key, ([], 0))
            nbytes = p.numel() * p.element_size()
            if members and size + nbytes > self.bucket_bytes_cap:
                buckets.append(_Bucket(members, self._params))
                members, size = [], 0
            open_[key] = (members + [i], size + nbytes)
        buckets.extend(_Bucket(members, self._params) for members, _ in open_.values()
                       if members)
        return buckets

    # -- forward ---------------------------------------------------------------------------
    def forward(self, *inputs, **kwargs):
        if self._armed and any(self._ready):
            raise RuntimeError(_UNFINISHED)
        if self.broadcast_buffers and self.require_forward_param_sync:
            buffers = list(self.module.buffers())
            if buffers:
                self._broadcast_coalesced(buffers)
        output = self.module(*inputs, **kwargs)
        if corelib.is_grad_enabled() and self.require_backward_grad_sync:
            self._prepare_for_backward(output)
        else:
            self._armed = False
        return output

    def _prepare_for_backward(self, output):
        self._armed = True
        self._ready = [False] * len(self._params)
        self._next = 0
        for b in self._buckets:
            b.pending, b.work = len(b.params), None
        self._unused = []
        if self.find_unused_parameters:
            reached = _reachable_leaves(output)
            self._used = [id(p) in reached for p in self._params]
            self._unused = [i for i, used in enumerate(self._used) if not used]

    @contextmanager
    def no_sync(self):
        """Forward passes inside skip the gradient all-reduce; gradients accumulate locally."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    # -- backward --------------------------------------------------------------------------
    def _hook_for(self, index):
        def hook(param):
            if self._armed:
                self._mark_ready(index)
        return hook

    def _mark_ready(self, index):
        if self._unused:
            unused, self._unused = self._unused, []
            for i in unused:
                self._mark_ready(i)
        if self._ready[index]:
            raise RuntimeError(f"Expected to mark a variable ready only once. Parameter "
                               f"{index} was marked ready twice in this iteration (a "
                               f"parameter used in several backward passes, or a reentrant "
                               f"backward).")
        self._ready[index] = True
        bucket, k = self._bucket_of[index]
        grad = self._params[index].grad
        with corelib.no_grad():
            if grad is None:
                bucket.views[k].zero_()
            else:
                bucket.views[k].copy_(grad)
        bucket.pending -= 1
        if bucket.pending == 0:
            while self._next < len(self._buckets) and self._buckets[self._next].pending == 0:
                self._start(self._buckets[self._next])
                self._next += 1
            if self._next == len(self._buckets):
                self._finalize()

    def _start(self, bucket):
        with corelib.no_grad():
            bucket.flat.div_(self._world)
        bucket.work = _all_reduce_unchecked(bucket.flat, dist.ReduceOp.SUM,
                                            self.process_group, async_op=True)

    def _finalize(self):
        self._armed = False
        globally_used = None
        if self.find_unused_parameters:
            used = corelib.tensor([int(u) for u in self._used], dtype=corelib.int64)
            dist.all_reduce(used, op=dist.ReduceOp.MAX, group=self.process_group)
            globally_used = used.tolist()
        with corelib.no_grad():
            for bucket in self._buckets:
                bucket.work.wait()
                bucket.work = None
                for i, value in zip(bucket.params, bucket.views):
                    p = self._params[i]
                    if globally_used is None or globally_used[i]:
                        if p.grad is None:
                            p.grad = value.clone()
                        else:
                            p.grad.copy_(value)
        self._ready = [False] * len(self._params)


def _reachable_leaves(output):
    """ids of the leaf tensors the autograd graph of ``output``'s tensors reaches."""
    stack, seen, leaves = [], set(), set()

    def collect(obj):
        if isinstance(obj, corelib.Tensor):
            if obj.grad_fn is not None:
                stack.append(obj.grad_fn)
            elif obj.requires_grad:
                leaves.add(id(obj))
        elif isinstance(obj, dict):
            for v in obj.values():
                collect(v)
        elif isinstance(obj, (list, tuple)):
            for v in obj:
                collect(v)
    collect(output)
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        variable = getattr(node, "variable", None)
        if variable is not None:
            leaves.add(id(variable))
        for edge in getattr(node, "next_edges", ()) or ():
            if edge is not None:
                stack.append(edge[0])
    return leaves
