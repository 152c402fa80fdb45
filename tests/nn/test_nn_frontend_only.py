"""nn, optim and utils.data must use only the corelib frontend: no numpy/cupy/backend imports."""
from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2] / "corelib"
FORBIDDEN = ("numpy", "cupy", "corelib_cpu", "corelib_cuda")
PACKAGES = ("nn", "optim", "utils/data")


def _files():
    for pkg in PACKAGES:
        yield from sorted((ROOT / pkg).rglob("*.py"))


def _imported_modules(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "__import__" \
                and node.args and isinstance(node.args[0], ast.Constant):
            yield str(node.args[0].value)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", None) == \
                "import_module" and node.args and isinstance(node.args[0], ast.Constant):
            yield str(node.args[0].value)


def test_there_are_files_to_check():
    assert len(list(_files())) >= 10


@pytest.mark.parametrize("path", list(_files()), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_backend_imports(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    bad = [m for m in _imported_modules(tree) if m.split(".")[0] in FORBIDDEN]
    assert not bad, f"{path.relative_to(ROOT)} imports {bad}"
