"""A library of another trade, written without Python: its own schema, dispositions and flows.

The water utility's payment reminder (tests/fixtures/libraries/water) goes through every
command an author uses; each new refusal of the format is pinned with its file:line.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pexpect
import pytest
from hypothesis import given
from hypothesis import strategies as st

import callscript
from callscript import Call, ContextError, FlowError, load_library
from callscript.cli import main
from callscript.context import ContextSchema, FieldSpec, PartSpec
from callscript.library import FlowLibrary
from callscript.loader import load_text
from callscript.printing import build_script, to_markdown, to_pdf
from callscript.testing.render_check import render_problems
from callscript.testing.strategies import contexts

from .conftest import FIXTURES

WATER = FIXTURES / "libraries" / "water"
CONTEXT = {"account": {"holder": "陈", "title": "女士", "phone": "13912345678",
                       "number": "330100123"},
           "bill": {"amount_due": "86.40", "due_on": "2026-12-10", "late_fee_rate": "0.003"},
           "agent": {"id": "A9", "name": "周敏", "phone": "0571-88001234"},
           "deployment": {"hotline": "96390", "carrier": "杭州"}}


@pytest.fixture(scope="module")
def water() -> FlowLibrary:
    return load_library(WATER)


def test_the_library_has_its_own_schema_and_dispositions(water: FlowLibrary) -> None:
    assert water.flow_ids == ["payment_reminder"]
    assert "bill.amount_due" in water.schema.fields and "billing.last_month" not in water.schema.fields
    assert water.schema.fields["account.phone"].sensitive
    assert water.dispositions["promised"].code == "W1"
    assert water.dispositions["completed"].label == "回访完成"  # reused from telecom


def test_a_whole_call_records_its_disposition_and_follow_up(water: FlowLibrary) -> None:
    flow = water.flow("payment_reminder")
    call = Call.start(flow, CONTEXT)
    assert call.prompt.lines == ("您好,请问是陈女士吗?我是杭州水务的客户经理周敏。",)
    call.answer("confirmed")
    assert call.prompt.lines[0] == "您家的水费还有86.40元未缴,截止日期是12月10日。"
    assert call.prompt.lines[1].startswith("逾期每天按0.30%收取滞纳金")
    call.interrupt("dispute")
    call.answer("recorded", {"dispute_text": "上月读数不对"})
    call.answer("go_on")
    assert call.prompt.lines == ("我们再说回缴费的事,请问您打算什么时候缴费呢?",)  # say_on_return
    call.answer("pays_on", {"pay_date": "2026-12-05", "channel": "微信"})
    record = call.record()
    assert record.disposition is not None
    assert (record.disposition.id, record.disposition.code, record.disposition.label) == (
        "promised", "W1", "承诺缴费")
    assert [(f.kind, str(f.due)) for f in record.follow_ups][-1] == ("payment_check", "2026-12-05")
    assert "12月5日通过微信缴费" in record.path[-1].lines[0]


def test_a_guard_with_a_label_decides_and_prints_its_words(water: FlowLibrary) -> None:
    flow = water.flow("payment_reminder")
    big = CONTEXT | {"bill": CONTEXT["bill"] | {"amount_due": "2400"}}
    call = Call.start(flow, big)
    call.answer("confirmed")
    assert [a.id for a in call.prompt.answers] == ["pays_on"]
    text = to_markdown([build_script(flow)], diagrams=False)
    assert "已经缴过了(仅当欠费不足1000元) → [§" in text
    assert "**适用条件:** 有欠费" in text


def test_placeholders_are_refused_in_a_live_call_and_named(water: FlowLibrary) -> None:
    flow = water.flow("payment_reminder")
    bare = {k: v for k, v in CONTEXT.items() if k != "deployment"} | {"agent": {"id": "A9"}}
    with pytest.raises(ContextError) as caught:
        Call.start(flow, bare)
    assert caught.value.missing == ("agent.name", "deployment.hotline")  # the closing says it
    assert "set these fields" in str(caught.value) and "agent.name" in str(caught.value)
    call = Call.start(flow, bare, placeholders=True)  # a rehearsal may show them
    assert "客户经理***" in call.prompt.lines[0]


def test_a_bad_context_names_each_field_and_why_never_the_value(water: FlowLibrary) -> None:
    flow = water.flow("payment_reminder")
    bad = CONTEXT | {"account": CONTEXT["account"] | {"title": "博士", "phone": "12-34"},
                     "bill": CONTEXT["bill"] | {"due_on": 0}}
    with pytest.raises(ContextError) as caught:
        Call.start(flow, bad)
    assert caught.value.invalid == {"account.title": "expected 先生 or 女士",
                                    "account.phone": "expected 5 to 15 digits (optionally with "
                                                     "+ - or spaces)",
                                    "bill.due_on": "expected a date such as 2026-05-01"}
    assert "博士" not in str(caught.value) and "12-34" not in str(caught.value)
    with pytest.raises(callscript.ArgumentError, match="context must be a mapping"):
        Call.start(flow, ["not", "a", "mapping"])  # type: ignore[arg-type]


def test_the_context_model_hides_sensitive_values_in_its_repr(water: FlowLibrary) -> None:
    context = water.schema.validate("payment_reminder", CONTEXT)
    assert "13912345678" not in repr(context) and "陈" in repr(context)


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "callscript", *args], capture_output=True,
                          text=True, timeout=120, cwd=cwd)


@pytest.mark.subprocess
def test_cli_flows_check_and_schema_take_the_library() -> None:
    listed = run_cli("flows", "-L", str(WATER), "--json")
    assert [f["id"] for f in json.loads(listed.stdout)] == ["payment_reminder"]
    checked = run_cli("check", "-L", str(WATER), "--calls", "80")
    assert checked.returncode == 0, checked.stderr
    assert "ok: payment_reminder v1" in checked.stdout
    schema = json.loads(run_cli("schema", "context", "-L", str(WATER)).stdout)
    assert set(schema["properties"]) == {"account", "bill", "agent", "deployment"}


@pytest.mark.subprocess
def test_check_reports_a_template_that_fails_at_run_time(tmp_path: Path) -> None:
    library = tmp_path / "water"
    shutil.copytree(WATER, library)
    flow = library / "payment_reminder.yaml"
    source = flow.read_text("utf-8").replace("还有{{ bill.amount_due }}元未缴",
                                             "还有{{ bill.amount_due / bill.late_fee_rate }}天")
    flow.write_text(source, "utf-8")
    line = next(n for n, text in enumerate(source.splitlines(), 1) if "late_fee_rate }}天" in text)
    result = run_cli("check", "-L", str(library))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"{flow}:{line}: steps.remind: say fails to render" in result.stderr
    # the real failure is named: the optional rate may be absent
    assert "(without bill.late_fee_rate)" in result.stderr


def test_print_never_raises_on_an_ordinary_template(tmp_path: Path) -> None:
    text = ("id: drop\ntitle: 话费下降\ncontext:\n  required: [billing.last_month, "
            "billing.this_month]\nstart: a\nsteps:\n  a:\n    title: 说明下降\n    say:\n"
            "      - '比上月少了{{ billing.last_month - billing.this_month }}元,"
            "约{{ (billing.this_month / billing.last_month * 100) | round }}%'\n"
            "    answers:\n      - id: why\n        label: 说明原因\n        to: b\n"
            "        capture: [{name: reason, type: text, label: 下降原因}]\n"
            "  b:\n    title: 结束\n    say: ['您说的是{{ captured.reason }},谢谢,再见']\n"
            "    disposition: completed\n    customer_hangs_up_first: true\n")
    path = tmp_path / "drop.yaml"
    path.write_text(text, "utf-8")
    flow = callscript.load_flows(path)["drop"]
    seed = to_markdown([build_script(flow)], diagrams=False)
    assert "比上月少了【上月话费】-【本月话费】元" in seed
    assert "您说的是【下降原因】,谢谢" in seed
    labels = to_markdown([build_script(flow, labels=True)], diagrams=False)
    assert "【上月话费】-【本月话费】" in labels


@pytest.mark.subprocess
def test_print_markdown_and_pdf_use_titles_and_labels(tmp_path: Path) -> None:
    result = run_cli("print", "payment_reminder", "-L", str(WATER), "--placeholders", "labels",
                     "--no-diagram")
    assert result.returncode == 0, result.stderr
    assert "### §1 问候并核对户主" in result.stdout
    assert "您好,请问是【户主姓名】【称谓】吗?" in result.stdout
    assert "**结束:** 承诺缴费" in result.stdout
    pdf = tmp_path / "water.pdf"
    pdf.write_bytes(to_pdf([build_script(load_library(WATER).flow("payment_reminder"))], False))
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        pytest.fail("pdftotext (Debian's poppler-utils) is not installed: run scripts/setup.sh")
    text = re.sub(r"\s+", "", subprocess.run([pdftotext, str(pdf), "-"], capture_output=True,
                                             text=True, check=True).stdout)
    assert "提醒缴费" in text and "您家的水费还有***元未缴" in text


def test_cover_writes_cases_the_plugin_replays_by_library(tmp_path: Path,
                                                           pytester: pytest.Pytester) -> None:
    context = tmp_path / "context.yaml"
    context.write_text(json.dumps(CONTEXT, ensure_ascii=False), encoding="utf-8")
    out = pytester.path / "payment_reminder.cases.yaml"
    assert main(["cover", "payment_reminder", "-L", str(WATER), "--context", str(context),
                 "-o", str(out)]) == 0
    assert "library: " in out.read_text("utf-8")
    result = pytester.runpytest("-p", "no:cacheprovider", str(out))
    result.assert_outcomes(passed=len(re.findall(r"^- name:", out.read_text("utf-8"), re.M)))


@pytest.mark.subprocess
def test_rehearsal_of_the_library_under_a_terminal(tmp_path: Path) -> None:
    env = dict(os.environ, TERM="dumb", COLUMNS="200")
    child = pexpect.spawn(sys.executable, ["-m", "callscript", "rehearse", "payment_reminder",
                                           "-L", str(WATER), "--sample"], cwd=str(tmp_path),
                          encoding="utf-8", timeout=20, dimensions=(50, 200), env=env)
    child.expect("问候并核对户主")
    child.expect("> ")
    child.sendline("1")
    child.expect("提醒缴费")
    child.expect("> ")
    child.sendline("1")
    child.expect("约定缴费日期")
    child.sendline("2026-12-05")
    child.expect("缴费方式")
    child.sendline("微信")
    child.expect("结果: 承诺缴费")
    child.expect(pexpect.EOF)


@pytest.mark.subprocess
def test_a_context_file_error_names_file_line_and_field(tmp_path: Path) -> None:
    context = tmp_path / "ctx.yaml"
    context.write_text("account:\n  holder: 陈\n  title: 博士\n", encoding="utf-8")
    result = run_cli("cover", "payment_reminder", "-L", str(WATER), "--context", str(context))
    assert result.returncode == 2
    assert f"{context}:3: account.title: expected 先生 or 女士" in result.stderr
    assert "博士" not in result.stderr


LIBRARY_MISTAKES = [
    ("context.yaml", "      phone: {type: phone, label: 联系电话, sensitive: true, placeholder: "
                     "'***********',\n", "      phone: {type: telephone, label: 联系电话,\n",
     "parts.account.fields.phone.type"),
    ("dispositions.yaml", "  completed: {from: telecom}\n", "  completed: {from: bank}\n",
     "dispositions.completed.from"),
    ("dispositions.yaml", "  promised: {label: 承诺缴费, code: W1, reached: true, refinable: false}\n",
     "  promised: {label: 承诺缴费, reached: true}\n", "dispositions.promised"),
]


@pytest.mark.parametrize(("name", "old", "new", "where"), LIBRARY_MISTAKES,
                         ids=[m[3] for m in LIBRARY_MISTAKES])
def test_library_file_mistakes_have_file_and_line(tmp_path: Path, name: str, old: str, new: str,
                                                  where: str) -> None:
    library = tmp_path / "water"
    shutil.copytree(WATER, library)
    path = library / name
    text = path.read_text("utf-8")
    assert old in text
    text = text.replace(old, new)
    path.write_text(text, "utf-8")
    line = text[: text.index(new)].count("\n") + 1
    with pytest.raises(FlowError) as caught:
        load_library(library)
    problem = caught.value.problems[0]
    assert (problem.file, problem.line, problem.where) == (f"{library}/{name}", line, where)


def test_outcome_is_still_read_with_a_deprecation_warning() -> None:
    text = ("id: old\ntitle: 旧格式\nstart: a\nsteps:\n  a:\n    say: [再见]\n"
            "    outcome: completed\n    customer_hangs_up_first: true\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = load_text(text, "old.yaml")
    assert loaded.spec.steps["a"].disposition == "completed"
    assert any("old.yaml:7: steps.a.outcome: `outcome:` is deprecated" in str(w.message)
               for w in caught)


# -- any schema an author may write -----------------------------------------------

_TYPES = ["text", "integer", "money", "decimal", "date", "month", "phone", "bool", "choice"]


@st.composite
def schemas(draw: st.DrawFn) -> ContextSchema:
    fields = {}
    for i in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(_TYPES))
        extra: dict[str, object] = {}
        if kind == "choice":
            extra["choices"] = draw(st.lists(st.sampled_from(["甲", "乙", "丙", "丁"]), min_size=1,
                                             max_size=3, unique=True))
        if kind in ("integer", "money", "decimal") and draw(st.booleans()):
            extra |= {"min": 0, "max": draw(st.integers(1, 10**6))}
        if kind == "text" and draw(st.booleans()):
            extra["max_length"] = draw(st.integers(1, 30))
        fields[f"f{i}"] = FieldSpec(type=kind, label=f"字段{i}", **extra)  # type: ignore[arg-type]
    return ContextSchema({"thing": PartSpec(fields=fields)})


def _flow_over(schema: ContextSchema) -> callscript.Flow:
    """A flow whose lines say every field, plain and in an expression."""
    lines = []
    for name, spec in schema.parts["thing"].fields.items():
        lines.append(f"'值{{{{ thing.{name} }}}}'")
        if spec.type in ("integer", "money", "decimal", "month"):
            lines.append(f"'{{% if thing.{name} is not none %}}{{{{ thing.{name} * 2 + 1 }}}}"
                         "{% endif %}'")
    text = ("id: any\ntitle: 任意\ncontext:\n  optional: [" +
            ", ".join(f"thing.{n}" for n in schema.parts["thing"].fields) + "]\nstart: a\n"
            "steps:\n  a:\n    say: [" + ", ".join(lines) + "]\n    disposition: completed\n")
    library = FlowLibrary([load_text(text, "any.yaml")], schema,
                          callscript.builtin_library().dispositions, fallback={})
    return library.flow("any")


@given(data=st.data())
def test_any_schema_gives_valid_contexts_and_templates_that_render(data: st.DataObject) -> None:
    schema = data.draw(schemas())
    flow = _flow_over(schema)
    context = data.draw(contexts(flow))
    assert schema.validate("any", context.model_dump()) == context
    call = Call.start(flow, context)
    assert len(call.prompt.lines) >= 1
    assert render_problems(flow) == []
