#!/usr/bin/env bash
# Create .venv and install corelib, its CPU and CUDA backends and the test/demo extras (editable).
# The CUDA backend installs without a GPU (CuPy + NVRTC wheels); its tests run on the simulator.
# PyTorch (a reference for tests and benchmarks) is installed when available; set
# CORELIB_SKIP_TORCH=1 to skip it (the PyTorch comparisons then skip).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if ! .venv/bin/python -m pip --version >/dev/null 2>&1; then   # none, or a half-made one
  rm -rf .venv
  "$PYTHON" -m venv .venv
fi
pip_quiet() {  # pip install, hiding the index-location warnings of this machine's pip config
  local log status=0
  log=$(.venv/bin/python -m pip install -q --disable-pip-version-check "$@" 2>&1) || status=$?
  grep -v "^WARNING: Location" <<<"$log" || true
  return $status
}
pip_quiet -e ".[test,demo,onnx]" -e backends/cpu -e backends/cuda \
  -e plugins/profiler -e plugins/crosscheck -e plugins/fallback -e plugins/meta
# MPI for corelib.distributed: the MPICH wheel (mpiexec, libmpi) and mpi4py from PyPI, and the
# communication plugins (corelib-nccl runs only where GPUs and libnccl exist; here it says why not)
pip_quiet mpich mpi4py -e plugins/mpi -e plugins/nccl
.venv/bin/python -c "import corelib, corelib_cpu, corelib_cuda, corelib_mpi"
# corelib-cpu's compiled kernels (direct convolution) are built once here, not in the first run
.venv/bin/python -c "from corelib_cpu import native; print('corelib-cpu kernels:', native.status())"
if [ "${CORELIB_SKIP_TORCH:-0}" != "1" ] && ! .venv/bin/python -c "import torch" 2>/dev/null; then
  pip_quiet --only-binary=:all: "torch==2.13.0" \
    || echo "note: torch not installed; PyTorch comparisons will skip"
fi
