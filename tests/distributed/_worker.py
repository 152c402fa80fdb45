"""One rank of the multi-process checks (started by test_distributed.py under mpiexec or
corelib.distributed.run). Every rank runs every check and raises on the first failure; the last
line, ``rank R: N checks passed``, is what the test looks for.

References are independent of the code under test: collectives against NumPy on the data all
ranks can compute, DDP against one process (on every rank) training on the full batch.
"""
from __future__ import annotations

import copy
import os
import sys
from contextlib import nullcontext
from datetime import timedelta

import numpy as np

import corelib
import corelib.distributed as dist
from corelib import nn
from corelib.nn.parallel import DistributedDataParallel as DDP

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
PASSED = [0]


def ok(cond, what):
    if not cond:
        raise AssertionError(f"rank {dist.get_rank()}: {what}")
    PASSED[0] += 1


def data(rank, dtype, n=6):
    """Rank ``rank``'s input for ``dtype`` (NumPy), small enough for exact products."""
    base = np.arange(n) % 3 + rank + 1
    return ((base + rank) % 2).astype(bool) if dtype == "bool" else base.astype(dtype)


def tensor(a):
    return corelib.tensor(a.copy())


def expect_error(fn, kind, text):
    try:
        fn()
    except kind as exc:
        ok(text in str(exc), f"error text {str(exc)!r} lacks {text!r}")
        return
    raise AssertionError(f"rank {dist.get_rank()}: no {kind.__name__} ({text})")


# -- collectives --------------------------------------------------------------------------------
def check_collectives(rank, world):
    R = dist.ReduceOp
    for dtype in DTYPES:
        stack = np.stack([data(r, dtype) for r in range(world)])
        wide = stack.astype(np.float64 if dtype in ("float16", "float32", "float64") else
                            np.int64)
        refs = {R.SUM: wide.sum(0), R.PRODUCT: wide.prod(0), R.MAX: wide.max(0),
                R.MIN: wide.min(0)}
        if dtype == "bool":
            refs = {R.SUM: stack.any(0), R.MAX: stack.any(0), R.MIN: stack.all(0),
                    R.PRODUCT: stack.all(0)}
        elif dtype.startswith("float"):
            refs[R.AVG] = wide.sum(0) / world
        else:
            refs[R.AVG] = np.trunc(wide.sum(0) / world)
        for op, ref in refs.items():
            t = tensor(data(rank, dtype))
            dist.all_reduce(t, op=op)
            ok(t.dtype.name == dtype and np.array_equal(t.numpy(), ref.astype(dtype)),
               f"all_reduce {op} {dtype}: {t.tolist()} != {ref.tolist()}")
        # reduce into the last rank, broadcast from rank 1 % world
        t = tensor(data(rank, dtype))
        dist.reduce(t, dst=world - 1, op=R.MAX)
        if rank == world - 1:
            ok(np.array_equal(t.numpy(), refs[R.MAX].astype(dtype)), f"reduce {dtype}")
        t = tensor(data(rank, dtype))
        dist.broadcast(t, src=1 % world)
        ok(np.array_equal(t.numpy(), data(1 % world, dtype)), f"broadcast {dtype}")
        # all_gather (even), all_gather_into_tensor, gather, scatter
        outs = [corelib.zeros(6, dtype=getattr(corelib, dtype)) for _ in range(world)]
        dist.all_gather(outs, tensor(data(rank, dtype)))
        ok(all(np.array_equal(o.numpy(), data(r, dtype)) for r, o in enumerate(outs)),
           f"all_gather {dtype}")
        out = corelib.zeros(world, 6, dtype=getattr(corelib, dtype))
        dist.all_gather_into_tensor(out, tensor(data(rank, dtype)))
        ok(np.array_equal(out.numpy(), stack), f"all_gather_into_tensor {dtype}")
        gl = [corelib.zeros(6, dtype=getattr(corelib, dtype)) for _ in range(world)] \
            if rank == 0 else None
        dist.gather(tensor(data(rank, dtype)), gl, dst=0)
        if rank == 0:
            ok(all(np.array_equal(g.numpy(), data(r, dtype)) for r, g in enumerate(gl)),
               f"gather {dtype}")
        src = world - 1
        sl = [tensor(data(r, dtype)) for r in range(world)] if rank == src else None
        t = corelib.zeros(6, dtype=getattr(corelib, dtype))
        dist.scatter(t, sl, src=src)
        ok(np.array_equal(t.numpy(), data(rank, dtype)), f"scatter {dtype}")
        if dtype != "bool":   # reduce_scatter: piece r of every rank's input, summed
            inputs = [tensor(data(rank, dtype) + r) for r in range(world)]
            t = corelib.zeros(6, dtype=getattr(corelib, dtype))
            dist.reduce_scatter(t, inputs)
            ref = sum(data(q, dtype).astype(wide.dtype) + rank for q in range(world))
            ok(np.array_equal(t.numpy(), ref.astype(dtype)), f"reduce_scatter {dtype}")
            flat = tensor(np.concatenate([data(rank, dtype) + r for r in range(world)]))
            t = corelib.zeros(6, dtype=getattr(corelib, dtype))
            dist.reduce_scatter_tensor(t, flat, op=R.MAX)
            ref = np.max([data(q, dtype) + rank for q in range(world)], axis=0)
            ok(np.array_equal(t.numpy(), ref.astype(dtype)), f"reduce_scatter_tensor {dtype}")

    # uneven all_gather: rank r sends r + 1 rows of 3 (also 0-element and 2-d tensors)
    for shape_of in (lambda r: (r + 1, 3), lambda r: (r,)):
        mine = corelib.full(shape_of(rank), float(rank), dtype=corelib.float64)
        outs = [corelib.empty(shape_of(r), dtype=corelib.float64) for r in range(world)]
        work = dist.all_gather(outs, mine, async_op=True)
        work.wait()
        ok(work.is_completed() and all(o.shape == shape_of(r) and bool((o == r).all())
                                       for r, o in enumerate(outs)), "uneven all_gather")
    # uneven reduce_scatter: piece r has r + 1 elements
    inputs = [corelib.full((r + 1,), float(rank + 1)) for r in range(world)]
    out = corelib.zeros(rank + 1)
    dist.reduce_scatter(out, inputs)
    ok(out.tolist() == [world * (world + 1) / 2] * (rank + 1), "uneven reduce_scatter")
    # a wrong expectation of another rank's size fails on every rank
    outs = [corelib.empty(r + (2 if r == world - 1 and rank == 0 else 1)) for r in range(world)]
    expect_error(lambda: dist.all_gather(outs, corelib.ones(rank + 1)), RuntimeError,
                 "elements")


def check_p2p_groups_async(rank, world):
    # ring of isend/irecv with Work handles
    right, left = (rank + 1) % world, (rank - 1) % world
    got = corelib.zeros(4, dtype=corelib.int64)
    works = [dist.isend(corelib.full((4,), rank, dtype=corelib.int64), dst=right),
             dist.irecv(got, src=left)]
    for w in works:
        ok(w.wait() is True and w.is_completed(), "isend/irecv wait")
    ok(got.tolist() == [left] * 4, f"ring received {got.tolist()}")
    # blocking send / recv from any source
    if rank == 0:
        for _ in range(world - 1):
            t = corelib.zeros(1)
            sender = dist.recv(t)
            ok(t.item() == 10 * sender, "recv any source")
    else:
        dist.send(corelib.tensor([10.0 * rank]), dst=0)
    # async all_reduce
    t = corelib.ones(1000, dtype=corelib.float64)
    w = dist.all_reduce(t, async_op=True)
    ok(w.wait() and bool((t == world).all()) and w.result()[0] is t, "async all_reduce")
    # a subgroup of the first and the last rank
    members = sorted({0, world - 1})
    g = dist.new_group(members)
    if rank in members:
        t = corelib.tensor([float(rank)])
        dist.all_reduce(t, group=g)
        ok(t.item() == sum(members) and dist.get_world_size(g) == len(members) and
           dist.get_rank(g) == members.index(rank), "subgroup all_reduce")
        t = corelib.tensor([float(rank)])
        dist.broadcast(t, src=members[-1], group=g)   # src is a global rank
        ok(t.item() == members[-1], "subgroup broadcast")
    else:
        ok(g is dist.GroupMember.NON_GROUP_MEMBER and dist.get_rank(g) == -1, "non-member")
        ok(dist.all_reduce(corelib.ones(1), group=g) is None, "non-member all_reduce")
    dist.barrier()
    # disagreements fail on every rank, clearly, and the group stays usable
    t = corelib.ones(3, dtype=corelib.float64 if rank == 0 else corelib.float32)
    expect_error(lambda: dist.all_reduce(t), RuntimeError, "Detected mismatch")
    expect_error(lambda: dist.all_reduce(corelib.ones(3 + (rank == world - 1))), RuntimeError,
                 "Detected mismatch")
    expect_error(lambda: dist.broadcast(corelib.ones(2), src=0) if rank == 0 else
                 dist.all_reduce(corelib.ones(2)), RuntimeError, "Detected mismatch")
    bad = corelib.zeros(world * 2 + (rank == 1))
    expect_error(lambda: dist.all_gather_into_tensor(bad, corelib.ones(2)),
                 (ValueError, RuntimeError), "all_gather_into_tensor")
    expect_error(lambda: dist.all_reduce(corelib.ones(4, 4).t()), ValueError, "contiguous")
    t = corelib.tensor([1.0])
    dist.all_reduce(t)
    ok(t.item() == world, "group usable after argument errors")
    # objects; tensors of another device go through NumPy (the simulated CUDA backend)
    objs = [None] * world
    dist.all_gather_object(objs, {"rank": rank})
    ok(objs == [{"rank": r} for r in range(world)], "all_gather_object")
    box = [rank, "x"] if rank == 0 else [None, None]
    dist.broadcast_object_list(box, src=0)
    ok(box == [0, "x"], "broadcast_object_list")
    if "cuda" in corelib.registry.backends or corelib.cuda.is_available():
        t = corelib.full((5,), float(rank + 1), device="cuda")
        dist.all_reduce(t)
        ok(t.device.type == "cuda" and t.cpu().tolist() == [world * (world + 1) / 2] * 5,
           "all_reduce of a cuda tensor (staged through NumPy)")


# -- DDP ------------------------------------------------------------------------------------------
def make_mlp():
    return nn.Sequential(nn.Linear(8, 32), nn.Tanh(), nn.Linear(32, 16), nn.ReLU(),
                         nn.Linear(16, 4))


def make_cnn():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(4, 6, 3, padding=1), nn.ReLU(), nn.Flatten(),
                         nn.Linear(6 * 4 * 4, 4))


def batches(shape, steps, global_batch, seed):
    g = corelib.Generator().manual_seed(seed)
    return [(corelib.randn(global_batch, *shape, generator=g, dtype=corelib.float64),
             corelib.randint(0, 4, (global_batch,), generator=g)) for _ in range(steps)]


def max_diff(a, b):
    return max((p - q).abs().max().item() for p, q in zip(a.parameters(), b.parameters()))


def check_ddp(rank, world, make, shape, micro=1, steps=4, local=4):
    """DDP over ``micro`` micro-batches per step (no_sync for all but the last) against one
    process on the full batches."""
    corelib.manual_seed(0)
    reference = make().double()
    corelib.manual_seed(0 if rank == 0 else 100 + rank)   # others differ: DDP broadcasts rank 0
    model = make().double()
    ddp = DDP(model, bucket_cap_mb=2 ** -10)  # 1 KB buckets: several, started as they fill
    ok(len(ddp._buckets) > 1, "several buckets")
    ok(max_diff(model, reference) == 0, "parameters broadcast from rank 0")
    opt = corelib.optim.SGD(ddp.parameters(), lr=0.05, momentum=0.9)
    ref_opt = corelib.optim.SGD(reference.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    data_ = batches(shape, steps * micro, local * world, seed=7)
    for step in range(steps):
        opt.zero_grad()
        ref_opt.zero_grad()
        for m in range(micro):
            x, y = data_[step * micro + m]
            mine = slice(rank * local, (rank + 1) * local)
            with ddp.no_sync() if m < micro - 1 else nullcontext():
                loss_fn(ddp(x[mine]), y[mine]).backward()
            loss_fn(reference(x), y).backward()
        opt.step()
        ref_opt.step()
    diff = max_diff(model, reference)
    ok(diff < 1e-10, f"DDP {make.__name__} micro={micro}: differs from one process by {diff}")
    # every rank holds the same parameters
    flat = corelib.cat([p.detach().reshape(-1) for p in model.parameters()])
    hi, lo = flat.clone(), flat.clone()
    dist.all_reduce(hi, op=dist.ReduceOp.MAX)
    dist.all_reduce(lo, op=dist.ReduceOp.MIN)
    ok(bool((hi == lo).all()), "same parameters on every rank")
    return ddp


class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.body, self.a, self.b, self.never = nn.Linear(5, 6), nn.Linear(6, 4), \
            nn.Linear(6, 4), nn.Linear(6, 4)

    def forward(self, x, use_b):
        """use_b: a bool (DDP ranks), or a 0/1 mask of rows (the full-batch reference)."""
        h = self.body(x).tanh()
        if isinstance(use_b, corelib.Tensor):
            return self.a(h) + self.b(h) * use_b
        return self.a(h) + self.b(h) if use_b else self.a(h)


def check_unused(rank, world):
    """find_unused_parameters: head b used on rank 0 only, head ``never`` by no rank."""
    corelib.manual_seed(3)
    reference = TwoHeads().double()
    model = copy.deepcopy(reference)
    ddp = DDP(model, find_unused_parameters=True, bucket_cap_mb=2 ** -12)
    x, y = batches((5,), 1, 3 * world, seed=11)[0]
    mask = corelib.zeros(3 * world, 1, dtype=corelib.float64)
    mask[:3] = 1.0                                     # rank 0's rows use head b
    mine = slice(3 * rank, 3 * rank + 3)
    for _ in range(2):   # twice: the bookkeeping resets between iterations
        ddp.zero_grad()
        reference.zero_grad()
        nn.functional.cross_entropy(ddp(x[mine], rank == 0), y[mine]).backward()
        nn.functional.cross_entropy(reference(x, mask), y).backward()
        for (name, p), q in zip(model.named_parameters(), reference.parameters()):
            if name.startswith("never"):
                ok(p.grad is None, "a parameter no rank used keeps grad None")
            else:
                ok(p.grad is not None and (p.grad - q.grad).abs().max().item() < 1e-12,
                   f"unused-parameter gradient {name}")
    # without find_unused_parameters the next forward says what is wrong
    plain = DDP(copy.deepcopy(reference), bucket_cap_mb=2 ** -12)
    nn.functional.cross_entropy(plain(x[mine], False), y[mine]).backward()
    expect_error(lambda: plain(x[mine], False), RuntimeError, "find_unused_parameters=True")


def check_buffers(rank, world):
    """Parameters and buffers (BatchNorm) start as rank 0's; buffers are rank 0's again at
    every forward (so after an eval-mode forward, which does not update them)."""
    corelib.manual_seed(rank)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2)).double()
    model[1].running_mean.fill_(float(rank))
    ddp = DDP(model)
    x = corelib.randn(5, 3, dtype=corelib.float64) + rank
    ddp(x).sum().backward()                   # training mode: every rank updates its own
    model.eval()
    with corelib.no_grad():
        ddp(x)
    state = [None] * world
    dist.all_gather_object(state, [t.tolist() for t in model.state_dict().values()])
    ok(all(s == state[0] for s in state), "parameters and buffers equal rank 0's")
    model.train()


def check_state_dict(ddp):
    keys = list(ddp.state_dict())
    ok(all(k.startswith("module.") for k in keys), "DDP state_dict keys carry module.")
    ok(list(ddp.module.state_dict()) == [k[len("module."):] for k in keys],
       "ddp.module.state_dict() is the bare model's")
    from corelib.nn.modules.utils import consume_prefix_in_state_dict_if_present
    sd = ddp.state_dict()
    consume_prefix_in_state_dict_if_present(sd, "module.")
    fresh = make_mlp().double()
    fresh.load_state_dict(sd)
    ok(max_diff(fresh, ddp.module) == 0, "prefix-stripped state_dict loads into the bare model")


def check_sampler(rank, world):
    from corelib.utils.data import DistributedSampler
    for n, drop in ((10, False), (11, True), (2, False)):
        s = DistributedSampler(range(n), shuffle=True, seed=5, drop_last=drop)
        s.set_epoch(3)
        everyone = [None] * world
        dist.all_gather_object(everyone, list(s))
        flat = [i for part in everyone for i in part]
        ok(len(set(map(len, everyone))) == 1 and len(everyone[rank]) == len(s),
           "equal shares")
        if drop:
            ok(len(set(flat)) == len(flat) == n - n % world, "drop_last: disjoint, cut")
        else:
            ok(set(flat) == set(range(n)) and len(flat) == s.total_size, "padded partition")


def check_launcher_env(rank, world):
    if "LOCAL_RANK" in os.environ:   # started by corelib.distributed.run
        ok(int(os.environ["RANK"]) == rank and int(os.environ["WORLD_SIZE"]) == world and
           int(os.environ["LOCAL_RANK"]) == rank and os.environ["MASTER_PORT"] and
           os.environ.get("OMP_NUM_THREADS"), "torchrun variables")
        ok(sys.argv[1:] == ["--flag", "value"], f"script arguments {sys.argv}")


def main():
    dist.init_process_group("mpi", timeout=timedelta(seconds=120))
    rank, world = dist.get_rank(), dist.get_world_size()
    ok(dist.is_initialized() and dist.get_backend() == "mpi", "initialised")
    check_launcher_env(rank, world)
    check_collectives(rank, world)
    check_p2p_groups_async(rank, world)
    ddp = check_ddp(rank, world, make_mlp, (8,))
    check_ddp(rank, world, make_cnn, (1, 8, 8))
    check_ddp(rank, world, make_mlp, (8,), micro=3, steps=2)
    check_ddp(rank, world, make_cnn, (1, 8, 8), micro=2, steps=2)
    check_unused(rank, world)
    check_buffers(rank, world)
    check_state_dict(ddp)
    check_sampler(rank, world)
    dist.destroy_process_group()
    ok(not dist.is_initialized(), "destroyed")
    print(f"rank {rank}: {PASSED[0]} checks passed", flush=True)


if __name__ == "__main__":
    main()
