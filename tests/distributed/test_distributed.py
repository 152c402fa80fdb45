"""corelib.distributed, DDP, DistributedSampler and the launcher.

Multi-process checks start real MPI jobs (few launches, each running many checks: see
_worker.py and _failures.py); the single-process tests never initialise MPI in the pytest
process (importing ``mpi4py.MPI`` would), only in subprocesses.
"""
from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import corelib
import corelib.distributed as dist
from corelib.dispatch import registry
from corelib.hookspecs import CommBackendSpec, hookimpl

HERE = Path(__file__).parent
_BESIDE = Path(sys.executable).parent / "mpiexec"
MPIEXEC = str(_BESIDE) if _BESIDE.exists() else shutil.which("mpiexec")
HAS_MPI = MPIEXEC is not None and importlib.util.find_spec("mpi4py") is not None and \
    "mpi" in __import__("corelib.distributed._plugins", fromlist=["x"]).comm_backends()
needs_mpi = pytest.mark.skipif(not HAS_MPI, reason="MPI is not installed: pip install mpich "
                               "mpi4py -e plugins/mpi (scripts/setup.sh does)")
LAUNCH_TIMEOUT = 300   # seconds; a launch takes 5-20 s here, much more only if it hangs


def launch(args, timeout=LAUNCH_TIMEOUT):
    """Run a job in its own process group; kill that group if it outlives ``timeout``."""
    start = time.monotonic()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            cwd=HERE, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        pytest.fail(f"job did not end within {timeout} s: {' '.join(args)}\n{out}")
    return proc.returncode, out, time.monotonic() - start


# -- multi-process ------------------------------------------------------------------------------
@needs_mpi
def test_two_ranks_under_mpiexec():
    code, out, _ = launch([MPIEXEC, "-n", "2", sys.executable, "_worker.py"])
    assert code == 0, out
    for rank in range(2):
        assert f"rank {rank}: " in out and "checks passed" in out, out


@needs_mpi
def test_three_ranks_under_the_launcher():
    code, out, _ = launch([sys.executable, "-m", "corelib.distributed.run", "--nproc-per-node",
                           "3", "_worker.py", "--flag", "value"])
    assert code == 0, out
    assert all(f"rank {r}: " in out for r in range(3)) and out.count("checks passed") == 3, out


@needs_mpi
def test_a_peer_that_leaves_or_hangs_fails_the_others_after_the_timeout():
    code, out, seconds = launch([sys.executable, "-m", "corelib.distributed.run",
                                 "--nproc-per-node", "3", "_failures.py", "peers"])
    assert code != 0, out
    waited = re.search(r"rank 0: DistBackendError after ([0-9.]+) s", out)
    assert waited and 3.0 <= float(waited.group(1)) < 30, out
    assert "timed out after 3 s" in out and "a peer died, hangs or did not call" in out, out
    assert "rank 0 failed; aborting the job" in out and "not reached" not in out, out
    assert seconds < 120, f"the job took {seconds:.0f} s to end"


@needs_mpi
def test_a_killed_rank_ends_the_job():
    code, out, seconds = launch([MPIEXEC, "-n", "2", sys.executable, "_failures.py", "kill"])
    assert code != 0, out
    assert "Killed (signal 9)" in out or "BAD TERMINATION" in out, out
    assert "not reached" not in out and seconds < 120, out


@needs_mpi
def test_one_process_world_and_launch_mismatch():
    script = (
        "import os, corelib, corelib.distributed as dist\n"
        "os.environ['WORLD_SIZE'] = '2'\n"
        "try:\n"
        "    dist.init_process_group('mpi')\n"
        "except RuntimeError as e:\n"
        "    print('MISMATCH', e)\n"
        "del os.environ['WORLD_SIZE']\n"
        "dist.init_process_group('mpi')\n"
        "t = corelib.arange(4.0); dist.all_reduce(t, op=dist.ReduceOp.AVG)\n"
        "outs = [corelib.zeros(4)]; dist.all_gather(outs, t)\n"
        "w = dist.broadcast(t, src=0, async_op=True); w.wait()\n"
        "dist.barrier(); print('WORLD', dist.get_world_size(), t.tolist(), outs[0].tolist())\n")
    code, out, _ = launch([sys.executable, "-c", script])
    assert code == 0, out
    assert "MISMATCH init_process_group: the WORLD_SIZE variable says 2 but the mpi launcher " \
           "started this process as rank 0 of 1" in out, out
    assert "WORLD 1 [0.0, 1.0, 2.0, 3.0] [0.0, 1.0, 2.0, 3.0]" in out, out


# -- single process -----------------------------------------------------------------------------
def test_collectives_before_init_raise_pytorchs_error():
    message = ("Default process group has not been initialized, please make sure to call "
               "init_process_group.")
    assert dist.is_available() and not dist.is_initialized()
    for call in (lambda: dist.all_reduce(corelib.ones(2)), dist.get_rank, dist.barrier,
                 dist.get_world_size, lambda: dist.new_group([0]),
                 lambda: corelib.nn.parallel.DistributedDataParallel(corelib.nn.Linear(2, 2))):
        with pytest.raises(ValueError) as info:
            call()
        assert str(info.value) == message


def test_missing_backends_say_what_to_install(monkeypatch):
    with pytest.raises(RuntimeError, match="'gloo' is not installed"):
        dist.init_process_group("gloo")
    specs = __import__("corelib.distributed._plugins", fromlist=["x"]).comm_backends()
    if "mpi" in specs:   # the plugin without mpi4py
        import corelib_mpi
        monkeypatch.setattr(corelib_mpi, "_is_available", lambda: False)
        with pytest.raises(RuntimeError, match=r"pip install mpi4py mpich"):
            dist.init_process_group("mpi")
    if "nccl" in specs and not specs["nccl"].is_available():
        with pytest.raises(RuntimeError, match="'nccl' .* is not available: "):
            dist.init_process_group("nccl")
    assert not dist.is_initialized()


class _LoopComm:
    """A third party's communication backend of one process (every operation is a no-op)."""
    rank, size = 0, 1

    def __getattr__(self, name):
        return lambda *args, **kwargs: _Done()

    def split(self, ranks):
        return _LoopComm()


class _Done:
    source = 0

    def test(self):
        return True

    def wait(self, timeout):
        pass


class _LoopPlugin:
    @hookimpl
    def corelib_comm_backend(self):
        return CommBackendSpec(name="loop", devices=("cpu",), init=lambda t, env: _LoopComm(),
                               is_available=lambda: True)


def test_a_third_party_comm_plugin_is_discovered_and_used():
    name = registry.register(_LoopPlugin(), name="loop-comm")
    try:
        assert dist.is_backend_available("loop")
        dist.init_process_group("loop")
        try:
            with pytest.raises(ValueError, match="twice"):
                dist.init_process_group("loop")
            assert (dist.get_rank(), dist.get_world_size(), dist.get_backend()) == (0, 1, "loop")
            t = corelib.tensor([1.0, 2.0])
            assert dist.all_reduce(t, op=dist.ReduceOp.AVG, async_op=True).wait()
            assert t.tolist() == [1.0, 2.0]
            out = corelib.zeros(2)
            dist.all_gather_into_tensor(out, t)
            assert out.tolist() == [1.0, 2.0]
            # DDP in a world of one: gradients are untouched averages of themselves
            model = corelib.nn.Linear(3, 2)
            ddp = corelib.nn.parallel.DistributedDataParallel(model)
            ddp(corelib.ones(4, 3)).sum().backward()
            assert model.weight.grad.tolist() == [[4.0] * 3] * 2
            with pytest.raises(ValueError, match="contiguous"):
                dist.all_reduce(corelib.ones(3, 3).t())
        finally:
            dist.destroy_process_group()
        assert not dist.is_initialized()
    finally:
        registry.unregister(name=name)
    assert not dist.is_backend_available("loop")


def test_post_accumulate_grad_hook():
    w = corelib.ones(3, requires_grad=True)
    seen = []
    handle = w.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad.tolist()))
    (w * 2).sum().backward()
    (w * 3).sum().backward()
    assert seen == [[2.0] * 3, [5.0] * 3]   # called after accumulation, with the tensor
    handle.remove()
    w.sum().backward()
    assert len(seen) == 2
    with pytest.raises(RuntimeError, match="non-leaf"):
        (w * 2).register_post_accumulate_grad_hook(print)


def test_launcher_command_lines():
    from corelib.distributed import run
    cmd, env = run.command(run.parse_args(["--standalone", "--nproc-per-node=2", "train.py",
                                           "--lr", "1"]))
    assert cmd[1:3] == ["-n", "2"] and cmd[-3:] == ["train.py", "--lr", "1"]
    assert "--worker" in cmd and env.get("OMP_NUM_THREADS", "1") == os.environ.get(
        "OMP_NUM_THREADS", "1")
    cmd, _ = run.command(run.parse_args(["--nnodes", "2", "--nproc-per-node", "4",
                                         "--hostfile", "hosts", "-m", "pkg.train"]))
    assert cmd[1:3] == ["-n", "8"] and cmd[-2:] == ["-m", "pkg.train"]
    assert ("-f" in cmd and "-ppn" in cmd) or "--hostfile" in cmd


# -- DistributedSampler -------------------------------------------------------------------------
def _index_lists(cls, n, replicas, **kw):
    return [list(cls(range(n), num_replicas=replicas, rank=r, **kw)) for r in range(replicas)]


@pytest.mark.parametrize("n,replicas", [(10, 3), (11, 4), (2, 5), (8, 2)])
@pytest.mark.parametrize("drop_last", [False, True])
def test_distributed_sampler_properties(n, replicas, drop_last):
    from corelib.utils.data import DistributedSampler
    parts = _index_lists(DistributedSampler, n, replicas, drop_last=drop_last, seed=1)
    flat = [i for p in parts for i in p]
    assert len({len(p) for p in parts}) == 1
    if drop_last:
        assert len(flat) == len(set(flat)) == n - n % replicas
    else:
        assert set(flat) == set(range(n)) and len(flat) == -(-n // replicas) * replicas
    again = _index_lists(DistributedSampler, n, replicas, drop_last=drop_last, seed=1)
    assert again == parts                                     # deterministic per epoch
    s = DistributedSampler(range(64), num_replicas=2, rank=0)
    first = list(s)
    s.set_epoch(1)
    assert list(s) != first                                   # a new order each epoch
    with pytest.raises(ValueError, match="Invalid rank 2"):
        DistributedSampler(range(4), num_replicas=2, rank=2)


def test_distributed_sampler_equals_pytorchs(monkeypatch):
    torch = pytest.importorskip("torch")
    from torch.utils.data import DistributedSampler as TorchSampler
    from corelib.utils.data import DistributedSampler
    for n, replicas, drop in [(10, 3, False), (11, 4, True), (2, 5, False), (7, 7, True)]:
        assert _index_lists(DistributedSampler, n, replicas, shuffle=False, drop_last=drop) == \
            _index_lists(TorchSampler, n, replicas, shuffle=False, drop_last=drop)
    # shuffled: torch's sampler steps on corelib's permutation for the same seed + epoch give
    # exactly ours (the permutations themselves come from different generators)
    def corelib_randperm(n, generator):
        g = corelib.Generator().manual_seed(generator.initial_seed())
        return torch.tensor(corelib.randperm(n, generator=g).tolist())
    monkeypatch.setattr(torch, "randperm", corelib_randperm)
    for n, replicas, drop in [(10, 3, False), (11, 4, True), (3, 5, False)]:
        ours = [DistributedSampler(range(n), replicas, r, seed=4, drop_last=drop)
                for r in range(replicas)]
        theirs = [TorchSampler(range(n), replicas, r, seed=4, drop_last=drop)
                  for r in range(replicas)]
        for s in ours + theirs:
            s.set_epoch(2)
        assert [list(s) for s in ours] == [list(s) for s in theirs]


@needs_mpi
def test_demo_trains_under_the_launcher(tmp_path):
    pytest.importorskip("sklearn")
    demo = HERE.parents[1] / "examples" / "train_digits.py"
    code, out, _ = launch([sys.executable, "-m", "corelib.distributed.run", "--nproc-per-node",
                           "2", str(demo), "--distributed", "--epochs", "2", "--models", "mlp",
                           "--out", str(tmp_path)])
    assert code == 0, out
    assert out.count("mlp: test accuracy") == 1, out          # rank 0 reports, once
    accuracy = float(out.split("mlp: test accuracy ")[1].split("%")[0])
    assert accuracy > 90, out
    assert (tmp_path / "mlp.safetensors").exists() and (tmp_path / "training.png").exists()


COMMUNICATOR_METHODS = ["split", "destroy", "abort", "allreduce", "reduce", "broadcast",
                        "allgather", "allgatherv", "reduce_scatter", "gather", "scatter", "send",
                        "recv", "barrier"]   # corelib.hookspecs.CommBackendSpec


@pytest.mark.parametrize("module", ["corelib_mpi", "corelib_nccl"])
def test_communication_plugins_implement_the_contract(module):
    """Import (and so compile) each plugin without initialising MPI or CUDA; its communicator
    has every method the hookspec names and its spec is well formed. corelib-nccl runs only on
    GPUs; here it must say why it is unavailable."""
    plugin = pytest.importorskip(module)
    missing = [m for m in COMMUNICATOR_METHODS if not callable(getattr(plugin.Communicator, m,
                                                                        None))]
    assert not missing
    spec = plugin.corelib_comm_backend()
    assert spec.name in ("mpi", "nccl") and spec.array_kind in ("numpy", "native")
    assert spec.is_available() == (spec.unavailable_reason() == "")
