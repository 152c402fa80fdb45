"""docs/writing-a-backend.md works as written: its files (the code blocks whose first line is
``# file: PATH``) are written into a temporary directory, the backend is pip-installed there
(``--target``, not into this environment), and the guide's training script and the conformance
kit run on it in fresh processes that see the install only through PYTHONPATH."""
import os
import re
import subprocess
import sys
from importlib import metadata

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GUIDE = os.path.join(ROOT, "docs", "writing-a-backend.md")
FILE_LINE = re.compile(r"#\s*file:\s*(\S+)\s*$")


def guide_files(text):
    """{path: content} of the guide's code blocks that begin with a ``# file:`` line."""
    files = {}
    for block in re.findall(r"^```[\w-]*\n(.*?)^```", text, flags=re.S | re.M):
        first = block.split("\n", 1)[0]
        match = FILE_LINE.match(first)
        if match:
            assert match.group(1) not in files, f"{match.group(1)} appears twice in the guide"
            files[match.group(1)] = block
    return files


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The guide's project in a temporary directory, its backend pip-installed into ./site."""
    root = tmp_path_factory.mktemp("guide")
    with open(GUIDE, encoding="utf-8") as fh:
        files = guide_files(fh.read())
    assert {"mydev/pyproject.toml", "mydev/corelib_mydev/__init__.py",
            "mydev/corelib_mydev/kernels.py", "train_mlp.py"} <= files.keys()
    for path, content in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                          "--no-build-isolation", "--no-warn-script-location", "--target",
                          str(root / "site"), str(root / "mydev")], capture_output=True,
                         text=True, timeout=300,
                         env=dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1"))
    assert pip.returncode == 0, pip.stderr
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CORELIB_FALLBACK", "CORELIB_CROSSCHECK", "CORELIB_BLOCK"))}
    env["PYTHONPATH"] = str(root / "site")
    return root, env


def run(built, *args, timeout=300):
    root, env = built
    return subprocess.run([sys.executable, *args], cwd=root, env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_the_guides_backend_is_discovered(built):
    out = run(built, "-m", "corelib", "info")
    assert out.returncode == 0, out.stderr
    assert re.search(r"\[mydev\] from corelib-mydev: 1 device\(s\); 24 implemented", out.stdout)
    assert "failed to load" not in out.stdout


def test_the_guides_training_script(built):
    """Fifty SGD steps of an MLP on mydev, every kernel cross-checked against cpu, and the
    accuracy through the fallback, as the guide shows."""
    for module in ("corelib_crosscheck", "corelib_fallback"):
        try:
            metadata.distribution(module.replace("_", "-"))
        except metadata.PackageNotFoundError:
            pytest.skip(f"{module.replace('_', '-')} is not installed")
    out = run(built, "-W", "always::UserWarning", "train_mlp.py")
    assert out.returncode == 0, out.stderr
    assert re.fullmatch(r"loss 0\.0\d\d on mydev:0, train accuracy 1\.00\n", out.stdout)
    script = (built[0] / "train_mlp.py").read_text().splitlines()
    accuracy_line = next(i for i, line in enumerate(script, 1) if line.startswith("accuracy"))
    fallbacks = re.findall(r"train_mlp\.py:(\d+): UserWarning: corelib-fallback: op '(\w+)' "
                           r"has no kernel for device 'mydev'", out.stderr)
    # the training loop runs on mydev's own kernels only; the accuracy line needs the fallback
    assert fallbacks == [(str(accuracy_line), op) for op in ("argmax", "eq", "mean")]


def _kit_available():
    """Whether corelib's installed metadata carries the kit's pytest11 entry point."""
    return any(ep.dist is not None and ep.dist.name == "corelib"
               for ep in metadata.entry_points(group="pytest11"))


def test_the_conformance_kit_on_the_guides_backend(built):
    """The kit's command from the guide, narrowed to a few ops and the MLP training check (one
    dtype each): what mydev implements passes, what it lacks is skipped."""
    if not _kit_available():
        pytest.skip("the conformance kit's pytest plugin (corelib's pytest11 entry point) is "
                    "not installed: reinstall corelib (scripts/setup.sh)")
    out = run(built, "-m", "pytest", "--pyargs", "corelib.testing", "--corelib-device=mydev",
              "--corelib-quick", "-p", "no:cacheprovider", "-q", "-rA",
              "-k", "mlp_training_step or linear or log_softmax or relu")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "PASSED test_kit_nn.py::test_mlp_training_step[mydev]" in out.stdout
    assert "PASSED test_kit_ops.py::test_forward_numpy[mydev-log_softmax-float32]" in out.stdout
    assert re.search(r"missing kernel '\w+' on mydev", out.stdout)   # reported as skips
    assert re.search(r"\n\d+ passed, \d+ skipped", out.stdout)
