"""Every refusal of the loader and compiler: a broken file, its message and its line."""

from __future__ import annotations

from pathlib import Path

import pytest

import callscript
from callscript import FlowError, load_flows
from callscript.library import FlowLibrary
from callscript.loader import load_text

from .conftest import FIXTURES

BROKEN = FIXTURES / "broken"

CASES = [
    # file, line, where, words the message must contain
    ("yaml_syntax.yaml", 7, "", "YAML syntax"),
    ("duplicate_key.yaml", 7, "steps", "duplicate key 'a'"),
    ("unknown_field.yaml", 7, "steps.a.sayy", "unknown field 'sayy'"),
    ("missing_title.yaml", 1, "", "missing field 'title'"),
    ("dead_end.yaml", 9, "steps.b", "dead end"),
    ("unknown_target.yaml", 9, "steps.a.answers[1].to", "unknown target 'nowhere'"),
    ("duplicate_answer.yaml", 5, "steps.a", "duplicate answer id ok"),
    ("unreachable.yaml", 8, "steps.orphan", "'orphan' is unreachable"),
    ("no_way_out.yaml", 9, "steps.b", "no way out"),
    ("template_syntax.yaml", 12, "steps.a.say[0]", "Jinja2 syntax"),
    ("undeclared_variable.yaml", 9, "steps.a.say[0]", "'billing.last_month', which the flow's "
                                                      "context does not declare"),
    ("unknown_guard_field.yaml", 9, "steps.a.answers[0].guard", "'billing.previous_month'"),
    ("private_attribute.yaml", 9, "steps.a.say[0]", "private attribute"),
    ("forbidden_word.yaml", 8, "steps.a.say[1]", "forbidden phrase '你'"),
    ("unknown_include.yaml", 4, "include[1]", "unknown sub-dialogue 'nonexistent'"),
    ("unknown_context_field.yaml", 4, "context.required[0]", "unknown context field"),
    ("return_in_flow.yaml", 7, "steps.a.answers[0].to", "`return` is only meaningful"),
    ("bad_capture_due.yaml", 13, "steps.a.answers[0].effects[0].follow_up.due.at_capture",
     "not a date or datetime capture"),
    ("two_effects.yaml", 7, "steps.a.effects[0]", "exactly one of"),
    ("empty.yaml", 1, "", "the file is empty"),
    ("undeclared_disposition.yaml", 13, "steps.b.disposition",
     "disposition 'sold_out' is not declared in the library's dispositions.yaml"),
    ("capture_not_on_every_path.yaml", 18, "steps.b",
     "line reads captured.surname, which some path to step 'b' arrives without"),
    ("guard_reads_own_capture.yaml", 12, "steps.a",
     "guard reads captured.score, which some path to step 'a' arrives without"),
    ("target_not_included.yaml", 10, "steps.a.answers[1].to",
     "target 'busy.ask_time' names sub-dialogue 'busy', which this file does not include"),
    ("capture_two_types.yaml", 17, "steps.a.answers[1].capture[0]",
     "capture 'when' is declared elsewhere with another type, sensitivity or choices"),
    ("capture_choices_differ.yaml", 20, "steps.b.answers[0].capture[0]",
     "capture 'topic' is declared elsewhere with another type, sensitivity or choices"),
    ("choices_without_choice.yaml", 12, "steps.a.answers[0].capture[0]",
     "`choices` is given exactly when type is `choice`"),
    ("reads_unknown_field.yaml", 9, "steps.a.say[0]",
     "line reads 'customer.nickname', which is not a context field (declare it in "
     "callscript/libraries/telecom/context.yaml)"),
    ("return_without_capture.yaml", 12, "steps.b",  # reached only by coming back from hold
     "line reads captured.who, which some path to step 'b' arrives without"),
]


@pytest.mark.parametrize(("name", "line", "where", "words"), CASES, ids=[c[0] for c in CASES])
def test_each_refusal_names_file_line_and_problem(name: str, line: int, where: str,
                                                  words: str) -> None:
    path = BROKEN / name
    with pytest.raises(FlowError) as caught:
        load_flows(path)
    first = caught.value.problems[0]
    assert first.file == str(path)
    assert first.line == line
    assert first.where == where
    assert words in first.message
    assert str(first).startswith(f"{path}:{line}:")
    assert "Traceback" not in str(caught.value) and "pydantic" not in str(caught.value)


def test_every_broken_fixture_has_a_case() -> None:
    pairs = {"return_to_with_return.yaml", "uses_return_to_with_return.yaml"}  # tested together
    assert sorted(p.name for p in BROKEN.glob("*.yaml") if p.name not in pairs) == sorted(
        c[0] for c in CASES)


def test_a_subdialogue_file_is_checked_on_its_own() -> None:
    with pytest.raises(FlowError) as caught:
        load_flows(BROKEN / "return_to_with_return.yaml")
    assert [p.where for p in caught.value.problems] == ["steps.a.answers[0].return_to"]
    assert load_flows(Path(callscript.__file__).parent / "libraries" / "telecom" / "busy.yaml") == {}


def test_return_to_cannot_go_with_return() -> None:
    with pytest.raises(FlowError) as caught:
        load_flows(BROKEN / "uses_return_to_with_return.yaml", BROKEN / "return_to_with_return.yaml")
    (problem,) = caught.value.problems
    assert problem.file == str(BROKEN / "return_to_with_return.yaml") and problem.line == 8
    assert problem.where == "steps.a.answers[0].return_to"
    assert "cannot go with `to: return`" in problem.message


def test_both_looping_steps_are_reported() -> None:
    with pytest.raises(FlowError) as caught:
        load_flows(BROKEN / "no_way_out.yaml")
    assert [(p.where, p.line) for p in caught.value.problems] == [("steps.b", 9), ("steps.c", 12)]


@pytest.mark.parametrize("names", [
    ("unknown_field.yaml", "duplicate_key.yaml"),  # problems found while loading
    ("unreachable.yaml", "forbidden_word.yaml"),  # problems found while compiling
])
def test_problems_of_several_files_are_reported_together(names: tuple[str, str]) -> None:
    with pytest.raises(FlowError) as caught:
        load_flows(*(BROKEN / name for name in names))
    assert {p.file.rsplit("/", 1)[1] for p in caught.value.problems} == set(names)


def test_duplicate_flow_ids_name_both_files() -> None:
    # the id on line 3, not 1: line 1 is also where a problem without a line would point
    text = "title: t\nstart: a\nid: same\nsteps:\n  a:\n    disposition: completed\n"
    with pytest.raises(FlowError) as caught:
        FlowLibrary([load_text(text, "one.yaml"), load_text(text, "two.yaml")])
    (problem,) = caught.value.problems
    assert problem.file == "two.yaml" and problem.line == 3 and problem.where == "id"
    assert "duplicate id 'same', also used by one.yaml" in problem.message


def test_yaml_1_1_booleans_stay_strings() -> None:
    # `id: no` is an answer id, not False, in callscript's YAML
    flows = load_flows(FIXTURES / "good" / "mini.yaml")
    assert set(flows["mini"].steps["ask"].answers) == {"yes", "no"}


def test_missing_file_is_a_flow_error() -> None:
    with pytest.raises(FlowError, match="no such file"):
        load_flows(FIXTURES / "does_not_exist.yaml")


def test_a_subdialogue_cannot_be_compiled_as_a_flow() -> None:
    text = "id: sub\nkind: subdialogue\ntitle: t\nstart: a\nsteps:\n  a:\n    disposition: completed\n"
    library = FlowLibrary([load_text(text, "sub.yaml")])
    with pytest.raises(KeyError, match="unknown flow 'sub'"):
        library.flow("sub")


def test_a_time_limit_names_an_answer_of_its_step() -> None:
    text = ("id: timed\ntitle: t\nstart: a\nsteps:\n  a:\n"
            "    time_limit: {seconds: '60', answer: nope}\n"
            "    answers:\n      - {id: ok, label: 好, to: b}\n  b:\n    disposition: completed\n")
    with pytest.raises(FlowError) as caught:
        load_text(text, "timed.yaml")
    (problem,) = caught.value.problems
    assert (problem.line, problem.where) == (5, "steps.a")
    assert "time_limit.answer 'nope' is not an answer of this step" in problem.message


def test_mutual_includes_compile_with_each_file_once(tmp_path: Path) -> None:
    flow = tmp_path / "mutual.yaml"
    one, two = tmp_path / "one.yaml", tmp_path / "two.yaml"
    flow.write_text("id: mutual\ntitle: 互相引用\nstart: a\ninclude: [one]\nsteps:\n  a:\n"
                    "    say: [您好]\n    answers:\n      - {id: go, label: 好, to: one.x}\n",
                    encoding="utf-8")
    for path, me, other in ((one, "one", "two"), (two, "two", "one")):
        path.write_text(f"id: {me}\nkind: subdialogue\ntitle: 子对话{me}\nstart: x\n"
                        f"include: [{other}]\nsteps:\n  x:\n    say: [好的]\n    answers:\n"
                        f"      - {{id: on, label: 继续, to: {other}.x}}\n"
                        "      - {id: stop, label: 结束, to: y}\n"
                        "  y:\n    disposition: completed\n", encoding="utf-8")
    compiled = load_flows(flow, one, two)["mutual"]
    assert sorted(compiled.files) == sorted(map(str, (flow, one, two)))
    assert len(compiled.files) == 3
    assert sorted(compiled.steps) == ["a", "one.x", "one.y", "two.x", "two.y"]
    assert compiled.steps["one.x"].answers["on"].target == "two.x"
    assert compiled.steps["two.x"].answers["on"].target == "one.x"


def test_a_context_default_outside_its_choices_is_refused(tmp_path: Path) -> None:
    (tmp_path / "context.yaml").write_text(
        "parts:\n  customer:\n    fields:\n"
        "      title: {type: choice, choices: [先生, 女士], label: 称谓, default: 同志}\n",
        encoding="utf-8")
    with pytest.raises(FlowError) as caught:
        callscript.load_library(tmp_path)
    (problem,) = caught.value.problems
    assert (problem.file, problem.line) == (f"{tmp_path}/context.yaml", 4)
    assert problem.where == "parts.customer.fields.title"
    assert problem.message == "default is not a valid choice: expected 先生 or 女士"
    assert "同志" not in str(problem)


def test_an_unknown_include_does_not_hide_the_includes_after_it() -> None:
    text = ("id: two_includes\ntitle: 两个引用\nstart: a\ninclude: [nonexistent, closing]\n"
            "steps:\n  a:\n    say: [您好]\n    answers:\n"
            "      - {id: ok, label: 好的, to: closing.thanks}\n")
    with pytest.raises(FlowError) as caught:
        FlowLibrary([load_text(text, "two.yaml")],
                    fallback=callscript.builtin_library().specs).flow("two_includes")
    assert [(p.line, p.where, p.message) for p in caught.value.problems] == [
        (4, "include[0]", "unknown sub-dialogue 'nonexistent'")]
