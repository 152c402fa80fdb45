"""Ranks that die or hang (started by test_distributed.py).

    peers: 3 ranks; rank 1 leaves (sys.exit(0)) and rank 2 hangs before a collective; rank 0
           must fail with DistBackendError after init_process_group's timeout (3 s) and its
           uncaught error aborts the job, ending the hanging rank too.
    kill:  2 ranks; rank 1 is killed by SIGKILL during training-like all-reduces; mpiexec
           ends rank 0.
"""
import os
import signal
import sys
import time
from datetime import timedelta

import corelib
import corelib.distributed as dist

mode = sys.argv[1]
dist.init_process_group("mpi", timeout=timedelta(seconds=3))
rank = dist.get_rank()
t = corelib.ones(1000)
dist.all_reduce(t)
print(f"rank {rank}: first all_reduce done", flush=True)
if mode == "peers":
    if rank == 1:
        sys.exit(0)
    if rank == 2:
        time.sleep(600)
    start = time.monotonic()
    try:
        dist.all_reduce(t)
    except dist.DistBackendError as exc:
        print(f"rank {rank}: DistBackendError after {time.monotonic() - start:.1f} s: {exc}",
              flush=True)
        raise
elif mode == "kill":
    for step in range(1000):
        if rank == 1 and step == 3:
            os.kill(os.getpid(), signal.SIGKILL)
        dist.all_reduce(t)
        time.sleep(0.01)
print(f"rank {rank}: not reached", flush=True)
