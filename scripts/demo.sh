#!/usr/bin/env bash
# One scripted sample call through each of the five built-in flows, then one through the service.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/callscript demo "$@"
# and one call through the HTTP service on its SQLite default, started and stopped here
# (not with arguments such as --json, whose output is for programs)
if [ $# -eq 0 ]; then
  .venv/bin/python -m callscript.service.demo
fi
