"""The shipped JSON Schema matches the models; the demo runs real calls."""

from __future__ import annotations

import io
import json
from importlib import resources
from pathlib import Path

import pytest
import yaml

from callscript.cli import main
from callscript.demo import SAMPLES, run_demo
from callscript.spec import json_schema

ROOT = Path(__file__).parents[1]


def test_shipped_schema_matches_the_models() -> None:
    shipped = json.loads((resources.files("callscript") / "flow.schema.json").read_text("utf-8"))
    docs = json.loads((ROOT / "docs" / "flow.schema.json").read_text("utf-8"))
    assert shipped == json_schema() == docs, "regenerate: callscript schema > docs/flow.schema.json"


def test_schema_describes_the_real_files() -> None:
    schema = json_schema()
    assert {"id", "title", "start", "steps"} <= set(schema["required"])
    step_fields = set(schema["$defs"]["StepSpec"]["properties"])
    for path in (ROOT / "src" / "callscript" / "flows").glob("*.yaml"):
        data = yaml.safe_load(path.read_text("utf-8"))
        assert set(data) <= set(schema["properties"]), path.name
        for step in data["steps"].values():
            assert set(step) <= step_fields, path.name


def test_demo_runs_one_call_per_flow() -> None:
    out = io.StringIO()
    assert run_demo(out) == 0
    text = out.getvalue()
    for sample in SAMPLES:
        assert f"({sample.flow})" in text
    assert "客户经理: 您好,您是王先生吗?" in text
    assert "客户:     是" in text
    assert "看到您上月话费是128.50元,本月话费是36.00元" in text
    assert "您的手机从9月欠费停机了" in text
    assert "客户经理: 我是招商证券客户经理，我们向您推荐银证通！" in text  # the securities library
    assert "13812345678" not in text and "文三路100号" not in text  # the record is redacted


def test_demo_json_is_the_records() -> None:
    out = io.StringIO()
    run_demo(out, as_json=True)
    records = json.loads(out.getvalue())
    assert [r["flow_id"] for r in records] == [s.flow for s in SAMPLES]
    assert [r["disposition"]["id"] for r in records] == [
        "completed", "completed", "completed", "rescheduled", "completed", "interested"]


def test_cli_check_reports_problems_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    broken = str(ROOT / "tests" / "fixtures" / "broken" / "unknown_target.yaml")
    assert main(["check", broken]) == 1
    assert capsys.readouterr().err == f"{broken}:9: steps.a.answers[1].to: unknown target 'nowhere'\n"
    assert main(["check", "--calls", "0", str(ROOT / "tests" / "fixtures" / "good" / "mini.yaml")]) == 0
    assert capsys.readouterr().out == "ok: mini v2 (10 steps)\n"
