"""Launcher with torchrun's habits, on top of ``mpiexec``.

    python -m corelib.distributed.run --nproc-per-node 2 train.py --epochs 3
    python -m corelib.distributed.run --nnodes 2 --nproc-per-node 4 --hostfile hosts train.py

runs ``mpiexec -n N python -m corelib.distributed.run --worker ... train.py ...``; each worker
sets the variables torchrun sets (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR,
MASTER_PORT) from the MPI launcher's own (MPICH/Hydra's PMI_*, Open MPI's OMPI_COMM_WORLD_*,
PMIx's) and runs the script as ``__main__``. A script therefore runs unchanged under this
launcher, under plain ``mpiexec -n N python train.py`` (init_process_group("mpi") asks MPI) or
under torchrun-style variables. OMP_NUM_THREADS defaults to 1 per process, as torchrun's.

An uncaught exception in a rank prints ``[rank R]`` and the traceback, then aborts the whole
job (MPI_Abort) so that the other ranks do not wait for it; a rank killed by a signal makes
mpiexec end the others. The launcher exits with mpiexec's status.
"""
from __future__ import annotations

import argparse
import os
import runpy
import shutil
import socket
import subprocess
import sys
import traceback

__all__ = ["main", "parse_args", "command"]

# (rank, size, local rank, local size) variables of the MPI launchers
_LAUNCHER_VARS = [
    ("PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "MPI_LOCALNRANKS"),              # MPICH Hydra
    ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK",
     "OMPI_COMM_WORLD_LOCAL_SIZE"),                                               # Open MPI
    ("PMIX_RANK", "PMIX_SIZE", "PMIX_LOCAL_RANK", "PMIX_LOCAL_SIZE"),             # PMIx
]


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m corelib.distributed.run",
                                description=__doc__.splitlines()[0])
    p.add_argument("--nproc-per-node", "--nproc_per_node", default="1",
                   help="processes per node: a number, or 'auto' (one per CPU core)")
    p.add_argument("--nnodes", type=int, default=1, help="number of nodes (with --hostfile)")
    p.add_argument("--standalone", action="store_true",
                   help="one node (torchrun's flag; the default here)")
    p.add_argument("--hostfile", help="MPI host file (one host per line) for several nodes")
    p.add_argument("--master-addr", "--master_addr", default=None,
                   help="MASTER_ADDR for the ranks (default: this host)")
    p.add_argument("--master-port", "--master_port", type=int, default=29500)
    p.add_argument("--mpiexec", default=None,
                   help="the mpiexec to use (default: the one beside this Python, or on PATH)")
    p.add_argument("--mpiexec-args", default="", help="extra mpiexec arguments (one string)")
    p.add_argument("-m", "--module", action="store_true",
                   help="run the script argument as a module (python -m)")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("script", help="the training script (or module with -m)")
    p.add_argument("script_args", nargs=argparse.REMAINDER)
    return p.parse_args(argv)


def _mpiexec(explicit):
    if explicit:
        return explicit
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    found = beside if os.access(beside, os.X_OK) else shutil.which("mpiexec")
    if found is None:
        sys.exit("corelib.distributed.run: mpiexec not found; install an MPI library "
                 "(`pip install mpich mpi4py`, or your system's MPI) or pass --mpiexec PATH")
    return found


def _is_open_mpi(mpiexec):
    try:
        out = subprocess.run([mpiexec, "--version"], capture_output=True, text=True,
                             timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "Open MPI" in out or "OpenRTE" in out


def launch(args):
    cmd, env = command(args)
    status = subprocess.call(cmd, env=env)
    if status != 0:
        print(f"corelib.distributed.run: mpiexec exited with status {status} (a rank failed; "
              f"its error is above)", file=sys.stderr)
    return status


def command(args):
    """The mpiexec command line and environment for ``args`` (see the module doc)."""
    nproc = os.cpu_count() if args.nproc_per_node == "auto" else int(args.nproc_per_node)
    if nproc < 1 or args.nnodes < 1:
        sys.exit("corelib.distributed.run: --nproc-per-node and --nnodes must be >= 1")
    if args.nnodes > 1 and not args.hostfile:
        sys.exit("corelib.distributed.run: --nnodes > 1 needs --hostfile (the nodes' names)")
    mpiexec = _mpiexec(args.mpiexec)
    cmd = [mpiexec, "-n", str(nproc * args.nnodes)]
    open_mpi = _is_open_mpi(mpiexec)
    if args.hostfile:
        if open_mpi:
            cmd += ["--hostfile", args.hostfile, "--map-by", f"ppr:{nproc}:node"]
        else:
            cmd += ["-f", args.hostfile, "-ppn", str(nproc)]
    cmd += args.mpiexec_args.split()
    addr = args.master_addr or (socket.gethostname() if args.hostfile else "127.0.0.1")
    cmd += [sys.executable, "-m", "corelib.distributed.run", "--worker", "--master-addr", addr,
            "--master-port", str(args.master_port)]
    cmd += (["-m"] if args.module else []) + [args.script, *args.script_args]
    env = dict(os.environ)
    if "OMP_NUM_THREADS" not in env and nproc > 1:
        env["OMP_NUM_THREADS"] = "1"
    if open_mpi:   # Open MPI does not forward the environment by default
        cmd[1:1] = ["-x", "OMP_NUM_THREADS"] if "OMP_NUM_THREADS" in env else []
    return cmd, env


def _set_rank_env(args):
    for rank, size, local, local_size in _LAUNCHER_VARS:
        if rank in os.environ and size in os.environ:
            os.environ["RANK"], os.environ["WORLD_SIZE"] = os.environ[rank], os.environ[size]
            os.environ["LOCAL_RANK"] = os.environ.get(local, os.environ[rank])
            os.environ["LOCAL_WORLD_SIZE"] = os.environ.get(local_size, os.environ[size])
            break
    else:
        sys.exit("corelib.distributed.run --worker: no MPI launcher variables found (PMI_RANK, "
                 "OMPI_COMM_WORLD_RANK or PMIX_RANK); the worker runs under mpiexec")
    os.environ["MASTER_ADDR"] = args.master_addr or "127.0.0.1"
    os.environ["MASTER_PORT"] = str(args.master_port)


def work(args):
    """One rank: set torchrun's variables and run the script as ``__main__``."""
    _set_rank_env(args)
    sys.argv = [args.script, *args.script_args]
    try:
        if args.module:
            runpy.run_module(args.script, run_name="__main__", alter_sys=True)
        else:
            sys.path.insert(0, os.path.dirname(os.path.abspath(args.script)))
            runpy.run_path(args.script, run_name="__main__")
    except SystemExit as exc:
        if exc.code not in (None, 0):
            _abort(exc.code if isinstance(exc.code, int) else 1, None)
        raise
    except BaseException:
        _abort(1, traceback.format_exc())
    return 0


def _abort(code, text):
    """Report a failed rank and end the whole job, so that no other rank waits for it."""
    rank = os.environ.get("RANK", "?")
    if text:
        sys.stderr.write("".join(f"[rank {rank}] {line}\n" for line in text.splitlines()))
    sys.stderr.write(f"[rank {rank}] corelib.distributed.run: rank {rank} failed; aborting "
                     f"the job\n")
    sys.stdout.flush()
    sys.stderr.flush()
    from . import distributed_c10d as c10d
    comm = c10d._world.abort or (c10d._world.pg._comm if c10d._world.pg is not None else None)
    if comm is not None and getattr(comm, "comm", None) is not None:
        comm.abort(code)
    os._exit(code)


def main(argv=None):
    args = parse_args(argv)
    return work(args) if args.worker else launch(args)


if __name__ == "__main__":
    sys.exit(main())
