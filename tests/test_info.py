"""``python -m corelib info`` reports per-backend op coverage."""
import subprocess
import sys

import corelib
from corelib.__main__ import coverage
from corelib._ops.core import Op


def test_info_lists_backends_and_coverage():
    proc = subprocess.run([sys.executable, "-m", "corelib", "info", "-v"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "[cpu] from corelib-cpu" in proc.stdout
    implemented, fallback, missing = coverage("cpu")
    assert f"{len(implemented)} implemented" in proc.stdout
    assert set(implemented) | set(fallback) | set(missing) == \
        {n for n, op in Op.all.items() if op.has_kernel}


def test_cpu_backend_implements_every_op():
    implemented, fallback, missing = coverage("cpu")
    assert missing == [] and fallback == []
    assert "add" in implemented and corelib.registry.backends["cpu"].kernels["add"]
