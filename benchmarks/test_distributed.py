"""Scale-out numbers: the demo's digits-MLP epoch at 1 and 2 ranks, and all-reduce bandwidth
for 1-100 MB float32 tensors through corelib.distributed next to raw mpi4py (the limit).

    .venv/bin/python -m pytest benchmarks/test_distributed.py -s -q     # prints both tables
    .venv/bin/python benchmarks/test_distributed.py                     # the same, no pytest

Each measurement is an MPI job (``mpiexec -n N python this-file --worker KIND``) whose rank 0
prints one JSON line; every process runs with OMP_NUM_THREADS=1, so 2 ranks use the 2 cores
that 1 rank with one BLAS thread leaves idle. Besides wall-clock time the epoch reports each
rank's CPU time (``time.process_time``, the busiest rank): on a shared machine whose other jobs
take the second core, wall-clock time measures that contention, while CPU time per rank shows
how the work divides (it includes DDP's copies and MPI's busy polling while waiting).
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve()
MPIEXEC = str(Path(sys.executable).parent / "mpiexec")
EPOCHS = 4          # the first is warm-up
SIZES_MB = [1, 10, 100]


def _epoch_worker(batch):
    sys.path.insert(0, str(HERE.parents[1] / "examples"))
    import corelib
    import corelib.distributed as dist
    from corelib import nn, optim
    from corelib.nn.parallel import DistributedDataParallel
    from corelib.utils.data import DataLoader, DistributedSampler, TensorDataset
    import train_digits

    dist.init_process_group("mpi")
    world = dist.get_world_size()
    (x, y), _ = train_digits.load_data()
    train_set = TensorDataset(x, y)
    corelib.manual_seed(0)
    model = DistributedDataParallel(train_digits.make_mlp())
    sampler = DistributedSampler(train_set, seed=0)
    loader = DataLoader(train_set, batch_size=batch // world, sampler=sampler)
    optimizer = optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = nn.CrossEntropyLoss()
    times, cpu = [], []
    for epoch in range(EPOCHS):
        sampler.set_epoch(epoch)
        dist.barrier()
        start, start_cpu = time.perf_counter(), time.process_time()
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        cpu.append(time.process_time() - start_cpu)
        dist.barrier()
        times.append(time.perf_counter() - start)
    cpus = [None] * world
    dist.all_gather_object(cpus, statistics.median(cpu[1:]))
    if dist.get_rank() == 0:
        print(json.dumps({"ranks": world, "epoch_s": statistics.median(times[1:]),
                          "cpu_s": max(cpus), "steps": len(loader), "batch": batch}))


def _allreduce_worker():
    import numpy as np
    from mpi4py import MPI
    import corelib
    import corelib.distributed as dist

    dist.init_process_group("mpi")
    comm = MPI.COMM_WORLD
    rows = []
    for mb in SIZES_MB:
        n = mb * 2 ** 20 // 4
        reps = max(3, 30 // mb)
        t = corelib.ones(n)
        a = np.ones(n, dtype=np.float32)
        results = {}
        for name, run in (("mpi4py", lambda: comm.Allreduce(MPI.IN_PLACE, a, op=MPI.SUM)),
                          ("mpi4py_nb", lambda: comm.Iallreduce(MPI.IN_PLACE, a,
                                                                op=MPI.SUM).Wait()),
                          ("corelib", lambda: dist.all_reduce(t)),
                          ("unchecked", lambda: dist.all_reduce(t))):
            os.environ["CORELIB_DISTRIBUTED_CHECKS"] = "0" if name == "unchecked" else "1"
            run()
            samples = []
            for _ in range(reps):
                comm.Barrier()
                start = time.perf_counter()
                run()
                samples.append(time.perf_counter() - start)
            results[name] = statistics.median(samples)
        rows.append({"MB": mb, "corelib_s": results["corelib"], "mpi4py_s": results["mpi4py"],
                     "mpi4py_nb_s": results["mpi4py_nb"], "unchecked_s": results["unchecked"]})
    if comm.Get_rank() == 0:
        print(json.dumps({"ranks": comm.Get_size(), "allreduce": rows}))


def job(kind, ranks, *args, timeout=900):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    out = subprocess.run([MPIEXEC, "-n", str(ranks), sys.executable, str(HERE), "--worker",
                          kind, *map(str, args)], capture_output=True, text=True,
                         timeout=timeout, env=env)
    if out.returncode != 0:
        raise RuntimeError(f"{kind} job with {ranks} ranks failed:\n{out.stdout}{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def report():
    lines = [f"digits MLP (the demo's), one epoch, median of {EPOCHS - 1} after a warm-up:"]
    epochs = {}
    for batch in (32, 256):   # the demo's global batch, and one where compute dominates
        runs = {r: job("epoch", r, batch) for r in (1, 2)}
        for r, e in runs.items():
            lines.append(f"  global batch {batch:3d}, {r} rank{'s' if r > 1 else ' '}: "
                         f"{e['epoch_s']:.3f} s, CPU {e['cpu_s']:.3f} s per rank (the busiest)"
                         f" ({e['steps']} steps of {batch // r} images per rank)")
        lines.append(f"  global batch {batch:3d}: speed-up at 2 ranks "
                     f"{runs[1]['epoch_s'] / runs[2]['epoch_s']:.2f}x")
        epochs.update({(batch, r): e for r, e in runs.items()})
    bw = job("allreduce", 2)
    lines.append("all_reduce (SUM, float32, 2 ranks), median ms (MB/s = size / time): "
                 "corelib.distributed.all_reduce with its agreement check, without it "
                 "(CORELIB_DISTRIBUTED_CHECKS=0), and raw mpi4py Allreduce / Iallreduce + Wait:")
    lines.append("      size |   corelib        |   corelib, no check |   mpi4py Allreduce "
                 "|   mpi4py Iallreduce")
    for row in bw["allreduce"]:
        cells = [f"{row[k] * 1e3:8.2f} ({row['MB'] / row[k]:5.0f})"
                 for k in ("corelib_s", "unchecked_s", "mpi4py_s", "mpi4py_nb_s")]
        lines.append(f"  {row['MB']:5d} MB | " + "  |  ".join(cells))
    return "\n".join(lines), epochs, bw


def test_distributed_numbers():
    import pytest
    if not Path(MPIEXEC).exists():
        pytest.skip("mpiexec is not installed (scripts/setup.sh installs MPICH)")
    text, epochs, bw = report()
    print("\n" + text)
    assert all(e["epoch_s"] > 0 for e in epochs.values())
    assert all(row["corelib_s"] > 0 for row in bw["allreduce"])


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        if sys.argv[2] == "epoch":
            _epoch_worker(int(sys.argv[3]))
        else:
            _allreduce_worker()
    else:
        print(report()[0])
