"""docs/service.md's curl walk-through runs as written against a live service; the demo runs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.service.conftest import Env, LiveServer

DOC = Path(__file__).parents[2] / "docs" / "service.md"


def _curl_blocks() -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## A whole call with curl", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, re.S)


@pytest.mark.skipif(not (shutil.which("curl") and shutil.which("jq")), reason="needs curl and jq")
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_curl_walk_through_runs(env: Env, live: LiveServer, tmp_path: Path) -> None:
    blocks = _curl_blocks()
    assert len(blocks) >= 4
    script = "set -euo pipefail\n" + "\n".join(blocks)
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60, env={**os.environ, "CALLSCRIPT": live.base_url,
                                           "TOKEN": env.tokens["agent"]})
    assert done.returncode == 0, done.stderr + done.stdout
    out = done.stdout.splitlines()
    assert out[0].startswith('{"step":"prepare"')
    assert '"lines":["您好，您是王先生吗？"]' in out[1]
    assert '{"status":"ended","revision":5,"disposition":"rescheduled"}' in out
    assert "412" in out
    assert any('"disposition":{"id":"rescheduled","code":"RS"' in line for line in out)
    assert any('"kind":"callback"' in line for line in out)


def test_the_service_demo_runs(capfd: pytest.CaptureFixture[str]) -> None:
    from callscript.service.demo import main

    assert main() == 0
    out = capfd.readouterr().out
    assert "POST /v1/calls -> 201" in out and "call ended at revision" in out
    assert "disposition completed (CP)" in out
