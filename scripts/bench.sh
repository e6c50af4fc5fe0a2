#!/usr/bin/env bash
# Measure every budget row of docs/DESIGN against the baselines; writes docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -m benchmarks.run "$@"
