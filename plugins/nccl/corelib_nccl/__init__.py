"""NCCL communication backend for ``corelib.distributed``: ``cupy.cuda.nccl`` on CUDA tensors.

Runs where real GPUs and libnccl exist (``pip install nvidia-nccl-cu13``, CuPy from
corelib-cuda); elsewhere (no GPU, ``CORELIB_CUDA_SIMULATE=1``) ``is_available()`` is False and
``init_process_group("nccl")`` says why. Ranks come from MPI (``mpiexec`` or
``corelib.distributed.run``): mpi4py discovers rank and size and broadcasts NCCL's unique id,
the bootstrap NCCL's own examples use. Rank r uses GPU ``r % device_count``.

Operations are enqueued on the current CuPy stream; a request records a CUDA event after the
operation, ``test()`` queries it and ``wait(timeout)`` polls it, aborting the communicator
(``ncclCommAbort``) and raising TimeoutError at the deadline. Gather, scatter and uneven
all-gather are grouped point-to-point sends / broadcasts, as PyTorch's ProcessGroupNCCL does.
"""
from __future__ import annotations

import importlib.util
import os
import time

from corelib.hookspecs import CommBackendSpec, hookimpl

__all__ = ["Communicator"]

_DTYPES = {"int8": 0, "uint8": 1, "int32": 2, "uint32": 3, "int64": 4, "uint64": 5,
           "float16": 6, "float32": 7, "float64": 8, "bfloat16": 9}   # ncclDataType_t
_OPS = {"sum": 0, "product": 1, "max": 2, "min": 3}                    # ncclRedOp_t


def _reason():
    if os.environ.get("CORELIB_CUDA_SIMULATE") == "1":
        return "CUDA is simulated on the CPU (CORELIB_CUDA_SIMULATE=1); NCCL needs real GPUs"
    if importlib.util.find_spec("cupy") is None:
        return "CuPy is not installed (pip install -e backends/cuda)"
    if importlib.util.find_spec("mpi4py") is None:
        return "mpi4py (NCCL's bootstrap here) is not installed: pip install mpi4py mpich"
    try:
        import warnings
        import cupy
        with warnings.catch_warnings():   # CuPy warns when libnccl is missing; we say it
            warnings.simplefilter("ignore")
            from cupy.cuda import nccl
        if not nccl.available:
            return "libnccl is not installed: pip install nvidia-nccl-cu13 (or cu12)"
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return "no CUDA device is visible"
    except Exception as exc:   # no driver, no device
        return f"CUDA is unavailable: {type(exc).__name__}: {exc}"
    return ""


def _is_available():
    return not _reason()


class Request:
    __slots__ = ("event", "comm", "source", "done")

    def __init__(self, comm, stream):
        import cupy
        self.event = cupy.cuda.Event(disable_timing=True)
        self.event.record(stream)
        self.comm, self.source, self.done = comm, None, False

    def test(self):
        self.done = self.done or self.event.done
        return self.done

    def wait(self, timeout):
        deadline, delay = time.monotonic() + timeout, 1e-5
        while not self.test():
            if time.monotonic() > deadline:
                self.comm.abort()
                raise TimeoutError(f"not completed after {timeout:g} s")
            time.sleep(delay)
            delay = min(2 * delay, 1e-3)


def _dtype(a):
    name = str(a.dtype)
    if name == "bool":
        return _DTYPES["uint8"]
    return _DTYPES[name]


class Communicator:
    """An NCCL communicator of ``size`` ranks, bootstrapped over MPI."""

    def __init__(self, mpi_comm, nccl_comm):
        self.mpi, self.nccl = mpi_comm, nccl_comm
        self.rank, self.size = mpi_comm.Get_rank(), mpi_comm.Get_size()

    def _stream(self):
        import cupy
        return cupy.cuda.get_current_stream()

    def _done(self):
        return Request(self.nccl, self._stream())

    def split(self, ranks):
        comm = self.mpi.Create(self.mpi.Get_group().Incl(list(ranks)))
        from mpi4py import MPI
        return None if comm == MPI.COMM_NULL else _make(comm)

    def destroy(self):
        self.nccl.destroy()

    def abort(self, code=1):
        self.nccl.abort()
        from mpi4py import MPI
        MPI.COMM_WORLD.Abort(code)

    def allreduce(self, a, op):
        s = self._stream()
        self.nccl.allReduce(a.data.ptr, a.data.ptr, a.size, _dtype(a), _OPS[op], s.ptr)
        return self._done()

    def reduce(self, a, root, op):
        s = self._stream()
        self.nccl.reduce(a.data.ptr, a.data.ptr, a.size, _dtype(a), _OPS[op], root, s.ptr)
        return self._done()

    def broadcast(self, a, root):
        s = self._stream()
        self.nccl.broadcast(a.data.ptr, a.data.ptr, a.size, _dtype(a), root, s.ptr)
        return self._done()

    def allgather(self, send, recv):
        s = self._stream()
        self.nccl.allGather(send.data.ptr, recv.data.ptr, send.size, _dtype(send), s.ptr)
        return self._done()

    def allgatherv(self, send, recv, counts):
        from cupy.cuda import nccl
        s, offset = self._stream(), 0
        nccl.groupStart()
        for root, n in enumerate(counts):
            src = send if root == self.rank else recv[offset:offset + n]
            self.nccl.broadcast(src.data.ptr, recv[offset:offset + n].data.ptr, n,
                                _dtype(send), root, s.ptr)
            offset += n
        nccl.groupEnd()
        return self._done()

    def reduce_scatter(self, send, recv, counts, op):
        if len(set(counts)) != 1:
            raise RuntimeError("NCCL reduce_scatter needs equal sizes")
        s = self._stream()
        self.nccl.reduceScatter(send.data.ptr, recv.data.ptr, recv.size, _dtype(recv),
                                _OPS[op], s.ptr)
        return self._done()

    def _grouped(self, pairs):
        from cupy.cuda import nccl
        s = self._stream()
        nccl.groupStart()
        for kind, a, peer in pairs:
            fn = self.nccl.send if kind == "send" else self.nccl.recv
            fn(a.data.ptr, a.size, _dtype(a), peer, s.ptr)
        nccl.groupEnd()
        return self._done()

    def gather(self, send, recv, root):
        if self.rank != root:
            return self._grouped([("send", send, root)])
        n = send.size
        recv[root * n:(root + 1) * n] = send.reshape(-1)
        return self._grouped([("recv", recv[r * n:(r + 1) * n], r)
                              for r in range(self.size) if r != root])

    def scatter(self, send, recv, root):
        if self.rank != root:
            return self._grouped([("recv", recv, root)])
        n = recv.size
        recv.reshape(-1)[...] = send[root * n:(root + 1) * n]
        return self._grouped([("send", send[r * n:(r + 1) * n], r)
                              for r in range(self.size) if r != root])

    def send(self, a, dst, tag):
        return self._grouped([("send", a, dst)])

    def recv(self, a, src, tag):
        if src is None:
            raise RuntimeError("NCCL cannot receive from any source; pass src")
        request = self._grouped([("recv", a, src)])
        request.source = src
        return request

    def barrier(self):
        import cupy
        one = cupy.ones(1, dtype=cupy.float32)
        return self.allreduce(one, "sum")


def _make(mpi_comm):
    import cupy
    from cupy.cuda import nccl
    rank, size = mpi_comm.Get_rank(), mpi_comm.Get_size()
    cupy.cuda.Device(rank % cupy.cuda.runtime.getDeviceCount()).use()
    uid = mpi_comm.bcast(nccl.get_unique_id() if rank == 0 else None, root=0)
    return Communicator(mpi_comm, nccl.NcclCommunicator(size, uid, rank))


def _init(timeout, env):
    from mpi4py import MPI
    return _make(MPI.COMM_WORLD.Dup())


@hookimpl
def corelib_comm_backend():
    return CommBackendSpec(name="nccl", devices=("cuda",), init=_init,
                           is_available=_is_available, unavailable_reason=_reason,
                           array_kind="native", distribution="corelib-nccl")
