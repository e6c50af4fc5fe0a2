"""``callscript plan`` as a user runs it: real files in, real files out, stderr and exit codes."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from callscript import Call, builtin_flows
from tests.planner_support import COLUMNS, customer, record

pytestmark = pytest.mark.subprocess  # starts other processes: not in the mutation run

CLI = [sys.executable, "-m", "callscript", "plan"]


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=120)


def write_customers(path: Path, rows: list[dict[str, str | None]], columns: tuple[str, ...] = COLUMNS,
                    encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([row.get(c) or "" for c in columns])
    return path


def shared_files(folder: Path) -> list[str]:
    """--agents and --deployment: the telecom flows say the agent's name and the hotline."""
    (folder / "agents.csv").write_text("agent_id,name,phone,max_calls\nA1,李娜,0571-86001234,10\n"
                                       "A2,张伟,0571-86001235,10\n", encoding="utf-8")
    (folder / "deployment.yaml").write_text("deployment:\n  hotline: '10010'\n  service_centre: 西湖区\n",
                                            encoding="utf-8")
    return ["--agents", str(folder / "agents.csv"), "--deployment", str(folder / "deployment.yaml")]


def write_records(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    customers = write_customers(tmp_path / "customers.csv", [
        customer("C1", opened_on="2025-10-01"),
        customer("C2", this_month="10.00", agent_id="A2"),
        customer("C3", idle_since_month="6", agent_id=None),
        customer("C4", do_not_call="true", opened_on="2025-10-01"),
        customer("C5"),
    ])
    records = write_records(tmp_path / "records.jsonl", [
        record("C5", "first_visit", "completed", "2025-09-26T10:00:00+08:00",
               [("second_visit", "2025-10-09")]),
        record("C1", "first_visit", "rescheduled", "2025-10-08T16:00:00+08:00",
               [("callback", "2025-10-09T15:00:00+08:00")]),
    ])
    shared_files(tmp_path)
    return {"customers": customers, "records": records, "agents": tmp_path / "agents.csv",
            "deployment": tmp_path / "deployment.yaml", "dir": tmp_path}


def test_a_worklist_for_every_agent_with_why_which_flow_and_when(files: dict[str, Path]) -> None:
    out = files["dir"] / "worklist.csv"
    done = run(files["customers"], "--records", files["records"], "--agents", files["agents"],
               "--deployment", files["deployment"], "--on", "2025-10-09", "-o", out)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert list(rows[0])[:9] == ["customer_ref", "flow", "reason", "priority", "window_start", "window_end",
                                 "attempt", "agent_id", "context"]
    by_ref = {r["customer_ref"]: r for r in rows}
    assert set(by_ref) <= {"C1", "C2", "C3", "C5"} and "C4" not in by_ref
    assert by_ref["C1"]["flow"] == "first_visit"
    assert by_ref["C1"]["window_start"] == "2025-10-09T15:00:00+08:00"
    assert by_ref["C5"]["flow"] == "second_visit" and by_ref["C5"]["reason"] == "客户希望的二次回访时间已到"
    assert by_ref["C3"]["agent_id"] in ("A1", "A2")  # no manager of their own: balanced
    flows = builtin_flows()
    for row in rows:
        Call.start(flows[row["flow"]], json.loads(row["context"]))
    assert "2025-10-09:" in done.stderr and "do_not_call: 1" in done.stderr
    assert "13800000001" not in done.stderr


@pytest.mark.parametrize("suffix", [".json", ".parquet"])
def test_json_and_parquet_worklists(files: dict[str, Path], suffix: str) -> None:
    out = files["dir"] / f"worklist{suffix}"
    done = run(files["customers"], "--records", files["records"], *shared_files(files["dir"]),
               "--on", "2025-10-09", "-o", out)
    assert done.returncode == 0, done.stderr
    table = pl.read_json(out) if suffix == ".json" else pl.read_parquet(out)
    assert table.height == 4 and "context" in table.columns


def test_parquet_customers(files: dict[str, Path]) -> None:
    source = files["dir"] / "customers.parquet"
    pl.read_csv(files["customers"], infer_schema=False).write_parquet(source)
    out = files["dir"] / "w.csv"
    done = run(source, *shared_files(files["dir"]), "--on", "2025-10-09", "-o", out)
    assert done.returncode == 0, done.stderr
    assert {r["customer_ref"] for r in csv.DictReader(out.open(encoding="utf-8"))} == {"C1", "C2", "C3"}


def test_parquet_rejects_name_the_row_and_one_of_a_kind_is_singular(tmp_path: Path) -> None:
    rows = write_customers(tmp_path / "c.csv", [customer("C1", opened_on="2025-10-01"),
                                                customer("C2", phone="call-me-13800")])
    source = tmp_path / "c.parquet"
    pl.read_csv(rows, infer_schema=False).write_parquet(source)
    done = run(source, *shared_files(tmp_path), "--on", "2025-10-09", "-o", tmp_path / "w.csv")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "w.rejects.csv").read_text(encoding="utf-8").splitlines() == [
        "row,field,problem", "2,phone,expected 5 to 15 digits (optionally with + - or spaces)"]
    assert "2025-10-09: 1 call planned from 2 customers" in done.stderr
    assert "rejected rows: 1 (1 problem) ->" in done.stderr


def test_a_missing_column_is_named(tmp_path: Path) -> None:
    columns = tuple(c for c in COLUMNS if c != "opened_on")
    source = write_customers(tmp_path / "c.csv", [customer("C1")], columns)
    done = run(source, "--on", "2025-10-09", "-o", tmp_path / "w.csv")
    assert done.returncode == 2
    assert "has no column 'opened_on'" in done.stderr and "Traceback" not in done.stderr


def test_duplicate_customer_refs_are_refused(tmp_path: Path) -> None:
    source = write_customers(tmp_path / "c.csv", [customer("C1"), customer("C2"), customer("C1")])
    done = run(source, "--on", "2025-10-09", "-o", tmp_path / "w.csv")
    assert done.returncode == 2
    assert "share a customer_ref" in done.stderr and "lines 2, 4" in done.stderr
    assert not (tmp_path / "w.csv").exists()


def test_a_gbk_file_is_refused_with_a_hint_to_convert(tmp_path: Path) -> None:
    source = write_customers(tmp_path / "gbk.csv", [customer("C1"), customer("C2", name="欧阳")],
                             encoding="gbk")
    done = run(source, "--on", "2025-10-09", "-o", tmp_path / "w.csv")
    assert done.returncode == 2
    assert "gbk.csv:2: not UTF-8" in done.stderr and "iconv -f GBK -t UTF-8" in done.stderr


def test_bad_rows_go_to_the_rejects_file_with_line_and_field(tmp_path: Path) -> None:
    source = write_customers(tmp_path / "c.csv", [
        customer("C1", opened_on="2025-10-01"), customer("C2", phone="call-me-13800", opened_on="2025-10-01"),
        customer("C3", opened_on="2025-13-01"), customer(""),
    ])
    out = tmp_path / "w.csv"
    done = run(source, *shared_files(tmp_path), "--on", "2025-10-09", "-o", out)
    assert done.returncode == 0, done.stderr
    rejects = (tmp_path / "w.rejects.csv").read_text(encoding="utf-8")
    assert rejects.splitlines() == ["line,field,problem",
                                    "3,phone,expected 5 to 15 digits (optionally with + - or spaces)",
                                    "4,opened_on,expected a date such as 2026-05-01",
                                    "5,customer_ref,\"empty, but required\""]
    assert "call-me" not in rejects and "call-me" not in done.stderr
    assert "rejected rows: 3 (3 problems)" in done.stderr
    assert [r["customer_ref"] for r in csv.DictReader(out.open(encoding="utf-8"))] == ["C1"]


def test_a_public_holiday_gives_an_empty_worklist_and_says_why(files: dict[str, Path]) -> None:
    out = files["dir"] / "w.csv"
    done = run(files["customers"], *shared_files(files["dir"]), "--on", "2025-10-01", "-o", out)
    assert done.returncode == 0
    assert "no calls planned: 2025-10-01 is a public holiday (国庆节)" in done.stderr
    assert out.read_text(encoding="utf-8").splitlines() == [
        "customer_ref,flow,reason,priority,window_start,window_end,attempt,agent_id,context,calendar_estimated"]


def test_past_the_published_calendar_warns_once(tmp_path: Path) -> None:
    people = [customer(f"C{i}", opened_on="2027-01-01") for i in range(3)]
    source = write_customers(tmp_path / "c.csv", people)
    done = run(source, *shared_files(tmp_path), "--on", "2027-01-04", "-o", tmp_path / "w.csv")
    assert done.returncode == 0
    assert done.stderr.count("past the years the official calendar publishes") == 1
    assert {r["calendar_estimated"] for r in csv.DictReader((tmp_path / "w.csv").open())} == {"true"}


def test_a_bad_policy_is_reported_as_file_line(files: dict[str, Path]) -> None:
    policy = files["dir"] / "p.yaml"
    text = Path("src/callscript/libraries/telecom/policy.yaml").read_text(encoding="utf-8")
    policy.write_text(text.replace("flow: zero_usage", "flow: zero"), encoding="utf-8")
    line = text[: text.index("flow: zero_usage")].count("\n") + 1
    done = run(files["customers"], "--policy", policy, "--on", "2025-10-09", "-o", files["dir"] / "w.csv")
    assert done.returncode == 2 and f"p.yaml:{line}: rules[6].flow: unknown flow 'zero'" in done.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--on", "2025-02-30"], "--on takes a day as YYYY-MM-DD"),
    (["--on", "2025-10-09", "--agents", "agents.csv"], "deployment.hotline, deployment.service_centre "
                                                      "(give them in --deployment FILE)"),
    (["--on", "2025-10-09", "--deployment", "deployment.yaml"], "agent.name, agent.phone (give --agents)"),
    (["--on", "2025-10-09", "--records", "missing.jsonl"], "missing.jsonl: no such file"),
    (["--on", "2025-10-09", "--records", "customers.csv"], "records must be .jsonl or .parquet"),
])
def test_usage_mistakes(files: dict[str, Path], args: list[str], message: str) -> None:
    fixed = [str(files["dir"] / a) if a.endswith((".jsonl", ".csv", ".yaml")) else a for a in args]
    done = run(files["customers"], *fixed, "-o", files["dir"] / "w.csv")
    assert done.returncode == 2 and message in done.stderr, done.stderr


def test_records_with_unreadable_times_are_refused(files: dict[str, Path]) -> None:
    bad = write_records(files["dir"] / "bad.jsonl", [record("C1", "first_visit", "no_answer", "yesterday")])
    done = run(files["customers"], "--records", bad, *shared_files(files["dir"]), "--on", "2025-10-09",
               "-o", files["dir"] / "w.csv")
    assert done.returncode == 2 and "bad.jsonl: 1 records lack" in done.stderr and "ISO 8601" in done.stderr


def test_an_unknown_output_format(files: dict[str, Path]) -> None:
    done = run(files["customers"], "--on", "2025-10-09", "-o", files["dir"] / "w.xlsx")
    assert done.returncode == 2 and "must be .csv, .parquet or .json" in done.stderr


def test_import_callscript_does_not_import_polars() -> None:
    code = ("import sys, callscript, callscript.cli; callscript.builtin_flows(); "
            "assert 'polars' not in sys.modules, 'polars imported'")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60).returncode == 0


def test_the_worked_example_in_the_docs_runs_as_shown(tmp_path: Path) -> None:
    import re
    import shlex

    page = Path("docs/planning.md").read_text(encoding="utf-8")
    blocks = dict(re.findall(r"<!-- example: (\S+) -->\n```\w+\n(.*?)```", page, re.S))
    for name in ("customers.csv", "records.jsonl", "agents.csv", "deployment.yaml"):
        (tmp_path / name).write_text(blocks[name], encoding="utf-8")
    command, *shown = blocks["run"].splitlines()
    args = shlex.split(command.removeprefix("$ "))[2:]  # after "callscript plan"
    done = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == shown
    table = page.split("`worklist.csv` (the `context` column shortened here):")[1].split("\n\n")[1]
    expected = [[cell.strip() for cell in line.strip("|").split("|")] for line in table.splitlines()[2:]]
    got = [[row[c] for c in ("customer_ref", "flow", "reason", "priority", "window_start", "window_end",
                             "attempt", "agent_id")]
           for row in csv.DictReader((tmp_path / "worklist.csv").open(encoding="utf-8"))]
    assert got == expected


def test_a_progress_display_on_a_terminal_only(files: dict[str, Path]) -> None:
    import os

    import pexpect

    args = ["-m", "callscript", "plan", str(files["customers"]), *shared_files(files["dir"]),
            "--on", "2025-10-09", "-o", str(files["dir"] / "w.csv")]
    child = pexpect.spawn(sys.executable, args, encoding="utf-8", timeout=60, dimensions=(40, 200),
                          env=dict(os.environ, TERM="xterm"))
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "planning" in child.before and "calls planned" in child.before
    piped = run(files["customers"], *shared_files(files["dir"]), "--on", "2025-10-09",
                "-o", files["dir"] / "w.csv")
    assert "planning" not in piped.stderr and "\x1b[" not in piped.stderr


def test_a_library_without_a_policy_needs_one(files: dict[str, Path], tmp_path: Path) -> None:
    library = tmp_path / "mine"
    library.mkdir()
    source = Path("src/callscript/libraries/telecom/first_visit.yaml").read_text(encoding="utf-8")
    (library / "visit.yaml").write_text(source.replace("id: first_visit", "id: my_visit"), encoding="utf-8")
    done = run(files["customers"], "-L", library, "--on", "2025-10-09", "-o", tmp_path / "w.csv")
    assert done.returncode == 2 and f"{library}: this library has no policy.yaml" in done.stderr
    # the telecom policy names flows this library does not have: refused at the rule's line
    done = run(files["customers"], "-L", library, "--policy", "src/callscript/libraries/telecom/policy.yaml",
               "--on", "2025-10-09", "-o", tmp_path / "w.csv")
    assert done.returncode == 2 and "unknown flow 'second_visit'" in done.stderr


def test_the_policy_json_schema_command() -> None:
    done = subprocess.run([sys.executable, "-m", "callscript", "schema", "policy"], capture_output=True,
                          text=True, timeout=60)
    schema = json.loads(done.stdout)
    assert schema["title"] == "callscript planning policy" and "rules" in schema["properties"]


@pytest.mark.parametrize("typed", [False, True])
def test_parquet_records_with_text_or_aware_times(files: dict[str, Path], typed: bool) -> None:
    rows = [json.loads(line) for line in files["records"].read_text(encoding="utf-8").splitlines()]
    table = pl.DataFrame(rows, schema={"customer_ref": pl.String, "flow": pl.String, "disposition": pl.String,
                                       "ended_at": pl.String, "follow_ups": pl.List(pl.Struct(
                                           {"kind": pl.String, "due": pl.String}))})
    if typed:
        table = table.with_columns(pl.col("ended_at").str.to_datetime(time_zone="Asia/Shanghai"))
    table.write_parquet(files["dir"] / "records.parquet")
    out = files["dir"] / "w.csv"
    done = run(files["customers"], "--records", files["dir"] / "records.parquet", *shared_files(files["dir"]),
               "--on", "2025-10-09", "-o", out)
    assert done.returncode == 0, done.stderr
    by_ref = {r["customer_ref"]: r for r in csv.DictReader(out.open(encoding="utf-8"))}
    assert by_ref["C1"]["window_start"] == "2025-10-09T15:00:00+08:00"
    assert by_ref["C5"]["flow"] == "second_visit"
