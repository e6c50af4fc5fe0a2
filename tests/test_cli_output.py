"""Every command that writes a file: a path it cannot write is one line on stderr and exit 2,
found before any work; and the printed script takes the agent's own details."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "callscript"]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120, cwd=cwd)


def commands(tmp: Path) -> dict[str, list[str]]:
    context = tmp / "ctx.yaml"
    context.write_text("customer: {name: 王, title: 先生, phone: '13812345678'}\n"
                       "deployment: {hotline: '10010'}\n", encoding="utf-8")
    customers = tmp / "customers.csv"
    customers.write_text("customer_ref,name\nC1,王\n", encoding="utf-8")
    return {
        "print": ["print", "first_visit", "--no-diagram"],
        "print-pdf": ["print", "first_visit", "--no-diagram", "--format", "pdf"],
        "diagram": ["diagram", "first_visit", "--format", "dot"],
        "schema": ["schema"],
        "cover": ["cover", "first_visit", "--context", str(context)],
        "plan": ["plan", str(customers)],
    }


@pytest.mark.parametrize("command", ["print", "print-pdf", "diagram", "schema", "cover", "plan"])
def test_every_command_refuses_an_unwritable_output(command: str, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    args = commands(tmp_path)[command]
    suffix = ".csv" if command == "plan" else ".out"
    for target, why in ((blocker / f"x{suffix}", "no such folder"),
                        (tmp_path / "missing" / f"x{suffix}", "no such folder")):
        result = run(*args, "-o", str(target))
        assert result.returncode == 2, (command, result.stderr)
        assert "Traceback" not in result.stderr and why in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    if command == "cover":
        return  # cover -o DIR writes DIR/FLOW.cases.yaml (tests/test_cli_commands.py)
    folder = tmp_path / f"dir{suffix}"
    folder.mkdir()
    result = run(*args, "-o", str(folder))
    assert result.returncode == 2 and "is a folder" in result.stderr
    assert "Traceback" not in result.stderr


def test_print_takes_the_agents_own_details() -> None:
    result = run("print", "first_visit", "--no-diagram", "--agent", "name=李娜",
                 "--agent", "phone=0571-86001234")
    assert result.returncode == 0, result.stderr
    assert "李娜" in result.stdout and "0571-86001234" in result.stdout
    bad = run("print", "first_visit", "--agent", "李娜")
    assert bad.returncode == 2 and "FIELD=VALUE" in bad.stderr
