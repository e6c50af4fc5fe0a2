"""The QA toolkit tests itself: properties, coverage reports, path cover, pytest plugin."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml

from callscript import Call, Flow, builtin_flows, load_flows
from callscript.cli import main
from callscript.runtime import call_observers
from callscript.testing import random_walk, sample_context
from callscript.testing.coverage import Coverage
from callscript.testing.paths import path_cover, replay_case
from callscript.testing.properties import check_flow

from .conftest import FIXTURES, context_for

BROKEN = FIXTURES / "toolkit" / "skips_closing.yaml"


def line_of(path: Path, needle: str) -> int:
    return next(n for n, text in enumerate(path.read_text("utf-8").splitlines(), 1) if needle in text)


@pytest.fixture(scope="module")
def broken() -> Flow:
    return load_flows(BROKEN)["skips_closing"]


def test_properties_catch_the_branch_that_skips_the_closing(broken: Flow) -> None:
    found = {(v.prop, v.line) for v in check_flow(broken, calls=100)}
    done = line_of(BROKEN, "  done:")
    assert ("goodbye", done) in found
    assert ("milestones", done) in found


def test_properties_report_the_arm_no_call_reaches(broken: Flow) -> None:
    violations = [v for v in check_flow(broken, calls=100) if v.prop == "coverage"]
    assert len(violations) == 1
    assert violations[0].line == line_of(BROKEN, "billing.this_month < 0")
    assert "if billing.this_month < 0" in violations[0].message
    assert str(violations[0]).startswith(f"{BROKEN}:{violations[0].line}: skips_closing: coverage:")


def test_the_unreachable_arm_shows_as_missed_in_every_report(broken: Flow) -> None:
    coverage = Coverage([broken])
    rng = random.Random(1)
    with coverage.collecting():
        for _ in range(200):
            random_walk(broken, sample_context(broken, rng), rng)
    text = coverage.to_text()
    assert f"{BROKEN}:{line_of(BROKEN, 'billing.this_month < 0')}: skips_closing: missed arm" in text
    data = coverage.to_json()
    missed = data["flows"]["skips_closing"]["missed"]
    assert [m["kind"] for m in missed] == ["arm"]
    assert data["flows"]["skips_closing"]["counts"]["arm"] == {"covered": 1, "total": 2}
    page = coverage.to_html()
    ElementTree.fromstring(re.sub(r"<!doctype html>|<meta charset=\"utf-8\">", "", page)
                           .replace("<br>", ""))  # well-formed, self-contained
    assert "http" not in page.replace("https://", "")  # no network
    assert re.search(r'<p class="arm miss">\{% if billing.this_month &lt; 0 %\} · 0×</p>', page)
    assert '<p class="arm hit">{% (no else) %}' in page


def test_builtin_flows_have_every_property() -> None:
    for flow in builtin_flows().values():
        assert check_flow(flow, calls=120) == [], flow.id


def test_path_cover_takes_every_answer_interruption_and_outcome() -> None:
    # an answer guarded by the context (the holder known, the test result) is covered by the
    # contexts the shipped cases use: tests/cases/contexts.yaml, FLOW or FLOW__VARIANT
    contexts = yaml.safe_load((Path(__file__).parent / "cases" / "contexts.yaml").read_text("utf-8"))
    for flow in builtin_flows().values():
        coverage = Coverage([flow])
        uncoverable: set[tuple[str, str]] = set()
        variants = [c for name, c in contexts.items() if name.split("__")[0] == flow.id]
        assert variants, flow.id
        for i, context in enumerate(variants):
            cover = path_cover(flow, context)
            found = set(cover.uncoverable)
            uncoverable = found if i == 0 else uncoverable & found
            with coverage.collecting():
                for moves in cover.paths:
                    replay_case(flow, cover.context, moves)
        assert uncoverable == set(), flow.id
        counts = coverage.to_json()["flows"][flow.id]["counts"]
        for kind in ("step", "answer", "interruption", "outcome"):
            assert counts[kind]["covered"] == counts[kind]["total"], (flow.id, kind)


def test_collecting_stops_observing_after_the_block() -> None:
    coverage = Coverage()
    with coverage.collecting():
        assert coverage.add in call_observers
    assert coverage.add not in call_observers
    Call.start(builtin_flows()["second_visit"], context_for("second_visit"))
    assert coverage.to_json()["flows"] == {}


def test_cli_check_explores_and_fails_on_violations(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--calls", "60", str(BROKEN)]) == 1
    captured = capsys.readouterr()
    assert "problems: skips_closing" in captured.out
    assert f"{BROKEN}:{line_of(BROKEN, '  done:')}: skips_closing: goodbye:" in captured.err
    assert main(["check", "--calls", "60", str(FIXTURES / "good" / "mini.yaml")]) == 0


def test_cli_cover_writes_cases_the_plugin_replays(tmp_path: Path, pytester: pytest.Pytester) -> None:
    context = tmp_path / "context.yaml"
    context.write_text("customer: {name: 王, title: 女士}\ndeployment: {hotline: '10010'}\n",
                       encoding="utf-8")
    out = pytester.path / "mini.cases.yaml"
    flow_file = FIXTURES / "good" / "mini.yaml"
    assert main(["cover", "mini", "--flow-file", str(flow_file), "--context", str(context),
                 "-o", str(out)]) == 0
    assert "flow_file:" in out.read_text("utf-8")
    result = pytester.runpytest("-p", "no:cacheprovider", str(out))
    result.assert_outcomes(passed=len(re.findall(r"^- name:", out.read_text("utf-8"), re.M)))


def test_a_case_that_no_longer_holds_fails_with_a_clear_message(pytester: pytest.Pytester) -> None:
    source = Path(__file__).parent / "cases" / "second_visit.cases.yaml"
    text = source.read_text("utf-8").replace("disposition: refused", "disposition: completed", 1)
    pytester.makefile(".cases.yaml", second_visit=text)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1, passed=text.count("- name:") - 1)
    result.stdout.fnmatch_lines(["*second_visit path *: ended refused, expected completed*"])


def test_plugin_measures_coverage_and_fails_under_a_threshold(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_one="""
        import callscript

        def test_a_call():
            flow = callscript.builtin_flows()["second_visit"]
            call = callscript.Call.start(flow, {"customer": {"name": "王", "title": "先生"},
                                                 "agent": {"name": "李娜", "phone": "88001234"},
                                                 "deployment": {"hotline": "10010",
                                                                "service_centre": "营业厅"}})
            call.answer("no_time")
            call.answer("refuses")
    """)
    report = pytester.path / "cov.json"
    result = pytester.runpytest("-p", "no:cacheprovider", "--callscript-cov",
                                "--callscript-cov-fail-under=50",
                                f"--callscript-cov-report=json:{report}")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*callscript flow coverage*", "second_visit *",
                                 "FAIL Required flow coverage of 50% not reached.*"])
    data = json.loads(report.read_text("utf-8"))
    assert data["flows"]["second_visit"]["counts"]["outcome"]["covered"] == 1
    passing = pytester.runpytest("-p", "no:cacheprovider", "--callscript-cov-fail-under=1")
    assert passing.ret == pytest.ExitCode.OK


def test_plugin_is_silent_without_its_options(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_two="def test_nothing():\n    assert True\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)  # the run itself worked: its silence means something
    assert "callscript flow coverage" not in result.stdout.str()
    assert "callscript flow mutation" not in result.stdout.str()


def test_the_shipped_cases_replay_every_builtin_flow_fully(pytester: pytest.Pytester) -> None:
    for path in (Path(__file__).parent / "cases").glob("*.cases.yaml"):
        pytester.makefile(".cases.yaml", **{path.name.removesuffix(".cases.yaml"):
                                            path.read_text("utf-8")})
    result = pytester.runpytest("-p", "no:cacheprovider", "--callscript-cov",
                                "--callscript-cov-fail-under=100")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["all flows * 100.0%"])
