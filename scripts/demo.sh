#!/usr/bin/env bash
# Set up everything (scripts/setup.sh) and train the digits demo on the CPU backend.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python examples/train_digits.py "$@"
