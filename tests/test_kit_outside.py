"""The conformance kit as a backend author runs it, outside this repository.

Three tiny backend distributions are written into a temporary directory, pip-installed into
``<tmp>/site`` (not into this environment: an installed device would join every test run) and
checked with ``python -m pytest --pyargs corelib.testing --corelib-device=NAME`` in a
subprocess whose working directory is the temporary one (no repo conftest, no repo pytest
configuration) and with pytest-benchmark switched off (``-p no:benchmark``):

* ``kitborrow``: every CPU kernel, on arrays NumPy cannot see (tests/borrowed_device.py's
  module, under another device name): no failures;
* ``kitmlp``: only the kernels an MLP training step needs: what it implements passes, the rest
  is skipped and the summary names the missing kernels;
* ``kitwrong``: every CPU kernel on NumPy arrays, but ``tanh`` returns a wrong shape: the kit
  fails, naming tanh.

And without the option the plugin is inert.

The MLP run hides PyTorch (its comparisons skip). The runs use ``--corelib-quick``, except
``kitborrow``'s under CI (``CI=true``) or with CORELIB_TEST_KIT_FULL=1: the full kit (all dtypes,
second-order gradchecks; ~4 CPU minutes).
"""
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent

PYPROJECT = """
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "corelib-{name}"
version = "0.0.1"
dependencies = ["corelib", "corelib-cpu", "numpy"]

[project.entry-points.corelib]
{name} = "corelib_{name}"
"""

# the borrowed device of this repo's tests, as an installed module under another device name
BORROW = (HERE / "borrowed_device.py").read_text().replace(
    'DEVICE_TYPE = "npx"', 'DEVICE_TYPE = "kitborrow"') + \
    "\n\ncorelib_backend = make_plugin().corelib_backend\n"

NUMPY_BACKEND = '''
"""Device {name!r}: CPU kernels on plain NumPy arrays ({what})."""
import numpy as np
import corelib_cpu
from corelib.hookspecs import BackendSpec, hookimpl

{kernels}


@hookimpl
def corelib_backend():
    cpu = corelib_cpu.corelib_backend()
    return BackendSpec(device_type={name!r}, kernels=KERNELS, to_numpy=np.asarray,
                       from_numpy=lambda arr, index=0: np.array(arr, copy=True),
                       make_generator=cpu.make_generator, dtypes=cpu.dtypes)
'''

MLP_KERNELS = ["add", "sub", "mul", "sum", "mean", "reshape", "expand", "clone", "copy_", "empty",
               "full", "uniform", "linear", "linear_backward_input", "linear_backward_weight",
               "relu", "threshold_backward", "log_softmax", "log_softmax_backward_data",
               "nll_loss", "nll_loss_backward"]

MLP = f"""
KERNELS = {{name: corelib_cpu.KERNELS[name] for name in {MLP_KERNELS!r}}}
"""

WRONG = """
KERNELS = dict(corelib_cpu.KERNELS)


def _tanh_wrong_shape(*args, **kwargs):
    return np.expand_dims(np.asarray(corelib_cpu.KERNELS["tanh"](*args, **kwargs)), 0)


KERNELS["tanh"] = _tanh_wrong_shape
"""

BACKENDS = {
    "kitborrow": BORROW,
    "kitmlp": NUMPY_BACKEND.format(name="kitmlp", what="only what an MLP needs", kernels=MLP),
    "kitwrong": NUMPY_BACKEND.format(name="kitwrong", what="tanh returns a wrong shape",
                                     kernels=WRONG),
}


@pytest.fixture(scope="module")
def outside(tmp_path_factory):
    """A directory outside the repo with the three backends installed into ./site."""
    root = tmp_path_factory.mktemp("kit")
    for name, module in BACKENDS.items():
        pkg = root / "src" / name
        (pkg / f"corelib_{name}").mkdir(parents=True)
        (pkg / "pyproject.toml").write_text(PYPROJECT.format(name=name))
        (pkg / f"corelib_{name}" / "__init__.py").write_text(textwrap.dedent(module))
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "--target", str(root / "site"),
         *(str(root / "src" / name) for name in BACKENDS)],
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    (root / "notorch" / "torch").mkdir(parents=True)
    (root / "notorch" / "torch" / "__init__.py").write_text(
        'raise ModuleNotFoundError("No module named \'torch\' (hidden)", name="torch")\n')
    return root


def kit(root, device, *args, torch=True, **env_vars):
    """``python -m pytest --pyargs corelib.testing --corelib-device=DEVICE`` from ``root``
    (``torch=False``: as if PyTorch were not installed; ``device=None``: plain pytest)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "CORELIB_"))}
    env.update(env_vars)
    env["PYTHONPATH"] = str(root / "site") if torch else f"{root / 'notorch'}:{root / 'site'}"
    env["CORELIB_BLOCK_PLUGINS"] = "corelib-cuda"   # the kit needs cpu and the device only
    kit_args = [] if device is None else ["--pyargs", "corelib.testing",
                                          f"--corelib-device={device}"]
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", *kit_args, "-p", "no:cacheprovider", "-p",
         "no:benchmark", "-rfEs", *args],
        cwd=root, env=env, capture_output=True, text=True, timeout=1800)
    return proc.returncode, proc.stderr + proc.stdout


def counts(output):
    """{"passed": n, "failed": n, ...} from pytest's last line."""
    last = re.findall(r"^=+ (.* in [\d.]+s.*) =+$", output, re.M)[-1]
    return {word: int(n) for n, word in re.findall(r"(\d+) (\w+)", last)}


def summary(output):
    return output[output.index("corelib conformance kit:"):]


FULL_KIT = os.environ.get("CORELIB_TEST_KIT_FULL") == "1" or os.environ.get("CI") == "true"


def test_borrowed_backend_passes(outside):
    code, out = kit(outside, "kitborrow", *(() if FULL_KIT else ("--corelib-quick",)))
    assert code == 0, out[-3000:]
    n = counts(out)
    assert n.get("failed", 0) == 0 and n.get("error", 0) == 0 and n["passed"] > 1000, out[-2000:]
    assert "rootdir: " + str(outside) in out          # not the repo's configuration
    text = summary(out)
    assert re.search(r"kernels: (\d+) implemented / \1\b", text), text
    assert re.search(r"op-table entries: \d+ passed, 0 failed", text), text
    assert "missing kernel" not in out


def test_mlp_backend_passes_what_it_implements(outside):
    """Also without PyTorch: the comparisons with it skip."""
    code, out = kit(outside, "kitmlp", "--corelib-quick", "-v", torch=False)
    n = counts(out)
    assert code == 0 and n.get("failed", 0) == 0, out[-3000:]
    assert n["passed"] >= 10 and n["skipped"] > 1000, n
    for check in ("test_kit_nn.py::test_mlp_training_step[kitmlp]",
                  "test_kit_nn.py::test_layer_forward[kitmlp-Linear]",
                  "test_kit_nn.py::test_layer_forward[kitmlp-CrossEntropyLoss]",
                  "test_kit_ops.py::test_forward_numpy[kitmlp-relu-float32]",
                  "test_kit_autograd.py::test_backward_accumulates_on_device[kitmlp]"):
        assert f"{check} PASSED" in out, check
    assert "test_kit_ops.py::test_forward_numpy[kitmlp-tanh-float32] SKIPPED" in out
    assert "test_kit_ops.py::test_forward_torch[kitmlp-relu-float32] SKIPPED" in out
    assert "could not import 'torch'" in out
    text = summary(out)
    assert f"kernels: {len(MLP_KERNELS)} implemented / " in text, text
    assert re.search(r"op-table entries: [1-9]\d* passed, 0 failed, [1-9]\d* skipped", text)
    missing = text[text.index("missing kernels that caused skips"):]
    assert "  tanh: " in missing and "  convolution: " in missing and "  relu: " not in missing
    assert "missing kernel 'convolution' on kitmlp" in out


@pytest.mark.parametrize("checked", ["1", "0"], ids=["contract-checked", "unchecked"])
def test_wrong_shape_kernel_fails_naming_the_op(outside, checked):
    """The kit checks kernel results against the contract (CORELIB_CHECK_KERNELS=1, its
    default): the error names kernel, device and plugin; without that, its own comparisons
    fail on the op."""
    code, out = kit(outside, "kitwrong", "--corelib-quick", "-k", "tanh or exp or Linear",
                    CORELIB_CHECK_KERNELS=checked)
    assert code == 1, out[-3000:]
    failed = re.findall(r"^FAILED (\S+)", out, re.M)
    assert failed and all("tanh" in f.lower() for f in failed), failed
    assert "test_kit_ops.py::test_forward_numpy[kitwrong-tanh-float32]" in failed, failed
    if checked == "1":
        assert "kernel 'tanh' of device 'kitwrong' (plugin 'corelib-kitwrong') broke the " \
               "kernel contract: the result has shape (1,), expected ()" in out, out[-3000:]
    else:
        assert "tanh (T():float32) vs NumPy: shape mismatch: (1,) vs expected ()" in out, \
            out[-3000:]
    assert counts(out)["passed"] > 5
    assert re.search(r"op-table entries: \d+ passed, [1-9] failed", summary(out))


def test_plugin_inert_without_option(outside):
    """Without --corelib-device: corelib is not even imported in another project's run, and
    the kit's modules, collected, skip."""
    (outside / "test_other.py").write_text(
        "import sys\n\ndef test_other():\n    assert 'corelib' not in sys.modules\n")
    code, out = kit(outside, None, "test_other.py")
    assert code == 0 and counts(out) == {"passed": 1}, out[-2000:]
    code, out = kit(outside, None, "--pyargs", "corelib.testing", "-k", "exp or Linear")
    assert code == 0, out[-2000:]
    n = counts(out)
    assert n["skipped"] > 10 and "passed" not in n and "failed" not in n, n
    assert "corelib conformance kit: pass --corelib-device=NAME" in out
    assert "implemented / " not in out                      # and no coverage summary
