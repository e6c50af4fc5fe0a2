"""Each rule of the built-in telecom policy against hand-checked dates around the 2025-2026 holidays.

Calendar facts used (State Council notices): National Day 2025 is off 10-01..10-08 with make-up
working days Sun 09-28 and Sat 10-11; Spring Festival 2026 is off 02-15..02-23 with make-up
working days Sat 02-14 and Sat 02-28. chinese-calendar 1.11 has no data for 2027.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest

from callscript import Call, builtin_flows
from callscript.library import builtin_library
from callscript.planner import Planner, builtin_policy
from tests.planner_support import (
    AGENTS,
    SHARED,
    agents_frame,
    context_of,
    customer,
    frame,
    not_held,
    plan,
    policy_variant,
    record,
    records_of,
    rows_of,
)

NEW = {"opened_on": "2025-10-01"}  # a new customer for the days planned below


@pytest.mark.parametrize(("day", "why"), [
    (date(2025, 10, 1), "国庆节"), (date(2025, 10, 8), "国庆节"), (date(2026, 2, 16), "春节"),
    (date(2026, 2, 23), "春节"), (date(2025, 10, 12), "sun"), (date(2026, 11, 28), "sat"),
])
def test_a_day_without_calling_window_plans_nothing_and_says_why(day: date, why: str) -> None:
    result = plan([customer("C1", opened_on=day.isoformat())], day)
    assert result.worklist.height == 0
    assert why in result.why
    assert list(result.worklist.columns)[:9] == ["customer_ref", "flow", "reason", "priority",
                                                 "window_start", "window_end", "attempt", "agent_id",
                                                 "context"]


@pytest.mark.parametrize("day", [date(2025, 9, 28), date(2025, 10, 11), date(2026, 2, 14),
                                 date(2026, 2, 28), date(2025, 10, 9), date(2026, 2, 24)])
def test_make_up_and_ordinary_working_days_use_the_working_day_window(day: date) -> None:
    result = plan([customer("C1", opened_on=day.isoformat())], day)
    row = rows_of(result)["C1"]
    assert row["window_start"] == f"{day.isoformat()}T09:00:00+08:00"
    assert row["window_end"] == f"{day.isoformat()}T12:00:00+08:00"
    assert row["calendar_estimated"] is False and not result.calendar_estimated


def test_past_the_published_years_monday_to_friday_is_planned_and_flagged() -> None:
    monday, saturday = date(2027, 1, 4), date(2027, 1, 2)
    result = plan([customer("C1", opened_on="2027-01-01")], monday)
    assert result.calendar_estimated
    assert rows_of(result)["C1"]["calendar_estimated"] is True
    weekend = plan([customer("C1", opened_on="2027-01-01")], saturday)
    assert weekend.worklist.height == 0 and weekend.calendar_estimated


@pytest.mark.parametrize(("opened_on", "planned"), [
    ("2025-10-09", True), ("2025-09-24", True), ("2025-09-23", False), ("2025-10-10", False), (None, False),
])
def test_new_customer_within_15_days_of_opening(opened_on: str | None, planned: bool) -> None:
    result = plan([customer("C1", opened_on=opened_on)], date(2025, 10, 9))
    rows = rows_of(result)
    assert ("C1" in rows) is planned
    if planned:
        assert rows["C1"]["flow"] == "first_visit" and rows["C1"]["reason"] == "新开户客户15天内首次回访"


def test_a_new_customer_visited_to_the_end_is_not_visited_again() -> None:
    done = record("C1", "first_visit", "completed", "2025-09-30T10:00:00+08:00")
    assert plan([customer("C1", **NEW)], date(2025, 10, 9), [done]).worklist.height == 0


@pytest.mark.parametrize(("this_month", "planned"), [("70.00", True), ("70", True), ("70.01", False),
                                                     ("0", True), ("100", False), (None, False)])
def test_spending_drop_by_at_least_the_share(this_month: str | None, planned: bool) -> None:
    ref = not_held("D", 1)[0]
    rows = rows_of(plan([customer(ref, this_month=this_month)], date(2025, 10, 9)))
    assert (ref in rows) is planned
    if planned:
        assert rows[ref]["flow"] == "spending_drop" and "流失预警" in rows[ref]["reason"]


def test_zero_usage_idle_or_suspended() -> None:
    idle, suspended, neither = not_held("Z", 3)
    rows = rows_of(plan([customer(idle, idle_since_month="5"), customer(suspended, suspended_since_month="7"),
                         customer(neither)], date(2025, 10, 9)))
    assert rows[idle]["flow"] == rows[suspended]["flow"] == "zero_usage"
    assert neither not in rows


def test_the_higher_priority_rule_wins() -> None:
    ref = not_held("P", 1)[0]
    rows = rows_of(plan([customer(ref, this_month="10", **NEW)], date(2025, 10, 9)))
    assert rows[ref]["flow"] == "first_visit" and rows[ref]["priority"] == 60


@pytest.mark.parametrize(("kind", "flow"), [("second_visit", "second_visit"),
                                            ("network_test", "network_complaint"),
                                            ("network_fix", "network_complaint"),
                                            ("complaint_reply", "second_visit"),
                                            ("answer_question", "second_visit")])
def test_follow_ups_due_bring_their_flow(kind: str, flow: str) -> None:
    earlier = record("C1", "first_visit", "completed", "2025-09-26T10:00:00+08:00", [(kind, "2025-10-09")])
    due = rows_of(plan([customer("C1")], date(2025, 10, 9), [earlier]))
    assert due["C1"]["flow"] == flow
    # due on the next working day: nothing yet
    assert plan([customer("C1")], date(2025, 9, 30), [earlier]).worklist.height == 0


def test_a_follow_up_answered_by_a_later_call_is_not_due_any_more() -> None:
    earlier = record("C1", "first_visit", "completed", "2025-09-26T10:00:00+08:00",
                     [("network_test", "2025-09-30")])
    answered = record("C1", "network_complaint", "completed", "2025-09-30T11:00:00+08:00")
    assert plan([customer("C1")], date(2025, 10, 9), [earlier, answered]).worklist.height == 0


@pytest.mark.parametrize(("agreed", "start", "end"), [
    ("2025-10-09T15:00:00+08:00", "15:00", "15:30"),
    ("2025-10-09T11:45:00+08:00", "11:45", "12:00"),  # the appointment ends with the window
    ("2025-10-09T12:30:00+08:00", "14:00", "18:00"),  # at lunch: the next window
    ("2025-10-09T07:00:00Z", "15:00", "15:30"),  # given in UTC
])
def test_an_agreed_time_is_kept(agreed: str, start: str, end: str) -> None:
    busy = record("C1", "first_visit", "rescheduled", "2025-10-08T10:00:00+08:00", [("callback", agreed)])
    # another record first whose follow-up is a day: times are not guessed from the first value
    other = record("C2", "first_visit", "completed", "2025-10-08T09:00:00Z", [("second_visit", "2025-12-01")])
    row = rows_of(plan([customer("C1", **NEW)], date(2025, 10, 9), [other, busy]))["C1"]
    assert (row["flow"], row["reason"], row["attempt"]) == ("first_visit", "客户约定的时间回电", 2)
    assert row["window_start"] == f"2025-10-09T{start}:00+08:00"
    assert row["window_end"] == f"2025-10-09T{end}:00+08:00"


def test_an_agreed_time_after_the_last_window_waits_for_the_next_working_day() -> None:
    busy = record("C1", "first_visit", "rescheduled", "2025-09-30T10:00:00+08:00",
                  [("callback", "2025-09-30T19:00:00+08:00")])
    assert plan([customer("C1", opened_on="2025-09-29")], date(2025, 9, 30), [busy]).worklist.height == 0
    row = rows_of(plan([customer("C1", opened_on="2025-09-29")], date(2025, 10, 9), [busy]))["C1"]
    assert row["window_start"] == "2025-10-09T09:00:00+08:00"


@pytest.mark.parametrize(("ended", "start"), [("08:10", "11:10"), ("09:30", "14:00"), ("15:30", None)])
def test_no_answer_is_tried_again_after_three_hours(ended: str, start: str | None) -> None:
    twice_a_day = Planner(policy_variant(**{"per_day: 1": "per_day: 2"}), builtin_library(), SHARED)
    missed = record("C1", "first_visit", "no_answer", f"2025-10-09T{ended}:00+08:00")
    rows = rows_of(plan([customer("C1", **NEW)], date(2025, 10, 9), [missed], twice_a_day))
    if start is None:
        assert rows == {}
    else:
        assert rows["C1"]["window_start"] == f"2025-10-09T{start}:00+08:00"
        assert rows["C1"]["attempt"] == 2


def test_one_call_a_day_and_three_in_all() -> None:
    today = record("C1", "first_visit", "no_answer", "2025-10-09T08:00:00+08:00")
    assert plan([customer("C1", **NEW)], date(2025, 10, 9), [today]).worklist.height == 0
    three = [record("C1", "first_visit", "no_answer", f"2025-10-0{d}T10:00:00+08:00") for d in (1, 2, 3)]
    assert plan([customer("C1", **NEW)], date(2025, 10, 9), three).worklist.height == 0
    two = three[:2]
    assert rows_of(plan([customer("C1", **NEW)], date(2025, 10, 9), two))["C1"]["attempt"] == 3


def test_attempts_outside_the_look_back_window_are_not_counted() -> None:
    old = [record("C1", "spending_drop", "no_answer", f"2025-08-0{d}T10:00:00+08:00") for d in (1, 2, 3)]
    ref_rows = rows_of(plan([customer(not_held("L", 1)[0], this_month="1")], date(2025, 10, 9), old))
    assert len(ref_rows) == 1


def test_a_refusal_rests_the_customer_for_30_days_whatever_the_flow() -> None:
    refused = record("C1", "second_visit", "refused", "2025-09-20T10:00:00+08:00")
    assert plan([customer("C1", **NEW)], date(2025, 10, 9), [refused]).worklist.height == 0
    assert plan([customer("C1", opened_on="2025-10-20")], date(2025, 10, 21), [refused]).worklist.height == 1


def test_a_wrong_number_is_never_called_again() -> None:
    wrong = record("C1", "first_visit", "wrong_number", "2025-10-09T09:10:00+08:00",
                   [("callback", "2025-10-10")])
    assert plan([customer("C1", **NEW)], date(2025, 10, 10), [wrong]).worklist.height == 0


@pytest.mark.parametrize("flag", ["true", "1", "是", "TRUE"])
def test_do_not_call_is_honoured_even_for_agreed_callbacks(flag: str) -> None:
    busy = record("C1", "first_visit", "rescheduled", "2025-10-08T10:00:00+08:00",
                  [("callback", "2025-10-09T15:00:00+08:00")])
    result = plan([customer("C1", do_not_call=flag, **NEW)], date(2025, 10, 9), [busy])
    assert result.worklist.height == 0 and result.counts["do_not_call"] == 1


def test_the_flows_own_applies_when_holds_too() -> None:
    # a callback agreed during a spending-drop call, but the bill has recovered since
    busy = record("C1", "spending_drop", "rescheduled", "2025-10-08T10:00:00+08:00",
                  [("callback", "2025-10-09T15:00:00+08:00")])
    assert plan([customer("C1", this_month="120")], date(2025, 10, 9), [busy]).worklist.height == 0


def test_agents_own_manager_first_then_balanced_within_capacity() -> None:
    agents = agents_frame([("A1", "李娜", "0571-86001231", 2), ("A2", "张伟", "0571-86001232", 2),
                           ("A3", "陈静", "0571-86001233", 1)])
    people = [customer(f"C{i}", **NEW) for i in range(6)] + [customer("C9", agent_id="A7", **NEW)]
    result = plan(people, date(2025, 10, 9), agents=agents)
    by_agent = result.worklist.group_by("agent_id").len().sort("agent_id").rows()
    assert by_agent == [("A1", 2), ("A2", 2), ("A3", 1)]
    assert result.counts["over_capacity"] == 2
    row = result.worklist.row(0, named=True)
    number = row["agent_id"][1]
    assert context_of(row)["agent"] == {"id": row["agent_id"], "name": {"1": "李娜", "2": "张伟",
                                                                       "3": "陈静"}[number],
                                        "phone": f"0571-8600123{number}"}


def test_a_bad_cell_sends_the_row_to_rejects_with_line_and_field_not_value() -> None:
    result = plan([customer("C1", **NEW), customer("C2", phone="12ab-secret", **NEW),
                   customer("C3", title="小姐", last_month="-3", **NEW)], date(2025, 10, 9))
    assert set(rows_of(result)) == {"C1"}
    assert result.rejects.rows() == [(3, "phone", "expected 5 to 15 digits (optionally with + - or spaces)"),
                                     (4, "last_month",
                                      "expected an amount of at least 0, at most two decimals"),
                                     (4, "title", "expected 先生 or 女士")]
    assert "secret" not in str(result.rejects.to_dicts())


def test_each_planned_context_starts_its_flow() -> None:
    flows = builtin_flows()
    refs = not_held("S", 3)
    busy = record(refs[2], "zero_usage", "rescheduled", "2025-10-08T10:00:00+08:00",
                  [("callback", "2025-10-09T15:00:00+08:00")])
    result = plan([customer(refs[0], this_month="3"), customer(refs[1], **NEW),
                   customer(refs[2], suspended_since_month="9", is_holder=None)], date(2025, 10, 9), [busy])
    assert result.worklist.height == 3
    for row in result.worklist.iter_rows(named=True):
        call = Call.start(flows[row["flow"]], context_of(row))
        assert call.prompt is not None


@pytest.mark.parametrize(("now", "start"), [("08:00", "09:00"), ("10:30", "10:30"), ("12:30", "14:00"),
                                            ("18:30", None)])
def test_planning_the_rest_of_today_starts_no_window_in_the_past(now: str, start: str | None) -> None:
    from datetime import datetime

    from tests.planner_support import AGENTS, frame, records_of, telecom

    moment = datetime.fromisoformat(f"2025-10-09T{now}:00+08:00")
    result = telecom().plan(frame([customer("C1", **NEW)]), records_of([]), AGENTS, date(2025, 10, 9),
                            now=moment)
    rows = rows_of(result)
    assert (rows["C1"]["window_start"] if rows else None) == (start and f"2025-10-09T{start}:00+08:00")


def test_without_an_agents_file_one_agent_may_be_given_for_every_call() -> None:
    shared = {**SHARED, "agent": {"name": "李娜", "phone": "0571-86001234"}}
    planner = Planner(builtin_policy(), builtin_library(), shared)
    result = planner.plan(frame([customer("C1", **NEW)]), records_of([]), None, date(2025, 10, 9))
    row = rows_of(result)["C1"]
    assert context_of(row)["agent"] == {"id": "A1", "name": "李娜", "phone": "0571-86001234"}
    Call.start(builtin_flows()[row["flow"]], context_of(row))


@pytest.mark.parametrize(("shared", "message"), [
    ({"deployment": {"hotline": "10010"}}, "deployment.service_centre (give them in --deployment FILE)"),
    ({"deployment": {"hotline": "call us", "service_centre": "x"}},
     "invalid shared values: deployment.hotline"),
    ({"customer": {"name": "王"}}, "'customer' is not a shared part"),
])
def test_shared_values_missing_or_invalid_are_named(shared: dict[str, Any], message: str) -> None:
    from callscript.planner import InputError

    planner = Planner(builtin_policy(), builtin_library(), shared)
    with pytest.raises(InputError, match=re.escape(message)):
        planner.plan(frame([customer("C1", **NEW)]), records_of([]), AGENTS, date(2025, 10, 9))
    with pytest.raises(InputError, match=r"agent\.name, agent\.phone \(give --agents\)"):
        Planner(builtin_policy(), builtin_library(), SHARED).plan(
            frame([customer("C1", **NEW)]), records_of([]), None, date(2025, 10, 9))


def test_the_summary_counts_customers_waiting_and_those_whose_attempts_are_used_up() -> None:
    tried_today = record("C1", "first_visit", "no_answer", "2025-10-09T08:00:00+08:00")
    three = [record("C2", "first_visit", "no_answer", f"2025-10-0{d}T10:00:00+08:00") for d in (1, 2, 3)]
    tomorrow = record("C3", "first_visit", "rescheduled", "2025-10-08T10:00:00+08:00",
                      [("callback", "2025-10-10T15:00:00+08:00")])
    result = plan([customer(f"C{i}", **NEW) for i in range(1, 5)], date(2025, 10, 9),
                  [tried_today, *three, tomorrow])
    assert set(rows_of(result)) == {"C4"}
    assert (result.counts["waiting"], result.counts["attempts_used_up"]) == (2, 1)


def test_planning_today_after_the_last_window_says_why_nothing_is_planned() -> None:
    from datetime import datetime

    from tests.planner_support import AGENTS, frame, records_of, telecom

    late = datetime.fromisoformat("2025-10-09T18:30:00+08:00")
    result = telecom().plan(frame([customer("C1", **NEW)]), records_of([]), AGENTS, date(2025, 10, 9),
                            now=late)
    assert result.worklist.height == 0
    assert "last calling window ended at 18:00" in result.why and "--on" in result.why
