#!/usr/bin/env bash
# Create .venv and install corelib, its CPU backend and the test/demo extras (editable).
# PyTorch (a reference for tests and benchmarks) is installed when available; set
# CORELIB_SKIP_TORCH=1 to skip it (the PyTorch comparisons then skip).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
PIP=".venv/bin/python -m pip"
$PIP install -q --disable-pip-version-check -e ".[test,demo]" -e backends/cpu 2>&1 \
  | grep -v "^WARNING: Location" || true
.venv/bin/python -c "import corelib, corelib_cpu" || { echo "setup failed"; exit 1; }
if [ "${CORELIB_SKIP_TORCH:-0}" != "1" ] && ! .venv/bin/python -c "import torch" 2>/dev/null; then
  $PIP install -q --disable-pip-version-check --only-binary=:all: "torch==2.13.0" 2>&1 \
    | grep -v "^WARNING: Location" || echo "note: torch not installed; PyTorch comparisons will skip"
fi
