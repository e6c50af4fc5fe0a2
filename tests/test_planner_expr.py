"""Jinja2 expressions compiled to Polars agree with Jinja2 itself, row for row."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2.sandbox import ImmutableSandboxedEnvironment

from callscript import builtin_flows
from callscript.planner.expr import Names, Untranslatable, compile_expression, paths_read

TODAY = date(2025, 10, 9)
KINDS = {"customer.name": "text", "customer.title": "choice", "customer.is_holder": "bool",
         "billing.last_month": "money", "billing.this_month": "money",
         "billing.idle_since_month": "month", "billing.suspended_since_month": "month",
         "row.opened_on": "date"}
NAMES = Names(KINDS, {"drop_share": 0.5, "limit": 3}, TODAY)
JINJA = ImmutableSandboxedEnvironment()

EXPRESSIONS = [
    *(f.applies_when.source for f in builtin_flows().values() if f.applies_when is not None),
    "customer.title == '女士'", "customer.title != '女士'", "customer.title in ['先生']",
    "customer.title not in ('先生', '女士')", "not customer.is_holder",
    "customer.is_holder and customer.name",
    "billing.idle_since_month is none", "billing.idle_since_month is not none",
    "billing.idle_since_month % 2 == 1", "-billing.idle_since_month < -params.limit",
    "1 < billing.idle_since_month < 6", "billing.idle_since_month // 4 >= 1",
    "billing.idle_since_month + billing.suspended_since_month > 10",
    "(billing.idle_since_month if customer.is_holder else 0) > 2",
    "customer.name", "not customer.name or billing.this_month",
    "billing.last_month > 0 and billing.this_month <= billing.last_month",
    "row.opened_on is not none and days_since(row.opened_on) <= 15",
    "billing.this_month >= 50.5", "customer.name == none",
]

money = st.none() | st.integers(0, 50000).map(lambda cents: Decimal(cents) / 100)
month = st.none() | st.integers(1, 12)
row_strategy = st.fixed_dictionaries({
    "customer.name": st.none() | st.sampled_from(["", "王", "李"]),
    "customer.title": st.none() | st.sampled_from(["先生", "女士"]),
    "customer.is_holder": st.booleans(),
    "billing.last_month": money, "billing.this_month": money,
    "billing.idle_since_month": month, "billing.suspended_since_month": month,
    "row.opened_on": st.none() | st.dates(TODAY - timedelta(days=40), TODAY + timedelta(days=5)),
})


def _jinja(source: str, row: dict[str, Any]) -> bool:
    """Jinja2's verdict; an error (None < 5) counts as false, as the planner documents."""
    parts: dict[str, dict[str, Any]] = {}
    for path, value in row.items():
        part, name = path.split(".")
        parts.setdefault(part, {})[name] = value
    try:
        return bool(JINJA.compile_expression(source)(
            **parts, params={"drop_share": 0.5, "limit": 3}, days_since=lambda d: (TODAY - d).days))
    except TypeError:
        return False


def _frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    data = {path: [r[path] for r in rows] for path in KINDS}
    schema = {path: {"text": pl.String, "choice": pl.String, "bool": pl.Boolean, "money": pl.Float64,
                     "month": pl.Int64, "date": pl.Date}[kind] for path, kind in KINDS.items()}
    data = {p: [float(v) if isinstance(v, Decimal) else v for v in values] for p, values in data.items()}
    return pl.DataFrame(data, schema=schema)


@settings(max_examples=60, deadline=None)
@given(st.lists(row_strategy, min_size=1, max_size=30))
def test_compiled_expressions_agree_with_jinja2(rows: list[dict[str, Any]]) -> None:
    table = _frame(rows)
    for source in EXPRESSIONS:
        got = table.select(compile_expression(source, NAMES).alias("x")).get_column("x").to_list()
        assert got == [_jinja(source, row) for row in rows], source


@pytest.mark.parametrize(("source", "message"), [
    ("customer.name | upper == 'X'", "Filter expressions are not supported"),
    ("customer.name.startswith('王')", "the only function is days_since"),
    ("customer.unknown", "unknown name 'customer.unknown'"),
    ("params.nope > 1", "unknown parameter"),
    ("customer.name is defined", "only 'is none'"),
    ("customer.name ~ 'x'", "Concat expressions are not supported"),
    ("customer.title in customer.name", "'in' needs a list of constants"),
    ("row.opened_on > 3", "a date can only be compared with a date"),
    ("customer.name * 2", "arithmetic on a text value"),
    ("days_since(customer.name) > 1", "days_since takes a date"),
    ("1 if customer.name", "needs an else branch"),
    ("customer[0]", "Getitem expressions are not supported"),
    ("(", "Jinja2 expression syntax"),
])
def test_what_cannot_be_a_column_expression_is_refused(source: str, message: str) -> None:
    with pytest.raises(Untranslatable, match=message.replace("(", r"\(").replace("|", r"\|")):
        compile_expression(source, NAMES)


def test_paths_read() -> None:
    assert paths_read("billing.this_month < billing.last_month * (1 - params.drop_share)") == {
        "billing.this_month", "billing.last_month"}
