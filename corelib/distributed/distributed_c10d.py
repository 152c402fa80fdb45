"""Process groups and collectives with ``torch.distributed``'s names and semantics.

The communication itself belongs to a plugin (``corelib_comm_backend`` hook: MPI from
``corelib-mpi``, NCCL from ``corelib-nccl``); this module validates arguments, stages tensors
into the arrays the plugin takes, checks that the ranks agree and wraps started operations in
``Work`` handles.

Agreement check. Before each collective every rank contributes a fingerprint (sequence
number, op, dtype, element count, root, sizes) to one small all-gather; all ranks evaluate the
same comparison, so a rank passing a float32 where the others pass float64, another length, or
calling ``broadcast`` while the others call ``all_reduce`` makes *every* rank raise the same
RuntimeError instead of hanging or reading garbage. Invalid arguments on one rank are folded
into the fingerprint too, so its peers fail with it. ``CORELIB_DISTRIBUTED_CHECKS=0`` skips
the check (one fewer round trip per collective).

Timeouts. ``init_process_group(timeout=...)`` (default 30 minutes, as PyTorch's) bounds every
wait: a peer that died, hangs or skipped a collective makes the waiting ranks raise
``DistBackendError`` (a RuntimeError) after ``timeout``. The group is then broken (MPI cannot
cancel a started collective): later operations on it raise at once, and at interpreter exit the
job is aborted (MPI_Abort) instead of hanging in MPI_Finalize. A rank killed outright (a
signal, ``os._exit``) is noticed sooner by ``mpiexec``, which ends the other ranks.
"""
from __future__ import annotations

import atexit
import enum
import os
import warnings
from datetime import timedelta

from .. import _dtype
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from ..dispatch import registry
from ._plugins import comm_backend

__all__ = ["Backend", "ReduceOp", "Work", "ProcessGroup", "DistBackendError", "GroupMember",
           "group", "init_process_group", "destroy_process_group", "is_initialized",
           "is_mpi_available", "is_nccl_available", "is_backend_available", "get_backend",
           "get_rank", "get_world_size", "get_process_group_ranks", "get_group_rank",
           "get_global_rank", "new_group", "barrier", "all_reduce", "reduce", "broadcast",
           "all_gather", "all_gather_into_tensor", "reduce_scatter", "reduce_scatter_tensor",
           "gather", "scatter", "send", "recv", "isend", "irecv", "all_gather_object",
           "broadcast_object_list", "default_pg_timeout"]

default_pg_timeout = timedelta(minutes=30)
_NOT_INIT = ("Default process group has not been initialized, please make sure to call "
             "init_process_group.")


class DistBackendError(RuntimeError):
    """A communication backend failed (a timeout, a dead peer, an error of the library)."""


class Backend(str):
    """Backend names: ``Backend.MPI == "mpi"``, ``Backend.NCCL == "nccl"``."""
    MPI = "mpi"
    NCCL = "nccl"

    def __new__(cls, name):
        if not isinstance(name, str):
            raise ValueError(f"Backend constructor parameter must be string-ish, but got "
                             f"{type(name)}")
        return str.__new__(cls, name.lower())


class ReduceOp(enum.Enum):
    """Element-wise reductions: SUM, AVG (SUM then divide by the group size), PRODUCT, MIN,
    MAX."""
    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"

    def __repr__(self):
        return f"<ReduceOp.{self.name}>"


_OPS = {name: i for i, name in enumerate(
    ["barrier", "all_reduce", "reduce", "broadcast", "all_gather", "all_gather_into_tensor",
     "reduce_scatter", "reduce_scatter_tensor", "gather", "scatter"])}
_REDUCE = {op: i for i, op in enumerate(ReduceOp)}
_DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16",
           "float32", "float64"]


def _seconds(timeout):
    if isinstance(timeout, timedelta):
        return timeout.total_seconds()
    if isinstance(timeout, (int, float)):
        return float(timeout)
    raise TypeError(f"Expected timeout argument to be of type datetime.timedelta, got {timeout}")


class ProcessGroup:
    """A set of ranks and the plugin's communicator for them."""

    def __init__(self, comm, spec, ranks, timeout):
        self._comm, self._spec, self._ranks = comm, spec, list(ranks)
        self._timeout = timeout     # seconds
        self._seq = 0
        self._broken = None         # why the group cannot be used any more

    def rank(self):
        return self._comm.rank

    def size(self):
        return self._comm.size

    def name(self):
        return self._spec.name

    def __repr__(self):
        return f"<ProcessGroup {self._spec.name} ranks={self._ranks}>"

    def _check_usable(self):
        if self._comm is None:
            raise ValueError("The process group has been destroyed.")
        if self._broken:
            raise DistBackendError(f"the process group can no longer be used: {self._broken}")

    def _fail(self, what, exc):
        """Mark the group broken after a timeout or library error and build the error."""
        rank = _world.rank if _world.pg is not None else self.rank()
        if isinstance(exc, TimeoutError):
            text = (f"{what} on rank {rank} timed out after {self._timeout:g} s (backend "
                    f"{self._spec.name}, {self.size()} ranks): a peer died, hangs or did not "
                    f"call the same collective. The process group is unusable; the job is "
                    f"aborted at exit (timeout= of init_process_group sets the limit).")
        else:
            text = f"{what} on rank {rank} failed in backend {self._spec.name}: {exc}"
        self._broken = text
        _world.abort = self._comm
        return DistBackendError(text)


class _NonMember:
    """``GroupMember.NON_GROUP_MEMBER``: what ``new_group`` returns on ranks outside it."""

    def __repr__(self):
        return "GroupMember.NON_GROUP_MEMBER"


class GroupMember:
    WORLD = None
    NON_GROUP_MEMBER = _NonMember()


class group:
    WORLD = None   # kept equal to GroupMember.WORLD


class _World:
    def __init__(self):
        self.pg = None            # the default group
        self.rank = -1
        self.groups = []          # every group created, for destroy_process_group()
        self.abort = None         # a communicator broken by a timeout: abort the job at exit


_world = _World()


def _abort_if_broken():
    """At exit, end the whole job if a group timed out (MPI_Finalize would wait forever)."""
    if _world.abort is not None:
        import sys
        sys.stdout.flush()
        sys.stderr.flush()
        _world.abort.abort(1)


atexit.register(_abort_if_broken)


def _abort_on_uncaught(kind, value, tb):
    """sys.excepthook while a group of several ranks exists: report, then end the whole job
    (MPI_Abort), so that the other ranks do not wait for this one until their timeout."""
    _previous_hook[0](kind, value, tb)
    pg = _world.pg
    comm = _world.abort or (pg._comm if pg is not None and pg.size() > 1 else None)
    if comm is not None and not issubclass(kind, KeyboardInterrupt):
        import sys
        sys.stderr.write(f"corelib.distributed: uncaught {kind.__name__} on rank "
                         f"{_world.rank}; aborting the job\n")
        sys.stderr.flush()
        comm.abort(1)


_previous_hook = [None]


class Work:
    """A started operation (``async_op=True``): ``wait()``, ``is_completed()``."""

    def __init__(self, request, group, what, finish=None, result=()):
        self._request, self._group, self._what = request, group, what
        self._finish, self._result = finish, list(result)
        self._done, self._exception = False, None

    def _complete(self):
        if not self._done:
            self._done = True
            if self._finish is not None:
                self._finish()

    def is_completed(self):
        if self._done:
            return True
        try:
            if self._request.test():
                self._complete()
        except Exception as exc:   # reported by wait()
            self._exception = self._group._fail(self._what, exc)
            return True
        return self._done

    def wait(self, timeout=None):
        """Block until done; ``DistBackendError`` after ``timeout`` (default: the group's)."""
        if self._done:
            return True
        group = self._group
        if self._exception is None:
            seconds = group._timeout if timeout is None else _seconds(timeout)
            try:
                self._request.wait(seconds)
            except Exception as exc:
                self._exception = group._fail(self._what, exc)
        if self._exception is not None:
            raise self._exception
        self._complete()
        return True

    def is_success(self):
        return self.is_completed() and self._exception is None

    def exception(self):
        return self._exception

    def result(self):
        return self._result

    def _source_rank(self):
        return self._request.source

    def __repr__(self):
        return f"<Work {self._what} {'completed' if self._done else 'pending'}>"


class _Done:
    """A request that has nothing to wait for (a group of one, an empty exchange)."""
    source = None

    def test(self):
        return True

    def wait(self, timeout):
        pass


# -- state and groups -------------------------------------------------------------------------
def is_initialized():
    return _world.pg is not None


def is_backend_available(backend):
    from ._plugins import comm_backends
    spec = comm_backends().get(str(backend).lower())
    return spec is not None and spec.is_available()


def is_mpi_available():
    return is_backend_available("mpi")


def is_nccl_available():
    return is_backend_available("nccl")


def _default_group():
    if _world.pg is None:
        raise ValueError(_NOT_INIT)
    return _world.pg


def _resolve(group):
    """The group to act on, or None where this rank is not a member."""
    if group is None or group is GroupMember.WORLD:
        return _default_group()
    if group is GroupMember.NON_GROUP_MEMBER:
        _default_group()
        return None
    return group


def _launch_env():
    """RANK / WORLD_SIZE / LOCAL_RANK as torchrun or corelib.distributed.run set them."""
    env = {}
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR",
                "MASTER_PORT"):
        if key in os.environ:
            env[key] = os.environ[key]
    return env


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1,
                       store=None, group_name="", pg_options=None, device_id=None):
    """Start the default process group.

    backend: "mpi" (host tensors, any device through NumPy) or "nccl" (CUDA tensors); None
    picks "mpi". Ranks come from the backend's launcher (``mpiexec``, or
    ``python -m corelib.distributed.run``, which also sets RANK / WORLD_SIZE / LOCAL_RANK as
    torchrun does); ``init_method`` ("env://", the default) and explicit ``world_size`` /
    ``rank`` are checked against what the launcher started, since MPI assigns them.
    ``timeout`` bounds every wait of this group's operations (see the module doc).
    """
    if _world.pg is not None:
        raise ValueError("trying to initialize the default process group twice!")
    name = Backend(backend or Backend.MPI)
    if init_method is not None and not init_method.startswith(("env://", "mpi://")):
        raise ValueError(f"init_method {init_method!r} is not supported by backend {name!r}: "
                         f"ranks meet through the MPI launcher; use 'env://' (the default)")
    timeout = _seconds(default_pg_timeout if timeout is None else timeout)
    spec = comm_backend(name)
    env = _launch_env()
    comm = spec.init(timeout, env)
    expect = {"world_size": (world_size, env.get("WORLD_SIZE"), comm.size),
              "rank": (rank, env.get("RANK"), comm.rank)}
    for what, (arg, var, actual) in expect.items():
        for source, value in ((f"{what}=", arg), (f"the {what.upper()} variable", var)):
            if value is not None and int(value) != -1 and int(value) != actual:
                comm.destroy()
                raise RuntimeError(
                    f"init_process_group: {source} says {value} but the {name} launcher "
                    f"started this process as rank {comm.rank} of {comm.size}. Start the job "
                    f"with `mpiexec -n N python script.py` or `python -m corelib.distributed.run "
                    f"--nproc-per-node N script.py`.")
    pg = ProcessGroup(comm, spec, range(comm.size), timeout)
    _world.pg, _world.rank, _world.groups = pg, comm.rank, [pg]
    import sys
    if sys.excepthook is not _abort_on_uncaught:
        _previous_hook[0], sys.excepthook = sys.excepthook, _abort_on_uncaught
    GroupMember.WORLD = group.WORLD = pg


def destroy_process_group(group=None):
    """Destroy ``group``, or every group and the default one (``None`` / ``group.WORLD``)."""
    if group is GroupMember.NON_GROUP_MEMBER:
        return
    if _world.pg is None:
        raise ValueError(_NOT_INIT)
    if group is None or group is _world.pg:
        for pg in _world.groups:
            _destroy(pg)
        _world.pg, _world.rank, _world.groups = None, -1, []
        GroupMember.WORLD = globals()["group"].WORLD = None
        import sys
        if sys.excepthook is _abort_on_uncaught:
            sys.excepthook = _previous_hook[0]
        return
    _destroy(group)


def _destroy(pg):
    if pg._comm is not None and not pg._broken:   # a broken one stays for the abort at exit
        pg._comm.destroy()
    pg._comm = None


def new_group(ranks=None, timeout=None, backend=None, pg_options=None,
              use_local_synchronization=False, group_desc=None):
    """A group of the given global ranks (all ranks of the job must call it, as in PyTorch);
    ranks outside it get ``GroupMember.NON_GROUP_MEMBER``."""
    world = _default_group()
    world._check_usable()
    ranks = sorted(range(world.size()) if ranks is None else ranks)
    if len(set(ranks)) != len(ranks) or any(not 0 <= r < world.size() for r in ranks):
        raise ValueError(f"new_group: ranks must be distinct ranks of the world (0 .. "
                         f"{world.size() - 1}), got {ranks}")
    if backend is not None and Backend(backend) != world._spec.name:
        raise ValueError(f"new_group: backend {backend!r} differs from the default group's "
                         f"{world._spec.name!r}")
    comm = world._comm.split(ranks)
    if comm is None:
        return GroupMember.NON_GROUP_MEMBER
    pg = ProcessGroup(comm, world._spec, ranks,
                      world._timeout if timeout is None else _seconds(timeout))
    _world.groups.append(pg)
    return pg


def get_backend(group=None):
    pg = _resolve(group)
    return Backend(pg._spec.name) if pg is not None else None


def get_rank(group=None):
    """This process's rank in ``group`` (the default group if None); -1 if not a member."""
    pg = _resolve(group)
    return -1 if pg is None else pg.rank()


def get_world_size(group=None):
    pg = _resolve(group)
    return -1 if pg is None else pg.size()


def get_process_group_ranks(group):
    pg = _resolve(group)
    return list(pg._ranks)


def get_group_rank(group, global_rank):
    pg = _resolve(group)
    if global_rank not in pg._ranks:
        raise ValueError(f"Global rank {global_rank} is not part of group {pg}")
    return pg._ranks.index(global_rank)


def get_global_rank(group, group_rank):
    pg = _resolve(group)
    if not 0 <= group_rank < len(pg._ranks):
        raise ValueError(f"Group rank {group_rank} is not part of group {pg}")
    return pg._ranks[group_rank]


def _group_rank(pg, global_rank, local_rank, what):
    """PyTorch's src/dst (global rank) or group_src/group_dst (group rank) -> group rank."""
    if local_rank is not None:
        if global_rank is not None:
            raise ValueError("Can't specify both group_rank and global_rank")
        if not 0 <= local_rank < pg.size():
            raise ValueError(f"Invalid {what} rank {local_rank} for a group of {pg.size()}")
        return local_rank
    if global_rank is None:
        global_rank = 0
    if global_rank not in pg._ranks:
        raise ValueError(f"Global rank {global_rank} is not part of group {pg}")
    return pg._ranks.index(global_rank)


# -- staging: tensors as the plugin's arrays -------------------------------------------------
class _Buf:
    """The array of a contiguous tensor as the plugin takes it; ``commit()`` after the
    operation makes written data visible in the tensor (a copy back for staged devices)."""
    __slots__ = ("tensor", "array", "staged")

    def __init__(self, tensor, spec):
        if not isinstance(tensor, Tensor):
            raise TypeError(f"Invalid function argument. Expected parameter of type "
                            f"corelib.Tensor but got {type(tensor).__name__} instead.")
        if tensor.device.type not in spec.devices:
            raise ValueError(f"backend {spec.name!r} does not support {tensor.device.type} "
                             f"tensors (it supports {', '.join(spec.devices)})")
        if not tensor.is_contiguous():
            raise ValueError("Tensors must be contiguous")
        self.tensor = tensor
        if spec.array_kind == "native":
            self.array, self.staged = tensor._data, False
        else:
            self.array = registry.backend(tensor.device.type).to_numpy(tensor._data)
            self.staged = self.array is not tensor._data

    def commit(self):
        t = self.tensor
        if self.staged:
            backend = registry.backend(t.device.type)
            src = Tensor._make(backend.from_numpy(self.array, t.device.index or 0), t.device,
                               t.dtype)
            with no_grad():
                t.copy_(src)
        else:
            t._bump_version()


def _checks_enabled():
    return os.environ.get("CORELIB_DISTRIBUTED_CHECKS", "1") != "0"


def _describe(fp):
    seq, op, dtype, numel, root, aux, err = fp
    name = next((k for k, v in _OPS.items() if v == op), f"op {op}")
    text = name
    if dtype >= 0:
        text += f"({_DTYPES[dtype] if dtype < len(_DTYPES) else dtype}, {numel} elements"
        text += f", root {root})" if root >= 0 else ")"
    return f"{text} [collective #{seq}]"


def _agree(pg, what, tensor=None, root=-1, aux=0, error=None, sizes=None, same_numel=True):
    """The fingerprint exchange (module doc). ``sizes``: for all_gather, the element counts
    this rank expects from each rank; ``same_numel=False``: ranks' tensors may differ in size
    (reduce_scatter's outputs; ``aux`` then carries what must agree). Raises ``error`` (this
    rank's invalid arguments) or a RuntimeError naming the disagreement, identically on every
    rank."""
    pg._seq += 1
    if pg.size() == 1 or not _checks_enabled():
        if error is not None:
            raise error
        return
    dtype = numel = -1
    if tensor is not None and isinstance(tensor, Tensor):
        dtype = _DTYPES.index(tensor.dtype.name) if tensor.dtype.name in _DTYPES else 99
        numel = tensor.numel()
    if sizes is not None:
        aux = hash(tuple(sizes))
    mine = [pg._seq, _OPS[what], dtype, numel, root, aux, int(error is not None)]
    from .._ops.creation import tensor as make, empty
    device = "cpu" if pg._spec.array_kind == "numpy" else pg._spec.devices[0]
    send = make(mine, dtype=_dtype.int64, device=device)
    recv = empty(pg.size(), len(mine), dtype=_dtype.int64, device=device)
    sbuf, rbuf = _Buf(send, pg._spec), _Buf(recv, pg._spec)
    Work(pg._comm.allgather(sbuf.array, rbuf.array), pg, f"{what} (argument check)",
         rbuf.commit).wait()
    prints = recv.tolist()
    if error is not None:
        raise error
    bad = [r for r, fp in enumerate(prints) if fp[6]]
    if bad:
        raise RuntimeError(f"{what}: rank(s) {bad} of the group called it with invalid "
                           f"arguments (see the error on those ranks)")
    first = prints[0]
    for r, fp in enumerate(prints):
        same = fp[:3] == first[:3] and fp[4:6] == first[4:6]
        if sizes is None and same_numel:
            same = same and fp[3] == first[3]
        if not same:
            raise RuntimeError(
                f"Detected mismatch between collectives on ranks. Rank {pg._ranks[0]} is "
                f"running {_describe(first)}, but rank {pg._ranks[r]} is running "
                f"{_describe(fp)}.")
    if sizes is not None:
        counts = [fp[3] for fp in prints]
        if hash(tuple(counts)) != aux:
            mismatch = next(r for r in range(pg.size()) if sizes[r] != counts[r])
            raise RuntimeError(
                f"{what}: rank {pg._ranks[mismatch]} sends {counts[mismatch]} elements but "
                f"tensor_list[{mismatch}] on rank {pg._ranks[pg.rank()]} has "
                f"{sizes[mismatch]}")
        for r, fp in enumerate(prints):
            if fp[5] != aux:
                raise RuntimeError(f"{what}: the output sizes of rank {pg._ranks[r]} do not "
                                   f"match the input sizes {counts}")


def _submit(pg, what, start, bufs, async_op, finish=None, result=()):
    """Start ``start()`` (a plugin request), commit ``bufs`` and run ``finish`` when done."""
    pg._check_usable()
    try:
        request = start() if pg.size() > 1 or what in ("send", "recv") else _Done()
    except Exception as exc:
        raise pg._fail(what, exc) from exc

    def done():
        for b in bufs:
            b.commit()
        if finish is not None:
            finish()
    work = Work(request, pg, what, done, result)
    if async_op:
        return work
    work.wait()
    return None


def _op(op):
    if not isinstance(op, ReduceOp):
        raise ValueError(f"Invalid reduce op {op!r}; use corelib.distributed.ReduceOp")
    return op


def _tensor_check(t, name):
    if not isinstance(t, Tensor):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type "
                        f"corelib.Tensor but got {type(t).__name__} instead.")


def _avg(tensor, size):
    def finish():
        with no_grad():
            if tensor.dtype.is_floating_point:
                tensor.div_(size)
            else:
                tensor.copy_(tensor.div(size, rounding_mode="trunc"))
    return finish


def _argument_error(fn):
    """Run ``fn()``; return the exception it raised (collective-safe argument checks)."""
    try:
        fn()
    except (TypeError, ValueError, RuntimeError) as exc:
        return exc
    return None


# -- collectives ------------------------------------------------------------------------------
def barrier(group=None, async_op=False, device_ids=None):
    """Wait until every rank of the group has reached the barrier."""
    pg = _resolve(group)
    if pg is None:
        return None
    pg._check_usable()
    _agree(pg, "barrier")
    return _submit(pg, "barrier", pg._comm.barrier, (), async_op)


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``tensor`` over the group, in place, on every rank."""
    pg = _resolve(group)
    if pg is None:
        return None
    pg._check_usable()
    _tensor_check(tensor, "tensor")
    op = _op(op)
    buf = []
    error = _argument_error(lambda: buf.append(_Buf(tensor, pg._spec)))
    _agree(pg, "all_reduce", tensor, aux=_REDUCE.get(op, 0), error=error)
    return _all_reduce_started(pg, buf[0], op, async_op)


def _all_reduce_unchecked(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """all_reduce without the agreement round trip, for callers that verified the layout once
    (DDP's gradient buckets)."""
    pg = _resolve(group)
    if pg is None:
        return None
    pg._check_usable()
    pg._seq += 1
    return _all_reduce_started(pg, _Buf(tensor, pg._spec), _op(op), async_op)


def _all_reduce_started(pg, buf, op, async_op):
    mpi_op = "sum" if op is ReduceOp.AVG else op.value
    finish = _avg(buf.tensor, pg.size()) if op is ReduceOp.AVG else None
    return _submit(pg, "all_reduce", lambda: pg._comm.allreduce(buf.array, mpi_op), [buf],
                   async_op, finish, [buf.tensor])


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    """Reduce ``tensor`` over the group into the destination rank's ``tensor``."""
    pg = _resolve(group)
    if pg is None:
        return None
    pg._check_usable()
    op = _op(op)
    root = _group_rank(pg, dst, group_dst, "destination")
    _tensor_check(tensor, "tensor")
    buf = []
    error = _argument_error(lambda: buf.append(_Buf(tensor, pg._spec)))
    _agree(pg, "reduce", tensor, root=root, aux=_REDUCE[op], error=error)
    mine = pg.rank() == root
    mpi_op = "sum" if op is ReduceOp.AVG else op.value
    finish = _avg(tensor, pg.size()) if op is ReduceOp.AVG and mine else None
    return _submit(pg, "reduce", lambda: pg._comm.reduce(buf[0].array, root, mpi_op),
                   buf if mine else [], async_op, finish, [tensor])


def broadcast(tensor, src=None, group=None, async_op=False, group_src=None):
    """Copy ``tensor`` of rank ``src`` (a global rank) into ``tensor`` on every rank."""
    pg = _resolve(group)
    if pg is None:
        return None
    pg._check_usable()
    root = _group_rank(pg, src, group_src, "source")
    _tensor_check(tensor, "tensor")
    buf = []
    error = _argument_error(lambda: buf.append(_Buf(tensor, pg._spec)))
    _agree(pg, "broadcast", tensor, root=root, error=error)
    return _submit(pg, "broadcast", lambda: pg._comm.broadcast(buf[0].array, root),
                   buf if pg.rank() != root else [], async_op, None, [tensor])


def _flat(like, numel):
    from .._ops.creation import empty
    return empty(numel, dtype=like.dtype, device=like.device)


def _scatter_flat(flat, outputs):
    """Copy consecutive pieces of ``flat`` into ``outputs``."""
    def finish():
        offset = 0
        with no_grad():
            for out in outputs:
                n = out.numel()
                out.copy_(flat[offset:offset + n].view(out.shape))
                offset += n
    return finish


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """``tensor_list[i]`` receives rank i's ``tensor``; sizes may differ between ranks
    (``tensor_list[i]`` must have as many elements as rank i sends), as in PyTorch."""
    pg = _resolve(group)
    if pg is None:
        return None
    pg._check_usable()
    _tensor_check(tensor, "tensor")
    state = {}

    def check():
        if not isinstance(tensor_list, (list, tuple)) or len(tensor_list) != pg.size():
            raise ValueError(f"all_gather: tensor_list must be a list of {pg.size()} tensors "
                             f"(one per rank)")
        for t in tensor_list:
            _tensor_check(t, "tensor_list")
            if t.dtype != tensor.dtype or t.device != tensor.device:
                raise ValueError("Invalid usage of tensors with different dtypes or devices: "
                                 f"{tensor.dtype} on {tensor.device} and {t.dtype} on "
                                 f"{t.device}")
        state["send"] = _Buf(tensor, pg._spec)
    error = _argument_error(check)
    sizes = None if error else [t.numel() for t in tensor_list]
    _agree(pg, "all_gather", tensor, sizes=sizes if sizes else [-1] * pg.size(), error=error)
    flat = _flat(tensor, sum(sizes))
    recv = _Buf(flat, pg._spec)
    send = state["send"]
    if len(set(sizes)) == 1:
        start = lambda: pg._comm.allgather(send.array, recv.array)  # noqa: E731
    else:
        start = lambda: pg._comm.allgatherv(send.array, recv.array, sizes)  # noqa: E731
    if pg.size() == 1:
        with no_grad():
            flat.copy_(tensor.reshape(-1))
    return _submit(pg, "all_gather", start, [recv], async_op,
                   _scatter_flat(flat, tensor_list), tensor_list)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """Concatenate every rank's ``input_tensor`` (equal sizes) into ``output_tensor``."""
    pg = _resolve(group)
    if pg is None:
        return None
    pg._check_usable()
    _tensor_check(input_tensor, "input_tensor")
    bufs = []

    def check():
        _tensor_check(output_tensor, "output_tensor")
        if output_tensor.numel() != input_tensor.numel() * pg.size():
            raise ValueError(f"all_gather_into_tensor: output tensor size must be equal to "
                             f"world_size times input tensor size ({pg.size()} x "
                             f"{input_tensor.numel()}), got {output_tensor.numel()}")
        if output_tensor.dtype != input_tensor.dtype:
            raise ValueError("all_gather_into_tensor: output tensor must have the same type "
                             "as input tensor")
        bufs.extend([_Buf(input_tensor, pg._spec), _Buf(output_tensor, pg._spec)])
    error = _argument_error(check)
    _agree(pg, "all_gather_into_tensor", input_tensor, error=error)
    send, recv = bufs
    if pg.size() == 1:
        with no_grad():
            output_tensor.copy_(input_tensor.reshape(output_tensor.shape))
    return _submit(pg, "all_gather_into_tensor",
                   lambda: pg._comm.allgather(send.array, recv.array), [recv], async_op,
                   None, [output_tensor])


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``input_list[i]`` over the group into rank i's ``output``."""
    pg = _resolve(group)
    if pg is None:
        return None
    pg._check_usable()
    _tensor_check(output, "output")
    op = _op(op)
    state = {}

    def check():
        if not isinstance(input_list, (list, tuple)) or len(input_list) != pg.size():
            raise ValueError(f"reduce_scatter: input_list must be a list of {pg.size()} "
                             f"tensors (one per rank)")
        for t in input_list:
            _tensor_check(t, "input_list")
            if t.dtype != output.dtype:
                raise ValueError("Invalid usage of tensors with different dtypes")
        if input_list[pg.rank()].numel() != output.numel():
            raise ValueError(f"reduce_scatter: output has {output.numel()} elements but "
                             f"input_list[{pg.rank()}] has {input_list[pg.rank()].numel()}")
        state["out"] = _Buf(output, pg._spec)
    error = _argument_error(check)
    sizes = [-1] * pg.size() if error else [t.numel() for t in input_list]
    _agree(pg, "reduce_scatter", output, aux=hash((tuple(sizes), _REDUCE[op])), error=error,
           same_numel=False)
    from .._ops.shape import cat
    flat = cat([t.reshape(-1) for t in input_list]) if pg.size() > 1 else \
        input_list[0].reshape(-1).clone()
    send, out = _Buf(flat, pg._spec), state["out"]
    mpi_op = "sum" if op is ReduceOp.AVG else op.value
    finish = _avg(output, pg.size()) if op is ReduceOp.AVG else None
    if pg.size() == 1:
        with no_grad():
            output.copy_(flat.view(output.shape))
    return _submit(pg, "reduce_scatter",
                   lambda: pg._comm.reduce_scatter(send.array, out.array, sizes, mpi_op),
                   [out], async_op, finish, [output])


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``input`` (world_size equal pieces) and give piece i to rank i's ``output``."""
    pg = _resolve(group)
    if pg is None:
        return None
    pg._check_usable()
    _tensor_check(output, "output")
    op = _op(op)
    bufs = []

    def check():
        _tensor_check(input, "input")
        if input.numel() != output.numel() * pg.size():
            raise ValueError(f"reduce_scatter_tensor: input tensor must be the same size as "
                             f"output size times world size ({pg.size()} x {output.numel()}), "
                             f"got {input.numel()}")
        if input.dtype != output.dtype:
            raise ValueError("reduce_scatter_tensor: input tensor must be the same type as "
                             "the output tensor.")
        bufs.extend([_Buf(input, pg._spec), _Buf(output, pg._spec)])
    error = _argument_error(check)
    _agree(pg, "reduce_scatter_tensor", output, aux=_REDUCE[op], error=error)
    send, out = bufs
    mpi_op = "sum" if op is ReduceOp.AVG else op.value
    finish = _avg(output, pg.size()) if op is ReduceOp.AVG else None
    if pg.size() == 1:
        with no_grad():
            output.copy_(input.reshape(output.shape))
    return _submit(pg, "reduce_scatter_tensor",
                   lambda: pg._comm.reduce_scatter(send.array, out.array,
                                                   [output.numel()] * pg.size(), mpi_op),
                   [out], async_op, finish, [output])


def _check_root_list(op, tensors, mine, pg, tensor, root_name, role):
    """gather/scatter arguments as PyTorch checks them: the list only on the root rank, one
    tensor per rank, each of ``tensor``'s size and dtype."""
    name = f"{op}_list"
    if mine and not tensors:
        raise ValueError(f"Argument ``{name}`` must be specified on {root_name} rank.")
    if not mine and tensors:
        raise ValueError(f"Argument ``{name}`` must NOT be specified on non-{root_name} ranks.")
    if mine:
        if len(tensors) != pg.size():
            raise ValueError(f"{op}: {name} must hold {pg.size()} tensors")
        for t in tensors:
            _tensor_check(t, name)
            if t.numel() != tensor.numel() or t.dtype != tensor.dtype:
                raise ValueError(f"{op}: all tensors in {name} must have the size and dtype of "
                                 f"the {role} tensor")


def gather(tensor, gather_list=None, dst=None, group=None, async_op=False, group_dst=None):
    """Rank ``dst`` receives every rank's ``tensor`` (equal sizes) in ``gather_list``."""
    pg = _resolve(group)
    if pg is None:
        return None
    pg._check_usable()
    root = _group_rank(pg, dst, group_dst, "destination")
    _tensor_check(tensor, "tensor")
    mine = pg.rank() == root
    state = {}

    def check():
        _check_root_list("gather", gather_list, mine, pg, tensor, "destination", "input")
        state["send"] = _Buf(tensor, pg._spec)
    error = _argument_error(check)
    _agree(pg, "gather", tensor, root=root, error=error)
    flat = _flat(tensor, tensor.numel() * pg.size()) if mine else None
    recv = _Buf(flat, pg._spec) if mine else None
    send = state["send"]
    if pg.size() == 1:
        with no_grad():
            flat.copy_(tensor.reshape(-1))
    return _submit(pg, "gather",
                   lambda: pg._comm.gather(send.array, recv.array if mine else None, root),
                   [recv] if mine else [], async_op,
                   _scatter_flat(flat, gather_list) if mine else None, gather_list or [])


def scatter(tensor, scatter_list=None, src=None, group=None, async_op=False, group_src=None):
    """Rank i receives ``scatter_list[i]`` of rank ``src`` into ``tensor``."""
    pg = _resolve(group)
    if pg is None:
        return None
    pg._check_usable()
    root = _group_rank(pg, src, group_src, "source")
    _tensor_check(tensor, "tensor")
    mine = pg.rank() == root
    state = {}

    def check():
        _check_root_list("scatter", scatter_list, mine, pg, tensor, "source", "output")
        state["recv"] = _Buf(tensor, pg._spec)
    error = _argument_error(check)
    _agree(pg, "scatter", tensor, root=root, error=error)
    from .._ops.shape import cat
    send = _Buf(cat([t.reshape(-1) for t in scatter_list]), pg._spec) if mine else None
    recv = state["recv"]
    if pg.size() == 1:
        with no_grad():
            tensor.copy_(scatter_list[0].reshape(tensor.shape))
    return _submit(pg, "scatter",
                   lambda: pg._comm.scatter(send.array if mine else None, recv.array, root),
                   [recv], async_op, None, [tensor])


# -- point to point ---------------------------------------------------------------------------
def isend(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Start sending ``tensor`` to rank ``dst``; returns a Work."""
    pg = _resolve(group)
    if pg is None:
        warnings.warn("Running isend on global rank which does not belong to the given group.")
        return None
    peer = _group_rank(pg, dst, group_dst, "destination")
    buf = _Buf(tensor, pg._spec)
    return _submit(pg, "send", lambda: pg._comm.send(buf.array, peer, tag), [], True, None,
                   [tensor])


def irecv(tensor, src=None, group=None, tag=0, group_src=None):
    """Start receiving into ``tensor`` from rank ``src`` (any rank if None); returns a Work."""
    pg = _resolve(group)
    if pg is None:
        warnings.warn("Running irecv on global rank which does not belong to the given group.")
        return None
    peer = None if src is None and group_src is None else \
        _group_rank(pg, src, group_src, "source")
    buf = _Buf(tensor, pg._spec)
    return _submit(pg, "recv", lambda: pg._comm.recv(buf.array, peer, tag), [buf], True, None,
                   [tensor])


def _not_self(pg, peer, what):
    if peer == pg.rank():
        raise ValueError(f"Invalid {what} rank: {what} rank should not be the same as the rank "
                         f"of the current process.")


def send(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Send ``tensor`` to rank ``dst`` and wait until it is sent."""
    pg = _resolve(group)
    if pg is not None:
        _not_self(pg, _group_rank(pg, dst, group_dst, "destination"), "destination")
    work = isend(tensor, dst, group, tag, group_dst)
    if work is not None:
        work.wait()


def recv(tensor, src=None, group=None, tag=0, group_src=None):
    """Receive into ``tensor``; returns the sender's global rank (-1 if not a member)."""
    pg = _resolve(group)
    if pg is None:
        return -1
    if src is not None or group_src is not None:
        _not_self(pg, _group_rank(pg, src, group_src, "source"), "source")
    work = irecv(tensor, src, group, tag, group_src)
    work.wait()
    return pg._ranks[work._source_rank()]


# -- objects (pickled into uint8 tensors) ------------------------------------------------------
def _object_tensor(obj):
    import pickle
    from .._ops.creation import tensor
    return tensor(list(pickle.dumps(obj)), dtype=_dtype.uint8)


def _tensor_object(t):
    import pickle
    return pickle.loads(bytes(t.tolist()))


def all_gather_object(object_list, obj, group=None):
    """``object_list[i]`` receives rank i's picklable ``obj``."""
    from .._ops.creation import empty, tensor
    pg = _resolve(group)
    if pg is None:
        return
    mine = _object_tensor(obj)
    counts = [empty(1, dtype=_dtype.int64) for _ in range(pg.size())]
    all_gather(counts, tensor([mine.numel()], dtype=_dtype.int64), group=pg)
    outs = [empty(int(n.item()), dtype=_dtype.uint8) for n in counts]
    all_gather(outs, mine, group=pg)
    for i, t in enumerate(outs):
        object_list[i] = _tensor_object(t)


def broadcast_object_list(object_list, src=None, group=None, device=None, group_src=None):
    """Replace ``object_list``'s items on every rank by those of rank ``src``."""
    from .._ops.creation import empty, tensor
    pg = _resolve(group)
    if pg is None:
        return
    root = _group_rank(pg, src, group_src, "source")
    data = _object_tensor(list(object_list)) if pg.rank() == root else None
    size = tensor([0 if data is None else data.numel()], dtype=_dtype.int64)
    broadcast(size, group=pg, group_src=root)
    if data is None:
        data = empty(int(size.item()), dtype=_dtype.uint8)
    broadcast(data, group=pg, group_src=root)
    object_list[:] = _tensor_object(data)
