"""``pip uninstall`` of any one plugin leaves everything else working.

corelib-cpu and the four plugins of plugins/ are pip-installed (``--target``, copies, not the
shared environment) into a temporary directory beside a copy of corelib; Python runs on it in
isolation (``-S``: no site-packages, only the third-party dependencies linked in), so entry
points are exactly those installed there. Each plugin is then removed as ``pip uninstall`` removes it (every file
its RECORD lists) and the others are used.
"""
import csv
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLUGINS = {"corelib-profiler": "profiler", "corelib-crosscheck": "crosscheck",
           "corelib-fallback": "fallback", "corelib-meta": "meta"}
DEPENDENCIES = ("numpy", "numpy.libs", "pluggy", "opt_einsum", "safetensors")

PROBE = """
import warnings
import numpy as np
import corelib
from corelib.dispatch import registry
from corelib.hookspecs import BackendSpec, hookimpl

with warnings.catch_warnings():
    warnings.simplefilter("error", RuntimeWarning)   # a plugin failing to load warns
    registry.load()
warnings.simplefilter("ignore")
print("plugins:", sorted(n for n, _ in registry.pm.list_name_plugin() if n != "cpu"))
x = corelib.randn(8, 4, requires_grad=True)
(x.relu() * 2).sum().backward()
print("cpu:", x.grad.shape == x.shape)

import corelib_cpu
class Partial:                            # a device with a few kernels, exp off by 1e-3
    @hookimpl
    def corelib_backend(self):
        kernels = {k: corelib_cpu.KERNELS[k] for k in ("full", "copy_", "mul", "add", "exp")}
        kernels["exp"] = lambda a, out=...: np.exp(a, out=out) + 1e-3
        return BackendSpec("partial", kernels, to_numpy=lambda a: np.array(a),
                           from_numpy=lambda a, i=0: np.array(a),
                           make_generator=np.random.default_rng)
registry.register(Partial(), name="partial")
y = corelib.full((3,), 2.0, device="partial")

try:
    import corelib_profiler
except ImportError:
    print("profiler: absent")
else:
    with corelib_profiler.profile() as prof:
        (y * y).exp()
    print("profiler:", sorted(s.op for s in prof.stats()))

try:
    import corelib_crosscheck
except ImportError:
    print("crosscheck: absent")
else:
    try:
        with corelib_crosscheck.crosscheck():
            y.exp()
    except AssertionError as exc:
        print("crosscheck:", str(exc).splitlines()[0])

try:
    import corelib_fallback
except ImportError:
    print("fallback: absent")
else:
    corelib_fallback.enable()
    print("fallback:", (y - 1).tolist())

if "meta" in registry.backends:
    print("meta:", corelib.nn.Linear(1000, 1000, device="meta").weight.shape)
else:
    print("meta: absent")
"""


def _pip_target(target, *projects):
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                           "--no-build-isolation", "--no-warn-script-location", "--target",
                           str(target), *map(str, projects)], capture_output=True, text=True,
                          timeout=600, env=dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1"))
    assert proc.returncode == 0, proc.stderr


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A directory holding corelib, corelib-cpu and the three plugins, plus links to the
    third-party packages they import."""
    tmp = tmp_path_factory.mktemp("removal")
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
    src, site, projects = tmp / "src", tmp / "site", []
    for path in ["backends/cpu"] + [f"plugins/{p}" for p in PLUGINS.values()]:
        shutil.copytree(os.path.join(ROOT, path), src / path, ignore=ignore)
        projects.append(src / path)
    _pip_target(site, *projects)
    # the frontend needs no metadata of its own: a copy of the package is its install
    shutil.copytree(os.path.join(ROOT, "corelib"), site / "corelib", ignore=ignore)
    deps = tmp / "deps"
    deps.mkdir()
    for name in DEPENDENCIES:
        found = next((os.path.join(p, name) for p in sys.path
                      if p and os.path.isdir(os.path.join(p, name))), None)
        if found:
            os.symlink(found, deps / name)
    return site, deps


def _uninstall(site, distribution):
    """What ``pip uninstall`` does: delete every file the distribution's RECORD lists."""
    info = next(site.glob(f"{distribution.replace('-', '_')}-*.dist-info"))
    with open(info / "RECORD", newline="") as fh:
        for row in csv.reader(fh):
            path = site / row[0]
            if path.is_file():
                path.unlink()
    for directory in sorted((p for p in site.rglob("*") if p.is_dir()), reverse=True):
        if not any(directory.iterdir()):
            directory.rmdir()


def _probe(site, deps):
    proc = subprocess.run([sys.executable, "-S", "-c", textwrap.dedent(PROBE)],
                          capture_output=True, text=True, timeout=300, cwd=site.parent,
                          env=dict(os.environ, PYTHONPATH=f"{site}{os.pathsep}{deps}"))
    assert proc.returncode == 0, proc.stderr
    return dict(line.split(": ", 1) for line in proc.stdout.splitlines())


EXPECTED = {
    "profiler": "['exp', 'mul']",
    "crosscheck": "crosscheck: op 'exp' on device 'partial' disagrees with cpu",
    "fallback": "[1.0, 1.0, 1.0]",
    "meta": "corelib.Size([1000, 1000])",
}


def test_all_three_installed(site):
    seen = _probe(*site)
    assert seen["plugins"] == \
        "['corelib_crosscheck', 'corelib_fallback', 'corelib_meta', 'corelib_profiler']"
    assert seen["cpu"] == "True"
    assert {k: seen[k] for k in EXPECTED} == EXPECTED


@pytest.mark.parametrize("removed", list(PLUGINS))
def test_uninstalling_one_plugin_leaves_the_others_working(site, removed, tmp_path):
    copy = tmp_path / "site"
    shutil.copytree(site[0], copy, symlinks=True)
    _uninstall(copy, removed)
    seen = _probe(copy, site[1])
    gone = PLUGINS[removed]
    assert f"corelib_{gone}" not in seen["plugins"]
    assert seen["cpu"] == "True" and seen[gone] == "absent"
    assert {k: seen[k] for k in EXPECTED if k != gone} == \
        {k: v for k, v in EXPECTED.items() if k != gone}
