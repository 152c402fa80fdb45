#!/usr/bin/env bash
# Set up everything and run the pytest-benchmark suite (corelib vs NumPy vs PyTorch).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest benchmarks -q -p no:cacheprovider --benchmark-enable \
  --benchmark-group-by=group --benchmark-columns=min,median,mean,rounds "$@"
