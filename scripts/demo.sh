#!/usr/bin/env bash
# One scripted sample call through each of the built-in flows, then one through the service.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh demo  # the demo needs no system packages nor dev tools
.venv/bin/callscript demo "$@"
# and one call through the HTTP service on its SQLite default, started and stopped here
# (not with arguments such as --json, whose output is for programs)
if [ $# -eq 0 ]; then
  .venv/bin/python -m callscript.service.demo
fi
