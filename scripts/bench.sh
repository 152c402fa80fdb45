#!/usr/bin/env bash
# Set up everything and run the pytest-benchmark suite (corelib vs NumPy vs PyTorch); the summary
# at the end is the table of ratios (median, same run) with each group's target.
# Defaults for a shared machine: one BLAS/OpenMP thread per library (set OMP_NUM_THREADS /
# OPENBLAS_NUM_THREADS to override) and process time as the timer, so time spent descheduled by
# other processes does not count (pass --benchmark-timer=time.perf_counter for wall time).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
exec .venv/bin/python -m pytest benchmarks -q -p no:cacheprovider --benchmark-enable \
  --benchmark-group-by=group --benchmark-columns=min,median,mean,rounds \
  --benchmark-timer=time.process_time "$@"
