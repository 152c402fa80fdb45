"""examples/train_digits.py end to end: a short run, then its checkpoints checked in-process."""
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import corelib

for _module in ("sklearn", "matplotlib", "tqdm", "safetensors"):
    pytest.importorskip(_module)

SCRIPT = Path(__file__).resolve().parents[1] / "examples" / "train_digits.py"
EPOCHS = 2


def load_demo():
    spec = importlib.util.spec_from_file_location("train_digits", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "out"
    # one BLAS thread: tiny matmuls gain nothing from more, and a busy machine loses a lot
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, str(SCRIPT), "--epochs", str(EPOCHS), "--seed", "1",
                           "--out", str(out)], capture_output=True, text=True, timeout=300,
                          env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    printed = dict(re.findall(r"^(\w+): test accuracy ([\d.]+)%", proc.stdout, re.M))
    return out, printed


def test_demo_writes_checkpoints_and_plot(demo_run):
    out, printed = demo_run
    assert set(printed) == {"mlp", "cnn"}
    for name in printed:
        assert (out / f"{name}.safetensors").stat().st_size > 0
    png = (out / "training.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
    assert sorted(p.name for p in out.iterdir()) == ["cnn.safetensors", "mlp.safetensors",
                                                     "training.png"]   # no temp files left


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_checkpoint_reproduces_printed_accuracy(demo_run, name):
    out, printed = demo_run
    demo = load_demo()
    checkpoint = corelib.load(out / f"{name}.safetensors")
    assert checkpoint["epochs"] == EPOCHS and checkpoint["seed"] == 1
    model = demo.MODELS[name]()
    model.load_state_dict(checkpoint["model"])
    _, (x_test, y_test) = demo.load_data()
    accuracy = demo.accuracy(model, x_test, y_test)
    assert accuracy == pytest.approx(checkpoint["test_accuracy"])
    assert f"{100 * accuracy:.2f}" == printed[name]
    # the optimizer state resumes into a fresh optimizer of the same kind
    optimizer = corelib.optim.Adam(model.parameters(), lr=1.0)
    optimizer.load_state_dict(checkpoint["optimizer"])
    assert optimizer.state_dict()["param_groups"][0]["lr"] == \
        checkpoint["optimizer"]["param_groups"][0]["lr"]
    steps = [s["step"] for s in optimizer.state_dict()["state"].values()]
    assert steps and all(float(s) == steps[0] and float(s) > 0 for s in steps)


def test_unavailable_device_is_a_clear_error(tmp_path):
    demo = load_demo()
    with pytest.raises(SystemExit, match="--device tpu is not available: no backend provides"):
        demo.main(["--device", "tpu", "--out", str(tmp_path / "out")])
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(not corelib.cuda.is_available(), reason="no cuda device (or simulator)")
def test_demo_trains_both_models_to_97_percent_on_cuda(tmp_path):
    """The full demo on ``--device cuda`` (the simulator without a GPU); the checkpoints are then
    evaluated on cpu, independently of the demo's own accuracy code."""
    out = tmp_path / "out"
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, str(SCRIPT), "--device", "cuda", "--out", str(out)],
                          capture_output=True, text=True, timeout=900, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    demo = load_demo()
    _, (x_test, y_test) = demo.load_data("cpu")
    for name in ("mlp", "cnn"):
        model = demo.MODELS[name]()
        model.load_state_dict(corelib.load(out / f"{name}.safetensors")["model"])
        model.eval()
        with corelib.no_grad():
            logits = model(x_test).numpy()
        accuracy = (logits.argmax(axis=1) == y_test.numpy()).mean()
        assert accuracy >= 0.97, f"{name}: {accuracy:.4f}"
