#!/usr/bin/env bash
# Create .venv (Python >= 3.11) and install callscript.
#   bash scripts/setup.sh demo   what `make demo` needs: callscript and its runtime
#                                dependencies only (no system packages, no dev tools)
#   bash scripts/setup.sh        everything to develop and test: the Debian packages of
#                                printing (scripts/setup-system.sh), WeasyPrint, pytest, ...
# Re-running is cheap: it reinstalls only when pyproject.toml changed or more is asked for.
set -euo pipefail
cd "$(dirname "$0")/.."

kind=${1:-dev}
case "$kind" in
  demo) extras="[demo]" ;;
  dev) extras="[dev]" ;;
  *) echo "usage: scripts/setup.sh [demo|dev]" >&2; exit 2 ;;
esac

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "callscript needs Python >= 3.11; set PYTHON=/path/to/python3.11" >&2
  exit 1
fi
if [ "$kind" = dev ]; then
  bash scripts/setup-system.sh
fi
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
# a dev install covers the demo; a demo install does not cover dev
stamp=.venv/.callscript-installed-$kind
[ "$kind" = demo ] && [ -f .venv/.callscript-installed-dev ] && stamp=.venv/.callscript-installed-dev
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "installing callscript${extras} into .venv ..." >&2
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".${extras}"
  touch "$stamp"
fi
