"""The commands as a new user meets them: help, check by id, show, cover of several files,
YAML mistakes, record show in the agent's words."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .test_cli import run

COMMANDS = ["flows", "show", "rehearse", "demo", "check", "cover", "schema", "print", "diagram",
            "plan", "record show"]

SUB = """id: thanks_sub
kind: subdialogue
title: 致谢
start: thank
steps:
  thank:
    title: 致谢
    say: ['谢谢您的支持']
    answers:
      - {id: ok, label: 好的, to: return}
"""
FLOW_A = """id: flow_a
title: 甲回访
start: ask
include: [thanks_sub, closing]
context:
  required: [customer.name, customer.title]
steps:
  ask:
    title: 询问
    say: ['{{ customer.name }}{{ customer.title }}您好,请问您对我们的服务满意吗?']
    answers:
      - {id: yes, label: 满意, to: thanks_sub.thank, return_to: close}
      - {id: no, label: 不满意, to: closing.thanks}
  close:
    title: 结束语
    answers:
      - {id: next, label: 继续, to: closing.thanks}
"""
FLOW_B = FLOW_A.replace("flow_a", "flow_b").replace("甲回访", "乙回访")


@pytest.mark.parametrize("command", COMMANDS)
def test_every_help_names_values_in_words(command: str) -> None:
    result = run(*command.split(), "--help")
    assert result.returncode == 0
    assert not re.search(r"<(list|path|str|int|Path)", result.stdout), result.stdout


def test_check_takes_builtin_flow_ids_and_json_lists_subdialogues(tmp_path: Path) -> None:
    ok = run("check", "second_visit", "--calls", "5")
    assert ok.returncode == 0 and "ok: second_visit" in ok.stdout
    unknown = run("check", "nope")
    assert unknown.returncode == 2 and "unknown flow 'nope'" in unknown.stderr
    sub = tmp_path / "thanks_sub.yaml"
    sub.write_text(SUB, encoding="utf-8")
    (tmp_path / "flow_a.yaml").write_text(FLOW_A, encoding="utf-8")
    result = run("check", str(tmp_path / "flow_a.yaml"), str(sub), "--calls", "5", "--json")
    assert result.returncode == 0, result.stderr
    kinds = {(r["flow"], r["kind"]) for r in json.loads(result.stdout)}
    assert kinds == {("flow_a", "flow"), ("thanks_sub", "subdialogue")}


def test_cover_of_several_files_writes_one_case_file_per_flow_the_plugin_runs(
        tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    for name, text in (("thanks_sub", SUB), ("flow_a", FLOW_A), ("flow_b", FLOW_B)):
        (flows / f"{name}.yaml").write_text(text, encoding="utf-8")
    context = tmp_path / "ctx.yaml"
    context.write_text("customer: {name: 王, title: 先生}\ndeployment: {hotline: '10010'}\n",
                       encoding="utf-8")
    cases = tmp_path / "cases"
    cases.mkdir()
    files = [arg for name in ("flow_a", "thanks_sub", "flow_b")
             for arg in ("-f", str(flows / f"{name}.yaml"))]
    result = run("cover", *files, "--context", str(context), "-o", str(cases))
    assert result.returncode == 0, result.stderr
    written = sorted(p.name for p in cases.iterdir())
    assert written == ["flow_a.cases.yaml", "flow_b.cases.yaml"]
    data = yaml.safe_load((cases / "flow_a.cases.yaml").read_text("utf-8"))
    assert sorted(data["flow_files"]) == ["../flows/flow_a.yaml", "../flows/flow_b.yaml",
                                          "../flows/thanks_sub.yaml"]
    collected = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                str(cases)], capture_output=True, text=True, timeout=300,
                               cwd=tmp_path)
    assert collected.returncode == 0, collected.stdout + collected.stderr
    assert re.search(r"\b[4-9] passed|\b\d\d passed", collected.stdout), collected.stdout


def test_a_tab_in_yaml_is_named_with_file_and_line(tmp_path: Path) -> None:
    context = tmp_path / "tab.yaml"
    context.write_text("customer:\n\tname: 王\n", encoding="utf-8")
    result = run("rehearse", "second_visit", "--context", str(context))
    assert result.returncode == 2
    assert f"{context}:2: YAML syntax: a tab character" in result.stderr
    flow = tmp_path / "flow.yaml"
    flow.write_text(FLOW_A.replace("    title: 询问", "\ttitle: 询问"), encoding="utf-8")
    result = run("check", str(flow))
    assert result.returncode == 1 and f"{flow}:9: YAML syntax: a tab character" in result.stderr


def test_show_prints_captures_conditions_and_effects() -> None:
    def flat(text: str) -> str:  # panels fold long lines at 80 columns
        return re.sub(r"[\s│]+", "", text)

    result = run("show", "spending_drop")
    assert result.returncode == 0
    assert "applieswhen:【本月话费】低于【上月话费】" in flat(result.stdout)
    assert "记录:客户不满的方面(objection_topic,choice)" in flat(result.stdout)
    shown = flat(run("show", "second_visit").stdout)
    assert "⚙跟进second_visit于【二次回访的时间】" in shown
    data = json.loads(run("show", "second_visit", "--json").stdout)
    answers = [a for s in data["steps"] for a in s["answers"]]
    assert any(a["captures"] for a in answers) and any(a["effects"] for a in answers)


def test_record_show_uses_the_flows_words(tmp_path: Path) -> None:
    dates = Path(__file__).parent / "fixtures" / "rehearsal" / "dates.yaml"
    record = tmp_path / "r.json"
    rehearsed = subprocess.run([sys.executable, "-m", "callscript", "rehearse", "rehearsal_dates",
                                "-f", str(dates), "--sample", "--record", str(record)],
                               input="2\n2\n3\n", capture_output=True, text=True, timeout=60,
                               cwd=tmp_path)
    assert rehearsed.returncode == 0, rehearsed.stderr
    shown = run("record", "show", str(record), "-f", str(dates))
    assert shown.returncode == 0, shown.stderr
    assert "通话经过" in shown.stdout and "询问生日" in shown.stdout and "以后再说" in shown.stdout
    assert "联系方式" in shown.stdout and "channel" not in shown.stdout
    bare = run("record", "show", str(record))  # without its flow: by ids, still shown
    assert bare.returncode == 0 and "channel" in bare.stdout
