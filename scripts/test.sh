#!/usr/bin/env bash
# The whole test suite: lint, strict typing, then pytest (unit, property, fixture tests).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check src tests benchmarks
.venv/bin/mypy --strict src
.venv/bin/python -m pytest "$@"
