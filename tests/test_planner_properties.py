"""Properties of every plan, over generated customers, earlier calls and days (hypothesis)."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from typing import Any

import chinese_calendar
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callscript import Call, builtin_flows
from callscript.planner import builtin_policy
from callscript.planner.policy import WEEKDAYS
from tests.planner_support import context_of, customer, plan, record, telecom

POLICY = builtin_policy().policy
ZONE = POLICY.zone
FLOWS = ("first_visit", "second_visit", "spending_drop", "zero_usage", "network_complaint")
RETRIES = telecom().retries
DISPOSITIONS = tuple(sorted(RETRIES))
KINDS = ("callback", "second_visit", "network_test", "network_fix", "complaint_reply", "vip_card_delivery")

Scenario = tuple[date, list[dict[str, Any]], list[dict[str, Any]]]
days = st.dates(date(2025, 1, 1), date(2027, 2, 28))


@st.composite
def customers(draw: st.DrawFn, day: date) -> list[dict[str, str | None]]:
    count = draw(st.integers(1, 12))
    rows = []
    for i in range(count):
        money = st.none() | st.integers(0, 50000).map(lambda c: f"{c // 100}.{c % 100:02d}")
        month = st.none() | st.integers(1, 12).map(str)
        opened = day - timedelta(days=draw(st.integers(-3, 40)))
        rows.append(customer(
            f"C{i}", name=draw(st.sampled_from(["王", "李", None])),
            title=draw(st.sampled_from(["先生", "女士"])),
            phone=draw(st.sampled_from(["13800000001", "+8613912345678"])),
            is_holder=draw(st.sampled_from(["true", "false", None])),
            last_month=draw(money), this_month=draw(money), idle_since_month=draw(month),
            suspended_since_month=draw(month), opened_on=draw(st.sampled_from([opened.isoformat(), None])),
            do_not_call=draw(st.sampled_from([None, None, None, "true", "false"])),
            agent_id=draw(st.sampled_from(["A1", "A2", None]))))
    return rows


@st.composite
def records(draw: st.DrawFn, day: date, count: int) -> list[dict[str, Any]]:
    noon = datetime.combine(day, time(12), tzinfo=ZONE)
    out = []
    for _ in range(draw(st.integers(0, 20))):
        ended = noon - timedelta(minutes=draw(st.integers(0, 40 * 24 * 60)))
        follow_ups = []
        for _ in range(draw(st.integers(0, 2))):
            due = ended + timedelta(minutes=draw(st.integers(0, 5 * 24 * 60)))
            text = due.isoformat() if draw(st.booleans()) else due.date().isoformat()
            follow_ups.append((draw(st.sampled_from(KINDS)), text))
        out.append(record(f"C{draw(st.integers(0, count - 1))}", draw(st.sampled_from(FLOWS)),
                          draw(st.sampled_from(DISPOSITIONS)), ended.isoformat(), follow_ups))
    return out


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[date, list[dict[str, str | None]], list[dict[str, Any]]]:
    day = draw(days)
    people = draw(customers(day))
    return day, people, draw(records(day, len(people)))


def _working(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def _local_windows(day: date) -> list[tuple[datetime, datetime]]:
    makeup = day.weekday() >= 5
    local = (POLICY.windows.makeup if makeup else getattr(POLICY.windows, WEEKDAYS[day.weekday()])) or []
    return [(datetime.combine(day, a, tzinfo=ZONE), datetime.combine(day, b, tzinfo=ZONE)) for a, b in local]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_every_plan_keeps_the_policy(scenario: Scenario) -> None:
    day, people, calls = scenario
    result = plan(people, day, calls)
    by_ref = {p["customer_ref"]: p for p in people}
    flows = builtin_flows()
    for row in result.worklist.iter_rows(named=True):
        start, end = datetime.fromisoformat(row["window_start"]), datetime.fromisoformat(row["window_end"])
        # inside one calling window of a working day (make-up working days included)
        assert start.date() == day and _working(day)
        assert any(a <= start < end <= b for a, b in _local_windows(day)), row
        earliest, latest = POLICY.allowed_hours
        assert earliest <= start.astimezone(ZONE).time() and end.astimezone(ZONE).time() <= latest
        # never a do-not-call customer
        assert by_ref[row["customer_ref"]]["do_not_call"] not in ("true",)
        mine = [c for c in calls if c["customer_ref"] == row["customer_ref"]
                and datetime.fromisoformat(c["ended_at"]) >= datetime.combine(day, time(), tzinfo=ZONE)
                - POLICY.look_back and datetime.fromisoformat(c["ended_at"]) < start + timedelta(days=1)]
        # attempt limits: per day for the customer, in all for the customer and flow
        today = [c for c in mine if datetime.fromisoformat(c["ended_at"]).astimezone(ZONE).date() == day]
        assert len(today) < POLICY.attempts.per_day
        same_flow = [c for c in mine if c["flow"] == row["flow"]]
        assert row["attempt"] == len(same_flow) + 1 <= POLICY.attempts.total
        # no retry before its delay; never after a wrong number
        for call in mine:
            retry = RETRIES[call["disposition"]]
            ended = datetime.fromisoformat(call["ended_at"])
            assert not (retry.never and retry.scope == "customer")
            if retry.scope == "customer" and retry.after:
                assert start >= ended + retry.after
            last = max(same_flow, key=lambda c: datetime.fromisoformat(c["ended_at"]), default=None)
            if call is last and retry.after and not retry.at_follow_up:
                assert start >= ended + retry.after
        # the context starts the flow
        Call.start(flows[row["flow"]], context_of(row))
    if not _working(day):
        assert result.worklist.height == 0 and result.why


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 10_000), days.filter(lambda d: _working(d)))
def test_the_holdout_is_stable_and_about_its_share(offset: int, day: date) -> None:
    people = [customer(f"H{offset + i}", this_month="1.00") for i in range(2000)]
    first, second = plan(people, day), plan(people, day)
    assert first.worklist.equals(second.worklist)
    held = first.counts["held_out:spending_drop"]
    # 2000 draws at 10 %: the mean is 200, the standard deviation 13.4; ±5 sd
    assert 133 <= held <= 267
    planned = Counter(first.worklist.get_column("flow").to_list())
    assert planned["spending_drop"] == 2000 - held
    # the same customers are held out on another day
    other = plan(people, day + timedelta(days=7))
    if other.worklist.height:
        refs = set(first.worklist.get_column("customer_ref"))
        assert set(other.worklist.get_column("customer_ref")) == refs


cells = st.one_of(
    st.none(), st.text(max_size=8), st.from_regex(r"\A[+ ]?\d[\d\- ]{0,18}\d?\Z"),
    st.from_regex(r"\A-?\d{1,6}(\.\d{1,3})?\Z"),
    st.sampled_from(["先生", "女士", "小姐", "true", "否", "13", "0"]),
    st.dates().map(date.isoformat), st.integers(-5, 20).map(str),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.fixed_dictionaries({c: cells for c in (
    "name", "title", "phone", "is_holder", "last_month", "this_month", "idle_since_month",
    "suspended_since_month")}), min_size=1, max_size=20))
def test_cells_the_column_checks_accept_are_valid_for_the_schema(rows: list[dict[str, str | None]]) -> None:
    import json

    import polars as pl

    from callscript.planner.context import context_json, validate
    from callscript.planner.inputs import LINE
    from tests.planner_support import frame

    planner = telecom()
    people = [customer(f"C{i}", **row) for i, row in enumerate(rows)]
    good, _ = validate(frame(people), planner.columns, LINE)
    contexts = good.select(context_json(planner.columns, {"id": "row.agent_id"}, {}).alias("c"))
    schema = planner.schema
    for text in contexts.get_column("c").to_list():
        schema.validate("check", json.loads(text))  # raises ContextError if a check let a bad cell in
    assert isinstance(good, pl.DataFrame)
