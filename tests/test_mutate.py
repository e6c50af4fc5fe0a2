"""Mutation testing of flows (`callscript mutate`), on a tiny flow whose mutants are all known."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from callscript.cli.app import main
from callscript.library import load_libraries
from callscript.testing.cases import case_files
from callscript.testing.mutants import KINDS, flow_mutants
from callscript.testing.mutate import MutationReport, mutants_of, mutate

HERE = Path(__file__).parent / "fixtures" / "mutation"
TINY = HERE / "tiny.yaml"
FILE = str(TINY)

# Every mutant of tiny.yaml: (where, kind), in file order.
ALL = [
    ("context.required", "optional"),
    ("steps.greet.say[0]", "drop_line"),
    ("steps.greet.say[0]", "swap_lines"),
    ("steps.greet.answers[0].to", "retarget"),
    ("steps.greet.answers[1].to", "retarget"),
    ("steps.ask.say[0]", "drop_line"),
    ("steps.ask.say[0]", "swap_lines"),
    ("steps.ask.answers[0].to", "retarget"),
    ("steps.ask.answers[0].capture[0]", "drop_capture"),
    ("steps.ask.answers[0].capture[0]", "optional"),
    ("steps.ask.answers[1].to", "retarget"),
    ("steps.ask.answers[1].guard", "negate_guard"),
    ("steps.ask.answers[1].effects[0]", "drop_effect"),
    ("steps.ask.answers[1].effects[0].disposition", "disposition"),
    ("steps.wrong.say[0]", "drop_line"),
    ("steps.wrong.say[0]", "swap_lines"),
    ("steps.wrong.disposition", "disposition"),
    ("steps.done.say[0]", "drop_line"),
    ("steps.done.say[0]", "swap_lines"),
    ("steps.done.disposition", "disposition"),
]
# greet.yes -> wrong and greet.no -> done leave a step unreachable: the compiler refuses them.
REFUSED = {("steps.greet.answers[0].to", "retarget"), ("steps.greet.answers[1].to", "retarget")}
# What neither the full path cover nor the properties notice: spoken words the cases do not
# pin, an optional field the cases always give, and the end of a wrong-number call, which
# has no goodbye to check. (Swapping ask's line with done's goodbye is caught: a goodbye
# said before the last step breaks the goodbye property.)
SURVIVE_FULL = {
    ("context.required", "optional"),
    ("steps.greet.say[0]", "drop_line"),
    ("steps.greet.say[0]", "swap_lines"),
    ("steps.ask.say[0]", "drop_line"),
    ("steps.ask.answers[0].capture[0]", "optional"),
    ("steps.wrong.say[0]", "drop_line"),
    ("steps.wrong.say[0]", "swap_lines"),
}
# With only the first case, the unhappy answer's target and effect and the wrong-number
# disposition go unnoticed too.
SURVIVE_WEAK = SURVIVE_FULL | {
    ("steps.ask.answers[1].to", "retarget"),
    ("steps.ask.answers[1].effects[0]", "drop_effect"),
    ("steps.ask.answers[1].effects[0].disposition", "disposition"),
    ("steps.wrong.disposition", "disposition"),
}


def _run(folder: str, **options: object) -> MutationReport:
    libraries = load_libraries([], [TINY])
    return mutate(libraries, "tiny", list(case_files(HERE / folder)), **options)  # type: ignore[arg-type]


def _keys(mutants: object) -> set[tuple[str, str]]:
    return {(m.where, m.kind) for m in mutants}  # type: ignore[attr-defined]


def test_tiny_flow_has_exactly_the_known_mutants_with_their_lines() -> None:
    library = load_libraries([], [TINY])[0]
    mutants = flow_mutants(library.specs["tiny"], list(library.dispositions))
    assert [(m.where, m.kind) for m in mutants] == ALL
    assert {m.kind for m in mutants} == set(KINDS)
    lines = {(m.where, m.kind): m.line for m in mutants}
    assert lines[("steps.ask.answers[1].guard", "negate_guard")] == 30
    assert lines[("steps.done.disposition", "disposition")] == 41
    assert lines[("steps.greet.say[0]", "drop_line")] == 10
    changes = {m.change for m in mutants}
    assert "answer ask.unhappy leads to greet instead of done" in changes
    assert "effect 1 of ask.unhappy sets callback_scheduled instead of escalated" in changes
    assert "done ends rescheduled instead of completed" in changes
    assert all(m.file == FILE for m in mutants)


def test_full_path_cover_kills_all_but_the_known_survivors() -> None:
    report = _run("cases")
    assert _keys(report.refused) == REFUSED
    assert _keys(report.survivors) == SURVIVE_FULL
    assert _keys(m for m, _ in report.killed) == set(ALL) - REFUSED - SURVIVE_FULL
    assert (report.mutants, len(report.killed)) == (18, 11)
    noticed = {(m.where, m.kind): why for m, why in report.killed}
    assert noticed[("steps.ask.answers[1].effects[0]", "drop_effect")] == (
        "tiny path 3: ended completed, expected escalated")
    assert noticed[("steps.done.say[0]", "drop_line")] == (
        "property goodbye: the call ends at 'done' without 再见")
    assert noticed[("steps.ask.answers[0].capture[0]", "drop_capture")] == (
        "tiny path 1: CaptureRejected")


def test_one_case_kills_fewer_and_the_properties_still_catch_some() -> None:
    report = _run("weak")
    assert _keys(report.survivors) == SURVIVE_WEAK
    noticed = {(m.where, m.kind): why for m, why in report.killed}
    # no case takes the unhappy answer: the coverage property notices it went missing
    assert noticed[("steps.ask.answers[1].guard", "negate_guard")].startswith(
        "property coverage: answer ask → unhappy was never reached")
    assert round(report.score, 1) == 38.9


def test_a_sample_is_seeded_and_a_subset() -> None:
    one, two = _run("cases", sample=5, seed=3), _run("cases", sample=5, seed=3)
    drawn = _keys(one.survivors) | _keys(m for m, _ in one.killed) | _keys(one.refused)
    assert len(drawn) == 5 and drawn <= set(ALL)
    assert drawn == _keys(two.survivors) | _keys(m for m, _ in two.killed) | _keys(two.refused)
    assert one.generated == len(ALL)


def test_cases_failing_on_the_flow_as_written_are_refused(tmp_path: Path) -> None:
    text = (HERE / "cases" / "tiny.cases.yaml").read_text(encoding="utf-8")
    (tmp_path / "tiny.cases.yaml").write_text(
        text.replace("disposition: wrong_number", "disposition: refused")
        .replace("flow_file: ../tiny.yaml", f"flow_file: {TINY}"), encoding="utf-8")
    with pytest.raises(ValueError, match=r"the cases fail on tiny as written \(tiny path 2: "
                                         r"ended wrong_number, expected refused\)"):
        mutate(load_libraries([], [TINY]), "tiny", list(case_files(tmp_path)))
    with pytest.raises(ValueError, match=r"no \*\.cases\.yaml for flow 'tiny'"):
        mutate(load_libraries([], [TINY]), "tiny", [])


def test_cli_json_lists_every_survivor(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["mutate", "tiny", "-f", FILE, "--cases", str(HERE / "weak"), "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert (data["mutants"], data["killed"], data["refused_by_compiler"]) == (18, 7, 2)
    assert {(s["where"], s["kind"]) for s in data["survivors"]} == SURVIVE_WEAK
    wrong = next(s for s in data["survivors"] if s["where"] == "steps.wrong.disposition")
    assert wrong == {"kind": "disposition", "file": FILE, "line": 36,
                     "where": "steps.wrong.disposition",
                     "change": "wrong ends not_holder_recorded instead of wrong_number"}


def test_cli_text_report_and_fail_under(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["mutate", "tiny", "-f", FILE, "--cases", str(HERE / "cases"),
                 "--fail-under", "62"])
    out = capsys.readouterr().out.splitlines()
    assert code == 1
    assert out[0] == "tiny: 11 of 18 mutants killed (61.1 %); 2 more refused by the compiler"
    assert f"survived: {FILE}:36: steps.wrong.say[0]: line 1 of wrong dropped" not in out
    assert f"survived: {FILE}:35: steps.wrong.say[0]: line 1 of wrong dropped" in out
    assert len(out) == 1 + len(SURVIVE_FULL)
    assert main(["mutate", "tiny", "-f", FILE, "--cases", str(HERE / "cases"),
                 "--fail-under", "61"]) == 0


def test_cli_unknown_flow_and_missing_folder(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mutate", "nope", "-f", FILE, "--cases", str(HERE / "cases")]) == 2
    assert "unknown flow 'nope'" in capsys.readouterr().err
    assert main(["mutate", "tiny", "-f", FILE, "--cases", str(HERE / "absent")]) == 2
    assert "--cases: no such folder" in capsys.readouterr().err


def test_pytest_plugin_reports_the_mutation_score(pytester: pytest.Pytester) -> None:
    shutil.copy(TINY, pytester.path / "tiny.yaml")
    (pytester.path / "cases").mkdir()
    shutil.copy(HERE / "weak" / "tiny.cases.yaml", pytester.path / "cases" / "tiny.cases.yaml")
    result = pytester.runpytest("-p", "no:cacheprovider", "--callscript-mutate",
                                "--callscript-mutate-fail-under=50", "cases")
    result.stdout.fnmatch_lines([
        "*callscript flow mutation*",
        "tiny: 7 of 18 mutants killed (38.9 %); 2 more refused by the compiler",
        "survived: *tiny.yaml:36: steps.wrong.disposition: wrong ends not_holder_recorded "
        "instead of wrong_number",
        "FAIL Required flow mutation score of 50% not reached by tiny: 38.9%",
    ])
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=1)


def test_only_steps_the_flow_reaches_are_mutated() -> None:
    library = load_libraries([])[0]
    flow = library.flow("second_visit")
    found = mutants_of(library, flow)
    files = {m.file.rsplit("/", 1)[1] for m in found}
    assert "second_visit.yaml" in files and "frequency.yaml" in files
    assert "in_call.yaml" not in files  # first_visit's items: second_visit never reaches them
    for mutant in found:
        if mutant.where.startswith("steps.") and mutant.spec_id != "second_visit":
            step = mutant.where.split(".")[1]
            assert f"{mutant.spec_id}.{step}" in flow.steps, mutant
    # identity's name check is each flow's own now: the shared file's other steps are not mutated
    assert not any(m.spec_id == "in_call" for m in found)
    assert any(m.spec_id == "in_call" and m.where.startswith("steps.address")
               for m in mutants_of(library, library.flow("first_visit")))


def test_cases_that_pin_words_effects_and_what_is_required_kill_every_mutant(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    context = tmp_path / "context.yaml"
    context.write_text("customer: {name: 王, title: 先生, phone: '13812345678'}\n", encoding="utf-8")
    out = tmp_path / "tiny.cases.yaml"
    assert main(["cover", "tiny", "-f", FILE, "--context", str(context), "--words",
                 "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "    - - 感谢您的接听，再见。\n" in text
    assert "      follow_ups: []\n      complaints: []\n      escalations: []\n" in text
    assert "    required:\n    - score\n" in text
    assert "    required_context:\n    - customer.name\n" in text
    report = _run(str(tmp_path))
    assert report.survivors == [] and (report.mutants, len(report.killed)) == (18, 18)
    noticed = {(m.where, m.kind): why for m, why in report.killed}
    assert noticed[("steps.greet.say[0]", "drop_line")] == (
        "tiny path 1: said other words at greet (path[0]) than the case expects")
    assert noticed[("steps.ask.answers[0].capture[0]", "optional")] == (
        "tiny path 1: move 1: happy was taken without score, which the case says is required")
    assert noticed[("context.required", "optional")] == (
        "tiny path 1: a call starts without customer.name, which the case says is required")


def test_a_case_pinning_effects_names_the_one_that_differs(tmp_path: Path) -> None:
    from callscript.testing.cases import CaseFailed, run_case

    flow = load_libraries([], [TINY])[0].flow("tiny")
    case = {"name": "t", "moves": [{"answer": "yes"}, {"answer": "unhappy"}],
            "expect": {"disposition": "escalated", "steps": ["greet", "ask", "done"],
                       "effects": {"follow_ups": ["callback at done"]}}}
    context = {"customer": {"name": "王", "title": "先生"}}
    with pytest.raises(CaseFailed, match=r"^follow_ups: \[\], expected \['callback at done'\]$"):
        run_case(flow, 1, context, case)


def test_a_change_that_compiles_to_the_same_flow_is_equivalent_not_a_survivor() -> None:
    from callscript.testing.mutate import _compile, _shape

    library = load_libraries([])[0]
    flow = library.flow("first_visit")
    found = {(m.spec_id, m.change): m for m in mutants_of(library, flow)}
    # identity.yaml requires customer.name too: first_visit.yaml's `required` is not the only one
    same = found[("first_visit", "context field customer.name made optional")]
    compiled = _compile(same, library, "first_visit")
    assert compiled is not None and _shape(compiled) == _shape(flow)
    other = found[("first_visit", "line 1 of introduce dropped")]
    compiled = _compile(other, library, "first_visit")
    assert compiled is not None and _shape(compiled) != _shape(flow)
