#!/usr/bin/env bash
# Regenerate tests/cases/*.cases.yaml from the built-in flows (path cover), one file per
# context of tests/cases/contexts.yaml (a name is FLOW or FLOW__VARIANT).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
names=$(.venv/bin/python -c 'import yaml; print(" ".join(yaml.safe_load(open("tests/cases/contexts.yaml", encoding="utf-8"))))')
rm -f tests/cases/*.cases.yaml
for name in $names; do
  flow=${name%%__*}
  .venv/bin/python - "$name" > "/tmp/callscript-context-$name.yaml" <<'PY'
import sys, yaml
data = yaml.safe_load(open("tests/cases/contexts.yaml", encoding="utf-8"))
print(yaml.safe_dump(data[sys.argv[1]], allow_unicode=True))
PY
  .venv/bin/callscript cover "$flow" --context "/tmp/callscript-context-$name.yaml" \
    -o "tests/cases/$name.cases.yaml"
done
