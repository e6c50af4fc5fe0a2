"""The rehearsal under a real pseudo-terminal, at a narrow (72) and a wide (120) terminal."""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import date
from pathlib import Path

import pexpect
import pytest
from rich.cells import cell_len

import callscript

from .conftest import FIXTURES
from .test_cli import run

WIDTHS = [72, 120]
# the tests' own flow (a birthday, a choice, a callback time), so that they do not depend
# on how the built-in flows are worded
DATES = FIXTURES / "rehearsal" / "dates.yaml"
FLOW = callscript.load_flows(DATES)["rehearsal_dates"]


def spawn(*args: str, cwd: Path, width: int, flow: bool = True) -> pexpect.spawn:
    """``callscript rehearse`` in a pty of ``width`` columns, on the tests' flow."""
    env = dict(os.environ, TERM="dumb", COLUMNS=str(width))
    if flow:
        args = ("rehearsal_dates", "-f", str(DATES), *args)
    return pexpect.spawn(sys.executable, ["-m", "callscript", "rehearse", *args], cwd=str(cwd),
                         encoding="utf-8", timeout=20, dimensions=(50, width), env=env)


def answer(child: pexpect.spawn, *choices: str) -> None:
    for choice in choices:
        child.expect("> ")
        child.sendline(choice)


def quit_saving(child: pexpect.spawn) -> None:
    child.sendcontrol("c")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130


@pytest.mark.parametrize("width", WIDTHS)
def test_the_hold_timer_stays_on_one_line_and_lists_no_answers(tmp_path: Path, width: int) -> None:
    child = spawn("--sample", "--record", str(tmp_path / "r.json"), cwd=tmp_path, width=width)
    answer(child, "h")
    child.expect("请您稍等一下")
    child.expect(r"稍等 00:00")
    time.sleep(2.5)
    child.expect(r"稍等 00:02")
    child.sendline("2")  # whatever is typed, Enter is what resumes
    child.expect("> ")
    held = child.before
    timer = held[:held.index("\n")] if "\n" in held else held
    for shown in timer.split("\r"):
        assert cell_len(shown) < width, shown  # never wraps, so \r rewrites the same line
    assert "[back]" not in held and "[too_long]" not in held
    quit_saving(child)


@pytest.mark.parametrize("width", WIDTHS)
def test_lines_fold_with_a_hanging_indent(tmp_path: Path, width: int) -> None:
    child = spawn("--sample", cwd=tmp_path, width=width)
    child.expect("> ")
    lines = child.before.replace("\r\n", "\n").split("\n")
    said = [line for line in lines if "客户经理: " in line]
    assert said
    for line in lines:
        assert cell_len(line) <= width, line
    if width == 72:  # the line is longer than the terminal: it continues under the text
        following = lines[lines.index(said[0]) + 1]
        assert following.startswith(" " * cell_len("  客户经理: ")) and following.strip()
    quit_saving(child)


@pytest.mark.parametrize("width", WIDTHS)
def test_banner_interruptions_on_one_key_and_chinese_words(tmp_path: Path, width: int) -> None:
    (tmp_path / "ctx.yaml").write_text("customer: {name: 王, title: 先生, phone: '13812345678'}\n",
                                       encoding="utf-8")
    child = spawn("--context", "ctx.yaml", cwd=tmp_path, width=width)
    child.expect("排练: 日期练习 · 致电 王先生 \\(138\\*\\*\\*\\*5678\\)")
    child.expect("> ")
    step = child.before
    busy = FLOW.interruptions["busy"].label
    assert "i 打断情况(1)" in step and "i1 " not in step and busy not in step
    child.sendline("i")
    child.expect("打断情况 \\(输入 i1、i2…\\)")
    child.expect(f"i1 {busy}")
    answer(child, "x")
    child.expect("不是可选项")
    quit_saving(child)


@pytest.mark.parametrize("width", WIDTHS)
def test_english_words_with_lang_en(tmp_path: Path, width: int) -> None:
    saved = tmp_path / "saved.json"
    child = spawn("--sample", "--lang", "en", "--snapshot", str(saved), cwd=tmp_path,
                  width=width)
    child.expect("rehearsal: 日期练习 · calling ")
    child.expect("i interruptions \\(1\\)")
    answer(child, "?")
    child.expect("u undo the last")
    child.expect("> ")
    quit_saving(child)
    child = spawn("--resume", str(saved), cwd=tmp_path, width=width, flow=False)
    child.expect("resuming: 0 steps so far")  # a resumed rehearsal keeps its language
    child.expect("> ")
    quit_saving(child)


@pytest.mark.parametrize("width", WIDTHS)
def test_undo_restores_the_step_before_the_last_answer(tmp_path: Path, width: int) -> None:
    record = tmp_path / "r.json"
    child = spawn("--sample", "--record", str(record), cwd=tmp_path, width=width)
    answer(child, "u")
    child.expect("没有可撤销的回答")
    answer(child, "2")  # later
    child.expect("我们什么时间")
    answer(child, "u")
    child.expect("已撤销上一步,回到: 询问生日")
    child.expect("请您留一下好吗")
    answer(child, "1")  # as if "later" never was: gives the birthday
    child.expect("生日")
    child.sendline("05-01")
    answer(child, "2")
    child.expect("联系方式")
    child.sendline("1")
    child.expect(pexpect.EOF)
    child.close()
    data = json.loads(record.read_text("utf-8"))
    assert [e["answer"] for e in data["path"]][:2] == ["birthday", "channel"]


@pytest.mark.parametrize("width", WIDTHS)
def test_a_past_callback_time_is_asked_again(tmp_path: Path, width: int) -> None:
    record = tmp_path / "r.json"
    child = spawn("--sample", "--record", str(record), cwd=tmp_path, width=width)
    answer(child, "2", "1")  # later; a time is agreed
    child.expect("约定的回访时间")
    child.sendline("2020-01-01 10:00")
    child.expect("may not lie in the past")
    child.expect("约定的回访时间")
    child.sendline(f"{date.today().year + 1}-01-05 10:00")
    child.expect("结果: 回访完成")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert json.loads(record.read_text("utf-8"))["follow_ups"][0]["kind"] == "callback"


@pytest.mark.parametrize("width", WIDTHS)
def test_a_birthday_ahead_is_asked_again(tmp_path: Path, width: int) -> None:
    child = spawn("--sample", cwd=tmp_path, width=width)
    answer(child, "1")  # gives the birthday
    child.expect("生日\\(月日即可\\)")
    child.sendline(f"{date.today().year + 3}-05-01")
    child.expect("may not lie in the future")
    child.expect("生日\\(月日即可\\)")
    child.sendline("05-01")
    child.expect("我们什么时间")
    child.expect("> ")
    quit_saving(child)


@pytest.mark.parametrize("width", WIDTHS)
def test_choices_are_numbered(tmp_path: Path, width: int) -> None:
    record = tmp_path / "r.json"
    child = spawn("--sample", "--record", str(record), cwd=tmp_path, width=width)
    answer(child, "2", "2")  # later; a way to be contacted
    child.expect("联系方式: 1 电话 · 2 短信 · 3 微信")
    child.expect(r"\): ")
    child.sendline("3")
    child.expect("联系方式: 微信")  # the summary: the label and the choice
    child.expect(pexpect.EOF)
    child.close()
    assert json.loads(record.read_text("utf-8"))["captures"]["channel"] == "微信"


@pytest.mark.parametrize("width", WIDTHS)
def test_resume_from_another_folder_keeps_record_and_cannot_finish_twice(tmp_path: Path,
                                                                         width: int) -> None:
    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    home.mkdir()
    elsewhere.mkdir()
    (home / "ctx.yaml").write_text("customer: {name: 陈, title: 女士}\n", encoding="utf-8")
    child = spawn("--context", "ctx.yaml", "--record", "out.json", "--snapshot", "saved.json",
                  cwd=home, width=width)
    answer(child, "2")  # later
    child.expect("我们什么时间")
    child.expect("> ")
    quit_saving(child)
    saved = home / "saved.json"
    child = spawn("--resume", str(saved), cwd=elsewhere, width=width, flow=False)
    child.expect("继续排练: 已进行 1 步")
    child.expect("询问生日 → 以后再说")  # the recap: the step and the customer's answer
    answer(child, "2")  # a way to be contacted
    child.expect(r"\): ")
    child.sendline("1")  # by phone
    child.expect("结果: 回访完成")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert (home / "out.json").exists() and not (elsewhere / "out.json").exists()
    again = run("rehearse", "--resume", str(saved))
    assert again.returncode == 2 and "this rehearsal has ended" in again.stderr


@pytest.mark.parametrize("option", ["--record", "--snapshot"])
def test_a_bad_record_or_snapshot_path_is_refused_at_the_start(tmp_path: Path,
                                                               option: str) -> None:
    result = run("rehearse", "second_visit", "--sample", option,
                 str(tmp_path / "no" / "such" / "r.json"))
    assert result.returncode == 2 and "no such folder" in result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr


def test_sample_and_context_together_are_refused(tmp_path: Path) -> None:
    context = tmp_path / "c.yaml"
    context.write_text("customer: {name: 陈}\n", encoding="utf-8")
    result = run("rehearse", "second_visit", "--sample", "--context", str(context))
    assert result.returncode == 2 and "not both" in result.stderr


def test_folding_keeps_the_indent_and_never_starts_a_line_with_punctuation() -> None:
    from callscript.cli.screen import hang

    text = ("赵先生您好,我是联通公司客户服务人员,前一段时间我们通过电话,从系统中,看到您上月"
            "话费是128.50元,本月话费是36.00元。")
    for width in (30, 41, 72, 79):
        lines = list(hang("  客户经理: ", text, width))
        assert "".join(line.strip() for line in lines).replace("客户经理: ", "") == text
        for line in lines:
            assert cell_len(line) <= width, (width, line)
        for line in lines[1:]:
            assert line.startswith(" " * 12) and line[12] not in ",。;:?!)", (width, line)
    keys = list(hang("  ", "i 打断情况 · h 请客户稍等(计时) · Ctrl-C 保存并退出", 30))
    assert not any(line.endswith("Ct") for line in keys)  # English words fold at spaces
