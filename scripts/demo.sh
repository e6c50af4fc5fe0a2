#!/usr/bin/env bash
# One scripted sample call through each of the five built-in flows.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/callscript demo "$@"
