"""Packaging end to end, with real pip in a fresh virtual environment:

* corelib imports with no backend installed and the first op says to install one;
* ``pip uninstall corelib-cpu`` returns to that state;
* a third-party backend written outside the repository (its own pyproject and entry point) is
  discovered after ``pip install``, with no change to corelib.
"""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

THIRD_PARTY_PYPROJECT = """
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "corelib-toy"
version = "0.0.1"
dependencies = ["corelib", "numpy"]

[project.entry-points.corelib]
toy = "corelib_toy"
"""

THIRD_PARTY_MODULE = '''
"""A third-party corelib backend: device 'toy', a handful of NumPy kernels."""
import numpy as np
from corelib.hookspecs import BackendSpec, hookimpl

KERNELS = {
    "full": lambda shape, value, dtype, device_index: np.full(shape, value, dtype=dtype),
    "add": lambda a, b, out=...: np.add(a, b, out=out),
    "mul": lambda a, b, out=...: np.multiply(a, b, out=out),
}


@hookimpl
def corelib_backend():
    return BackendSpec(device_type="toy", kernels=KERNELS, to_numpy=np.asarray,
                       from_numpy=lambda arr, index=0: np.array(arr),
                       make_generator=lambda seed: np.random.default_rng(seed))
'''


def run(args, **kwargs):
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=600, **kwargs)


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    """A fresh venv with corelib (editable) and its dependencies, but no backend."""
    path = tmp_path_factory.mktemp("venv")
    proc = run([sys.executable, "-m", "venv", str(path)])
    assert proc.returncode == 0, proc.stderr
    py = str(path / "bin" / "python")
    proc = run([py, "-m", "pip", "install", "-q", "-U", "setuptools>=70.1", "numpy", "pluggy",
                "opt_einsum"])
    if proc.returncode != 0:
        pytest.skip(f"cannot install dependencies into a fresh venv: {proc.stderr[-500:]}")
    proc = run([py, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "-e",
                str(ROOT)])
    assert proc.returncode == 0, proc.stderr
    return py


def probe(py, code):
    return run([py, "-c", textwrap.dedent(code)])


NO_BACKEND_PROBE = """
import corelib
x = corelib.Tensor          # the frontend imports fine
try:
    corelib.ones(2)
except RuntimeError as exc:
    print("ERROR:", exc)
else:
    print("no error")
"""


def test_frontend_without_backend_says_what_to_install(venv):
    proc = probe(venv, NO_BACKEND_PROBE)
    assert proc.returncode == 0, proc.stderr
    assert "ERROR: no backend provides device 'cpu'" in proc.stdout
    assert "pip install corelib-cpu" in proc.stdout


def test_uninstalling_the_cpu_backend(venv):
    proc = run([venv, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "-e",
                str(ROOT / "backends" / "cpu")])
    assert proc.returncode == 0, proc.stderr
    proc = probe(venv, "import corelib; print((corelib.ones(2) * 3).tolist())")
    assert proc.stdout.strip() == "[3.0, 3.0]", proc.stderr
    proc = run([venv, "-m", "pip", "uninstall", "-y", "-q", "corelib-cpu"])
    assert proc.returncode == 0, proc.stderr
    proc = probe(venv, NO_BACKEND_PROBE)
    assert proc.returncode == 0, proc.stderr
    assert "pip install corelib-cpu" in proc.stdout


def test_third_party_backend_is_discovered_after_pip_install(venv, tmp_path):
    pkg = tmp_path / "corelib-toy"
    (pkg / "corelib_toy").mkdir(parents=True)
    (pkg / "pyproject.toml").write_text(THIRD_PARTY_PYPROJECT)
    (pkg / "corelib_toy" / "__init__.py").write_text(THIRD_PARTY_MODULE)
    proc = run([venv, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                str(pkg)])
    assert proc.returncode == 0, proc.stderr
    proc = probe(venv, """
        import corelib
        t = corelib.full((3,), 2.0, device="toy")
        print((t * t + t).tolist(), t.device)
        try:
            t.exp()
        except NotImplementedError as exc:
            print("MISSING:", exc)
    """)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "[6.0, 6.0, 6.0] toy:0"
    assert "op 'exp' has no kernel for device 'toy'" in lines[1] and "corelib-toy" in lines[1]


def test_cuda_backend_installs_without_changing_cpu_and_uninstalls_cleanly(venv):
    """corelib-cuda without CuPy or a GPU: cuda unavailable with the reason, cpu unchanged;
    after ``pip uninstall corelib-cuda`` everything else still works."""
    for backend in ("cpu", "cuda"):
        proc = run([venv, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                    "-e", str(ROOT / "backends" / backend)])
        assert proc.returncode == 0, proc.stderr
    check = """
        import corelib
        print((corelib.ones(2) * 3).tolist(), corelib.cuda.is_available())
        try:
            corelib.ones(2).to("cuda")
        except RuntimeError as exc:
            print("ERROR:", exc)
    """
    env_free = {k: v for k, v in os.environ.items() if k != "CORELIB_CUDA_SIMULATE"}
    proc = subprocess.run([venv, "-c", textwrap.dedent(check)], capture_output=True, text=True,
                          env=env_free, timeout=600)
    assert proc.returncode == 0, proc.stderr
    first, error = proc.stdout.splitlines()
    assert first == "[3.0, 3.0] False"
    assert "cuda is not available: CuPy is not importable" in error
    proc = run([venv, "-m", "pip", "uninstall", "-y", "-q", "corelib-cuda"])
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run([venv, "-c", textwrap.dedent(check)], capture_output=True, text=True,
                          env=env_free, timeout=600)
    first, error = proc.stdout.splitlines()
    assert first == "[3.0, 3.0] False"
    assert "no backend provides device 'cuda'" in error and "pip install corelib-cuda" in error
