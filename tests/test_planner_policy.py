"""The policy file: the built-in one is valid; each kind of mistake is refused with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from callscript.library import builtin_library, load_libraries
from callscript.planner import Planner, PolicyError, builtin_policy, load_policy
from callscript.planner.policy import load_policy_text
from tests.planner_support import POLICY_FILE, SHARED

TEXT = Path(POLICY_FILE).read_text(encoding="utf-8")


def test_the_built_in_policy_is_valid_and_plans_the_five_flows() -> None:
    loaded = builtin_policy()
    planner = Planner(loaded, builtin_library(), SHARED)
    flows = {r.flow for r in loaded.policy.rules if r.flow}
    assert flows == {"first_visit", "second_visit", "spending_drop", "zero_usage", "network_complaint"}
    assert [c.name for c in planner.columns] == [
        "customer_ref", "name", "title", "phone", "is_holder", "last_month", "this_month",
        "idle_since_month", "suspended_since_month", "opened_on", "do_not_call", "agent_id"]


MISTAKES = [
    ("policy: telecom\n", "policy: telecom\ncolour: red\n", "colour: red", "unknown field 'colour'"),
    ('  mon: ["09:00-12:00", "14:00-18:00"]', '  mon: ["9-12"]', "  mon:", "HH:MM-HH:MM"),
    ("  sat: []", '  sat: ["07:00-09:00"]', "  sat:", "outside the allowed hours"),
    ('  tue: ["09:00-12:00", "14:00-18:00"]', '  tue: ["09:00-12:00", "11:00-18:00"]', "  tue:",
     "overlaps"),
    ('  wed: ["09:00-12:00", "14:00-18:00"]', '  wed: ["12:00-09:00"]', "  wed:", "ends after it starts"),
    ("    flow: zero_usage", "    flow: zero_use", "    flow: zero_use", "unknown flow 'zero_use'"),
    ("    when: billing.idle_since_month is not none", "    when: billing.idle_since_month | length > 0",
     "    when: billing.idle_since_month |", "Filter expressions are not supported"),
    ("    when: billing.last_month > 0", "    when: billing.last_mnth > 0", "    when: billing.last_mnth",
     "unknown name 'billing.last_mnth'"),
    ("(1 - params.drop_share)", "(1 - params.drop_shar)", "params.drop_shar)",
     "unknown parameter 'params.drop_shar'"),
    ("    when: billing.last_month > 0", "    when: billing.last_month > (0", "billing.last_month > (0",
     "Jinja2 expression syntax"),
    ("  rescheduled: {at", "  reschedule: {at", "  reschedule:", "unknown disposition 'reschedule'"),
    ("  refused: {after: 30d,", "  refused: {after: 30 days,", "  refused:", "90m, 3h or 30d"),
    ("  wrong_number: {never: true, scope: customer}", "  wrong_number: {never: true, done: true}",
     "  wrong_number:", "exactly one of"),
    ("timezone: Asia/Shanghai", "timezone: Asia/Shanghia", "timezone:", "unknown time zone"),
    ("holdout: {share: 0.1, seed: telecom-retention}\n  - id: zero_usage",
     "holdout: {share: 1.5, seed: telecom-retention}\n  - id: zero_usage", "share: 1.5",
     "less than or equal"),
    ("  - id: second_visit\n    flow: second_visit\n", "  - id: second_visit\n", "  - id: second_visit",
     "give flow, or repeat_flow"),
    ("  - id: zero_usage", "  - id: spending_drop", "  - id: spending_drop\n    flow: zero_usage",
     "duplicate rule id 'spending_drop'"),
    ("    name: {to: customer.name}", "    name: {to: customer.nam}", "    name:",
     "unknown context field 'customer.nam'"),
    ("    opened_on: {type: date}", "    opened_on: {type: datetime}", "    opened_on:",
     "unknown type 'datetime'"),
    ("    opened_on: {type: date}", "    opened_on: {type: date, to: customer.name}", "    opened_on:",
     "not both"),
    ("  key: customer_ref", "  key: ref", "  key: ref", "'ref' is not one of the columns"),
    ("  per_day: 1", "  per_day: 0", "  per_day: 0", "greater than or equal to 1"),
    ("look_back: 30d\n", "look_back: 30d\nlook_back: 60d\n", "look_back: 60d", "duplicate key 'look_back'"),
    ("policy: telecom", "policy: [telecom", "version: 1", "YAML syntax"),
    ("    reason: 客户约定的时间回电\n", "", "  - id: agreed_callback", "missing field 'reason'"),
]


@pytest.mark.parametrize(("old", "new", "at", "message"), MISTAKES, ids=[m[3] for m in MISTAKES])
def test_each_mistake_is_refused_with_file_and_line(old: str, new: str, at: str, message: str) -> None:
    assert old in TEXT
    text = TEXT.replace(old, new, 1)
    line = text[: text.index(at)].count("\n") + 1
    with pytest.raises(PolicyError) as caught:
        Planner(load_policy_text(text, "bad.yaml"), builtin_library(), SHARED)
    found = [str(p) for p in caught.value.problems]
    assert any(p.startswith(f"bad.yaml:{line}:") and message in p for p in found), found


def test_a_flow_whose_applies_when_cannot_be_planned_is_refused_at_the_rule(tmp_path: Path) -> None:
    source = Path("src/callscript/libraries/telecom/spending_drop.yaml").read_text(encoding="utf-8")
    flow_file = tmp_path / "picky.yaml"
    flow_file.write_text(source.replace("id: spending_drop", "id: picky").replace(
        "applies_when: billing.this_month < billing.last_month",
        "applies_when: billing.this_month < billing.last_month | abs"), encoding="utf-8")
    library = load_libraries([], [flow_file])[0]
    text = TEXT.replace("    flow: spending_drop", "    flow: picky")
    with pytest.raises(PolicyError) as caught:
        Planner(load_policy_text(text, "p.yaml"), library, SHARED)
    line = text[: text.index("    flow: picky")].count("\n") + 1
    (problem,) = caught.value.problems
    assert str(problem).startswith(f"p.yaml:{line}:")
    assert "flow 'picky' applies_when cannot be planned" in str(problem)


def test_a_policy_file_that_is_missing_or_not_utf8(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="no such file"):
        load_policy(tmp_path / "none.yaml")
    gbk = tmp_path / "gbk.yaml"
    gbk.write_bytes(TEXT.encode("gb18030"))
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(gbk)


def test_a_copy_of_the_built_in_policy_loads_from_a_file(tmp_path: Path) -> None:
    copy = tmp_path / "mine.yaml"
    copy.write_text(TEXT, encoding="utf-8")
    assert load_policy(copy).policy == builtin_policy().policy


def test_retries_come_from_the_library_dispositions_unless_the_policy_says_otherwise() -> None:
    from datetime import timedelta

    from callscript.planner.policy import Retry

    retries = Planner(builtin_policy(), builtin_library(), SHARED).retries
    assert set(retries) == set(builtin_library().dispositions)
    assert retries["no_answer"] == Retry(after=timedelta(hours=3))  # dispositions.yaml
    assert retries["hung_up"] == Retry(after=timedelta(hours=4))
    assert retries["completed"] == Retry(done=True)
    assert retries["callback_scheduled"] == Retry(at_follow_up="any")
    assert retries["rescheduled"] == Retry(at_follow_up="callback", after=timedelta(days=1))  # the policy
    assert retries["wrong_number"] == Retry(never=True, scope="customer")


def test_the_policy_json_schema() -> None:
    from callscript.planner.policy import json_schema

    schema = json_schema()
    assert {"policy", "windows", "rules", "dispositions"} <= set(schema["properties"])
