"""corelib.distributed: multi-process training with ``torch.distributed``'s API.

    import corelib.distributed as dist
    dist.init_process_group("mpi")          # ranks from mpiexec / corelib.distributed.run
    dist.all_reduce(t, op=dist.ReduceOp.SUM)

Communication backends are plugins (``corelib_comm_backend`` hook in corelib.hookspecs): MPI
(``corelib-mpi``, mpi4py, tensors of any device through NumPy) and NCCL (``corelib-nccl``,
CUDA tensors). Launch with ``python -m corelib.distributed.run --nproc-per-node N script.py``
or ``mpiexec -n N python script.py``. See distributed_c10d for agreement checks and timeouts.
"""
from __future__ import annotations

from .distributed_c10d import *  # noqa: F401,F403
from .distributed_c10d import __all__ as _c10d_all

__all__ = ["is_available"] + list(_c10d_all)


def is_available():
    """Whether the distributed package is usable (it always is; backends may not be)."""
    return True
