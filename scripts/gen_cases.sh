#!/usr/bin/env bash
# Regenerate tests/cases/*.cases.yaml from the built-in flows (path cover).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
for name in first_visit network_complaint second_visit spending_drop zero_usage_idle zero_usage_suspended; do
  flow=${name%_idle}; flow=${flow%_suspended}
  .venv/bin/python - "$name" > "/tmp/callscript-context-$name.yaml" <<'PY'
import sys, yaml
data = yaml.safe_load(open("tests/cases/contexts.yaml", encoding="utf-8"))
print(yaml.safe_dump(data[sys.argv[1]], allow_unicode=True))
PY
  .venv/bin/callscript cover "$flow" --context "/tmp/callscript-context-$name.yaml" \
    -o "tests/cases/$name.cases.yaml"
done
