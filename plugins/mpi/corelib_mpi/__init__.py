"""MPI communication backend for ``corelib.distributed``: mpi4py on NumPy arrays.

``init_process_group("mpi")`` asks this plugin for the world communicator. Ranks come from MPI
itself (``mpiexec -n N``, or ``python -m corelib.distributed.run``, which runs mpiexec).
mpi4py is imported only then, because importing ``mpi4py.MPI`` initialises MPI.

Every operation is MPI's non-blocking one (Iallreduce, Ibcast, Iallgatherv, Isend, ...).
``wait(timeout)`` polls ``MPI_Test`` (each call advances MPI's progress engine): busily for
the first 5 ms (as MPI's own blocking wait does), then yielding the core between polls
(``sched_yield``, so oversubscribed ranks progress) up to half a second, then sleeping with a
growing back-off of at most 1 ms; it raises TimeoutError at the deadline. Yielding or sleeping
from the start would stall multi-round collectives: every round needs both sides to poll. So a peer that died, hangs
or skipped a collective makes the others fail after the process group's ``timeout`` instead of
hanging forever. MPI cannot cancel a started collective: after a timeout the communicator is
unusable and ``abort()`` (MPI_Abort) ends the whole job, which corelib.distributed does at exit.

Reductions run on the array's own MPI type; bool reduces with logical or/and, float16 in
float32 (MPI has no half type). Other operations move bytes, so every dtype works.
"""
from __future__ import annotations

import importlib.util
import os
import time

import numpy as np

from corelib.hookspecs import CommBackendSpec, hookimpl

__all__ = ["Communicator", "Request"]

INSTALL = "pip install mpi4py mpich"
_MPI_OPS = {"sum": "SUM", "product": "PROD", "min": "MIN", "max": "MAX"}
_BOOL_OPS = {"sum": "LOR", "max": "LOR", "min": "LAND", "product": "LAND"}
_SPIN = 0.005         # seconds of busy polling
_YIELD = 0.5          # seconds of polling with sched_yield before sleeping
_MAX_SLEEP = 1e-3


def _is_available():
    return importlib.util.find_spec("mpi4py") is not None


def _unavailable_reason():
    if _is_available():
        return ""
    return (f"mpi4py is not installed; install it and an MPI library with `{INSTALL}` "
            f"(or `pip install -e plugins/mpi[mpich]`), or use your cluster's MPI with "
            f"`pip install mpi4py`")


def _mpi():
    try:
        from mpi4py import MPI
    except (ImportError, RuntimeError) as exc:   # mpi4py present, no MPI library it can load
        raise RuntimeError(f"mpi4py cannot load an MPI library ({exc}); install one with "
                           f"`pip install mpich` (or your system's MPI)") from exc
    return MPI


class Request:
    """A started MPI operation; ``after`` runs once when it has completed."""
    __slots__ = ("req", "status", "after", "done")

    def __init__(self, req, after=None, status=None):
        self.req, self.after, self.status, self.done = req, after, status, False

    @property
    def source(self):
        return None if self.status is None else self.status.Get_source()

    def _complete(self):
        self.done = True
        if self.after is not None:
            after, self.after = self.after, None
            after()
        return True

    def test(self):
        if self.done:
            return True
        return self._complete() if self.req.Test(self.status) else False

    def wait(self, timeout):
        if self.test():
            return
        start = time.monotonic()
        deadline, delay = start + timeout, 1e-5
        while not self.req.Test(self.status):
            now = time.monotonic()
            if now > deadline:
                raise TimeoutError(f"not completed after {timeout:g} s")
            if now - start < _SPIN:
                continue
            if now - start < _YIELD:
                _yield()
            else:
                time.sleep(delay)
                delay = min(2 * delay, _MAX_SLEEP)
        self._complete()


_yield = getattr(os, "sched_yield", lambda: time.sleep(0))


def _bytes(a):
    return a.reshape(-1).view(np.uint8)


class Communicator:
    """One MPI communicator (``MPI.Comm``) with the operations corelib.distributed uses."""

    def __init__(self, comm):
        self.comm = comm
        self.rank, self.size = comm.Get_rank(), comm.Get_size()

    # -- groups ----------------------------------------------------------------------------
    def split(self, ranks):
        """A communicator of ``ranks`` (collective over this one); None where not a member."""
        MPI = _mpi()
        comm = self.comm.Create(self.comm.Get_group().Incl(list(ranks)))
        return None if comm == MPI.COMM_NULL else Communicator(comm)

    def destroy(self):
        if self.comm is not None:
            try:
                self.comm.Free()
            except Exception:   # a communicator broken by a timeout cannot always be freed
                pass
            self.comm = None

    def abort(self, code=1):
        _mpi().COMM_WORLD.Abort(code)

    # -- reductions ------------------------------------------------------------------------
    def _reduce_args(self, a, op):
        """(work array, MPI op, after) for a reduction on ``a`` (float16 runs in float32)."""
        MPI = _mpi()
        if a.dtype == np.bool_:
            return a, getattr(MPI, _BOOL_OPS[op]), None
        if a.dtype == np.float16:
            work = a.astype(np.float32)
            return work, getattr(MPI, _MPI_OPS[op]), lambda: np.copyto(a, work, casting="unsafe")
        return a, getattr(MPI, _MPI_OPS[op]), None

    def allreduce(self, a, op):
        work, mop, after = self._reduce_args(a, op)
        return Request(self.comm.Iallreduce(_mpi().IN_PLACE, work, mop), after)

    def reduce(self, a, root, op):
        work, mop, after = self._reduce_args(a, op)
        if self.rank == root:
            return Request(self.comm.Ireduce(_mpi().IN_PLACE, work, mop, root), after)
        return Request(self.comm.Ireduce(work, None, mop, root))

    def reduce_scatter(self, send, recv, counts, op):
        work, mop, _ = self._reduce_args(send, op)
        out, _, after = self._reduce_args(recv, op)
        return Request(self.comm.Ireduce_scatter(work, out, list(counts), mop), after)

    # -- data movement (bytes) ---------------------------------------------------------------
    def broadcast(self, a, root):
        return Request(self.comm.Ibcast(_bytes(a), root))

    def allgather(self, send, recv):
        return Request(self.comm.Iallgather(_bytes(send), _bytes(recv)))

    def allgatherv(self, send, recv, counts):
        size = send.dtype.itemsize
        counts = [c * size for c in counts]
        displs = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(int).tolist()
        return Request(self.comm.Iallgatherv(_bytes(send), [_bytes(recv), counts, displs,
                                                            _mpi().BYTE]))

    def gather(self, send, recv, root):
        return Request(self.comm.Igather(_bytes(send), None if recv is None else _bytes(recv),
                                         root))

    def scatter(self, send, recv, root):
        return Request(self.comm.Iscatter(None if send is None else _bytes(send), _bytes(recv),
                                          root))

    def send(self, a, dst, tag):
        return Request(self.comm.Isend(_bytes(a), dst, tag))

    def recv(self, a, src, tag):
        MPI = _mpi()
        status = MPI.Status()
        return Request(self.comm.Irecv(_bytes(a), MPI.ANY_SOURCE if src is None else src, tag),
                       status=status)

    def barrier(self):
        return Request(self.comm.Ibarrier())


def _init(timeout, env):
    return Communicator(_mpi().COMM_WORLD.Dup())


@hookimpl
def corelib_comm_backend():
    return CommBackendSpec(name="mpi", devices=("cpu", "cuda"), init=_init,
                           is_available=_is_available, unavailable_reason=_unavailable_reason,
                           array_kind="numpy", distribution="corelib-mpi")
