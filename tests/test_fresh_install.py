"""A fresh install of ``corelib`` + ``corelib-cpu`` (no extras, dependencies from the package
index) runs the README's first examples end to end.

The two distributions are built from a copy of their sources into a new virtual environment
(pip resolves numpy, pluggy, opt_einsum and safetensors as a user's install would); the
README's "Using it" code blocks up to the ONNX section run there in a temporary directory.
"""
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def readme_examples():
    """The python code blocks of README's "Using it" section, before "Exporting to ONNX"."""
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    section = text[text.index("## Using it"):text.index("### Exporting to ONNX")]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_readme_examples_run_on_a_fresh_install(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(os.path.join(ROOT, "corelib"), src / "corelib",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "_corelib_pytestplugin.py"):
        shutil.copy(os.path.join(ROOT, name), src / name)
    shutil.copytree(os.path.join(ROOT, "backends", "cpu"), src / "cpu",
                    ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = str(venv / "bin" / "python")
    pip = subprocess.run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                          str(src), str(src / "cpu")], capture_output=True, text=True,
                         timeout=900)
    assert pip.returncode == 0, pip.stdout[-2000:] + pip.stderr[-2000:]
    examples = readme_examples()
    assert len(examples) >= 2 and "corelib.save" in examples[0]
    script = tmp_path / "work" / "readme_example.py"
    script.parent.mkdir()
    script.write_text("\n".join(examples) + "\nprint('README examples ran')\n")
    run = subprocess.run([python, "-I", str(script)], cwd=script.parent, capture_output=True,
                         text=True, timeout=300, env={"PATH": os.environ.get("PATH", "")})
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    assert "README examples ran" in run.stdout
    assert (script.parent / "model.safetensors").exists()
    listed = subprocess.run([python, "-m", "pip", "list", "--format=freeze"],
                            capture_output=True, text=True, timeout=120).stdout
    assert "corelib-cpu==" in listed and "torch" not in listed and "onnx" not in listed
