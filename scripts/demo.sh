#!/usr/bin/env bash
# One scripted sample call through each of the built-in flows.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh demo  # the demo needs no system packages nor dev tools
.venv/bin/callscript demo "$@"
