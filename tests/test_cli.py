"""The callscript command: a real pseudo-terminal for the rehearsal, exit codes and stderr."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

from callscript import builtin_flows
from callscript.printing.order import step_title

from .conftest import FIXTURES

pytestmark = pytest.mark.subprocess  # starts other processes: not in the mutation run

CLI = [sys.executable, "-m", "callscript"]
FLOWS = builtin_flows()


def titled(flow: str, step: str) -> str:
    """The step as the rehearsal heads it: its title, never its id."""
    return re.escape(step_title(FLOWS[flow].steps[step]))


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120)


def rehearse(*args: str, cwd: Path) -> pexpect.spawn:
    # a plain terminal (no colour codes inside the text we match), wide enough not to wrap;
    # in a temporary folder, where a default snapshot file may be written
    env = dict(os.environ, TERM="dumb", COLUMNS="250")
    return pexpect.spawn(sys.executable, ["-m", "callscript", "rehearse", *args], cwd=str(cwd),
                         encoding="utf-8", timeout=20, dimensions=(50, 250), env=env)


def answer(child: pexpect.spawn, *choices: str) -> None:
    for choice in choices:
        child.expect("> ")
        child.sendline(choice)


def finish_first_visit(child: pexpect.spawn, address_typo: bool = False) -> None:
    answer(child, "1")  # the customer answers the phone
    child.expect("您好，您是王先生吗？")
    answer(child, "1", "1", "1")  # confirmed, agrees, feedback ...
    child.expect("客户反映的手机及网络使用情况")
    child.sendline("地下车库信号不好")
    answer(child, "2", "1")  # no questions; gives address
    child.expect("详细地址")
    child.sendline("杭州市西湖区文三路100号")
    child.expect("住宅电话")
    if address_typo:
        child.sendline("call me")
        child.expect("must be a phone number")
        child.expect("住宅电话")
    child.sendline("0571-87650000")
    answer(child, "2", "2", "1", "1")  # declines work, birthday; no callbacks; next


def test_a_whole_first_visit_writes_its_record(tmp_path: Path) -> None:
    record = tmp_path / "record.json"
    child = rehearse("first_visit", "--sample", "--record", str(record), cwd=tmp_path)
    child.expect("提前调出客户资料")  # the first step is preparation: notes, no line yet
    finish_first_visit(child, address_typo=True)
    child.expect("通话结束")
    child.expect("结果: 回访完成")
    child.expect("详细地址: 杭州\\*\\*\\*\\*")  # the summary is redacted
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    data = json.loads(record.read_text("utf-8"))
    assert data["disposition"]["id"] == "completed" and data["waited_for_customer_hangup"]
    assert data["captures"]["address"] == "杭州市西湖区文三路100号"  # the CRM record is whole
    assert data["captures"]["home_phone"] == "0571-87650000"
    assert data["path"][-1]["lines"][-1] == "再见"


def test_an_interruption_returns_to_the_step_left(tmp_path: Path) -> None:
    child = rehearse("first_visit", "--sample", "--record", str(tmp_path / "r.json"), cwd=tmp_path)
    answer(child, "1", "confirmed")
    child.expect(f"首次回访 · {titled('first_visit', 'introduce')}")
    answer(child, "i3")  # 客户对个人信息很敏感
    child.expect(f"首次回访 · {titled('first_visit', 'wary.vip_card')}")
    answer(child, "1")
    child.expect(f"首次回访 · {titled('first_visit', 'introduce')}")
    child.expect(f"回到: {titled('first_visit', 'introduce')}")  # marked as a return, not new
    child.expect("请问能占用您几分钟时间吗")
    child.sendcontrol("c")
    child.expect(pexpect.EOF)
    child.close()


def test_hold_shows_a_timer_and_resumes(tmp_path: Path) -> None:
    child = rehearse("second_visit", "--sample", "--record", str(tmp_path / "r.json"), cwd=tmp_path)
    answer(child, "h")
    child.expect("请您稍等一下")
    child.expect(r"稍等 00:0\d \(上限 3:00\)")
    child.sendline("")
    child.expect(f"二次回访 · {titled('second_visit', 'greet')}")
    child.sendcontrol("c")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130


def test_ctrl_c_saves_and_resume_finishes_the_same_call(tmp_path: Path) -> None:
    whole = tmp_path / "whole.json"
    child = rehearse("first_visit", "--sample", "--record", str(whole), cwd=tmp_path)
    finish_first_visit(child)
    child.expect(pexpect.EOF)

    saved, resumed = tmp_path / "saved.json", tmp_path / "resumed.json"
    child = rehearse("first_visit", "--sample", "--snapshot", str(saved), "--record", str(resumed),
                     cwd=tmp_path)
    answer(child, "1", "1", "1", "1")
    child.expect("客户反映的手机及网络使用情况")
    child.sendline("地下车库信号不好")
    child.expect("> ")
    child.sendcontrol("c")
    child.expect("快照已保存到")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130 and saved.exists()

    child = rehearse("--resume", str(saved), "--record", str(resumed), cwd=tmp_path)
    child.expect(f"首次回访 · {titled('first_visit', 'questions')}")
    answer(child, "2", "1")
    child.expect("详细地址")
    child.sendline("杭州市西湖区文三路100号")
    child.expect("住宅电话")
    child.sendline("0571-87650000")
    answer(child, "2", "2", "1", "1")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0

    def essence(path: Path) -> list[tuple[str, list[str], str | None, dict[str, object]]]:
        data = json.loads(path.read_text("utf-8"))
        return [(e["step"], e["lines"], e["answer"], e["captures"]) for e in data["path"]]

    assert essence(resumed) == essence(whole)
    assert json.loads(resumed.read_text("utf-8"))["disposition"]["id"] == "completed"


@pytest.mark.parametrize(("args", "message"), [
    (["show", "nope"], "callscript: error: unknown flow 'nope'; known flows: first_visit"),
    (["rehearse", "first_visit", "--context", "missing.yaml"],
     "callscript: error: no such file: missing.yaml"),
    (["rehearse", "first_visit"], "callscript: error: give --context FILE or --sample"),
    (["record", "show", "missing.json"], "callscript: error: no such file: missing.json"),
])
def test_user_mistakes_are_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert result.stderr.startswith(message)
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1


def test_a_broken_flow_file_is_reported_by_file_and_line() -> None:
    broken = FIXTURES / "broken" / "unknown_target.yaml"
    result = run("show", "unknown_target", "--flow-file", str(broken))
    assert result.returncode == 2
    assert result.stderr == f"{broken}:9: steps.a.answers[1].to: unknown target 'nowhere'\n"
    checked = run("check", "--calls", "0", str(broken))
    assert checked.returncode == 1 and "unknown target 'nowhere'" in checked.stderr


def test_a_bad_context_names_the_field(tmp_path: Path) -> None:
    context = tmp_path / "c.yaml"
    context.write_text("customer: {name: 王, title: 先生, phone: '12a'}\n", encoding="utf-8")
    result = run("rehearse", "first_visit", "--context", str(context))
    assert result.returncode == 2
    assert "customer.phone: expected 5 to 15 digits" in result.stderr and "12a" not in result.stderr


def test_usage_errors_exit_2_with_usage() -> None:
    result = run("flows", "--bogus")
    assert result.returncode == 2 and "No such option: --bogus" in result.stderr


def test_version_and_help() -> None:
    assert run("--version").stdout == "callscript 0.1.0\n"
    for command in ("flows", "show", "rehearse", "demo", "check", "cover", "schema", "record"):
        result = run(command, "--help")
        assert result.returncode == 0 and "Usage: callscript" in result.stdout, command


def test_json_outputs_for_scripts(tmp_path: Path) -> None:
    flows = json.loads(run("flows", "--json").stdout)
    assert [f["id"] for f in flows] == ["first_visit", "network_complaint", "network_test_result",
                                        "second_visit", "spending_drop", "zero_usage"]
    shown = json.loads(run("show", "zero_usage", "--json").stdout)
    assert shown["steps"][0]["id"] == "prepare" and shown["interruptions"][0]["id"] == "busy"
    checked = json.loads(run("check", "--calls", "20", "--json",
                             str(FIXTURES / "good" / "mini.yaml")).stdout)
    assert checked == [{"flow": "mini", "kind": "flow", "version": 2, "steps": 9, "calls": 20,
                        "problems": []}]


def test_record_show_is_redacted_unless_asked(tmp_path: Path) -> None:
    records = json.loads(run("demo", "--json").stdout)
    path = tmp_path / "record.json"
    # the demo's records are already redacted; write a raw one through the API
    import callscript

    flow = callscript.builtin_flows()["first_visit"]
    call = callscript.Call.start(flow, {"customer": {"name": "王", "title": "先生",
                                                     "phone": "13812345678"}},
                                 placeholders=True)
    call.answer("answered")
    call.answer("name_mismatch")
    path.write_text(call.record().model_dump_json(), encoding="utf-8")
    shown = run("record", "show", str(path))
    assert shown.returncode == 0 and "138****5678" in shown.stdout
    assert "13812345678" not in shown.stdout
    raw = run("record", "show", "--show-personal-data", "--json", str(path))
    assert "13812345678" in raw.stdout
    assert len(records) == 7  # one per built-in flow: six telecom, one securities


def test_schema_command_matches_the_shipped_schema(tmp_path: Path) -> None:
    out = tmp_path / "schema.json"
    assert run("schema", "-o", str(out)).returncode == 0
    shipped = Path(__file__).parents[1] / "docs" / "flow.schema.json"
    assert json.loads(out.read_text("utf-8")) == json.loads(shipped.read_text("utf-8"))


def test_a_hold_over_the_limit_becomes_a_callback(tmp_path: Path) -> None:
    context = tmp_path / "short_hold.yaml"
    context.write_text("customer: {name: 陈, title: 女士}\ndeployment: {max_hold_seconds: 1}\n",
                       encoding="utf-8")
    record = tmp_path / "record.json"
    child = rehearse("second_visit", "--context", str(context), "--record", str(record), cwd=tmp_path)
    answer(child, "h")
    child.expect(r"稍等 00:0\d \(上限 0:01\)")
    child.expect("已超时,将改为回电")
    child.sendline("")
    child.expect(f"二次回访 · {titled('second_visit', 'hold.call_back')}")
    child.expect("请您先挂机，我查询清楚后今天主动打电话给您")
    answer(child, "1")  # outbound: the agent calls back the number dialled, none is asked for
    child.expect("结果: 待查询后回复客户")
    child.expect(pexpect.EOF)
    child.close()
    data = json.loads(record.read_text("utf-8"))
    assert data["follow_ups"][0]["kind"] == "callback"
    assert "callback_phone" not in data["captures"]
