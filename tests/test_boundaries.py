"""Guard boundaries: found in the flows, drawn by the strategies on all three sides, reported."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given, settings

from callscript import builtin_flows
from callscript.library import builtin_library
from callscript.testing.boundaries import Boundary, boundaries, reached
from callscript.testing.strategies import contexts

FLOWS = builtin_flows()
MARKETING = builtin_library("securities").flow("marketing")


def test_spending_drops_guard_is_a_boundary_of_two_amounts() -> None:
    (mark,) = boundaries(FLOWS["spending_drop"])
    assert (mark.where, mark.left, mark.right, mark.unit) == (
        "applies_when", "billing.this_month", "billing.last_month", Decimal("0.01"))
    assert mark.source == FLOWS["spending_drop"].applies_when.source  # its first comparison
    assert str(mark) == ("callscript/libraries/telecom/spending_drop.yaml: applies_when: "
                         "billing.this_month vs billing.last_month")
    fields = {"billing.last_month": Decimal("100.00")}
    assert [mark.value(fields, side) for side in (-1, 0, 1)] == [
        Decimal("99.99"), Decimal("100.00"), Decimal("100.01")]
    assert mark.side(fields | {"billing.this_month": Decimal("99.99")}) == "below"
    assert mark.side(fields | {"billing.this_month": Decimal("100.00")}) == "at"
    assert mark.side(fields) is None  # this month unknown: no side


def test_a_comparison_with_a_number_is_a_boundary_too() -> None:
    (mark,) = boundaries(MARKETING)  # `captured.` guards and `in` lists are not boundaries
    assert (mark.where, mark.left, mark.right, mark.unit, mark.line) == (
        "decline.set_aside", "prospect.previous_contacts", Decimal(1), 1, 170)
    assert [mark.value({}, side) for side in (-1, 0, 1)] == [0, 1, 2]


def test_a_date_boundary_moves_by_days() -> None:
    mark = Boundary("x", "a.b < a.c", "a.b", "a.c", timedelta(days=1), "f", 1)
    assert mark.value({"a.c": date(2026, 11, 23)}, -1) == date(2026, 11, 22)


def test_the_strategy_draws_every_side_of_spending_drops_boundary() -> None:
    flow = FLOWS["spending_drop"]
    drawn: list[Any] = []

    @settings(max_examples=150, derandomize=True, database=None)
    @given(contexts(flow, applicable=False))
    def collect(context: Any) -> None:
        drawn.append(context)

    collect()
    (sides,) = reached(flow, drawn).values()
    assert sides == {"below", "at", "above"}
    # one cent apart, not just "less": the values right next to the boundary
    assert any(c.billing.last_month - c.billing.this_month == Decimal("0.01") for c in drawn)
    assert any(c.billing.this_month - c.billing.last_month == Decimal("0.01") for c in drawn)


def test_applicable_contexts_stay_below_spending_drops_boundary() -> None:
    flow = FLOWS["spending_drop"]
    drawn: list[Any] = []

    @settings(max_examples=60, derandomize=True, database=None)
    @given(contexts(flow))
    def collect(context: Any) -> None:
        drawn.append(context)

    collect()
    assert list(reached(flow, drawn).values()) == [{"below"}]
    assert any(c.billing.last_month - c.billing.this_month == Decimal("0.01") for c in drawn)


def test_reached_reports_a_flow_without_boundaries_as_empty() -> None:
    assert boundaries(FLOWS["second_visit"]) == []
    assert reached(FLOWS["second_visit"], []) == {}


def test_coverage_reports_the_sides_of_a_guard_the_calls_took() -> None:
    from callscript import Call
    from callscript.testing.coverage import Coverage

    coverage = Coverage([MARKETING])
    with coverage.collecting():
        for contacts in (0, 1):
            Call.start(MARKETING, {
                "prospect": {"name": "王", "title": "先生", "source": "朋友介绍留存",
                             "previous_contacts": contacts},
                "product": {"name": "——", "description": "-----"}, "agent": {"name": "----"}},
                placeholders=True)
    (mark,) = coverage.to_json()["flows"]["marketing"]["boundaries"]
    assert mark == {"file": "callscript/libraries/securities/marketing.yaml", "line": 170,
                    "where": "decline.set_aside", "left": "prospect.previous_contacts",
                    "right": "1", "reached": ["below", "at"]}
    assert ("callscript/libraries/securities/marketing.yaml:170: marketing: boundary "
            "decline.set_aside: prospect.previous_contacts vs 1: reached below, at; never above"
            ) in coverage.to_text().splitlines()
