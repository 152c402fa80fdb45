"""A save killed mid-write (SIGKILL, many times) leaves the old or the new checkpoint, and the
temporaries of killed saves do not accumulate: the next save to the path removes them."""
import os
import random
import signal
import time

import numpy as np
import pytest

import corelib

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

KILLS = 20


def _checkpoint(value):
    # 4 MiB: each save spends most of its time writing, where the kills land
    return {"step": value, "w": corelib.full((1024, 1024), float(value))}


def _temporaries(directory):
    return sorted(n for n in os.listdir(directory) if n.endswith(".tmp"))


def _saving_child(path, a, b):
    """Fork a process that saves a and b to path, alternately, until it is killed."""
    pid = os.fork()
    if pid == 0:   # the child: never returns into pytest
        try:
            while True:
                corelib.save(a, path)
                corelib.save(b, path)
        finally:
            os._exit(1)
    return pid


def test_killed_saves_leave_old_or_new_and_no_temporaries(tmp_path):
    path = tmp_path / "ckpt.st"
    a, b = _checkpoint(1), _checkpoint(2)
    corelib.save(a, path)
    rng = random.Random(0)
    left_behind = 0
    for _ in range(KILLS):
        pid = _saving_child(path, a, b)
        time.sleep(rng.uniform(0.02, 0.2))
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        back = corelib.load(path)
        assert back["step"] in (1, 2)
        assert np.array_equal(back["w"].numpy(), np.full((1024, 1024), back["step"], np.float32))
        temps = _temporaries(tmp_path)
        assert len(temps) <= 1, temps   # each save removed those of the saves killed before
        left_behind += len(temps)
    assert left_behind > 0, "no kill landed mid-write: the test did not exercise anything"
    corelib.save(b, path)
    assert _temporaries(tmp_path) == [] and os.listdir(tmp_path) == ["ckpt.st"]
    assert corelib.load(path)["step"] == 2


def test_a_live_save_keeps_its_temporary(tmp_path):
    """A temporary still being written (its writer alive and holding its lock) is not removed."""
    fcntl = pytest.importorskip("fcntl")
    path = tmp_path / "ckpt.st"
    live = tmp_path / ".ckpt.st.999999.0.tmp"
    stale = tmp_path / ".ckpt.st.999998.0.tmp"
    other = tmp_path / ".ckpt.st.1.999997.0.tmp"   # a temporary of "ckpt.st.1", not ours
    for p in (live, stale, other):
        p.write_bytes(b"partial")
    with open(live, "rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        pid = os.fork()
        if pid == 0:   # another process saves while this one holds the lock
            try:
                corelib.save({"x": 1}, path)
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
        assert live.exists() and not stale.exists() and other.exists()
    assert corelib.load(path) == {"x": 1}
